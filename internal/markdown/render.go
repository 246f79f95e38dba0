package markdown

import (
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// Renderer writes daytwo's answers for where they are read: GitHub, for comments, pull
// requests and issues (GitHub-flavoured Markdown, through this package's helpers), or
// Plain, for a terminal. Inline methods return text for within a line; the others return
// whole lines, each ending in "\n".
type Renderer interface {
	// Code shows s, text daytwo did not choose, as code.
	Code(s string) string
	// Text shows s, text daytwo did not choose, as plain text.
	Text(s string) string
	// Prose shows daytwo's own text, which may hold `code spans` and <placeholders>.
	Prose(s string) string
	// Strong emphasises inline text of this Renderer.
	Strong(inline string) string
	// Link shows inline text of this Renderer leading to url.
	Link(inline, url string) string
	// Heading is a heading of level 1 to 6.
	Heading(level int, inline string) string
	// Fence shows the lines of s as written, in a block; lang names their language.
	Fence(lang, s string) string
	// Table lays out rows of inline text of this Renderer under a header row.
	Table(header []string, rows [][]string) string
	// Icon is emoji on GitHub and word, which may be "", on a terminal.
	Icon(emoji, word string) string
	// Diagram is a mermaid diagram on GitHub, and alt, a line of text, on a terminal.
	Diagram(mermaid, alt string) string
}

// GitHub renders GitHub-flavoured Markdown for a comment, a pull request or an issue.
var GitHub Renderer = gfm{}

// Plain renders plain text for a terminal: no markup, tables in aligned columns, and
// control characters of text daytwo did not choose shown as U+FFFD, so that a value read
// from a repository cannot move the cursor, clear the screen or reverse the text.
var Plain Renderer = plain{}

type gfm struct{}

func (gfm) Code(s string) string             { return Code(s) }
func (gfm) Text(s string) string             { return Text(s) }
func (gfm) Strong(inline string) string      { return "**" + inline + "**" }
func (gfm) Link(inline, url string) string   { return "[" + inline + "](" + url + ")" }
func (gfm) Fence(lang, s string) string      { return Fence(lang, s) }
func (gfm) Icon(emoji, _ string) string      { return emoji }
func (gfm) Diagram(mermaid, _ string) string { return Fence("mermaid", mermaid) }

func (gfm) Heading(level int, inline string) string {
	return strings.Repeat("#", min(max(level, 1), 6)) + " " + foldLines(inline) + "\n"
}

// Prose escapes what Markdown would take as HTML (placeholders like <env>) outside code
// spans.
func (gfm) Prose(s string) string {
	var b strings.Builder
	inCode := false
	for _, r := range s {
		switch {
		case r == '`':
			inCode = !inCode
			b.WriteRune(r)
		case !inCode && r == '<':
			b.WriteString("&lt;")
		case !inCode && r == '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Table writes a GFM table; every cell goes through Cell, and an empty one is a single
// space.
func (gfm) Table(header []string, rows [][]string) string {
	var b strings.Builder
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			if c == "" {
				b.WriteString(" |")
				continue
			}
			b.WriteString(" " + Cell(c) + " |")
		}
		b.WriteString("\n")
	}
	row(header)
	b.WriteString("|" + strings.Repeat(" --- |", len(header)) + "\n")
	for _, r := range rows {
		row(r)
	}
	return b.String()
}

type plain struct{}

func (plain) Code(s string) string           { return visible(foldLines(s)) }
func (plain) Text(s string) string           { return visible(strings.TrimSpace(foldLines(s))) }
func (plain) Prose(s string) string          { return s }
func (plain) Strong(inline string) string    { return inline }
func (plain) Link(inline, url string) string { return inline + " (" + url + ")" }
func (plain) Icon(_, word string) string     { return word }
func (plain) Diagram(_, alt string) string   { return alt + "\n" }

// Heading underlines levels 1 and 2.
func (plain) Heading(level int, inline string) string {
	inline = foldLines(inline)
	switch level {
	case 1, 2:
		under := "="
		if level == 2 {
			under = "-"
		}
		return inline + "\n" + strings.Repeat(under, utf8.RuneCountInString(inline)) + "\n"
	}
	return inline + "\n"
}

// Fence indents each line by two spaces.
func (plain) Fence(_, s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString("  " + visible(l))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Table aligns the columns, two spaces apart.
func (plain) Table(header []string, rows [][]string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, r := range append([][]string{header}, rows...) {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = strings.ReplaceAll(foldLines(c), "\t", " ")
		}
		_, _ = w.Write([]byte(strings.Join(cells, "\t") + "\n"))
	}
	_ = w.Flush()
	// tabwriter pads an empty last cell; a line ends with its text.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// visible replaces control characters but the tab, and the characters that reorder
// text, with U+FFFD.
func visible(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
			return utf8.RuneError
		}
		return r
	}, s)
}
