package inspect

import (
	"strings"
	"unicode/utf8"
)

// MaxMarkdown bounds every rendered answer, in bytes: GitHub refuses comments over 65,536
// characters, and the rest leaves the caller room for a heading and a footer.
const MaxMarkdown = 60000

// page builds markdown within a byte budget: once a piece does not fit, nothing more is
// added and the page ends with a note saying what was left out.
type page struct {
	b    strings.Builder
	max  int
	cut  bool
	note string
}

func newPage() *page { return &page{max: MaxMarkdown - 300} }

// add appends s when it fits; false once the page is full.
func (p *page) add(s string) bool {
	if p.cut {
		return false
	}
	if p.b.Len()+len(s) > p.max {
		p.cut = true
		return false
	}
	p.b.WriteString(s)
	return true
}

// truncate records why the page stops here (the first reason wins).
func (p *page) truncate(note string) {
	p.cut = true
	if p.note == "" {
		p.note = note
	}
}

func (p *page) String() string {
	if !p.cut {
		return p.b.String()
	}
	note := p.note
	if note == "" {
		note = "the rest is not shown"
	}
	return p.b.String() + "\n_… " + note + ": an answer must fit in one GitHub comment._\n"
}

// text makes s safe as inline markdown on one line, inside or outside a table: it
// collapses whitespace, escapes what would format, link or break a table, and keeps
// "@name" from notifying anyone.
func text(s string, limit int) string {
	s = clipRunes(strings.Join(strings.Fields(s), " "), limit)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '&':
			b.WriteString("&amp;")
		case '@':
			// A word joiner after "@" breaks GitHub's mention syntax without showing.
			b.WriteString("@\u2060")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// code is s as an inline code span on one line; in a table cell a pipe is escaped,
// which GitHub removes again inside code.
func code(s string, limit int, inTable bool) string {
	s = clipRunes(strings.Join(strings.Fields(s), " "), limit)
	if s == "" {
		return ""
	}
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

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

// linkTitle makes s safe as the quoted title of a markdown link inside a table.
func linkTitle(s string) string {
	s = clipRunes(strings.Join(strings.Fields(s), " "), 120)
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "|", `\|`).Replace(s)
}

// safeURL keeps a URL that can go between the parentheses of a markdown link: http(s)
// only, no spaces or characters that would end the link or a table cell.
func safeURL(u string) (string, bool) {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return "", false
	}
	if strings.ContainsAny(u, " \t\r\n()<>|\"`") || !utf8.ValidString(u) {
		return "", false
	}
	return u, true
}

// mermaid makes s safe inside a quoted mermaid label: entity codes for what would end
// the label, open HTML or close the code fence.
func mermaid(s string, limit int) string {
	s = clipRunes(strings.Join(strings.Fields(s), " "), limit)
	return strings.NewReplacer(
		"#", "#35;",
		`"`, "#quot;",
		"<", "#lt;",
		">", "#gt;",
		"`", "#96;",
		"&", "#amp;",
	).Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
