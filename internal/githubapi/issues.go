package githubapi

import (
	"context"
	"fmt"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/clip"
)

// Issue is an issue (not a pull request) as daytwo reads it.
type Issue struct {
	Number            int
	Title, Body       string
	State             string // open, closed
	URL               string // html_url
	NodeID            string
	Labels            []string
	CreatedAt, Closed time.Time
}

func toIssue(is *gh.Issue) Issue {
	out := Issue{Number: is.GetNumber(), Title: is.GetTitle(), Body: is.GetBody(), State: is.GetState(), URL: is.GetHTMLURL(),
		NodeID: is.GetNodeID(), CreatedAt: is.GetCreatedAt().Time, Closed: is.GetClosedAt().Time}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// IssuesLabelled lists the issues carrying every one of labels in state (open, closed or
// all), most recently updated first (at most 100); pull requests are left out.
func (r Repo) IssuesLabelled(ctx context.Context, state string, labels []string) ([]Issue, error) {
	return r.listIssues(ctx, &gh.IssueListByRepoOptions{State: state, Labels: labels, Sort: "updated", Direction: "desc"})
}

// OpenIssuesLabelled lists the open issues carrying every one of labels, oldest first; at
// most 100.
func (r Repo) OpenIssuesLabelled(ctx context.Context, labels ...string) ([]Issue, error) {
	return r.listIssues(ctx, &gh.IssueListByRepoOptions{State: "open", Labels: labels, Sort: "created", Direction: "asc"})
}

func (r Repo) listIssues(ctx context.Context, opts *gh.IssueListByRepoOptions) ([]Issue, error) {
	opts.ListOptions = gh.ListOptions{PerPage: 100}
	list, _, err := r.Client.Issues.ListByRepo(ctx, r.Owner, r.Name, opts)
	if err != nil {
		return nil, fmt.Errorf("list %s issues labelled %v in %s: %w", opts.State, opts.Labels, r.FullName(), err)
	}
	var out []Issue
	for _, is := range list {
		if !is.IsPullRequest() {
			out = append(out, toIssue(is))
		}
	}
	return out, nil
}

// ReadIssue reads one issue.
func (r Repo) ReadIssue(ctx context.Context, number int) (Issue, error) {
	is, _, err := r.Client.Issues.Get(ctx, r.Owner, r.Name, number)
	if err != nil {
		return Issue{}, fmt.Errorf("read #%d of %s: %w", number, r.FullName(), err)
	}
	return toIssue(is), nil
}

// SetIssueBody replaces the body of an issue; one over GitHub's limit is refused here.
func (r Repo) SetIssueBody(ctx context.Context, number int, body string) error {
	if len(body) > MaxCommentBytes {
		return fmt.Errorf("the body of #%d of %s would be %d bytes, over GitHub's %d", number, r.FullName(), len(body), MaxCommentBytes)
	}
	if _, _, err := r.Client.Issues.Edit(ctx, r.Owner, r.Name, number, &gh.IssueRequest{Body: gh.String(body)}); err != nil {
		return fmt.Errorf("edit #%d of %s: %w", number, r.FullName(), err)
	}
	return nil
}

// EditIssue sets an issue's title, body and state ("open" or "closed", as completed);
// an empty one is left as it is.
func (r Repo) EditIssue(ctx context.Context, number int, title, body, state string) error {
	req := &gh.IssueRequest{}
	if title != "" {
		req.Title = gh.String(clip.Runes(title, maxTitleRunes))
	}
	if body != "" {
		req.Body = gh.String(Truncate(body, MaxCommentBytes))
	}
	switch state {
	case "open":
		req.State = gh.String("open")
	case "closed":
		req.State, req.StateReason = gh.String("closed"), gh.String("completed")
	}
	if _, _, err := r.Client.Issues.Edit(ctx, r.Owner, r.Name, number, req); err != nil {
		return fmt.Errorf("edit #%d of %s: %w", number, r.FullName(), err)
	}
	return nil
}
