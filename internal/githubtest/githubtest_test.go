package githubtest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// installationClient returns a real go-github client made by go-githubapp, which signs an
// app JWT and exchanges it for an installation token against the fake.
func installationClient(t *testing.T, s *githubtest.Server, installation int64) *github.Client {
	t.Helper()
	cc := githubapp.NewClientCreator(s.V3URL(), s.V4URL(), s.AppID(), s.PrivateKeyPEM())
	client, err := cc.NewInstallationClient(installation)
	if err != nil {
		t.Fatalf("NewInstallationClient: %v", err)
	}
	return client
}

// setup creates acme/gitops with a few files and an installation covering it.
func setup(t *testing.T, opts ...githubtest.Option) (*githubtest.Server, *githubtest.Repo, *github.Client) {
	t.Helper()
	s := githubtest.New(t, opts...)
	repo := s.CreateRepo("acme", "gitops")
	repo.Commit("main", "initial layout", map[string]string{
		"README.md": "# gitops\n",
		"apps/web/overlays/staging/kustomization.yaml": "resources:\n- ../../base\nimages:\n- name: web\n  newTag: v1.0.0\n",
		"apps/web/overlays/prod/kustomization.yaml":    "resources:\n- ../../base\nimages:\n- name: web\n  newTag: v0.9.0\n",
		"apps/web/base/deployment.yaml":                "kind: Deployment\n",
	})
	id := s.Install("acme")
	return s, repo, installationClient(t, s, id)
}

func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

func messageOf(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Message
	}
	return ""
}

func TestChangeAsBranchCommitAndPullRequest(t *testing.T) {
	s, repo, gh := setup(t)
	ctx := context.Background()

	branch, _, err := gh.Repositories.GetBranch(ctx, "acme", "gitops", "main", 0)
	if err != nil {
		t.Fatalf("GetBranch: %v", err)
	}
	mainSHA := branch.GetCommit().GetSHA()
	baseTree := branch.GetCommit().GetCommit().GetTree().GetSHA()
	if mainSHA == "" || baseTree == "" {
		t.Fatalf("branch without commit or tree: %+v", branch)
	}

	tree, _, err := gh.Git.CreateTree(ctx, "acme", "gitops", baseTree, []*github.TreeEntry{
		{Path: github.String("apps/web/overlays/prod/kustomization.yaml"), Mode: github.String("100644"), Type: github.String("blob"),
			Content: github.String("resources:\n- ../../base\nimages:\n- name: web\n  newTag: v1.0.0\n")},
		{Path: github.String("apps/web/overlays/prod/NOTES.md"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("promoted\n")},
		{Path: github.String("README.md"), Mode: github.String("100644"), Type: github.String("blob")}, // sha: null deletes
	})
	if err != nil {
		t.Fatalf("CreateTree: %v", err)
	}
	commit, _, err := gh.Git.CreateCommit(ctx, "acme", "gitops", &github.Commit{
		Message: github.String("Promote web to prod"),
		Tree:    &github.Tree{SHA: tree.SHA},
		Parents: []*github.Commit{{SHA: github.String(mainSHA)}},
	}, nil)
	if err != nil {
		t.Fatalf("CreateCommit: %v", err)
	}
	if got := commit.GetAuthor().GetName(); got != s.BotLogin() {
		t.Errorf("default author = %q, want the app's bot %q", got, s.BotLogin())
	}
	ref := &github.Reference{Ref: github.String("refs/heads/daytwo/promote-web-prod"), Object: &github.GitObject{SHA: commit.SHA}}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "gitops", ref); err != nil {
		t.Fatalf("CreateRef: %v", err)
	}
	_, _, err = gh.Git.CreateRef(ctx, "acme", "gitops", ref)
	if statusOf(err) != http.StatusUnprocessableEntity || messageOf(err) != "Reference already exists" {
		t.Fatalf("second CreateRef: err = %v, want 422 Reference already exists", err)
	}

	pr, _, err := gh.PullRequests.Create(ctx, "acme", "gitops", &github.NewPullRequest{
		Title: github.String("Promote web to prod"), Head: github.String("daytwo/promote-web-prod"), Base: github.String("main"), Body: github.String("body"),
	})
	if err != nil {
		t.Fatalf("PullRequests.Create: %v", err)
	}
	_, _, err = gh.PullRequests.Create(ctx, "acme", "gitops", &github.NewPullRequest{
		Title: github.String("again"), Head: github.String("acme:daytwo/promote-web-prod"), Base: github.String("main"),
	})
	if statusOf(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "A pull request already exists for acme:daytwo/promote-web-prod") {
		t.Fatalf("duplicate PR: err = %v, want 422 already exists", err)
	}

	found, _, err := gh.PullRequests.List(ctx, "acme", "gitops", &github.PullRequestListOptions{Head: "acme:daytwo/promote-web-prod", State: "open"})
	if err != nil || len(found) != 1 || found[0].GetNumber() != pr.GetNumber() {
		t.Fatalf("List by head = %v, %v; want PR #%d", found, err, pr.GetNumber())
	}
	if others, _, _ := gh.PullRequests.List(ctx, "acme", "gitops", &github.PullRequestListOptions{Head: "acme:other", State: "all"}); len(others) != 0 {
		t.Fatalf("List by another head found %d PRs", len(others))
	}

	got, _, err := gh.PullRequests.Get(ctx, "acme", "gitops", pr.GetNumber())
	if err != nil {
		t.Fatalf("PullRequests.Get: %v", err)
	}
	if !got.GetMergeable() || got.GetMergeableState() != "clean" || got.GetHead().GetSHA() != commit.GetSHA() || got.GetBase().GetRef() != "main" ||
		got.GetUser().GetLogin() != s.BotLogin() || !strings.HasSuffix(got.GetHTMLURL(), "/acme/gitops/pull/1") || got.GetChangedFiles() != 3 {
		t.Fatalf("PR = mergeable %v state %q head %q base %q user %q html %q files %d", got.GetMergeable(), got.GetMergeableState(),
			got.GetHead().GetSHA(), got.GetBase().GetRef(), got.GetUser().GetLogin(), got.GetHTMLURL(), got.GetChangedFiles())
	}

	res, _, err := gh.PullRequests.Merge(ctx, "acme", "gitops", pr.GetNumber(), "", &github.PullRequestOptions{SHA: commit.GetSHA()})
	if err != nil || !res.GetMerged() {
		t.Fatalf("Merge = %v, %v", res, err)
	}
	mc, _, err := gh.Git.GetCommit(ctx, "acme", "gitops", res.GetSHA())
	if err != nil {
		t.Fatalf("GetCommit(merge): %v", err)
	}
	if len(mc.Parents) != 2 || mc.Parents[0].GetSHA() != mainSHA || mc.Parents[1].GetSHA() != commit.GetSHA() {
		t.Fatalf("merge commit parents = %v", mc.Parents)
	}
	if mc.GetTree().GetSHA() != tree.GetSHA() {
		t.Fatalf("merge commit tree = %s, want the PR head tree %s", mc.GetTree().GetSHA(), tree.GetSHA())
	}
	if sha, _ := repo.BranchSHA("main"); sha != res.GetSHA() {
		t.Fatalf("main = %s, want merge commit %s", sha, res.GetSHA())
	}
	if content, _ := repo.File("main", "apps/web/overlays/prod/kustomization.yaml"); !strings.Contains(content, "newTag: v1.0.0") {
		t.Fatalf("prod overlay after merge = %q", content)
	}
	if _, ok := repo.File("main", "README.md"); ok {
		t.Fatal("README.md should be deleted by sha: null")
	}
	p, _ := repo.Pull(pr.GetNumber())
	if !p.Merged || p.State != "closed" || p.MergeCommitSHA != res.GetSHA() {
		t.Fatalf("pull after merge = %+v", p)
	}
	if _, _, err := gh.PullRequests.Merge(ctx, "acme", "gitops", pr.GetNumber(), "", nil); statusOf(err) != http.StatusMethodNotAllowed {
		t.Fatalf("merging twice: err = %v, want 405", err)
	}

	fc, _, _, err := gh.Repositories.GetContents(ctx, "acme", "gitops", "apps/web/overlays/prod/NOTES.md", &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil {
		t.Fatalf("GetContents: %v", err)
	}
	if text, _ := fc.GetContent(); text != "promoted\n" {
		t.Fatalf("GetContents = %q", text)
	}
	_, dir, _, err := gh.Repositories.GetContents(ctx, "acme", "gitops", "apps/web/overlays", nil)
	if err != nil || len(dir) != 2 || dir[0].GetName() != "prod" || dir[0].GetType() != "dir" {
		t.Fatalf("GetContents(dir) = %v, %v", dir, err)
	}
	if _, _, _, err := gh.Repositories.GetContents(ctx, "acme", "gitops", "missing.yaml", nil); statusOf(err) != http.StatusNotFound {
		t.Fatalf("GetContents(missing) err = %v, want 404", err)
	}

	history := repo.History("main")
	if len(history) != 2 || history[0].SHA != res.GetSHA() {
		t.Fatalf("history = %+v", history)
	}
	if !strings.HasPrefix(history[0].Message, "Merge pull request #1 from acme/daytwo/promote-web-prod") {
		t.Fatalf("merge message = %q", history[0].Message)
	}
}

func TestUpdateRefRefusesNonFastForward(t *testing.T) {
	s, repo, gh := setup(t)
	ctx := context.Background()
	base, _ := repo.BranchSHA("main")
	feature := repo.Commit("feature", "feature work", map[string]string{"f.txt": "1\n"})
	// main moves on independently: feature is no longer a descendant of main.
	other := repo.Commit("other", "other work", map[string]string{"o.txt": "1\n"})
	if _, ok := repo.GetCommit(other); !ok || base == "" {
		t.Fatal("seed commits missing")
	}

	ref := &github.Reference{Ref: github.String("heads/feature"), Object: &github.GitObject{SHA: github.String(other)}}
	_, _, err := gh.Git.UpdateRef(ctx, "acme", "gitops", ref, false)
	if statusOf(err) != http.StatusUnprocessableEntity || messageOf(err) != "Update is not a fast forward" {
		t.Fatalf("non-fast-forward UpdateRef: err = %v", err)
	}
	if sha, _ := repo.BranchSHA("feature"); sha != feature {
		t.Fatalf("refused update moved the ref to %s", sha)
	}
	if _, _, err := gh.Git.UpdateRef(ctx, "acme", "gitops", ref, true); err != nil {
		t.Fatalf("forced UpdateRef: %v", err)
	}
	if sha, _ := repo.BranchSHA("feature"); sha != other {
		t.Fatalf("forced update left the ref at %s", sha)
	}
	// Fast-forward without force.
	next := repo.Commit("other", "more", map[string]string{"o.txt": "2\n"})
	ref.Object.SHA = github.String(next)
	if _, _, err := gh.Git.UpdateRef(ctx, "acme", "gitops", ref, false); err != nil {
		t.Fatalf("fast-forward UpdateRef: %v", err)
	}
	missing := &github.Reference{Ref: github.String("heads/nope"), Object: &github.GitObject{SHA: github.String(next)}}
	if _, _, err := gh.Git.UpdateRef(ctx, "acme", "gitops", missing, false); statusOf(err) != http.StatusUnprocessableEntity {
		t.Fatalf("UpdateRef(missing) err = %v, want 422", err)
	}
	if _, err := gh.Git.DeleteRef(ctx, "acme", "gitops", "heads/feature"); err != nil {
		t.Fatalf("DeleteRef: %v", err)
	}
	if _, _, err := gh.Git.GetRef(ctx, "acme", "gitops", "heads/feature"); statusOf(err) != http.StatusNotFound {
		t.Fatalf("GetRef(deleted) err = %v, want 404", err)
	}
	if n := s.CountRequests("PATCH", "/repos/acme/gitops/git/refs/heads/"); n != 4 {
		t.Fatalf("logged %d PATCH ref requests, want 4", n)
	}
}

func TestConcurrentFastForwardsCompareAndSwap(t *testing.T) {
	_, repo, gh := setup(t)
	ctx := context.Background()
	base, _ := repo.BranchSHA("main")
	baseCommit, _ := repo.GetCommit(base)
	const writers = 8
	shas := make([]string, writers)
	for i := range shas {
		c, _, err := gh.Git.CreateCommit(ctx, "acme", "gitops", &github.Commit{
			Message: github.String("writer " + string(rune('a'+i))), Tree: &github.Tree{SHA: github.String(baseCommit.Tree)},
			Parents: []*github.Commit{{SHA: github.String(base)}},
		}, nil)
		if err != nil {
			t.Fatalf("CreateCommit: %v", err)
		}
		shas[i] = c.GetSHA()
	}
	errs := make(chan error, writers)
	for _, sha := range shas {
		go func(sha string) {
			_, _, err := gh.Git.UpdateRef(ctx, "acme", "gitops", &github.Reference{Ref: github.String("heads/main"), Object: &github.GitObject{SHA: github.String(sha)}}, false)
			errs <- err
		}(sha)
	}
	won := 0
	for range shas {
		err := <-errs
		switch {
		case err == nil:
			won++
		case statusOf(err) != http.StatusUnprocessableEntity:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent fast-forwards from the same base succeeded, want exactly 1", won)
	}
}

func TestMergeRespectsConflictsAndProtection(t *testing.T) {
	_, repo, gh := setup(t)
	ctx := context.Background()
	repo.SetPermission("alice", githubtest.RoleWrite)
	repo.SetPermission("bob", githubtest.RoleTriage)
	repo.Protect("main", githubtest.Protection{RequiredApprovals: 1, RequiredChecks: []string{"render"}})

	repo.Commit("change", "change prod", map[string]string{"apps/web/overlays/prod/kustomization.yaml": "prod: v2\n"})
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "gitops", &github.NewPullRequest{Title: github.String("t"), Head: github.String("change"), Base: github.String("main")})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	n := pr.GetNumber()
	if pr.GetMergeableState() != "blocked" {
		t.Fatalf("mergeable_state = %q, want blocked", pr.GetMergeableState())
	}
	if _, _, err := gh.PullRequests.Merge(ctx, "acme", "gitops", n, "", nil); statusOf(err) != http.StatusMethodNotAllowed {
		t.Fatalf("merge of blocked PR: err = %v, want 405", err)
	}
	repo.SubmitReview(n, "bob", "APPROVED", "") // triage cannot satisfy the rule
	repo.SetStatus("change", "render", "success")
	if got, _, _ := gh.PullRequests.Get(ctx, "acme", "gitops", n); got.GetMergeableState() != "blocked" {
		t.Fatalf("after a triage approval mergeable_state = %q, want blocked", got.GetMergeableState())
	}
	repo.SubmitReview(n, "alice", "APPROVED", "")
	if got, _, _ := gh.PullRequests.Get(ctx, "acme", "gitops", n); got.GetMergeableState() != "clean" {
		t.Fatalf("after approval and check mergeable_state = %q, want clean", got.GetMergeableState())
	}

	// main changes the same file differently: the PR now conflicts.
	repo.Commit("main", "hotfix prod", map[string]string{"apps/web/overlays/prod/kustomization.yaml": "prod: hotfix\n"})
	got, _, _ := gh.PullRequests.Get(ctx, "acme", "gitops", n)
	if got.GetMergeable() || got.GetMergeableState() != "dirty" || got.MergeCommitSHA != nil {
		t.Fatalf("conflicting PR: mergeable %v state %q", got.GetMergeable(), got.GetMergeableState())
	}
	if _, _, err := gh.PullRequests.Merge(ctx, "acme", "gitops", n, "", nil); statusOf(err) != http.StatusMethodNotAllowed || messageOf(err) != "Pull Request is not mergeable" {
		t.Fatalf("merge of conflicting PR: err = %v, want 405", err)
	}
}

func TestMergeKeepsBaseChangesAndSquashes(t *testing.T) {
	_, repo, gh := setup(t)
	ctx := context.Background()
	repo.Commit("change", "change staging", map[string]string{"apps/web/overlays/staging/kustomization.yaml": "staging: v2\n"})
	repo.Commit("change", "and a note", map[string]string{"NOTES.md": "n\n"})
	repo.Commit("main", "unrelated", map[string]string{"other.txt": "x\n"})
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "gitops", &github.NewPullRequest{Title: github.String("Stage v2"), Head: github.String("change"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetCommits() != 2 {
		t.Errorf("commits = %d, want 2", pr.GetCommits())
	}
	before, _ := repo.BranchSHA("main")
	res, _, err := gh.PullRequests.Merge(ctx, "acme", "gitops", pr.GetNumber(), "", &github.PullRequestOptions{MergeMethod: "squash"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := repo.GetCommit(res.GetSHA())
	if len(c.Parents) != 1 || c.Parents[0] != before || !strings.HasPrefix(c.Message, "Stage v2 (#1)") {
		t.Fatalf("squash commit = %+v", c)
	}
	files := repo.Files("main")
	if files["other.txt"] != "x\n" || files["apps/web/overlays/staging/kustomization.yaml"] != "staging: v2\n" || files["NOTES.md"] != "n\n" {
		t.Fatalf("merged files = %v", files)
	}
}
