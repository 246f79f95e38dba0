// Package handler has one event handler per GitHub webhook event. Each decodes the
// go-github event type, returns early on what daytwo ignores, normalises what is left into
// an ops.Request, parses it, and hands it to the runner. Handlers hold no domain logic.
package handler

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/ops"
)

// Runner carries out day-2 commands asked for on GitHub and follows the PRs they open
// (ops.Runner). It owns everything after parsing: policy, planning, the change PR, the
// status comments and the 👀 reaction.
type Runner interface {
	// Answer carries out the commands asked in req's text and posts reply. It fails only
	// when it could not tell the asker anything: the delivery is then worth another attempt.
	Answer(ctx context.Context, client *gh.Client, req ops.Request, asked []ops.Asked, reply ops.Reply) error
	// PullRequestClosed follows a closed (merged or not) pull request.
	PullRequestClosed(ctx context.Context, client *gh.Client, repo *gh.Repository, pr *gh.PullRequest, sender *gh.User) error
	// ReviewSubmitted follows a submitted review.
	ReviewSubmitted(ctx context.Context, client *gh.Client, repo *gh.Repository, pr *gh.PullRequest, review *gh.PullRequestReview) error
	// WorkflowRun follows a workflow run of repo (one /run may have started).
	WorkflowRun(ctx context.Context, client *gh.Client, repo *gh.Repository, run *gh.WorkflowRun) error
	// DashboardEdited runs the boxes a person ticked on the dashboard issue.
	DashboardEdited(ctx context.Context, client *gh.Client, ev *gh.IssuesEvent, deliveryID string) error
}

// Responder answers requests: it parses commands, writes the help and the usage errors,
// and hands both to the Runner.
type Responder struct {
	Clients  githubapp.ClientCreator
	Commands *command.Registry
	Forms    *command.FormSet
	Runner   Runner
}

// Respond handles one normalised request.
func (r *Responder) Respond(ctx context.Context, req ops.Request) error {
	log := zerolog.Ctx(ctx).With().Str("author", req.Author).Logger()
	ctx = log.WithContext(ctx)
	if req.FromBot() {
		log.Debug().Msg("ignoring a bot's text")
		return nil
	}

	results := r.parse(req)
	if len(results) == 0 {
		return nil
	}
	client, err := r.Clients.NewInstallationClient(req.InstallationID)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	var (
		asked   []ops.Asked
		replies []string
		refused bool
	)
	for i, res := range results {
		switch {
		case res.Reply != nil:
			replies = append(replies, res.Reply.Markdown())
			refused = true
		case res.Command.Name == "help":
			replies = append(replies, r.Commands.Help(res.Command.Topic))
		default:
			asked = append(asked, ops.Asked{Index: i + 1, Command: *res.Command})
		}
	}
	return r.Runner.Answer(ctx, client, req, asked, ops.Reply{Body: replyBody(req.Author, replies), Refused: refused})
}

// replyBody is the comment answering author: a mention of them, then each non-empty part
// (markdown that may open with a block, such as a code fence) after a blank line and
// divided by rules. "" when there is nothing to say.
func replyBody(author string, parts []string) string {
	parts = nonEmpty(parts)
	if len(parts) == 0 {
		return ""
	}
	to := "@" + author
	if !loginRE.MatchString(author) {
		to = markdown.Text(author) // not a login: no one to mention
	}
	return to + "\n\n" + strings.Join(parts, "\n\n---\n\n")
}

// loginRE is a GitHub login.
var loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

// parse reads the request: an issue opened from a daytwo form is read as that form,
// anything else as comment text.
func (r *Responder) parse(req ops.Request) []command.Result {
	if req.CommentID == 0 && r.Forms != nil {
		cmd, err := r.Forms.ParseIssueForm(req.Labels, req.Body)
		switch {
		case err == nil:
			return []command.Result{{Command: &cmd}}
		case !errors.Is(err, command.ErrNotForm):
			var fe *command.FormError
			if errors.As(err, &fe) {
				return []command.Result{{Reply: &command.Reply{Form: fe}}}
			}
			return []command.Result{{Reply: &command.Reply{Message: err.Error()}}}
		}
	}
	return r.Commands.Parse(req.Body)
}

// PullRequestClosed hands a closed PR to the runner.
func (r *Responder) PullRequestClosed(ctx context.Context, installationID int64, repo *gh.Repository, pr *gh.PullRequest, sender *gh.User) error {
	client, err := r.Clients.NewInstallationClient(installationID)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	return r.Runner.PullRequestClosed(ctx, client, repo, pr, sender)
}

// ReviewSubmitted hands a submitted review to the runner.
func (r *Responder) ReviewSubmitted(ctx context.Context, installationID int64, repo *gh.Repository, pr *gh.PullRequest, review *gh.PullRequestReview) error {
	client, err := r.Clients.NewInstallationClient(installationID)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	return r.Runner.ReviewSubmitted(ctx, client, repo, pr, review)
}

// WorkflowRun hands a workflow run's news to the runner.
func (r *Responder) WorkflowRun(ctx context.Context, installationID int64, repo *gh.Repository, run *gh.WorkflowRun) error {
	client, err := r.Clients.NewInstallationClient(installationID)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	return r.Runner.WorkflowRun(ctx, client, repo, run)
}

// DashboardEdited hands an edit of an issue's body to the runner.
func (r *Responder) DashboardEdited(ctx context.Context, ev *gh.IssuesEvent, deliveryID string) error {
	client, err := r.Clients.NewInstallationClient(ev.GetInstallation().GetID())
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	return r.Runner.DashboardEdited(ctx, client, ev, deliveryID)
}

func nonEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// labelNames are the names of an issue's labels.
func labelNames(ls []*gh.Label) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	return out
}
