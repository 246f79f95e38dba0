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
	Labels            []string
	CreatedAt, Closed time.Time
}

// IssuesLabelled lists the issues carrying every one of labels in state (open, closed or
// all), most recently updated first (at most 100); pull requests are left out.
func (r Repo) IssuesLabelled(ctx context.Context, state string, labels []string) ([]Issue, error) {
	list, _, err := r.Client.Issues.ListByRepo(ctx, r.Owner, r.Name, &gh.IssueListByRepoOptions{
		State: state, Labels: labels, Sort: "updated", Direction: "desc", ListOptions: gh.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, fmt.Errorf("list issues labelled %v in %s: %w", labels, r.FullName(), err)
	}
	var out []Issue
	for _, is := range list {
		if is.IsPullRequest() {
			continue
		}
		i := Issue{Number: is.GetNumber(), Title: is.GetTitle(), Body: is.GetBody(), State: is.GetState(), URL: is.GetHTMLURL(),
			CreatedAt: is.GetCreatedAt().Time, Closed: is.GetClosedAt().Time}
		for _, l := range is.Labels {
			i.Labels = append(i.Labels, l.GetName())
		}
		out = append(out, i)
	}
	return out, nil
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
