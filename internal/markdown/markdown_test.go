package markdown_test

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

// hostile is text a person could write to break markdown or ping someone.
var hostile = []string{
	"plain", "",
	"@alice", "@acme/everyone", "cc @alice, @bob.", "a@b.io", "@a@b", "#123 GH-4 acme/web#5", "#1@a",
	"<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "<!--", "-->", "<!-- x -->", "&lt;b&gt; &amp;",
	"`", "a`b", "`x`", "``", "```", "`````five`````", "~~~", " leading", "trailing ", " both ", "  ",
	"> quote", "# heading", "- item", "+ item", "* item", "1. item", "1) item", "===", "---", "***", "___",
	"[x](javascript:alert(1))", "![i](https://x.io/i.png)", "[x]: https://x.io", "**bold** _em_ ~~del~~ $x$",
	"a | b", `back\slash\`, "two\nlines", "blank\n\nline", "cr\rlf\r\n", "\ttab", "a\\@b",
}

// Code shows its text, line breaks folded to spaces, in one code element.
func TestCode(t *testing.T) {
	for in, want := range map[string]string{
		"plain":  "`plain`",
		"a`b":    "``a`b``",
		"`edge`": "`` `edge` ``",
		" x":     "`  x `",
		"  ":     "`  `",
		"":       "` `",
		"a\nb":   "`a b`",
	} {
		if got := markdown.Code(in); got != want {
			t.Errorf("Code(%q) = %q, want %q", in, got, want)
		}
	}
	for _, s := range hostile {
		want := strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
		if want == "" {
			want = " "
		}
		md := "a " + markdown.Code(s) + " b"
		if got := mdtest.Codes(md); !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("Code(%q) shows %q, want [%q]\n%s", s, got, want, md)
		}
		mdtest.AssertSafe(t, md)
	}
}

// Fence shows its text, line breaks normalised, in one code block that the text cannot close.
func TestFence(t *testing.T) {
	if got := markdown.Fence("diff", "x ``` y"); got != "````diff\nx ``` y\n````\n" {
		t.Errorf("Fence = %q", got)
	}
	if got := markdown.Fence("a`b", ""); got != "```\n```\n" {
		t.Errorf("Fence with a bad language = %q", got)
	}
	for _, s := range hostile {
		want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
		if want != "" && !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		md := "text\n" + markdown.Fence("", s) + "after\n"
		if got := mdtest.Codes(md); !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("Fence(%q) shows %q, want [%q]\n%s", s, got, want, md)
		}
		mdtest.AssertSafe(t, md, "after")
	}
}

// Text shows as written wherever inline markdown goes: alone, at the start of a line
// after a paragraph (where "===" would underline it), in a list item, quote, table cell
// and emphasis.
func TestText(t *testing.T) {
	if got := markdown.Text("1. <b>@x</b> #1"); got != "1\\. \\<b\\>`@x`\\</b\\> `#1`" {
		t.Errorf("Text = %q", got)
	}
	for _, s := range hostile {
		if strings.TrimSpace(s) == "" {
			continue
		}
		x := markdown.Text(s)
		for _, c := range []struct{ md, shownBefore string }{
			{x, ""},
			{"para\n" + x, "para "},
			{"- " + x, ""},
			{"> " + x, ""},
			{"**" + x + "**", ""},
			{"| h |\n| --- |\n| " + markdown.Cell(x) + " |", "h "},
		} {
			mdtest.AssertSafe(t, c.md, s)
			want := strings.Join(strings.Fields(c.shownBefore+s), " ")
			if got := mdtest.Shown(c.md); got != want {
				t.Errorf("Text(%q) in %q shows %q, want %q", s, c.md, got, want)
			}
		}
	}
}

// Cell escapes the pipes that are not escaped already.
func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"a|b":      `a\|b`,
		`a\|b`:     `a\|b`,
		`a\\|b`:    `a\\\|b`,
		"`x|y`":    "`x\\|y`",
		"two\nrow": "two row",
	} {
		if got := markdown.Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever a person writes, Text and Code give markdown that mentions no one, holds no
// HTML and shows the text as written.
func FuzzText(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Skip() // a renderer replaces these; they never reach a reply as such
		}
		mdtest.AssertSafe(t, "- "+markdown.Text(s), s)
		mdtest.Policy{InCode: true}.AssertSafe(t, "x "+markdown.Code(s)+" y", s)
		mdtest.Policy{InCode: true}.AssertSafe(t, markdown.Fence("", s), s)
	})
}
