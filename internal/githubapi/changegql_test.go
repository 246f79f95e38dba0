package githubapi_test

import (
	"errors"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
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
	g := githubapi.NewGraphQL(e.repo.Client, "")
	e.gr.Commit("main", "owners", map[string]string{".github/CODEOWNERS": "apps/web/ @acme/sre @alice\n"})
	e.reset()

	read, err := e.repo.ReadDefault(e.ctx, g, append([]string{".github/daytwo.yml"}, githubapi.CodeOwnersPaths...))
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
	owners, err := githubapi.ReadCodeOwners(e.ctx, read.Snap)
	if err != nil || owners == nil || strings.Join(owners.For("apps/web/x.yaml"), ",") != "acme/sre,alice" {
		t.Fatalf("CODEOWNERS: %q %v", owners.For("apps/web/x.yaml"), err)
	}

	ids, err := e.repo.Prefetch(e.ctx, g, read.Snap, githubapi.ReadSpec{
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
	g := githubapi.NewGraphQL(e.repo.Client, "")
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
	ids, err := e.repo.Prefetch(e.ctx, g, read.Snap, githubapi.ReadSpec{Labels: []string{"daytwo", "env/prod", "action/scale"}, Users: []string{"bob"}, Teams: []string{"acme/sre"}})
	if err != nil {
		t.Fatal(err)
	}
	e.reset()

	cs := e.changeSet(5)
	opts := githubapi.ChangeOptions{Base: e.base, Labels: []string{"daytwo", "env/prod", "action/scale"}, Reviewers: []string{"bob", "acme/sre"}}
	pr, err := e.repo.CreateChange(e.ctx, g, read.RepoID, cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Fresh || pr.NodeID == "" || pr.Number == 0 {
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

	done, err := e.repo.FinishChange(e.ctx, g, pr, githubapi.Finish{
		Labels: opts.Labels, Reviewers: opts.Reviewers, IDs: ids, RepoID: read.RepoID,
		Check: &githubapi.CheckRun{Name: "daytwo/render", Conclusion: "success", Title: "renders", Summary: "ok"},
	})
	if err != nil || done.Commented || done.HeadAfterEdit != "" {
		t.Fatalf("FinishChange: %v (%+v without a comment or a title)", err, done)
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

	// The same change again finds the branch taken by its open PR: a Conflict that changes
	// nothing (the REST path that reused or force-moved the branch is gone).
	tip, _ := e.gr.BranchSHA(cs.Branch)
	e.reset()
	_, err = e.repo.CreateChange(e.ctx, g, read.RepoID, e.changeSet(5), opts)
	if plan.ErrorCode(err) != plan.Conflict {
		t.Fatalf("again: %v, want a conflict", err)
	}
	if open := e.openPulls(); len(open) != 1 || open[0].Number != pr.Number || len(e.gr.Pulls()) != 1 {
		t.Errorf("PRs after the repeat: %+v", e.gr.Pulls())
	}
	if now, _ := e.gr.BranchSHA(cs.Branch); now != tip || len(e.gr.History(cs.Branch)) != len(e.gr.History("main"))+1 {
		t.Error("the repeat moved the branch")
	}
	if p, _ := e.gr.Pull(pr.Number); len(p.Labels) != 3 || len(p.RequestedReviewers) != 1 {
		t.Errorf("the repeat changed the PR: %+v", p)
	}
	if got := e.graphqlCalls(); len(got) == 0 || got[0] != "graphql daytwoChange" || e.count("DELETE", "/") != 0 || e.count("PATCH", "/") != 0 {
		t.Errorf("the repeat sent %q", got)
	}
}

func TestCreateChangeFailureRemovesTheBranch(t *testing.T) {
	e := newChangeEnv(t)
	g := githubapi.NewGraphQL(e.repo.Client, "")
	read, err := e.repo.ReadDefault(e.ctx, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.s.FailGraphQLField("createPullRequest", "UNPROCESSABLE", "Base branch was modified.", 1)
	cs := e.changeSet(5)
	if _, err := e.repo.CreateChange(e.ctx, g, read.RepoID, cs, githubapi.ChangeOptions{Base: read.Head}); err == nil || !strings.Contains(err.Error(), "Base branch was modified") {
		t.Fatalf("err = %v", err)
	}
	if e.hasBranch(cs.Branch) || len(e.gr.Pulls()) != 0 {
		t.Errorf("a failed change left branches %q or PRs %+v", e.gr.Branches(), e.gr.Pulls())
	}
}

// TestReadDefaultReadsOpenStacks: the open pull requests come with their node id, labels
// and commits, oldest first, where a stack's requests are found in the trailers.
func TestReadDefaultReadsOpenStacks(t *testing.T) {
	e := newGQLEnv(t)
	first := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
	if _, err := e.repo.FinishChange(e.ctx, e.g, first, githubapi.Finish{Labels: []string{"daytwo", "env/prod"}}); err != nil {
		t.Fatal(err)
	}
	stack, err := e.repo.AppendChange(e.ctx, e.g, restartOn(first.HeadSHA), *first)
	if err != nil {
		t.Fatal(err)
	}
	read, err := e.repo.ReadDefault(e.ctx, e.g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Open) != 1 || read.OpenBase[first.Number] != "main" {
		t.Fatalf("open: %+v", read.Open)
	}
	got := read.Open[0]
	if got.Number != first.Number || got.NodeID != first.NodeID || got.HeadSHA != stack.HeadSHA || got.Branch != first.Branch ||
		!sameStrings(got.Labels, []string{"daytwo", "env/prod"}) {
		t.Errorf("open PR %+v", got)
	}
	if len(got.Commits) != 2 || got.Commits[0].SHA != first.HeadSHA || got.Commits[1].SHA != stack.HeadSHA ||
		plan.ParseTrailers(got.Commits[0].Message)[plan.TrailerAction] != "scale" ||
		plan.ParseTrailers(got.Commits[1].Message)[plan.TrailerAction] != "restart" {
		t.Errorf("commits %+v", got.Commits)
	}
}

// TestAcknowledgeFindsThePriorStatusComment: a repeated delivery's acknowledgement comes
// back with the status comment daytwo posted for the same request before, which the
// caller keeps while deleting the duplicate.
func TestAcknowledgeFindsThePriorStatusComment(t *testing.T) {
	e := newGQLEnv(t)
	n := e.gr.CreateIssue("alice", "please scale", "/scale web 5")
	is, _, err := e.repo.Client.Issues.Get(e.ctx, "acme", "gitops", n)
	if err != nil {
		t.Fatal(err)
	}
	node := is.GetNodeID()
	th := githubapi.Thread{Client: e.repo.Client, Owner: "acme", Repo: "gitops", Number: n}
	status := func(req string) string {
		return "Working on it.\n\n" + githubapi.StatusMark{Request: req, State: githubapi.StateWorking}.String()
	}

	first, prior, err := th.PostStatus(e.ctx, e.g, node, node, status("r1"), "r1")
	if err != nil || len(prior) != 0 || first.ID == 0 || first.NodeID == "" {
		t.Fatalf("first: %+v %+v %v", first, prior, err)
	}
	if r := e.gr.IssueReactions(n); len(r) != 1 || r[0].Content != "eyes" || r[0].User != e.s.BotLogin() {
		t.Errorf("reactions %+v", r)
	}
	e.gr.AddComment(n, "alice", status("r1")) // a person's copy of the mark is not daytwo's
	if _, prior, err := th.PostStatus(e.ctx, e.g, node, "", status("r2"), "r2"); err != nil || len(prior) != 0 {
		t.Errorf("another request: %+v %v", prior, err)
	}

	second, prior, err := th.PostStatus(e.ctx, e.g, node, "", status("r1"), "r1")
	if err != nil || len(prior) != 1 || prior[0].ID != first.ID || prior[0].NodeID != first.NodeID || prior[0].Body != status("r1") || second.ID == first.ID {
		t.Fatalf("second: %+v, prior %+v, %v", second, prior, err)
	}
	// A third sees both earlier ones, oldest first.
	third, prior, err := th.PostStatus(e.ctx, e.g, node, "", status("r1"), "r1")
	if err != nil || len(prior) != 2 || prior[0].ID != first.ID || prior[1].ID != second.ID {
		t.Fatalf("third: %+v, prior %+v, %v", third, prior, err)
	}
	if err := th.DeleteComment(e.ctx, third.ID); err != nil {
		t.Fatal(err)
	}
	if err := th.DeleteComment(e.ctx, second.ID); err != nil {
		t.Fatal(err)
	}
	if err := th.DeleteComment(e.ctx, second.ID); err != nil {
		t.Errorf("deleting a deleted comment: %v", err)
	}
	if c := e.gr.Comments(n); len(c) != 3 || c[0].ID != first.ID {
		t.Errorf("comments %+v", c)
	}

	// In a pull request's thread too; without a request nothing is compared.
	pr := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
	pth := githubapi.Thread{Client: e.repo.Client, Owner: "acme", Repo: "gitops", Number: pr.Number}
	a, _, err := pth.PostStatus(e.ctx, e.g, pr.NodeID, "", status("r3"), "r3")
	if err != nil {
		t.Fatal(err)
	}
	if _, prior, err := pth.PostStatus(e.ctx, e.g, pr.NodeID, "", status("r3"), "r3"); err != nil || len(prior) != 1 || prior[0].ID != a.ID {
		t.Errorf("in a PR: %+v %v", prior, err)
	}
	if _, prior, err := pth.PostStatus(e.ctx, e.g, pr.NodeID, "", status("r3"), ""); err != nil || len(prior) != 0 {
		t.Errorf("without a request: %+v %v", prior, err)
	}
}
