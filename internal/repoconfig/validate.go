package repoconfig

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"

	"github.com/daytwo-dev/daytwo/internal/valid"
	"github.com/daytwo-dev/daytwo/internal/workflow"
)

// MaxArgoCDTimeout bounds argocd.timeout: the wait for Synced/Healthy after a merge.
const MaxArgoCDTimeout = 24 * time.Hour

// MaxReplicas bounds replicas.min and replicas.max.
const MaxReplicas = 10_000

var (
	teamRef   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	userLogin = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,38})(\[bot\])?$`)
	repoRef   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$`)
)

const dnsLabelRule = valid.DNSLabelRule

// validator checks a decoded config, pointing at lines the decoder recorded.
type validator struct {
	problems
	lines    map[string]int
	commands []string // the commands requesters keys may name
}

// line is the line of path, or of its nearest ancestor the decoder saw.
func (v *validator) line(p string) int {
	for {
		if l, ok := v.lines[p]; ok {
			return l
		}
		if p == "" {
			return 0
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			p = ""
		} else {
			p = p[:i]
		}
	}
}

func (v *validator) at(p place, format string, args ...any) {
	v.add(v.line(p.path), format, args...)
}

// has reports whether the file itself set the value at p.
func (v *validator) has(p place) bool {
	_, ok := v.lines[p.path]
	return ok
}

func envPlace(i int, e *Environment) place {
	p := place{path: fmt.Sprintf("environments[%d]", i)}
	p.owner = p.path
	if e.Name != "" {
		p.owner = fmt.Sprintf("environment %q", e.Name)
	}
	return p
}

func servicePlace(i int, s *Service) place {
	p := place{path: fmt.Sprintf("services[%d]", i)}
	p.owner = p.path
	if s.Name != "" {
		p.owner = fmt.Sprintf("service %q", s.Name)
	}
	return p
}

// config checks the file as written, before defaults.
func (v *validator) config(c *Config) {
	top := place{}
	switch {
	case !v.has(top.child("version")):
		v.add(1, "version is missing; start the file with \"version: %d\"", Version)
	case c.Version != Version:
		v.at(top.child("version"), "unsupported version %d; this daytwo reads version %d", c.Version, Version)
	}
	if len(c.Environments) == 0 {
		v.at(top.child("environments"), "environments lists no environment; at least one is required")
	}
	if len(c.Services) == 0 {
		v.at(top.child("services"), "services lists no service; at least one is required")
	}

	envLine := map[string]int{}
	for i := range c.Environments {
		e := &c.Environments[i]
		p := envPlace(i, e)
		v.name(p, "environment", e.Name, envLine)
		v.requesters(p.child("requesters"), e.Requesters)
		v.bounds(p.child("replicas"), e.Replicas)
		if e.BreakGlass != nil {
			v.rule(p.child("breakGlass"), *e.BreakGlass)
		}
		if e.Freeze != nil && e.Freeze.By != "" {
			v.login(p.child("freeze").child("by"), e.Freeze.By)
		}
		v.timeout(p.child("argocd").child("timeout"), e.ArgoCD.Timeout)
		v.workflows(p.child("workflows"), e.Workflows, nil)
	}

	def := top.child("defaults")
	v.template(def.child("overlay"), c.Defaults.Overlay, true, "service", "env")
	v.template(def.child("argocdApp"), c.Defaults.ArgoCDApp, false, "service", "env")
	v.template(def.child("catalog"), c.Defaults.Catalog, true, "service")
	v.workload(def.child("workload"), c.Defaults.Workload)
	v.requesters(def.child("requesters"), c.Defaults.Requesters)
	v.timeout(def.child("argocd").child("timeout"), c.Defaults.ArgoCD.Timeout)

	svcLine := map[string]int{}
	for i := range c.Services {
		s := &c.Services[i]
		p := servicePlace(i, s)
		v.name(p, "service", s.Name, svcLine)
		v.template(p.child("overlay"), s.Overlay, true, "service", "env")
		v.template(p.child("argocdApp"), s.ArgoCDApp, false, "service", "env")
		v.template(p.child("catalog"), s.Catalog, true, "service")
		v.workload(p.child("workload"), s.Workload)
		if s.Container != "" && !valid.IsDNSLabel(s.Container) {
			v.at(p.child("container"), "%s %q is not a container name (%s)", p.child("container"), s.Container, dnsLabelRule)
		}
		v.image(p.child("image"), s.Image)
		seenImage := map[string]bool{}
		for j, img := range s.Images {
			ip := p.child("images").index(j)
			if seenImage[img] {
				v.at(ip, "%s lists image %q twice", p, img)
				continue
			}
			seenImage[img] = true
			v.image(ip, img)
		}
		if s.ConfigMap != "" && !valid.IsObjectName(s.ConfigMap) {
			v.at(p.child("configMap"), "%s %q is not a ConfigMap name (lower-case letters, digits, '-' and '.')", p.child("configMap"), s.ConfigMap)
		}
		if s.Repository != "" && !repoRef.MatchString(s.Repository) {
			v.at(p.child("repository"), "%s must be \"owner/repo\", not %q", p.child("repository"), s.Repository)
		}
		seen := map[string]bool{}
		for j, env := range s.Environments {
			ep := p.child("environments").index(j)
			switch _, ok := c.Env(env); {
			case !ok:
				v.at(ep, "%s names environment %q, which environments does not define%s", p, env, didYouMean(env, c.EnvNames()))
			case seen[env]:
				v.at(ep, "%s lists environment %q twice", p, env)
			}
			seen[env] = true
		}
		v.workflows(p.child("workflows"), s.Workflows, s)
	}
	v.workflowClashes(c)
}

func workflowPlace(list place, i int, w *Workflow) place {
	p := list.index(i)
	if w.Name != "" {
		p = place{path: p.path, owner: fmt.Sprintf("workflow %q of %s", w.Name, list.owner)}
	}
	return p
}

// workflows checks the workflows listed on an environment, or on svc.
func (v *validator) workflows(list place, ws []Workflow, svc *Service) {
	first := map[string]int{}
	for i := range ws {
		w := &ws[i]
		p := workflowPlace(list, i, w)
		if w.Name == "" {
			v.at(p, "%s has no name: give the name people ask for it by", p)
		} else if !valid.IsDNSLabel(w.Name) {
			v.at(p.child("name"), "workflow name %q must be %s", w.Name, dnsLabelRule)
		} else if prev, dup := first[w.Name]; dup {
			v.at(p.child("name"), "workflow %q is listed twice in %s (first on line %d)", w.Name, list, prev)
		} else {
			first[w.Name] = v.line(p.child("name").path)
		}
		switch r := w.Repository; {
		case r == "" || r == WorkflowRepoGitOps:
		case r == WorkflowRepoService:
			if svc != nil && svc.Repository == "" {
				v.at(p.child("repository"), "%s runs in the service's repository, but service %q names none; set its repository: (owner/repo)", p, svc.Name)
			}
		case !repoRef.MatchString(r):
			v.at(p.child("repository"), "%s must be %q, %q or \"owner/repo\", not %q", p.child("repository"), WorkflowRepoGitOps, WorkflowRepoService, r)
		}
		if w.Workflow == "" {
			v.at(p, "%s names no workflow: give its file name under .github/workflows (deploy.yml) or its id", p)
		} else if err := workflow.ValidateFile(w.Workflow); err != nil {
			v.at(p.child("workflow"), "%s: %v", p.child("workflow"), err)
		}
		if w.Ref != "" {
			if err := workflow.ValidateRef(w.Ref); err != nil {
				v.at(p.child("ref"), "%s: %v", p.child("ref"), err)
			}
		}
	}
}

// workflowClashes refuses a service's workflow named like one of an environment the
// service deploys to: /run <name> would not say which.
func (v *validator) workflowClashes(c *Config) {
	for i := range c.Services {
		s := &c.Services[i]
		list := servicePlace(i, s).child("workflows")
		for j := range s.Workflows {
			w := &s.Workflows[j]
			for _, e := range c.Environments {
				if !s.Deploys(e.Name) || !slices.ContainsFunc(e.Workflows, func(x Workflow) bool { return x.Name == w.Name && w.Name != "" }) {
					continue
				}
				v.at(workflowPlace(list, j, w).child("name"), "workflow %q of service %q has the name of a workflow of environment %q; rename one, so that a request for %q says which", w.Name, s.Name, e.Name, w.Name)
				break
			}
		}
	}
}

// name checks an environment or service name and that it is the first of its name.
func (v *validator) name(p place, noun, name string, first map[string]int) {
	if name == "" {
		v.at(p, "%s has no name", p)
		return
	}
	if !valid.IsDNSLabel(name) {
		v.at(p.child("name"), "%s name %q must be a DNS label: %s", noun, name, dnsLabelRule)
		return
	}
	l := v.line(p.child("name").path)
	if prev, dup := first[name]; dup {
		v.add(l, "%s %q is defined twice (first on line %d)", noun, name, prev)
		return
	}
	first[name] = l
}

func (v *validator) requesters(p place, rs map[string]Rule) {
	known := append(slices.Clone(v.commands), AnyCommand)
	for _, k := range slices.Sorted(maps.Keys(rs)) {
		if !slices.Contains(known, k) {
			v.at(p.child(k), "unknown command %q %s%s", k, p.in(), didYouMean(k, known))
			continue
		}
		v.rule(p.child(k), rs[k])
	}
}

func (v *validator) rule(p place, r Rule) {
	if r.Permission != "" && !slices.Contains(Permissions, r.Permission) {
		v.at(p.child("permission"), "%s must be one of %s, not %q%s",
			p.child("permission"), strings.Join(Permissions, ", "), r.Permission, didYouMean(r.Permission, Permissions))
	}
	for i, t := range r.Teams {
		tp := p.child("teams").index(i)
		switch {
		case strings.HasPrefix(t, "@") && teamRef.MatchString(t[1:]):
			v.at(tp, "%s: write team %q without the @, as %q", tp, t, t[1:])
		case !teamRef.MatchString(t):
			v.at(tp, "%s: team %q must be written \"org/team-slug\", e.g. \"acme/sre\"", tp, t)
		}
	}
	for i, u := range r.Users {
		v.login(p.child("users").index(i), u)
	}
}

func (v *validator) login(p place, u string) {
	switch {
	case strings.HasPrefix(u, "@") && userLogin.MatchString(u[1:]):
		v.at(p, "%s: write user %q without the @, as %q", p, u, u[1:])
	case !userLogin.MatchString(u):
		v.at(p, "%s: %q is not a GitHub login", p, u)
	}
}

func (v *validator) bounds(p place, b Bounds) {
	switch {
	case b.Min < 0 || b.Max < 0:
		v.at(p, "%s: replica bounds cannot be negative (min %d, max %d)", p, b.Min, b.Max)
	case b.Min > MaxReplicas || b.Max > MaxReplicas:
		v.at(p, "%s: replica bounds above %d are not supported (min %d, max %d)", p, MaxReplicas, b.Min, b.Max)
	case b.Max > 0 && b.Min > b.Max:
		v.at(p.child("min"), "%s: min %d is above max %d", p, b.Min, b.Max)
	}
}

func (v *validator) timeout(p place, d time.Duration) {
	if d == 0 && !v.has(p) {
		return
	}
	if d < time.Second || d > MaxArgoCDTimeout {
		v.at(p, "%s must be between 1s and %s, not %s", p, "24h", d)
	}
}

func (v *validator) workload(p place, w Workload) {
	if w.Kind != "" && !slices.Contains(WorkloadKinds, w.Kind) {
		v.at(p.child("kind"), "%s must be one of %s, not %q%s", p.child("kind"), strings.Join(WorkloadKinds, ", "), w.Kind, didYouMean(w.Kind, WorkloadKinds))
	}
	if w.Name == "" {
		return
	}
	if !v.template(p.child("name"), w.Name, false, "service") {
		return
	}
	// Names are checked with a sample service name; the placeholder expands to a DNS label.
	if n := expand(w.Name, "svc", ""); !valid.IsObjectName(n) {
		v.at(p.child("name"), "%s %q is not a Kubernetes object name (lower-case letters, digits, '-' and '.')", p.child("name"), w.Name)
	}
}

// image checks an image name as the kustomization's images[].name holds it: a reference
// without tag or digest, by the grammar container tools share (distribution/reference).
func (v *validator) image(p place, img string) {
	if img == "" {
		return
	}
	named, err := reference.ParseNormalizedNamed(img)
	switch {
	case strings.ContainsAny(img, " \t\n\r"):
		v.at(p, "%s %q must not contain spaces", p, img)
	case err != nil:
		v.at(p, "%s %q is not an image name: %v", p, img, err)
	case !reference.IsNameOnly(named):
		v.at(p, "%s %q must be the image name as in the kustomization's images[].name, without tag or digest", p, img)
	}
}

// template checks the placeholders of a template and, for paths, that it is a clean
// relative path. It reports whether the template is usable.
func (v *validator) template(p place, t string, isPath bool, allowed ...string) bool {
	if t == "" {
		return true
	}
	for rest := t; rest != ""; {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if rest[open] == '}' || end < 0 || strings.ContainsRune(rest[open+1:open+end], '{') {
			v.at(p, "%s %q has an unmatched brace", p, t)
			return false
		}
		name := rest[open+1 : open+end]
		if !slices.Contains(allowed, name) {
			v.at(p, "%s uses {%s}; it may use only %s", p, name, placeholders(allowed))
			return false
		}
		rest = rest[open+end+1:]
	}
	if !isPath {
		return true
	}
	switch clean := path.Clean(t); {
	case strings.HasPrefix(t, "/"):
		v.at(p, "%s %q must be relative to the repository root, not absolute", p, t)
	case strings.Contains(t, `\`):
		v.at(p, "%s %q must separate directories with /", p, t)
	case slices.Contains(strings.Split(t, "/"), ".."):
		v.at(p, "%s %q must stay inside the repository (no ..)", p, t)
	case clean != t:
		v.at(p, "%s %q is not a clean path; write %q", p, t, clean)
	default:
		return true
	}
	return false
}

func placeholders(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{" + n + "}"
	}
	if len(out) == 1 {
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

var argoAppName = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// expanded checks what only the templates with defaults applied show: the directory and
// Argo CD application of every service in every environment it deploys to.
func (v *validator) expanded(c *Config) {
	type use struct{ service, env string }
	overlays := map[string]use{}
	for i := range c.Services {
		s := &c.Services[i]
		p := servicePlace(i, s)
		origin := func(key string) place {
			if v.has(p.child(key)) {
				return p.child(key)
			}
			if v.has(place{path: "defaults." + key}) {
				return place{path: "defaults." + key, sub: "defaults." + key}
			}
			return p
		}
		for _, env := range c.EnvNames() {
			if !s.Deploys(env) {
				continue
			}
			dir := s.OverlayPath(env)
			if prev, dup := overlays[dir]; dup {
				if prev.service == s.Name {
					v.at(origin("overlay"), "service %q has the same overlay %q in %s and %s; put {env} in the overlay template", s.Name, dir, prev.env, env)
				} else {
					v.at(origin("overlay"), "services %q and %q share the overlay %q in %s; put {service} in the overlay template", prev.service, s.Name, dir, env)
				}
				break
			}
			overlays[dir] = use{s.Name, env}
			if app := s.ArgoCDAppName(env); len(app) > 253 || !argoAppName.MatchString(app) {
				v.at(origin("argocdApp"), "%s gives the Argo CD application name %q in %s, which is not a valid name (lower-case letters, digits, '-' and '.', optionally after \"namespace/\")", p, app, env)
				break
			}
		}
		if n := s.Workload.Name; n != "" && !valid.IsObjectName(n) {
			v.at(origin("workload"), "%s has workload name %q, which is not a Kubernetes object name", p, n)
		}
	}
}
