package githubtest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// The steps after a pull request exists are refused as GitHub refuses them, from the state
// of the repository and of the installation: a team without access is not asked to review,
// a label name is at most 50 characters, a permission the installation lacks gets 403, a
// merge method the settings disallow gets 405, and issues can be turned off (410).
func TestStepsRefusedFromRepositoryAndInstallationState(t *testing.T) {
	s, repo, gh := setup(t)
	ctx := context.Background()
	repo.Commit("f", "f", map[string]string{"f": "f\n"})
	n := repo.OpenPull("alice", "f", "main", "pr", "")
	pr, _, err := gh.PullRequests.Get(ctx, "acme", "gitops", n)
	if err != nil {
		t.Fatal(err)
	}
	s.AddTeamMember("acme", "catalog-team", "cat", "member", "active")

	t.Run("review of a team without access", func(t *testing.T) {
		const msg = "Reviews may only be requested from collaborators. One or more of the teams you specified is not a collaborator of the acme/gitops repository."
		_, a := graphql(t, s, gh, `query { organization(login: "acme") { team(slug: "catalog-team") { id } } }`, nil)
		var org struct{ Team struct{ ID string } }
		decode(t, a.Data["organization"], &org)
		_, a = graphql(t, s, gh, `mutation($r: RequestReviewsInput!) { r: requestReviews(input: $r) { clientMutationId } }`,
			map[string]any{"r": map[string]any{"pullRequestId": pr.GetNodeID(), "teamIds": []string{org.Team.ID}, "union": true}})
		if len(a.Errors) != 1 || a.Errors[0].Type != "UNPROCESSABLE" || a.Errors[0].Message != msg {
			t.Errorf("GraphQL: %+v", a.Errors)
		}
		_, _, err := gh.PullRequests.RequestReviewers(ctx, "acme", "gitops", n, github.ReviewersRequest{TeamReviewers: []string{"catalog-team"}})
		if statusOf(err) != http.StatusUnprocessableEntity || messageOf(err) != msg {
			t.Errorf("REST: %v", err)
		}
		if p, _ := repo.Pull(n); len(p.RequestedTeams) != 0 {
			t.Errorf("requested %v", p.RequestedTeams)
		}
		repo.SetTeamPermission("catalog-team", githubtest.RoleRead)
		if _, _, err := gh.PullRequests.RequestReviewers(ctx, "acme", "gitops", n, github.ReviewersRequest{TeamReviewers: []string{"catalog-team"}}); err != nil {
			t.Errorf("with read access: %v", err)
		}
	})

	t.Run("label names of at most 50 characters", func(t *testing.T) {
		ok, long := "env/"+strings.Repeat("a", 46), "env/"+strings.Repeat("a", 47)
		if _, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "gitops", n, []string{ok}); err != nil {
			t.Fatalf("50 characters: %v", err)
		}
		_, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "gitops", n, []string{"daytwo", long})
		var er *github.ErrorResponse
		if statusOf(err) != http.StatusUnprocessableEntity || messageOf(err) != "Validation Failed" || !asError(err, &er) ||
			len(er.Errors) != 1 || er.Errors[0].Resource != "Label" || er.Errors[0].Field != "name" || er.Errors[0].Code != "invalid" {
			t.Fatalf("51 characters: %v", err)
		}
		if p, _ := repo.Pull(n); strings.Contains(strings.Join(p.Labels, ","), "daytwo") {
			t.Errorf("a refused request added labels: %v", p.Labels)
		}
		_, _, err = gh.Issues.CreateLabel(ctx, "acme", "gitops", &github.Label{Name: github.String(long)})
		if !asError(err, &er) || len(er.Errors) != 1 || er.Errors[0].Message != "name is too long (maximum is 50 characters)" {
			t.Errorf("creating a 51-character label: %v", err)
		}
	})

	t.Run("a permission the installation lacks", func(t *testing.T) {
		s.SetInstallationPermission("acme", "checks", "")
		defer s.SetInstallationPermission("acme", "checks", "write")
		_, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "gitops", github.CreateCheckRunOptions{Name: "daytwo/render", HeadSHA: pr.GetHead().GetSHA()})
		if statusOf(err) != http.StatusForbidden || messageOf(err) != "Resource not accessible by integration" {
			t.Errorf("REST check run: %v", err)
		}
		_, a := graphql(t, s, gh, `query { repository(owner: "acme", name: "gitops") { id } }`, nil)
		var r struct{ ID string }
		decode(t, a.Data["repository"], &r)
		_, a = graphql(t, s, gh, `mutation($c: CreateCheckRunInput!) { c: createCheckRun(input: $c) { checkRun { id } } }`,
			map[string]any{"c": map[string]any{"repositoryId": r.ID, "headSha": pr.GetHead().GetSHA(), "name": "daytwo/render"}})
		if len(a.Errors) != 1 || a.Errors[0].Type != "FORBIDDEN" || a.Errors[0].Message != "Resource not accessible by integration" {
			t.Errorf("GraphQL check run: %+v", a.Errors)
		}
		if runs := repo.CheckRuns(pr.GetHead().GetSHA()); len(runs) != 0 {
			t.Errorf("check runs %+v", runs)
		}
		// Without issues (write), a pull request is still labelled through pull_requests
		// (write); a plain issue is not.
		s.SetInstallationPermission("acme", "issues", "read")
		defer s.SetInstallationPermission("acme", "issues", "write")
		if _, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "gitops", n, []string{"daytwo"}); err != nil {
			t.Errorf("labelling a pull request with pull_requests (write): %v", err)
		}
		is := repo.CreateIssue("alice", "x", "")
		if _, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "gitops", is, []string{"daytwo"}); statusOf(err) != http.StatusForbidden {
			t.Errorf("labelling an issue without issues (write): %v", err)
		}
	})

	t.Run("a merge method the settings disallow", func(t *testing.T) {
		repo.AllowMergeMethods("merge", "rebase")
		r, _, err := gh.Repositories.Get(ctx, "acme", "gitops")
		if err != nil || r.GetAllowSquashMerge() || !r.GetAllowMergeCommit() {
			t.Fatalf("repository settings: squash %v merge %v (%v)", r.GetAllowSquashMerge(), r.GetAllowMergeCommit(), err)
		}
		_, _, err = gh.PullRequests.Merge(ctx, "acme", "gitops", n, "", &github.PullRequestOptions{MergeMethod: "squash"})
		if statusOf(err) != http.StatusMethodNotAllowed || messageOf(err) != "Squash merges are not allowed on this repository." {
			t.Fatalf("squash: %v", err)
		}
		if p, _ := repo.Pull(n); p.Merged {
			t.Fatal("merged anyway")
		}
		if _, _, err := gh.PullRequests.Merge(ctx, "acme", "gitops", n, "", &github.PullRequestOptions{MergeMethod: "merge"}); err != nil {
			t.Errorf("an allowed method: %v", err)
		}
	})

	t.Run("issues turned off", func(t *testing.T) {
		repo.DisableIssues()
		_, _, err := gh.Issues.Create(ctx, "acme", "gitops", &github.IssueRequest{Title: github.String("review")})
		if statusOf(err) != http.StatusGone || messageOf(err) != "Issues are disabled for this repo" {
			t.Errorf("creating an issue: %v", err)
		}
		if r, _, err := gh.Repositories.Get(ctx, "acme", "gitops"); err != nil || r.GetHasIssues() {
			t.Errorf("has_issues %v (%v)", r.GetHasIssues(), err)
		}
	})
}

func asError(err error, target **github.ErrorResponse) bool { return errors.As(err, target) }
