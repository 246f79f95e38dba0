package handler

import (
	"context"
	"encoding/json"
	"fmt"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/ops"
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

// fromIssueComment is the request a comment makes.
func fromIssueComment(ev *gh.IssueCommentEvent, deliveryID string) ops.Request {
	c, is := ev.GetComment(), ev.GetIssue()
	return ops.Request{
		InstallationID: ev.GetInstallation().GetID(),
		Owner:          ev.GetRepo().GetOwner().GetLogin(),
		Repo:           ev.GetRepo().GetName(),
		Number:         is.GetNumber(),
		IsPR:           is.IsPullRequest(),
		CommentID:      c.GetID(),
		Author:         c.GetUser().GetLogin(),
		AuthorType:     c.GetUser().GetType(),
		Association:    c.GetAuthorAssociation(),
		Body:           c.GetBody(),
		Labels:         labelNames(is.Labels),
		URL:            c.GetHTMLURL(),
		DeliveryID:     deliveryID,
		ThreadNodeID:   is.GetNodeID(),
		CommentNodeID:  c.GetNodeID(),
	}
}
