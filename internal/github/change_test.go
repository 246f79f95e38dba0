package github_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

var fullOptions = func(e *changeEnv) ghapi.ChangeOptions {
	return ghapi.ChangeOptions{
		Base:      e.base,
		Labels:    []string{"daytwo", "env/prod", "action/scale"},
		Reviewers: []string{"alice", "acme/sre"},
	}
}

func TestOpenChangeNewChange(t *testing.T) {
	e := newChangeEnv(t)
	cs := e.changeSet(5)
	pr, err := e.repo.OpenChange(e.ctx, cs, fullOptions(e))
	if err != nil {
		t.Fatalf("OpenChange: %v", err)
	}

	want := []string{
		"POST " + e.repoPath("/git/trees"),
		"POST " + e.repoPath("/git/commits"),
		"POST " + e.repoPath("/git/refs"),
		"POST " + e.repoPath("/pulls"),
		fmt.Sprintf("POST %s", e.repoPath(fmt.Sprintf("/issues/%d/labels", pr.Number))),
		fmt.Sprintf("POST %s", e.repoPath(fmt.Sprintf("/pulls/%d/requested_reviewers", pr.Number))),
	}
	// Labels and reviewers are requested concurrently, after the PR: their order is free.
	got := e.calls()
	if len(got) == len(want) {
		sort.Strings(got[4:])
		sort.Strings(want[4:])
	}
	if !sameStrings(got, want) {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := len(e.requests()); n > 6 {
		t.Errorf("a new change took %d requests, want at most 6", n)
	}
	t.Logf("requests for a new change with labels and reviewers: %d", len(e.requests()))

	// The tree request carries inline contents and a null sha for the deletion: no blobs.
	var treeReq struct {
		BaseTree string                       `json:"base_tree"`
		Tree     []map[string]json.RawMessage `json:"tree"`
	}
	if err := json.Unmarshal(e.requests()[0].Body, &treeReq); err != nil {
		t.Fatal(err)
	}
	if treeReq.BaseTree != e.base.Tree || len(treeReq.Tree) != 3 {
		t.Errorf("tree request: base %s with %d entries", treeReq.BaseTree, len(treeReq.Tree))
	}
	if sha, ok := treeReq.Tree[1]["sha"]; !ok || string(sha) != "null" {
		t.Errorf("deletion entry %s lacks \"sha\": null", treeReq.Tree[1])
	}

	// One commit on the base, with exactly the change's files.
	tip, ok := e.gr.BranchSHA(cs.Branch)
	if !ok {
		t.Fatalf("branch %s missing", cs.Branch)
	}
	hist := e.gr.History(cs.Branch)
	if hist[0].SHA != tip || !sameStrings(hist[0].Parents, []string{e.base.Commit}) || hist[1].SHA != e.base.Commit {
		t.Errorf("branch history %+v is not one commit on %s", hist[:2], e.base.Commit)
	}
	if hist[0].Message != cs.CommitMessage {
		t.Errorf("commit message %q, want %q", hist[0].Message, cs.CommitMessage)
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
	case p.Head != cs.Branch || p.Base != "main" || p.HeadSHA != tip || p.Draft:
		t.Errorf("PR %s→%s at %s draft=%v", p.Head, p.Base, p.HeadSHA, p.Draft)
	case !sameStrings(p.Labels, []string{"daytwo", "env/prod", "action/scale"}):
		t.Errorf("labels %q", p.Labels)
	case !sameStrings(p.RequestedReviewers, []string{"alice"}) || !sameStrings(p.RequestedTeams, []string{"sre"}):
		t.Errorf("review requested from %q and teams %q", p.RequestedReviewers, p.RequestedTeams)
	case p.User != e.s.BotLogin():
		t.Errorf("PR opened by %s", p.User)
	}
	if pr.Reused || pr.HeadSHA != tip || pr.Branch != cs.Branch || pr.Body != cs.Body || !strings.HasSuffix(pr.URL, fmt.Sprintf("/acme/gitops/pull/%d", pr.Number)) {
		t.Errorf("returned %+v", pr)
	}
	if md, ok := plan.ParseMetadata(p.Body); !ok || md["action"] != "scale" {
		t.Errorf("metadata lost from the PR body: %v", md)
	}
}

func TestOpenChangeMinimalRequests(t *testing.T) {
	e := newChangeEnv(t)
	cs := e.changeSet(3)
	if _, err := e.repo.OpenChange(e.ctx, cs, ghapi.ChangeOptions{Base: e.base, Draft: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"POST " + e.repoPath("/git/trees"), "POST " + e.repoPath("/git/commits"), "POST " + e.repoPath("/git/refs"), "POST " + e.repoPath("/pulls")}
	if got := e.calls(); !sameStrings(got, want) {
		t.Errorf("without labels and reviewers: %q, want %q", got, want)
	}
	if p := e.openPulls(); len(p) != 1 || !p[0].Draft {
		t.Errorf("want one draft PR, have %+v", p)
	}
}

func TestOpenChangeRedelivery(t *testing.T) {
	e := newChangeEnv(t)
	cs := e.changeSet(5)
	first, err := e.repo.OpenChange(e.ctx, cs, fullOptions(e))
	if err != nil {
		t.Fatal(err)
	}
	tip, _ := e.gr.BranchSHA(cs.Branch)
	e.reset()

	again, err := e.repo.OpenChange(e.ctx, e.changeSet(5), fullOptions(e))
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if !again.Reused || again.Number != first.Number || again.HeadSHA != tip || again.URL != first.URL {
		t.Errorf("redelivery returned %+v, first %+v", again, first)
	}
	if n := len(e.gr.Pulls()); n != 1 {
		t.Errorf("%d pull requests after a redelivery", n)
	}
	if now, _ := e.gr.BranchSHA(cs.Branch); now != tip || len(e.gr.History(cs.Branch)) != 2 {
		t.Error("redelivery moved the branch or added a commit")
	}
	for _, c := range e.calls() {
		if strings.HasPrefix(c, "PATCH") || c == "POST "+e.repoPath("/pulls") || strings.Contains(c, "/labels") || strings.Contains(c, "requested_reviewers") {
			t.Errorf("redelivery wrote: %s (all: %q)", c, e.calls())
		}
	}
	if n := e.count("GET", e.repoPath("/pulls")); n != 1 {
		t.Errorf("redelivery looked the PR up %d times", n)
	}
	var q string
	for _, r := range e.requests() {
		if r.Method == "GET" && r.Path == e.repoPath("/pulls") {
			q = r.Query
		}
	}
	if !strings.Contains(q, "head=acme%3Adaytwo%2Fprod%2Fweb%2Fscale-0a1b2c3d") || !strings.Contains(q, "state=open") {
		t.Errorf("PR looked up with %q", q)
	}
}

func TestOpenChangeRedeliveryRestoresLostLabels(t *testing.T) {
	e := newChangeEnv(t)
	cs := e.changeSet(5)
	// An earlier attempt stopped right after opening the PR, before labelling it.
	if _, err := e.repo.OpenChange(e.ctx, cs, ghapi.ChangeOptions{Base: e.base}); err != nil {
		t.Fatal(err)
	}
	pr, err := e.repo.OpenChange(e.ctx, cs, fullOptions(e))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.gr.Pull(pr.Number)
	if !pr.Reused || !sameStrings(p.Labels, []string{"daytwo", "env/prod", "action/scale"}) {
		t.Errorf("reused=%v labels=%q", pr.Reused, p.Labels)
	}
}

func TestOpenChangeUpdatedPlan(t *testing.T) {
	e := newChangeEnv(t)
	first, err := e.repo.OpenChange(e.ctx, e.changeSet(5), fullOptions(e))
	if err != nil {
		t.Fatal(err)
	}
	oldTip, _ := e.gr.BranchSHA("daytwo/prod/web/scale-0a1b2c3d")

	cs := e.changeSet(7)
	cs.Files = cs.Files[:1] // the newer plan no longer deletes old-patch.yaml or adds NOTES.md
	pr, err := e.repo.OpenChange(e.ctx, cs, fullOptions(e))
	if err != nil {
		t.Fatalf("updated plan: %v", err)
	}
	tip, _ := e.gr.BranchSHA(cs.Branch)
	if tip == oldTip || pr.HeadSHA != tip || pr.Number != first.Number || !pr.Reused {
		t.Errorf("returned %+v (old tip %s, tip %s)", pr, oldTip, tip)
	}
	hist := e.gr.History(cs.Branch)
	if len(hist) != 2 || !sameStrings(hist[0].Parents, []string{e.base.Commit}) {
		t.Errorf("branch is not one commit on the base: %+v", hist)
	}
	if got := e.gr.Files(cs.Branch); !reflect.DeepEqual(got, expectedFiles(cs)) {
		t.Errorf("branch files after the update:\n%v\nwant:\n%v", got, expectedFiles(cs))
	}
	open := e.openPulls()
	if len(open) != 1 || open[0].Title != cs.Title || open[0].Body != cs.Body || open[0].HeadSHA != tip {
		t.Errorf("open PRs after the update: %+v", open)
	}
}

func TestOpenChangeRefusesToOverwriteSomeoneElsesCommit(t *testing.T) {
	e := newChangeEnv(t)
	cs := e.changeSet(5)
	if _, err := e.repo.OpenChange(e.ctx, cs, ghapi.ChangeOptions{Base: e.base}); err != nil {
		t.Fatal(err)
	}
	human := e.gr.Commit(cs.Branch, "tweak the replica count by hand", map[string]string{"apps/web/overlays/prod/extra.yaml": "x: 1\n"})
	_, err := e.repo.OpenChange(e.ctx, e.changeSet(9), ghapi.ChangeOptions{Base: e.base})
	if codeOf(err) != plan.Conflict || !strings.Contains(err.Error(), "not made by daytwo") {
		t.Fatalf("err = %v, want a conflict", err)
	}
	if tip, _ := e.gr.BranchSHA(cs.Branch); tip != human {
		t.Error("someone's commit was overwritten")
	}
}

func TestOpenChangeBranchWithoutOpenPR(t *testing.T) {
	e := newChangeEnv(t)
	cs := e.changeSet(5)
	first, err := e.repo.OpenChange(e.ctx, cs, ghapi.ChangeOptions{Base: e.base})
	if err != nil {
		t.Fatal(err)
	}
	// Closed by hand, the branch left behind.
	if _, _, err := e.repo.Client.PullRequests.Edit(e.ctx, "acme", "gitops", first.Number, &ghPull{State: strPtr("closed")}); err != nil {
		t.Fatal(err)
	}

	t.Run("same content", func(t *testing.T) {
		pr, err := e.repo.OpenChange(e.ctx, cs, fullOptions(e))
		if err != nil {
			t.Fatal(err)
		}
		if pr.Reused || pr.Number == first.Number || pr.HeadSHA != first.HeadSHA {
			t.Errorf("got %+v after %+v", pr, first)
		}
		p, _ := e.gr.Pull(pr.Number)
		if p.State != "open" || !sameStrings(p.Labels, []string{"daytwo", "env/prod", "action/scale"}) || !sameStrings(p.RequestedReviewers, []string{"alice"}) {
			t.Errorf("new PR %+v", p)
		}
		if _, _, err := e.repo.Client.PullRequests.Edit(e.ctx, "acme", "gitops", pr.Number, &ghPull{State: strPtr("closed")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("new content", func(t *testing.T) {
		cs := e.changeSet(8)
		pr, err := e.repo.OpenChange(e.ctx, cs, ghapi.ChangeOptions{Base: e.base})
		if err != nil {
			t.Fatal(err)
		}
		tip, _ := e.gr.BranchSHA(cs.Branch)
		if pr.Reused || pr.HeadSHA != tip || tip == first.HeadSHA {
			t.Errorf("got %+v, tip %s", pr, tip)
		}
		if got := e.gr.Files(cs.Branch); !reflect.DeepEqual(got, expectedFiles(cs)) {
			t.Errorf("files %v", got)
		}
	})
	if n := len(e.openPulls()); n != 1 {
		t.Errorf("%d open PRs", n)
	}
}

func TestOpenChangeFailureRemovesTheBranch(t *testing.T) {
	for _, tc := range []struct {
		name, method, pattern string
		wantClosedPR          bool
	}{
		{"pull request refused", "POST", "/repos/acme/gitops/pulls", false},
		{"labels refused", "POST", "/repos/acme/gitops/issues/*/labels", true},
		{"reviewers refused", "POST", "/repos/acme/gitops/pulls/*/requested_reviewers", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newChangeEnv(t)
			e.s.Fault(tc.method, tc.pattern, githubtest.Fault{Status: 500})
			cs := e.changeSet(5)
			pr, err := e.repo.OpenChange(e.ctx, cs, fullOptions(e))
			if err == nil {
				t.Fatalf("OpenChange succeeded with %s failing: %+v", tc.pattern, pr)
			}
			if e.hasBranch(cs.Branch) {
				t.Errorf("branch %s left behind after: %v", cs.Branch, err)
			}
			if n := e.count("DELETE", e.repoPath("/git/refs/heads/"+cs.Branch)); n != 1 {
				t.Errorf("%d branch deletions", n)
			}
			if open := e.openPulls(); len(open) != 0 {
				t.Errorf("open PR left behind: %+v", open)
			}
			if tc.wantClosedPR != (len(e.gr.Pulls()) == 1) {
				t.Errorf("PRs: %+v", e.gr.Pulls())
			}
			if !strings.Contains(err.Error(), "500") {
				t.Errorf("error %v does not say what GitHub answered", err)
			}
		})
	}
}

func TestOpenChangeRetriesTransientFailures(t *testing.T) {
	t.Run("502 once on the tree", func(t *testing.T) {
		e := newChangeEnv(t)
		e.s.Fault("POST", "/repos/acme/gitops/git/trees", githubtest.Fault{Status: 502, Times: 1})
		cs := e.changeSet(5)
		pr, err := e.repo.OpenChange(e.ctx, cs, fullOptions(e))
		if err != nil {
			t.Fatal(err)
		}
		reqs := e.requests()
		if len(reqs) < 2 || !reqs[0].Faulted || reqs[0].Status != 502 || reqs[1].Path != e.repoPath("/git/trees") || reqs[1].Status != 201 {
			t.Errorf("no transparent retry: %q", e.calls())
		}
		if n := e.count("POST", e.repoPath("/git/trees")); n != 2 {
			t.Errorf("%d tree requests, want 2", n)
		}
		if got := e.gr.Files(pr.Branch); !reflect.DeepEqual(got, expectedFiles(cs)) {
			t.Errorf("files %v", got)
		}
	})
	t.Run("429 with retry-after", func(t *testing.T) {
		e := newChangeEnv(t)
		e.s.Fault("POST", "/repos/acme/gitops/pulls", githubtest.Fault{Status: 429, Times: 1, Headers: map[string]string{"Retry-After": "1"}})
		start := time.Now()
		pr, err := e.repo.OpenChange(e.ctx, e.changeSet(5), fullOptions(e))
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("retried after %v, before retry-after", waited)
		}
		if n := e.count("POST", e.repoPath("/pulls")); n != 3 { // 429, 201, requested_reviewers
			t.Errorf("%d requests under /pulls: %q", n, e.calls())
		}
		if len(e.openPulls()) != 1 || pr.Number == 0 {
			t.Errorf("no PR after the wait")
		}
	})
	t.Run("secondary rate limit", func(t *testing.T) {
		e := newChangeEnv(t)
		e.s.Fault("POST", "/repos/acme/gitops/git/commits", githubtest.SecondaryRateLimit(time.Second, 1))
		if _, err := e.repo.OpenChange(e.ctx, e.changeSet(5), ghapi.ChangeOptions{Base: e.base}); err != nil {
			t.Fatal(err)
		}
		if n := e.count("POST", e.repoPath("/git/commits")); n != 2 {
			t.Errorf("%d commit requests", n)
		}
	})
}

func TestOpenChangeReviewerGitHubRefuses(t *testing.T) {
	e := newChangeEnv(t)
	opts := fullOptions(e)
	opts.Reviewers = []string{"alice", "mallory", "acme/sre", "@bob", "Alice", "other-org/team"}
	pr, err := e.repo.OpenChange(e.ctx, e.changeSet(5), opts)
	if err != nil {
		t.Fatalf("a reviewer GitHub refuses must not sink the change: %v", err)
	}
	p, _ := e.gr.Pull(pr.Number)
	if !sameStrings(p.RequestedReviewers, []string{"alice", "bob"}) || !sameStrings(p.RequestedTeams, []string{"sre"}) {
		t.Errorf("requested %q and teams %q", p.RequestedReviewers, p.RequestedTeams)
	}
	// The combined request, then one per reviewer (alice, mallory, bob, sre).
	if n := e.count("POST", e.repoPath(fmt.Sprintf("/pulls/%d/requested_reviewers", pr.Number))); n != 5 {
		t.Errorf("%d review requests", n)
	}
}

func TestOpenChangeBinaryFile(t *testing.T) {
	e := newChangeEnv(t)
	cs := e.changeSet(5)
	bin := []byte{0x89, 'P', 'N', 'G', 0xff, 0x00, 0xfe}
	cs.Files = append(cs.Files, plan.FileChange{Path: "docs/logo.png", Content: bin})
	if _, err := e.repo.OpenChange(e.ctx, cs, ghapi.ChangeOptions{Base: e.base}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.gr.File(cs.Branch, "docs/logo.png"); got != string(bin) {
		t.Errorf("binary file stored as %q", got)
	}
	if n := e.count("POST", e.repoPath("/git/blobs")); n != 1 {
		t.Errorf("%d blobs written, want 1 (text stays inline)", n)
	}
}

func TestOpenChangeRefusals(t *testing.T) {
	e := newChangeEnv(t)
	for _, tc := range []struct {
		name  string
		edit  func(*plan.ChangeSet, *ghapi.ChangeOptions)
		code  plan.Code
		wants string
	}{
		{"planned on another commit", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Base = strings.Repeat("a", 40) }, plan.Conflict, "plan it again"},
		{"no files", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Files = nil }, plan.NoChange, "no file"},
		{"bad branch", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Branch = "daytwo/../main" }, plan.Invalid, "not a valid branch"},
		{"branch with a space", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Branch = "daytwo/a b" }, plan.Invalid, "not a valid branch"},
		{"long branch", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Branch = "daytwo/" + strings.Repeat("x", 250) }, plan.Invalid, "255"},
		{"branch is the base", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Branch = "main" }, plan.Invalid, "its own base"},
		{"no title", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Title = " " }, plan.Invalid, "no title"},
		{"long title", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Title = strings.Repeat("é", 256) }, plan.Invalid, "title"},
		{"long body", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Body = strings.Repeat("x", 65537) }, plan.Invalid, "65536"},
		{"escaping path", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Files[0].Path = "../etc/passwd" }, plan.Invalid, "not a file path"},
		{"unclean path", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Files[0].Path = "./apps//x.yaml" }, plan.Invalid, "clean"},
		{"same path twice", func(cs *plan.ChangeSet, _ *ghapi.ChangeOptions) { cs.Files[1].Path = cs.Files[0].Path }, plan.Invalid, "twice"},
		{"bad reviewer", func(_ *plan.ChangeSet, o *ghapi.ChangeOptions) { o.Reviewers = []string{"not a login"} }, plan.Internal, "neither a GitHub login"},
		{"no base", func(_ *plan.ChangeSet, o *ghapi.ChangeOptions) { o.Base = ghapi.Head{} }, plan.Internal, "read it with Head"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.reset()
			cs, opts := e.changeSet(5), fullOptions(e)
			tc.edit(cs, &opts)
			_, err := e.repo.OpenChange(e.ctx, cs, opts)
			if err == nil || codeOf(err) != tc.code || !strings.Contains(err.Error(), tc.wants) {
				t.Errorf("err = %v (code %s), want code %s mentioning %q", err, codeOf(err), tc.code, tc.wants)
			}
			if calls := e.calls(); len(calls) > 0 {
				t.Errorf("refused change still called GitHub: %q", calls)
			}
		})
	}
	if _, err := e.repo.OpenChange(e.ctx, nil, fullOptions(e)); err == nil {
		t.Error("nil ChangeSet accepted")
	}
}

func TestOpenChangeNoChange(t *testing.T) {
	e := newChangeEnv(t)
	cs := e.changeSet(2) // the base already has 2 replicas
	cs.Files = cs.Files[:1]
	_, err := e.repo.OpenChange(e.ctx, cs, fullOptions(e))
	if codeOf(err) != plan.NoChange {
		t.Fatalf("err = %v, want no_change", err)
	}
	if got := e.calls(); !sameStrings(got, []string{"POST " + e.repoPath("/git/trees")}) {
		t.Errorf("requests %q: nothing but the tree should be written", got)
	}
}

func TestOpenChangeConcurrentDeliveries(t *testing.T) {
	for round := 0; round < 5; round++ {
		e := newChangeEnv(t)
		e.s.SetLatency(time.Duration(round) * time.Millisecond)
		var wg sync.WaitGroup
		prs := make([]*ghapi.PR, 3)
		errs := make([]error, 3)
		for i := range prs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				prs[i], errs[i] = e.repo.OpenChange(e.ctx, e.changeSet(5), fullOptions(e))
			}()
		}
		wg.Wait()
		for i := range prs {
			if errs[i] != nil {
				t.Fatalf("round %d delivery %d: %v", round, i, errs[i])
			}
			if prs[i].Number != prs[0].Number {
				t.Errorf("round %d: deliveries got PRs %d and %d", round, prs[0].Number, prs[i].Number)
			}
		}
		if len(e.gr.Pulls()) != 1 || !e.hasBranch("daytwo/prod/web/scale-0a1b2c3d") {
			t.Errorf("round %d: PRs %+v, branches %q", round, e.gr.Pulls(), e.gr.Branches())
		}
	}
}

// TestOpenChangeLosesThePullRequestRace orders two deliveries so that the one which
// created the branch is overtaken: the other opens the PR first, and the first must take
// that PR instead of failing and deleting the branch under it.
func TestOpenChangeLosesThePullRequestRace(t *testing.T) {
	e := newChangeEnv(t)
	// The first delivery's POST pulls is held long enough for the whole second delivery to
	// run, even on a loaded machine (300 ms was not).
	e.s.Fault("POST", "/repos/acme/gitops/pulls", githubtest.Fault{Delay: 3 * time.Second, Times: 1})
	type result struct {
		pr  *ghapi.PR
		err error
	}
	first := make(chan result, 1)
	go func() {
		pr, err := e.repo.OpenChange(e.ctx, e.changeSet(5), fullOptions(e))
		first <- result{pr, err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !e.hasBranch("daytwo/prod/web/scale-0a1b2c3d") {
		if time.Now().After(deadline) {
			t.Fatal("the first delivery never created its branch")
		}
		time.Sleep(time.Millisecond)
	}
	second, err := e.repo.OpenChange(e.ctx, e.changeSet(5), fullOptions(e))
	if err != nil {
		t.Fatalf("second delivery: %v", err)
	}
	r := <-first
	if r.err != nil {
		t.Fatalf("first delivery: %v", r.err)
	}
	if second.Reused || !r.pr.Reused || r.pr.Number != second.Number {
		t.Errorf("first %+v, second %+v", r.pr, second)
	}
	if len(e.gr.Pulls()) != 1 || !e.hasBranch("daytwo/prod/web/scale-0a1b2c3d") || e.count("DELETE", "/") != 0 {
		t.Errorf("PRs %+v, branches %q", e.gr.Pulls(), e.gr.Branches())
	}
}

// TestOpenChangeStacked opens a change on top of another open change's head, as the
// runner stacks a newer request on the open one: the PR goes into the base branch and
// carries both commits.
func TestOpenChangeStacked(t *testing.T) {
	e := newChangeEnv(t)
	first, err := e.repo.OpenChange(e.ctx, e.changeSet(5), ghapi.ChangeOptions{Base: e.base})
	if err != nil {
		t.Fatal(err)
	}
	top, err := e.repo.Head(e.ctx, first.Branch)
	if err != nil {
		t.Fatal(err)
	}
	base := ghapi.Head{Branch: "main", Commit: top.Commit, Tree: top.Tree}
	cs := &plan.ChangeSet{
		Base:          top.Commit,
		Files:         []plan.FileChange{{Path: "apps/web/overlays/prod/restart.yaml", Content: []byte("restartedAt: now\n")}},
		Branch:        "daytwo/prod/web/restart-99999999",
		Title:         "Restart web in prod",
		Body:          "Restarts web.",
		CommitMessage: "Restart web in prod\n\n" + plan.TrailerAction + ": restart\n",
	}
	pr, err := e.repo.OpenChange(e.ctx, cs, ghapi.ChangeOptions{Base: base})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.gr.Pull(pr.Number)
	hist := e.gr.History(cs.Branch)
	if p.Base != "main" || hist[1].SHA != first.HeadSHA || hist[2].SHA != e.base.Commit {
		t.Errorf("stacked PR into %s with history %+v", p.Base, hist)
	}
	want := expectedFiles(e.changeSet(5))
	want["apps/web/overlays/prod/restart.yaml"] = "restartedAt: now\n"
	if got := e.gr.Files(cs.Branch); !reflect.DeepEqual(got, want) {
		t.Errorf("stacked files %v", got)
	}
}

func TestOpenChangeOpenPRIntoAnotherBase(t *testing.T) {
	e := newChangeEnv(t)
	e.gr.Commit("release", "release branch", map[string]string{"r.txt": "r\n"})
	pr, err := e.repo.OpenChange(e.ctx, e.changeSet(5), ghapi.ChangeOptions{Base: e.base})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.repo.Client.PullRequests.Edit(e.ctx, "acme", "gitops", pr.Number, &ghPull{Base: &ghBranch{Ref: strPtr("release")}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.repo.OpenChange(e.ctx, e.changeSet(6), ghapi.ChangeOptions{Base: e.base})
	if codeOf(err) != plan.Conflict || !strings.Contains(err.Error(), "into `release` instead of `main`") {
		t.Errorf("err = %v", err)
	}
}
