package plan

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// sharedBases is examples/shared-bases, which has no daytwo config, with the config
// discovery makes of its ApplicationSet: no workload, container, image or ConfigMap.
func sharedBases(t *testing.T) (map[string][]byte, *repoconfig.Config) {
	t.Helper()
	files := readTree(t, "../../examples/shared-bases")
	if _, ok := files[repoconfig.Path]; ok {
		t.Fatalf("examples/shared-bases must have no %s", repoconfig.Path)
	}
	deps, skipped, err := discovery.Find(context.Background(), newMemSnapshot(baseSHA, files))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := discovery.Config(deps, skipped, command.All())
	if err != nil {
		t.Fatal(err)
	}
	return files, cfg
}

// withConfig adds a config to a copy of files and loads it.
func withConfig(t *testing.T, files map[string][]byte, yml string) (map[string][]byte, *repoconfig.Config) {
	t.Helper()
	files = cloneFiles(files)
	files[repoconfig.Path] = []byte(yml)
	return files, loadConfig(t, files)
}

const sharedBasesConfig = `version: 1
environments: [{name: dev}, {name: staging}, {name: prod}]
defaults:
  overlay: envs/{env}/{service}
services:
  - name: ledger
  - name: payments
`

// parse reads a command line as a comment would hold it.
func parse(t *testing.T, line string) Input {
	t.Helper()
	c, err := command.Default().ParseLine(line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return request(line, c)
}

// planOn plans line on files and returns the change and the repository after it.
func planOn(t *testing.T, files map[string][]byte, cfg *repoconfig.Config, line string) (*ChangeSet, map[string][]byte) {
	t.Helper()
	req := parse(t, line)
	cs, err := New().Plan(context.Background(), cfg, files[repoconfig.Path], newMemSnapshot(baseSHA, files), nil, req)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	checkChangeSet(t, cs, req)
	return cs, apply(t, files, cs)
}

func replicasIn(t *testing.T, r *overlay.Rendered, kind, name string) string {
	t.Helper()
	return field(t, find(t, r, kind, name), "spec", "replicas")
}

// The workload comes from each environment's render: the one StatefulSet, named with the
// environment's suffix, is scaled and restarted without any config.
func TestInferredWorkloadPerEnvironment(t *testing.T) {
	files, cfg := sharedBases(t)
	for env, want := range map[string]string{"staging": "ledger-staging", "prod": "ledger-prod"} {
		cs, out := planOn(t, files, cfg, "/scale 4 --service ledger --env "+env)
		after := renderAt(t, out, "envs/"+env+"/ledger")
		if got := replicasIn(t, after, "StatefulSet", want); got != "4" {
			t.Errorf("%s: StatefulSet/%s replicas %s, want 4", env, want, got)
		}
		if !strings.Contains(cs.Body, "`StatefulSet/ledger-"+env+"/"+want+"`: replicas 1 → 4") {
			t.Errorf("%s: the body does not name the workload scaled:\n%s", env, cs.Body)
		}

		_, out = planOn(t, files, cfg, "/restart --service ledger --env "+env)
		after = renderAt(t, out, "envs/"+env+"/ledger")
		if v, _ := podAnnotation(find(t, after, "StatefulSet", want), RestartedAtAnnotation); v != "2026-11-24T09:30:00Z" {
			t.Errorf("%s: restartedAt %q", env, v)
		}
	}
}

// /config edits the overlay's only configMapGenerator; both Deployments roll with it.
func TestInferredConfigMap(t *testing.T) {
	files, cfg := sharedBases(t)
	cs, out := planOn(t, files, cfg, "/config set LOG_LEVEL=debug --service payments --env staging")
	before, after := renderAt(t, files, "envs/staging/payments"), renderAt(t, out, "envs/staging/payments")
	if data := configData(t, after, "payments-config"); data["LOG_LEVEL"] != "debug" || data["PAYMENTS_PROVIDER"] != "sandbox" {
		t.Errorf("payments-config data %v", data)
	}
	cm, _ := findConfigMap(after, kustInfo{}, "payments-config")
	for _, d := range []string{"payments-api", "payments-worker"} {
		if !strings.Contains(find(t, after, "Deployment", d).Node.MustString(), "name: "+cm.Name) {
			t.Errorf("Deployment/%s does not use %s", d, cm.Name)
		}
	}
	if !strings.Contains(cs.Summary, "(ConfigMap payments-config)") {
		t.Errorf("summary %q", cs.Summary)
	}
	same(t, before, after, "Service", "payments-api")

	// A second generator nobody uses leaves the one the workloads use as the answer.
	files = cloneFiles(files)
	replace(t, files, "envs/staging/payments/kustomization.yaml", "configMapGenerator:\n", "configMapGenerator:\n  - name: payments-unused\n    literals: [A=b]\n")
	_, out = planOn(t, files, cfg, "/config set LOG_LEVEL=debug --service payments --env staging")
	if data := configData(t, renderAt(t, out, "envs/staging/payments"), "payments-config"); data["LOG_LEVEL"] != "debug" {
		t.Errorf("payments-config data %v", data)
	}

	// When the worker uses that one instead, --workload says whose ConfigMap.
	replace(t, files, "bases/payments/worker.yaml", "configMapRef: {name: payments-config}", "configMapRef: {name: payments-unused}")
	_, out = planOn(t, files, cfg, "/config set A=c --service payments --env staging --workload payments-worker")
	if data := configData(t, renderAt(t, out, "envs/staging/payments"), "payments-unused"); data["A"] != "c" {
		t.Errorf("payments-unused data %v", data)
	}
}

// --workload picks one of several workloads; the others stay as they were.
func TestWorkloadFlag(t *testing.T) {
	files, cfg := sharedBases(t)
	_, out := planOn(t, files, cfg, "/restart --service payments --env staging --workload payments-worker")
	before, after := renderAt(t, files, "envs/staging/payments"), renderAt(t, out, "envs/staging/payments")
	if v, _ := podAnnotation(find(t, after, "Deployment", "payments-worker"), RestartedAtAnnotation); v == "" {
		t.Error("payments-worker not restarted")
	}
	same(t, before, after, "Deployment", "payments-api")

	_, out = planOn(t, files, cfg, "/scale 5 --service payments --env prod --workload Deployment/payments-api")
	before, after = renderAt(t, files, "envs/prod/payments"), renderAt(t, out, "envs/prod/payments")
	if got := replicasIn(t, after, "Deployment", "payments-api"); got != "5" {
		t.Errorf("payments-api replicas %s, want 5", got)
	}
	same(t, before, after, "Deployment", "payments-worker")

	// The rendered name and the name the overlay's patches use both work.
	for _, name := range []string{"ledger-staging", "ledger", "StatefulSet/ledger-staging"} {
		_, out = planOn(t, files, cfg, "/suspend --service ledger --env staging --workload "+name)
		if got := replicasIn(t, renderAt(t, out, "envs/staging/ledger"), "StatefulSet", "ledger-staging"); got != "0" {
			t.Errorf("--workload %s: replicas %s, want 0", name, got)
		}
	}
}

// Two requests on different workloads of one service set different things; the same
// workload, however written, is the same thing: a later one overrides an earlier.
func TestSetsNameTheWorkloadFound(t *testing.T) {
	files, cfg := sharedBases(t)
	sets := func(line string) []string {
		cs, _ := planOn(t, files, cfg, line)
		return strings.Fields(ParseTrailers(cs.CommitMessage)[TrailerSets])
	}
	api := sets("/scale 2 --service payments --env staging --workload payments-api")
	worker := sets("/scale 2 --service payments --env staging --workload payments-worker")
	again := sets("/suspend --service payments --env staging --workload Deployment/payments-api")
	if Overlaps(api, worker) || !Overlaps(api, again) {
		t.Errorf("sets %v, %v, %v: only the first and the last act on one workload", api, worker, again)
	}
	img := sets("/set-image ghcr.io/acme/payments-api:1.6.0 --service payments --env staging")
	other := sets("/set-image 1.6.0 --container worker --service payments --env staging")
	promote := sets("/promote staging --service payments")
	if Overlaps(img, other) || !Overlaps(img, promote) || !Overlaps(other, promote) {
		t.Errorf("sets %v, %v, %v: images of two containers are apart, /promote sets both", img, other, promote)
	}
}

// The image name picks the container, across workloads; a tag alone needs --container or
// a workload with one container.
func TestSetImagePicksTheContainerByImage(t *testing.T) {
	files, cfg := sharedBases(t)
	for _, c := range []struct {
		line              string
		api, worker       string
		envoy, unchanging string
	}{
		{"/set-image ghcr.io/acme/payments-api:1.6.0 --service payments --env dev", "1.6.0", "1.5.0", "v1.31.2", ""},
		{"/set-image 1.6.0 --container worker --service payments --env dev", "1.5.0", "1.6.0", "v1.31.2", ""},
		{"/set-image worker=1.6.0 --service payments --env dev", "1.5.0", "1.6.0", "v1.31.2", ""},
		{"/set-image 1.6.0 --workload payments-worker --service payments --env dev", "1.5.0", "1.6.0", "v1.31.2", ""},
		{"/set-image docker.io/envoyproxy/envoy:v1.32.0 --service payments --env dev", "1.5.0", "1.5.0", "v1.32.0", ""},
	} {
		_, out := planOn(t, files, cfg, c.line)
		after := renderAt(t, out, "envs/dev/payments")
		wantImage(t, after, "payments-api", "api", "ghcr.io/acme/payments-api:"+c.api)
		wantImage(t, after, "payments-api", "envoy", "docker.io/envoyproxy/envoy:"+c.envoy)
		wantImage(t, after, "payments-worker", "worker", "ghcr.io/acme/payments-worker:"+c.worker)
	}
	// ledger runs one container: a tag alone is enough.
	_, out := planOn(t, files, cfg, "/set-image 3.3.0 --service ledger --env dev")
	if img := containersOf(find(t, renderAt(t, out, "envs/dev/ledger"), "StatefulSet", "ledger-dev"))[0].Image; img != "ghcr.io/acme/ledger:3.3.0" {
		t.Errorf("ledger runs %s", img)
	}
}

// /promote carries every image the service's overlays pin, whatever image: says; images:
// narrows it, and refuses to move part of the release it lists.
func TestPromoteCarriesTheRelease(t *testing.T) {
	files, cfg := sharedBases(t)
	check := func(t *testing.T, files map[string][]byte, cfg *repoconfig.Config, api, worker string) *ChangeSet {
		t.Helper()
		cs, out := planOn(t, files, cfg, "/promote staging --service payments")
		after := renderAt(t, out, "envs/staging/payments")
		wantImage(t, after, "payments-api", "api", "ghcr.io/acme/payments-api:"+api)
		wantImage(t, after, "payments-worker", "worker", "ghcr.io/acme/payments-worker:"+worker)
		wantImage(t, after, "payments-api", "envoy", "docker.io/envoyproxy/envoy:v1.31.2")
		return cs
	}
	cs := check(t, files, cfg, "1.5.0", "1.5.0")
	want := "promote payments from dev to staging: ghcr.io/acme/payments-api 1.4.2 → 1.5.0, ghcr.io/acme/payments-worker 1.4.2 → 1.5.0"
	if cs.Summary != want {
		t.Errorf("summary\n got %q\nwant %q", cs.Summary, want)
	}
	for _, line := range []string{
		"- image `ghcr.io/acme/payments-api`: `ghcr.io/acme/payments-api:1.4.2` → `ghcr.io/acme/payments-api:1.5.0`",
		"- image `ghcr.io/acme/payments-worker`: `ghcr.io/acme/payments-worker:1.4.2` → `ghcr.io/acme/payments-worker:1.5.0`",
	} {
		if !strings.Contains(cs.Body, line) {
			t.Errorf("the body lacks %q:\n%s", line, cs.Body)
		}
	}
	if cs.Title != "payments/staging: promote 1.5.0 from dev" {
		t.Errorf("title %q", cs.Title)
	}

	// The issue: image: (the default of /set-image) no longer narrows what /promote moves.
	f, c := withConfig(t, files, sharedBasesConfig+"    image: ghcr.io/acme/payments-api\n")
	check(t, f, c, "1.5.0", "1.5.0")

	f, c = withConfig(t, files, sharedBasesConfig+"    images: [ghcr.io/acme/payments-api]\n")
	check(t, f, c, "1.5.0", "1.4.2")

	// With promoteConfig, the literals of the ConfigMap inferred travel too.
	f, c = withConfig(t, files, strings.Replace(sharedBasesConfig, "{name: staging}", "{name: staging, promoteConfig: true}", 1))
	replace(t, f, "envs/dev/payments/kustomization.yaml", "LOG_LEVEL=info", "LOG_LEVEL=debug")
	cs = check(t, f, c, "1.5.0", "1.5.0")
	_, out := planOn(t, f, c, "/promote staging --service payments")
	if data := configData(t, renderAt(t, out, "envs/staging/payments"), "payments-config"); data["LOG_LEVEL"] != "debug" {
		t.Errorf("staging's payments-config %v, want dev's LOG_LEVEL=debug", data)
	}
	if !strings.Contains(cs.Body, "ConfigMap `payments-config` literals from dev: `LOG_LEVEL`, `PAYMENTS_PROVIDER`") {
		t.Errorf("the body does not list the literals carried:\n%s", cs.Body)
	}

	// An image pinned in the source that the target does not run is not carried.
	f = cloneFiles(files)
	replace(t, f, "envs/dev/payments/kustomization.yaml", "images:\n", "images:\n  - name: ghcr.io/acme/debug-tools\n    newTag: \"7\"\n")
	cs = check(t, f, cfg, "1.5.0", "1.5.0")
	if !strings.Contains(cs.Body, "image `ghcr.io/acme/debug-tools` is pinned in dev but runs in no container of payments in staging: not carried") {
		t.Errorf("the body does not say what was left:\n%s", cs.Body)
	}
	if strings.Contains(string(apply(t, f, cs)["envs/staging/payments/kustomization.yaml"]), "debug-tools") {
		t.Error("debug-tools was added to staging")
	}
}

// Explicit config wins over the render, per environment.
func TestConfiguredWorkloadWins(t *testing.T) {
	files, _ := sharedBases(t)
	f, c := withConfig(t, files, strings.Replace(sharedBasesConfig, "  - name: payments\n", "  - name: payments\n    workload: {name: payments-worker}\n", 1))
	_, out := planOn(t, f, c, "/scale 2 --service payments --env staging")
	before, after := renderAt(t, f, "envs/staging/payments"), renderAt(t, out, "envs/staging/payments")
	if got := replicasIn(t, after, "Deployment", "payments-worker"); got != "2" {
		t.Errorf("payments-worker replicas %s", got)
	}
	same(t, before, after, "Deployment", "payments-api")

	// image: is what a tag alone changes, unless --workload names a workload not running it.
	f, c = withConfig(t, files, sharedBasesConfig+"    image: ghcr.io/acme/payments-api\n")
	_, out = planOn(t, f, c, "/set-image 1.7.0 --service payments --env dev")
	after = renderAt(t, out, "envs/dev/payments")
	wantImage(t, after, "payments-api", "api", "ghcr.io/acme/payments-api:1.7.0")
	wantImage(t, after, "payments-worker", "worker", "ghcr.io/acme/payments-worker:1.5.0")
	_, out = planOn(t, f, c, "/set-image 1.7.0 --service payments --env dev --workload payments-worker")
	after = renderAt(t, out, "envs/dev/payments")
	wantImage(t, after, "payments-api", "api", "ghcr.io/acme/payments-api:1.5.0")
	wantImage(t, after, "payments-worker", "worker", "ghcr.io/acme/payments-worker:1.7.0")

	// A kind alone: the only StatefulSet, named per environment.
	f, c = withConfig(t, files, strings.Replace(sharedBasesConfig, "  - name: ledger\n", "  - name: ledger\n    workload: {kind: StatefulSet}\n", 1))
	_, out = planOn(t, f, c, "/scale 2 --service ledger --env prod")
	if got := replicasIn(t, renderAt(t, out, "envs/prod/ledger"), "StatefulSet", "ledger-prod"); got != "2" {
		t.Errorf("ledger-prod replicas %s", got)
	}
}

// Each refusal of what the render leaves open, as the person reads it: the choices, and a
// way to pick one. testdata/refusals/<case>.md holds each (-update rewrites them); each is
// safe markdown, and the command it suggests, run as written, succeeds.
func TestInferenceRefusals(t *testing.T) {
	zeroFiles, zeroCfg := sharedBases(t)
	suggestion := regexp.MustCompile("like `(/[^`]+)`")
	cases := []struct {
		name   string
		line   string
		config string // "" plans zero-config
		mutate func(t *testing.T, f map[string][]byte)
		code   Code
		// follow: the command the reply suggests plans.
		follow bool
	}{
		{name: "restart-two-workloads", line: "/restart --service payments --env staging", code: Invalid, follow: true},
		{name: "scale-two-workloads", line: "/scale 2 --service payments --env prod", code: Invalid, follow: true},
		{name: "suspend-two-workloads", line: "/suspend --service payments --env dev", code: Invalid, follow: true},
		{name: "set-image-tag-three-containers", line: "/set-image 1.6.0 --service payments --env dev", code: Invalid, follow: true},
		{name: "set-image-tag-two-containers", line: "/set-image 1.6.0 --service payments --env dev --workload payments-api", code: Invalid, follow: true},
		{name: "set-image-unknown-container", line: "/set-image sidecar=1.6.0 --service payments --env dev", code: Invalid},
		{name: "workload-flag-unknown", line: "/restart --service payments --env staging --workload payments", code: Invalid},
		{name: "config-no-generator", line: "/config set LOG_LEVEL=debug --service ledger --env staging", code: Invalid},
		{
			name: "config-two-generators", line: "/config set LOG_LEVEL=debug --service payments --env staging", code: Invalid, follow: true,
			mutate: func(t *testing.T, f map[string][]byte) {
				replace(t, f, "envs/staging/payments/kustomization.yaml", "configMapGenerator:\n", "configMapGenerator:\n  - name: payments-flags\n    literals: [A=b]\n")
				replace(t, f, "bases/payments/worker.yaml", "configMapRef: {name: payments-config}", "configMapRef: {name: payments-flags}")
			},
		},
		{
			name: "configured-workload-missing", line: "/scale 2 --service ledger --env staging", code: NotFound,
			config: strings.Replace(sharedBasesConfig, "  - name: ledger\n", "  - name: ledger\n    workload: {kind: Deployment, name: ledger}\n", 1),
		},
		{
			name: "configured-container-missing", line: "/set-image 1.6.0 --service payments --env dev --workload payments-worker", code: Invalid,
			config: sharedBasesConfig + "    container: api\n",
		},
		{
			name: "promote-part-of-release", line: "/promote staging --service payments", code: Invalid,
			config: sharedBasesConfig + "    images: [ghcr.io/acme/payments-api, ghcr.io/acme/payments-worker, ghcr.io/acme/payments-migrations]\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files, cfg := cloneFiles(zeroFiles), zeroCfg
			if c.config != "" {
				files, cfg = withConfig(t, files, c.config)
			}
			if c.mutate != nil {
				c.mutate(t, files)
			}
			_, err := New().Plan(context.Background(), cfg, files[repoconfig.Path], newMemSnapshot(baseSHA, files), nil, parse(t, c.line))
			assertError(t, err, c.code, "")
			msg := message(err)
			compareGolden(t, filepath.Join("testdata", "refusals", c.name+".md"), msg+"\n")
			mdtest.AssertSafe(t, "❌ "+msg)
			if !c.follow {
				return
			}
			m := suggestion.FindStringSubmatch(msg)
			if m == nil {
				t.Fatalf("the reply suggests no command: %s", msg)
			}
			planOn(t, files, cfg, m[1])
		})
	}
}

// Infer says what was found and where, per environment, and what the render leaves open.
func TestInfer(t *testing.T) {
	files, cfg := sharedBases(t)
	snap := newMemSnapshot(baseSHA, files)
	in, err := New().Infer(context.Background(), cfg, snap, "ledger", "staging")
	if err != nil {
		t.Fatal(err)
	}
	for what, c := range map[string]struct {
		got  Finding
		want Finding
	}{
		"workload":  {in.Workload, Finding{Value: "StatefulSet/ledger-staging", From: "the only workload in the render"}},
		"container": {in.Container, Finding{Value: "ledger in StatefulSet/ledger-staging, image ghcr.io/acme/ledger", From: "the only container of `StatefulSet/ledger-staging`"}},
		"images":    {in.Images, Finding{Value: "ghcr.io/acme/ledger", From: "every image the dev overlay of ledger pins that runs here"}},
	} {
		if c.got != c.want {
			t.Errorf("%s = %+v, want %+v", what, c.got, c.want)
		}
	}
	if in.ConfigMap.Value != "" || in.ConfigMap.Wrong || !strings.Contains(in.ConfigMap.From, "generates no ConfigMap") {
		t.Errorf("configMap = %+v", in.ConfigMap)
	}

	in, err = New().Infer(context.Background(), cfg, snap, "payments", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if in.Workload.Value != "" || in.Workload.Wrong || !strings.Contains(in.Workload.From, "`Deployment/payments-api` and `Deployment/payments-worker`") {
		t.Errorf("workload = %+v", in.Workload)
	}
	if in.ConfigMap != (Finding{Value: "payments-config", From: "the only ConfigMap the overlay generates"}) {
		t.Errorf("configMap = %+v", in.ConfigMap)
	}
	if in.Images.Value != "ghcr.io/acme/payments-api, ghcr.io/acme/payments-worker" {
		t.Errorf("images = %+v", in.Images)
	}

	// What the config names and the render lacks is wrong, not open.
	f, c := withConfig(t, files, sharedBasesConfig+"    configMap: payments-settings\n    image: ghcr.io/acme/payments\n    workload: {name: payments}\n")
	in, err = New().Infer(context.Background(), c, newMemSnapshot(baseSHA, f), "payments", "dev")
	if err != nil {
		t.Fatal(err)
	}
	for what, x := range map[string]Finding{"workload": in.Workload, "container": in.Container, "configMap": in.ConfigMap} {
		if !x.Wrong || x.Value != "" {
			t.Errorf("%s = %+v, want wrong", what, x)
		}
	}
}

// BenchmarkInferredPlan plans, on examples/shared-bases without a config, what the render
// answers (the StatefulSet, the ConfigMap, both images) and what --workload picks, and
// runs Infer (what daytwo validate prints for one overlay).
func BenchmarkInferredPlan(b *testing.B) {
	files := readTree(b, "../../examples/shared-bases")
	snap := newMemSnapshot(baseSHA, files)
	deps, skipped, err := discovery.Find(context.Background(), snap)
	if err != nil {
		b.Fatal(err)
	}
	cfg, _, err := discovery.Config(deps, skipped, command.All())
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range []string{
		"/scale 4 --service ledger --env staging",
		"/config set LOG_LEVEL=debug --service payments --env staging",
		"/restart --service payments --env staging --workload payments-worker",
		"/promote staging --service payments",
	} {
		c, err := command.Default().ParseLine(line)
		if err != nil {
			b.Fatal(err)
		}
		r := request(line, c)
		b.Run(c.Name, func(b *testing.B) {
			p := New()
			for i := 0; i < b.N; i++ {
				if _, err := p.Plan(context.Background(), cfg, nil, snap, nil, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("infer", func(b *testing.B) {
		p := New()
		for i := 0; i < b.N; i++ {
			if _, err := p.Infer(context.Background(), cfg, snap, "payments", "staging"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
