// Package scaffold writes a new service into a GitOps repository the way the repository
// already lays out its services: a base and an overlay per environment from templates
// (daytwo's, or the repository's own under .github/daytwo/scaffold/), the Argo CD
// Applications shaped like the existing ones (or list-generator elements of the
// ApplicationSets that deploy them), a Backstage catalog file, a CODEOWNERS line and the
// service's entry in .github/daytwo.yml. It proves the result: every new overlay renders,
// the config loads, every overlay of the repository still renders and Argo CD deploys each
// new overlay. It reads the repository through an overlay.Reader and knows nothing of
// GitHub.
package scaffold

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/validate"
)

// OverrideDir is where a repository keeps its own scaffold templates.
const OverrideDir = ".github/daytwo/scaffold"

// Request is the service to add.
type Request struct {
	Name      string
	Owner     string // "org/team"
	Image     command.ImageRef
	Port      int
	Envs      []string // nil: every environment
	System    string   // "": the one the existing catalog files name
	Lifecycle string
	// Repo names the repository read ("owner/name" or clone URLs), for ApplicationSet git
	// generators; none takes every repoURL to be this repository.
	Repo []string
}

// File is one file the service adds or changes.
type File struct {
	Path    string
	Content []byte
	Before  []byte // nil: the file is new
}

// Result is what Generate proposes.
type Result struct {
	Files  []File
	Layout Layout
	Envs   []string // the environments the service is added to, in promotion order
	// Overlays are the new overlays, each rendered; Checked every overlay of the
	// repository at the proposed commit, as daytwo validate checks them.
	Overlays []validate.Overlay
	Checked  []validate.Overlay
	Apps     []App    // how Argo CD deploys each new overlay
	Notes    []string // what a reviewer should know
	System   string
}

// Layout is where the repository keeps a service, read from its existing services.
// Templates take {service} and {env}.
type Layout struct {
	Overlay, Base, Catalog string
	Namespace              string   // "" when the overlays set none
	Components             []string // shared kustomize components every overlay lists (repository paths)
	Reference              string   // the existing service the layout was read from
}

// App is how one new overlay is deployed by Argo CD.
type App struct {
	Env, Name string
	How       string // "Application in argocd/apps/x.yaml", "element of ApplicationSet dev's list generator", …
}

// Error is a problem the requester can act on; its message says what to do.
type Error struct {
	Msg    string
	Broken bool // a template or the repository does not render, rather than a bad request
	Err    error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func refusef(format string, a ...any) *Error { return &Error{Msg: fmt.Sprintf(format, a...)} }

// Generate returns the files that add req's service to the repository r. cfg is the
// repository's config (loaded, or discovered when cfgFile is nil); cfgFile its bytes.
func Generate(ctx context.Context, r overlay.Reader, cfg *repoconfig.Config, cfgFile []byte, req Request) (*Result, error) {
	g := &gen{ctx: ctx, r: r, cfg: cfg, cfgFile: cfgFile, req: req, files: map[string][]byte{}, before: map[string][]byte{}}
	if err := g.envs(); err != nil {
		return nil, err
	}
	deps, skipped, err := discovery.Find(ctx, r, req.Repo...)
	if err != nil {
		return nil, fmt.Errorf("reading the Argo CD manifests: %w", err)
	}
	g.deps, g.skipped = deps, skipped
	if err := g.layout(); err != nil {
		return nil, err
	}
	if err := g.taken(); err != nil {
		return nil, err
	}
	if err := g.render(); err != nil {
		return nil, err
	}
	if err := g.codeOwners(); err != nil {
		return nil, err
	}
	if err := g.argoCD(); err != nil {
		return nil, err
	}
	if err := g.configEntry(); err != nil {
		return nil, err
	}
	if err := g.prove(); err != nil {
		return nil, err
	}
	res := &Result{Layout: g.lay, Envs: g.chosen, Overlays: g.overlays, Checked: g.checked, Apps: g.apps, Notes: g.notes, System: g.system}
	for _, p := range sortedKeys(g.files) {
		res.Files = append(res.Files, File{Path: p, Content: g.files[p], Before: g.before[p]})
	}
	return res, nil
}

// gen is one Generate run.
type gen struct {
	ctx     context.Context
	r       overlay.Reader
	cfg     *repoconfig.Config
	cfgFile []byte
	req     Request

	chosen  []string
	deps    []discovery.Deployment
	skipped []discovery.Skip
	lay     Layout
	system  string
	ref     *repoconfig.Service // the reference service

	files  map[string][]byte // path → new content
	before map[string][]byte // path → content before, for files that exist

	overlays, checked []validate.Overlay
	apps              []App
	notes             []string
}

// envs picks the environments: those asked for, in promotion order, or all.
func (g *gen) envs() error {
	all := g.cfg.EnvNames()
	if len(g.req.Envs) == 0 {
		g.chosen = all
		return nil
	}
	for _, e := range g.req.Envs {
		if !slices.Contains(all, e) {
			return refusef("The repository has no environment %q; its environments are %s.", e, strings.Join(all, ", "))
		}
	}
	for _, e := range all {
		if slices.Contains(g.req.Envs, e) {
			g.chosen = append(g.chosen, e)
		}
	}
	return nil
}

// taken refuses a name an existing service, directory, file or Application uses.
func (g *gen) taken() error {
	name := g.req.Name
	if _, ok := g.cfg.Service(name); ok {
		return refusef("The name %s is taken: %s lists a service %s. Choose another name.", name, repoconfig.Path, name)
	}
	for _, d := range g.deps {
		if d.Service == name {
			return refusef("The name %s is taken: the Argo CD Application %s deploys a service %s (%s). Choose another name.", name, d.App, name, d.Path)
		}
	}
	// The service's own directories, up to the one named after it (apps/<name>), and
	// its files.
	var paths []string
	for _, t := range []string{g.lay.Base, g.lay.Catalog, g.lay.Overlay} {
		cut := t
		if i := strings.Index(t, "{service}"); i >= 0 {
			if j := strings.IndexByte(t[i:], '/'); j >= 0 {
				cut = t[:i+j]
			}
		}
		for _, e := range g.chosen {
			paths = append(paths, expand(cut, name, e), expand(t, name, e))
		}
	}
	for _, p := range paths {
		if ok, err := exists(g.ctx, g.r, p); err != nil {
			return err
		} else if ok {
			return refusef("The name %s is taken: %s exists already. Choose another name.", name, p)
		}
	}
	return nil
}

// exists reports whether p is a file or a directory of the repository. It lists the
// directories on the way, which a reader holding the repository's tree answers without
// asking GitHub for what is not there.
func exists(ctx context.Context, r overlay.Reader, p string) (bool, error) {
	p = path.Clean(p)
	if p == "." {
		return true, nil
	}
	if ok, err := isDir(ctx, r, path.Dir(p)); !ok || err != nil {
		return false, err
	}
	names, err := r.ReadDir(ctx, path.Dir(p))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	base := path.Base(p)
	return slices.Contains(names, base) || slices.Contains(names, base+"/"), nil
}

// isDir reports whether dir is a directory of the repository, listing its parents.
func isDir(ctx context.Context, r overlay.Reader, dir string) (bool, error) {
	dir = path.Clean(dir)
	if dir == "." {
		return true, nil
	}
	if ok, err := isDir(ctx, r, path.Dir(dir)); !ok || err != nil {
		return false, err
	}
	names, err := r.ReadDir(ctx, path.Dir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return slices.Contains(names, path.Base(dir)+"/"), nil
}

func (g *gen) write(p string, content []byte) error {
	if _, done := g.files[p]; !done {
		if ok, err := exists(g.ctx, g.r, p); err != nil || !ok {
			g.files[p] = content
			return err
		}
		b, err := g.r.ReadFile(g.ctx, p)
		switch {
		case err == nil:
			g.before[p] = b
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("reading %s: %w", p, err)
		}
	}
	g.files[p] = content
	return nil
}

// current is p as the change leaves it so far.
func (g *gen) current(p string) ([]byte, error) {
	if b, ok := g.files[p]; ok {
		return b, nil
	}
	return g.r.ReadFile(g.ctx, p)
}

func expand(tmpl, service, env string) string {
	return strings.NewReplacer("{service}", service, "{env}", env).Replace(tmpl)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// layered is the repository with the change applied.
type layered struct {
	base  overlay.Reader
	files map[string][]byte
}

func (l layered) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if b, ok := l.files[path.Clean(p)]; ok {
		return b, nil
	}
	if ok, err := isDir(ctx, l.base, path.Dir(p)); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist) // in a new directory: not in the base
	}
	return l.base.ReadFile(ctx, p)
}

func (l layered) ReadDir(ctx context.Context, p string) ([]string, error) {
	var names []string
	var err error
	if ok, derr := isDir(ctx, l.base, p); derr != nil {
		return nil, derr
	} else if ok {
		names, err = l.base.ReadDir(ctx, p)
		names = slices.Clone(names) // the base's own listing, maybe cached: not to be sorted
	} else {
		err = fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	dir := path.Clean(p)
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	for f := range l.files {
		rest := f
		if dir != "." {
			var ok bool
			if rest, ok = strings.CutPrefix(f, dir+"/"); !ok {
				continue
			}
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i+1]
		}
		if !seen[rest] {
			seen[rest] = true
			names = append(names, rest)
		}
	}
	if len(names) == 0 && err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}
