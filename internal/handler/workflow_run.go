package handler

import (
	"context"
	"encoding/json"
	"fmt"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
)

// WorkflowRun handles `workflow_run`: the runs /run started move their status comments.
type WorkflowRun struct {
	Responder *Responder
}

var _ githubapp.EventHandler = &WorkflowRun{}

// Handles names the event.
func (h *WorkflowRun) Handles() []string { return []string{"workflow_run"} }

// Handle hands dispatched runs to the runner; daytwo starts runs by workflow_dispatch
// only, so runs of other events are ignored here.
func (h *WorkflowRun) Handle(ctx context.Context, _, _ string, payload []byte) error {
	var ev gh.WorkflowRunEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode workflow_run: %w", err)
	}
	run := ev.GetWorkflowRun()
	if run.GetEvent() != "workflow_dispatch" {
		return nil
	}
	ctx, log := githubapp.PrepareRepoContext(ctx, ev.GetInstallation().GetID(), ev.GetRepo())
	log.Info().Str("action", ev.GetAction()).Int64("run", run.GetID()).Str("run_status", run.GetStatus()).Msg("workflow run")
	return h.Responder.WorkflowRun(ctx, ev.GetInstallation().GetID(), ev.GetRepo(), run)
}
