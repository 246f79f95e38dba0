package github_test

import (
	"errors"
	"io/fs"
	"sort"
	"strings"
	"testing"

	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// graphqlCalls lists the logged requests, GraphQL ones by operation name.
func (e *changeEnv) graphqlCalls() []string {
	var out []string
	for _, r := range e.requests() {
		if r.Operation != "" {
			out = append(out, "graphql "+r.Operation)
		} else {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func TestReadDefaultAndPrefetchSeedTheSnapshot(t *testing.T) {
	e := newChangeEnv(t)
	g := ghapi.NewGraphQL(e.repo.Client, "")
	e.gr.Commit("main", "owners", map[string]string{".github/CODEOWNERS": "apps/web/ @acme/sre @alice\n"})
	e.reset()

	read, err := e.repo.ReadDefault(e.ctx, g, append([]string{".github/daytwo.yml"}, ghapi.CodeOwnersPaths...))
	if err != nil {
		t.Fatal(err)
	}
	head, _ := e.gr.BranchSHA("main")
	if read.Head.Branch != "main" || read.Head.Commit != head || read.Head.Tree == "" || read.RepoID == "" || !read.OpenComplete {
		t.Fatalf("read: %+v", read)
	}
	if _, err := read.Snap.ReadFile(e.ctx, ".github/daytwo.yml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing config must read as absent, got %v", err)
	}
	owners, err := ghapi.ReadCodeOwners(e.ctx, read.Snap)
	if err != nil || owners == nil || strings.Join(owners.For("apps/web/x.yaml"), ",") != "acme/sre,alice" {
		t.Fatalf("CODEOWNERS: %q %v", owners.For("apps/web/x.yaml"), err)
	}

	ids, err := e.repo.Prefetch(e.ctx, g, read.Snap, ghapi.ReadSpec{
		Dirs: []string{"apps/web/overlays/prod", "apps/web"}, Labels: []string{"daytwo", "never-made"},
		Users: []string{"alice", "nobody-here"}, Teams: []string{"acme/sre", "acme/none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids.Labels) != 0 || ids.Users["alice"] == "" || len(ids.Users) != 1 || ids.Teams["acme/sre"] == "" || len(ids.Teams) != 1 {
		t.Errorf("ids: %+v", ids)
	}
	if got := e.graphqlCalls(); strings.Join(got, ",") != "graphql daytwoDefaultBranch,graphql daytwoPrefetch" {
		t.Fatalf("requests: %q", got)
	}
	// Everything a plan of web/prod reads is in memory now.
	for _, p := range []string{"apps/web/overlays/prod/kustomization.yaml", "apps/web/base/deployment.yaml", "apps/web/overlays/prod/old-patch.yaml"} {
		data, err := read.Snap.ReadFile(e.ctx, p)
		if err != nil || string(data) != seedFiles[p] {
			t.Errorf("%s: %q %v", p, data, err)
		}
	}
	if names, err := read.Snap.ReadDir(e.ctx, "apps/web"); err != nil || strings.Join(names, ",") != "base/,overlays/" {
		t.Errorf("listing: %q %v", names, err)
	}
	if n := len(e.requests()); n != 2 {
		t.Errorf("reads after the batch went to GitHub: %q", e.graphqlCalls())
	}
}

func TestCreateChangeInOneRequestThenFinish(t *testing.T) {
	e := newChangeEnv(t)
	g := ghapi.NewGraphQL(e.repo.Client, "")
	e.gr.Commit("main", "labels exist", map[string]string{"x": "1"})
	read, err := e.repo.ReadDefault(e.ctx, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.base = read.Head
	// Labels are created by a first REST labelling; later ones use their ids.
	n := e.gr.CreateIssue("alice", "seed labels", "")
	if _, _, err := e.repo.Client.Issues.AddLabelsToIssue(e.ctx, "acme", "gitops", n, []string{"daytwo", "env/prod"}); err != nil {
		t.Fatal(err)
	}
	ids, err := e.repo.Prefetch(e.ctx, g, read.Snap, ghapi.ReadSpec{Labels: []string{"daytwo", "env/prod", "action/scale"}, Users: []string{"bob"}, Teams: []string{"acme/sre"}})
	if err != nil {
		t.Fatal(err)
	}
	e.reset()

	cs := e.changeSet(5)
	opts := ghapi.ChangeOptions{Base: e.base, Labels: []string{"daytwo", "env/prod", "action/scale"}, Reviewers: []string{"bob", "acme/sre"}}
	pr, err := e.repo.CreateChange(e.ctx, g, read.RepoID, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Fresh || pr.Reused || pr.NodeID == "" || pr.Number == 0 {
		t.Fatalf("pr: %+v", pr)
	}
	if got := e.graphqlCalls(); strings.Join(got, ",") != "graphql daytwoChange" {
		t.Fatalf("branch, commit and PR took %q", got)
	}
	if files := e.gr.Files(cs.Branch); len(files) != len(expectedFiles(cs))+1 { // + "x"
		t.Errorf("branch files: %v", files)
	}
	c, _ := e.gr.GetCommit(pr.HeadSHA)
	if c.Parents[0] != e.base.Commit || !strings.HasPrefix(c.Message, cs.Title+"\n\n") || plan.ParseTrailers(c.Message)[plan.TrailerAction] != "scale" {
		t.Errorf("commit: %+v", c)
	}
	e.reset()

	commented, err := e.repo.FinishChange(e.ctx, g, pr, ghapi.Finish{
		Labels: opts.Labels, Reviewers: opts.Reviewers, IDs: ids, RepoID: read.RepoID,
		Check: &ghapi.CheckRun{Name: "daytwo/render", Conclusion: "success", Title: "renders", Summary: "ok"},
	})
	if err != nil || commented {
		t.Fatalf("FinishChange: %v (commented %v without a comment)", err, commented)
	}
	// action/scale had no id: it went through REST, beside the one mutation.
	got := e.graphqlCalls()
	if len(got) != 2 || !strings.Contains(strings.Join(got, ","), "graphql daytwoFinish") || !strings.Contains(strings.Join(got, ","), "/labels") {
		t.Errorf("finishing took %q", got)
	}
	p, _ := e.gr.Pull(pr.Number)
	sort.Strings(p.Labels)
	if strings.Join(p.Labels, ",") != "action/scale,daytwo,env/prod" || strings.Join(p.RequestedReviewers, ",") != "bob" || strings.Join(p.RequestedTeams, ",") != "sre" {
		t.Errorf("pull: labels %v reviewers %v teams %v", p.Labels, p.RequestedReviewers, p.RequestedTeams)
	}
	if runs := e.gr.CheckRuns(pr.HeadSHA); len(runs) != 1 || runs[0].Conclusion != "success" {
		t.Errorf("check runs: %+v", runs)
	}

	// The same change again finds the branch taken and reuses the open PR through REST.
	again, err := e.repo.CreateChange(e.ctx, g, read.RepoID, e.changeSet(5), opts)
	if err != nil || !again.Reused || again.Number != pr.Number || again.Fresh {
		t.Fatalf("again: %+v %v", again, err)
	}
	if n := len(e.openPulls()); n != 1 {
		t.Errorf("%d open pull requests after the repeat, want 1", n)
	}
}

func TestCreateChangeFailureRemovesTheBranch(t *testing.T) {
	e := newChangeEnv(t)
	g := ghapi.NewGraphQL(e.repo.Client, "")
	read, err := e.repo.ReadDefault(e.ctx, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.s.FailGraphQLField("createPullRequest", "UNPROCESSABLE", "Base branch was modified.", 1)
	cs := e.changeSet(5)
	if _, err := e.repo.CreateChange(e.ctx, g, read.RepoID, cs, ghapi.ChangeOptions{Base: read.Head}); err == nil || !strings.Contains(err.Error(), "Base branch was modified") {
		t.Fatalf("err = %v", err)
	}
	if e.hasBranch(cs.Branch) || len(e.openPulls()) != 0 {
		t.Error("a failed change left its branch or PR")
	}
}
