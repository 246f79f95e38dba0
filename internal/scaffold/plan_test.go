package scaffold_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/scaffold"
	"github.com/daytwo-dev/daytwo/internal/validate"
)

// memSnapshot is a repository at one commit, in memory.
type memSnapshot struct {
	commit string
	files  map[string][]byte
}

func newMemSnapshot(commit string, files map[string][]byte) *memSnapshot {
	return &memSnapshot{commit: commit, files: files}
}

func (s *memSnapshot) Commit() string { return s.commit }

func (s *memSnapshot) ReadFile(_ context.Context, p string) ([]byte, error) {
	if b, ok := s.files[filepath.ToSlash(filepath.Clean(p))]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

func (s *memSnapshot) ReadDir(_ context.Context, p string) ([]string, error) {
	p = filepath.ToSlash(filepath.Clean(p))
	set := map[string]bool{}
	for name := range s.files {
		rest, ok := strings.CutPrefix(name, p+"/")
		if p == "." {
			rest, ok = name, true
		}
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i+1]
		}
		set[rest] = true
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func readTree(t testing.TB, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// apply returns files with the change applied, checking what each file was before.
func apply(t testing.TB, files map[string][]byte, cs *plan.ChangeSet) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for p, b := range files {
		out[p] = b
	}
	for _, f := range cs.Files {
		cur, ok := out[f.Path]
		if (f.Before == nil) == ok || string(cur) != string(f.Before) {
			t.Fatalf("%s: Before does not match the snapshot (exists=%v)", f.Path, ok)
		}
		out[f.Path] = f.Content
	}
	return out
}

// exampleRepo is an example repository as a snapshot, with its config (discovered when it
// has no file).
func exampleRepo(t *testing.T, name string, edit func(map[string][]byte)) (*memSnapshot, *repoconfig.Config, []byte) {
	t.Helper()
	files := readTree(t, "../../examples/"+name)
	delete(files, "README.md")
	if edit != nil {
		edit(files)
	}
	snap := newMemSnapshot("c0ffee", files)
	cfgFile := files[repoconfig.Path]
	if cfgFile == nil {
		deps, skipped, err := discovery.Find(context.Background(), snap)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := discovery.Config(deps, skipped, command.All())
		if err != nil {
			t.Fatal(err)
		}
		return snap, cfg, nil
	}
	cfg, err := repoconfig.Load(cfgFile, command.All())
	if err != nil {
		t.Fatal(err)
	}
	return snap, cfg, cfgFile
}

func newServiceReq(t *testing.T, line string) plan.Input {
	t.Helper()
	cmd, err := command.Default().ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	return plan.Input{Command: cmd, Requester: "mo", OriginKey: "acme/gitops#1"}
}

// proven checks the repository after cs as daytwo validate would: the config (or what
// discovery makes of the Argo CD manifests) lists the service in envs, every overlay
// renders, and each new overlay runs the image.
func proven(t *testing.T, snap *memSnapshot, cs *plan.ChangeSet, name, image string, envs ...string) map[string][]byte {
	t.Helper()
	after := apply(t, snap.files, cs)
	head := newMemSnapshot("head", after)
	ctx := context.Background()
	deps, skipped, err := discovery.Find(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	var cfg *repoconfig.Config
	if b := after[repoconfig.Path]; b != nil {
		cfg, err = repoconfig.Load(b, command.All())
	} else {
		cfg, _, err = discovery.Config(deps, skipped, command.All())
	}
	if err != nil {
		t.Fatalf("the config after the change: %v", err)
	}
	svc, ok := cfg.Service(name)
	if !ok {
		t.Fatalf("%s is not a service after the change: %v", name, cfg.ServiceNames())
	}
	var deploys []string
	for _, e := range cfg.EnvNames() {
		if svc.Deploys(e) {
			deploys = append(deploys, e)
		}
	}
	if len(envs) < len(cfg.Environments) && !slices.Equal(deploys, envs) {
		t.Errorf("%s deploys to %v, want %v", name, deploys, envs)
	}
	for _, o := range validate.Overlays(ctx, head, cfg, deps) {
		if o.Err != nil {
			t.Errorf("%s in %s does not render: %v", o.Service, o.Env, o.Err)
		}
	}
	for _, e := range envs {
		tree, err := overlay.Load(ctx, head, svc.OverlayPath(e))
		if err != nil {
			t.Fatal(err)
		}
		r, err := tree.Render()
		if err != nil {
			t.Fatal(err)
		}
		if y := renderedYAML(r); !strings.Contains(y, "image: "+image) {
			t.Errorf("%s in %s does not run %s:\n%s", name, e, image, y)
		}
	}
	return after
}

func paths(cs *plan.ChangeSet) []string {
	var out []string
	for _, f := range cs.Files {
		out = append(out, f.Path)
	}
	sort.Strings(out)
	return out
}

// TestNewServiceGitOps: the apps/<service>/overlays/<env> layout with an Application per
// service and environment: three Applications copied from checkout's, the AppProject
// letting the new namespaces in, the config entry and the CODEOWNERS line.
func TestNewServiceGitOps(t *testing.T) {
	snap, cfg, cfgFile := exampleRepo(t, "gitops", nil)
	cs, res, err := scaffold.Plan(context.Background(), plan.New(), cfg, cfgFile, snap, newServiceReq(t, "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0"), scaffold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := proven(t, snap, cs, "ledger", "ghcr.io/acme/ledger:0.1.0", "dev", "staging", "prod")
	want := []string{".github/CODEOWNERS", ".github/daytwo.yml", "apps/ledger/base/deployment.yaml", "apps/ledger/base/kustomization.yaml",
		"apps/ledger/base/service.yaml", "apps/ledger/catalog-info.yaml", "apps/ledger/overlays/dev/kustomization.yaml",
		"apps/ledger/overlays/prod/kustomization.yaml", "apps/ledger/overlays/staging/kustomization.yaml",
		"argocd/apps/ledger-dev.yaml", "argocd/apps/ledger-prod.yaml", "argocd/apps/ledger-staging.yaml", "argocd/project.yaml"}
	if !slices.Equal(paths(cs), want) {
		t.Errorf("files %v", paths(cs))
	}
	prod := string(after["argocd/apps/ledger-prod.yaml"])
	for _, s := range []string{"name: ledger-prod", "app.kubernetes.io/name: ledger", "acme.dev/environment: prod", "path: apps/ledger/overlays/prod", "namespace: ledger-prod", "# No automated sync in prod", "project: shop"} {
		if !strings.Contains(prod, s) {
			t.Errorf("the prod Application lacks %q:\n%s", s, prod)
		}
	}
	if strings.Contains(prod, "automated:") || !strings.Contains(string(after["argocd/apps/ledger-dev.yaml"]), "automated:") {
		t.Error("the Applications must keep each environment's sync policy")
	}
	if !strings.Contains(string(after["apps/ledger/overlays/prod/kustomization.yaml"]), "count: 2") {
		t.Errorf("prod's replica floor is 2:\n%s", after["apps/ledger/overlays/prod/kustomization.yaml"])
	}
	catalog := string(after["apps/ledger/catalog-info.yaml"])
	for _, s := range []string{"owner: group:acme/payments-team", "system: shop", "lifecycle: experimental"} {
		if !strings.Contains(catalog, s) {
			t.Errorf("catalog-info.yaml lacks %q:\n%s", s, catalog)
		}
	}
	if !strings.HasSuffix(string(after[".github/CODEOWNERS"]), "\n/apps/ledger/                       @acme/payments-team\n") {
		t.Errorf("CODEOWNERS:\n%s", after[".github/CODEOWNERS"])
	}
	if !strings.HasPrefix(string(after[repoconfig.Path]), string(cfgFile)) {
		t.Error("the config must keep every line it had")
	}
	if cs.Service != "ledger" || cs.Env != "" || !strings.HasPrefix(cs.Branch, "daytwo/ledger/new-service-") || !strings.Contains(cs.CommitMessage, "Daytwo-Service: ledger\n") {
		t.Errorf("change set %q %q %q\n%s", cs.Service, cs.Env, cs.Branch, cs.CommitMessage)
	}
	if res.Layout.Reference != "checkout" || len(res.Apps) != 3 {
		t.Errorf("%+v", res)
	}
}

// TestNewServiceEnvsLayout: envs/<env>/<service> on shared bases, with a config and no
// Argo CD manifests: the base beside the others, the overlays reach it, the namespace is
// the environment's, and the PR says the Applications are not in the repository.
func TestNewServiceEnvsLayout(t *testing.T) {
	snap, cfg, cfgFile := exampleRepo(t, "envs-layout", nil)
	cs, res, err := scaffold.Plan(context.Background(), plan.New(), cfg, cfgFile, snap, newServiceReq(t, "/new-service search --owner acme/search --image registry.example.com/acme/search@sha256:"+strings.Repeat("ab", 32)+" --port 9000"), scaffold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := proven(t, snap, cs, "search", "registry.example.com/acme/search@sha256:"+strings.Repeat("ab", 32), "dev", "prod")
	dev := string(after["envs/dev/search/kustomization.yaml"])
	for _, s := range []string{"namespace: dev\n", "- ../../../bases/search\n", "digest: sha256:"} {
		if !strings.Contains(dev, s) {
			t.Errorf("the dev overlay lacks %q:\n%s", s, dev)
		}
	}
	if _, ok := after["bases/search/catalog-info.yaml"]; !ok || !strings.Contains(string(after["bases/search/deployment.yaml"]), "containerPort: 9000") {
		t.Errorf("base: %v", paths(cs))
	}
	if got := string(after[".github/CODEOWNERS"]); got != "/bases/search/ @acme/search\n/envs/*/search/ @acme/search\n" {
		t.Errorf("a repository without CODEOWNERS gets one for the service:\n%s", got)
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool {
		return strings.HasPrefix(n, "No Argo CD manifest in the repository deploys a service in prod")
	}) {
		t.Errorf("notes %q", res.Notes)
	}
	if !strings.Contains(cs.Body, "No Argo CD manifest") {
		t.Error("the description must say the Applications are missing")
	}
}

// TestNewServiceSharedBases: no config, an ApplicationSet with a git directory generator:
// nothing to add for Argo CD, the shared component listed, CODEOWNERS lines before the
// SRE's prod line so it still wins, and the system must be named.
func TestNewServiceSharedBases(t *testing.T) {
	snap, cfg, _ := exampleRepo(t, "shared-bases", nil)
	_, _, err := scaffold.Plan(context.Background(), plan.New(), cfg, nil, snap, newServiceReq(t, "/new-service fx --owner acme/fx-team --image ghcr.io/acme/fx:1.0.0"), scaffold.Options{})
	if plan.ErrorCode(err) != plan.Invalid || !strings.Contains(err.Error(), "--system <name>") {
		t.Fatalf("no catalog names a system: %v", err)
	}
	cs, res, err := scaffold.Plan(context.Background(), plan.New(), cfg, nil, snap, newServiceReq(t, "/new-service fx --owner acme/fx-team --image ghcr.io/acme/fx:1.0.0 --system payments"), scaffold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := proven(t, snap, cs, "fx", "ghcr.io/acme/fx:1.0.0", "dev", "staging", "prod")
	for _, p := range paths(cs) {
		if strings.HasPrefix(p, "argocd/") || p == repoconfig.Path {
			t.Errorf("%s changed: the git generator finds the overlays, and there is no config", p)
		}
	}
	for _, a := range res.Apps {
		if !strings.Contains(a.How, "generated by ApplicationSet acme") || a.Name != "fx-"+a.Env {
			t.Errorf("%+v", a)
		}
	}
	if s := string(after["envs/staging/fx/kustomization.yaml"]); !strings.Contains(s, "components:\n  - ../../../bases/common\n") || !strings.Contains(s, "namespace: fx-staging") {
		t.Errorf("staging overlay:\n%s", s)
	}
	owners := string(after[".github/CODEOWNERS"])
	if i, j := strings.Index(owners, "/envs/*/fx/"), strings.Index(owners, "/envs/prod/"); i < 0 || j < i {
		t.Errorf("CODEOWNERS:\n%s", owners)
	}
	if !slices.Contains(res.Notes, "envs/prod/fx is owned by @acme/sre") {
		t.Errorf("notes %q", res.Notes)
	}
}

// TestNewServiceArgoCDApps: list generators per environment and plain Applications in
// one file: an element added to dev's list, an Application appended to prod.yaml, and
// staging's set left alone when --envs leaves staging out.
func TestNewServiceArgoCDApps(t *testing.T) {
	snap, cfg, _ := exampleRepo(t, "argocd-apps", nil)
	cs, res, err := scaffold.Plan(context.Background(), plan.New(), cfg, nil, snap, newServiceReq(t, "/new-service mailer --owner acme/mail --image ghcr.io/acme/mailer:2.1.0 --envs dev,prod"), scaffold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := proven(t, snap, cs, "mailer", "ghcr.io/acme/mailer:2.1.0", "dev", "prod")
	if slices.Contains(paths(cs), "argocd/staging.yaml") {
		t.Error("staging's ApplicationSet changed, but mailer does not go to staging")
	}
	if dev := string(after["argocd/dev.yaml"]); dev != strings.Replace(string(snap.files["argocd/dev.yaml"]), "          - service: queue\n", "          - service: queue\n          - service: mailer\n", 1) {
		t.Errorf("dev's list generator:\n%s", dev)
	}
	prod := string(after["argocd/prod.yaml"])
	if !strings.HasPrefix(prod, string(snap.files["argocd/prod.yaml"])+"---\n") || !strings.Contains(prod, "name: prod-mailer") || !strings.Contains(prod, "path: k8s/mailer/prod") {
		t.Errorf("prod.yaml:\n%s", prod)
	}
	if _, ok := after["k8s/mailer/catalog-info.yaml"]; !ok {
		t.Errorf("the catalog goes where web's is: %v", paths(cs))
	}
	if len(res.Apps) != 2 {
		t.Errorf("apps %+v", res.Apps)
	}
}

// TestNewServiceRefusals: what /new-service refuses before writing anything.
func TestNewServiceRefusals(t *testing.T) {
	cases := []struct {
		name, line string
		edit       func(map[string][]byte)
		code       plan.Code
		want       string
	}{
		{"a service", "/new-service checkout --owner acme/x --image ghcr.io/acme/c:1", nil, plan.Invalid, "The name checkout is taken: .github/daytwo.yml lists a service checkout"},
		{"a directory", "/new-service ledger --owner acme/x --image ghcr.io/acme/l:1",
			func(f map[string][]byte) { f["apps/ledger/README.md"] = []byte("old\n") }, plan.Invalid, "The name ledger is taken: apps/ledger exists already"},
		{"an Application file", "/new-service ledger --owner acme/x --image ghcr.io/acme/l:1",
			func(f map[string][]byte) { f["argocd/apps/ledger-dev.yaml"] = []byte("# kept\n") }, plan.Invalid, "argocd/apps/ledger-dev.yaml exists already"},
		{"an unknown environment", "/new-service ledger --owner acme/x --image ghcr.io/acme/l:1 --envs dev,qa", nil, plan.Invalid, `no environment "qa"`},
		{"a frozen environment", "/new-service ledger --owner acme/x --image ghcr.io/acme/l:1", func(f map[string][]byte) {
			f[repoconfig.Path] = []byte(strings.Replace(string(f[repoconfig.Path]), "  - name: prod\n", "  - name: prod\n    freeze: {reason: release}\n", 1))
		}, plan.Forbidden, "leave it out with --envs"},
		{"an override that is not YAML", "/new-service ledger --owner acme/x --image ghcr.io/acme/l:1", func(f map[string][]byte) {
			f[".github/daytwo/scaffold/base/deployment.yaml.tmpl"] = []byte("kind: [Deployment\n")
		}, plan.Broken, "The scaffold template base/deployment.yaml.tmpl (.github/daytwo/scaffold/base/deployment.yaml.tmpl) gives apps/ledger/base/deployment.yaml, which is not YAML"},
		{"an override that does not render", "/new-service ledger --owner acme/x --image ghcr.io/acme/l:1", func(f map[string][]byte) {
			f[".github/daytwo/scaffold/overlay/kustomization.yaml.tmpl"] = []byte("resources: [{{.Base}}, missing.yaml]\n")
		}, plan.Broken, "does not render"},
		{"an override naming a missing field", "/new-service ledger --owner acme/x --image ghcr.io/acme/l:1", func(f map[string][]byte) {
			f[".github/daytwo/scaffold/catalog-info.yaml.tmpl"] = []byte("owner: {{.Team.Name}}\n")
		}, plan.Broken, "The scaffold template catalog-info.yaml.tmpl (.github/daytwo/scaffold/catalog-info.yaml.tmpl) fails"},
		{"a stray override", "/new-service ledger --owner acme/x --image ghcr.io/acme/l:1", func(f map[string][]byte) {
			f[".github/daytwo/scaffold/README.md"] = []byte("hi\n")
		}, plan.Invalid, "is not a scaffold template"},
	}
	for _, c := range cases {
		snap, cfg, cfgFile := exampleRepo(t, "gitops", c.edit)
		_, _, err := scaffold.Plan(context.Background(), plan.New(), cfg, cfgFile, snap, newServiceReq(t, c.line), scaffold.Options{})
		if plan.ErrorCode(err) != c.code || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (code %s), want %s %q", c.name, err, plan.ErrorCode(err), c.code, c.want)
		}
	}
}

// TestNewServiceOverride: a repository's own template replaces daytwo's, and one it adds
// is written too.
func TestNewServiceOverride(t *testing.T) {
	snap, cfg, cfgFile := exampleRepo(t, "gitops", func(f map[string][]byte) {
		f[".github/daytwo/scaffold/base/kustomization.yaml.tmpl"] = []byte("resources: [deployment.yaml, service.yaml, pdb.yaml]\n")
		f[".github/daytwo/scaffold/base/pdb.yaml.tmpl"] = []byte("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: {{.Name}}}\nspec: {maxUnavailable: 1, selector: {matchLabels: {app.kubernetes.io/name: {{.Name}}}}}\n")
	})
	cs, _, err := scaffold.Plan(context.Background(), plan.New(), cfg, cfgFile, snap, newServiceReq(t, "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0 --envs dev"), scaffold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := proven(t, snap, cs, "ledger", "ghcr.io/acme/ledger:0.1.0", "dev")
	head := newMemSnapshot("head", after)
	tree, _ := overlay.Load(context.Background(), head, "apps/ledger/overlays/dev")
	r, err := tree.Render()
	if err != nil {
		t.Fatal(err)
	}
	if y := renderedYAML(r); !strings.Contains(y, "kind: PodDisruptionBudget") {
		t.Errorf("the added template is not rendered:\n%s", y)
	}
}

// BenchmarkNewServiceGitOps: planning /new-service on the gitops example, proof included
// (three new overlays and nine existing ones rendered, Argo CD manifests read three times).
func BenchmarkNewServiceGitOps(b *testing.B) {
	files := readTree(b, "../../examples/gitops")
	cfg, err := repoconfig.Load(files[repoconfig.Path], command.All())
	if err != nil {
		b.Fatal(err)
	}
	cmd, err := command.Default().ParseLine("/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0")
	if err != nil {
		b.Fatal(err)
	}
	p := plan.New()
	for b.Loop() {
		if _, _, err := scaffold.Plan(context.Background(), p, cfg, files[repoconfig.Path], newMemSnapshot("c0ffee", files), plan.Input{Command: cmd, Requester: "mo"}, scaffold.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// renderedYAML is a render's objects, one document after another.
func renderedYAML(r *overlay.Rendered) string {
	var b strings.Builder
	for _, res := range r.Resources() {
		b.WriteString("---\n" + res.Node.MustString())
	}
	return b.String()
}
