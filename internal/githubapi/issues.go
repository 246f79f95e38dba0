package githubapi

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"
)

// Issue is an issue as the dashboard reads it.
type Issue struct {
	Number           int
	Title, Body, URL string
	NodeID           string
	Labels           []string
}

func toIssue(is *gh.Issue) Issue {
	out := Issue{Number: is.GetNumber(), Title: is.GetTitle(), Body: is.GetBody(), URL: is.GetHTMLURL(), NodeID: is.GetNodeID()}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// OpenIssuesLabelled lists the open issues (not pull requests) carrying every one of
// labels, oldest first; at most 100.
func (r Repo) OpenIssuesLabelled(ctx context.Context, labels ...string) ([]Issue, error) {
	list, _, err := r.Client.Issues.ListByRepo(ctx, r.Owner, r.Name, &gh.IssueListByRepoOptions{
		State: "open", Labels: labels, Sort: "created", Direction: "asc", ListOptions: gh.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, fmt.Errorf("list open issues labelled %v in %s: %w", labels, r.FullName(), err)
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
