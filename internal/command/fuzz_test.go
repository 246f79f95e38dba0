package command

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"

	"github.com/daytwo-dev/daytwo/internal/markdown"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/promote staging", "/scale 3 --env prod", "/config set A=1 'B=two words'", "/freeze --reason a b -e x",
		"```\n/restart\n```", "> /restart", "`a\n/restart\nb`", "<!--\n/restart\n-->", "／restart", "/re\u200bstart",
		"/set-image web=ghcr.io/a/b:1@sha256:" + strings.Repeat("a", 64), "/rollback --to abcdef1", "/help scale",
		"/scael", "/usr/bin", "/restart\r\n/suspend\r", `/config set "A=\"q\"" -- -b=1`, "~~~~\n~~~\n/restart\n~~~~\n/x",
	} {
		f.Add(s)
	}
	r := Default()
	f.Fuzz(func(t *testing.T, text string) {
		results := r.Parse(text)
		if len(results) > MaxCommands {
			t.Fatalf("%d results", len(results))
		}
		for _, res := range results {
			if (res.Command == nil) == (res.Reply == nil) {
				t.Fatalf("a result must be a command or a reply: %+v", res)
			}
			if res.Reply != nil {
				if res.Reply.Message == "" {
					t.Fatal("a reply without a message")
				}
				continue
			}
			c := *res.Command
			if _, ok := r.Lookup(c.Name); !ok {
				t.Fatalf("command %q is not registered", c.Name)
			}
			again, err := r.ParseLine(c.Line)
			if err != nil || !reflect.DeepEqual(again, c) {
				t.Fatalf("ParseLine(%q) = %+v, %v; want %+v", c.Line, again, err, c)
			}
			if whole := r.Parse(c.Line); len(whole) != 1 || whole[0].Command == nil || !reflect.DeepEqual(*whole[0].Command, c) {
				t.Fatalf("Parse(%q) = %s, want the command alone", c.Line, describe(whole))
			}
		}
	})
}

func FuzzParseIssueForm(f *testing.F) {
	set := embeddedForms(f)
	for _, form := range set.Forms() {
		values := map[string]string{"service": "web", "env": "prod", "replicas": "2", "image": "v1", "operation": "set",
			"literals": "A=1\nB=2", "to": "abcdef1", "from": "qa", "reason": "because", "dry-run": "Only show the change; do not open a pull request"}
		body := submit(form, values)
		f.Add(form.Verb, body)
		f.Add(form.Verb, strings.ReplaceAll(body, "\n", "\r\n"))
		f.Add(form.Verb, strings.ReplaceAll(body, "prod", "PROD"))
	}
	f.Add("scale", "### Replicas\n\n```\n### Service\n")
	r := Default()
	f.Fuzz(func(t *testing.T, verb, body string) {
		c, err := set.ParseIssueForm([]string{"daytwo", ActionLabelPrefix + verb}, body)
		if err != nil {
			var fe *FormError
			switch {
			case errors.Is(err, ErrNotForm):
			case errors.As(err, &fe):
				if len(fe.Problems) == 0 {
					t.Fatal("a FormError without problems")
				}
				for _, p := range fe.Problems {
					if p.Message == "" {
						t.Fatalf("a problem without a message: %+v", fe.Problems)
					}
				}
			default:
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if c.Name != strings.ToLower(verb) {
			t.Fatalf("form for %q gave /%s", verb, c.Name)
		}
		again, err := r.ParseLine(c.Line)
		c.Reason = ""
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("ParseLine(%q) = %+v, %v; want %+v", c.Line, again, err, c)
		}
	})
}

// FuzzScan checks the command scanner against CommonMark as rendered to HTML: a line
// taken for a command shows as text, outside code and HTML comments, where GitHub
// renders the comment; and a text put in a code block or quoted holds no command.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"/restart", "    /scale 3", "text\n    /scale 3", "<!-- /scale 3 -->", "<!--\n/scale 3\n-->\n/x",
		"> a\n/restart", "> a\n> /restart", "- a\n  /restart", "- /restart", "`a\n/restart\nb`", "``a\n/b`\n/c``",
		"<div>\n/restart\n</div>", "<details>\n\n/restart\n\n</details>", "/scale 3\n---", "| a |\n| - |\n/x",
		"![a\n/b](c)", "[a]:\n/b", "```\n/restart\n```\n/suspend", "\t/x", "a\r\n/b\r\n", "~~~\n/x\n~~~\n/y",
		"<a\n/restart>", "1. a\n\n   /x\n\n       /y", "*a\n/b*", "[a\n/b](c)", "a  \n/b", "a\\\n/b",
	} {
		f.Add(s)
	}
	md := goldmark.New(goldmark.WithExtensions(extension.Table), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	f.Fuzz(func(t *testing.T, comment string) {
		src := normalize(comment)
		found := scanLines(src)
		// Mark the first character of each line taken, in order, with a private-use
		// character of its own, then render the marked text.
		marked := []byte(src)
		var marks []rune
		for i := len(found) - 1; i >= 0; i-- {
			s := found[i]
			if !strings.HasPrefix(s.line, "/") || len(marks) == 64 {
				continue
			}
			m := rune(0xE000 + len(marks))
			marks = append(marks, m)
			marked = append(marked[:s.off], append([]byte(string(m)), marked[s.off+1:]...)...)
		}
		var out bytes.Buffer
		if err := md.Convert(marked, &out); err != nil {
			t.Fatal(err)
		}
		rendered := out.String()
		doc, err := html.Parse(strings.NewReader(rendered))
		if err != nil {
			t.Fatal(err)
		}
		shown := map[rune]bool{}
		var walk func(n *html.Node, inCode bool)
		walk = func(n *html.Node, inCode bool) {
			if n.Type == html.ElementNode && (n.Data == "code" || n.Data == "pre") {
				inCode = true
			}
			if n.Type == html.TextNode {
				for _, m := range marks {
					if strings.ContainsRune(n.Data, m) {
						if inCode {
							t.Fatalf("a command line is taken from code: %q\nrendered: %s", comment, rendered)
						}
						shown[m] = true
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, inCode)
			}
		}
		walk(doc, false)
		for _, m := range marks {
			if !shown[m] {
				t.Fatalf("a command line does not show as text (it is in a comment, an attribute or nowhere): %q\nrendered: %s", comment, rendered)
			}
		}

		// The same text as a code block, an indented code block or a quote holds no command.
		quoted := "> " + strings.ReplaceAll(src, "\n", "\n> ")
		indented := "    " + strings.ReplaceAll(src, "\n", "\n    ")
		for _, wrapped := range []string{markdown.Fence("", src), indented, quoted} {
			if got := scanLines(wrapped); len(got) > 0 {
				t.Fatalf("%q: found %q", wrapped, got[0].line)
			}
		}
	})
}

// Parse skips markdown parsing when no line may start with a slash; that gives what the
// full scan gives.
func FuzzMaySlash(f *testing.F) {
	for _, s := range []string{"/restart", "a\n  /b", "\u200b /x", "a\r/restart", "a\r\n/restart", "\ufeff/x", "／x", "x / y", "> /x", "\u00a0/x"} {
		f.Add(s)
	}
	r := Default()
	f.Fuzz(func(t *testing.T, text string) {
		if maySlash(text) {
			return
		}
		for _, line := range candidateLines(text) {
			if res, ok := r.parseCandidate(line); ok {
				t.Fatalf("%q: maySlash says no, but %q gives %+v", text, line, res)
			}
		}
	})
}
