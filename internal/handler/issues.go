package handler

import (
	"context"
	"encoding/json"
	"fmt"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
)

// Issues handles `issues`: a newly opened issue is read for commands in its body (issue
// forms produce such bodies).
type Issues struct {
	Responder *Responder
}

var _ githubapp.EventHandler = &Issues{}

// Handles names the event.
func (h *Issues) Handles() []string { return []string{"issues"} }

// Handle acts on opened issues only.
func (h *Issues) Handle(ctx context.Context, _, deliveryID string, payload []byte) error {
	var ev gh.IssuesEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode issues: %w", err)
	}
	if ev.GetAction() != "opened" {
		return nil
	}
	req := fromIssue(&ev, deliveryID)
	ctx, _ = githubapp.PreparePRContext(ctx, req.InstallationID, ev.GetRepo(), req.Number)
	return h.Responder.Respond(ctx, req)
}
