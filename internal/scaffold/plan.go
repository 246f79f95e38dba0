package scaffold

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Options is what Plan needs besides the request.
type Options struct {
	// Repo names the repository read ("owner/name" or its clone URLs), for ApplicationSet
	// git generators.
	Repo []string
	// TeamNote says how the owning team was checked, for the description ("" when GitHub
	// was asked).
	TeamNote string
}

// Plan is /new-service on snap as a ChangeSet: the service's files from Generate, proven,
// as one commit of the request. cfg is the repository's config, cfgFile its bytes (nil when
// discovered). Errors are *plan.Error: refused (frozen environment), invalid (a taken
// name, an unknown environment, …), broken (a template or overlay that does not render).
func Plan(ctx context.Context, p *plan.Planner, cfg *repoconfig.Config, cfgFile []byte, snap plan.Snapshot, req plan.Input, opt Options) (*plan.ChangeSet, *Result, error) {
	cmd := req.Command
	envs := cmd.Envs
	if len(envs) == 0 {
		envs = cfg.EnvNames()
	}
	for _, e := range envs {
		if f, frozen := cfg.Frozen(e); frozen {
			return nil, nil, plan.Errorf(plan.Forbidden, "%s; leave it out with --envs, or ask for /unfreeze --env %s first", plan.FreezeText(e, f), e)
		}
	}
	res, err := Generate(ctx, snap, cfg, cfgFile, Request{
		Name: cmd.Service, Owner: cmd.Owner, Image: cmd.Image, Port: cmd.Port, Envs: cmd.Envs,
		System: cmd.System, Lifecycle: cmd.Lifecycle, Repo: opt.Repo,
	})
	var se *Error
	switch {
	case errors.As(err, &se) && se.Broken:
		return nil, nil, &plan.Error{Code: plan.Broken, Msg: se.Msg, Err: err}
	case errors.As(err, &se):
		return nil, nil, &plan.Error{Code: plan.Invalid, Msg: se.Msg, Err: err}
	case err != nil && ctx.Err() != nil:
		return nil, nil, &plan.Error{Code: plan.Internal, Msg: "planning was cancelled", Err: err}
	case err != nil:
		return nil, nil, &plan.Error{Code: plan.Internal, Msg: "reading the repository failed", Err: err}
	}
	change := plan.NewServiceChange{Envs: res.Envs, Description: res.Describe(opt.TeamNote)}
	for _, f := range res.Files {
		change.Files = append(change.Files, plan.FileChange{Path: f.Path, Content: f.Content, Before: f.Before})
	}
	cs, err := p.NewService(req, snap.Commit(), change)
	return cs, res, err
}

// Describe is the pull request description of the new service: where it goes, how Argo CD
// deploys it, the proof, what a reviewer should know and the files.
func (res *Result) Describe(teamNote string) string {
	var b strings.Builder
	l := res.Layout
	fmt.Fprintf(&b, "Laid out like %s: base %s, overlays %s", markdown.Code(l.Reference), markdown.Code(l.Base), markdown.Code(l.Overlay))
	if l.Namespace != "" {
		fmt.Fprintf(&b, ", namespace %s", markdown.Code(l.Namespace))
	}
	if len(l.Components) > 0 {
		fmt.Fprintf(&b, ", components %s", markdown.Code(strings.Join(l.Components, ", ")))
	}
	fmt.Fprintf(&b, "; catalog %s (system %s).\n\n", markdown.Code(l.Catalog), markdown.Code(res.System))
	if teamNote != "" {
		fmt.Fprintf(&b, "> %s\n\n", markdown.Text(teamNote))
	}
	b.WriteString("| environment | overlay | renders | Argo CD |\n|---|---|---|---|\n")
	for _, o := range res.Overlays {
		how := "—"
		for _, a := range res.Apps {
			if a.Env == o.Env {
				how = markdown.Cell(a.Name + ": " + a.How)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | ✅ | %s |\n", markdown.Cell(o.Env), markdown.Code(o.Path), how)
	}
	ok, services := 0, map[string]bool{}
	for _, o := range res.Checked {
		services[o.Service] = true
		if o.Err == nil {
			ok++
		}
	}
	fmt.Fprintf(&b, "\n`daytwo validate` on this branch: %d of %d overlays of %d services render.\n", ok, len(res.Checked), len(services))
	if len(res.Notes) > 0 {
		b.WriteString("\n### Notes\n\n")
		for _, n := range res.Notes {
			fmt.Fprintf(&b, "- %s\n", markdown.Text(n))
		}
	}
	b.WriteString("\n### Files\n\n")
	for _, f := range res.Files {
		status := "added"
		if f.Before != nil {
			status = "modified"
		}
		fmt.Fprintf(&b, "- %s (%s)\n", markdown.Code(f.Path), status)
	}
	return b.String()
}
