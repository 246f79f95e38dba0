package ops

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"golang.org/x/sync/errgroup"

	"github.com/daytwo-dev/daytwo/internal/command"
	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/handler"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// viewSpecs are the read-only commands: they answer in the thread and change nothing.
func viewSpecs() []command.Spec {
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
				fs.Func("limit", "n", "<n>", fmt.Sprintf("how many actions to show, 1 to %d (default %d)", report.MaxHistoryLimit, report.DefaultHistoryLimit), func(v string) error {
					n, err := strconv.Atoi(v)
					if err != nil || n < 1 || n > report.MaxHistoryLimit {
						return fmt.Errorf("--limit takes a number from 1 to %d, not %q", report.MaxHistoryLimit, v)
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

var views = map[string]bool{"status": true, "history": true, "diff": true}

// view answers a read-only command on the status comment.
func (r *Runner) view(ctx context.Context, client *gh.Client, req handler.Request, cmd command.Command, st *status) {
	t, err := r.target(ctx, client, r.graphql(client), req.Owner, req.Repo)
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	preq := plan.Request{Command: cmd, Requester: req.Author, Labels: req.Labels, Repo: req.FullRepo()}
	resolved, err := r.Planner.ResolveView(t.cfg, preq, cmd.Name == "history")
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	envs := t.cfg.EnvNames()
	if resolved.Env != "" && cmd.Name != "diff" {
		envs = []string{resolved.Env}
	}
	if cmd.Name == "diff" {
		envs = []string{resolved.From, resolved.Env}
	}
	// Reading is for whoever each environment's policy names for the command, and for
	// anyone with read access where it names nobody.
	for _, e := range envs {
		env, _ := t.cfg.Env(e)
		rule, named := env.Requesters[cmd.Name]
		if !named {
			rule = repoconfig.Rule{Permission: "read"}
		}
		ok, have, err := qualifies(ctx, t.repo, req.Author, rule)
		if err != nil {
			st.failWith(ctx, err)
			return
		}
		if !ok {
			st.fail(ctx, ghapi.StateRefused, fmt.Sprintf("@%s, `/%s` in %s is for people with %s on %s; you have %s.", req.Author, cmd.Name, e, rule, t.repo.FullName(), describePermission(have)))
			return
		}
	}
	var answer string
	switch cmd.Name {
	case "history":
		actions, herr := report.History(ctx, t.snap.History(), t.cfg, resolved.Service, resolved.Env, resolved.Limit)
		err = herr
		answer = report.HistoryMarkdown(actions, t.repoURL())
	case "diff":
		d, derr := report.Diff(ctx, t.cfg, t.snap, resolved.Service, resolved.From, resolved.Env)
		err = derr
		if d != nil {
			answer = d.Markdown()
		}
	default:
		answer, err = r.statusView(ctx, t, resolved.Service, envs)
	}
	if err != nil {
		st.failWith(ctx, plan.Errorf(plan.Invalid, "%v", err))
		return
	}
	st.set(ghapi.StateAnswered, 0).step(ctx, "", answer)
}

// statusView reads desired, live and pending state of service in envs, concurrently.
func (r *Runner) statusView(ctx context.Context, t *target, service string, envs []string) (string, error) {
	svc, _ := t.cfg.Service(service)
	v := report.StatusView{Service: service, Envs: make([]report.EnvStatus, len(envs))}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		v.Catalog, err = report.ReadCatalog(gctx, t.snap, svc.CatalogPath())
		return err
	})
	for i, e := range envs {
		v.Envs[i].Env = e
		for _, pr := range t.read.OpenOn(t.head.Branch, fmt.Sprintf("daytwo/%s/%s/", e, service)) {
			v.Envs[i].OpenPRs = append(v.Envs[i].OpenPRs, report.PRRef{Number: pr.Number, URL: pr.URL})
		}
		g.Go(func() (err error) {
			v.Envs[i].Desired, err = report.ReadDesired(gctx, t.cfg, t.snap, service, e)
			return err
		})
		if r.ArgoCD != nil && svc.Deploys(e) {
			g.Go(func() error {
				app := svc.ArgoCDAppName(e)
				l := &report.Live{App: app}
				st, err := r.ArgoCD.Get(gctx, app)
				if err != nil {
					l.Err = firstLine(err.Error())
				} else {
					l.Sync, l.Health, l.Revision, l.Images, l.LastSynced = st.Sync, st.Health, st.Revision, st.Images, st.LastSynced
				}
				v.Envs[i].Live = l
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	return v.Markdown(), nil
}

// repoURL is the repository's web address, for links.
func (t *target) repoURL() string {
	for _, pr := range t.read.Open {
		if i := strings.Index(pr.URL, "/pull/"); i > 0 {
			return pr.URL[:i]
		}
	}
	if t.repo.Client == nil || t.repo.Client.BaseURL == nil {
		return ""
	}
	u := *t.repo.Client.BaseURL // https://api.github.com/ or https://HOST/api/v3/
	return u.Scheme + "://" + strings.TrimPrefix(u.Host, "api.") + "/" + t.repo.FullName()
}
