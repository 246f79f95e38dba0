package command

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ and the issue forms in templates/issue-forms/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	mdtest.Golden(t, filepath.Join("testdata", name), got, *update)
}

func TestHelpGolden(t *testing.T) {
	r := Default()
	golden(t, "help.md", r.Help(""))
	for _, n := range r.Names() {
		golden(t, "help-"+n+".md", r.Help(n))
		golden(t, "usage-"+n+".txt", r.Usage(n))
	}
}

func TestHelpIsGeneratedFromSpecs(t *testing.T) {
	r := Default()
	overview := r.Help("")
	for _, n := range r.Names() {
		s, _ := r.Lookup(n)
		if !strings.Contains(overview, strings.ReplaceAll(r.Synopsis(n), "|", `\|`)) || !strings.Contains(overview, text(s.Summary)) {
			t.Errorf("the overview lacks /%s", n)
		}
		topic := r.Help("/" + strings.ToUpper(n))
		for _, ex := range s.Examples {
			if !strings.Contains(topic, ex.Line) {
				t.Errorf("help for /%s lacks example %q", n, ex.Line)
			}
		}
		for _, f := range r.Flags(n) {
			if !strings.Contains(topic, "--"+f.Name) {
				t.Errorf("help for /%s lacks --%s", n, f.Name)
			}
		}
	}
	if got := r.Help("scael"); !strings.HasPrefix(got, "There is no command `/scael`; did you mean `/scale`?") {
		t.Errorf("Help(unknown) = %q", got[:min(len(got), 80)])
	}
	if strings.Contains(overview, "<env>") && !strings.Contains(overview, "`/promote <env> [--from <env>]`") {
		t.Error("a placeholder outside code would be eaten as HTML")
	}
}

func TestSynopsis(t *testing.T) {
	r := Default()
	for n, want := range map[string]string{
		"promote":   "/promote <env> [--from <env>]",
		"scale":     "/scale <n> [--workload <name>] [--for <duration>]",
		"restart":   "/restart [--workload <name>]",
		"redeploy":  "/redeploy",
		"set-image": "/set-image [<container>=]<image> [--container <name>] [--workload <name>] [--for <duration>]",
		"rollback":  "/rollback [--to <commit>]",
		"freeze":    "/freeze [<env>] [--reason <text>] [--for <duration>]",
		"unfreeze":  "/unfreeze [<env>]",
		"help":      "/help [command]",
		"nope":      "",
	} {
		if got := r.Synopsis(n); got != want {
			t.Errorf("Synopsis(%s) = %q, want %q", n, got, want)
		}
	}
}

// TestRepliesGolden keeps the text users see for bad lines and bad issue forms.
func TestRepliesGolden(t *testing.T) {
	r := Default()
	var b strings.Builder
	for _, text := range []string{
		"/scale three --env prod",
		"/scale 3 --evn prod",
		"/scael 3",
		"/restart --env @octocat",
		"/promote prod --env staging",
		"／restart",
		"/restart --env pr\u200bod",
		strings.Repeat("/restart\n", MaxCommands+1),
	} {
		for _, res := range r.Parse(text) {
			b.WriteString("<!-- " + strings.ReplaceAll(strings.SplitN(text, "\n", 2)[0], "--", "- -") + " -->\n")
			b.WriteString(res.Reply.Markdown())
			b.WriteString("\n---\n\n")
		}
	}
	set := embeddedForms(t)
	scale := formByVerb(t, set, "scale")
	_, err := set.ParseIssueForm([]string{"action/scale"}, submit(scale, map[string]string{"service": "@octocat", "env": "Prod", "replicas": "3"}))
	b.WriteString(err.(*FormError).Markdown())
	golden(t, "replies.md", b.String())
}
