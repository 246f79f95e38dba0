package handler

import (
	"fmt"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/templates"
)

// New builds every event handler around one Responder, which reads the commands of reg.
func New(clients githubapp.ClientCreator, reg *command.Registry, runner Runner) ([]githubapp.EventHandler, error) {
	forms, err := command.LoadForms(templates.IssueForms, templates.IssueFormsDir)
	if err != nil {
		return nil, fmt.Errorf("issue forms: %w", err)
	}
	set, err := reg.NewFormSet(forms)
	if err != nil {
		return nil, fmt.Errorf("issue forms: %w", err)
	}
	r := &Responder{Clients: clients, Commands: reg, Forms: set, Runner: runner}
	return []githubapp.EventHandler{
		&IssueComment{Responder: r},
		&Issues{Responder: r},
		&PullRequest{Responder: r},
		&PullRequestReview{Responder: r},
		&WorkflowRun{Responder: r},
	}, nil
}
