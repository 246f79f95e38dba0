package ops_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	gmtext "github.com/yuin/goldmark/text"

	"github.com/daytwo-dev/daytwo/internal/command"
)

// docExample is a command written in the documentation: where, and as written.
type docExample struct {
	where, text string
}

// shellCommand finds the comment text given to the local CLI in a shell line.
var shellCommand = regexp.MustCompile(`daytwo\s+(?:plan|apply)\b.*?"(/[^"]*)"`)

// docExamples reads a markdown file as CommonMark and returns, with their line numbers:
// inline code spans starting with "/", lines of code blocks starting with "/", and the
// quoted command of a `daytwo plan` or `daytwo apply` line in a code block.
func docExamples(t *testing.T, path string) []docExample {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lineOf := func(off int) string {
		return fmt.Sprintf("%s:%d", strings.TrimPrefix(filepath.ToSlash(path), "../../"), strings.Count(string(src[:off]), "\n")+1)
	}
	var out []docExample
	doc := goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser().Parse(gmtext.NewReader(src))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.CodeSpan:
			var b strings.Builder
			off := -1
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if tx, ok := c.(*ast.Text); ok {
					if off < 0 {
						off = tx.Segment.Start
					}
					b.Write(tx.Segment.Value(src))
				}
			}
			// A code span's line breaks are spaces; in a table cell "\|" is a pipe.
			s := strings.ReplaceAll(strings.ReplaceAll(b.String(), "\n", " "), `\|`, "|")
			if strings.HasPrefix(s, "/") {
				out = append(out, docExample{lineOf(off), s})
			}
			return ast.WalkSkipChildren, nil
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				l := strings.TrimSpace(string(seg.Value(src)))
				if strings.HasPrefix(l, "/") {
					out = append(out, docExample{lineOf(seg.Start), l})
				}
				if m := shellCommand.FindStringSubmatch(l); m != nil {
					out = append(out, docExample{lineOf(seg.Start), m[1]})
				}
			}
		}
		return ast.WalkContinue, nil
	})
	return out
}

// placeholder marks a synopsis rather than an example: a <placeholder>, an [optional
// part] or an ellipsis.
var placeholder = regexp.MustCompile(`<[^<>]*>|\[[^\]]*\]|…|\.\.\.`)

// Every command the documentation shows (README.md, docs/*.md) parses against the registry
// the server answers with. Not parsed, and only these: a path (a first word with a second
// slash, like /api/github/hook) or a lone slash, which are no commands; a synopsis (see
// placeholder), which shows a form rather than an example, but whose verb must be
// registered and which may show a positional argument only where the command takes
// some; and a bare /<verb>, which names a command: its verb must be registered, but it
// need not run without arguments.
func TestDocumentedCommandsParse(t *testing.T) {
	reg := command.All()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "README.md"))
	checked := 0
	for _, f := range files {
		for _, ex := range docExamples(t, f) {
			word, rest, _ := strings.Cut(ex.text, " ")
			verb := strings.TrimPrefix(word, "/")
			switch {
			case verb == "" || strings.Contains(verb, "/"):
				continue
			case placeholder.MatchString(ex.text):
				spec, ok := reg.Lookup(strings.ToLower(verb))
				if !ok && !placeholder.MatchString(verb) {
					t.Errorf("%s: %q names no command", ex.where, ex.text)
				}
				first, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
				if ok && spec.Args == "" && first != "" && !strings.HasPrefix(first, "-") && !strings.HasPrefix(first, "[-") {
					t.Errorf("%s: %q gives /%s an argument, but it takes none (%s)", ex.where, ex.text, spec.Name, reg.Synopsis(spec.Name))
				}
				continue
			case word == ex.text:
				if _, ok := reg.Lookup(strings.ToLower(verb)); !ok {
					t.Errorf("%s: %q names no command", ex.where, ex.text)
				}
				continue
			}
			checked++
			if _, err := reg.ParseLine(ex.text); err != nil {
				t.Errorf("%s: %q does not parse: %v", ex.where, ex.text, err)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d examples were checked; the extraction is broken", checked)
	}
}
