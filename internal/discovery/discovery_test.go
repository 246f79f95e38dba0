package discovery_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// tree is a repository in memory.
type tree map[string]string

func (t tree) ReadFile(_ context.Context, p string) ([]byte, error) {
	if b, ok := t[p]; ok {
		return []byte(b), nil
	}
	return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

func (t tree) ReadDir(_ context.Context, p string) ([]string, error) {
	set := map[string]bool{}
	prefix := p + "/"
	if p == "." || p == "" {
		prefix = ""
	}
	for f := range t {
		rest, ok := strings.CutPrefix(f, prefix)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			set[rest[:i+1]] = true
		} else {
			set[rest] = true
		}
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func example(t *testing.T, keep func(string) bool) tree {
	t.Helper()
	tr := tree{}
	root := "../../examples/gitops"
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if keep != nil && !keep(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		tr[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func placed(deps []discovery.Deployment) []string {
	var out []string
	for _, d := range deps {
		out = append(out, fmt.Sprintf("%s=%s/%s@%s auto=%v", d.App, d.Service, d.Env, d.Path, d.AutoSync))
	}
	sort.Strings(out)
	return out
}

const wantExample = "catalog-dev=catalog/dev@apps/catalog/overlays/dev auto=true," +
	"catalog-prod=catalog/prod@apps/catalog/overlays/prod auto=false," +
	"catalog-staging=catalog/staging@apps/catalog/overlays/staging auto=true," +
	"checkout-dev=checkout/dev@apps/checkout/overlays/dev auto=true," +
	"checkout-prod=checkout/prod@apps/checkout/overlays/prod auto=false," +
	"checkout-staging=checkout/staging@apps/checkout/overlays/staging auto=true," +
	"payments-dev=payments/dev@apps/payments/overlays/dev auto=true," +
	"payments-prod=payments/prod@apps/payments/overlays/prod auto=false," +
	"payments-staging=payments/staging@apps/payments/overlays/staging auto=true"

func TestFindApplicationsAndApplicationSet(t *testing.T) {
	ctx := context.Background()
	// The Applications alone, then the ApplicationSet alone: the same nine deployments.
	for name, keep := range map[string]func(string) bool{
		"applications":   func(p string) bool { return !strings.HasSuffix(p, "applicationset.yaml") },
		"applicationset": func(p string) bool { return !strings.HasPrefix(p, "argocd/apps/") },
	} {
		deps, skipped, err := discovery.Find(ctx, example(t, keep))
		if err != nil || len(skipped) != 0 {
			t.Fatalf("%s: %v %v", name, err, skipped)
		}
		if got := strings.Join(placed(deps), ","); got != wantExample {
			t.Errorf("%s:\n%s\nwant\n%s", name, strings.ReplaceAll(got, ",", "\n"), strings.ReplaceAll(wantExample, ",", "\n"))
		}
	}
}

func TestConfigWithoutDaytwoYml(t *testing.T) {
	ctx := context.Background()
	deps, skipped, err := discovery.Find(ctx, example(t, func(p string) bool { return p != ".github/daytwo.yml" }))
	if err != nil {
		t.Fatal(err)
	}
	cfg, rep, err := discovery.Config(deps, skipped, command.All())
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	if strings.Join(cfg.EnvNames(), ",") != "dev,staging,prod" || strings.Join(cfg.ServiceNames(), ",") != "catalog,checkout,payments" {
		t.Fatalf("envs %v services %v", cfg.EnvNames(), cfg.ServiceNames())
	}
	svc, _ := cfg.Service("checkout")
	if svc.OverlayPath("prod") != "apps/checkout/overlays/prod" || svc.ArgoCDAppName("staging") != "checkout-staging" {
		t.Errorf("checkout: overlay %s app %s", svc.OverlayPath("prod"), svc.ArgoCDAppName("staging"))
	}
	if len(rep.Placed) != 9 || !strings.Contains(rep.String(), "discovered checkout-prod") {
		t.Errorf("report:\n%s", rep)
	}
}

func TestEnvsLayoutAndUnplaceable(t *testing.T) {
	app := func(name, p string) string {
		return "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: " + name +
			"\nspec:\n  project: default\n  source:\n    repoURL: https://example.com/r.git\n    path: " + p +
			"\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: x\n"
	}
	tr := tree{
		"clusters/apps.yaml":                  app("dev-api", "envs/dev/api") + "---\n" + app("prod-api", "envs/prod/api") + "---\n" + app("prod-worker", "envs/prod/worker") + "---\n" + app("tools", "platform/tools"),
		"envs/dev/api/kustomization.yaml":     "resources: []\n",
		"envs/prod/api/kustomization.yaml":    "resources: []\n",
		"envs/prod/worker/kustomization.yaml": "resources: []\n",
	}
	deps, _, err := discovery.Find(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	cfg, rep, err := discovery.Config(deps, nil, command.All())
	if err != nil {
		t.Fatal(err)
	}
	api, _ := cfg.Service("api")
	worker, _ := cfg.Service("worker")
	if api.OverlayPath("prod") != "envs/prod/api" || api.ArgoCDAppName("dev") != "dev-api" || worker.Deploys("dev") || !worker.Deploys("prod") {
		t.Errorf("api %+v worker %+v", api, worker)
	}
	if len(rep.Unplaced) != 1 || rep.Unplaced[0].App != "tools" || !strings.Contains(rep.String(), "not placed tools") {
		t.Errorf("unplaced: %+v", rep.Unplaced)
	}
}

func TestApplicationSetExcludeAndListGenerator(t *testing.T) {
	set := `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: s}
spec:
  generators:
  - git:
      repoURL: https://example.com/r.git
      revision: main
      directories:
      - path: apps/*/overlays/*
      - path: apps/legacy/overlays/*
        exclude: true
  - list:
      elements:
      - {svc: billing, env: prod}
  - clusters: {}
  template:
    metadata: {name: '{{path[1]}}-{{path.basename}}'}
    spec:
      project: default
      source: {repoURL: https://example.com/r.git, path: '{{path}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{path.basename}}'}
`
	tr := tree{
		"argocd/set.yaml":                              set,
		"apps/web/overlays/dev/kustomization.yaml":     "resources: []\n",
		"apps/web/overlays/prod/kustomization.yaml":    "resources: []\n",
		"apps/legacy/overlays/prod/kustomization.yaml": "resources: []\n",
	}
	deps, skipped, err := discovery.Find(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(placed(deps), ","); got != "web-dev=web/dev@apps/web/overlays/dev auto=false,web-prod=web/prod@apps/web/overlays/prod auto=false" {
		t.Errorf("deployments: %s", got)
	}
	// The list element gives none of the names the template uses: fasttemplate leaves
	// "{{path[1]}}-{{path.basename}}" as it is (utils.Render.Replace), a name Kubernetes
	// refuses. Reported, as is the cluster generator.
	all := fmt.Sprint(skipped)
	if len(skipped) != 2 || !strings.Contains(all, `generates the Application name "{{path[1]}}-{{path.basename}}", which Kubernetes refuses`) ||
		!strings.Contains(all, "generator 3: a cluster generator lists the clusters registered in Argo CD") {
		t.Errorf("skipped: %q", skipped)
	}
}

func TestMergeFillsOnlyWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	tr := example(t, func(p string) bool { return !strings.HasSuffix(p, "applicationset.yaml") })
	deps, skipped, err := discovery.Find(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	cfgText := strings.Replace(tr[".github/daytwo.yml"], `argocdApp: "{service}-{env}"`, `argocdApp: "shop-{service}-{env}"`, 1)
	cfg, err := repoconfig.Load([]byte(cfgText), command.All())
	if err != nil {
		t.Fatal(err)
	}
	rep := discovery.Merge(cfg, deps, skipped)
	svc, _ := cfg.Service("checkout")
	if svc.ArgoCDAppName("prod") != "checkout-prod" || len(rep.Filled) != 3 {
		t.Errorf("merge: app %s, filled %q", svc.ArgoCDAppName("prod"), rep.Filled)
	}
	// A config that names the Applications right is left as it is.
	cfg, _ = repoconfig.Load([]byte(tr[".github/daytwo.yml"]), command.All())
	if rep := discovery.Merge(cfg, deps, skipped); len(rep.Filled) != 0 {
		t.Errorf("filled a correct config: %q", rep.Filled)
	}
}

func TestFindOverlaysFromTheLayout(t *testing.T) {
	ctx := context.Background()
	tr := tree{}
	root := "../../examples/envs-layout"
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		tr[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// An overlay of all of prod gathers the services' own; a hidden directory is not searched.
	tr["envs/prod/kustomization.yaml"] = "resources: [api, worker]\n"
	tr[".hidden/prod/x/kustomization.yaml"] = "resources: []\n"
	deps, err := discovery.FindOverlays(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range deps {
		got = append(got, d.Service+"/"+d.Env+"@"+d.Path)
	}
	if want := "api/dev@envs/dev/api,worker/dev@envs/dev/worker,api/prod@envs/prod/api,worker/prod@envs/prod/worker"; strings.Join(got, ",") != want {
		t.Errorf("found %v, want %s (bases/ names no environment)", got, want)
	}
	cfg, rep, err := discovery.Config(deps, nil, command.All())
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	api, _ := cfg.Service("api")
	if strings.Join(cfg.EnvNames(), ",") != "dev,prod" || api.OverlayPath("prod") != "envs/prod/api" || !strings.Contains(rep.String(), "discovered -") {
		t.Errorf("envs %v, api overlay %s, report:\n%s", cfg.EnvNames(), api.OverlayPath("prod"), rep)
	}

	if _, err := discovery.FindOverlays(ctx, tree{}); err == nil {
		t.Error("an empty repository cannot be listed; want the error")
	}
}
