package overlay

import (
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Inventory is what a rendered overlay runs: its workloads with their containers and
// images, and the ConfigMaps its generators made. Names are as rendered (prefixes,
// suffixes and namespaces applied); generator and image names are also given as the
// kustomizations write them, since that is what edits of the overlay name.
type Inventory struct {
	Workloads  []Workload           // in render order
	ConfigMaps []GeneratedConfigMap // in render order
}

// Workload is one rendered object that runs pods from a pod template.
type Workload struct {
	Kind, Namespace, Name string
	Containers            []Container // spec.template.spec.containers, in order (init containers left out)
	// ConfigMaps are the generators (as the kustomizations name them) of the generated
	// ConfigMaps the pod template uses: envFrom, env valueFrom, volumes.
	ConfigMaps []string
}

// ID is "Kind/name".
func (w Workload) ID() string { return w.Kind + "/" + w.Name }

// Runs reports whether a container of w runs imageName (a name without tag or digest,
// rendered or as the kustomizations' images entries name it).
func (w Workload) Runs(imageName string) bool {
	for _, c := range w.Containers {
		if c.ImageName == imageName || c.RenderedImageName() == imageName {
			return true
		}
	}
	return false
}

// Container is one container of a workload.
type Container struct {
	Name  string
	Image string // as rendered: name[:tag][@digest]
	// ImageName is the image's name as an images entry of the overlay's kustomizations
	// knows it (images[].name, which /set-image and /promote edit): the entry's name when
	// an entry renamed or retagged it, else the rendered name without tag or digest.
	ImageName string
}

// RenderedImageName is Image without tag or digest.
func (c Container) RenderedImageName() string {
	n := c.Image
	if i := strings.IndexByte(n, '@'); i >= 0 {
		n = n[:i]
	}
	if i := strings.LastIndexByte(n, ':'); i > strings.LastIndexByte(n, '/') {
		n = n[:i]
	}
	return n
}

// GeneratedConfigMap is a ConfigMap a configMapGenerator of the overlay made.
type GeneratedConfigMap struct {
	Generator string // the generator's name in the kustomization: what /config edits
	Name      string // the rendered name, usually with a content-hash suffix
}

// ActionKinds are the workload kinds day-2 commands act on (/restart, /scale), as a
// service's workload may name them.
var ActionKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "Rollout"}

// Inspect reads the inventory of r, the render of t.
func Inspect(t *Tree, r *Rendered) Inventory {
	kusts := t.kustomizations()
	var gens []string
	images := map[string]string{} // rendered image name → images[].name
	for _, k := range kusts {
		gens = append(gens, k.generators...)
		for rendered, name := range k.images {
			images[rendered] = name
		}
	}
	var inv Inventory
	byRendered := map[string]string{} // rendered ConfigMap name → generator
	for _, res := range r.Resources() {
		if res.Kind != "ConfigMap" {
			continue
		}
		if g := generatorOf(res.Name, gens); g != "" {
			inv.ConfigMaps = append(inv.ConfigMaps, GeneratedConfigMap{Generator: g, Name: res.Name})
			byRendered[res.Name] = g
		}
	}
	for _, res := range r.Workloads() {
		w := Workload{Kind: res.Kind, Namespace: res.Namespace, Name: res.Name}
		spec, _ := res.Node.Pipe(yaml.Lookup("spec", "template", "spec"))
		if spec != nil {
			for _, c := range elements(spec, "containers") {
				ct := Container{Name: stringField(c, "name"), Image: stringField(c, "image")}
				ct.ImageName = ct.RenderedImageName()
				if n, ok := images[ct.ImageName]; ok {
					ct.ImageName = n
				}
				w.Containers = append(w.Containers, ct)
			}
			for _, name := range configMapRefs(spec) {
				if g, ok := byRendered[name]; ok && !contains(w.ConfigMaps, g) {
					w.ConfigMaps = append(w.ConfigMaps, g)
				}
			}
		}
		inv.Workloads = append(inv.Workloads, w)
	}
	return inv
}

// Choose picks the workload a service acts on, when the render says so unambiguously:
// among the workloads of ActionKinds, the only one; else the only one named name; else
// the only one running imageName (either may be ""). When no single workload qualifies,
// ok is false and candidates lists the workloads it could be.
func (inv Inventory) Choose(name, imageName string) (w Workload, candidates []Workload, ok bool) {
	for _, x := range inv.Workloads {
		if contains(ActionKinds, x.Kind) {
			candidates = append(candidates, x)
		}
	}
	if len(candidates) == 1 {
		return candidates[0], nil, true
	}
	for _, pick := range []func(Workload) bool{
		func(x Workload) bool { return name != "" && x.Name == name },
		func(x Workload) bool { return imageName != "" && x.Runs(imageName) },
	} {
		var found []Workload
		for _, x := range candidates {
			if pick(x) {
				found = append(found, x)
			}
		}
		if len(found) == 1 {
			return found[0], nil, true
		}
	}
	return Workload{}, candidates, false
}

// kustInfo is what Inspect reads from one kustomization of the tree.
type kustInfo struct {
	generators []string          // configMapGenerator names
	images     map[string]string // rendered image name → images[].name
}

// kustomizations reads the configMapGenerator names and images entries of every
// kustomization in the tree; one that does not parse adds nothing (it rendered, so this
// does not happen).
func (t *Tree) kustomizations() []kustInfo {
	var out []kustInfo
	for _, p := range t.Paths() {
		if !isKustomizationName(path.Base(p)) {
			continue
		}
		n, err := yaml.Parse(string(t.files[p]))
		if err != nil {
			continue
		}
		k := kustInfo{images: map[string]string{}}
		for _, g := range elements(n, "configMapGenerator") {
			if name := stringField(g, "name"); name != "" {
				k.generators = append(k.generators, name)
			}
		}
		for _, im := range elements(n, "images") {
			name := stringField(im, "name")
			if name == "" {
				continue
			}
			rendered := name
			if nn := stringField(im, "newName"); nn != "" {
				rendered = nn
			}
			k.images[rendered] = name
		}
		out = append(out, k)
	}
	return out
}

// generatorOf finds the generator that made a ConfigMap rendered as name: kustomize adds
// a "-<hash>" suffix and the name prefixes and suffixes of the kustomizations on the way,
// so the longest generator name the rest contains is the one.
func generatorOf(name string, gens []string) string {
	stem := name
	if i := strings.LastIndexByte(name, '-'); i >= 0 && IsNameHash(name[i+1:]) {
		stem = name[:i]
	}
	best := ""
	for _, g := range gens {
		if strings.Contains(stem, g) && len(g) > len(best) {
			best = g
		}
	}
	return best
}

// IsNameHash matches kustomize's generator name hash: 10 characters of [a-z0-9].
func IsNameHash(s string) bool {
	if len(s) != 10 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// configMapRefs lists, sorted and once each, the ConfigMaps a pod spec refers to.
func configMapRefs(spec *yaml.RNode) []string {
	set := map[string]bool{}
	for _, field := range []string{"initContainers", "containers"} {
		for _, c := range elements(spec, field) {
			for _, ef := range elements(c, "envFrom") {
				set[lookupString(ef, "configMapRef", "name")] = true
			}
			for _, e := range elements(c, "env") {
				set[lookupString(e, "valueFrom", "configMapKeyRef", "name")] = true
			}
		}
	}
	for _, v := range elements(spec, "volumes") {
		set[lookupString(v, "configMap", "name")] = true
		if src, _ := v.Pipe(yaml.Lookup("projected")); src != nil {
			for _, s := range elements(src, "sources") {
				set[lookupString(s, "configMap", "name")] = true
			}
		}
	}
	delete(set, "")
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// elements lists the items of a sequence field of n; nothing when it is absent or not a
// sequence.
func elements(n *yaml.RNode, field string) []*yaml.RNode {
	l, err := n.Pipe(yaml.Lookup(field))
	if err != nil || l == nil || l.YNode().Kind != yaml.SequenceNode {
		return nil
	}
	items, _ := l.Elements()
	return items
}

func stringField(n *yaml.RNode, field string) string { return lookupString(n, field) }

func lookupString(n *yaml.RNode, fields ...string) string {
	f, err := n.Pipe(yaml.Lookup(fields...))
	if err != nil || f == nil || f.YNode().Kind != yaml.ScalarNode {
		return ""
	}
	return f.YNode().Value
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
