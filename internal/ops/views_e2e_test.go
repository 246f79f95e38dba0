package ops_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
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
	if !strings.Contains(st, "`/set-image 1.9.0 --service checkout --env dev`") || !strings.Contains(st, "| alice |") || strings.Contains(st, "@alice") || !strings.Contains(st, "/pull/"+strconv.Itoa(pr.Number)+")") {
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

func TestZeroConfigRepository(t *testing.T) {
	a := apptest.Start(t, clock)
	repo := a.GH.CreateRepo("acme", "gitops")
	repo.SeedDir(repo.DefaultBranch(), "../../examples/gitops")
	repo.Commit(repo.DefaultBranch(), "no daytwo config; Applications only", nil, ".github/daytwo.yml", "argocd/applicationset.yaml")
	a.GH.Install("acme")
	repo.SetPermission("alice", githubtest.RoleWrite)
	w := &world{App: a, repo: repo}

	n := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	open := w.openPulls()
	if len(open) != 1 || open[0].Title != "checkout/staging: scale to 4 replicas" {
		t.Fatalf("PRs %+v\n%s", open, w.status(t, n))
	}
	n = w.ask(t, "alice", "/status --service payments")
	if st := w.status(t, n); !strings.Contains(st, "| **prod** |") {
		t.Errorf("status:\n%s", st)
	}

	empty := a.GH.CreateRepo("acme", "empty")
	empty.Commit("main", "readme", map[string]string{"README.md": "hi\n"})
	empty.SetPermission("alice", githubtest.RoleWrite)
	m := empty.CreateIssue("alice", "x", "")
	a.Send(t, "issue_comment", empty.IssueCommentPayload(empty.AddComment(m, "alice", "/restart")))
	a.Quiet(t)
	var reply string
	for _, c := range empty.Comments(m) {
		reply += c.Body
	}
	if !strings.Contains(reply, "has no `.github/daytwo.yml`") || !strings.Contains(reply, "docs/config.md") {
		t.Errorf("a repository with neither config nor Applications: %q", reply)
	}
}
