// Package mdtest checks, in tests, that markdown daytwo writes from text it did not choose
// is safe to post on GitHub. It renders the markdown as GitHub would read it, with a
// CommonMark and GFM renderer (goldmark) that lets raw HTML through, parses the HTML and
// checks what came out:
//
//   - every element and attribute is one Markdown itself produces (raw HTML got through
//     otherwise), and there is no HTML comment;
//   - no text outside code or a link mentions anyone (GitHub's mention pattern) but the
//     logins allowed, or references an issue (#123, GH-123);
//   - each hostile string, the person's text, shows as written: in the text of the page,
//     or in a code element when the Policy asks for it.
package mdtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
)

// Policy is what markdown may hold beyond what Markdown makes of plain text and code.
// The zero Policy allows nothing more.
type Policy struct {
	// Mentions are the logins (or org/team) that may be mentioned outside code, such as
	// the author a reply addresses. Case does not matter.
	Mentions []string
	// Elements are HTML elements allowed besides those Markdown produces, such as the
	// "details" and "summary" of daytwo's own pull-request template. They may carry only
	// the attribute "open".
	Elements []string
	// Comments allows HTML comments, such as the hidden metadata of a pull-request body.
	Comments bool
	// InCode asks each hostile string to show inside one code element (a code span or a
	// fenced block), not merely somewhere in the text.
	InCode bool
}

// AssertSafe fails t, with the markdown, for each problem Policy{}.Check finds.
func AssertSafe(t testing.TB, markdown string, hostile ...string) {
	t.Helper()
	Policy{}.AssertSafe(t, markdown, hostile...)
}

// AssertSafe fails t, with the markdown, for each problem p.Check finds.
func (p Policy) AssertSafe(t testing.TB, markdown string, hostile ...string) {
	t.Helper()
	problems := p.Check(markdown, hostile...)
	for _, pr := range problems {
		t.Error(pr)
	}
	if len(problems) > 0 {
		t.Logf("markdown:\n%s\nrendered:\n%s", markdown, Render(markdown))
	}
}

// Check returns what makes markdown unsafe under p, one sentence each; nil when nothing
// does. Hostile strings are compared with runs of white space folded to one space, as
// HTML shows them and as code spans fold line breaks.
func (p Policy) Check(markdown string, hostile ...string) []string {
	c := p.read(markdown)
	text := fold(c.text.String())
	for _, h := range hostile {
		want := fold(h)
		switch {
		case p.InCode && !slices.ContainsFunc(c.code, func(s string) bool { return strings.Contains(fold(s), want) }):
			c.problems = append(c.problems, fmt.Sprintf("%q does not show as written in a code element", h))
		case !p.InCode && !strings.Contains(text, want):
			c.problems = append(c.problems, fmt.Sprintf("%q does not show as written", h))
		}
	}
	return c.problems
}

// Golden compares got with the file at path, or writes got there when update is set (a
// test's -update flag), creating its folder.
func Golden(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the output (run go test -update after checking):\n%s", path, got)
	}
}

// Shown is the text markdown shows, runs of white space folded to one space.
func Shown(markdown string) string { return fold(Policy{}.read(markdown).text.String()) }

// Codes is the text of each code element (code span or code block) markdown shows.
func Codes(markdown string) []string { return Policy{}.read(markdown).code }

// read renders markdown and walks the HTML, noting the problems it finds.
func (p Policy) read(markdown string) *checker {
	c := &checker{p: p}
	doc, err := html.Parse(strings.NewReader(Render(markdown)))
	if err != nil {
		c.fail("the rendered HTML does not parse: %v", err)
		return c
	}
	c.walk(doc, false)
	return c
}

// Render returns markdown as HTML: goldmark with the GFM extension (tables,
// strikethrough, autolinks, task lists) and the GFM spec's email autolinks, raw HTML let
// through as GitHub lets some through.
func Render(markdown string) string {
	var b bytes.Buffer
	if err := renderer.Convert([]byte(markdown), &b); err != nil {
		panic(err) // goldmark fails only when writing to b does
	}
	return b.String()
}

var renderer = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	// goldmark's own email pattern takes a backtick into the address, which GitHub does
	// not, so "x`@a.io`" would render as a link instead of code.
	goldmark.WithParserOptions(extension.WithLinkifyEmailRegexp(gfmEmailRE)),
	goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
)

// gfmEmailRE is an extended email autolink as the GFM spec defines it.
var gfmEmailRE = regexp.MustCompile(`^[a-zA-Z0-9.\-_+]+@[a-zA-Z0-9\-_]+(?:\.[a-zA-Z0-9\-_]+)*\.[a-zA-Z0-9]+`)

// attributes are the elements Markdown produces, with the attributes it gives them.
var attributes = map[string][]string{
	"p": nil, "br": nil, "hr": nil, "em": nil, "strong": nil, "del": nil, "blockquote": nil,
	"h1": nil, "h2": nil, "h3": nil, "h4": nil, "h5": nil, "h6": nil,
	"ul": nil, "ol": {"start"}, "li": nil,
	"code": {"class"}, "pre": nil, "a": {"href", "title"},
	"table": nil, "thead": nil, "tbody": nil, "tr": nil, "th": {"align", "style"}, "td": {"align", "style"},
	"input": {"type", "checked", "disabled"},
}

// mentionRE is GitHub's pattern of an @mention in text.
// A team slug does not end in a dot: "@org/team." mentions org/team.
var mentionRE = regexp.MustCompile("(?:^|[^A-Za-z0-9_`])@([A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)")

// alignRE is the only style Markdown writes: the alignment of a table column.
var alignRE = regexp.MustCompile(`^text-align: ?(left|right|center);?$`)

// referenceRE is an issue or pull-request reference GitHub links and cross-references.
var referenceRE = regexp.MustCompile(`#[0-9]+|\b(?i:gh)-[0-9]+`)

type checker struct {
	p        Policy
	problems []string
	text     strings.Builder // all the text, as shown
	code     []string        // the text of each code element
}

// walk checks n and what it holds; quiet is true inside code, pre and links, where
// GitHub neither mentions nor references.
func (c *checker) walk(n *html.Node, quiet bool) {
	switch n.Type {
	case html.CommentNode:
		if !c.p.Comments {
			c.fail("an HTML comment <!--%s-->", n.Data)
		}
	case html.DoctypeNode:
		c.fail("a doctype")
	case html.TextNode:
		c.text.WriteString(n.Data)
		if !quiet {
			c.checkText(n.Data)
		}
	case html.ElementNode:
		c.checkElement(n)
		switch n.Data {
		case "code", "pre":
			var b strings.Builder
			textOf(n, &b)
			if n.Data == "code" {
				c.code = append(c.code, b.String())
			}
			quiet = true
		case "a":
			quiet = true
		}
		if isBlock(n.Data) {
			defer c.text.WriteString(" ")
		}
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c.walk(ch, quiet)
	}
}

func (c *checker) checkElement(n *html.Node) {
	allowed, ok := attributes[n.Data]
	switch n.Data {
	case "html", "head", "body":
		// The parser's own frame; a raw tag of the same name adds its attributes to it.
		allowed, ok = nil, true
	}
	if !ok {
		if !slices.Contains(c.p.Elements, n.Data) {
			c.fail("raw HTML: a <%s> element", n.Data)
			return
		}
		allowed = []string{"open"}
	}
	for _, a := range n.Attr {
		if !slices.Contains(allowed, a.Key) {
			c.fail("raw HTML: attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
			continue
		}
		switch {
		case a.Key == "href" && !safeURL(a.Val):
			c.fail("a link to %q", a.Val)
		case a.Key == "style" && !alignRE.MatchString(a.Val):
			c.fail("raw HTML: style %q on <%s>", a.Val, n.Data)
		case n.Data == "input" && a.Key == "type" && a.Val != "checkbox":
			c.fail("raw HTML: an <input> of type %q", a.Val)
		}
	}
}

func (c *checker) checkText(s string) {
	for _, m := range mentionRE.FindAllStringSubmatch(s, -1) {
		if !slices.ContainsFunc(c.p.Mentions, func(l string) bool { return strings.EqualFold(l, m[1]) }) {
			c.fail("a live mention of @%s in %q", m[1], s)
		}
	}
	for _, m := range referenceRE.FindAllString(s, -1) {
		c.fail("a live issue reference %s in %q", m, s)
	}
}

func (c *checker) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// safeURL reports whether a link goes somewhere a browser will not run: http(s), mailto,
// or a path or fragment of the same site.
func safeURL(u string) bool {
	scheme, _, found := strings.Cut(u, ":")
	if !found || strings.ContainsAny(scheme, "/?#") {
		return true
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "mailto":
		return true
	}
	return false
}

func isBlock(name string) bool {
	switch name {
	case "p", "br", "hr", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre",
		"table", "thead", "tbody", "tr", "th", "td", "details", "summary":
		return true
	}
	return false
}

func textOf(n *html.Node, b *strings.Builder) {
	if n.Type == html.TextNode {
		b.WriteString(n.Data)
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		textOf(ch, b)
	}
}

func fold(s string) string { return strings.Join(strings.Fields(s), " ") }
