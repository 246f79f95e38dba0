package overlay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func deployment(name, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
        - name: %[1]s
          image: %[2]s
`, name, image)
}

func service(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  selector:
    app: %[1]s
  ports:
    - port: 80
`, name)
}

// appsLayout is apps/<svc>/base + apps/<svc>/overlays/<env> for every name, with a rich
// prod overlay for checkout.
func appsLayout(services ...string) map[string]string {
	files := map[string]string{
		"README.md": "# gitops\n",
		"components/monitoring/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: probe.yaml\n    target:\n      kind: Deployment\n",
		"components/monitoring/probe.yaml":         "- op: add\n  path: /metadata/annotations\n  value:\n    prometheus.io/scrape: \"true\"\n",
		"components/unused/kustomization.yaml":     "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
	}
	for _, s := range services {
		files["apps/"+s+"/base/kustomization.yaml"] = "resources:\n  - deployment.yaml\n  - service.yaml\n"
		files["apps/"+s+"/base/deployment.yaml"] = deployment(s, "ghcr.io/acme/"+s+":1.0.0")
		files["apps/"+s+"/base/service.yaml"] = service(s)
		files["apps/"+s+"/base/README.md"] = "not referenced\n"
		for _, env := range []string{"staging", "prod"} {
			files["apps/"+s+"/overlays/"+env+"/kustomization.yaml"] = "resources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/" + s + "\n    newTag: 1.1.0\n"
		}
	}
	files["apps/checkout/overlays/prod/kustomization.yaml"] = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: checkout
resources:
  - ../../base
  - extra # a directory with its own kustomization
components:
  - ../../../../components/monitoring
patches:
  - path: replicas.yaml
patchesStrategicMerge:
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: checkout
      labels:
        inline: "yes"
configMapGenerator:
  - name: checkout-env
    envs:
      - config.env
    files:
      - settings.json
      - custom=conf/app.conf
    literals:
      - MODE=prod
images:
  - name: ghcr.io/acme/checkout
    newTag: 2.0.0
`
	files["apps/checkout/overlays/prod/replicas.yaml"] = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\nspec:\n  replicas: 3\n"
	files["apps/checkout/overlays/prod/config.env"] = "LOG_LEVEL=warn\n"
	files["apps/checkout/overlays/prod/settings.json"] = "{\"a\": 1}\n"
	files["apps/checkout/overlays/prod/conf/app.conf"] = "x = 1\n"
	files["apps/checkout/overlays/prod/conf/other.conf"] = "not referenced\n"
	files["apps/checkout/overlays/prod/notes.txt"] = "not referenced\n"
	files["apps/checkout/overlays/prod/extra/kustomization.yml"] = "resources:\n  - pdb.yaml\n"
	files["apps/checkout/overlays/prod/extra/pdb.yaml"] = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: checkout\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: checkout\n"
	return files
}

func TestLoadAppsLayoutReadsOnlyReferenced(t *testing.T) {
	r := newRepo(appsLayout("checkout", "payments", "search"))
	tree, err := Load(context.Background(), r, "apps/checkout/overlays/prod")
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{
		"apps/checkout/base/deployment.yaml",
		"apps/checkout/base/kustomization.yaml",
		"apps/checkout/base/service.yaml",
		"apps/checkout/overlays/prod/conf/app.conf",
		"apps/checkout/overlays/prod/config.env",
		"apps/checkout/overlays/prod/extra/kustomization.yml",
		"apps/checkout/overlays/prod/extra/pdb.yaml",
		"apps/checkout/overlays/prod/kustomization.yaml",
		"apps/checkout/overlays/prod/replicas.yaml",
		"apps/checkout/overlays/prod/settings.json",
		"components/monitoring/kustomization.yaml",
		"components/monitoring/probe.yaml",
	}
	if got := r.readPaths(); !reflect.DeepEqual(got, wantFiles) {
		t.Errorf("files read:\n got %q\nwant %q", got, wantFiles)
	}
	if got := tree.Paths(); !reflect.DeepEqual(got, wantFiles) {
		t.Errorf("Paths() = %q, want %q", got, wantFiles)
	}
	wantDirs := []string{
		"apps/checkout",
		"apps/checkout/base",
		"apps/checkout/overlays/prod",
		"apps/checkout/overlays/prod/conf",
		"apps/checkout/overlays/prod/extra",
		"components",
		"components/monitoring",
	}
	if got := r.dirPaths(); !reflect.DeepEqual(got, wantDirs) {
		t.Errorf("directories listed:\n got %q\nwant %q", got, wantDirs)
	}
	for p, n := range r.read {
		if n != 1 {
			t.Errorf("%s read %d times", p, n)
		}
	}
	if tree.Dir() != "apps/checkout/overlays/prod" {
		t.Errorf("Dir() = %q", tree.Dir())
	}
	if kp, ok := tree.KustomizationPath("apps/checkout/overlays/prod/extra"); !ok || kp != "apps/checkout/overlays/prod/extra/kustomization.yml" {
		t.Errorf("KustomizationPath(extra) = %q, %v", kp, ok)
	}
	if _, ok := tree.KustomizationPath("apps/payments/base"); ok {
		t.Error("KustomizationPath of a directory that was not loaded")
	}

	out, err := tree.Render()
	if err != nil {
		t.Fatal(err)
	}
	d := mustFind(t, out, "Deployment", "checkout")
	if got := field(t, d, "spec", "replicas"); got != "3" {
		t.Errorf("replicas = %q, want 3", got)
	}
	if got := field(t, d, "metadata", "labels", "inline"); got != "yes" {
		t.Errorf("inline patch not applied: label %q", got)
	}
	if got := field(t, d, "metadata", "annotations", "prometheus.io/scrape"); got != "true" {
		t.Errorf("component not applied: annotation %q", got)
	}
	if got := field(t, d, "spec", "template", "spec", "containers", "0", "image"); got != "ghcr.io/acme/checkout:2.0.0" {
		t.Errorf("image = %q", got)
	}
	mustFind(t, out, "PodDisruptionBudget", "checkout")
	var cm *Resource
	for _, res := range out.Resources() {
		if res.Kind == "ConfigMap" {
			cm = &res
		}
	}
	if cm == nil {
		t.Fatal("no ConfigMap rendered")
	}
	data := cm.Node.GetDataMap()
	for k, v := range map[string]string{"LOG_LEVEL": "warn", "settings.json": "{\"a\": 1}\n", "custom": "x = 1\n", "MODE": "prod"} {
		if data[k] != v {
			t.Errorf("ConfigMap %s = %q, want %q", k, data[k], v)
		}
	}
	if got := d.ID(); got != "Deployment/checkout/checkout" {
		t.Errorf("ID() = %q", got)
	}
	if ws := out.Workloads(); len(ws) != 1 || ws[0].Name != "checkout" {
		t.Errorf("Workloads() = %v", ws)
	}
	if !strings.Contains(string(renderedYAML(out)), "kind: PodDisruptionBudget") {
		t.Error("the render lacks the PodDisruptionBudget")
	}
}

// envsLayout is envs/<env>/<svc> over shared bases/<svc>, plus a root base/ used by web.
func envsLayout(services ...string) map[string]string {
	files := map[string]string{
		"base/kustomization.yaml":                  "resources:\n  - web.yaml\n",
		"base/web.yaml":                            deployment("web", "ghcr.io/acme/web:1.0.0"),
		"components/istio/kustomization.yaml":      "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\nresources:\n  - sidecar.yaml\n",
		"components/istio/sidecar.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sidecar\ndata:\n  mode: strict\n",
		"envs/prod/web/kustomization.yaml":         "resources:\n  - ../../../base\nreplicas:\n  - name: web\n    count: 4\n",
		"envs/prod/checkout/kustomization.yaml":    "resources:\n  - ../../../bases/checkout\n  - ../../../bases/shared\ncomponents:\n  - ../../../components/istio\ntransformers:\n  - labels.yaml\n",
		"envs/prod/checkout/labels.yaml":           "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: env\nlabels:\n  env: prod\nfieldSpecs:\n  - path: metadata/labels\n    create: true\n",
		"bases/shared/kustomization.yaml":          "resources:\n  - quota.yaml\n",
		"bases/shared/quota.yaml":                  "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: quota\nspec:\n  hard:\n    pods: \"50\"\n",
		"envs/staging/checkout/kustomization.yaml": "resources:\n  - ../../../bases/checkout\n",
	}
	for _, s := range services {
		files["bases/"+s+"/kustomization.yaml"] = "resources:\n  - deployment.yaml\n"
		files["bases/"+s+"/deployment.yaml"] = deployment(s, "ghcr.io/acme/"+s+":1.0.0")
		files["envs/prod/"+s+"/kustomization.yaml"] = "resources:\n  - ../../../bases/" + s + "\n"
	}
	files["envs/prod/checkout/kustomization.yaml"] = "resources:\n  - ../../../bases/checkout\n  - ../../../bases/shared\ncomponents:\n  - ../../../components/istio\ntransformers:\n  - labels.yaml\n"
	return files
}

func TestLoadEnvsLayoutReadsOnlyReferenced(t *testing.T) {
	r := newRepo(envsLayout("checkout", "payments", "search"))
	tree, err := Load(context.Background(), r, "envs/prod/checkout/")
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{
		"bases/checkout/deployment.yaml",
		"bases/checkout/kustomization.yaml",
		"bases/shared/kustomization.yaml",
		"bases/shared/quota.yaml",
		"components/istio/kustomization.yaml",
		"components/istio/sidecar.yaml",
		"envs/prod/checkout/kustomization.yaml",
		"envs/prod/checkout/labels.yaml",
	}
	if got := r.readPaths(); !reflect.DeepEqual(got, wantFiles) {
		t.Errorf("files read:\n got %q\nwant %q", got, wantFiles)
	}
	wantDirs := []string{"bases", "bases/checkout", "bases/shared", "components", "components/istio", "envs/prod/checkout"}
	if got := r.dirPaths(); !reflect.DeepEqual(got, wantDirs) {
		t.Errorf("directories listed:\n got %q\nwant %q", got, wantDirs)
	}
	out, err := tree.Render()
	if err != nil {
		t.Fatal(err)
	}
	if got := field(t, mustFind(t, out, "Deployment", "checkout"), "metadata", "labels", "env"); got != "prod" {
		t.Errorf("transformer not applied: env label %q", got)
	}
	mustFind(t, out, "ResourceQuota", "quota")
	mustFind(t, out, "ConfigMap", "sidecar")

	// A root-level shared base.
	r.reset()
	tree, err = Load(context.Background(), r, "envs/prod/web")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.readPaths(), []string{"base/kustomization.yaml", "base/web.yaml", "envs/prod/web/kustomization.yaml"}; !reflect.DeepEqual(got, want) {
		t.Errorf("files read: got %q, want %q", got, want)
	}
	if got, want := r.dirPaths(), []string{".", "base", "envs/prod/web"}; !reflect.DeepEqual(got, want) {
		t.Errorf("directories listed: got %q, want %q", got, want)
	}
	out, err = tree.Render()
	if err != nil {
		t.Fatal(err)
	}
	if got := field(t, mustFind(t, out, "Deployment", "web"), "spec", "replicas"); got != "4" {
		t.Errorf("replicas = %q, want 4", got)
	}
}

// Planning on a big repository must cost what it costs on a small one.
func TestLoadCostIndependentOfRepoSize(t *testing.T) {
	for _, layout := range []struct {
		name  string
		files func(...string) map[string]string
		dir   string
	}{
		{"apps", appsLayout, "apps/checkout/overlays/prod"},
		{"envs", envsLayout, "envs/prod/checkout"},
	} {
		t.Run(layout.name, func(t *testing.T) {
			calls := map[int][]string{}
			for _, n := range []int{10, 1000} {
				r := newRepo(layout.files(serviceNames(n)...))
				if _, err := Load(context.Background(), r, layout.dir); err != nil {
					t.Fatal(err)
				}
				calls[n] = append(r.readPaths(), r.dirPaths()...)
			}
			if !reflect.DeepEqual(calls[10], calls[1000]) {
				t.Errorf("reads differ with repository size:\n10:   %q\n1000: %q", calls[10], calls[1000])
			}
		})
	}
}

func serviceNames(n int) []string {
	out := []string{"checkout"}
	for i := 1; i < n; i++ {
		out = append(out, fmt.Sprintf("svc%04d", i))
	}
	return out
}

func loadErr(t *testing.T, files map[string]string, dir string) error {
	t.Helper()
	_, err := Load(context.Background(), newRepo(files), dir)
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	return err
}

func wantMsg(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestLoadRefusals(t *testing.T) {
	const k = "o/kustomization.yaml"
	base := map[string]string{"b/kustomization.yaml": "resources:\n  - d.yaml\n", "b/d.yaml": deployment("d", "x:1")}
	with := func(files map[string]string) map[string]string {
		out := map[string]string{}
		for p, c := range base {
			out[p] = c
		}
		for p, c := range files {
			out[p] = c
		}
		return out
	}
	tests := []struct {
		name     string
		kust     string
		extra    map[string]string
		want     []string
		notExist bool
	}{
		{"remote https", "resources:\n  - ../b\n  - https://github.com/acme/x//base?ref=v1\n", nil, []string{k + " line 3", "https://github.com/acme/x//base?ref=v1", "remote"}, false},
		{"remote github shorthand", "resources:\n  - github.com/acme/x/base?ref=v1\n", nil, []string{"remote"}, false},
		{"remote scp", "components:\n  - git@github.com:acme/x.git//c\n", nil, []string{"remote"}, false},
		{"remote git::", "resources:\n  - git::ssh://git.example.com/x\n", nil, []string{"remote"}, false},
		{"remote patch URL", "patches:\n  - path: https://example.com/p.yaml\n", nil, []string{"patches[].path", "remote"}, false},
		{"escape", "resources:\n  - ../../outside\n", nil, []string{k + " line 2", "leaves the repository"}, false},
		{"escape via generator file", "configMapGenerator:\n  - name: c\n    files:\n      - k=../../../etc/passwd\n", nil, []string{"leaves the repository"}, false},
		{"absolute", "resources:\n  - /etc/kubernetes\n", nil, []string{"absolute paths are not supported"}, false},
		{"missing file", "resources:\n  - ../b\npatches:\n  - path: missing.yaml\n", nil, []string{k + " line 4", "o/missing.yaml does not exist"}, true},
		{"missing base", "resources:\n  - ../nowhere\n", nil, []string{k + " line 2", "nowhere does not exist"}, true},
		{"directory without kustomization", "resources:\n  - ../empty\n", map[string]string{"empty/README.md": "x"}, []string{k, "empty/kustomization.yaml does not exist"}, true},
		{"file as component", "components:\n  - ../b/d.yaml\n", nil, []string{"is a file; a directory with a kustomization is expected"}, false},
		{"directory as patch", "patches:\n  - path: ../b\n", nil, []string{"b is a directory"}, false},
		{"not YAML", "resources:\n  - ../b\npatches: [\n  - path: x\n", nil, []string{k + " line ", "did not find expected"}, false},
		{"not a mapping", "- ../b\n", nil, []string{k + " line 1", "must be a mapping"}, false},
		{"resources not a list", "resources: ../b\n", nil, []string{k + " line 1", "resources must be a list"}, false},
		{"two documents", "resources: [../b]\n---\nresources: [../b]\n", nil, []string{"2 YAML documents"}, false},
		{"helm", "helmCharts:\n  - name: x\n", nil, []string{k + " line 1", "Helm"}, false},
		{"several kustomization files", "resources: [../b]\n", map[string]string{"o/kustomization.yml": "resources: [../b]\n"}, []string{"several kustomization files"}, false},
		{"cycle", "resources:\n  - ../c\n", map[string]string{"c/kustomization.yaml": "resources:\n  - ../o\n"}, []string{"cycle", "o → c → o"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := with(tc.extra)
			files[k] = tc.kust
			err := loadErr(t, files, "o")
			wantMsg(t, err, tc.want...)
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v (%v)", got, tc.notExist, err)
			}
		})
	}
}

func TestLoadMissingOverlay(t *testing.T) {
	err := loadErr(t, map[string]string{"a/kustomization.yaml": "resources: []\n"}, "nope/prod")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("want fs.ErrNotExist, got %v", err)
	}
	wantMsg(t, err, "nope/prod")
	err = loadErr(t, map[string]string{"a/README.md": "x"}, "a")
	wantMsg(t, err, "a/kustomization.yaml does not exist")
	for _, dir := range []string{"/abs", "../up", "a/../../up"} {
		if _, err := Load(context.Background(), newRepo(nil), dir); err == nil {
			t.Errorf("Load(%q) succeeded", dir)
		}
	}
}

const billionLaughs = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestLoadRefusesAliasBombs(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"kustomization": {"o/kustomization.yaml": "resources: []\n" + billionLaughs},
		"resource":      {"o/kustomization.yaml": "resources:\n  - bomb.yaml\n", "o/bomb.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  " + strings.ReplaceAll(billionLaughs, "\n", "\n  ")},
		"patch":         {"o/kustomization.yaml": "patches:\n  - path: bomb.yaml\n", "o/bomb.yaml": billionLaughs},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := loadErr(t, files, "o")
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusal took %v", d)
			}
			wantMsg(t, err, "aliases expand to more than")
		})
	}
	// A few aliases are fine.
	files := map[string]string{"o/kustomization.yaml": "resources:\n  - cm.yaml\n", "o/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: &l {a: b}\n  annotations: *l\n"}
	tree, err := Load(context.Background(), newRepo(files), "o")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.Render(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadLimits(t *testing.T) {
	big := strings.Repeat("# padding\n", 2000) // 20,000 bytes
	files := map[string]string{
		"o/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n  - c.yaml\n",
		"o/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n" + big,
		"o/b.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n" + big,
		"o/c.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
	}
	for _, tc := range []struct {
		name string
		lim  Limits
		want string
	}{
		{"file size", Limits{MaxFiles: 10, MaxFileBytes: 10_000, MaxTotalBytes: 1 << 20, MaxDepth: 5}, fmt.Sprintf("o/a.yaml is %d bytes, more than the 10000 bytes allowed", len(files["o/a.yaml"]))},
		{"total size", Limits{MaxFiles: 10, MaxFileBytes: 1 << 20, MaxTotalBytes: 30_000, MaxDepth: 5}, "exceed 30000 bytes in total"},
		{"file count", Limits{MaxFiles: 2, MaxFileBytes: 1 << 20, MaxTotalBytes: 1 << 20, MaxDepth: 5}, "more than 2 files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(files)
			_, err := LoadWithLimits(context.Background(), r, "o", tc.lim)
			if err == nil {
				t.Fatal("no error")
			}
			wantMsg(t, err, tc.want, "o/kustomization.yaml line")
			if r.read["o/c.yaml"] != 0 {
				t.Error("kept reading after the limit")
			}
		})
	}
	deep := map[string]string{}
	for i := 0; i < 10; i++ {
		deep[fmt.Sprintf("l%d/kustomization.yaml", i)] = fmt.Sprintf("resources:\n  - ../l%d\n", i+1)
	}
	_, err := LoadWithLimits(context.Background(), newRepo(deep), "l0", Limits{MaxFiles: 100, MaxFileBytes: 1 << 20, MaxTotalBytes: 1 << 20, MaxDepth: 4})
	if err == nil {
		t.Fatal("no error for deep nesting")
	}
	wantMsg(t, err, "nested more than 4 deep")
}

func TestLoadReaderErrors(t *testing.T) {
	files := appsLayout("checkout")
	r := newRepo(files)
	boom := errors.New("API rate limit exceeded")
	r.fail = map[string]error{"apps/checkout/base/deployment.yaml": boom}
	_, err := Load(context.Background(), r, "apps/checkout/overlays/prod")
	if !errors.Is(err, boom) {
		t.Fatalf("want the reader's error, got %v", err)
	}
	wantMsg(t, err, "apps/checkout/base/kustomization.yaml line 2", "reading apps/checkout/base/deployment.yaml")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Load(ctx, newRepo(files), "apps/checkout/overlays/prod")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestLoadPluginConfigFiles(t *testing.T) {
	files := map[string]string{
		"o/kustomization.yaml": `resources:
  - d.yaml
transformers:
  - |-
    apiVersion: builtin
    kind: PatchTransformer
    metadata:
      name: inline
    path: inline-patch.yaml
  - transformers.yaml
  - more
generators:
  - gen.yaml
`,
		"o/d.yaml":                  deployment("d", "x:1"),
		"o/inline-patch.yaml":       "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels:\n    inline: \"true\"\n",
		"o/transformers.yaml":       "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata:\n  name: smp\npaths:\n  - smp.yaml\n",
		"o/smp.yaml":                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels:\n    smp: \"true\"\n",
		"o/more/kustomization.yaml": "resources:\n  - replace.yaml\n",
		"o/more/replace.yaml":       "apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: r\nreplacements:\n  - path: replacement.yaml\n",
		"o/replacement.yaml":        "source:\n  kind: Deployment\n  name: d\n  fieldPath: metadata.name\ntargets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n      - metadata.labels.copied\n    options:\n      create: true\n",
		"o/gen.yaml":                "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: generated\nenvs:\n  - gen.env\n",
		"o/gen.env":                 "K=V\n",
	}
	tree, err := Load(context.Background(), newRepo(files), "o")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for p := range files {
		want = append(want, p)
	}
	if got := tree.Paths(); !reflect.DeepEqual(got, slices.Sorted(maps.Keys(files))) {
		t.Errorf("Paths() = %q, want %q", got, want)
	}
	out, err := tree.Render()
	if err != nil {
		t.Fatal(err)
	}
	d := mustFind(t, out, "Deployment", "d")
	for _, l := range []string{"inline", "smp", "copied"} {
		if field(t, d, "metadata", "labels", l) == "" {
			t.Errorf("label %s missing: a plugin configuration was not applied", l)
		}
	}
}
