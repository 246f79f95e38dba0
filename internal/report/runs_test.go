package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// /history's workflow runs: newest first as given, each with its result, linked; who asked
// is shown and not mentioned; what could not be read is said.
func TestRenderRuns(t *testing.T) {
	when := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	v := &report.View{Runs: &report.Runs{
		Runs: []report.Run{
			{When: when, Workflow: "e2e", Repo: "acme/gitops", Number: 12, URL: "https://github.com/acme/gitops/actions/runs/9", Status: "completed", Conclusion: "success", Service: "checkout", Env: "staging", Requester: "alice"},
			{When: when.Add(-time.Hour), Workflow: "e2e", Repo: "acme/gitops", Number: 11, Status: "completed", Conclusion: "failure"},
			{When: when.Add(-2 * time.Hour), Workflow: "migrate", Repo: "acme/checkout", Number: 3, Status: "in_progress", Requester: "@acme/everyone"},
			{When: when.Add(-3 * time.Hour), Workflow: hostile, Repo: "acme/checkout", Number: 2, Status: "completed", Conclusion: "cancelled"},
		},
		Notes: []string{"The runs of load-test in acme/perf are not shown: " + hostile},
	}}
	got := v.Markdown()
	for _, want := range []string{
		"### Workflow runs (`/run`)\n\n| when (UTC) | workflow | service | env | asked by | run |",
		"| 2026-11-24 09:30 | e2e (acme/gitops) | checkout | staging | alice | [#12](https://github.com/acme/gitops/actions/runs/9) ✅ success |",
		"| 2026-11-24 08:30 | e2e (acme/gitops) | — | — | — | `#11` ❌ failure |",
		"| `#3` ⏳ in\\_progress |", "| `#2` ⚠️ cancelled |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "#12") > strings.Index(got, "#11") {
		t.Errorf("the order given is kept:\n%s", got)
	}
	mdtest.AssertSafe(t, got, hostile, "@acme/everyone")

	plain := v.Render(markdown.Plain)
	if !strings.Contains(plain, "#12 (https://github.com/acme/gitops/actions/runs/9) success") || strings.Contains(plain, "✅") {
		t.Errorf("plain:\n%s", plain)
	}

	empty := (&report.View{Runs: &report.Runs{}}).Markdown()
	if !strings.Contains(empty, "No workflow runs started by daytwo for this selection.") {
		t.Errorf("no runs:\n%s", empty)
	}
	if none := (&report.View{}).Markdown(); strings.Contains(none, "Workflow runs") {
		t.Errorf("a selection without workflows:\n%s", none)
	}
}
