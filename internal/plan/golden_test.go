package plan

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

var update = flag.Bool("update", false, "rewrite the expected trees and PR golden files under testdata")

var testNow = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

const baseSHA = "0123456789abcdef0123456789abcdef01234567"

// request is a Request as a comment on acme/gitops#12 by alice makes it.
func request(line string, c command.Command) Input {
	c.Line = line
	return Input{
		Command:   c,
		Requester: "alice",
		Origin:    "https://github.com/acme/gitops/issues/12#issuecomment-1001",
		OriginKey: "acme/gitops#12",
		Repo:      "acme/gitops",
		Now:       testNow,
	}
}

type goldenCase struct {
	name string
	req  Input
	// reqFor, when set, makes the request from the history (to name one of its commits).
	reqFor func(h *memHistory) Input
	// history, when set, builds the commits the case plans on from its input tree and
	// returns the snapshot of the last one.
	history func(t *testing.T, input map[string][]byte) (*memHistory, *memSnapshot)
	render  string // overlay rendered for the assertion
	check   func(t *testing.T, before, after *overlay.Rendered, cs *ChangeSet)
	pr      bool // compare Title, Body and CommitMessage with pr/*.golden
}

var goldenCases = []goldenCase{
	{
		name:   "promote-staging",
		req:    request("/promote staging --service checkout", command.Command{Name: "promote", Service: "checkout", Env: "staging"}),
		render: "apps/checkout/overlays/staging",
		pr:     true,
		check: func(t *testing.T, _, after *overlay.Rendered, cs *ChangeSet) {
			for _, w := range []string{"checkout", "checkout-worker"} {
				wantImage(t, after, w, "", "ghcr.io/acme/checkout:1.4.2")
			}
			wantRisk(t, cs, RiskMedium)
		},
	},
	{
		name:   "promote-prod-config",
		req:    request("/promote prod", command.Command{Name: "promote", Service: "checkout", Env: "prod"}),
		render: "apps/checkout/overlays/prod",
		check: func(t *testing.T, before, after *overlay.Rendered, cs *ChangeSet) {
			wantImage(t, after, "checkout", "app", "ghcr.io/acme/checkout:1.4.1")
			data := configData(t, after, "checkout-config")
			if data["FEATURE_X"] != "on" || data["LOG_LEVEL"] != "warn" {
				t.Errorf("prod ConfigMap data = %v, want FEATURE_X=on from staging and LOG_LEVEL=warn kept", data)
			}
			if cs.Metadata["from"] != "staging" {
				t.Errorf("metadata from = %q", cs.Metadata["from"])
			}
		},
	},
	{
		name:   "restart-prod",
		req:    request("/restart --env prod", command.Command{Name: "restart", Service: "checkout", Env: "prod"}),
		render: "apps/checkout/overlays/prod",
		pr:     true,
		check: func(t *testing.T, before, after *overlay.Rendered, cs *ChangeSet) {
			if got := field(t, find(t, after, "Deployment", "checkout"), "spec", "template", "metadata", "annotations", RestartedAtAnnotation); got != "2026-11-24T09:30:00Z" {
				t.Errorf("restartedAt = %q", got)
			}
			same(t, before, after, "Deployment", "checkout-worker")
			wantRisk(t, cs, RiskLow)
		},
	},
	{
		name:   "redeploy-staging",
		req:    request("/redeploy --env staging", command.Command{Name: "redeploy", Service: "checkout", Env: "staging"}),
		render: "apps/checkout/overlays/staging",
		check: func(t *testing.T, before, after *overlay.Rendered, cs *ChangeSet) {
			for _, w := range []string{"checkout", "checkout-worker"} {
				if got := field(t, find(t, after, "Deployment", w), "spec", "template", "metadata", "annotations", RestartedAtAnnotation); got != "2026-11-24T09:30:00Z" {
					t.Errorf("%s restartedAt = %q", w, got)
				}
			}
			same(t, before, after, "Service", "checkout")
		},
	},
	{
		name:   "scale-prod",
		req:    request("/scale 5 --env prod", command.Command{Name: "scale", Service: "checkout", Env: "prod", Replicas: 5}),
		render: "apps/checkout/overlays/prod",
		pr:     true,
		check: func(t *testing.T, before, after *overlay.Rendered, cs *ChangeSet) {
			if got := field(t, find(t, after, "Deployment", "checkout"), "spec", "replicas"); got != "5" {
				t.Errorf("replicas = %s, want 5", got)
			}
			same(t, before, after, "Deployment", "checkout-worker")
			wantRisk(t, cs, RiskMedium)
		},
	},
	{
		name:   "set-image-cart",
		req:    request("/set-image 2.0.2 --env prod", command.Command{Name: "set-image", Service: "cart", Env: "prod", Image: command.ImageRef{Tag: "2.0.2"}}),
		render: "apps/cart/overlays/prod",
		check: func(t *testing.T, _, after *overlay.Rendered, cs *ChangeSet) {
			wantImage(t, after, "cart-api", "api", "ghcr.io/acme/cart:2.0.2")
			wantImage(t, after, "cart-api", "envoy", "docker.io/envoyproxy/envoy:v1.30.1")
		},
	},
	{
		name: "set-image-digest",
		req: request("/set-image envoy=docker.io/envoyproxy/envoy@sha256:1111111111111111111111111111111111111111111111111111111111111111 --env staging",
			command.Command{Name: "set-image", Service: "cart", Env: "staging", Image: command.ImageRef{
				Container: "envoy", Name: "docker.io/envoyproxy/envoy", Digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}}),
		render: "apps/cart/overlays/staging",
		check: func(t *testing.T, _, after *overlay.Rendered, cs *ChangeSet) {
			wantImage(t, after, "cart-api", "envoy", "docker.io/envoyproxy/envoy@sha256:1111111111111111111111111111111111111111111111111111111111111111")
			wantImage(t, after, "cart-api", "api", "ghcr.io/acme/cart:2.0.1")
		},
	},
	{
		name: "config-set-prod",
		req: request("/config set LOG_LEVEL=error PAYMENT_TIMEOUT=30s --env prod", command.Command{Name: "config", Service: "checkout", Env: "prod",
			Set: []command.KeyValue{{Key: "LOG_LEVEL", Value: "error"}, {Key: "PAYMENT_TIMEOUT", Value: "30s"}}, Reason: "debugging slow payments"}),
		render: "apps/checkout/overlays/prod",
		pr:     true,
		check: func(t *testing.T, before, after *overlay.Rendered, cs *ChangeSet) {
			data := configData(t, after, "checkout-config")
			if data["LOG_LEVEL"] != "error" || data["PAYMENT_TIMEOUT"] != "30s" || data["FEATURE_X"] != "off" {
				t.Errorf("ConfigMap data = %v", data)
			}
			// The generated name changes with the content and the workloads follow it.
			oldCM, _ := findConfigMap(before, kustInfo{}, "checkout-config")
			newCM, _ := findConfigMap(after, kustInfo{}, "checkout-config")
			if oldCM.Name == newCM.Name {
				t.Errorf("ConfigMap name %s did not change", newCM.Name)
			}
			ref := find(t, after, "Deployment", "checkout").Node.MustString()
			if !strings.Contains(ref, "name: "+newCM.Name) {
				t.Errorf("Deployment/checkout does not refer to %s", newCM.Name)
			}
			if !strings.Contains(cs.RenderedDiff, newCM.Name) {
				t.Errorf("rendered diff does not show %s", newCM.Name)
			}
		},
	},
	{
		name:   "config-unset-dev",
		req:    request("/config unset DEBUG_SQL --env dev", command.Command{Name: "config", Service: "checkout", Env: "dev", Unset: []string{"DEBUG_SQL"}}),
		render: "apps/checkout/overlays/dev",
		check: func(t *testing.T, _, after *overlay.Rendered, cs *ChangeSet) {
			data := configData(t, after, "checkout-config")
			if _, ok := data["DEBUG_SQL"]; ok || data["LOG_LEVEL"] != "debug" {
				t.Errorf("ConfigMap data = %v", data)
			}
			wantRisk(t, cs, RiskLow)
		},
	},
	{
		name:   "suspend-prod",
		req:    request("/suspend --env prod", command.Command{Name: "suspend", Service: "checkout", Env: "prod", Reason: "payment provider outage"}),
		render: "apps/checkout/overlays/prod",
		pr:     true,
		check: func(t *testing.T, before, after *overlay.Rendered, cs *ChangeSet) {
			d := find(t, after, "Deployment", "checkout")
			if got := field(t, d, "spec", "replicas"); got != "0" {
				t.Errorf("replicas = %s, want 0", got)
			}
			if got := field(t, d, "metadata", "annotations", SuspendedReplicasAnnotation); got != "3" {
				t.Errorf("%s = %q, want 3", SuspendedReplicasAnnotation, got)
			}
			same(t, before, after, "Deployment", "checkout-worker")
			wantRisk(t, cs, RiskHigh)
		},
	},
	{
		name:   "resume-prod",
		req:    request("/resume --env prod", command.Command{Name: "resume", Service: "checkout", Env: "prod"}),
		render: "apps/checkout/overlays/prod",
		check: func(t *testing.T, _, after *overlay.Rendered, cs *ChangeSet) {
			d := find(t, after, "Deployment", "checkout")
			if got := field(t, d, "spec", "replicas"); got != "3" {
				t.Errorf("replicas = %s, want 3", got)
			}
			if _, ok := d.Node.GetAnnotations()[SuspendedReplicasAnnotation]; ok {
				t.Errorf("%s still set", SuspendedReplicasAnnotation)
			}
		},
	},
	{
		name:    "rollback-prod",
		req:     request("/rollback --env prod", command.Command{Name: "rollback", Service: "checkout", Env: "prod"}),
		history: rollbackHistory,
		render:  "apps/checkout/overlays/prod",
		pr:      true,
		check: func(t *testing.T, before, after *overlay.Rendered, cs *ChangeSet) {
			// The restart is undone; the scale and the hand edit after it stay.
			d := find(t, after, "Deployment", "checkout")
			if _, ok := d.Node.GetAnnotations()[RestartedAtAnnotation]; ok {
				t.Error("restart annotation still set")
			}
			if got := field(t, d, "spec", "replicas"); got != "5" {
				t.Errorf("replicas = %s, want 5", got)
			}
			if !strings.Contains(d.Node.MustString(), "memory: 1Gi") {
				t.Error("the hand edit made before the restart was undone")
			}
			wantRisk(t, cs, RiskHigh)
		},
	},
	{
		name: "rollback-prod-to",
		reqFor: func(h *memHistory) Input {
			first := h.commits[0].info.SHA[:10]
			return request("/rollback --to "+first+" --env prod", command.Command{Name: "rollback", Service: "checkout", Env: "prod", To: first})
		},
		history: rollbackHistory,
		render:  "apps/checkout/overlays/prod",
		check: func(t *testing.T, before, after *overlay.Rendered, cs *ChangeSet) {
			d := find(t, after, "Deployment", "checkout")
			if got := field(t, d, "spec", "replicas"); got != "3" {
				t.Errorf("replicas = %s, want 3", got)
			}
			if !strings.Contains(d.Node.MustString(), "memory: 512Mi") {
				t.Error("resources not restored")
			}
			if !strings.Contains(cs.Body, "(not made by daytwo)") {
				t.Error("body does not flag the hand edit it undoes")
			}
		},
	},
	{
		name: "freeze-prod",
		req:  request("/freeze --env prod --reason \"release week\"", command.Command{Name: "freeze", Env: "prod", Reason: "release week"}),
		pr:   true,
		check: func(t *testing.T, _, _ *overlay.Rendered, cs *ChangeSet) {
			wantRisk(t, cs, RiskLow)
		},
	},
	{
		name: "unfreeze-prod",
		req:  request("/unfreeze --env prod", command.Command{Name: "unfreeze", Env: "prod"}),
	},
	{
		name:   "envs-promote-prod",
		req:    request("/promote prod --service api", command.Command{Name: "promote", Service: "api", Env: "prod"}),
		render: "envs/prod/api",
		check: func(t *testing.T, _, after *overlay.Rendered, cs *ChangeSet) {
			wantImage(t, after, "prod-api", "api", "registry.example.com/api:3.2.0")
		},
	},
	{
		name:   "envs-restart-prod",
		req:    request("/restart --service web --env prod", command.Command{Name: "restart", Service: "web", Env: "prod"}),
		render: "envs/prod/web",
		check: func(t *testing.T, _, after *overlay.Rendered, cs *ChangeSet) {
			if got := field(t, find(t, after, "Deployment", "prod-web"), "spec", "template", "metadata", "annotations", RestartedAtAnnotation); got != "2026-11-24T09:30:00Z" {
				t.Errorf("restartedAt = %q", got)
			}
		},
	},
	{
		name:   "envs-scale-prod",
		req:    request("/scale 4 --service api --env prod", command.Command{Name: "scale", Service: "api", Env: "prod", Replicas: 4}),
		render: "envs/prod/api",
		check: func(t *testing.T, _, after *overlay.Rendered, cs *ChangeSet) {
			if got := field(t, find(t, after, "Deployment", "prod-api"), "spec", "replicas"); got != "4" {
				t.Errorf("replicas = %s, want 4", got)
			}
		},
	},
	{
		name:   "envs-set-image-dev",
		req:    request("/set-image 1.1.0 --service web --env dev", command.Command{Name: "set-image", Service: "web", Env: "dev", Image: command.ImageRef{Tag: "1.1.0"}}),
		render: "envs/dev/web",
		check: func(t *testing.T, _, after *overlay.Rendered, cs *ChangeSet) {
			wantImage(t, after, "web", "web", "registry.example.com/web:1.1.0")
		},
	},
}

// rollbackHistory: the input tree, then daytwo scales prod to 5, a person raises the
// memory limit by hand, and daytwo restarts prod.
func rollbackHistory(t *testing.T, input map[string][]byte) (*memHistory, *memSnapshot) {
	ctx := context.Background()
	h := &memHistory{}
	cfg := loadConfig(t, input)
	files := input
	snap := h.commit("Initial import", files)
	step := func(r Input) {
		t.Helper()
		cs, err := New().Plan(ctx, cfg, nil, snap, h, r)
		if err != nil {
			t.Fatalf("%s: %v", r.Command.Line, err)
		}
		files = apply(t, files, cs)
		snap = h.commit(cs.CommitMessage, files)
	}
	r := request("/scale 5 --env prod", command.Command{Name: "scale", Service: "checkout", Env: "prod", Replicas: 5})
	r.Now = testNow.Add(-48 * time.Hour)
	step(r)
	files = cloneFiles(files)
	p := "apps/checkout/overlays/prod/resources.yaml"
	files[p] = []byte(strings.Replace(string(files[p]), "512Mi", "1Gi", 1))
	snap = h.commit("Raise the memory limit of checkout in prod", files)
	r = request("/restart --env prod", command.Command{Name: "restart", Service: "checkout", Env: "prod"})
	r.Now = testNow.Add(-24 * time.Hour)
	step(r)
	return h, snap
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dir := filepath.Join("testdata", c.name)
			input := readTree(t, filepath.Join(dir, "input"))
			var snap Snapshot = newMemSnapshot(baseSHA, input)
			var hist History
			files := input
			if c.history != nil {
				h, last := c.history(t, input)
				snap, hist, files = last, h, last.files
			}
			req := c.req
			if c.reqFor != nil {
				req = c.reqFor(hist.(*memHistory))
			}
			cfg := loadConfig(t, files)
			cs, err := New().Plan(ctx, cfg, files[repoconfig.Path], snap, hist, req)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			out := apply(t, files, cs)
			compareTree(t, filepath.Join(dir, "expected"), out)
			if c.pr {
				compareGolden(t, filepath.Join(dir, "pr", "title.golden"), cs.Title)
				compareGolden(t, filepath.Join(dir, "pr", "body.md.golden"), cs.Body)
				compareGolden(t, filepath.Join(dir, "pr", "commit.golden"), cs.CommitMessage)
			}
			checkChangeSet(t, cs, req)
			if c.check != nil {
				var before, after *overlay.Rendered
				if c.render != "" {
					before, after = renderAt(t, files, c.render), renderAt(t, out, c.render)
				}
				c.check(t, before, after, cs)
			}
		})
	}
}

// maxBranchLen is the longest ref name GitHub accepts.
const maxBranchLen = 255

// checkChangeSet asserts what every ChangeSet must hold whatever the command.
func checkChangeSet(t *testing.T, cs *ChangeSet, req Input) {
	t.Helper()
	if cs.Title == "" || len([]rune(cs.Title)) > MaxTitleLen || strings.Contains(cs.Title, "\n") {
		t.Errorf("bad title %q", cs.Title)
	}
	if !validRef(cs.Branch) || len(cs.Branch) > maxBranchLen {
		t.Errorf("bad branch %q", cs.Branch)
	}
	if len(cs.Body) > MaxBodyLen {
		t.Errorf("body is %d bytes", len(cs.Body))
	}
	meta, ok := ParseMetadata(cs.Body)
	if !ok {
		t.Fatalf("no metadata in body")
	}
	for k, v := range map[string]string{"action": req.Command.Name, "requester": req.Requester, "origin": req.Origin, "env": cs.Env, "service": cs.Service, "base": cs.Base} {
		if meta[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, meta[k], v)
		}
	}
	tr := ParseTrailers(cs.CommitMessage)
	if tr[TrailerAction] != req.Command.Name || tr[TrailerRequester] != req.Requester || tr[TrailerEnv] != cs.Env {
		t.Errorf("trailers = %v", tr)
	}
	if !strings.HasPrefix(cs.CommitMessage, cs.Title+"\n\n") {
		t.Errorf("commit subject is not the title:\n%s", cs.CommitMessage)
	}
	if len(cs.Files) == 0 || cs.FileDiff == "" {
		t.Errorf("no files or file diff")
	}
}

func loadConfig(t testing.TB, files map[string][]byte) *repoconfig.Config {
	t.Helper()
	cfg, err := repoconfig.Load(files[repoconfig.Path], command.All())
	if err != nil {
		t.Fatalf("loading %s: %v", repoconfig.Path, err)
	}
	return cfg
}

func renderAt(t testing.TB, files map[string][]byte, dir string) *overlay.Rendered {
	t.Helper()
	tree, err := overlay.Load(context.Background(), newMemSnapshot("x", files), dir)
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	r, err := tree.Render()
	if err != nil {
		t.Fatalf("rendering %s: %v", dir, err)
	}
	return r
}

func compareTree(t *testing.T, dir string, got map[string][]byte) {
	t.Helper()
	if *update {
		writeTree(t, dir, got)
		return
	}
	want := readTree(t, dir)
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	for p := range want {
		if _, ok := got[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		g, gok := got[p]
		w, wok := want[p]
		switch {
		case !wok:
			t.Errorf("%s: unexpected file", p)
		case !gok:
			t.Errorf("%s: missing", p)
		case string(g) != string(w):
			t.Errorf("%s differs from %s (run with -update to accept):\n%s", p, dir, overlay.FileDiff(p, w, g))
		}
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n%s", path, overlay.FileDiff(path, want, []byte(got)))
	}
}

func find(t *testing.T, r *overlay.Rendered, kind, name string) overlay.Resource {
	t.Helper()
	res, ok := r.Find(kind, name)
	if !ok {
		t.Fatalf("%s/%s not in the render", kind, name)
	}
	return res
}

func field(t *testing.T, res overlay.Resource, path ...string) string {
	t.Helper()
	n, err := res.Node.Pipe(yaml.Lookup(path...))
	if err != nil {
		t.Fatalf("%s: %v", res.ID(), err)
	}
	if n == nil {
		return ""
	}
	return n.YNode().Value
}

// wantImage asserts the image of a container of a Deployment ("" = every container).
func wantImage(t *testing.T, r *overlay.Rendered, deployment, container, image string) {
	t.Helper()
	d := find(t, r, "Deployment", deployment)
	list, err := d.Node.Pipe(yaml.Lookup("spec", "template", "spec", "containers"))
	if err != nil || list == nil {
		t.Fatalf("%s has no containers", d.ID())
	}
	elems, _ := list.Elements()
	matched := false
	for _, c := range elems {
		name := c.Field("name").Value.YNode().Value
		if container != "" && name != container {
			continue
		}
		matched = true
		if got := c.Field("image").Value.YNode().Value; got != image {
			t.Errorf("%s container %s runs %s, want %s", d.ID(), name, got, image)
		}
	}
	if !matched {
		t.Errorf("%s has no container %q", d.ID(), container)
	}
}

func configData(t *testing.T, r *overlay.Rendered, name string) map[string]string {
	t.Helper()
	for _, res := range r.Resources() {
		if res.Kind == "ConfigMap" && strings.HasPrefix(res.Name, name) {
			return res.Node.GetDataMap()
		}
	}
	t.Fatalf("no ConfigMap %s in the render", name)
	return nil
}

// same asserts a resource renders identically before and after.
func same(t *testing.T, before, after *overlay.Rendered, kind, name string) {
	t.Helper()
	if b, a := find(t, before, kind, name).Node.MustString(), find(t, after, kind, name).Node.MustString(); a != b {
		t.Errorf("%s/%s changed:\n%s", kind, name, overlay.FileDiff(kind+"/"+name, []byte(b), []byte(a)))
	}
}

func wantRisk(t *testing.T, cs *ChangeSet, r Risk) {
	t.Helper()
	if cs.Risk != r {
		t.Errorf("risk = %s, want %s", cs.Risk, r)
	}
}

// validRef applies git check-ref-format's rules to a branch name.
func validRef(ref string) bool {
	if ref == "" || strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") || strings.HasSuffix(ref, ".") ||
		strings.Contains(ref, "..") || strings.Contains(ref, "//") || strings.Contains(ref, "@{") || ref == "@" {
		return false
	}
	for _, c := range ref {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return false
		}
	}
	for _, part := range strings.Split(ref, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}
