package report

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Resolve fills in the service of a read-only command and checks its environments, as
// for a change (plan.Planner.ResolveView); /history alone may name no service, to read
// every one.
func Resolve(p *plan.Planner, cfg *repoconfig.Config, req plan.Input) (command.Command, error) {
	return p.ResolveView(cfg, req, req.Command.Name == "history")
}

// Envs lists the environments a resolved read-only command reads: the two /diff
// compares, the one it names, or every one in promotion order.
func Envs(cfg *repoconfig.Config, cmd command.Command) []string {
	switch {
	case cmd.Name == "diff":
		return []string{cmd.From, cmd.Env}
	case cmd.Env != "":
		return []string{cmd.Env}
	}
	return cfg.EnvNames()
}

// View is the answer to a read-only command; one of its parts is set.
type View struct {
	Status  *StatusView
	History []Action
	// Runs are the workflow runs /run started, beside History; nil when the selection
	// has no workflows to run.
	Runs *Runs
	// RepoURL is the repository's web address, to link the pull requests of History;
	// without it History shows commits.
	RepoURL string
	Diff    *EnvDiff
}

// Read answers a resolved read-only command from Git: snap is the commit read, hist the
// history ending there. A Status comes without live state and open pull requests, which
// are the caller's to add.
func Read(ctx context.Context, cfg *repoconfig.Config, snap plan.Snapshot, hist plan.History, cmd command.Command) (*View, error) {
	switch cmd.Name {
	case "history":
		actions, err := History(ctx, hist, cfg, cmd.Service, cmd.Env, cmd.Limit)
		return &View{History: actions}, err
	case "diff":
		d, err := Diff(ctx, cfg, snap, cmd.Service, cmd.From, cmd.Env)
		return &View{Diff: d}, err
	case "status":
		s, err := ReadStatus(ctx, cfg, snap, cmd.Service, Envs(cfg, cmd))
		return &View{Status: s}, err
	}
	return nil, fmt.Errorf("/%s is not a read-only command", cmd.Name)
}

// ReadStatus reads what Git says of service in envs, concurrently: the catalog entry and
// each environment's desired state.
func ReadStatus(ctx context.Context, cfg *repoconfig.Config, snap plan.Snapshot, service string, envs []string) (*StatusView, error) {
	svc, ok := cfg.Service(service)
	if !ok {
		return nil, fmt.Errorf("no service %q in %s (services: %s)", service, repoconfig.Path, strings.Join(cfg.ServiceNames(), ", "))
	}
	v := &StatusView{Service: service, Envs: make([]EnvStatus, len(envs))}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		v.Catalog, err = ReadCatalog(gctx, snap, svc.CatalogPath())
		return err
	})
	for i, e := range envs {
		v.Envs[i].Env = e
		g.Go(func() (err error) {
			v.Envs[i].Desired, err = ReadDesired(gctx, cfg, snap, service, e)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return v, nil
}

// Markdown renders the view for GitHub, within a comment's size.
func (v *View) Markdown() string { return fitComment(v.Render(markdown.GitHub)) }

// Render writes the view with r.
func (v *View) Render(r markdown.Renderer) string {
	switch {
	case v.Status != nil:
		return v.Status.Render(r)
	case v.Diff != nil:
		return v.Diff.Render(r)
	}
	out := RenderHistory(r, v.History, v.RepoURL)
	if v.Runs != nil {
		out += RenderRuns(r, v.Runs)
	}
	return out
}
