package scaffold

import (
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/validate"
)

// prove checks the repository as the change leaves it: every new overlay renders, and what
// daytwo validate checks holds: the config loads (or is discovered) with the new service
// in it, and every overlay renders, the new ones deployed by the Applications found.
func (g *gen) prove() error {
	after := layered{g.r, g.files}
	for _, env := range g.chosen {
		dir := expand(g.lay.Overlay, g.req.Name, env)
		tree, err := overlay.Load(g.ctx, after, dir)
		if err == nil {
			_, err = tree.Render()
		}
		if err != nil {
			return &Error{Msg: fmt.Sprintf("The new overlay %s does not render: %v. Fix the scaffold templates (%s overrides daytwo's).", dir, err, OverrideDir), Broken: true, Err: err}
		}
	}
	deps, skipped, err := discovery.Find(g.ctx, after, g.req.Repo...)
	if err != nil {
		return fmt.Errorf("reading the Argo CD manifests of the change: %w", err)
	}
	var cfg *repoconfig.Config
	if g.cfgFile != nil {
		cfg, err = repoconfig.Load(g.files[repoconfig.Path], command.All())
	} else {
		cfg, _, err = discovery.Config(deps, skipped, command.All())
	}
	if err != nil {
		return &Error{Msg: fmt.Sprintf("With the change, daytwo would not read the repository's services: %v", err), Err: err}
	}
	svc, ok := cfg.Service(g.req.Name)
	if !ok {
		return &Error{Msg: fmt.Sprintf("With the change, daytwo would not find %s among the repository's services (%s): its Argo CD Applications do not say it is a service.", g.req.Name, strings.Join(cfg.ServiceNames(), ", "))}
	}
	for _, env := range g.chosen {
		if !svc.Deploys(env) || svc.OverlayPath(env) != expand(g.lay.Overlay, g.req.Name, env) {
			return &Error{Msg: fmt.Sprintf("With the change, daytwo would read %s's overlay in %s at %s, not at the new one.", g.req.Name, env, svc.OverlayPath(env))}
		}
	}
	g.checked = validate.Overlays(g.ctx, after, cfg, deps)
	for _, o := range g.checked {
		if o.Service == g.req.Name {
			g.overlays = append(g.overlays, o)
		}
		if o.Err == nil {
			continue
		}
		if o.Service == g.req.Name {
			return &Error{Msg: fmt.Sprintf("%s in %s does not render: %v", o.Path, o.Env, o.Err), Broken: true, Err: o.Err}
		}
		g.notes = append(g.notes, fmt.Sprintf("%s (%s in %s) did not render before this change either: %v", o.Path, o.Service, o.Env, firstLine(o.Err.Error())))
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
