package ops_test

import (
	"os"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// examples/shared-bases on GitHub, with no daytwo config: its ApplicationSet, read through
// the GitHub API, gives the services and environments; when its template does not render,
// the reply says which set and why.
func TestZeroConfigFromApplicationSet(t *testing.T) {
	a := apptest.Start(t, clock)
	repo := a.GH.CreateRepo("acme", "platform")
	repo.SeedDir(repo.DefaultBranch(), "../../examples/shared-bases")
	a.GH.Install("acme")
	repo.SetPermission("alice", githubtest.RoleWrite)
	w := &world{App: a, repo: repo}

	n := w.ask(t, "alice", "/status --service ledger")
	st := w.status(t, n)
	for _, env := range []string{"dev", "staging", "prod"} {
		if !strings.Contains(st, "| **"+env+"** |") {
			t.Errorf("status has no %s row:\n%s", env, st)
		}
	}

	set, err := os.ReadFile("../../examples/shared-bases/argocd/applicationset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	repo.Commit(repo.DefaultBranch(), "a function Argo CD does not have", map[string]string{
		"argocd/applicationset.yaml": strings.Replace(string(set), "{{ .path.basename | lower }}", "{{ .path.basename | shout }}", 1),
	})
	n = w.ask(t, "alice", "/status --service ledger")
	reply := w.status(t, n)
	if !strings.Contains(reply, "ApplicationSet acme (argocd/applicationset.yaml): Argo CD cannot render it and creates none of its Applications: ") ||
		!strings.Contains(reply, `function "shout" not defined`) || strings.Contains(reply, "says which service") {
		t.Errorf("reply:\n%s", reply)
	}
}
