package command

import (
	"fmt"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

// hostileLines are comment lines that each get a reply, with a person's text of every kind
// that could break the reply's markdown or ping someone.
var hostileLines = []struct{ name, line string }{
	{"unknown command, did you mean", "/scael <img src=x onerror=alert(1)> @acme/everyone"},
	{"unknown flag", "/scale 3 --evn <script>alert(1)</script>"},
	{"bad value, HTML", "/scale '<img src=x onerror=alert(1)>' --env prod"},
	{"bad value, team mention", "/set-image @acme/everyone --env prod"},
	{"bad value, user mention", "/restart --env @alice"},
	{"single backticks", "/scale `3` --env prod"},
	{"triple backticks", "/scale 3 --env ```prod```"},
	{"five backticks", "/scale `````3````` --env prod"},
	{"backtick fence alone", "/freeze --env prod ```"},
	{"tilde fence", "/scale ~~~ --env prod"},
	{"comment opener", "/scale <!-- --env prod"},
	{"comment closer", "/freeze --env prod -->"},
	{"quote marker", "/scale '> quoted' --env prod"},
	{"issue reference", "/scale #123 --env prod"},
	{"javascript link", "/scale [x](javascript:alert(1)) --env prod"},
	{"emphasis", "/scale **bold** --env prod"},
	{"help, unknown topic", "/help '<img src=x onerror=alert(1)>'"},
	{"help, near topic", "/help scael@acme/everyone"},
	{"lookalike slash", "／restart <img src=x onerror=alert(1)> @acme/everyone"},
}

// TestHostileRepliesGolden keeps the replies to hostile lines, issue forms and help
// topics, and renders each with a CommonMark and GFM renderer: the person's line shows
// as written in a code block, nothing in it is HTML, a mention or an issue reference.
func TestHostileRepliesGolden(t *testing.T) {
	r := Default()
	var b strings.Builder
	add := func(name, input, md string) {
		fmt.Fprintf(&b, "==== %s\n-- input: %q\n%s\n", name, input, md)
	}
	for _, c := range hostileLines {
		res := r.Parse(c.line)
		if len(res) != 1 || res[0].Reply == nil {
			t.Errorf("%s: want one reply, got %s", c.name, describe(res))
			continue
		}
		md := res[0].Reply.Markdown()
		mdtest.Policy{InCode: true}.AssertSafe(t, md, c.line)
		add(c.name, c.line, md)
	}

	// A value quoted in a message shows as written too.
	md := r.Parse("/scale <img src=x onerror=alert(1)>&amp;@acme/everyone#1 --env prod")[0].Reply.Markdown()
	mdtest.AssertSafe(t, md, "<img src=x onerror=alert(1)>&amp;@acme/everyone#1")

	set := embeddedForms(t)
	scale := formByVerb(t, set, "scale")
	for _, c := range []struct {
		name   string
		values map[string]string
		shown  []string
	}{
		{"form, hostile values", map[string]string{"service": "@acme/everyone", "env": "<img src=x onerror=alert(1)>", "replicas": "3"},
			[]string{"@acme/everyone", "<img src=x onerror=alert(1)>"}},
		{"form, hostile number", map[string]string{"service": "checkout", "env": "prod", "replicas": "`3` #123 **bold**"},
			[]string{"`3` #123 **bold**"}},
		{"form, hostile checkbox", map[string]string{"service": "checkout", "env": "prod", "replicas": "3", "dry-run": "x"},
			nil},
	} {
		body := submit(scale, c.values)
		if c.name == "form, hostile checkbox" {
			body = strings.Replace(body, "- [ ] Only show", "- <!-- [X] @acme/everyone --> Only show", 1)
			c.shown = []string{"- <!-- [X] @acme/everyone --> Only show"}
		}
		_, err := set.ParseIssueForm([]string{"action/scale"}, body)
		fe, ok := err.(*FormError)
		if !ok {
			t.Fatalf("%s: err = %v, want a *FormError", c.name, err)
		}
		md := Reply{Form: fe}.Markdown()
		mdtest.AssertSafe(t, md, c.shown...)
		add(c.name, body, md)
	}
	hostileForm := &FormError{Form: "x` <b>", Problems: []FormProblem{
		{Label: "**Env** @acme/everyone", Message: "<img src=x onerror=alert(1)> #1"},
		{Message: "1. --> ~~~ `x`"},
	}}
	mdtest.AssertSafe(t, hostileForm.Markdown(), "x` <b>", "**Env** @acme/everyone", "<img src=x onerror=alert(1)> #1", "1. --> ~~~ `x`")
	add("form, hostile labels", "", hostileForm.Markdown())

	for _, topic := range []string{"<img src=x onerror=alert(1)>", "scael`@acme/everyone` <!--", "```"} {
		md := r.Help(topic)
		mdtest.Policy{InCode: true}.AssertSafe(t, md, "/"+topic)
		note, _, _ := strings.Cut(md, "\n\n") // the overview after it is TestHelpGolden's
		add("help topic", topic, note+"\n")
	}
	golden(t, "hostile-replies.golden", b.String())
}

// The help and every usage reply are safe markdown.
func TestHelpIsSafeMarkdown(t *testing.T) {
	r := Default()
	mdtest.AssertSafe(t, r.Help(""))
	for _, n := range r.Names() {
		mdtest.AssertSafe(t, r.Help(n))
		mdtest.Policy{InCode: true}.AssertSafe(t, Reply{Line: "/" + n + " x", Message: "m", Usage: r.Usage(n)}.Markdown(), "/"+n+" x", r.Usage(n))
	}
}
