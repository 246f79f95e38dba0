package report

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Specs are the read-only commands: they answer and change nothing.
func Specs() []command.Spec {
	return []command.Spec{
		{
			Name:    "status",
			Summary: "Show what runs where: desired (Git) and live (Argo CD) state per environment",
			Description: "For each environment of the service: the images, replicas and config Git says it runs, " +
				"whether it is frozen, what Argo CD reports (sync, health, revision, last sync), the open daytwo PRs, " +
				"and the owner and dependencies from the service's Backstage catalog-info.yaml, with a diagram of " +
				"the promotion path.",
			Examples: []command.Example{
				{Line: "/status --service checkout", Text: "checkout in every environment"},
				{Line: "/status -s payments -e prod", Text: "payments in prod only"},
			},
		},
		{
			Name:    "history",
			Summary: "List the day-2 actions recorded in Git history",
			Description: "The changes daytwo made, read from the trailers of the commits on the overlays: when, what, " +
				"who asked, and the pull request. Without --service, every service; without --env, every environment.",
			Examples: []command.Example{
				{Line: "/history --service checkout --env prod", Text: "what was done to checkout in prod"},
				{Line: "/history --limit 30", Text: "the last 30 actions on anything"},
			},
			Flags: func(fs *command.FlagSet, c *command.Command) {
				fs.Func("limit", "n", "<n>", fmt.Sprintf("how many actions to show, 1 to %d (default %d)", MaxHistoryLimit, DefaultHistoryLimit), func(v string) error {
					n, err := strconv.Atoi(v)
					if err != nil || n < 1 || n > MaxHistoryLimit {
						return fmt.Errorf("--limit takes a number from 1 to %d, not %q", MaxHistoryLimit, v)
					}
					c.Limit = n
					return nil
				})
			},
		},
		{
			Name:    "diff",
			Args:    "<env> <env>",
			Summary: "Show what differs between two environments of a service",
			Description: "Images, config and replicas of the service in the first environment against the second: " +
				"what `/promote <second> --from <first>` would carry.",
			Examples: []command.Example{{Line: "/diff staging prod --service checkout", Text: "what promoting checkout to prod would change"}},
			Bind: func(c *command.Command, args []string) error {
				if len(args) != 2 {
					return command.ArgErrorf(min(len(args), 2), "/diff compares two environments: /diff <env> <env>, e.g. /diff staging prod")
				}
				for i, a := range args {
					if err := command.ValidateName("environment", a); err != nil {
						return &command.ArgError{Index: i, Err: err}
					}
				}
				if c.Env != "" {
					return command.ArgErrorf(0, "/diff takes its environments as arguments, not --env")
				}
				c.From, c.Env = args[0], args[1]
				return nil
			},
		},
	}
}

// IsView reports whether a command is one of Specs.
func IsView(name string) bool { return name == "status" || name == "history" || name == "diff" }

// Resolve fills in the service of a read-only command and checks its environments, as
// for a change (plan.Planner.ResolveView); /history alone may name no service, to read
// every one.
func Resolve(p *plan.Planner, cfg *repoconfig.Config, req plan.Request) (command.Command, error) {
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
	return RenderHistory(r, v.History, v.RepoURL)
}
