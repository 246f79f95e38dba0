package markdown_test

import (
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

// The GitHub renderer writes what this package's helpers write, and tables whose cells
// hold a person's text stay one row each and safe.
func TestGitHubRenderer(t *testing.T) {
	gh := markdown.GitHub
	for _, s := range hostile {
		if gh.Code(s) != markdown.Code(s) || gh.Text(s) != markdown.Text(s) || gh.Fence("", s) != markdown.Fence("", s) {
			t.Errorf("%q: the renderer differs from the helpers", s)
		}
	}
	var rows [][]string
	var shown []string
	for _, s := range hostile {
		if strings.TrimSpace(s) == "" {
			continue
		}
		rows = append(rows, []string{gh.Text(s), gh.Code(s), ""})
		shown = append(shown, s)
	}
	table := gh.Table([]string{"", "text", "code"}, rows)
	if !strings.HasPrefix(table, "| | text | code |\n| --- | --- | --- |\n") {
		t.Errorf("table head:\n%s", table)
	}
	if got := strings.Count(table, "\n"); got != len(rows)+2 {
		t.Errorf("%d lines for %d rows:\n%s", got, len(rows), table)
	}
	mdtest.AssertSafe(t, table, shown...)
	if got := gh.Prose("name the `<env>` as <env>"); got != "name the `<env>` as &lt;env&gt;" {
		t.Errorf("Prose = %q", got)
	}
	if got := gh.Heading(3, "checkout") + gh.Link(gh.Strong("#7"), "https://x.io/7"); got != "### checkout\n[**#7**](https://x.io/7)" {
		t.Errorf("heading and link = %q", got)
	}
	if got := gh.Diagram("flowchart LR\n", "alt"); got != "```mermaid\nflowchart LR\n```\n" {
		t.Errorf("Diagram = %q", got)
	}
}

// The plain renderer writes text for a terminal: nothing escaped, no markup, and nothing
// that drives the terminal.
func TestPlainRenderer(t *testing.T) {
	p := markdown.Plain
	for _, c := range []struct{ name, got, want string }{
		{"text as written", p.Text(" <b>*x*</b> @alice #1 `y` | \\ "), "<b>*x*</b> @alice #1 `y` | \\"},
		{"text on one line", p.Text("a\nb\r\nc"), "a b c"},
		{"code as written", p.Code("/scale 3 --env <env>"), "/scale 3 --env <env>"},
		{"escape sequence", p.Text("ok\x1b[2J\x07"), "ok\uFFFD[2J\uFFFD"},
		{"bidi override", p.Code("/restart --env \u202edorp"), "/restart --env \uFFFDdorp"},
		{"prose", p.Prose("name `<env>` as <env>"), "name `<env>` as <env>"},
		{"strong and link", p.Strong("prod") + " " + p.Link("#7", "https://x.io/7"), "prod #7 (https://x.io/7)"},
		{"heading 2", p.Heading(2, "/scale"), "/scale\n------\n"},
		{"heading 3", p.Heading(3, "Flags"), "Flags\n"},
		{"fence", p.Fence("sh", "/scale 3\n\n  -e prod\x1b\n"), "  /scale 3\n\n    -e prod\uFFFD\n"},
		{"icon", p.Icon("🧊", "yes") + p.Icon("✅", ""), "yes"},
		{"diagram", p.Diagram("flowchart LR\n", "dev → prod"), "dev → prod\n"},
		{"table", p.Table([]string{"", "staging", "prod"}, [][]string{{"image", "v1.2.3", ""}, {"replicas", "2", "10"}}),
			"          staging  prod\nimage     v1.2.3\nreplicas  2        10\n"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got\n%q\nwant\n%q", c.name, c.got, c.want)
		}
	}
}
