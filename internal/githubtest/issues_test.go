package githubtest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

func TestCommentsReactionsAndLabels(t *testing.T) {
	s, repo, gh := setup(t)
	ctx := context.Background()
	n := repo.CreateIssue("alice", "Scale web", "/scale web 3 --env prod", "ops")
	human := repo.AddComment(n, "alice", "/restart web --env prod")

	// Reactions: 201 for a new one, 200 when it already exists, 422 for unknown content.
	_, res, err := gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "gitops", human, "eyes")
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("first reaction: %v, %v", res, err)
	}
	_, res, err = gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "gitops", human, "eyes")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("repeated reaction: status %d, %v; want 200", res.StatusCode, err)
	}
	if _, _, err := gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "gitops", human, "thumbsup"); statusOf(err) != http.StatusUnprocessableEntity {
		t.Fatalf("invalid reaction: err = %v, want 422", err)
	}
	if _, _, err := gh.Reactions.CreateIssueReaction(ctx, "acme", "gitops", n, "rocket"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "gitops", 999999, "eyes"); statusOf(err) != http.StatusNotFound {
		t.Fatalf("reaction to a missing comment: err = %v, want 404", err)
	}
	list, _, err := gh.Reactions.ListIssueCommentReactions(ctx, "acme", "gitops", human, nil)
	if err != nil || len(list) != 1 || list[0].GetContent() != "eyes" || list[0].GetUser().GetLogin() != s.BotLogin() {
		t.Fatalf("comment reactions = %v, %v", list, err)
	}
	if r := repo.IssueReactions(n); len(r) != 1 || r[0].Content != "rocket" {
		t.Fatalf("issue reactions = %+v", r)
	}

	// The app's reply, then edited in place.
	reply, _, err := gh.Issues.CreateComment(ctx, "acme", "gitops", n, &github.IssueComment{Body: github.String("Working on it")})
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		PerformedVia struct {
			ID   int64  `json:"id"`
			Slug string `json:"slug"`
		} `json:"performed_via_github_app"`
	}
	getJSON(t, gh, fmt.Sprintf("repos/acme/gitops/issues/comments/%d", reply.GetID()), &raw)
	if reply.GetUser().GetLogin() != s.BotLogin() || reply.GetUser().GetType() != "Bot" || raw.PerformedVia.ID != s.AppID() || raw.PerformedVia.Slug != s.AppSlug() {
		t.Fatalf("bot comment author = %+v via %+v", reply.GetUser(), raw.PerformedVia)
	}
	if _, _, err := gh.Issues.EditComment(ctx, "acme", "gitops", reply.GetID(), &github.IssueComment{Body: github.String("Opened #2")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Issues.EditComment(ctx, "acme", "gitops", human, &github.IssueComment{Body: github.String("hijack")}); statusOf(err) != http.StatusForbidden {
		t.Fatalf("editing someone else's comment: err = %v, want 403", err)
	}
	got, _, err := gh.Issues.GetComment(ctx, "acme", "gitops", reply.GetID())
	if err != nil || got.GetBody() != "Opened #2" {
		t.Fatalf("GetComment = %v, %v", got, err)
	}
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "gitops", n, &github.IssueComment{Body: github.String(strings.Repeat("x", 65537))}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Fatalf("oversized comment: err = %v, want 422", err)
	}
	comments, _, err := gh.Issues.ListComments(ctx, "acme", "gitops", n, nil)
	if err != nil || len(comments) != 2 || comments[0].GetID() != human || comments[0].GetAuthorAssociation() != "NONE" {
		t.Fatalf("ListComments = %v, %v", comments, err)
	}

	// Labels: adding creates unknown labels, removing a missing one is 404.
	labels, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "gitops", n, []string{"daytwo:pending", "ops"})
	if err != nil || len(labels) != 2 || labels[0].GetName() != "ops" || labels[1].GetName() != "daytwo:pending" {
		t.Fatalf("AddLabelsToIssue = %v, %v", labels, err)
	}
	if _, err := gh.Issues.RemoveLabelForIssue(ctx, "acme", "gitops", n, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Issues.RemoveLabelForIssue(ctx, "acme", "gitops", n, "ops"); statusOf(err) != http.StatusNotFound {
		t.Fatalf("removing an absent label: err = %v, want 404", err)
	}
	if issue, _ := repo.Issue(n); fmt.Sprint(issue.Labels) != "[daytwo:pending]" {
		t.Fatalf("labels = %v", issue.Labels)
	}

	// Issues and pull requests share numbers.
	repo.Commit("f", "f", map[string]string{"f": "f\n"})
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "gitops", &github.NewPullRequest{Title: github.String("pr"), Head: github.String("f"), Base: github.String("main")})
	if err != nil || pr.GetNumber() != n+1 {
		t.Fatalf("PR number = %d, %v; want %d", pr.GetNumber(), err, n+1)
	}
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "gitops", pr.GetNumber(), &github.IssueComment{Body: github.String("on the PR")}); err != nil {
		t.Fatal(err)
	}
	issue, _, err := gh.Issues.Get(ctx, "acme", "gitops", pr.GetNumber())
	if err != nil || !issue.IsPullRequest() || issue.GetComments() != 1 {
		t.Fatalf("PR as issue = %+v, %v", issue, err)
	}

	// Closing an issue with a reason.
	closed, _, err := gh.Issues.Edit(ctx, "acme", "gitops", n, &github.IssueRequest{State: github.String("closed"), StateReason: github.String("completed")})
	if err != nil || closed.GetState() != "closed" || closed.GetStateReason() != "completed" || closed.GetClosedBy().GetLogin() != s.BotLogin() {
		t.Fatalf("close issue = %+v, %v", closed, err)
	}
	open, _, err := gh.Issues.ListByRepo(ctx, "acme", "gitops", &github.IssueListByRepoOptions{State: "open"})
	if err != nil || len(open) != 1 || open[0].GetNumber() != pr.GetNumber() {
		t.Fatalf("open issues = %v, %v", open, err)
	}
}

// getJSON GETs an API path with the client and decodes the answer into v.
func getJSON(t *testing.T, gh *github.Client, path string, v any) {
	t.Helper()
	req, err := gh.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Do(context.Background(), req, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func TestPermissionsTeamsAndReviewers(t *testing.T) {
	s, repo, gh := setup(t)
	ctx := context.Background()
	for login, role := range map[string]string{"ann": githubtest.RoleAdmin, "mo": githubtest.RoleMaintain, "wu": githubtest.RoleWrite, "tri": githubtest.RoleTriage, "rea": githubtest.RoleRead} {
		repo.SetPermission(login, role)
	}
	s.AddUser("nobody")
	for login, want := range map[string][2]string{
		"ann": {"admin", "admin"}, "mo": {"write", "maintain"}, "wu": {"write", "write"}, "tri": {"read", "triage"}, "rea": {"read", "read"}, "nobody": {"none", "none"},
	} {
		p, _, err := gh.Repositories.GetPermissionLevel(ctx, "acme", "gitops", login)
		if err != nil {
			t.Fatalf("GetPermissionLevel(%s): %v", login, err)
		}
		// go-github v60 has no RoleName field: read role_name from the raw answer.
		var raw struct {
			RoleName string `json:"role_name"`
		}
		getJSON(t, gh, "repos/acme/gitops/collaborators/"+login+"/permission", &raw)
		if p.GetPermission() != want[0] || raw.RoleName != want[1] || p.GetUser().GetLogin() != login {
			t.Errorf("%s: permission %q role %q user %q, want %v", login, p.GetPermission(), raw.RoleName, p.GetUser().GetLogin(), want)
		}
	}
	if _, _, err := gh.Repositories.GetPermissionLevel(ctx, "acme", "gitops", "ghost"); statusOf(err) != http.StatusNotFound {
		t.Fatalf("unknown user: err = %v, want 404", err)
	}

	s.AddTeamMember("acme", "sre", "wu", "maintainer", "active")
	s.AddTeamMember("acme", "sre", "tri", "member", "pending")
	m, _, err := gh.Teams.GetTeamMembershipBySlug(ctx, "acme", "sre", "wu")
	if err != nil || m.GetState() != "active" || m.GetRole() != "maintainer" {
		t.Fatalf("membership(wu) = %+v, %v", m, err)
	}
	if m, _, _ := gh.Teams.GetTeamMembershipBySlug(ctx, "acme", "sre", "tri"); m.GetState() != "pending" {
		t.Fatalf("membership(tri) = %+v", m)
	}
	if _, _, err := gh.Teams.GetTeamMembershipBySlug(ctx, "acme", "sre", "rea"); statusOf(err) != http.StatusNotFound {
		t.Fatalf("non-member: err = %v, want 404", err)
	}
	if _, _, err := gh.Teams.GetTeamMembershipBySlug(ctx, "acme", "nope", "wu"); statusOf(err) != http.StatusNotFound {
		t.Fatalf("unknown team: err = %v, want 404", err)
	}

	repo.Commit("f", "f", map[string]string{"f": "f\n"})
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "gitops", &github.NewPullRequest{Title: github.String("pr"), Head: github.String("f"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	// A team reviews only where it has a role, and GitHub names teams when only teams were asked.
	_, _, err = gh.PullRequests.RequestReviewers(ctx, "acme", "gitops", pr.GetNumber(), github.ReviewersRequest{TeamReviewers: []string{"sre"}})
	if statusOf(err) != http.StatusUnprocessableEntity || messageOf(err) != "Reviews may only be requested from collaborators. One or more of the teams you specified is not a collaborator of the acme/gitops repository." {
		t.Fatalf("requesting a team without access: err = %v, want 422", err)
	}
	repo.SetTeamPermission("sre", githubtest.RoleWrite)
	if _, _, err := gh.PullRequests.RequestReviewers(ctx, "acme", "gitops", pr.GetNumber(), github.ReviewersRequest{Reviewers: []string{"wu"}, TeamReviewers: []string{"sre"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.PullRequests.RequestReviewers(ctx, "acme", "gitops", pr.GetNumber(), github.ReviewersRequest{Reviewers: []string{"nobody"}}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Fatalf("requesting a non-collaborator: err = %v, want 422", err)
	}
	rv, _, err := gh.PullRequests.ListReviewers(ctx, "acme", "gitops", pr.GetNumber(), nil)
	if err != nil || len(rv.Users) != 1 || rv.Users[0].GetLogin() != "wu" || len(rv.Teams) != 1 || rv.Teams[0].GetSlug() != "sre" {
		t.Fatalf("ListReviewers = %+v, %v", rv, err)
	}
	repo.SubmitReview(pr.GetNumber(), "wu", "APPROVED", "")
	reviews, _, err := gh.PullRequests.ListReviews(ctx, "acme", "gitops", pr.GetNumber(), nil)
	if err != nil || len(reviews) != 1 || reviews[0].GetState() != "APPROVED" || reviews[0].GetUser().GetLogin() != "wu" {
		t.Fatalf("ListReviews = %v, %v", reviews, err)
	}
	if p, _ := repo.Pull(pr.GetNumber()); len(p.RequestedReviewers) != 0 {
		t.Fatalf("a review should clear its author's request: %v", p.RequestedReviewers)
	}
	if _, _, err := gh.PullRequests.CreateReview(ctx, "acme", "gitops", pr.GetNumber(), &github.PullRequestReviewRequest{Event: github.String("APPROVE")}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Fatalf("the app approving its own PR: err = %v, want 422", err)
	}
}

func TestPullFilesPaginate(t *testing.T) {
	s, repo, gh := setup(t)
	ctx := context.Background()
	files := map[string]string{}
	for i := range 35 {
		files[fmt.Sprintf("envs/e%02d.yaml", i)] = fmt.Sprintf("replicas: %d\n", i)
	}
	repo.Commit("many", "many files", files)
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "gitops", &github.NewPullRequest{Title: github.String("many"), Head: github.String("many"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	var all []*github.CommitFile
	opt := &github.ListOptions{PerPage: 30}
	pages := 0
	for {
		page, res, err := gh.PullRequests.ListFiles(ctx, "acme", "gitops", pr.GetNumber(), opt)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, page...)
		if res.NextPage == 0 {
			if res.Header.Get("Link") == "" {
				t.Fatal("last page without a Link header")
			}
			break
		}
		opt.Page = res.NextPage
	}
	if pages != 2 || len(all) != 35 || all[0].GetFilename() != "envs/e00.yaml" || all[0].GetStatus() != "added" || all[0].GetAdditions() != 1 {
		t.Fatalf("pages %d, files %d, first %+v", pages, len(all), all[0])
	}
	if !strings.Contains(all[34].GetPatch(), "+replicas: 34") {
		t.Fatalf("patch = %q", all[34].GetPatch())
	}
	if s.CountRequests("GET", fmt.Sprintf("/repos/acme/gitops/pulls/%d/files", pr.GetNumber())) != 2 {
		t.Fatal("expected two page requests in the log")
	}
}

func TestChecksAndStatuses(t *testing.T) {
	_, repo, gh := setup(t)
	ctx := context.Background()
	head := repo.Commit("daytwo/x", "x", map[string]string{"x": "1\n"})
	cr, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "gitops", github.CreateCheckRunOptions{Name: "daytwo/render", HeadSHA: head, Status: github.String("in_progress")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Checks.UpdateCheckRun(ctx, "acme", "gitops", cr.GetID(), github.UpdateCheckRunOptions{
		Name: "daytwo/render", Conclusion: github.String("success"),
		Output: &github.CheckRunOutput{Title: github.String("Rendered"), Summary: github.String("2 overlays render")},
	}); err != nil {
		t.Fatal(err)
	}
	runs, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "gitops", "daytwo/x", nil)
	if err != nil || runs.GetTotal() != 1 || runs.CheckRuns[0].GetConclusion() != "success" || runs.CheckRuns[0].GetOutput().GetTitle() != "Rendered" {
		t.Fatalf("ListCheckRunsForRef = %+v, %v", runs, err)
	}
	if _, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "gitops", github.CreateCheckRunOptions{Name: "x", HeadSHA: strings.Repeat("0", 40)}); statusOf(err) != http.StatusUnprocessableEntity {
		t.Fatalf("check run on a missing commit: err = %v, want 422", err)
	}

	for ctxName, state := range map[string]string{"ci/lint": "success", "ci/test": "pending"} {
		if _, _, err := gh.Repositories.CreateStatus(ctx, "acme", "gitops", head, &github.RepoStatus{State: github.String(state), Context: github.String(ctxName)}); err != nil {
			t.Fatal(err)
		}
	}
	combined, _, err := gh.Repositories.GetCombinedStatus(ctx, "acme", "gitops", "daytwo/x", nil)
	if err != nil || combined.GetState() != "pending" || combined.GetTotalCount() != 2 {
		t.Fatalf("combined = %+v, %v", combined, err)
	}
	if _, _, err := gh.Repositories.CreateStatus(ctx, "acme", "gitops", head, &github.RepoStatus{State: github.String("success"), Context: github.String("ci/test")}); err != nil {
		t.Fatal(err)
	}
	if combined, _, _ := gh.Repositories.GetCombinedStatus(ctx, "acme", "gitops", head, nil); combined.GetState() != "success" {
		t.Fatalf("combined after success = %q", combined.GetState())
	}
	if st := repo.Statuses(head); len(st) != 3 || st[0].State != "success" {
		t.Fatalf("statuses = %+v", st)
	}
}

func TestIssueBodyEditsMakeEditedPayloads(t *testing.T) {
	s, repo, gh := setup(t)
	ctx := context.Background()
	n := repo.CreateIssue("alice", "dashboard", "- [ ] one\r\n- [ ] two", "daytwo")
	repo.SetPermission("bob", githubtest.RoleWrite)

	// A person ticks a box in the browser.
	ev := decodeEdited(t, repo.EditIssueBody(n, "bob", "- [x] one\r\n- [ ] two"))
	if ev.GetAction() != "edited" || ev.GetChanges().GetBody().GetFrom() != "- [ ] one\r\n- [ ] two" || ev.GetIssue().GetBody() != "- [x] one\r\n- [ ] two" ||
		ev.GetSender().GetLogin() != "bob" || ev.GetSender().GetType() != "User" || ev.GetChanges().GetTitle() != nil ||
		ev.GetInstallation().GetID() == 0 || ev.GetRepo().GetFullName() != "acme/gitops" || ev.GetIssue().GetNumber() != n {
		t.Fatalf("edited by a person: %+v", ev)
	}
	// The app edits the title through the API: the payload names its bot and the title only.
	if _, _, err := gh.Issues.Edit(ctx, "acme", "gitops", n, &github.IssueRequest{Title: github.String("daytwo dashboard"), Body: github.String("- [x] one\r\n- [ ] two")}); err != nil {
		t.Fatal(err)
	}
	ev = decodeEdited(t, repo.IssueEditedPayload(n))
	if ev.GetSender().GetLogin() != s.BotLogin() || ev.GetSender().GetType() != "Bot" || ev.GetChanges().GetTitle().GetFrom() != "dashboard" || ev.GetChanges().GetBody() != nil {
		t.Fatalf("edited by the app: sender %+v changes %+v", ev.GetSender(), ev.GetChanges())
	}
	// An edit that changes nothing is no edit: the last one stays.
	if _, _, err := gh.Issues.Edit(ctx, "acme", "gitops", n, &github.IssueRequest{Body: github.String("- [x] one\r\n- [ ] two")}); err != nil {
		t.Fatal(err)
	}
	if ev := decodeEdited(t, repo.IssueEditedPayload(n)); ev.GetChanges().GetTitle().GetFrom() != "dashboard" {
		t.Fatalf("a no-op edit replaced the last edit: %+v", ev.GetChanges())
	}
}

func decodeEdited(t *testing.T, payload []byte) *github.IssuesEvent {
	t.Helper()
	ev, err := github.ParseWebHook("issues", payload)
	if err != nil {
		t.Fatal(err)
	}
	return ev.(*github.IssuesEvent)
}
