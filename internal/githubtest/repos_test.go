package githubtest_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

func TestCompareCommitsAndHistory(t *testing.T) {
	_, repo, gh := setup(t)
	ctx := context.Background()
	base, _ := repo.BranchSHA("main")
	repo.Commit("feature", "touch staging", map[string]string{"apps/web/overlays/staging/kustomization.yaml": "staging: v2\n"})
	head := repo.Commit("feature", "touch docs", map[string]string{"docs.md": "d\n"})

	cmp, _, err := gh.Repositories.CompareCommits(ctx, "acme", "gitops", "main", "feature", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.GetStatus() != "ahead" || cmp.GetAheadBy() != 2 || cmp.GetBehindBy() != 0 || len(cmp.Commits) != 2 || len(cmp.Files) != 2 ||
		cmp.GetMergeBaseCommit().GetSHA() != base || cmp.Commits[1].GetSHA() != head {
		t.Fatalf("compare = status %q ahead %d behind %d commits %d files %d", cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), len(cmp.Commits), len(cmp.Files))
	}
	repo.Commit("main", "elsewhere", map[string]string{"x": "x\n"})
	if cmp, _, _ := gh.Repositories.CompareCommits(ctx, "acme", "gitops", "main", "feature", nil); cmp.GetStatus() != "diverged" || cmp.GetBehindBy() != 1 {
		t.Fatalf("compare after main moved = %q behind %d", cmp.GetStatus(), cmp.GetBehindBy())
	}

	commits, _, err := gh.Repositories.ListCommits(ctx, "acme", "gitops", &github.CommitsListOptions{SHA: "feature", Path: "apps/web/overlays/staging"})
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != 2 || commits[0].GetCommit().GetMessage() != "touch staging" || commits[1].GetCommit().GetMessage() != "initial layout" {
		t.Fatalf("commits touching staging = %d: %v", len(commits), commits)
	}
	sha, _, err := gh.Repositories.GetCommitSHA1(ctx, "acme", "gitops", "feature", "")
	if err != nil || sha != head {
		t.Fatalf("GetCommitSHA1 = %q, %v; want %s", sha, err, head)
	}
	one, _, err := gh.Repositories.GetCommit(ctx, "acme", "gitops", head, nil)
	if err != nil || len(one.Files) != 1 || one.Files[0].GetFilename() != "docs.md" || one.GetStats().GetAdditions() != 1 {
		t.Fatalf("GetCommit = %+v, %v", one, err)
	}

	branches, _, err := gh.Repositories.ListBranches(ctx, "acme", "gitops", nil)
	if err != nil || len(branches) != 2 || branches[0].GetName() != "feature" || branches[0].GetCommit().GetSHA() != head {
		t.Fatalf("ListBranches = %v, %v", branches, err)
	}
	if got := repo.Branches(); len(got) != 2 || got[1] != "main" {
		t.Fatalf("Branches = %v", got)
	}

	r, _, err := gh.Repositories.Get(ctx, "acme", "gitops")
	if err != nil || r.GetDefaultBranch() != "main" || r.GetFullName() != "acme/gitops" || r.GetOwner().GetType() != "Organization" || !r.GetPrivate() {
		t.Fatalf("Repositories.Get = %+v, %v", r, err)
	}

	// download_url serves the raw file.
	fc, _, _, err := gh.Repositories.GetContents(ctx, "acme", "gitops", "docs.md", &github.RepositoryContentGetOptions{Ref: "feature"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(fc.GetDownloadURL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "d\n" {
		t.Fatalf("download_url served %q", body)
	}
	if _, _, _, err := gh.Repositories.GetContents(ctx, "acme", "gitops", "docs.md", &github.RepositoryContentGetOptions{Ref: "no-such-branch"}); statusOf(err) != http.StatusNotFound {
		t.Fatalf("contents at a missing ref: err = %v, want 404", err)
	}
}

func TestPullRequestEditAndLazyMergeability(t *testing.T) {
	_, repo, gh := setup(t, githubtest.WithMergeabilityDelay(1))
	ctx := context.Background()
	repo.Commit("f", "f", map[string]string{"f": "1\n"})
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "gitops", &github.NewPullRequest{Title: github.String("t"), Head: github.String("f"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Mergeable != nil || pr.GetMergeableState() != "unknown" {
		t.Fatalf("first read: mergeable %v state %q, want null/unknown", pr.Mergeable, pr.GetMergeableState())
	}
	got, _, _ := gh.PullRequests.Get(ctx, "acme", "gitops", pr.GetNumber())
	if !got.GetMergeable() || got.GetMergeableState() != "clean" {
		t.Fatalf("second read: mergeable %v state %q", got.GetMergeable(), got.GetMergeableState())
	}
	head := repo.Commit("f", "more", map[string]string{"f": "2\n"})
	got, _, _ = gh.PullRequests.Get(ctx, "acme", "gitops", pr.GetNumber())
	if got.Mergeable != nil || got.GetHead().GetSHA() != head {
		t.Fatalf("after a push: mergeable %v head %s, want null and %s", got.Mergeable, got.GetHead().GetSHA(), head)
	}

	edited, _, err := gh.PullRequests.Edit(ctx, "acme", "gitops", pr.GetNumber(), &github.PullRequest{Title: github.String("new title"), Body: github.String("new body")})
	if err != nil || edited.GetTitle() != "new title" || edited.GetBody() != "new body" {
		t.Fatalf("Edit = %+v, %v", edited, err)
	}
	closed, _, err := gh.PullRequests.Edit(ctx, "acme", "gitops", pr.GetNumber(), &github.PullRequest{State: github.String("closed")})
	if err != nil || closed.GetState() != "closed" || closed.GetMerged() {
		t.Fatalf("close = %+v, %v", closed, err)
	}
	if list, _, _ := gh.PullRequests.List(ctx, "acme", "gitops", &github.PullRequestListOptions{State: "closed", Base: "main"}); len(list) != 1 {
		t.Fatalf("closed PRs = %d", len(list))
	}
	var closedPayload struct {
		PullRequest struct {
			Merged bool `json:"merged"`
		} `json:"pull_request"`
	}
	if err := decodeInto(repo.PullClosedPayload(pr.GetNumber()), &closedPayload); err != nil || closedPayload.PullRequest.Merged {
		t.Fatalf("closed without merge payload: merged %v, %v", closedPayload.PullRequest.Merged, err)
	}

}

func TestCommitAtIsDatedAndListedNewestFirst(t *testing.T) {
	_, repo, gh := setup(t)
	ctx := context.Background()
	when := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	sha := repo.CommitAt(when, "main", "by hand", map[string]string{"docs.md": "d\n"})
	c, _, err := gh.Repositories.GetCommit(ctx, "acme", "gitops", sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.GetCommit().GetAuthor().GetDate().Time; !got.Equal(when) {
		t.Errorf("author date %s, want %s", got, when)
	}
	commits, _, err := gh.Repositories.ListCommits(ctx, "acme", "gitops", &github.CommitsListOptions{SHA: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) == 0 || commits[0].GetSHA() != sha {
		t.Errorf("the newest commit comes first: %v", commits)
	}
}
