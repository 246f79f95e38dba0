package githubapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// Repo is one repository seen through an installation client.
type Repo struct {
	Client      *gh.Client
	Owner, Name string
}

// FullName is "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Head is a branch and where it points.
type Head struct{ Branch, Commit, Tree string }

// Head reads a branch, the default branch when branch is "": one GET of the repository
// only in that case, plus one GET of the branch, which carries both commit and tree.
func (r Repo) Head(ctx context.Context, branch string) (Head, error) {
	if branch == "" {
		repo, _, err := r.Client.Repositories.Get(ctx, r.Owner, r.Name)
		if err != nil {
			if isNotFound(err) {
				return Head{}, &plan.Error{Code: plan.NotFound, Msg: fmt.Sprintf("repository %s does not exist or the app is not installed on it", r.FullName()), Err: err}
			}
			return Head{}, fmt.Errorf("read repository %s: %w", r.FullName(), err)
		}
		if branch = repo.GetDefaultBranch(); branch == "" {
			return Head{}, plan.Errorf(plan.NotFound, "repository %s has no default branch (is it empty?)", r.FullName())
		}
	}
	// Not Repositories.GetBranch: it bypasses go-github's error decoding, so a missing
	// branch would not be told from a failure. The http.Client follows GitHub's 301 for a
	// renamed branch.
	req, err := r.Client.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/branches/%s", url.PathEscape(r.Owner), url.PathEscape(r.Name), url.PathEscape(branch)), nil)
	if err != nil {
		return Head{}, fmt.Errorf("read branch %s of %s: %w", branch, r.FullName(), err)
	}
	b := new(gh.Branch)
	if _, err := r.Client.Do(ctx, req, b); err != nil {
		if isNotFound(err) {
			return Head{}, &plan.Error{Code: plan.NotFound, Msg: fmt.Sprintf("branch `%s` does not exist in %s", branch, r.FullName()), Err: err}
		}
		return Head{}, fmt.Errorf("read branch %s of %s: %w", branch, r.FullName(), err)
	}
	h := Head{Branch: b.GetName(), Commit: b.GetCommit().GetSHA(), Tree: b.GetCommit().GetCommit().GetTree().GetSHA()}
	if h.Branch == "" {
		h.Branch = branch
	}
	if h.Commit == "" || h.Tree == "" {
		return Head{}, fmt.Errorf("branch %s of %s: GitHub's answer lacks the commit or tree id", branch, r.FullName())
	}
	return h, nil
}

// Repository roles, from most to least powerful.
const (
	RoleAdmin    = "admin"
	RoleMaintain = "maintain"
	RoleWrite    = "write"
	RoleTriage   = "triage"
	RoleRead     = "read"
	RoleNone     = "none"
)

// Permission returns login's effective role on the repository: admin, maintain, write,
// triage, read or none. GitHub's role_name is used when it is one of those; a custom
// repository role falls back to the base permission GitHub reports beside it. A user
// GitHub does not know has none.
func (r Repo) Permission(ctx context.Context, login string) (string, error) {
	if err := checkLogin(login); err != nil {
		return "", err
	}
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(r.Owner), url.PathEscape(r.Name), url.PathEscape(login))
	req, err := r.Client.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("permission of %s on %s: %w", login, r.FullName(), err)
	}
	// go-github v60 has no role_name field, which is what tells maintain and triage apart.
	var v struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	if _, err := r.Client.Do(ctx, req, &v); err != nil {
		if isNotFound(err) {
			return RoleNone, nil
		}
		return "", fmt.Errorf("permission of %s on %s: %w", login, r.FullName(), err)
	}
	switch role := strings.ToLower(v.RoleName); role {
	case RoleAdmin, RoleMaintain, RoleWrite, RoleTriage, RoleRead, RoleNone:
		return role, nil
	}
	switch p := strings.ToLower(v.Permission); p {
	case RoleAdmin, RoleWrite, RoleRead:
		return p, nil
	}
	return RoleNone, nil
}

// TeamMember reports whether login is an active member of the team org/slug; a pending
// invitation and an unknown team or user are not membership.
func (r Repo) TeamMember(ctx context.Context, org, slug, login string) (bool, error) {
	if org == "" || slug == "" {
		return false, fmt.Errorf("team %q/%q: organization and team slug are both required", org, slug)
	}
	if err := checkLogin(login); err != nil {
		return false, err
	}
	m, _, err := r.Client.Teams.GetTeamMembershipBySlug(ctx, url.PathEscape(org), url.PathEscape(slug), url.PathEscape(login))
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		if statusOf(err) == http.StatusForbidden {
			return false, fmt.Errorf("membership of %s in %s/%s: the app needs the organization permission Members (read): %w", login, org, slug, err)
		}
		return false, fmt.Errorf("membership of %s in %s/%s: %w", login, org, slug, err)
	}
	return m.GetState() == "active", nil
}

// MaxCheckSummary is GitHub's limit on a check run's summary (65,535 characters).
const MaxCheckSummary = 65535

var checkConclusions = map[string]bool{
	"action_required": true, "cancelled": true, "failure": true, "neutral": true,
	"success": true, "skipped": true, "timed_out": true,
}

// Check publishes a completed check run on sha, with title and a markdown summary cut to
// GitHub's limit.
func (r Repo) Check(ctx context.Context, sha, name, conclusion, title, summary string) error {
	switch {
	case sha == "" || name == "":
		return fmt.Errorf("check run %q on %q: name and commit are both required", name, sha)
	case !checkConclusions[conclusion]:
		return fmt.Errorf("check run %s: conclusion %q is not one of action_required, cancelled, failure, neutral, success, skipped, timed_out", name, conclusion)
	}
	if title == "" {
		title = name
	}
	if summary == "" {
		summary = title
	}
	now := gh.Timestamp{Time: time.Now()}
	_, _, err := r.Client.Checks.CreateCheckRun(ctx, r.Owner, r.Name, gh.CreateCheckRunOptions{
		Name:        name,
		HeadSHA:     sha,
		Status:      gh.String("completed"),
		Conclusion:  gh.String(conclusion),
		CompletedAt: &now,
		Output:      &gh.CheckRunOutput{Title: gh.String(clip.Runes(title, maxTitleRunes)), Summary: gh.String(Truncate(summary, MaxCheckSummary))},
	})
	if err != nil {
		return fmt.Errorf("publish check %s on %s in %s: %w", name, clip.SHA(sha), r.FullName(), err)
	}
	return nil
}

// OpenIssue opens an issue and returns its number and web address.
func (r Repo) OpenIssue(ctx context.Context, title, body string, labels []string) (int, string, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return 0, "", errors.New("an issue needs a title")
	}
	req := &gh.IssueRequest{Title: gh.String(clip.Runes(title, maxTitleRunes)), Body: gh.String(Truncate(body, MaxCommentBytes))}
	if len(labels) > 0 {
		req.Labels = &labels
	}
	is, _, err := r.Client.Issues.Create(ctx, r.Owner, r.Name, req)
	if err != nil {
		return 0, "", fmt.Errorf("open issue %q in %s: %w", title, r.FullName(), err)
	}
	return is.GetNumber(), is.GetHTMLURL(), nil
}

// maxTitleRunes is GitHub's limit on issue, pull request and check run titles.
const maxTitleRunes = 255

// checkLogin refuses what cannot be a GitHub login before it becomes part of a URL.
func checkLogin(login string) error {
	if login == "" || len(login) > 100 || strings.ContainsAny(login, "/?#% \t\r\n") {
		return fmt.Errorf("%q is not a GitHub login", login)
	}
	return nil
}

// statusOf is the HTTP status of a GitHub error answer, or 0.
func statusOf(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	return 0
}

// saysGitHub reports whether GitHub's error answer (its message or one of its detailed
// errors) contains text.
func saysGitHub(err error, text string) bool {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	if strings.Contains(er.Message, text) {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

// AddLabel adds a label (created by GitHub if missing) to an issue or pull request.
func (r Repo) AddLabel(ctx context.Context, number int, label string) error {
	if _, _, err := r.Client.Issues.AddLabelsToIssue(ctx, r.Owner, r.Name, number, []string{label}); err != nil {
		return fmt.Errorf("label #%d of %s with %s: %w", number, r.FullName(), label, err)
	}
	return nil
}

// RemoveLabel removes a label from an issue or pull request; one not there is fine.
func (r Repo) RemoveLabel(ctx context.Context, number int, label string) error {
	// go-github puts the name in the path as is; a "/" in it must be escaped.
	_, err := r.Client.Issues.RemoveLabelForIssue(ctx, r.Owner, r.Name, number, url.PathEscape(label))
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("remove label %s from #%d of %s: %w", label, number, r.FullName(), err)
	}
	return nil
}

// Merged is a merged pull request.
type Merged struct {
	PR
	MergeCommit string
	MergedBy    string
	MergedAt    time.Time
}

// MergedWithLabel lists the merged pull requests carrying label, newest first (at most 100).
func (r Repo) MergedWithLabel(ctx context.Context, label string) ([]Merged, error) {
	issues, _, err := r.Client.Issues.ListByRepo(ctx, r.Owner, r.Name, &gh.IssueListByRepoOptions{
		State: "closed", Labels: []string{label}, ListOptions: gh.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, fmt.Errorf("list pull requests labelled %s in %s: %w", label, r.FullName(), err)
	}
	var out []Merged
	for _, is := range issues {
		if !is.IsPullRequest() {
			continue
		}
		p, _, err := r.Client.PullRequests.Get(ctx, r.Owner, r.Name, is.GetNumber())
		if err != nil {
			return nil, fmt.Errorf("read pull request #%d of %s: %w", is.GetNumber(), r.FullName(), err)
		}
		if !p.GetMerged() {
			continue
		}
		out = append(out, Merged{PR: toPR(p), MergeCommit: p.GetMergeCommitSHA(), MergedBy: p.GetMergedBy().GetLogin(), MergedAt: p.GetMergedAt().Time})
	}
	return out, nil
}

// CloseIssue closes an issue as completed; a pull request is left alone.
func (r Repo) CloseIssue(ctx context.Context, number int) error {
	is, _, err := r.Client.Issues.Get(ctx, r.Owner, r.Name, number)
	if err != nil {
		return fmt.Errorf("read #%d of %s: %w", number, r.FullName(), err)
	}
	if is.IsPullRequest() || is.GetState() == "closed" {
		return nil
	}
	if _, _, err := r.Client.Issues.Edit(ctx, r.Owner, r.Name, number, &gh.IssueRequest{State: gh.String("closed"), StateReason: gh.String("completed")}); err != nil {
		return fmt.Errorf("close #%d of %s: %w", number, r.FullName(), err)
	}
	return nil
}

// FirstParent is the first parent of commit sha: for a merge or squash commit on the
// default branch, the branch as it was before the merge.
func (r Repo) FirstParent(ctx context.Context, sha string) (string, error) {
	c, _, err := r.Client.Git.GetCommit(ctx, r.Owner, r.Name, sha)
	if err != nil {
		return "", fmt.Errorf("read commit %s of %s: %w", sha, r.FullName(), err)
	}
	if len(c.Parents) == 0 {
		return "", fmt.Errorf("commit %s of %s has no parent", sha, r.FullName())
	}
	return c.Parents[0].GetSHA(), nil
}

// CommitsSince lists the commits reachable from head but not from base, oldest first, as
// GitHub's compare lists them (at most 250): what landed after base.
func (r Repo) CommitsSince(ctx context.Context, base, head string) ([]plan.CommitInfo, error) {
	cmp, _, err := r.Client.Repositories.CompareCommits(ctx, r.Owner, r.Name, base, head, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return nil, fmt.Errorf("compare %s...%s of %s: %w", base, head, r.FullName(), err)
	}
	out := make([]plan.CommitInfo, 0, len(cmp.Commits))
	for _, c := range cmp.Commits {
		msg := c.GetCommit().GetMessage()
		out = append(out, plan.CommitInfo{SHA: c.GetSHA(), Message: msg, Trailers: plan.ParseTrailers(msg), Time: c.GetCommit().GetCommitter().GetDate().Time})
	}
	return out, nil
}

// HasLabel reports whether issue or pull request number carries label.
func (r Repo) HasLabel(ctx context.Context, number int, label string) (bool, error) {
	ls, _, err := r.Client.Issues.ListLabelsByIssue(ctx, r.Owner, r.Name, number, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return false, fmt.Errorf("list the labels of #%d of %s: %w", number, r.FullName(), err)
	}
	for _, l := range ls {
		if strings.EqualFold(l.GetName(), label) {
			return true, nil
		}
	}
	return false, nil
}
