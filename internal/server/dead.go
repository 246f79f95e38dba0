package server

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// maxAttempts is how often a delivery is handled before it is set aside as a dead letter.
const maxAttempts = 5

// reportDead says in the asking thread that its delivery was set aside after failing too
// often, so nobody waits for an answer that will not come.
func (s *Server) reportDead(ctx context.Context, d coord.Delivery, why string) {
	var ev struct {
		Installation struct{ ID int64 } `json:"installation"`
		Repository   struct {
			Name  string `json:"name"`
			Owner struct {
				Login string `json:"login"`
			} `json:"owner"`
		} `json:"repository"`
		Issue       *struct{ Number int } `json:"issue"`
		PullRequest *struct{ Number int } `json:"pull_request"`
	}
	log := zerolog.Ctx(ctx)
	if err := json.Unmarshal(d.Payload, &ev); err != nil || ev.Installation.ID == 0 {
		log.Warn().Msg("a dead-lettered delivery names no installation; not reported")
		return
	}
	number := 0
	switch {
	case ev.Issue != nil:
		number = ev.Issue.Number
	case ev.PullRequest != nil:
		number = ev.PullRequest.Number
	}
	if number == 0 {
		return
	}
	client, err := s.Clients.NewInstallationClient(ev.Installation.ID)
	if err != nil {
		log.Warn().Err(err).Msg("cannot report a dead-lettered delivery")
		return
	}
	t := githubapi.Thread{Client: client, Owner: ev.Repository.Owner.Login, Repo: ev.Repository.Name, Number: number}
	body := fmt.Sprintf("⚠️ daytwo could not handle the %s event delivered as %s here: it %s and was set aside. "+
		"Ask again; if it fails again, tell the platform team (the delivery is kept in daytwo's dead letters).", markdown.Code(d.Event), markdown.Code(d.ID), why)
	if _, err := t.Comment(ctx, body); err != nil {
		log.Warn().Err(err).Msg("cannot report a dead-lettered delivery")
	}
}
