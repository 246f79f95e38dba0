package ops_test

import (
	"strconv"
	"strings"
	"testing"
)

func TestStatusShowsDesiredLiveOwnersAndPRs(t *testing.T) {
	w := newArgoWorld(t)
	w.ask(t, "alice", "/scale 4 --service checkout --env staging") // an open PR
	open := w.openPulls()
	if len(open) != 1 {
		t.Fatal("want one open PR")
	}
	n := w.ask(t, "rita", "/status --service checkout") // read access suffices
	st := w.status(t, n)
	for _, want := range []string{
		"owner **acme/checkout-team**", "system shop", "depends on catalog, payments",
		"| **dev** | `1.8.0` | 1 |", "| **prod** | `1.7.1` | 3 |",
		"✅ Synced | 💚 Healthy", // live, from Argo CD
		"/pull/" + strconv.Itoa(open[0].Number), "```mermaid", "e0 --> e1",
	} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	var gets int
	for _, c := range w.argo.Calls() {
		if c.Method == "Get" && strings.HasPrefix(c.App, "checkout-") {
			gets++
		}
	}
	if gets != 3 {
		t.Errorf("want one Argo CD read per environment, got %d", gets)
	}
	if len(w.openPulls()) != 1 {
		t.Error("/status changed something")
	}
}

func TestHistoryAndDiff(t *testing.T) {
	w := newWorld(t)
	w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev") // dev merges
	n := w.ask(t, "rita", "/history --service checkout")
	st := w.status(t, n)
	pr := w.repo.Pulls()[0]
	if !strings.Contains(st, "`/set-image 1.9.0 --service checkout --env dev`") || !strings.Contains(st, "@alice") || !strings.Contains(st, "/pull/"+strconv.Itoa(pr.Number)+")") {
		t.Errorf("history:\n%s", st)
	}

	n = w.ask(t, "rita", "/diff dev staging --service checkout")
	st = w.status(t, n)
	for _, want := range []string{"**dev** and **staging**", "ghcr.io/acme/checkout:1.9.0", "ghcr.io/acme/checkout:1.7.2", "`/promote staging --from dev` carries these"} {
		if !strings.Contains(st, want) {
			t.Errorf("diff lacks %q:\n%s", want, st)
		}
	}

	for _, tc := range []struct{ who, line, want string }{
		{"stranger", "/status --service checkout", "is for people with read"},
		{"rita", "/diff dev --service checkout", "/diff compares two environments"},
		{"rita", "/diff dev qa --service checkout", `"qa"`},
		{"rita", "/status", "which service?"},
		{"rita", "/history --limit 500", "--limit takes a number from 1 to 100"},
	} {
		n := w.repo.CreateIssue(tc.who, "x", "")
		w.comment(t, n, tc.who, tc.line)
		var all string
		for _, c := range w.repo.Comments(n) {
			all += c.Body
		}
		if !strings.Contains(all, tc.want) {
			t.Errorf("%s by %s: want %q in\n%s", tc.line, tc.who, tc.want, all)
		}
	}
}
