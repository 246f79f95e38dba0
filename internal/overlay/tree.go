package overlay

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Tree is an overlay and every file it references, read at one commit. A Tree is
// immutable; With returns a changed copy.
type Tree struct {
	dir    string
	files  map[string][]byte
	limits Limits
}

// Dir is the overlay directory Load was given, cleaned ("." for the repository root).
func (t *Tree) Dir() string { return t.dir }

// Paths lists, sorted, the repo-relative path of every file of the tree.
func (t *Tree) Paths() []string { return slices.Sorted(maps.Keys(t.files)) }

// File returns a file of the tree. The bytes are shared: do not modify them.
func (t *Tree) File(p string) ([]byte, bool) {
	b, ok := t.files[cleanPath(p)]
	return b, ok
}

// KustomizationPath returns the path of the kustomization file of dir, when the tree
// holds one.
func (t *Tree) KustomizationPath(dir string) (string, bool) {
	d := cleanPath(dir)
	for _, n := range kustomizationNames {
		p := path.Join(d, n)
		if _, ok := t.files[p]; ok {
			return p, true
		}
	}
	return "", false
}

// With returns a copy of the tree with files replaced or added; a nil value deletes.
func (t *Tree) With(changes map[string][]byte) *Tree {
	files := make(map[string][]byte, len(t.files)+len(changes))
	for p, b := range t.files {
		files[p] = b
	}
	for p, b := range changes {
		if b == nil {
			delete(files, cleanPath(p))
		} else {
			files[cleanPath(p)] = b
		}
	}
	return &Tree{dir: t.dir, files: files, limits: t.limits}
}

func cleanPath(p string) string {
	p = path.Clean(strings.TrimPrefix(p, "/"))
	if p == "" {
		return "."
	}
	return p
}

// renderMu serialises krusty runs: kustomize keeps the OpenAPI schema in process-wide
// state that every run resets.
var (
	renderMu        sync.Mutex
	customSchemaSet bool // the last run installed an openapi schema of its own
)

// Render builds the overlay with krusty's default options, in memory. References are
// checked first with the rules of Load, so files added by With cannot reach outside the
// tree.
func (t *Tree) Render() (*Rendered, error) { return t.RenderWith(RenderOptions{}) }

// RenderOptions change how RenderWith builds; the zero value is krusty's defaults.
type RenderOptions struct {
	// LoadRestrictionsNone lets a kustomization read files outside its own directory, as
	// `kustomize build --load-restrictor LoadRestrictionsNone` (an Argo CD build option).
	LoadRestrictionsNone bool
}

// RenderWith is Render with options.
func (t *Tree) RenderWith(o RenderOptions) (*Rendered, error) {
	if _, err := LoadWithLimits(context.Background(), memReader(t.files), t.dir, t.limits); err != nil {
		return nil, err
	}
	mem := filesys.MakeFsInMemory()
	custom := false
	for p, b := range t.files {
		if err := mem.WriteFile("/"+p, b); err != nil {
			return nil, fmt.Errorf("preparing %s for kustomize: %w", p, err)
		}
		if base := path.Base(p); isKustomizationName(base) && strings.Contains(strings.ToLower(string(b)), "openapi") {
			custom = true
		}
	}
	root := "/"
	if t.dir != "." {
		root += t.dir
	}
	opts := krusty.MakeDefaultOptions()
	if o.LoadRestrictionsNone {
		opts.LoadRestrictions = types.LoadRestrictionsNone
	}
	return runKrusty(mem, root, opts, custom)
}

func isKustomizationName(n string) bool {
	for _, k := range kustomizationNames {
		if n == k {
			return true
		}
	}
	return false
}

func runKrusty(mem filesys.FileSystem, dir string, opts *krusty.Options, custom bool) (r *Rendered, err error) {
	renderMu.Lock()
	defer renderMu.Unlock()
	// A run that sets no schema keeps the previous run's custom one: start clean then,
	// and only then, since reparsing the built-in schema is slow.
	if customSchemaSet {
		openapi.ResetOpenAPI()
	}
	customSchemaSet = custom
	defer func() {
		if p := recover(); p != nil {
			openapi.ResetOpenAPI()
			customSchemaSet = false
			err = fmt.Errorf("kustomize failed on this overlay: %v", p)
		}
	}()
	m, err := krusty.MakeKustomizer(opts).Run(mem, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", strings.TrimPrefix(dir, "/"), err)
	}
	nodes := m.ToRNodeSlice()
	res := make([]Resource, 0, len(nodes))
	for _, n := range nodes {
		res = append(res, Resource{
			APIVersion: n.GetApiVersion(),
			Kind:       n.GetKind(),
			Namespace:  n.GetNamespace(),
			Name:       n.GetName(),
			Node:       n,
		})
	}
	return &Rendered{resources: res}, nil
}

// Rendered is the output of a render.
type Rendered struct {
	resources []Resource
}

// Resources lists the rendered objects in output order.
func (r *Rendered) Resources() []Resource { return r.resources }

// Find returns the first object of that kind and metadata.name.
func (r *Rendered) Find(kind, name string) (Resource, bool) {
	for _, res := range r.resources {
		if res.Kind == kind && res.Name == name {
			return res, true
		}
	}
	return Resource{}, false
}

// workloadKinds are the kinds that run pods from a pod template.
var workloadKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "Rollout": true}

// Workloads lists the Deployments, StatefulSets, DaemonSets, ReplicaSets and Argo
// Rollouts of the render, in output order.
func (r *Rendered) Workloads() []Resource {
	var out []Resource
	for _, res := range r.resources {
		if workloadKinds[res.Kind] {
			out = append(out, res)
		}
	}
	return out
}

// Resource is one rendered object.
type Resource struct {
	APIVersion, Kind, Namespace, Name string
	Node                              *yaml.RNode // the rendered object; read-only
}

// ID is "Kind/name", or "Kind/namespace/name" for a namespaced object.
func (r Resource) ID() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// memReader serves a tree's files as a Reader; directories are implied by file paths.
type memReader map[string][]byte

func (m memReader) ReadFile(_ context.Context, p string) ([]byte, error) {
	if b, ok := m[cleanPath(p)]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

func (m memReader) ReadDir(_ context.Context, p string) ([]string, error) {
	d := cleanPath(p)
	prefix := d + "/"
	if d == "." {
		prefix = ""
	}
	seen := map[string]bool{}
	for f := range m {
		rest, ok := strings.CutPrefix(f, prefix)
		if !ok || rest == "" {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seen[rest[:i+1]] = true
		} else {
			seen[rest] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
