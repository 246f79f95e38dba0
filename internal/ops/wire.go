package ops

import (
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// New builds the runner a server configuration describes: GitHub through c, the commands
// of cmds, and Argo CD when one is configured. now is the clock (nil: the real one).
func New(cfg *config.Config, c githubapp.ClientCreator, cmds *command.Registry, now func() time.Time) (*Runner, error) {
	r := &Runner{Clients: c, Commands: cmds, Planner: plan.New(), Now: now, GraphQLURL: cfg.GitHub.V4APIURL}
	if a := cfg.ArgoCD; a.Enabled() {
		client, err := argoapi.New(argoapi.Options{
			Server: a.Server, Token: a.Token, PlainText: a.PlainText, Insecure: a.Insecure, CAFile: a.CAFile,
			GRPCWeb: a.GRPCWeb, GRPCWebRootPath: a.GRPCWebRootPath, AppNamespace: a.AppNamespace,
		})
		if err != nil {
			return nil, err
		}
		r.ArgoCD = client
	}
	return r, nil
}
