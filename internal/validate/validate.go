// Package validate is what `daytwo validate` checks on a commit of a GitOps repository:
// every overlay the config names renders with kustomize, and which Argo CD Application
// deploys it. /new-service runs the same checks on the commit it proposes.
package validate

import (
	"context"
	"slices"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Overlay is one service's overlay in one environment, checked.
type Overlay struct {
	Service, Env, Path string
	Err                error    // why it does not load or render; nil when it renders
	Apps               []string // the Applications (kept or generated) deploying Path
	App                string   // the Application the config names
}

// Overlays loads and renders every overlay of cfg from r, in service and promotion order.
// deps are the Applications discovery found in the same commit.
func Overlays(ctx context.Context, r overlay.Reader, cfg *repoconfig.Config, deps []discovery.Deployment) []Overlay {
	deployedBy := map[string][]string{} // overlay path → Application names
	for _, d := range deps {
		deployedBy[d.Path] = append(deployedBy[d.Path], d.App)
	}
	var out []Overlay
	for _, svc := range cfg.Services {
		for _, env := range cfg.EnvNames() {
			if !svc.Deploys(env) {
				continue
			}
			p := svc.OverlayPath(env)
			tree, err := overlay.Load(ctx, r, p)
			if err == nil {
				_, err = tree.Render()
			}
			out = append(out, Overlay{Service: svc.Name, Env: env, Path: p, Err: err, Apps: deployedBy[p], App: svc.ArgoCDAppName(env)})
		}
	}
	return out
}

// Failed lists the overlays that do not render.
func Failed(os []Overlay) []Overlay {
	var out []Overlay
	for _, o := range os {
		if o.Err != nil {
			out = append(out, o)
		}
	}
	return out
}

// DescribeApps says which Argo CD Application deploys the overlay, and whether it is the
// one the config names.
func (o Overlay) DescribeApps() string {
	switch {
	case len(o.Apps) == 0:
		return "no Argo CD Application found for this path"
	case slices.Contains(o.Apps, o.App):
		return "argocd: " + o.App
	default:
		return "argocd: " + strings.Join(o.Apps, ", ") + ` (config names "` + o.App + `": set argocdApp)`
	}
}
