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
	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// Runner carries out day-2 commands asked for on GitHub and follows the PRs they open.
// It owns everything after parsing: policy, planning, the change PR, its status comment.
type Runner interface {
	// Run carries out cmd and reports on its own status comment. It fails only when it
	// could not tell the asker anything: the delivery is then worth another attempt.
	Run(ctx context.Context, client *gh.Client, req Request, cmd command.Command) error
	// Reply posts body as the one reply to req's parts that are not carried out (help,
	// usage errors); state is how they stand ("answered" or "refused"). A repeat of the
	// request finds the reply it got before and posts nothing.
	Reply(ctx context.Context, client *gh.Client, req Request, body, state string) error
	// PullRequestClosed follows a closed (merged or not) pull request.
	PullRequestClosed(ctx context.Context, client *gh.Client, repo *gh.Repository, pr *gh.PullRequest, sender *gh.User) error
	// ReviewSubmitted follows a submitted review.
	ReviewSubmitted(ctx context.Context, client *gh.Client, repo *gh.Repository, pr *gh.PullRequest, review *gh.PullRequestReview) error
}

// Responder answers requests: it parses commands, acknowledges them, replies with help or
// usage errors and hands the rest to the Runner.
type Responder struct {
	Clients  githubapp.ClientCreator
	Commands *command.Registry
	Forms    *command.FormSet
	Runner   Runner
}

// Respond handles one normalised request.
func (r *Responder) Respond(ctx context.Context, req Request) error {
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
	thread := ghapi.Thread{Client: client, Owner: req.Owner, Repo: req.Repo, Number: req.Number}

	// Acknowledge at once, alongside the work: the requester sees that daytwo is on it. A
	// command the runner carries out is acknowledged by the runner, in the same request as
	// its status comment.
	acked := make(chan struct{})
	if req.ThreadNodeID != "" {
		req.Ack = true // with the first comment the runner posts: a status or the reply
		close(acked)
	} else {
		go func() {
			defer close(acked)
			Acknowledge(ctx, thread, req)
		}()
	}
	defer func() { <-acked }()

	var replies []string
	var errs []error
	refused := false
	for i, res := range results {
		req.Index = i + 1
		switch {
		case res.Reply != nil:
			replies = append(replies, res.Reply.Markdown())
			refused = true
		case res.Command.Name == "help":
			replies = append(replies, r.Commands.Help(res.Command.Topic))
		default:
			log.Info().Str("command", res.Command.Name).Msg("running command")
			errs = append(errs, r.Runner.Run(ctx, client, req, *res.Command))
			req.Ack = false // one reaction per request
		}
	}
	if body := replyBody(req.Author, replies); body != "" {
		state := ghapi.StateAnswered
		if refused {
			state = ghapi.StateRefused
		}
		errs = append(errs, r.Runner.Reply(ctx, client, req, body, state))
	}
	return errors.Join(errs...)
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

// Acknowledge reacts 👀 to the request: to its comment, or to the issue it opened. A
// failure is logged only; the answer that follows matters more.
func Acknowledge(ctx context.Context, thread ghapi.Thread, req Request) {
	var err error
	if req.CommentID != 0 {
		err = thread.React(ctx, req.CommentID, "eyes")
	} else {
		err = thread.ReactToIssue(ctx, "eyes")
	}
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("could not acknowledge with a reaction")
	}
}

// parse reads the request: an issue opened from a daytwo form is read as that form,
// anything else as comment text.
func (r *Responder) parse(req Request) []command.Result {
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

func nonEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
