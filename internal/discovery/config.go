package discovery

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// knownEnvs are environment names in their usual promotion order.
var knownEnvs = []string{"dev", "development", "test", "qa", "stage", "staging", "preprod", "uat", "prod", "production"}

func envRank(e string) int {
	for i, k := range knownEnvs {
		if k == e {
			return i
		}
	}
	return len(knownEnvs)
}

func isEnv(s string) bool { return envRank(s) < len(knownEnvs) }

// place infers the service and environment of a deployment: from its labels, its path,
// then its name.
func place(d *Deployment) {
	svc := d.Labels["app.kubernetes.io/name"]
	env := ""
	for k, v := range d.Labels {
		if k2 := strings.ToLower(k); strings.HasSuffix(k2, "environment") || strings.HasSuffix(k2, "/env") || k2 == "env" {
			env = v
		}
	}
	if svc != "" && env != "" {
		d.Service, d.Env, d.Why = svc, env, "labels"
		return
	}
	segs := strings.Split(d.Path, "/")
	for i := len(segs) - 2; i >= 1; i-- {
		if segs[i] == "overlays" && i+1 < len(segs) { // <...>/<service>/overlays/<env>
			d.Service, d.Env, d.Why = orLabel(svc, segs[i-1]), segs[i+1], "path …/<service>/overlays/<env>"
			return
		}
	}
	n := len(segs)
	switch {
	case n >= 2 && isEnv(segs[n-2]): // <...>/<env>/<service>
		d.Service, d.Env, d.Why = orLabel(svc, segs[n-1]), segs[n-2], "path …/<env>/<service>"
		return
	case n >= 2 && isEnv(segs[n-1]): // <...>/<service>/<env>
		d.Service, d.Env, d.Why = orLabel(svc, segs[n-2]), segs[n-1], "path …/<service>/<env>"
		return
	}
	for _, e := range knownEnvs {
		if s, ok := strings.CutSuffix(d.App, "-"+e); ok && s != "" {
			d.Service, d.Env, d.Why = orLabel(svc, s), e, "name <service>-<env>"
			return
		}
		if s, ok := strings.CutPrefix(d.App, e+"-"); ok && s != "" {
			d.Service, d.Env, d.Why = orLabel(svc, s), e, "name <env>-<service>"
			return
		}
	}
	d.Why = "neither its labels, its path nor its name say which service and environment it is"
}

func orLabel(label, guess string) string {
	if label != "" {
		return label
	}
	return guess
}

// Report says what discovery found and did.
type Report struct {
	Placed, Unplaced []Deployment
	Skipped          []Skip   // what discovery could not count
	Filled           []string // what Merge added to a config
}

// String is the report for people.
func (r Report) String() string {
	var b strings.Builder
	for _, d := range r.Placed {
		app := d.App
		if app == "" {
			app = "-" // found in the layout, not in an Application
		}
		fmt.Fprintf(&b, "discovered %-24s %-10s %-10s %s (%s; from %s)\n", app, d.Service, d.Env, d.Path, d.Why, d.From)
	}
	for _, d := range r.Unplaced {
		fmt.Fprintf(&b, "not placed %-24s %s: %s (from %s)\n", d.App, d.Path, d.Why, d.From)
	}
	b.WriteString(r.Notes())
	return b.String()
}

// Notes are the lines of the report about what was skipped and filled.
func (r Report) Notes() string {
	var b strings.Builder
	for _, s := range r.Skipped {
		label := "skipped"
		if s.Broken {
			label = "failed"
		}
		fmt.Fprintf(&b, "%-10s %s\n", label, s)
	}
	for _, f := range r.Filled {
		fmt.Fprintf(&b, "filled     %s\n", f)
	}
	return b.String()
}

func split(deps []Deployment) Report {
	var r Report
	for _, d := range deps {
		if d.Service != "" && d.Env != "" {
			r.Placed = append(r.Placed, d)
		} else {
			r.Unplaced = append(r.Unplaced, d)
		}
	}
	return r
}

// Config writes a complete daytwo config for a repository without one: environments in
// their usual order with daytwo's default policy, and a service per placed deployment,
// whose overlay and Argo CD app name templates reproduce every path and name found. It is
// loaded with repoconfig.Load and daytwo's commands cmds, so it is exactly what a user
// could have written.
//
// With nothing placed, the error names the ApplicationSets Argo CD cannot render, or else
// says what was skipped.
func Config(deps []Deployment, skipped []Skip, cmds repoconfig.Commands) (*repoconfig.Config, Report, error) {
	rep := split(deps)
	rep.Skipped = skipped
	if len(rep.Placed) == 0 {
		var broken, other []string
		for _, s := range skipped {
			if s.Broken {
				broken = append(broken, s.String())
			} else {
				other = append(other, s.String())
			}
		}
		switch {
		case len(broken) > 0:
			return nil, rep, fmt.Errorf("%s; fix it or write %s (see docs/config.md)", strings.Join(broken, "; "), repoconfig.Path)
		case len(other) > 0:
			return nil, rep, fmt.Errorf("no Argo CD Application in the repository says which service and environment it deploys, and discovery skipped %s; write %s (see docs/config.md)", strings.Join(other, "; "), repoconfig.Path)
		}
		return nil, rep, fmt.Errorf("no Argo CD Application in the repository says which service and environment it deploys; write %s (see docs/config.md)", repoconfig.Path)
	}
	envSet := map[string]bool{}
	bySvc := map[string][]Deployment{}
	for _, d := range rep.Placed {
		envSet[d.Env] = true
		bySvc[d.Service] = append(bySvc[d.Service], d)
	}
	envs := make([]string, 0, len(envSet))
	for e := range envSet {
		envs = append(envs, e)
	}
	sort.Slice(envs, func(i, j int) bool {
		if ri, rj := envRank(envs[i]), envRank(envs[j]); ri != rj {
			return ri < rj
		}
		return envs[i] < envs[j]
	})
	type envOut struct {
		Name string `json:"name"`
	}
	type svcOut struct {
		Name         string   `json:"name"`
		Overlay      string   `json:"overlay,omitempty"`
		ArgoCDApp    string   `json:"argocdApp,omitempty"`
		Environments []string `json:"environments,omitempty"`
	}
	out := struct {
		Version      int      `json:"version"`
		Environments []envOut `json:"environments"`
		Services     []svcOut `json:"services"`
	}{Version: 1}
	for _, e := range envs {
		out.Environments = append(out.Environments, envOut{Name: e})
	}
	names := make([]string, 0, len(bySvc))
	for s := range bySvc {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, name := range names {
		ds := bySvc[name]
		s := svcOut{Name: name}
		var err error
		if s.Overlay, err = commonTemplate(ds, func(d Deployment) string { return d.Path }); err != nil {
			rep.Unplaced = append(rep.Unplaced, ds...)
			continue
		}
		s.ArgoCDApp, _ = commonTemplate(ds, func(d Deployment) string { return d.App })
		if len(ds) < len(envs) {
			for _, d := range ds {
				s.Environments = append(s.Environments, d.Env)
			}
			sort.Slice(s.Environments, func(i, j int) bool { return envRank(s.Environments[i]) < envRank(s.Environments[j]) })
		}
		out.Services = append(out.Services, s)
	}
	data, err := yaml.Marshal(out)
	if err != nil {
		return nil, rep, err
	}
	cfg, err := repoconfig.Load(data, cmds)
	if err != nil {
		return nil, rep, fmt.Errorf("the discovered config does not load (%v); write %s", err, repoconfig.Path)
	}
	return cfg, rep, nil
}

// commonTemplate turns each deployment's value (path or name) into a template with
// {service} and {env}; they must all give the same one.
func commonTemplate(ds []Deployment, value func(Deployment) string) (string, error) {
	tmpl := ""
	for _, d := range ds {
		v := value(d)
		t := strings.ReplaceAll(v, d.Env, "{env}")
		t = strings.ReplaceAll(t, d.Service, "{service}")
		if !strings.Contains(t, "{env}") {
			return "", fmt.Errorf("%q does not name its environment", v)
		}
		if tmpl != "" && t != tmpl {
			return "", fmt.Errorf("%q and %q follow no one pattern", tmpl, t)
		}
		tmpl = t
	}
	return path.Clean(tmpl), nil
}

// Merge fills what cfg leaves out from the deployments found, never changing what works:
// a service whose Argo CD app name (configured or default) names no Application found for
// its overlay gets the name of the one that deploys that overlay. Deployments of services
// the config does not list are reported, not added: the config is the authority on what
// daytwo manages.
func Merge(cfg *repoconfig.Config, deps []Deployment, skipped []Skip) Report {
	rep := split(deps)
	rep.Skipped = skipped
	byApp := map[string]bool{}
	byPath := map[string][]Deployment{}
	for _, d := range deps {
		byApp[d.App] = true
		byPath[d.Path] = append(byPath[d.Path], d)
	}
	for i := range cfg.Services {
		svc := &cfg.Services[i]
		var found []Deployment
		ok := true
		for _, env := range cfg.EnvNames() {
			if !svc.Deploys(env) {
				continue
			}
			if byApp[svc.ArgoCDAppName(env)] {
				continue
			}
			at := byPath[path.Clean(svc.OverlayPath(env))]
			if len(at) != 1 {
				ok = false
				continue
			}
			d := at[0]
			d.Service, d.Env = svc.Name, env
			found = append(found, d)
		}
		if !ok || len(found) == 0 {
			continue
		}
		t, err := commonTemplate(found, func(d Deployment) string { return d.App })
		if err != nil {
			continue
		}
		before := svc.ArgoCDApp
		svc.ArgoCDApp = t
		rep.Filled = append(rep.Filled, fmt.Sprintf("service %s: argocdApp %q names no Application found; using %q (the Applications deploying its overlays)", svc.Name, before, t))
	}
	listed := map[string]bool{}
	for _, s := range cfg.Services {
		listed[s.Name] = true
	}
	for _, d := range rep.Placed {
		if !listed[d.Service] {
			rep.Filled = append(rep.Filled, fmt.Sprintf("service %s (%s, Application %s) is deployed but not in %s; daytwo leaves it alone", d.Service, d.Env, d.App, repoconfig.Path))
		}
	}
	return rep
}
