package scaffold

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/daytwo-dev/daytwo/internal/onboard"
)

// kustomization is what the layout is read from in an existing overlay.
type kustomization struct {
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Bases      []string `json:"bases"`
	Components []string `json:"components"`
}

var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func (g *gen) readKustomization(dir string) (*kustomization, error) {
	for _, n := range kustomizationNames {
		b, err := g.r.ReadFile(g.ctx, path.Join(dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var k kustomization
		if err := yaml.Unmarshal(b, &k); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Join(dir, n), err)
		}
		return &k, nil
	}
	return nil, fs.ErrNotExist
}

// tally counts candidate values and picks the most frequent; ties go to prefer, then to
// the first counted.
type tally struct {
	order []string
	n     map[string]int
}

func (t *tally) add(v string) {
	if t.n == nil {
		t.n = map[string]int{}
	}
	if t.n[v] == 0 {
		t.order = append(t.order, v)
	}
	t.n[v]++
}

func (t *tally) best(prefer string) string {
	best := ""
	for _, v := range t.order {
		switch {
		case best == "", t.n[v] > t.n[best], t.n[v] == t.n[best] && v == prefer:
			best = v
		}
	}
	return best
}

// layout reads where the repository keeps a service from its existing services: the
// overlay path of the config, and from their overlays the base they build on, their
// namespace and the shared components they use; the catalog files and the system they
// name.
func (g *gen) layout() error {
	if len(g.cfg.Services) == 0 {
		return refusef("The repository has no service yet to copy the layout from; add the first one by hand (see docs/config.md).")
	}
	var overlays tally
	for _, s := range g.cfg.Services {
		overlays.add(s.Overlay)
	}
	g.lay.Overlay = overlays.best(g.cfg.Defaults.Overlay)
	if !strings.Contains(g.lay.Overlay, "{service}") || !strings.Contains(g.lay.Overlay, "{env}") {
		return refusef("The services' overlays are at %q, which does not name both {service} and {env}; daytwo cannot tell where a new service's overlays go.", g.lay.Overlay)
	}

	var bases, namespaces tally
	components := map[string]int{}
	read := 0
	refScore := -1
	for i := range g.cfg.Services {
		s := &g.cfg.Services[i]
		if s.Overlay != g.lay.Overlay {
			continue
		}
		score := 0
		for _, env := range g.cfg.EnvNames() {
			if !s.Deploys(env) {
				continue
			}
			dir := s.OverlayPath(env)
			k, err := g.readKustomization(dir)
			if err != nil {
				continue // broken or missing: daytwo validate says so; the others tell the layout
			}
			read++
			if slices.Contains(g.chosen, env) {
				score++
			}
			for _, res := range append(append([]string(nil), k.Resources...), k.Bases...) {
				p := path.Join(dir, res)
				if strings.HasPrefix(p, "../") || path.Ext(p) != "" {
					continue // a file of the overlay, or outside the repository
				}
				if t := templatize(p, s.Name, env); strings.Contains(t, "{service}") && !strings.Contains(t, "{env}") {
					bases.add(t)
				}
			}
			if k.Namespace != "" {
				namespaces.add(templatize(k.Namespace, s.Name, env))
			} else {
				namespaces.add("")
			}
			for _, c := range k.Components {
				p := path.Join(dir, c)
				if !hasBounded(p, s.Name) && !hasBounded(p, env) {
					components[p]++
				}
			}
		}
		if score > refScore {
			refScore, g.ref = score, s
		}
	}
	if read == 0 {
		return refusef("No overlay of the existing services could be read (at %s); daytwo validate says why.", g.lay.Overlay)
	}
	g.lay.Reference = g.ref.Name
	g.lay.Base = bases.best("")
	if g.lay.Base == "" {
		// The overlays hold their resources themselves: the base goes beside them.
		if i := strings.Index(g.lay.Overlay, "{service}/"); i >= 0 && !strings.Contains(g.lay.Overlay[:i], "{env}") {
			g.lay.Base = g.lay.Overlay[:i] + "{service}/base"
		} else {
			g.lay.Base = "bases/{service}"
		}
	}
	g.lay.Namespace = namespaces.best("")
	for _, c := range sortedKeys(components) {
		if components[c] == read {
			g.lay.Components = append(g.lay.Components, c) // every overlay uses it
		}
	}
	return g.catalogs()
}

// catalogs finds where the existing services keep their Backstage catalog files and the
// system they name.
func (g *gen) catalogs() error {
	found, err := onboard.FindCatalogs(g.ctx, g.r)
	if err != nil {
		return err
	}
	var places, systems tally
	for _, s := range g.cfg.Services {
		p, ok := found[s.Name]
		if !ok {
			continue
		}
		places.add(templatize(p, s.Name, ""))
		if sys := catalogSystem(g, p); sys != "" {
			systems.add(sys)
		}
	}
	g.lay.Catalog = places.best(g.cfg.Defaults.Catalog)
	if g.lay.Catalog == "" || !strings.Contains(g.lay.Catalog, "{service}") {
		switch {
		case g.cfgFile != nil:
			g.lay.Catalog = g.cfg.Defaults.Catalog
		case strings.Contains(g.lay.Overlay, "{service}/") && !strings.Contains(g.lay.Overlay[:strings.Index(g.lay.Overlay, "{service}/")], "{env}"):
			g.lay.Catalog = g.lay.Overlay[:strings.Index(g.lay.Overlay, "{service}/")] + "{service}/catalog-info.yaml"
		default:
			g.lay.Catalog = g.lay.Base + "/catalog-info.yaml"
		}
	}
	g.system = g.req.System
	if g.system == "" {
		g.system = systems.best("")
	}
	if g.system == "" {
		return refusef("Name the service's Backstage system with `--system <name>`: no catalog-info.yaml of the existing services names one.")
	}
	return nil
}

func catalogSystem(g *gen, p string) string {
	b, err := g.r.ReadFile(g.ctx, p)
	if err != nil {
		return ""
	}
	var doc struct {
		Spec struct {
			System string `json:"system"`
		} `json:"spec"`
	}
	if yaml.Unmarshal(b, &doc) != nil { // the first document: the Component FindCatalogs found
		return ""
	}
	return doc.Spec.System
}

// relPath is the path from dir to target, both repository paths.
func relPath(dir, target string) string {
	d := strings.Split(path.Clean(dir), "/")
	t := strings.Split(path.Clean(target), "/")
	i := 0
	for i < len(d) && i < len(t) && d[i] == t[i] {
		i++
	}
	var parts []string
	for range d[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// templatize turns a path or name of service svc in env into a template with {service}
// and {env}.
func templatize(s, svc, env string) string {
	t := replaceBounded(s, svc, "{service}")
	if env != "" {
		t = replaceBounded(t, env, "{env}")
	}
	return t
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// replaceBounded replaces each occurrence of old in s that no letter or digit touches on
// either side ("web" in "k8s/web/dev" and "web-dev", not in "webhook").
func replaceBounded(s, old, new string) string {
	if old == "" {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], old)
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		j += i
		end := j + len(old)
		if (j == 0 || !isWordByte(s[j-1])) && (end == len(s) || !isWordByte(s[end])) {
			b.WriteString(s[i:j] + new)
		} else {
			b.WriteString(s[i:end])
		}
		i = end
	}
	return b.String()
}

func hasBounded(s, word string) bool { return replaceBounded(s, word, "\x00") != s }

// envOf is the environment a value names, or "".
func envOf(s string, envs []string) string {
	for _, e := range envs {
		if hasBounded(s, e) {
			return e
		}
	}
	return ""
}
