package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/ops"
)

// Issues handles `issues`: a newly opened issue is read for commands in its body (issue
// forms produce such bodies); a person's edit of the dashboard's body runs the boxes they
// ticked.
type Issues struct {
	Responder *Responder
}

var _ githubapp.EventHandler = &Issues{}

// Handles names the event.
func (h *Issues) Handles() []string { return []string{"issues"} }

// Handle acts on opened issues, and on edits of an issue's body by a person.
func (h *Issues) Handle(ctx context.Context, _, deliveryID string, payload []byte) error {
	var ev gh.IssuesEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode issues: %w", err)
	}
	if ev.GetAction() == "edited" {
		// daytwo's own edits of the dashboard come back as edits too: only a person's count.
		s := ev.GetSender()
		if ev.GetChanges().GetBody() == nil || s.GetType() == "Bot" || strings.HasSuffix(s.GetLogin(), "[bot]") || ev.GetIssue().IsPullRequest() {
			return nil
		}
		ctx, _ = githubapp.PreparePRContext(ctx, ev.GetInstallation().GetID(), ev.GetRepo(), ev.GetIssue().GetNumber())
		return h.Responder.DashboardEdited(ctx, &ev, deliveryID)
	}
	if ev.GetAction() != "opened" {
		return nil
	}
	req := fromIssue(&ev, deliveryID)
	ctx, _ = githubapp.PreparePRContext(ctx, req.InstallationID, ev.GetRepo(), req.Number)
	return h.Responder.Respond(ctx, req)
}

// fromIssue is the request an issue body makes (a submitted issue form).
func fromIssue(ev *gh.IssuesEvent, deliveryID string) ops.Request {
	is := ev.GetIssue()
	return ops.Request{
		InstallationID: ev.GetInstallation().GetID(),
		Owner:          ev.GetRepo().GetOwner().GetLogin(),
		Repo:           ev.GetRepo().GetName(),
		Number:         is.GetNumber(),
		Author:         is.GetUser().GetLogin(),
		AuthorType:     is.GetUser().GetType(),
		Association:    is.GetAuthorAssociation(),
		Body:           is.GetBody(),
		Labels:         labelNames(is.Labels),
		URL:            is.GetHTMLURL(),
		DeliveryID:     deliveryID,
		ThreadNodeID:   is.GetNodeID(),
	}
}
