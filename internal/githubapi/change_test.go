package githubapi_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

var fullOptions = func(e *changeEnv) githubapi.ChangeOptions {
	return githubapi.ChangeOptions{
		Base:        e.base,
		Labels:      []string{"daytwo", "env/prod", "action/scale"},
		Reviewers:   []string{"alice", "acme/sre"},
		StackPrefix: "daytwo/prod/web/",
	}
}

// gqlEnv is a changeEnv with what CreateChange needs besides the change: the GraphQL
// client and the repository's node id, read as the runner reads them (ReadDefault).
type gqlEnv struct {
	*changeEnv
	g      *githubapi.GraphQL
	repoID string
}

func newGQLEnv(t *testing.T) *gqlEnv {
	t.Helper()
	e := newChangeEnv(t)
	g := githubapi.NewGraphQL(e.repo.Client, "")
	read, err := e.repo.ReadDefault(e.ctx, g, nil)
	if err != nil {
		t.Fatalf("ReadDefault: %v", err)
	}
	if read.Head != e.base || read.RepoID == "" {
		t.Fatalf("ReadDefault read %+v, Head read %+v", read, e.base)
	}
	e.reset()
	return &gqlEnv{changeEnv: e, g: g, repoID: read.RepoID}
}

func (e *gqlEnv) create(cs *plan.ChangeSet, opts githubapi.ChangeOptions) (*githubapi.PR, error) {
	return e.repo.CreateChange(e.ctx, e.g, e.repoID, cs, opts)
}

func (e *gqlEnv) mustCreate(cs *plan.ChangeSet, opts githubapi.ChangeOptions) *githubapi.PR {
	e.t.Helper()
	pr, err := e.create(cs, opts)
	if err != nil {
		e.t.Fatalf("CreateChange %s: %v", cs.Branch, err)
	}
	return pr
}

// restartOn is a second request of the same target, planned on head (a stack's).
func restartOn(head string) *plan.ChangeSet {
	return &plan.ChangeSet{
		Service: "web", Env: "prod", Action: "restart",
		Base:          head,
		Files:         []plan.FileChange{{Path: "apps/web/overlays/prod/restart.yaml", Content: []byte("restartedAt: now\n")}},
		Branch:        "daytwo/prod/web/restart-99999999",
		Title:         "Restart web in prod",
		Body:          "Restarts web.",
		CommitMessage: "Restart web in prod\n\n" + plan.TrailerAction + ": restart\n",
	}
}

// noRefMoves fails when any request moved a branch by REST: daytwo never force-moves one.
func (e *changeEnv) noRefMoves(t *testing.T) {
	t.Helper()
	for _, r := range e.requests() {
		if r.Method == "PATCH" && strings.HasPrefix(r.Path, e.repoPath("/git/refs")) {
			t.Errorf("a branch was moved by REST: %s %s", r.Method, r.Path)
		}
	}
}

func (e *changeEnv) closePR(t *testing.T, number int) {
	t.Helper()
	if _, _, err := e.repo.Client.PullRequests.Edit(e.ctx, "acme", "gitops", number, &ghPull{State: strPtr("closed")}); err != nil {
		t.Fatal(err)
	}
}

func TestCreateChangeNewChange(t *testing.T) {
	e := newGQLEnv(t)
	cs := e.changeSet(5)
	opts := fullOptions(e.changeEnv)
	pr, err := e.create(cs, opts)
	if err != nil {
		t.Fatalf("CreateChange: %v", err)
	}
	// Branch, commit and pull request are one mutation: no git object is written by REST.
	if got := e.graphqlCalls(); !sameStrings(got, []string{"graphql daytwoChange"}) {
		t.Fatalf("requests %q, want the one mutation", got)
	}

	// One commit on the base, with exactly the change's files, signed by GitHub.
	tip, ok := e.gr.BranchSHA(cs.Branch)
	if !ok {
		t.Fatalf("branch %s missing", cs.Branch)
	}
	hist := e.gr.History(cs.Branch)
	if len(hist) < 2 || hist[0].SHA != tip || !sameStrings(hist[0].Parents, []string{e.base.Commit}) || hist[1].SHA != e.base.Commit {
		t.Fatalf("branch history %+v is not one commit on %s", hist, e.base.Commit)
	}
	if hist[0].Message != cs.CommitMessage {
		t.Errorf("commit message %q, want %q", hist[0].Message, cs.CommitMessage)
	}
	if hist[0].Author.Name != e.s.BotLogin() || hist[0].Committer.Name != "GitHub" {
		t.Errorf("commit by %q, committed by %q: not the app's commit signed by GitHub", hist[0].Author.Name, hist[0].Committer.Name)
	}
	if got := e.gr.Files(cs.Branch); !reflect.DeepEqual(got, expectedFiles(cs)) {
		t.Errorf("branch files:\n%v\nwant:\n%v", got, expectedFiles(cs))
	}
	if main, _ := e.gr.BranchSHA("main"); main != e.base.Commit {
		t.Error("the base branch moved")
	}

	p, _ := e.gr.Pull(pr.Number)
	switch {
	case p.Title != cs.Title || p.Body != cs.Body:
		t.Errorf("PR title/body %q / %q", p.Title, p.Body)
	case p.State != "open" || p.Head != cs.Branch || p.Base != "main" || p.HeadSHA != tip || p.Draft:
		t.Errorf("PR %s %s→%s at %s draft=%v", p.State, p.Head, p.Base, p.HeadSHA, p.Draft)
	case p.User != e.s.BotLogin():
		t.Errorf("PR opened by %s", p.User)
	case len(p.Labels)+len(p.RequestedReviewers)+len(p.RequestedTeams) != 0:
		t.Errorf("CreateChange labelled or asked for review itself: %+v", p)
	}
	if !pr.Fresh || pr.HeadSHA != tip || pr.Branch != cs.Branch || pr.Body != cs.Body || pr.NodeID == "" ||
		!strings.HasSuffix(pr.URL, fmt.Sprintf("/acme/gitops/pull/%d", pr.Number)) {
		t.Errorf("returned %+v", pr)
	}
	if md, ok := plan.ParseMetadata(p.Body); !ok || md["action"] != "scale" {
		t.Errorf("metadata lost from the PR body: %v", md)
	}

	// FinishChange adds the labels, the reviewers and the check.
	e.reset()
	done, err := e.repo.FinishChange(e.ctx, e.g, pr, githubapi.Finish{
		Labels: opts.Labels, Reviewers: opts.Reviewers, RepoID: e.repoID,
		Check: &githubapi.CheckRun{Name: "daytwo/render", Conclusion: "success", Title: "renders", Summary: "ok"},
	})
	if err != nil || done.Commented || done.HeadAfterEdit != "" {
		t.Fatalf("FinishChange: %+v %v", done, err)
	}
	p, _ = e.gr.Pull(pr.Number)
	switch {
	case p.State != "open":
		t.Errorf("PR %s after finishing", p.State)
	case !sameStrings(p.Labels, []string{"daytwo", "env/prod", "action/scale"}):
		t.Errorf("labels %q", p.Labels)
	case !sameStrings(p.RequestedReviewers, []string{"alice"}) || !sameStrings(p.RequestedTeams, []string{"sre"}):
		t.Errorf("review requested from %q and teams %q", p.RequestedReviewers, p.RequestedTeams)
	}
	if runs := e.gr.CheckRuns(tip); len(runs) != 1 || runs[0].Name != "daytwo/render" || runs[0].Conclusion != "success" {
		t.Errorf("check runs on the head: %+v", runs)
	}
	e.noRefMoves(t)
}

func TestCreateChangeDraftIsOneRequest(t *testing.T) {
	e := newGQLEnv(t)
	if _, err := e.create(e.changeSet(3), githubapi.ChangeOptions{Base: e.base, Draft: true}); err != nil {
		t.Fatal(err)
	}
	if got := e.calls(); len(got) != 1 {
		t.Errorf("without labels and reviewers: %q, want one request", got)
	}
	if p := e.openPulls(); len(p) != 1 || !p[0].Draft {
		t.Errorf("want one draft PR, have %+v", p)
	}
}

func TestCreateChangeRefusals(t *testing.T) {
	e := newGQLEnv(t)
	for _, tc := range []struct {
		name  string
		edit  func(*plan.ChangeSet, *githubapi.ChangeOptions)
		code  plan.Code
		wants string
	}{
		{"planned on another base", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Base = strings.Repeat("a", 40) }, plan.Conflict, "plan it again"},
		{"no files", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Files = nil }, plan.NoChange, "no file"},
		{"bad branch", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Branch = "daytwo/../main" }, plan.Invalid, "not a valid branch"},
		{"branch with a space", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Branch = "daytwo/a b" }, plan.Invalid, "not a valid branch"},
		{"long branch", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Branch = "daytwo/" + strings.Repeat("x", 250) }, plan.Invalid, "255"},
		{"branch is the base", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Branch = "main" }, plan.Invalid, "its own base"},
		{"no title", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Title = " " }, plan.Invalid, "no title"},
		{"long title", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Title = strings.Repeat("é", 256) }, plan.Invalid, "title"},
		{"long body", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Body = strings.Repeat("x", 65537) }, plan.Invalid, "65536"},
		{"escaping path", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Files[0].Path = "../etc/passwd" }, plan.Invalid, "not a clean file path"},
		{"unclean path", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Files[0].Path = "./apps//x.yaml" }, plan.Invalid, "not a clean file path"},
		{"same path twice", func(cs *plan.ChangeSet, _ *githubapi.ChangeOptions) { cs.Files[1].Path = cs.Files[0].Path }, plan.Invalid, "twice"},
		{"no base", func(_ *plan.ChangeSet, o *githubapi.ChangeOptions) { o.Base = githubapi.Head{} }, plan.Internal, "read it with Head"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.reset()
			cs, opts := e.changeSet(5), fullOptions(e.changeEnv)
			tc.edit(cs, &opts)
			_, err := e.create(cs, opts)
			if err == nil || codeOf(err) != tc.code || !strings.Contains(err.Error(), tc.wants) {
				t.Errorf("err = %v (code %s), want code %s mentioning %q", err, codeOf(err), tc.code, tc.wants)
			}
			if calls := e.calls(); len(calls) > 0 {
				t.Errorf("refused change still called GitHub: %q", calls)
			}
		})
	}
	if _, err := e.create(nil, fullOptions(e.changeEnv)); err == nil {
		t.Error("nil ChangeSet accepted")
	}
	if len(e.gr.Branches()) != 1 || len(e.gr.Pulls()) != 0 {
		t.Errorf("refusals left branches %q and PRs %+v", e.gr.Branches(), e.gr.Pulls())
	}
}

func TestCreateChangeNoChange(t *testing.T) {
	e := newGQLEnv(t)
	cs := e.changeSet(2) // the base already has 2 replicas
	cs.Files = cs.Files[:1]
	_, err := e.create(cs, fullOptions(e.changeEnv))
	if codeOf(err) != plan.NoChange {
		t.Fatalf("err = %v, want no_change", err)
	}
	if e.hasBranch(cs.Branch) || len(e.openPulls()) != 0 {
		t.Errorf("nothing to change left branches %q and open PRs %+v", e.gr.Branches(), e.openPulls())
	}
	if main, _ := e.gr.BranchSHA("main"); main != e.base.Commit {
		t.Error("the base branch moved")
	}
}

// TestChangeFailureLeavesNothing: a new change that fails at any step, in CreateChange or
// in FinishChange, leaves neither its branch nor an open pull request.
func TestChangeFailureLeavesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  func(e *gqlEnv)
		finish func(f *githubapi.Finish) // nil: CreateChange fails
		code   plan.Code
		wants  string
	}{
		{name: "GitHub answers 500", fault: func(e *gqlEnv) {
			e.s.Fault("POST", "/api/graphql/daytwoChange", githubtest.Fault{Status: 500})
		}, code: plan.Conflict, wants: "no answer"}, // did it happen? the caller reads again
		{name: "commit refused", fault: func(e *gqlEnv) {
			e.s.FailGraphQLField("createCommitOnBranch", "FORBIDDEN", "Resource not accessible by integration", 1)
		}, code: plan.Internal, wants: "not accessible"},
		{name: "branch moved under the commit", fault: func(e *gqlEnv) {
			e.s.FailGraphQLField("createCommitOnBranch", "STALE_DATA", "Expected branch to point to something else", 1)
		}, code: plan.Conflict, wants: "moved"},
		{name: "pull request refused", fault: func(e *gqlEnv) {
			e.s.FailGraphQLField("createPullRequest", "UNPROCESSABLE", "Base branch was modified.", 1)
		}, code: plan.Internal, wants: "Base branch was modified"},
		{name: "labels refused", fault: func(e *gqlEnv) {
			e.s.Fault("POST", "/repos/acme/gitops/issues/*/labels", githubtest.Fault{Status: 500})
		}, finish: func(*githubapi.Finish) {}, code: plan.Internal, wants: "500"},
		{name: "reviewers refused", fault: func(e *gqlEnv) {
			e.s.Fault("POST", "/repos/acme/gitops/pulls/*/requested_reviewers", githubtest.Fault{Status: 500})
		}, finish: func(*githubapi.Finish) {}, code: plan.Internal, wants: "500"},
		{name: "malformed reviewer", fault: func(*gqlEnv) {}, finish: func(f *githubapi.Finish) {
			f.Reviewers = append(f.Reviewers, "not a login")
		}, code: plan.Internal, wants: "neither a GitHub login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGQLEnv(t)
			cs, opts := e.changeSet(5), fullOptions(e.changeEnv)
			var err error
			if tc.finish == nil {
				tc.fault(e)
				var pr *githubapi.PR
				if pr, err = e.create(cs, opts); err == nil {
					t.Fatalf("CreateChange succeeded: %+v", pr)
				}
				if len(e.gr.Pulls()) != 0 {
					t.Errorf("PRs: %+v", e.gr.Pulls())
				}
			} else {
				pr := e.mustCreate(cs, opts)
				tc.fault(e)
				f := githubapi.Finish{Labels: opts.Labels, Reviewers: opts.Reviewers}
				tc.finish(&f)
				if _, err = e.repo.FinishChange(e.ctx, e.g, pr, f); err == nil {
					t.Fatal("FinishChange succeeded")
				}
				if p, _ := e.gr.Pull(pr.Number); p.State != "closed" || p.Merged {
					t.Errorf("a new change whose finishing failed is %s", p.State)
				}
			}
			if codeOf(err) != tc.code || !strings.Contains(err.Error(), tc.wants) {
				t.Errorf("err = %v (code %s), want code %s mentioning %q", err, codeOf(err), tc.code, tc.wants)
			}
			if e.hasBranch(cs.Branch) || len(e.openPulls()) != 0 {
				t.Errorf("left branches %q and open PRs %+v", e.gr.Branches(), e.openPulls())
			}
			if main, _ := e.gr.BranchSHA("main"); main != e.base.Commit {
				t.Error("the base branch moved")
			}
		})
	}
}

// TestCreateChangeWithoutAnAnswer: a 5xx is not sent again (a second send could open
// the change twice when the first one's branch was merged and deleted meanwhile): it is a
// Conflict, and the caller reads again to learn whether the write happened.
func TestCreateChangeWithoutAnAnswer(t *testing.T) {
	t.Run("502 once", func(t *testing.T) {
		e := newGQLEnv(t)
		e.s.Fault("POST", "/api/graphql/daytwoChange", githubtest.Fault{Status: 502, Times: 1})
		cs := e.changeSet(5)
		_, err := e.create(cs, fullOptions(e.changeEnv))
		if codeOf(err) != plan.Conflict || !errors.Is(err, githubapi.ErrNoAnswer) {
			t.Fatalf("err = %v, want a conflict without an answer", err)
		}
		if n := e.count("POST", "/api/graphql"); n != 1 || len(e.gr.Pulls()) != 0 || e.hasBranch(cs.Branch) {
			t.Errorf("%d GraphQL requests, PRs %+v", n, e.gr.Pulls())
		}
		// Planning again (the caller's part) opens it.
		if _, err := e.create(cs, fullOptions(e.changeEnv)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("502 after GitHub did the work", func(t *testing.T) {
		e := newGQLEnv(t)
		e.s.Fault("POST", "/api/graphql/daytwoChange", githubtest.Fault{Status: 502, Times: 1, Lost: true})
		cs := e.changeSet(5)
		// Nothing is sent again and nothing removed: reading again finds the change.
		_, err := e.create(cs, fullOptions(e.changeEnv))
		if codeOf(err) != plan.Conflict || !errors.Is(err, githubapi.ErrNoAnswer) {
			t.Fatalf("err = %v, want a conflict without an answer", err)
		}
		if n := e.count("POST", "/api/graphql"); n != 1 {
			t.Errorf("%d GraphQL requests: %q", n, e.graphqlCalls())
		}
		if open := e.openPulls(); len(open) != 1 || len(e.gr.History(cs.Branch)) != 2 || e.count("DELETE", "/") != 0 {
			t.Errorf("PRs %+v, history %+v, requests %q", e.gr.Pulls(), e.gr.History(cs.Branch), e.calls())
		}
	})
	t.Run("429 with retry-after", func(t *testing.T) {
		e := newGQLEnv(t)
		e.s.Fault("POST", "/api/graphql/daytwoChange", githubtest.Fault{Status: 429, Times: 1, Headers: map[string]string{"Retry-After": "1"}})
		start := time.Now()
		if _, err := e.create(e.changeSet(5), fullOptions(e.changeEnv)); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("retried after %v, before retry-after", waited)
		}
		if len(e.openPulls()) != 1 || len(e.requests()) != 2 {
			t.Errorf("PRs %+v after %q", e.openPulls(), e.graphqlCalls())
		}
	})
}

// TestCreateChangeSameRequestAgain: another delivery of a request whose change is open
// changes nothing; it is a Conflict, and planning again finds the open change.
func TestCreateChangeSameRequestAgain(t *testing.T) {
	e := newGQLEnv(t)
	cs := e.changeSet(5)
	first := e.mustCreate(cs, fullOptions(e.changeEnv))
	if _, err := e.repo.FinishChange(e.ctx, e.g, first, githubapi.Finish{Labels: []string{"daytwo"}}); err != nil {
		t.Fatal(err)
	}
	tip, _ := e.gr.BranchSHA(cs.Branch)
	e.reset()

	_, err := e.create(e.changeSet(5), fullOptions(e.changeEnv))
	if codeOf(err) != plan.Conflict || errors.Is(err, githubapi.ErrGaveWay) {
		t.Fatalf("again: %v (code %s), want a conflict", err, codeOf(err))
	}
	if n := len(e.gr.Pulls()); n != 1 {
		t.Errorf("%d pull requests after a redelivery", n)
	}
	p, _ := e.gr.Pull(first.Number)
	if p.State != "open" || p.HeadSHA != tip || !sameStrings(p.Labels, []string{"daytwo"}) {
		t.Errorf("the open change changed: %+v", p)
	}
	if now, _ := e.gr.BranchSHA(cs.Branch); now != tip || len(e.gr.History(cs.Branch)) != 2 {
		t.Error("redelivery moved the branch or added a commit")
	}
	if n := e.count("DELETE", "/"); n != 0 {
		t.Errorf("redelivery deleted something: %q", e.calls())
	}
	e.noRefMoves(t)
}

func TestCreateChangeConcurrentDeliveries(t *testing.T) {
	for round := 0; round < 3; round++ {
		e := newGQLEnv(t)
		e.s.SetLatency(time.Duration(round) * time.Millisecond)
		var wg sync.WaitGroup
		prs := make([]*githubapi.PR, 3)
		errs := make([]error, 3)
		for i := range prs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				prs[i], errs[i] = e.create(e.changeSet(5), fullOptions(e.changeEnv))
			}()
		}
		wg.Wait()
		var won *githubapi.PR
		for i := range prs {
			switch {
			case errs[i] == nil && won == nil:
				won = prs[i]
			case errs[i] == nil:
				t.Errorf("round %d: two deliveries opened PRs %d and %d", round, won.Number, prs[i].Number)
			case codeOf(errs[i]) != plan.Conflict:
				t.Errorf("round %d delivery %d: %v", round, i, errs[i])
			}
		}
		if won == nil {
			t.Fatalf("round %d: no delivery opened the change: %v", round, errs)
		}
		tip, _ := e.gr.BranchSHA(won.Branch)
		if len(e.gr.Pulls()) != 1 || len(e.openPulls()) != 1 || tip != won.HeadSHA || len(e.gr.History(won.Branch)) != 2 {
			t.Errorf("round %d: PRs %+v, branches %q", round, e.gr.Pulls(), e.gr.Branches())
		}
	}
}

// TestCreateChangeFindsItsBranchTaken: the request's branch exists, but no open pull
// request into the base carries it. An earlier attempt was cut off: the branch is removed
// and the Conflict makes the runner plan again, which then succeeds. A branch that an open
// pull request into another base carries is left alone.
func TestCreateChangeFindsItsBranchTaken(t *testing.T) {
	const branch = "daytwo/prod/web/scale-0a1b2c3d"
	for _, tc := range []struct {
		name  string
		setup func(e *gqlEnv)
	}{
		{"at the base, as createRef alone left it", func(e *gqlEnv) {
			ref := &gh.Reference{Ref: strPtr("refs/heads/" + branch), Object: &gh.GitObject{SHA: strPtr(e.base.Commit)}}
			if _, _, err := e.repo.Client.Git.CreateRef(e.ctx, "acme", "gitops", ref); err != nil {
				e.t.Fatal(err)
			}
		}},
		{"with a commit of its own", func(e *gqlEnv) {
			e.gr.Commit(branch, "left behind", map[string]string{"apps/web/overlays/prod/half.yaml": "x: 1\n"})
		}},
		{"its pull request closed by hand", func(e *gqlEnv) {
			pr := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
			e.closePR(e.t, pr.Number)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGQLEnv(t)
			tc.setup(e)
			closedBefore := len(e.gr.Pulls())
			cs := e.changeSet(5)
			_, err := e.create(cs, fullOptions(e.changeEnv))
			if codeOf(err) != plan.Conflict {
				t.Fatalf("err = %v, want a conflict", err)
			}
			if e.hasBranch(branch) || len(e.openPulls()) != 0 {
				t.Fatalf("after the conflict: branches %q, open PRs %+v", e.gr.Branches(), e.openPulls())
			}

			pr, err := e.create(e.changeSet(5), fullOptions(e.changeEnv))
			if err != nil {
				t.Fatalf("planning again: %v", err)
			}
			hist := e.gr.History(branch)
			if len(hist) != 2 || hist[0].SHA != pr.HeadSHA || hist[1].SHA != e.base.Commit {
				t.Errorf("branch is not one commit on the base: %+v", hist)
			}
			if got := e.gr.Files(branch); !reflect.DeepEqual(got, expectedFiles(cs)) {
				t.Errorf("files %v", got)
			}
			if open := e.openPulls(); len(open) != 1 || open[0].Number != pr.Number || pr.Number <= closedBefore {
				t.Errorf("open PRs %+v, new %+v", open, pr)
			}
			e.noRefMoves(t)
		})
	}

	t.Run("open pull request into another base", func(t *testing.T) {
		e := newGQLEnv(t)
		e.gr.Commit("release", "release branch", map[string]string{"r.txt": "r\n"})
		pr := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
		if _, _, err := e.repo.Client.PullRequests.Edit(e.ctx, "acme", "gitops", pr.Number, &ghPull{Base: &ghBranch{Ref: strPtr("release")}}); err != nil {
			t.Fatal(err)
		}
		_, err := e.create(e.changeSet(6), fullOptions(e.changeEnv))
		if codeOf(err) != plan.Conflict || !strings.Contains(err.Error(), "into `release` instead of `main`") {
			t.Errorf("err = %v", err)
		}
		if tip, _ := e.gr.BranchSHA(branch); tip != pr.HeadSHA {
			t.Errorf("the branch of #%d moved or went: %q", pr.Number, e.gr.Branches())
		}
		if open := e.openPulls(); len(open) != 1 || open[0].Number != pr.Number || open[0].Base != "release" {
			t.Errorf("open PRs %+v", open)
		}
	})
}

// TestCreateChangeGivesWay: two requests of one target start its change at the same
// moment, neither seeing the other when it planned. The newer pull request gives way to the
// older: closed with a comment naming it, its branch deleted, and a Conflict wrapping
// ErrGaveWay, so that its request is planned again on top of the older change.
func TestCreateChangeGivesWay(t *testing.T) {
	e := newGQLEnv(t)
	older := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
	olderTip, _ := e.gr.BranchSHA(older.Branch)

	cs := restartOn(e.base.Commit) // planned on the base: it did not see older
	_, err := e.create(cs, fullOptions(e.changeEnv))
	if codeOf(err) != plan.Conflict || !errors.Is(err, githubapi.ErrGaveWay) || !strings.Contains(err.Error(), fmt.Sprintf("#%d", older.Number)) {
		t.Fatalf("err = %v (code %s), want a conflict that gave way to #%d", err, codeOf(err), older.Number)
	}
	pulls := e.gr.Pulls()
	if len(pulls) != 2 {
		t.Fatalf("PRs %+v", pulls)
	}
	newer := pulls[1]
	if newer.Head != cs.Branch || newer.State != "closed" || newer.Merged {
		t.Errorf("the newer PR: %+v", newer)
	}
	if c := e.gr.Comments(newer.Number); len(c) != 1 || c[0].User != e.s.BotLogin() || !strings.Contains(c[0].Body, fmt.Sprintf("#%d", older.Number)) {
		t.Errorf("comments on the newer PR: %+v", c)
	}
	if e.hasBranch(cs.Branch) {
		t.Error("the newer PR's branch is left")
	}
	if open := e.openPulls(); len(open) != 1 || open[0].Number != older.Number || open[0].HeadSHA != olderTip {
		t.Errorf("open PRs %+v", open)
	}
	if tip, _ := e.gr.BranchSHA(older.Branch); tip != olderTip {
		t.Error("the older change's branch moved")
	}
	e.noRefMoves(t)
}

func TestCreateChangeGivesWayConcurrently(t *testing.T) {
	e := newGQLEnv(t)
	e.s.SetLatency(time.Millisecond)
	css := []*plan.ChangeSet{e.changeSet(5), restartOn(e.base.Commit)}
	prs := make([]*githubapi.PR, len(css))
	errs := make([]error, len(css))
	var wg sync.WaitGroup
	for i := range css {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prs[i], errs[i] = e.create(css[i], fullOptions(e.changeEnv))
		}()
	}
	wg.Wait()
	gaveWay := 0
	var kept *githubapi.PR
	for i := range css {
		switch {
		case errs[i] == nil:
			kept = prs[i]
		case errors.Is(errs[i], githubapi.ErrGaveWay) && codeOf(errs[i]) == plan.Conflict:
			gaveWay++
			if e.hasBranch(css[i].Branch) {
				t.Errorf("%s is left", css[i].Branch)
			}
		default:
			t.Errorf("%s: %v", css[i].Branch, errs[i])
		}
	}
	if kept == nil || gaveWay != 1 {
		t.Fatalf("results %v", errs)
	}
	if open := e.openPulls(); len(open) != 1 || open[0].Number != kept.Number || !e.hasBranch(kept.Branch) {
		t.Errorf("open PRs %+v, kept %+v", open, kept)
	}
}

// TestCreateChangeGivesWayOnlyToTheSameTarget: older open pull requests of another target,
// or into another base, or a change without a StackPrefix, open as usual.
func TestCreateChangeGivesWayOnlyToTheSameTarget(t *testing.T) {
	e := newGQLEnv(t)
	e.gr.Commit("release", "release branch", map[string]string{"r.txt": "r\n"})
	for _, o := range []struct{ branch, base string }{
		{"daytwo/prod/webshop/scale-1", "main"},  // a service whose name starts alike
		{"daytwo/staging/web/scale-1", "main"},   // another env
		{"daytwo/prod/web/scale-rel", "release"}, // into another base
	} {
		e.gr.Commit(o.branch, "other", map[string]string{"o.txt": o.branch})
		e.gr.OpenPull("alice", o.branch, o.base, "other", "")
	}
	pr, err := e.create(e.changeSet(5), fullOptions(e.changeEnv))
	if err != nil {
		t.Fatal(err)
	}
	// Without a StackPrefix nothing is compared.
	opts := fullOptions(e.changeEnv)
	opts.StackPrefix = ""
	other, err := e.create(restartOn(e.base.Commit), opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.openPulls()); n != 5 || !e.hasBranch(pr.Branch) || !e.hasBranch(other.Branch) {
		t.Errorf("%d open PRs, branches %q", n, e.gr.Branches())
	}
}

func TestAppendChangeAddsOneCommit(t *testing.T) {
	e := newGQLEnv(t)
	first := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
	e.reset()

	cs := restartOn(first.HeadSHA)
	got, err := e.repo.AppendChange(e.ctx, e.g, cs, *first)
	if err != nil {
		t.Fatalf("AppendChange: %v", err)
	}
	if calls := e.graphqlCalls(); !sameStrings(calls, []string{"graphql daytwoStack"}) {
		t.Errorf("requests %q, want one mutation", calls)
	}
	tip, _ := e.gr.BranchSHA(first.Branch)
	c, _ := e.gr.GetCommit(tip)
	switch {
	case tip == first.HeadSHA || !sameStrings(c.Parents, []string{first.HeadSHA}):
		t.Errorf("branch at %s with parents %q, want one commit on %s", tip, c.Parents, first.HeadSHA)
	case c.Message != cs.CommitMessage || c.Committer.Name != "GitHub":
		t.Errorf("commit %+v", c)
	}
	if got.Number != first.Number || got.Branch != first.Branch || got.HeadSHA != tip || got.Fresh ||
		len(got.Commits) != 1 || got.Commits[0] != (githubapi.Commit{SHA: tip, Message: cs.CommitMessage}) {
		t.Errorf("returned %+v", got)
	}
	want := expectedFiles(e.changeSet(5))
	want["apps/web/overlays/prod/restart.yaml"] = "restartedAt: now\n"
	if files := e.gr.Files(first.Branch); !reflect.DeepEqual(files, want) {
		t.Errorf("stack files %v", files)
	}
	if p, _ := e.gr.Pull(first.Number); p.State != "open" || p.HeadSHA != tip || p.Base != "main" || len(e.gr.Pulls()) != 1 {
		t.Errorf("PRs %+v", e.gr.Pulls())
	}

	commits, err := e.repo.PullCommits(e.ctx, first.Number)
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != 2 || commits[0].SHA != first.HeadSHA || commits[1].SHA != tip || commits[1].Message != cs.CommitMessage ||
		plan.ParseTrailers(commits[0].Message)[plan.TrailerAction] != "scale" {
		t.Errorf("PullCommits: %+v", commits)
	}
	e.noRefMoves(t)
}

func TestAppendChangeRefusals(t *testing.T) {
	e := newGQLEnv(t)
	first := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
	e.reset()
	for _, tc := range []struct {
		name  string
		cs    *plan.ChangeSet
		code  plan.Code
		wants string
	}{
		{"nil", nil, plan.NoChange, "no file"},
		{"no files", &plan.ChangeSet{Base: first.HeadSHA, Title: "x", CommitMessage: "x"}, plan.NoChange, "no file"},
		{"planned on another head", restartOn(e.base.Commit), plan.Conflict, "plan it again"},
		{"unclean path", func() *plan.ChangeSet {
			cs := restartOn(first.HeadSHA)
			cs.Files[0].Path = "/etc/passwd"
			return cs
		}(), plan.Invalid, "not a clean file path"},
	} {
		_, err := e.repo.AppendChange(e.ctx, e.g, tc.cs, *first)
		if codeOf(err) != tc.code || !strings.Contains(err.Error(), tc.wants) {
			t.Errorf("%s: err = %v (code %s), want code %s mentioning %q", tc.name, err, codeOf(err), tc.code, tc.wants)
		}
	}
	if calls := e.calls(); len(calls) > 0 {
		t.Errorf("refused appends called GitHub: %q", calls)
	}
}

// TestAppendChangeConflicts: the stack moved, closed, merged or lost its branch since it
// was read. AppendChange is a Conflict, never moves the branch by force, and opens nothing.
func TestAppendChangeConflicts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(e *gqlEnv, pr *githubapi.PR)
		wants string
	}{
		{"branch moved", func(e *gqlEnv, pr *githubapi.PR) {
			e.gr.Commit(pr.Branch, "tweak the replica count by hand", map[string]string{"apps/web/overlays/prod/extra.yaml": "x: 1\n"})
		}, "moved"},
		{"pull request closed", func(e *gqlEnv, pr *githubapi.PR) { e.gr.ClosePull(pr.Number, "alice") }, "merged or closed"},
		{"pull request merged", func(e *gqlEnv, pr *githubapi.PR) { e.gr.Merge(pr.Number, "squash") }, "merged or closed"},
		{"branch deleted", func(e *gqlEnv, pr *githubapi.PR) {
			if err := e.repo.DeleteBranch(e.ctx, pr.Branch); err != nil {
				e.t.Fatal(err)
			}
		}, "moved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGQLEnv(t)
			first := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
			tc.setup(e, first)
			before, _ := e.gr.Pull(first.Number)
			tipBefore, hadBranch := e.gr.BranchSHA(first.Branch)
			pullsBefore := len(e.gr.Pulls())
			e.reset()

			got, err := e.repo.AppendChange(e.ctx, e.g, restartOn(first.HeadSHA), *first)
			if codeOf(err) != plan.Conflict || !strings.Contains(err.Error(), tc.wants) {
				t.Fatalf("AppendChange: %+v %v, want a conflict mentioning %q", got, err, tc.wants)
			}
			if p, _ := e.gr.Pull(first.Number); p.State != before.State || p.Merged != before.Merged || len(e.gr.Pulls()) != pullsBefore {
				t.Errorf("PRs after the conflict: %+v", e.gr.Pulls())
			}
			if tip, has := e.gr.BranchSHA(first.Branch); has != hadBranch || tc.name == "branch moved" && tip != tipBefore {
				t.Errorf("branch %s at %s (was %s, %v)", first.Branch, tip, tipBefore, hadBranch)
			}
			if calls := e.graphqlCalls(); !sameStrings(calls, []string{"graphql daytwoStack"}) {
				t.Errorf("requests %q", calls)
			}
			e.noRefMoves(t)
		})
	}
}

// TestAppendChangeWithoutAnAnswer: a commit sent twice would land twice, so a 5xx is
// not retried. Whether the commit landed is unknown, so it is a Conflict: the caller reads
// the stack again and finds the request there or not.
func TestAppendChangeWithoutAnAnswer(t *testing.T) {
	for _, lost := range []bool{false, true} {
		t.Run(fmt.Sprintf("done=%v", lost), func(t *testing.T) {
			e := newGQLEnv(t)
			first := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
			e.s.Fault("POST", "/api/graphql/daytwoStack", githubtest.Fault{Status: 502, Times: 1, Lost: lost})
			e.reset()
			cs := restartOn(first.HeadSHA)
			_, err := e.repo.AppendChange(e.ctx, e.g, cs, *first)
			if codeOf(err) != plan.Conflict || !strings.Contains(err.Error(), "502") {
				t.Fatalf("err = %v (code %s), want a conflict", err, codeOf(err))
			}
			if n := len(e.requests()); n != 1 {
				t.Errorf("%d requests: %q", n, e.graphqlCalls())
			}
			hist := e.gr.History(first.Branch)
			if !lost && hist[0].SHA != first.HeadSHA {
				t.Error("the branch moved without the commit being sent")
			}
			// Done but unanswered: exactly one commit landed, which reading again finds.
			if lost && (hist[1].SHA != first.HeadSHA || hist[0].Message != cs.CommitMessage) {
				t.Errorf("history %+v", hist[:2])
			}
			if commits, err := e.repo.PullCommits(e.ctx, first.Number); err != nil || len(commits) != map[bool]int{false: 1, true: 2}[lost] {
				t.Errorf("PullCommits: %+v %v", commits, err)
			}
			e.noRefMoves(t)
		})
	}
}

// TestFinishChangeOnAStack: a stack that grew gets its new title and body; a failure to
// label it is reported but closes nothing, as the stack holds earlier requests.
func TestFinishChangeOnAStack(t *testing.T) {
	e := newGQLEnv(t)
	first := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
	stack, err := e.repo.AppendChange(e.ctx, e.g, restartOn(first.HeadSHA), *first)
	if err != nil {
		t.Fatal(err)
	}
	n := stack.Number
	posted, _, err := githubapi.Thread{Client: e.repo.Client, Owner: "acme", Repo: "gitops", Number: n}.PostStatus(e.ctx, e.g, stack.NodeID, "", "working on it", "")
	if err != nil {
		t.Fatal(err)
	}

	done, err := e.repo.FinishChange(e.ctx, e.g, stack, githubapi.Finish{
		Title: "Scale and restart web in prod", Body: "Two requests.",
		CommentNodeID: posted.NodeID, CommentBody: "added to #" + fmt.Sprint(n),
	})
	if err != nil || !done.Commented || done.HeadAfterEdit != stack.HeadSHA {
		t.Fatalf("FinishChange: %+v %v (head %s)", done, err, stack.HeadSHA)
	}
	if p, _ := e.gr.Pull(n); p.Title != "Scale and restart web in prod" || p.Body != "Two requests." {
		t.Errorf("PR text %q / %q", p.Title, p.Body)
	}
	if c := e.gr.Comments(n); len(c) != 1 || c[0].Body != "added to #"+fmt.Sprint(n) {
		t.Errorf("comments %+v", c)
	}

	e.s.Fault("POST", "/repos/acme/gitops/issues/*/labels", githubtest.Fault{Status: 500})
	done, err = e.repo.FinishChange(e.ctx, e.g, stack, githubapi.Finish{Labels: []string{"action/restart"}})
	if err != nil || len(done.Refused) != 1 || done.Refused[0].Step != githubapi.StepLabels || done.Refused[0].Status != 500 || !sameStrings(done.Refused[0].Names, []string{"action/restart"}) {
		t.Errorf("a refused label is not reported: %+v %v", done.Refused, err)
	}
	if p, _ := e.gr.Pull(n); p.State != "open" || !e.hasBranch(stack.Branch) {
		t.Errorf("a stack was withdrawn: %s, branches %q", p.State, e.gr.Branches())
	}
	if _, err := e.repo.FinishChange(e.ctx, e.g, stack, githubapi.Finish{Reviewers: []string{"not a login"}}); err == nil {
		t.Error("a malformed reviewer is not reported")
	}
	if p, _ := e.gr.Pull(n); p.State != "open" || !e.hasBranch(stack.Branch) {
		t.Errorf("a stack was withdrawn: %s", p.State)
	}
}

func TestFinishChangeReviewerGitHubRefuses(t *testing.T) {
	e := newGQLEnv(t)
	pr := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
	e.reset()
	reviewers := []string{"alice", "mallory", "acme/sre", "@bob", "Alice", "other-org/team"}
	done, err := e.repo.FinishChange(e.ctx, e.g, pr, githubapi.Finish{Labels: []string{"daytwo"}, Reviewers: reviewers})
	if err != nil {
		t.Fatalf("a reviewer GitHub refuses must not sink the change: %v", err)
	}
	if len(done.Refused) != 1 || !sameStrings(done.Refused[0].Names, []string{"mallory"}) || !done.Refused[0].NotCollaborator() || done.Refused[0].Status != 422 {
		t.Errorf("refused %+v, want mallory, not a collaborator", done.Refused)
	}
	p, _ := e.gr.Pull(pr.Number)
	if p.State != "open" || !sameStrings(p.RequestedReviewers, []string{"alice", "bob"}) || !sameStrings(p.RequestedTeams, []string{"sre"}) {
		t.Errorf("PR %s, requested %q and teams %q", p.State, p.RequestedReviewers, p.RequestedTeams)
	}
	// The combined request, then one per reviewer (alice, mallory, bob, sre).
	if n := e.count("POST", e.repoPath(fmt.Sprintf("/pulls/%d/requested_reviewers", pr.Number))); n != 5 {
		t.Errorf("%d review requests", n)
	}
	// One reviewer alone, refused.
	if done, err := e.repo.FinishChange(e.ctx, e.g, pr, githubapi.Finish{Reviewers: []string{"mallory"}}); err != nil || len(done.Refused) != 1 || !sameStrings(done.Refused[0].Names, []string{"mallory"}) {
		t.Errorf("mallory alone: %+v %v", done, err)
	}
	if p, _ := e.gr.Pull(pr.Number); p.State != "open" {
		t.Errorf("PR %s", p.State)
	}
}

func TestCreateChangeBinaryFile(t *testing.T) {
	e := newGQLEnv(t)
	cs := e.changeSet(5)
	bin := []byte{0x89, 'P', 'N', 'G', 0xff, 0x00, 0xfe, '\r', '\n'}
	cs.Files = append(cs.Files, plan.FileChange{Path: "docs/logo.png", Content: bin})
	pr, err := e.create(cs, githubapi.ChangeOptions{Base: e.base})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.gr.File(pr.Branch, "docs/logo.png"); got != string(bin) {
		t.Errorf("binary file stored as %q", got)
	}
	reqs := e.requests()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), base64.StdEncoding.EncodeToString(bin)) {
		t.Errorf("the file did not go base64 in the one mutation: %q", e.graphqlCalls())
	}

	// And on a stack.
	more := restartOn(pr.HeadSHA)
	more.Files[0] = plan.FileChange{Path: "docs/logo.png", Content: append([]byte{0}, bin...)}
	if _, err := e.repo.AppendChange(e.ctx, e.g, more, *pr); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.gr.File(pr.Branch, "docs/logo.png"); got != string(more.Files[0].Content) {
		t.Errorf("binary file on the stack stored as %q", got)
	}
}

func TestEditChangeAndPullBody(t *testing.T) {
	e := newGQLEnv(t)
	pr := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
	head, err := e.repo.EditChange(e.ctx, pr.Number, "New title", "New body")
	if err != nil || head != pr.HeadSHA {
		t.Fatalf("EditChange: %s %v", head, err)
	}
	if p, _ := e.gr.Pull(pr.Number); p.Title != "New title" || p.Body != "New body" {
		t.Errorf("PR %q / %q", p.Title, p.Body)
	}
	if body, err := e.repo.PullBody(e.ctx, pr.Number); err != nil || body != "New body" {
		t.Errorf("PullBody: %q %v", body, err)
	}
	if _, err := e.repo.PullBody(e.ctx, 999); err == nil {
		t.Error("PullBody of a missing PR")
	}
	if _, err := e.repo.EditChange(e.ctx, 999, "x", "y"); err == nil {
		t.Error("EditChange of a missing PR")
	}
}

// A request added to a newer pull request while an older one of the same target is open
// (the newer is giving way and will close) is a conflict: planned again, it goes to the
// older one.
func TestAppendChangeToAPullRequestGivingWay(t *testing.T) {
	e := newGQLEnv(t)
	first := e.mustCreate(e.changeSet(5), fullOptions(e.changeEnv))
	// A second change of the same target, opened by hand the way a racing request would.
	racing := "daytwo/prod/web/config-0badcafe"
	e.gr.Commit(racing, "racing change", map[string]string{"apps/web/overlays/prod/extra.yaml": "x: 1\n"})
	n := e.gr.OpenPull("alice", racing, "main", "racing", "")
	sha, _ := e.gr.BranchSHA(racing)
	newer := githubapi.PR{Number: n, Branch: racing, HeadSHA: sha}
	if n < first.Number {
		t.Fatalf("the racing PR #%d must be the newer one (older #%d)", n, first.Number)
	}
	_, err := e.repo.AppendChange(e.ctx, e.g, restartOn(sha), newer)
	if codeOf(err) != plan.Conflict || !strings.Contains(err.Error(), "gives way") {
		t.Fatalf("AppendChange to the newer PR: %v, want a conflict naming the older one", err)
	}
}
