package handler

import (
	"context"
	"encoding/json"
	"fmt"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// PullRequest handles `pull_request`: daytwo follows its own change PRs when they are
// merged or closed.
type PullRequest struct {
	Responder *Responder
}

var _ githubapp.EventHandler = &PullRequest{}

// Handles names the event.
func (h *PullRequest) Handles() []string { return []string{"pull_request"} }

// Handle reacts to closed PRs; everything else is ignored.
func (h *PullRequest) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev gh.PullRequestEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode pull_request: %w", err)
	}
	if ev.GetAction() != "closed" {
		return nil
	}
	pr := ev.GetPullRequest()
	ctx, log := githubapp.PreparePRContext(ctx, ev.GetInstallation().GetID(), ev.GetRepo(), pr.GetNumber())
	log.Info().Bool("merged", pr.GetMerged()).Str("merge_commit_sha", pr.GetMergeCommitSHA()).Msg("pull request closed")
	return h.Responder.PullRequestClosed(ctx, ev.GetInstallation().GetID(), ev.GetRepo(), pr, ev.GetSender())
}

// PullRequestReview handles `pull_request_review`: approvals of daytwo's change PRs.
type PullRequestReview struct {
	Responder *Responder
}

var _ githubapp.EventHandler = &PullRequestReview{}

// Handles names the event.
func (h *PullRequestReview) Handles() []string { return []string{"pull_request_review"} }

// Handle reacts to submitted reviews.
func (h *PullRequestReview) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev gh.PullRequestReviewEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode pull_request_review: %w", err)
	}
	if ev.GetAction() != "submitted" {
		return nil
	}
	pr := ev.GetPullRequest()
	ctx, _ = githubapp.PreparePRContext(ctx, ev.GetInstallation().GetID(), ev.GetRepo(), pr.GetNumber())
	zerolog.Ctx(ctx).Info().Str("review_state", ev.GetReview().GetState()).Str("reviewer", ev.GetReview().GetUser().GetLogin()).Msg("review submitted")
	return h.Responder.ReviewSubmitted(ctx, ev.GetInstallation().GetID(), ev.GetRepo(), pr, ev.GetReview())
}
