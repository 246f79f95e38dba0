package handler

import (
	"context"
	"encoding/json"
	"fmt"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
)

// IssueComment handles `issue_comment`: commands written in issue and PR conversations.
type IssueComment struct {
	Responder *Responder
}

var _ githubapp.EventHandler = &IssueComment{}

// Handles names the event.
func (h *IssueComment) Handles() []string { return []string{"issue_comment"} }

// Handle acts on newly created comments. Edits are ignored: acting on an edit would run a
// command twice, and the thread already shows what was asked.
func (h *IssueComment) Handle(ctx context.Context, _, deliveryID string, payload []byte) error {
	var ev gh.IssueCommentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode issue_comment: %w", err)
	}
	if ev.GetAction() != "created" {
		return nil
	}
	req := fromIssueComment(&ev, deliveryID)
	ctx, _ = githubapp.PreparePRContext(ctx, req.InstallationID, ev.GetRepo(), req.Number)
	return h.Responder.Respond(ctx, req)
}
