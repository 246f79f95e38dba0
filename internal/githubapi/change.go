package githubapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

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
