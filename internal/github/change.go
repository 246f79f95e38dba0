package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// PR is a pull request daytwo opened or found.
type PR struct {
	Number  int
	URL     string // html_url
	Branch  string
	HeadSHA string
	Body    string
	NodeID  string
	// Fresh is set when CreateChange opened it: FinishChange adds labels and reviewers.
	Fresh bool
	// Commits are the pull request's commits, oldest first, and Labels its labels, where
	// they were read (the open pull requests of ReadDefault): a stack's requests are in
	// the commits' trailers.
	Commits []Commit
	Labels  []string
}

// Commit is one commit of a pull request.
type Commit struct{ SHA, Message string }

// ChangeOptions say where a change goes and who looks at it.
type ChangeOptions struct {
	Base      Head     // where the change was planned: its Commit must equal the ChangeSet's Base
	Labels    []string // e.g. daytwo, env/prod, action/scale
	Reviewers []string // "user" or "org/team" to request review from (the caller leaves out the requester)
	Draft     bool
	// StackPrefix is the branch prefix of the target's changes (daytwo/<env>/<service>/):
	// a new pull request that finds an older open one with it gives way to it.
	StackPrefix string
}

// maxBodyRunes is GitHub's limit on a pull request body.
const maxBodyRunes = 65536

// requestReviews asks users and teams to review and returns GitHub's refusals of those it
// would not ask (422: no access to the repository), one per reviewer. GitHub refuses the
// whole request when one of them cannot review; then each is asked alone and those
// refused are skipped, as GitHub skips such code owners itself.
func (r Repo) requestReviews(ctx context.Context, number int, users, teams []string) (refused []*Refusal, err error) {
	_, _, err = r.Client.PullRequests.RequestReviewers(ctx, r.Owner, r.Name, number, gh.ReviewersRequest{Reviewers: users, TeamReviewers: teams})
	switch {
	case err == nil:
		return nil, nil
	case statusOf(err) != http.StatusUnprocessableEntity:
		return nil, fmt.Errorf("request reviews on #%d of %s: %w", number, r.FullName(), err)
	}
	one := func(req gh.ReviewersRequest, who string) error {
		_, _, err := r.Client.PullRequests.RequestReviewers(ctx, r.Owner, r.Name, number, req)
		if err != nil && statusOf(err) == http.StatusUnprocessableEntity {
			zerolog.Ctx(ctx).Warn().Err(err).Int("pr", number).Str("reviewer", who).Msg("GitHub refused a reviewer; skipped")
			refused = append(refused, RefusalOf(StepReviews, []string{who}, err))
			return nil
		}
		if err != nil {
			return fmt.Errorf("request review from %s on #%d of %s: %w", who, number, r.FullName(), err)
		}
		return nil
	}
	if len(users)+len(teams) == 1 {
		who := r.Owner + "/" + strings.Join(teams, "")
		if len(users) == 1 {
			who = users[0]
		}
		zerolog.Ctx(ctx).Warn().Err(err).Int("pr", number).Msg("GitHub refused the reviewer; the pull request stays without the review request")
		return []*Refusal{RefusalOf(StepReviews, []string{who}, err)}, nil
	}
	for _, u := range users {
		if err := one(gh.ReviewersRequest{Reviewers: []string{u}}, u); err != nil {
			return refused, err
		}
	}
	for _, t := range teams {
		if err := one(gh.ReviewersRequest{TeamReviewers: []string{t}}, r.Owner+"/"+t); err != nil {
			return refused, err
		}
	}
	return refused, nil
}

// ErrNotCleanedUp is wrapped by the error of a failed change whose pull request or branch
// could not be removed: they may still be there.
var ErrNotCleanedUp = errors.New("what the failed change created could not be removed")

// cleanUp removes what a failed change created: the pull request (closed) and the
// branch. It runs even when ctx is done, since that is often why the change failed. Only
// a branch named after this very request is ever passed here (a new stack's own), so no
// other request's commit is deleted with it.
func (r Repo) cleanUp(ctx context.Context, branch string, number int, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errs []error
	if number > 0 {
		if _, _, err := r.Client.PullRequests.Edit(ctx, r.Owner, r.Name, number, &gh.PullRequest{State: gh.String("closed")}); err != nil {
			errs = append(errs, fmt.Errorf("close pull request #%d: %w", number, err))
		}
	}
	if err := r.deleteBranch(ctx, branch); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		zerolog.Ctx(ctx).Error().Err(errors.Join(errs...)).Str("branch", branch).Msg("cleaning up a failed change failed")
		return fmt.Errorf("%w (cleaning up also failed: %w)", cause, errors.Join(append([]error{ErrNotCleanedUp}, errs...)...))
	}
	return cause
}

// DeleteBranch deletes a branch; one already gone is fine.
func (r Repo) DeleteBranch(ctx context.Context, branch string) error {
	return r.deleteBranch(ctx, branch)
}

// deleteBranch deletes a branch; one already gone is fine (GitHub answers 422 or 404).
func (r Repo) deleteBranch(ctx context.Context, branch string) error {
	_, err := r.Client.Git.DeleteRef(ctx, r.Owner, r.Name, "heads/"+branch)
	if err == nil || isNotFound(err) || (statusOf(err) == http.StatusUnprocessableEntity && saysGitHub(err, "Reference does not exist")) {
		return nil
	}
	return fmt.Errorf("delete branch %s of %s: %w", branch, r.FullName(), err)
}

// findPull returns the open pull request from branch (in this repository), or nil. One
// open into another base is a conflict daytwo does not resolve by itself.
func (r Repo) findPull(ctx context.Context, branch, base string) (*gh.PullRequest, error) {
	prs, _, err := r.Client.PullRequests.List(ctx, r.Owner, r.Name, &gh.PullRequestListOptions{State: "open", Head: r.Owner + ":" + branch})
	if err != nil {
		return nil, fmt.Errorf("find the pull request of %s in %s: %w", branch, r.FullName(), err)
	}
	for _, pr := range prs {
		if pr.GetHead().GetRef() != branch || !r.sameRepo(pr.GetHead().GetRepo()) {
			continue
		}
		if b := pr.GetBase().GetRef(); b != base {
			return nil, plan.Errorf(plan.Conflict, "branch `%s` already has pull request #%d, into `%s` instead of `%s`; close it and ask again", branch, pr.GetNumber(), b, base)
		}
		return pr, nil
	}
	return nil, nil
}

// EndedPulls are the closed pull requests from branch (in this repository): merged, or
// closed without merging.
func (r Repo) EndedPulls(ctx context.Context, branch string) (merged, closed []PR, err error) {
	prs, _, err := r.Client.PullRequests.List(ctx, r.Owner, r.Name, &gh.PullRequestListOptions{State: "closed", Head: r.Owner + ":" + branch})
	if err != nil {
		return nil, nil, fmt.Errorf("find the pull requests of %s in %s: %w", branch, r.FullName(), err)
	}
	for _, p := range prs {
		if p.GetHead().GetRef() != branch || !r.sameRepo(p.GetHead().GetRepo()) {
			continue
		}
		if p.GetMerged() || p.MergedAt != nil {
			merged = append(merged, toPR(p))
		} else {
			closed = append(closed, toPR(p))
		}
	}
	return merged, closed, nil
}

func (r Repo) sameRepo(repo *gh.Repository) bool {
	return repo != nil && strings.EqualFold(repo.GetFullName(), r.FullName())
}

func toPR(p *gh.PullRequest) PR {
	return PR{Number: p.GetNumber(), URL: p.GetHTMLURL(), Branch: p.GetHead().GetRef(), HeadSHA: p.GetHead().GetSHA(), Body: p.GetBody(), NodeID: p.GetNodeID()}
}

// checkChange refuses a ChangeSet GitHub would refuse, or that was planned elsewhere.
func checkChange(cs *plan.ChangeSet, opts ChangeOptions) error {
	if cs == nil {
		return errors.New("OpenChange needs a ChangeSet")
	}
	b := opts.Base
	switch {
	case b.Branch == "" || b.Commit == "" || b.Tree == "":
		return fmt.Errorf("the base of change %s lacks its branch, commit or tree (%+v); read it with Head", cs.Branch, b)
	case cs.Base != "" && cs.Base != b.Commit:
		return plan.Errorf(plan.Conflict, "the change was planned on %s, not on %s at %s; plan it again", clip.SHA(cs.Base), b.Branch, clip.SHA(b.Commit))
	case len(cs.Files) == 0:
		return plan.Errorf(plan.NoChange, "the change writes no file")
	case !validBranch(cs.Branch):
		return plan.Errorf(plan.Invalid, "%q is not a valid branch name (at most 255 characters of letters, digits, ., _, - and /)", cs.Branch)
	case cs.Branch == b.Branch:
		return plan.Errorf(plan.Invalid, "the change's branch %s is its own base", cs.Branch)
	case strings.TrimSpace(cs.Title) == "":
		return plan.Errorf(plan.Invalid, "the change has no title")
	case utf8.RuneCountInString(cs.Title) > maxTitleRunes:
		return plan.Errorf(plan.Invalid, "the change's title is longer than GitHub's %d characters", maxTitleRunes)
	case utf8.RuneCountInString(cs.Body) > maxBodyRunes:
		return plan.Errorf(plan.Invalid, "the change's description is longer than GitHub's %d characters", maxBodyRunes)
	}
	return nil
}

// branchRE is the ref names daytwo writes: a subset of what git allows.
var branchRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$`)

func validBranch(b string) bool {
	return len(b) <= 255 && branchRE.MatchString(b) && !strings.Contains(b, "..") &&
		!strings.HasSuffix(b, ".lock") && !strings.HasSuffix(b, ".") && !strings.Contains(b, ".lock/")
}

var (
	loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,98})$`)
	slugRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$`)
)

// splitReviewers separates users from team slugs. Teams of another organization cannot
// review in this repository; they are skipped with a warning, as GitHub ignores such code
// owners. Anything else malformed is a caller's mistake.
func (r Repo) splitReviewers(ctx context.Context, reviewers []string) (users, teams []string, err error) {
	seen := map[string]bool{}
	for _, rv := range reviewers {
		name := strings.TrimPrefix(strings.TrimSpace(rv), "@")
		key := strings.ToLower(name)
		if seen[key] {
			continue
		}
		seen[key] = true
		org, slug, isTeam := strings.Cut(name, "/")
		switch {
		case !isTeam && loginRE.MatchString(name):
			users = append(users, name)
		case isTeam && loginRE.MatchString(org) && slugRE.MatchString(slug):
			if !strings.EqualFold(org, r.Owner) {
				zerolog.Ctx(ctx).Warn().Str("team", name).Str("repo", r.FullName()).Msg("a team of another organization cannot review; skipped")
				continue
			}
			teams = append(teams, slug)
		default:
			return nil, nil, fmt.Errorf("reviewer %q is neither a GitHub login nor an org/team", rv)
		}
	}
	return users, teams, nil
}

// OpenChanges lists the open pull requests into base whose head branch, in this
// repository, starts with prefix, oldest first. Pull requests from forks never count:
// anyone can name a fork's branch like daytwo's.
func (r Repo) OpenChanges(ctx context.Context, base, prefix string) ([]PR, error) {
	opt := &gh.PullRequestListOptions{State: "open", Base: base, ListOptions: gh.ListOptions{PerPage: 100}}
	var out []PR
	for {
		prs, res, err := r.Client.PullRequests.List(ctx, r.Owner, r.Name, opt)
		if err != nil {
			return nil, fmt.Errorf("list open pull requests into %s of %s: %w", base, r.FullName(), err)
		}
		for _, p := range prs {
			if strings.HasPrefix(p.GetHead().GetRef(), prefix) && r.sameRepo(p.GetHead().GetRepo()) {
				out = append(out, toPR(p))
			}
		}
		if res.NextPage == 0 {
			break
		}
		opt.Page = res.NextPage
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

// CloseChange closes a pull request, first saying why when comment is not empty, and
// deletes its branch (one already gone is fine).
func (r Repo) CloseChange(ctx context.Context, pr PR, comment string) error {
	if pr.Number <= 0 {
		return fmt.Errorf("close pull request: %d is not a pull request number", pr.Number)
	}
	// Closing comes first and is retried (an edit can be sent twice): a comment that
	// failed must not leave the pull request open.
	if _, _, err := r.Client.PullRequests.Edit(ctx, r.Owner, r.Name, pr.Number, &gh.PullRequest{State: gh.String("closed")}); err != nil {
		return fmt.Errorf("close pull request #%d of %s: %w", pr.Number, r.FullName(), err)
	}
	if strings.TrimSpace(comment) != "" {
		if _, err := (Thread{Client: r.Client, Owner: r.Owner, Repo: r.Name, Number: pr.Number}).Comment(ctx, comment); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Int("pr", pr.Number).Msg("closed, but cannot say why on the pull request")
		}
	}
	if pr.Branch == "" {
		return nil
	}
	return r.deleteBranch(ctx, pr.Branch)
}

// MergeState is GitHub's view of whether a pull request can merge now.
type MergeState struct {
	Mergeable   *bool  // nil while GitHub is still computing it: ask again shortly
	State       string // mergeable_state: clean (approvals and required checks satisfied), blocked, dirty, draft, unstable, unknown…
	HeadSHA     string
	Merged      bool
	Open        bool
	Branch      string // the head branch
	URL         string
	MergeCommit string // set once merged
}

// PRState is the pull request's state as GraphQL spells it: OPEN, MERGED or CLOSED.
func (m MergeState) PRState() string {
	switch {
	case m.Merged:
		return "MERGED"
	case m.Open:
		return "OPEN"
	}
	return "CLOSED"
}

// MergeState reads whether GitHub considers pull request number mergeable now.
func (r Repo) MergeState(ctx context.Context, number int) (MergeState, error) {
	p, _, err := r.Client.PullRequests.Get(ctx, r.Owner, r.Name, number)
	if err != nil {
		if isNotFound(err) {
			return MergeState{}, &plan.Error{Code: plan.NotFound, Msg: fmt.Sprintf("pull request #%d does not exist in %s", number, r.FullName()), Err: err}
		}
		return MergeState{}, fmt.Errorf("read pull request #%d of %s: %w", number, r.FullName(), err)
	}
	ms := MergeState{Mergeable: p.Mergeable, State: p.GetMergeableState(), HeadSHA: p.GetHead().GetSHA(), Merged: p.GetMerged(), Open: p.GetState() == "open", Branch: p.GetHead().GetRef(), URL: p.GetHTMLURL()}
	if ms.Merged {
		ms.MergeCommit = p.GetMergeCommitSHA()
	}
	return ms, nil
}

// Merge merges pull request number with method (squash when ""), only while its head is
// still sha, and returns the merge commit. title and message, when set, are the commit's
// title and body (a squash keeps daytwo's trailers only when given them).
func (r Repo) Merge(ctx context.Context, number int, sha, method, title, message string) (string, error) {
	if method == "" {
		method = "squash"
	}
	switch {
	case method != "merge" && method != "squash" && method != "rebase":
		return "", fmt.Errorf("merge #%d: method %q is not merge, squash or rebase", number, method)
	case sha == "":
		return "", fmt.Errorf("merge #%d: the head commit it was checked at is required", number)
	}
	res, _, err := r.Client.PullRequests.Merge(ctx, r.Owner, r.Name, number, message, &gh.PullRequestOptions{CommitTitle: title, SHA: sha, MergeMethod: method})
	if err == nil {
		if !res.GetMerged() || res.GetSHA() == "" {
			return "", fmt.Errorf("merge #%d of %s: GitHub did not merge it: %s", number, r.FullName(), res.GetMessage())
		}
		return res.GetSHA(), nil
	}
	switch statusOf(err) {
	case http.StatusConflict:
		return "", &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("pull request #%d changed after it was checked (its head is no longer %s); it was not merged", number, clip.SHA(sha)), Err: err}
	case http.StatusMethodNotAllowed:
		// A retried merge whose first attempt succeeded is refused as not mergeable.
		if ms, gerr := r.MergeState(ctx, number); gerr == nil && ms.Merged && ms.HeadSHA == sha && ms.MergeCommit != "" {
			return ms.MergeCommit, nil
		}
		return "", &plan.Error{Code: plan.Forbidden, Msg: fmt.Sprintf("GitHub refuses to merge pull request #%d: %s", number, ghMessage(err)), Err: err}
	case http.StatusNotFound:
		return "", &plan.Error{Code: plan.NotFound, Msg: fmt.Sprintf("pull request #%d does not exist in %s", number, r.FullName()), Err: err}
	}
	return "", fmt.Errorf("merge #%d of %s: %w", number, r.FullName(), err)
}

// ghMessage is GitHub's own message of an error answer.
func ghMessage(err error) string {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Message != "" {
		return er.Message
	}
	return err.Error()
}
