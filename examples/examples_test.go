// Package examples_test checks that the bundled example GitOps repositories are what their
// daytwo configs (or, for one without, the config daytwo init writes) say: every overlay renders with kustomize and holds the configured
// workload, container, image and ConfigMap, and the Argo CD, Backstage and CODEOWNERS
// files agree with the config.
package examples_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/onboard"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// argocd-apps has no daytwo config of its own: its tests use the one daytwo init writes.
var repos = []string{"gitops", "envs-layout", "argocd-apps"}

func loadConfig(t *testing.T, repo string) *repoconfig.Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, repoconfig.Path))
	if errors.Is(err, fs.ErrNotExist) {
		res, gerr := onboard.Generate(context.Background(), onboard.FSReader(os.DirFS(repo)), command.Default(), onboard.Options{})
		if gerr != nil {
			t.Fatalf("%s: daytwo init: %v", repo, gerr)
		}
		b, err = res.Files[0].Content, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := repoconfig.Load(b, command.All())
	if err != nil {
		t.Fatalf("%s: %v", repo, err)
	}
	return cfg
}

// snapshot reads an example from disk, as the planner reads a commit.
type snapshot struct{ overlay.Reader }

func (snapshot) Commit() string { return "" }

func infer(t *testing.T, repo string, cfg *repoconfig.Config, service, env string) *plan.Inference {
	t.Helper()
	in, err := plan.New().Infer(context.Background(), cfg, snapshot{onboard.FSReader(os.DirFS(repo))}, service, env)
	if err != nil {
		t.Fatalf("%s: %s in %s: %v", repo, service, env, err)
	}
	return in
}

// workload is the kind and rendered name of the workload commands act on in an overlay:
// the config's, else the one daytwo infers from the render.
func workload(t *testing.T, repo string, cfg *repoconfig.Config, svc *repoconfig.Service, env string) (kind, name string) {
	t.Helper()
	f := infer(t, repo, cfg, svc.Name, env).Workload
	kind, name, ok := strings.Cut(f.Value, "/")
	if !ok {
		t.Fatalf("%s: no workload of %s in %s: %s", repo, svc.Name, env, f.From)
	}
	return kind, name
}

func render(t *testing.T, dir string) resmap.ResMap {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return m
}

func find(m resmap.ResMap, kind, name string) *resource.Resource {
	for _, r := range m.Resources() {
		if r.GetKind() == kind && r.GetName() == name {
			return r
		}
	}
	return nil
}

func str(t *testing.T, n *yaml.RNode, fields ...string) string {
	t.Helper()
	v, err := n.Pipe(yaml.Lookup(fields...))
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(fields, "."), err)
	}
	if v == nil {
		return ""
	}
	return strings.TrimSpace(v.MustString())
}

// container is one container of a rendered pod template.
type container struct {
	name, image string
	envFrom     []string // ConfigMap names
}

func containers(t *testing.T, r *resource.Resource) []container {
	t.Helper()
	list, err := r.Pipe(yaml.Lookup("spec", "template", "spec", "containers"))
	if err != nil || list == nil {
		t.Fatalf("%s/%s has no containers: %v", r.GetKind(), r.GetName(), err)
	}
	elems, err := list.Elements()
	if err != nil {
		t.Fatal(err)
	}
	var out []container
	for _, e := range elems {
		c := container{name: str(t, e, "name"), image: str(t, e, "image")}
		if refs, _ := e.Pipe(yaml.Lookup("envFrom")); refs != nil {
			items, _ := refs.Elements()
			for _, it := range items {
				if n := str(t, it, "configMapRef", "name"); n != "" {
					c.envFrom = append(c.envFrom, n)
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// TestOverlaysRender renders every (service, environment) overlay of every example and
// checks it against the config.
func TestOverlaysRender(t *testing.T) {
	for _, repo := range repos {
		cfg := loadConfig(t, repo)
		for _, svc := range cfg.Services {
			tags := map[string]string{}
			for _, env := range cfg.EnvNames() {
				if !svc.Deploys(env) {
					continue
				}
				t.Run(repo+"/"+svc.Name+"/"+env, func(t *testing.T) {
					dir := filepath.Join(repo, svc.OverlayPath(env))
					m := render(t, dir)
					kind, name := workload(t, repo, cfg, &svc, env)
					w := find(m, kind, name)
					if w == nil {
						t.Fatalf("%s renders no %s/%s", dir, kind, name)
					}
					cs := containers(t, w)
					c := cs[0]
					if svc.Container != "" {
						found := false
						for _, x := range cs {
							if x.name == svc.Container {
								c, found = x, true
							}
						}
						if !found {
							t.Fatalf("%s has no container %q", w.GetName(), svc.Container)
						}
					}
					if svc.Image != "" {
						name, tag, ok := strings.Cut(c.image, ":")
						if !ok || name != svc.Image || tag == "latest" || tag == "0.0.0" {
							t.Errorf("container %s runs %q; want %s with the overlay's tag", c.name, c.image, svc.Image)
						}
						tags[env] = tag
					}
					if svc.ConfigMap != "" {
						cm := ""
						for _, r := range m.Resources() {
							if r.GetKind() == "ConfigMap" && strings.HasPrefix(r.GetName(), svc.ConfigMap+"-") {
								cm = r.GetName()
							}
						}
						if cm == "" {
							t.Fatalf("%s renders no ConfigMap generated as %s", dir, svc.ConfigMap)
						}
						if !contains(c.envFrom, cm) {
							t.Errorf("container %s does not load %s through envFrom (has %v)", c.name, cm, c.envFrom)
						}
					}
					if w.GetNamespace() == "" {
						t.Errorf("%s sets no namespace", dir)
					}
				})
			}
			// Versions move forward from the first environment to the last.
			envs := cfg.EnvNames()
			for i := 1; i < len(envs); i++ {
				a, b := tags[envs[i-1]], tags[envs[i]]
				if a != "" && b != "" && compareVersions(a, b) < 0 {
					t.Errorf("%s/%s: %s runs %s, behind %s's %s", repo, svc.Name, envs[i-1], a, envs[i], b)
				}
			}
		}
	}
}

// TestSharedBasesZeroConfig: examples/shared-bases has no daytwo config. Discovery reads
// its ApplicationSet (one Application per overlay, in the namespace the overlay renders
// into), and what commands act on is inferred from each render: ledger's one StatefulSet,
// named per environment, and its container; payments' ConfigMap and both of its images
// for /promote, while its two Deployments are left for --workload to pick.
func TestSharedBasesZeroConfig(t *testing.T) {
	const repo = "shared-bases"
	if _, err := os.Stat(filepath.Join(repo, repoconfig.Path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s must have no %s: %v", repo, repoconfig.Path, err)
	}
	r := onboard.FSReader(os.DirFS(repo))
	deps, skipped, err := discovery.Find(context.Background(), r, "acme/platform")
	if err != nil {
		t.Fatal(err)
	}
	cfg, rep, err := discovery.Config(deps, skipped, command.All())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Placed) != 6 || len(rep.Unplaced) != 0 || len(rep.Skipped) != 0 {
		t.Fatalf("discovery: %s", rep)
	}
	if strings.Join(cfg.EnvNames(), ",") != "dev,staging,prod" || strings.Join(cfg.ServiceNames(), ",") != "ledger,payments" {
		t.Fatalf("environments %v, services %v", cfg.EnvNames(), cfg.ServiceNames())
	}
	tags := map[string]map[string]string{} // image → env → tag
	for _, d := range deps {
		svc, _ := cfg.Service(d.Service)
		m := render(t, filepath.Join(repo, d.Path))
		in := infer(t, repo, cfg, d.Service, d.Env)
		switch d.Service {
		case "ledger":
			if in.Workload.Value != "StatefulSet/ledger-"+d.Env || in.Workload.From != "the only workload in the render" {
				t.Errorf("%s: ledger workload %+v", d.Env, in.Workload)
			}
			if !strings.HasPrefix(in.Container.Value, "ledger in StatefulSet/ledger-"+d.Env+", image ghcr.io/acme/ledger") {
				t.Errorf("%s: ledger container %+v", d.Env, in.Container)
			}
			if in.ConfigMap.Value != "" || !strings.Contains(in.ConfigMap.From, "generates no ConfigMap") {
				t.Errorf("%s: ledger configMap %+v", d.Env, in.ConfigMap)
			}
		case "payments":
			if in.Workload.Value != "" || !strings.Contains(in.Workload.From, "`Deployment/payments-api` and `Deployment/payments-worker`") {
				t.Errorf("%s: payments workload %+v, want both offered", d.Env, in.Workload)
			}
			if in.ConfigMap.Value != "payments-config" {
				t.Errorf("%s: payments configMap %+v", d.Env, in.ConfigMap)
			}
			if d.Env != "dev" && in.Images.Value != "ghcr.io/acme/payments-api, ghcr.io/acme/payments-worker" {
				t.Errorf("%s: /promote carries %+v, want both images", d.Env, in.Images)
			}
		}
		for _, res := range m.Resources() {
			if k := res.GetKind(); k != "Deployment" && k != "StatefulSet" {
				continue
			}
			if ns := res.GetNamespace(); ns != d.Namespace {
				t.Errorf("%s: %s/%s renders into %q, the Application deploys to %q", d.App, res.GetKind(), res.GetName(), ns, d.Namespace)
			}
			for _, c := range containers(t, res) {
				name, tag, _ := strings.Cut(c.image, ":")
				if strings.HasPrefix(name, "ghcr.io/acme/") {
					if tags[name] == nil {
						tags[name] = map[string]string{}
					}
					tags[name][d.Env] = tag
				}
			}
		}
		if !svc.Deploys(d.Env) {
			t.Errorf("%s does not deploy to %s", svc.Name, d.Env)
		}
	}
	// Versions move forward from dev to prod, and api and worker are released together.
	for image, byEnv := range tags {
		if compareVersions(byEnv["dev"], byEnv["staging"]) < 0 || compareVersions(byEnv["staging"], byEnv["prod"]) < 0 {
			t.Errorf("%s: %v do not move forward", image, byEnv)
		}
	}
	for _, env := range cfg.EnvNames() {
		if a, w := tags["ghcr.io/acme/payments-api"][env], tags["ghcr.io/acme/payments-worker"][env]; a == "" || a != w {
			t.Errorf("%s: payments-api %q and payments-worker %q are one release", env, a, w)
		}
	}
}

// TestServiceWithTwoWorkloads: the gitops example has a service whose image runs in a
// second workload besides the configured one, so acting on one workload and on all differ.
func TestServiceWithTwoWorkloads(t *testing.T) {
	cfg := loadConfig(t, "gitops")
	svc, ok := cfg.Service("payments")
	if !ok {
		t.Fatal("no payments service")
	}
	m := render(t, filepath.Join("gitops", svc.OverlayPath("prod")))
	var users []string
	for _, r := range m.Resources() {
		if r.GetKind() != "Deployment" {
			continue
		}
		for _, c := range containers(t, r) {
			if strings.HasPrefix(c.image, svc.Image+":") {
				users = append(users, r.GetName())
			}
		}
	}
	if len(users) != 2 || !contains(users, svc.Workload.Name) {
		t.Errorf("Deployments running %s: %v; want the configured %s and one more", svc.Image, users, svc.Workload.Name)
	}
}

func readYAML(t *testing.T, file string) *yaml.RNode {
	t.Helper()
	n, err := yaml.ReadFile(file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return n
}

// TestArgoCDApplications: one Application per service and environment, named as the
// config says, pointing at the overlay and at the namespace it renders into.
func TestArgoCDApplications(t *testing.T) {
	cfg := loadConfig(t, "gitops")
	files, err := filepath.Glob("gitops/argocd/apps/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Applications: %v", err)
	}
	apps := map[string]*yaml.RNode{}
	for _, f := range files {
		n := readYAML(t, f)
		if n.GetApiVersion() != "argoproj.io/v1alpha1" || n.GetKind() != "Application" {
			t.Errorf("%s: %s %s, want argoproj.io/v1alpha1 Application", f, n.GetApiVersion(), n.GetKind())
			continue
		}
		apps[n.GetName()] = n
	}
	want := 0
	for _, svc := range cfg.Services {
		for _, env := range cfg.EnvNames() {
			if !svc.Deploys(env) {
				continue
			}
			want++
			name := svc.ArgoCDAppName(env)
			app, ok := apps[name]
			if !ok {
				t.Errorf("no Application %s", name)
				continue
			}
			p := str(t, app, "spec", "source", "path")
			if p != svc.OverlayPath(env) {
				t.Errorf("%s: source.path %q, want %q", name, p, svc.OverlayPath(env))
			}
			if _, err := os.Stat(filepath.Join("gitops", p, "kustomization.yaml")); err != nil {
				t.Errorf("%s: source.path %q has no kustomization.yaml", name, p)
			}
			kind, wname := workload(t, "gitops", cfg, &svc, env)
			w := find(render(t, filepath.Join("gitops", p)), kind, wname)
			if ns := str(t, app, "spec", "destination", "namespace"); w == nil || ns != w.GetNamespace() {
				t.Errorf("%s: destination.namespace %q, but the overlay renders into another", name, ns)
			}
			if str(t, app, "spec", "project") == "" || str(t, app, "spec", "source", "repoURL") == "" {
				t.Errorf("%s: project and source.repoURL are required", name)
			}
		}
	}
	if len(apps) != want {
		t.Errorf("%d Applications, want %d (one per service and environment)", len(apps), want)
	}

	set := readYAML(t, "gitops/argocd/applicationset.yaml")
	if set.GetApiVersion() != "argoproj.io/v1alpha1" || set.GetKind() != "ApplicationSet" {
		t.Fatalf("applicationset.yaml: %s %s", set.GetApiVersion(), set.GetKind())
	}
	gens, err := set.Pipe(yaml.Lookup("spec", "generators"))
	if err != nil || gens == nil {
		t.Fatalf("applicationset.yaml has no generators: %v", err)
	}
	elems, err := gens.Elements()
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, g := range elems {
		ds, _ := g.Pipe(yaml.Lookup("git", "directories"))
		if ds == nil {
			continue
		}
		items, _ := ds.Elements()
		for _, d := range items {
			patterns = append(patterns, str(t, d, "path"))
		}
	}
	for _, svc := range cfg.Services {
		for _, env := range cfg.EnvNames() {
			if svc.Deploys(env) && !anyMatch(patterns, svc.OverlayPath(env)) {
				t.Errorf("the ApplicationSet's directories %v miss %s", patterns, svc.OverlayPath(env))
			}
		}
	}
}

func anyMatch(patterns []string, p string) bool {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
	}
	return false
}

// TestCatalogInfo: every service has a Backstage Component where the config says.
func TestCatalogInfo(t *testing.T) {
	for _, repo := range repos {
		cfg := loadConfig(t, repo)
		for _, svc := range cfg.Services {
			file := filepath.Join(repo, svc.CatalogPath())
			n := readYAML(t, file)
			if n.GetApiVersion() != "backstage.io/v1alpha1" || n.GetKind() != "Component" || n.GetName() != svc.Name {
				t.Errorf("%s: %s %s %s, want a backstage.io/v1alpha1 Component named %s", file, n.GetApiVersion(), n.GetKind(), n.GetName(), svc.Name)
			}
			for _, f := range []string{"owner", "system", "lifecycle"} {
				if str(t, n, "spec", f) == "" {
					t.Errorf("%s: spec.%s is empty", file, f)
				}
			}
			deps, _ := n.Pipe(yaml.Lookup("spec", "dependsOn"))
			if deps == nil {
				t.Errorf("%s: no spec.dependsOn", file)
			} else if items, _ := deps.Elements(); len(items) == 0 {
				t.Errorf("%s: spec.dependsOn is empty", file)
			}
		}
	}
}

// TestCodeowners: every overlay has owners, and the SRE team owns prod and the config.
func TestCodeowners(t *testing.T) {
	cfg := loadConfig(t, "gitops")
	b, err := os.ReadFile("gitops/.github/CODEOWNERS")
	if err != nil {
		t.Fatal(err)
	}
	rules := parseCodeowners(t, string(b))
	for _, svc := range cfg.Services {
		for _, env := range cfg.EnvNames() {
			if !svc.Deploys(env) {
				continue
			}
			f := svc.OverlayPath(env) + "/kustomization.yaml"
			owners := ownersOf(rules, f)
			if len(owners) == 0 {
				t.Errorf("%s has no code owner", f)
			}
			if env == "prod" && !contains(owners, "@acme/sre") {
				t.Errorf("%s is owned by %v; prod needs @acme/sre", f, owners)
			}
			if env == "dev" && contains(owners, "@acme/sre") {
				t.Errorf("%s: dev should not need @acme/sre (%v)", f, owners)
			}
		}
	}
	if owners := ownersOf(rules, repoconfig.Path); !contains(owners, "@acme/sre") {
		t.Errorf("%s is owned by %v; policy changes need @acme/sre", repoconfig.Path, owners)
	}
}

type ownerRule struct {
	pattern string
	owners  []string
}

// parseCodeowners reads the two pattern forms the example uses: "*" and "/dir/".
func parseCodeowners(t *testing.T, text string) []ownerRule {
	t.Helper()
	var out []ownerRule
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if f[0] != "*" && !(strings.HasPrefix(f[0], "/") && strings.HasSuffix(f[0], "/")) {
			t.Fatalf("CODEOWNERS line %d: pattern %q is outside what this test reads", i+1, f[0])
		}
		out = append(out, ownerRule{pattern: f[0], owners: f[1:]})
	}
	return out
}

// ownersOf applies GitHub's rule: the last matching pattern wins.
func ownersOf(rules []ownerRule, file string) []string {
	var owners []string
	for _, r := range rules {
		if r.pattern == "*" || strings.HasPrefix("/"+file, r.pattern) {
			owners = r.owners
		}
	}
	return owners
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compareVersions orders semantic versions: 2.4.0-rc.1 > 2.3.5, 2.4.0 > 2.4.0-rc.1.
func compareVersions(a, b string) int {
	an, apre, _ := strings.Cut(strings.TrimPrefix(a, "v"), "-")
	bn, bpre, _ := strings.Cut(strings.TrimPrefix(b, "v"), "-")
	as, bs := strings.Split(an, "."), strings.Split(bn, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case apre == bpre:
		return 0
	case apre == "":
		return 1
	case bpre == "":
		return -1
	case apre < bpre:
		return -1
	}
	return 1
}

func TestCompareVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1.8.0", "1.7.2", 1}, {"1.7.2", "1.8.0", -1}, {"2.4.0-rc.1", "2.3.5", 1},
		{"2.4.0", "2.4.0-rc.1", 1}, {"3.0.4", "3.0.4", 0}, {"1.10.0", "1.9.9", 1},
	} {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
