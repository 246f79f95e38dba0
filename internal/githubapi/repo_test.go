package githubapi_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

func TestHead(t *testing.T) {
	e := newChangeEnv(t)
	h, err := e.repo.Head(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	tip, _ := e.gr.BranchSHA("main")
	c, _ := e.gr.GetCommit(tip)
	if h.Branch != "main" || h.Commit != tip || h.Tree != c.Tree {
		t.Errorf("Head() = %+v, want main at %s tree %s", h, tip, c.Tree)
	}
	if got := e.calls(); !sameStrings(got, []string{"GET /repos/acme/gitops", "GET /repos/acme/gitops/branches/main"}) {
		t.Errorf("default branch read with %q", got)
	}

	branch := "daytwo/prod/web/scale-0a1b2c3d"
	sha := e.gr.Commit(branch, "a change", map[string]string{"x.txt": "x\n"})
	e.reset()
	h, err = e.repo.Head(e.ctx, branch)
	if err != nil {
		t.Fatal(err)
	}
	c, _ = e.gr.GetCommit(sha)
	if h.Branch != branch || h.Commit != sha || h.Tree != c.Tree {
		t.Errorf("Head(%s) = %+v", branch, h)
	}
	if n := len(e.requests()); n != 1 {
		t.Errorf("a named branch took %d requests, want 1", n)
	}

	if _, err := e.repo.Head(e.ctx, "no-such-branch"); codeOf(err) != plan.NotFound || !strings.Contains(err.Error(), "no-such-branch") {
		t.Errorf("missing branch: %v", err)
	}
	missing := githubapi.Repo{Client: e.repo.Client, Owner: "acme", Name: "nope"}
	if _, err := missing.Head(e.ctx, ""); codeOf(err) != plan.NotFound {
		t.Errorf("missing repository: %v", err)
	}
	if e.repo.FullName() != "acme/gitops" {
		t.Errorf("FullName() = %q", e.repo.FullName())
	}
}

func TestPermission(t *testing.T) {
	e := newChangeEnv(t)
	for _, role := range []string{githubtest.RoleAdmin, githubtest.RoleMaintain, githubtest.RoleWrite, githubtest.RoleTriage, githubtest.RoleRead} {
		login := "user-" + role
		e.gr.SetPermission(login, role)
		got, err := e.repo.Permission(e.ctx, login)
		if err != nil || got != role {
			t.Errorf("Permission(%s) = %q, %v; want %q", login, got, err, role)
		}
	}
	e.s.AddUser("outsider")
	for _, login := range []string{"outsider", "never-seen-anywhere"} {
		if got, err := e.repo.Permission(e.ctx, login); err != nil || got != githubapi.RoleNone {
			t.Errorf("Permission(%s) = %q, %v; want none", login, got, err)
		}
	}
	e.gr.SetPermission("user-write", "")
	if got, _ := e.repo.Permission(e.ctx, "user-write"); got != githubapi.RoleNone {
		t.Errorf("removed collaborator has %q", got)
	}
	e.reset()
	for _, bad := range []string{"", "a/b", "x?y"} {
		if _, err := e.repo.Permission(e.ctx, bad); err == nil {
			t.Errorf("Permission(%q) accepted", bad)
		}
	}
	if len(e.requests()) != 0 {
		t.Error("a malformed login reached GitHub")
	}
	e.s.Fault("GET", "/repos/acme/gitops/collaborators/*/permission", githubtest.Fault{Status: 403})
	if _, err := e.repo.Permission(e.ctx, "user-admin"); err == nil {
		t.Error("a refused permission read is not an error")
	}
}

func TestTeamMember(t *testing.T) {
	e := newChangeEnv(t)
	e.s.AddTeamMember("acme", "sre", "dave", "maintainer", "active")
	e.s.AddTeamMember("acme", "sre", "erin", "member", "pending")
	e.s.AddUser("frank")
	for _, tc := range []struct {
		org, slug, login string
		want             bool
	}{
		{"acme", "sre", "carol", true},
		{"acme", "sre", "dave", true},
		{"acme", "sre", "erin", false}, // invitation not accepted
		{"acme", "sre", "frank", false},
		{"acme", "sre", "nobody-known", false},
		{"acme", "no-such-team", "carol", false},
		{"ACME", "SRE", "Carol", true},
	} {
		got, err := e.repo.TeamMember(e.ctx, tc.org, tc.slug, tc.login)
		if err != nil || got != tc.want {
			t.Errorf("TeamMember(%s/%s, %s) = %v, %v; want %v", tc.org, tc.slug, tc.login, got, err, tc.want)
		}
	}
	e.s.RemoveTeamMember("acme", "sre", "carol")
	if got, _ := e.repo.TeamMember(e.ctx, "acme", "sre", "carol"); got {
		t.Error("a removed member is still a member")
	}
	if _, err := e.repo.TeamMember(e.ctx, "acme", "", "carol"); err == nil {
		t.Error("empty slug accepted")
	}
	e.s.Fault("GET", "/orgs/acme/teams/*/memberships/*", githubtest.Fault{Status: 403})
	if _, err := e.repo.TeamMember(e.ctx, "acme", "sre", "dave"); err == nil || !strings.Contains(err.Error(), "Members (read)") {
		t.Errorf("403 answered %v, want a hint about the app's permission", err)
	}
}

func TestCheck(t *testing.T) {
	e := newChangeEnv(t)
	sha, _ := e.gr.BranchSHA("main")
	summary := strings.Repeat("rendered diff line\n", 5000) // 95,000 bytes
	if err := e.repo.Check(e.ctx, sha, "daytwo/render", "success", "The change renders", summary); err != nil {
		t.Fatal(err)
	}
	runs := e.gr.CheckRuns(sha)
	if len(runs) != 1 {
		t.Fatalf("%d check runs", len(runs))
	}
	r := runs[0]
	if r.Name != "daytwo/render" || r.Status != "completed" || r.Conclusion != "success" || r.Title != "The change renders" {
		t.Errorf("check run %+v", r)
	}
	if len(r.Summary) > githubapi.MaxCheckSummary || !strings.HasPrefix(r.Summary, "rendered diff line\n") || !strings.Contains(r.Summary, "truncated") {
		t.Errorf("summary of %d bytes not cut to the limit with a note", len(r.Summary))
	}
	if err := e.repo.Check(e.ctx, sha, "daytwo/render", "failure", "", ""); err != nil {
		t.Errorf("empty title and summary: %v", err)
	}
	e.reset()
	if err := e.repo.Check(e.ctx, sha, "daytwo/render", "passed", "t", "s"); err == nil || !strings.Contains(err.Error(), "conclusion") {
		t.Errorf("bad conclusion: %v", err)
	}
	if len(e.requests()) != 0 {
		t.Error("a bad conclusion reached GitHub")
	}
	if err := e.repo.Check(e.ctx, strings.Repeat("0", 40), "daytwo/render", "success", "t", "s"); err == nil {
		t.Error("a check on a missing commit succeeded")
	}
}

func TestOpenIssue(t *testing.T) {
	e := newChangeEnv(t)
	n, url, err := e.repo.OpenIssue(e.ctx, "Break-glass review: scale web in prod", "Review #1 after the fact.", []string{"daytwo", "break-glass"})
	if err != nil {
		t.Fatal(err)
	}
	is, ok := e.gr.Issue(n)
	if !ok || is.Title != "Break-glass review: scale web in prod" || is.Body != "Review #1 after the fact." || !sameStrings(is.Labels, []string{"daytwo", "break-glass"}) || is.User != e.s.BotLogin() {
		t.Errorf("issue %+v", is)
	}
	if !strings.HasSuffix(url, fmt.Sprintf("/acme/gitops/issues/%d", n)) {
		t.Errorf("url %q", url)
	}
	if _, _, err := e.repo.OpenIssue(e.ctx, "  ", "body", nil); err == nil {
		t.Error("an untitled issue was opened")
	}
}

func TestOpenChanges(t *testing.T) {
	e := newChangeEnv(t)
	e.gr.Commit("release", "release branch", map[string]string{"r.txt": "r\n"})
	const n = 105
	for i := 0; i < n; i++ {
		b := fmt.Sprintf("daytwo/prod/web/scale-%03d", i)
		e.gr.Commit(b, "change", map[string]string{fmt.Sprintf("f%03d.txt", i): "x\n"})
		e.gr.OpenPull("alice", b, "main", "change "+b, "body")
	}
	for _, other := range []struct{ branch, base string }{
		{"daytwo/staging/web/scale-1", "main"},   // another env
		{"daytwo/prod/webshop/scale-1", "main"},  // a service whose name starts alike
		{"feature/prod-web", "main"},             // someone's branch
		{"daytwo/prod/web/scale-rel", "release"}, // into another base
	} {
		e.gr.Commit(other.branch, "other", map[string]string{"o.txt": other.branch})
		e.gr.OpenPull("alice", other.branch, other.base, "other", "")
	}
	closed := e.gr.OpenPull("alice", "daytwo/prod/web/scale-000", "release", "closed", "")
	if _, _, err := e.repo.Client.PullRequests.Edit(e.ctx, "acme", "gitops", closed, &ghPull{State: strPtr("closed")}); err != nil {
		t.Fatal(err)
	}
	e.reset()

	prs, err := e.repo.OpenChanges(e.ctx, "main", "daytwo/prod/web/")
	if err != nil {
		t.Fatal(err)
	}
	if len(prs) != n {
		t.Fatalf("%d open changes, want %d", len(prs), n)
	}
	for i, pr := range prs {
		wantBranch := fmt.Sprintf("daytwo/prod/web/scale-%03d", i)
		sha, _ := e.gr.BranchSHA(wantBranch)
		if pr.Branch != wantBranch || pr.HeadSHA != sha || pr.Body != "body" || pr.Fresh || !strings.HasSuffix(pr.URL, fmt.Sprintf("/pull/%d", pr.Number)) {
			t.Errorf("change %d: %+v", i, pr)
		}
		if i > 0 && pr.Number <= prs[i-1].Number {
			t.Errorf("not oldest first at %d", i)
		}
	}
	if got := e.count("GET", e.repoPath("/pulls")); got != 2 {
		t.Errorf("%d list requests for %d PRs, want 2 pages of 100", got, n+4)
	}
	for _, r := range e.requests() {
		if !strings.Contains(r.Query, "per_page=100") || !strings.Contains(r.Query, "base=main") || !strings.Contains(r.Query, "state=open") {
			t.Errorf("listed with %q", r.Query)
		}
	}

	none, err := e.repo.OpenChanges(e.ctx, "main", "daytwo/dev/")
	if err != nil || len(none) != 0 {
		t.Errorf("no matches: %v, %v", none, err)
	}
	e.s.Fault("GET", "/repos/acme/gitops/pulls", githubtest.Fault{Status: 500})
	if _, err := e.repo.OpenChanges(e.ctx, "main", "daytwo/"); err == nil {
		t.Error("a failing list is not an error")
	}
}

func TestCloseChange(t *testing.T) {
	e := newGQLEnv(t)
	pr, err := e.create(e.changeSet(5), githubapi.ChangeOptions{Base: e.base})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.repo.CloseChange(e.ctx, *pr, "Cancelled by @alice."); err != nil {
		t.Fatal(err)
	}
	p, _ := e.gr.Pull(pr.Number)
	if p.State != "closed" || p.Merged {
		t.Errorf("PR %+v", p)
	}
	if cs := e.gr.Comments(pr.Number); len(cs) != 1 || cs[0].Body != "Cancelled by @alice." || cs[0].User != e.s.BotLogin() {
		t.Errorf("comments %+v", cs)
	}
	if e.hasBranch(pr.Branch) {
		t.Error("branch not deleted")
	}
	// Closing again: the branch is gone already, which is fine; no comment without text.
	if err := e.repo.CloseChange(e.ctx, *pr, ""); err != nil {
		t.Errorf("closing a closed change: %v", err)
	}
	if len(e.gr.Comments(pr.Number)) != 1 {
		t.Error("an empty comment was posted")
	}
	if err := e.repo.CloseChange(e.ctx, githubapi.PR{}, "x"); err == nil {
		t.Error("closing PR 0 succeeded")
	}
	e.s.Fault("DELETE", "/repos/acme/gitops/git/refs/...", githubtest.Fault{Status: 403})
	other, err := e.create(e.changeSet(6), githubapi.ChangeOptions{Base: e.base})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.repo.CloseChange(e.ctx, *other, ""); err == nil {
		t.Error("a refused branch deletion is not reported")
	}
}

func TestMerge(t *testing.T) {
	e := newGQLEnv(t)
	cs := e.changeSet(5)
	pr, err := e.create(cs, githubapi.ChangeOptions{Base: e.base})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := e.repo.MergeState(e.ctx, pr.Number)
	if err != nil {
		t.Fatal(err)
	}
	if ms.Mergeable == nil || !*ms.Mergeable || ms.State != "clean" || ms.HeadSHA != pr.HeadSHA || ms.Merged || ms.MergeCommit != "" {
		t.Fatalf("MergeState = %+v", ms)
	}
	sha, err := e.repo.Merge(e.ctx, pr.Number, ms.HeadSHA, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	tip, _ := e.gr.BranchSHA("main")
	c, _ := e.gr.GetCommit(tip)
	if sha != tip || !sameStrings(c.Parents, []string{e.base.Commit}) {
		t.Errorf("merge commit %s, main at %s with parents %q: not a squash onto the base", sha, tip, c.Parents)
	}
	if got := e.gr.Files("main"); fmt.Sprint(got) != fmt.Sprint(expectedFiles(cs)) {
		t.Errorf("main after the merge: %v", got)
	}
	ms, err = e.repo.MergeState(e.ctx, pr.Number)
	if err != nil || !ms.Merged || ms.MergeCommit != sha {
		t.Errorf("after merging: %+v, %v", ms, err)
	}
	// Merging again with the same head: the first merge's commit, as after a retried PUT.
	if again, err := e.repo.Merge(e.ctx, pr.Number, pr.HeadSHA, "squash", "", ""); err != nil || again != sha {
		t.Errorf("merging a merged PR at the same head: %s, %v", again, err)
	}
	if _, err := e.repo.MergeState(e.ctx, 999); codeOf(err) != plan.NotFound {
		t.Errorf("MergeState(999): %v", err)
	}
}

func TestMergeRefusals(t *testing.T) {
	e := newGQLEnv(t)
	e.base, _ = e.repo.Head(e.ctx, "")
	pr, err := e.create(e.changeSet(5), githubapi.ChangeOptions{Base: e.base})
	if err != nil {
		t.Fatal(err)
	}
	checked := pr.HeadSHA
	pushed := e.gr.Commit(pr.Branch, "pushed after the check", map[string]string{"late.txt": "late\n"})

	_, err = e.repo.Merge(e.ctx, pr.Number, checked, "squash", "", "")
	if codeOf(err) != plan.Conflict || !strings.Contains(err.Error(), "changed after it was checked") {
		t.Errorf("stale head: %v", err)
	}
	if p, _ := e.gr.Pull(pr.Number); p.Merged {
		t.Fatal("merged a head nobody checked")
	}

	e.gr.Protect("main", githubtest.Protection{RequiredApprovals: 1})
	ms, err := e.repo.MergeState(e.ctx, pr.Number)
	if err != nil || ms.State != "blocked" || ms.HeadSHA != pushed {
		t.Fatalf("protected: %+v, %v", ms, err)
	}
	_, err = e.repo.Merge(e.ctx, pr.Number, pushed, "squash", "", "")
	if codeOf(err) != plan.Forbidden || !strings.Contains(err.Error(), "approving review") {
		t.Errorf("unapproved: %v", err)
	}
	e.gr.SubmitReview(pr.Number, "alice", "APPROVED", "")
	if ms, _ := e.repo.MergeState(e.ctx, pr.Number); ms.State != "clean" {
		t.Errorf("approved: %+v", ms)
	}
	sha, err := e.repo.Merge(e.ctx, pr.Number, pushed, "merge", "Scale web (#1)", "")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := e.gr.GetCommit(sha); len(c.Parents) != 2 || !strings.HasPrefix(c.Message, "Scale web (#1)") {
		t.Errorf("merge commit %+v", c)
	}

	for _, tc := range []struct{ sha, method string }{{"", "squash"}, {pushed, "octopus"}} {
		if _, err := e.repo.Merge(e.ctx, pr.Number, tc.sha, tc.method, "", ""); err == nil {
			t.Errorf("Merge(sha %q, method %q) accepted", tc.sha, tc.method)
		}
	}
	if _, err := e.repo.Merge(e.ctx, 999, pushed, "", "", ""); codeOf(err) != plan.NotFound {
		t.Errorf("Merge(999): %v", err)
	}
}

func TestReadCodeOwners(t *testing.T) {
	e := newChangeEnv(t)
	snapAt := func() plan.Snapshot {
		t.Helper()
		s, err := githubapi.OpenSnapshot(e.ctx, e.repo.Client, "acme", "gitops", "main")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	o, err := githubapi.ReadCodeOwners(e.ctx, snapAt())
	if o != nil || err != nil {
		t.Fatalf("no CODEOWNERS: %v, %v", o, err)
	}

	e.gr.Commit("main", "owners", map[string]string{
		"docs/CODEOWNERS": "* @docs-owner\n",
		"CODEOWNERS":      "* @acme/platform\n/apps/web/overlays/prod/ @acme/sre @alice ops@acme.io\n",
	})
	o, err = githubapi.ReadCodeOwners(e.ctx, snapAt())
	if err != nil {
		t.Fatal(err)
	}
	if got := o.For("apps/web/overlays/prod/kustomization.yaml", "README.md"); !sameStrings(got, []string{"acme/sre", "alice", "acme/platform"}) {
		t.Errorf("root CODEOWNERS: %q", got)
	}

	e.gr.Commit("main", "owners in .github", map[string]string{".github/CODEOWNERS": "# first found wins\n* @bob\n"})
	o, err = githubapi.ReadCodeOwners(e.ctx, snapAt())
	if err != nil {
		t.Fatal(err)
	}
	if got := o.For("apps/web/overlays/prod/kustomization.yaml"); !sameStrings(got, []string{"bob"}) {
		t.Errorf(".github/CODEOWNERS must take precedence: %q", got)
	}

	if _, err := githubapi.ReadCodeOwners(e.ctx, failingSnapshot{}); err == nil || !strings.Contains(err.Error(), ".github/CODEOWNERS") {
		t.Errorf("a read failure is hidden: %v", err)
	}
	if _, err := githubapi.ReadCodeOwners(e.ctx, sizedSnapshot(4<<20)); err == nil {
		t.Error("a CODEOWNERS over GitHub's limit was used")
	}
}

type failingSnapshot struct{}

func (failingSnapshot) Commit() string { return strings.Repeat("f", 40) }
func (failingSnapshot) ReadFile(context.Context, string) ([]byte, error) {
	return nil, errors.New("GitHub answered 502")
}
func (failingSnapshot) ReadDir(context.Context, string) ([]string, error) { return nil, fs.ErrNotExist }

type sizedSnapshot int

func (sizedSnapshot) Commit() string { return strings.Repeat("5", 40) }
func (s sizedSnapshot) ReadFile(_ context.Context, p string) ([]byte, error) {
	if p != "CODEOWNERS" {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return []byte(strings.Repeat("# x\n", int(s)/4)), nil
}
func (sizedSnapshot) ReadDir(context.Context, string) ([]string, error) { return nil, fs.ErrNotExist }

// TestAnswersTheFakeDoesNotMake feeds recorded-shape answers GitHub gives but the fake
// never produces: custom repository roles, a mergeability still being computed, and
// pull requests from forks.
func TestAnswersTheFakeDoesNotMake(t *testing.T) {
	e := newChangeEnv(t)
	answer := func(method, path, body string) {
		e.s.Fault(method, path, githubtest.Fault{Status: 200, Times: 1, Body: body, Headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}})
	}

	for _, tc := range []struct{ body, want string }{
		{`{"permission":"write","role_name":"deployer"}`, "write"}, // custom role based on write
		{`{"permission":"read","role_name":"auditor"}`, "read"},    // custom role based on read
		{`{"permission":"admin"}`, "admin"},                        // no role_name (older servers)
		{`{"permission":"none","role_name":"none"}`, "none"},
		{`{"permission":"superuser","role_name":"superuser"}`, "none"}, // unknown: no access assumed
	} {
		answer("GET", "/repos/acme/gitops/collaborators/*/permission", tc.body)
		if got, err := e.repo.Permission(e.ctx, "someone"); err != nil || got != tc.want {
			t.Errorf("%s: Permission = %q, %v; want %q", tc.body, got, err, tc.want)
		}
	}

	answer("GET", "/repos/acme/gitops/pulls/7", `{"number":7,"state":"open","mergeable":null,"mergeable_state":"unknown","merged":false,"head":{"ref":"daytwo/x","sha":"abc"}}`)
	ms, err := e.repo.MergeState(e.ctx, 7)
	if err != nil || ms.Mergeable != nil || ms.State != "unknown" || ms.HeadSHA != "abc" {
		t.Errorf("mergeability being computed: %+v, %v", ms, err)
	}

	answer("GET", "/repos/acme/gitops/pulls", `[
		{"number":3,"html_url":"https://github.example/acme/gitops/pull/3","head":{"ref":"daytwo/prod/web/scale-1","sha":"111","repo":{"full_name":"mallory/gitops"}}},
		{"number":2,"html_url":"https://github.example/acme/gitops/pull/2","head":{"ref":"daytwo/prod/web/scale-2","sha":"222","repo":{"full_name":"ACME/gitops"}}},
		{"number":1,"html_url":"https://github.example/acme/gitops/pull/1","head":{"ref":"daytwo/prod/web/scale-3","sha":"333","repo":null}}
	]`)
	prs, err := e.repo.OpenChanges(e.ctx, "main", "daytwo/prod/web/")
	if err != nil || len(prs) != 1 || prs[0].Number != 2 || prs[0].HeadSHA != "222" {
		t.Errorf("forks must not count: %+v, %v", prs, err)
	}
}
