package handler

import (
	"fmt"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/templates"
)

// New builds every event handler around one Responder.
func New(clients githubapp.ClientCreator, runner Runner) ([]githubapp.EventHandler, error) {
	reg := command.Default()
	for _, s := range runner.Specs() {
		if err := reg.Register(s); err != nil {
			return nil, fmt.Errorf("command /%s: %w", s.Name, err)
		}
	}
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
	}, nil
}
