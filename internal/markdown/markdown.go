// Package markdown writes text that daytwo did not choose (a person's command line, a
// reason, a value read from a repository) into GitHub-flavoured Markdown so that it shows
// as written: it cannot open HTML, links, emphasis or blocks, and it mentions no one.
//
// Code and Fence show text in code, where GitHub neither renders markup nor mentions;
// Text shows it as plain prose. Cell fits either into a table cell.
package markdown

import (
	"regexp"
	"strings"
)

// Code returns s as an inline code span that shows s as written. The fence outnumbers
// every backtick run in s, and a space pads each side when s starts or ends with a backtick
// or a space (CommonMark strips one padding space from each side). Line breaks become
// spaces: a code span cannot hold a blank line, and CommonMark shows a line break in one as
// a space anyway. An empty s gives a code span holding one space.
func Code(s string) string {
	s = foldLines(s)
	if s == "" {
		return "` `"
	}
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	allSpaces := strings.Trim(s, " ") == ""
	if !allSpaces && (strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ")) {
		return ticks + " " + s + " " + ticks
	}
	return ticks + s + ticks
}

// Fence returns s as a fenced code block ending in a newline. The fence is a run of
// backticks longer than any in s (at least three), so no line of s can close it. lang is
// the info string; one that could break the opening line (a backtick, white space) is
// dropped. The block's first line is its fence: the caller must start it on a line of its
// own, at the top level (the lines of s are not indented for a list item or a quote).
func Fence(lang, s string) string {
	if strings.ContainsAny(lang, "` \t\r\n") {
		lang = ""
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	ticks := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return ticks + lang + "\n" + s + ticks + "\n"
}

// Text returns s as one line of plain text that shows as written. Every character that
// Markdown, GFM or GitHub would read as markup is escaped with a backslash: inline markup
// everywhere, and what would open a block (a heading, list item, quote or rule) at the
// start. @mentions and issue references (#123, GH-123) go in code spans, where GitHub
// neither notifies nor links. Line breaks become spaces and surrounding white space is
// dropped, so the result fits anywhere inline: in a sentence, a list item, a table cell
// (through Cell) or a heading. A web address may still become a link (GFM's autolinks),
// which shows the same text.
func Text(s string) string {
	s = strings.TrimSpace(foldLines(s))
	var b strings.Builder
	refs := refRE.FindAllStringIndex(s, -1)
	last := 0
	for i := 0; i < len(refs); i++ {
		start, end := refs[i][0], refs[i][1]
		// Adjacent code spans would read as one backtick run; join them.
		for i+1 < len(refs) && refs[i+1][0] == end {
			i++
			end = refs[i][1]
		}
		escape(&b, s[last:start], last == 0)
		b.WriteString(Code(s[start:end]))
		last = end
	}
	escape(&b, s[last:], last == 0)
	return b.String()
}

// refRE matches what GitHub turns into a notification or a cross-reference in text: an
// @mention of a user or team (more loosely than GitHub does), #123 and GH-123.
var refRE = regexp.MustCompile(`@[A-Za-z0-9_][A-Za-z0-9_./-]*|#[0-9]+|\b(?i:gh)-[0-9]+`)

// inlineSpecial are the characters escaped wherever they are: they open code, emphasis,
// strikethrough, links and images, HTML, entities, GitHub's math, table cells, a quote (">"
// at the start of a line), or escape the next character.
const inlineSpecial = "\\`*_~[]<>&$|"

// blockSpecial are the characters escaped at the start of the text, where they would open
// a heading, a list item, a setext underline or a thematic break.
const blockSpecial = "#+-="

func escape(b *strings.Builder, s string, atStart bool) {
	if atStart {
		// "1." or "1)" opens an ordered list.
		digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
		if digits > 0 && digits < len(s) && (s[digits] == '.' || s[digits] == ')') {
			b.WriteString(s[:digits])
			b.WriteByte('\\')
			s = s[digits:]
		} else if s != "" && strings.IndexByte(blockSpecial, s[0]) >= 0 {
			b.WriteByte('\\')
		}
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(inlineSpecial, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
}

// Cell makes inline markdown (from Code, Text or daytwo's own) safe in a GFM table cell:
// line breaks become spaces and every pipe not already escaped is escaped, code spans
// included, since GFM splits a row into cells before it reads code spans. Inside a code
// span GFM then shows an escaped pipe as "|", so a backslash written right before a pipe
// in code does not show.
func Cell(s string) string {
	s = foldLines(s)
	var b strings.Builder
	backslashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '|' && backslashes%2 == 0 {
			b.WriteByte('\\')
		}
		if c == '\\' {
			backslashes++
		} else {
			backslashes = 0
		}
		b.WriteByte(c)
	}
	return b.String()
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

func foldLines(s string) string { return lineBreaks.Replace(s) }

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}
