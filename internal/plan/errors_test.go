package plan

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

const (
	prodKust    = "apps/checkout/overlays/prod/kustomization.yaml"
	stagingKust = "apps/checkout/overlays/staging/kustomization.yaml"
	prodFreeze  = "    promoteConfig: true # prod takes the config of staging with each promotion\n"
	frozenProd  = prodFreeze + "    freeze:\n      reason: release week\n      by: bob\n      since: 2026-11-20T10:00:00Z\n"
)

// replace edits one file of a fixture, failing when old is not in it.
func replace(t *testing.T, files map[string][]byte, path, old, new string) {
	t.Helper()
	s := string(files[path])
	if !strings.Contains(s, old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	files[path] = []byte(strings.Replace(s, old, new, 1))
}

func freezeProd(t *testing.T, f map[string][]byte) {
	replace(t, f, repoconfig.Path, prodFreeze, frozenProd)
}

// pinReplicas adds a transformer that forces checkout's replicas to 3 after the
// kustomization's replicas field applies.
func pinReplicas(t *testing.T, f map[string][]byte) {
	replace(t, f, prodKust, "patches:\n", "transformers:\n  - pin-replicas.yaml\npatches:\n")
	f["apps/checkout/overlays/prod/pin-replicas.yaml"] = []byte(`apiVersion: builtin
kind: PatchTransformer
metadata:
  name: pin-replicas
patch: |-
  - op: replace
    path: /spec/replicas
    value: 3
target:
  kind: Deployment
  name: checkout
`)
}

type refusal struct {
	name   string
	mutate func(t *testing.T, files map[string][]byte)
	req    Input
	hist   bool // plan with a history holding the fixture as its only commit
	code   Code
	msg    string   // the whole message
	parts  []string // or pieces of it, when it quotes krusty
}

func cmd(name, service, env string) command.Command {
	return command.Command{Name: name, Service: service, Env: env}
}

func TestRefusals(t *testing.T) {
	scale := func(n int, env string) Input {
		c := cmd("scale", "checkout", env)
		c.Replicas = n
		return request("/scale", c)
	}
	setImage := func(service, env string, ref command.ImageRef) Input {
		c := cmd("set-image", service, env)
		c.Image = ref
		return request("/set-image", c)
	}
	configCmd := func(service, env string, set []command.KeyValue, unset ...string) Input {
		c := cmd("config", service, env)
		c.Set, c.Unset = set, unset
		return request("/config", c)
	}
	cases := []refusal{
		{
			name: "frozen", mutate: freezeProd, req: scale(5, "prod"), code: Forbidden,
			msg: "prod is frozen since 2026-11-20 10:00 UTC by @bob: release week; ask for /unfreeze --env prod first, or repeat with --break-glass in an emergency",
		},
		{
			name: "broken before",
			mutate: func(t *testing.T, f map[string][]byte) {
				replace(t, f, "apps/checkout/overlays/prod/resources.yaml", "name: checkout\n", "name: checkout-old\n")
			},
			req: scale(5, "prod"), code: Broken,
			parts: []string{"the prod overlay of checkout does not render today: ", "checkout-old", "; fix it first"},
		},
		{
			name: "broken after",
			mutate: func(t *testing.T, f map[string][]byte) {
				// A stale daytwo patch file nobody references targets a workload that is gone.
				f["apps/checkout/overlays/prod/"+PatchFile] = []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ghost\nspec:\n  template:\n    metadata:\n      annotations:\n        a: b\n")
			},
			req: request("/restart", cmd("restart", "checkout", "prod")), code: Broken,
			parts: []string{"checkout/prod (restart Deployment/checkout) would break the prod overlay of checkout: ", "ghost"},
		},
		{name: "scale unchanged", req: scale(3, "prod"), code: NoChange, msg: "checkout in prod already has 3 replicas"},
		{
			name: "image unchanged", req: setImage("checkout", "staging", command.ImageRef{Tag: "1.4.1"}), code: NoChange,
			msg: "checkout in staging already runs 1.4.1",
		},
		{
			name: "promote unchanged",
			mutate: func(t *testing.T, f map[string][]byte) {
				replace(t, f, prodKust, "newTag: 1.4.0", "newTag: 1.4.1")
				replace(t, f, prodKust, "      - LOG_LEVEL=warn\n", "      - LOG_LEVEL=warn\n      - FEATURE_X=on\n")
			},
			req: request("/promote prod", cmd("promote", "checkout", "prod")), code: NoChange,
			msg: "checkout in prod already runs what staging runs (1.4.1)",
		},
		{
			name: "config unchanged", req: configCmd("checkout", "prod", []command.KeyValue{{Key: "LOG_LEVEL", Value: "warn"}}), code: NoChange,
			msg: "checkout in prod already has LOG_LEVEL=warn",
		},
		{
			name:   "suspend at zero",
			mutate: func(t *testing.T, f map[string][]byte) { replace(t, f, stagingKust, "count: 2", "count: 0") },
			req:    request("/suspend", cmd("suspend", "checkout", "staging")), code: NoChange,
			msg: "checkout in staging already has 0 replicas",
		},
		{
			name: "freeze frozen", mutate: freezeProd, req: request("/freeze prod", cmd("freeze", "", "prod")), code: NoChange,
			msg: "prod is frozen since 2026-11-20 10:00 UTC by @bob: release week",
		},
		{name: "unfreeze thawed", req: request("/unfreeze prod", cmd("unfreeze", "", "prod")), code: NoChange, msg: "prod is not frozen"},
		{
			name: "replicas overridden", mutate: pinReplicas, req: scale(5, "prod"), code: Conflict,
			msg: "Deployment/checkout in prod would still have 3 replicas after setting replicas to 5 in " + prodKust +
				": overridden by apps/checkout/overlays/prod/pin-replicas.yaml",
		},
		{
			name: "replicas overridden already",
			mutate: func(t *testing.T, f map[string][]byte) {
				pinReplicas(t, f)
				replace(t, f, prodKust, "count: 3", "count: 5")
			},
			req: scale(5, "prod"), code: Conflict,
			msg: "Deployment/checkout in prod would still have 3 replicas after setting replicas to 5 in " + prodKust +
				": overridden by apps/checkout/overlays/prod/pin-replicas.yaml",
		},
		{
			name: "unset from base", req: configCmd("checkout", "staging", nil, "FEATURE_X"), code: Conflict,
			msg: "FEATURE_X would still be set in the checkout-config ConfigMap: it comes from the base generator or an env file, not from the literals of the staging overlay of checkout",
		},
		{name: "scale above bounds", req: scale(50, "prod"), code: Invalid, msg: "prod allows 2 to 20 replicas; 50 is out of bounds"},
		{name: "scale below bounds", req: scale(1, "prod"), code: Invalid, msg: "prod allows 2 to 20 replicas; 1 is out of bounds"},
		{name: "scale negative", req: scale(-1, "dev"), code: Invalid, msg: "replicas must be 0 or more, not -1"},
		{
			name: "unknown container", req: setImage("cart", "prod", command.ImageRef{Container: "sidecar", Tag: "1.0"}), code: Invalid,
			msg: "`Deployment/cart-api` in prod has no container `sidecar`; it runs `api` (`ghcr.io/acme/cart:2.0.0`) and `envoy` (`docker.io/envoyproxy/envoy:v1.30.1`)",
		},
		{
			name:   "ambiguous container",
			mutate: func(t *testing.T, f map[string][]byte) { replace(t, f, repoconfig.Path, "    container: api\n", "") },
			req:    setImage("cart", "prod", command.ImageRef{Tag: "2.0.3"}), code: Invalid,
			msg: "which container of cart in prod? it runs `api` (`ghcr.io/acme/cart:2.0.0`) and `envoy` (`docker.io/envoyproxy/envoy:v1.30.1`); " +
				"repeat the command with one of them, like `/set-image --container api`, or name the image: `/set-image <image>:<tag>`",
		},
		{name: "image without version", req: setImage("cart", "prod", command.ImageRef{}), code: Invalid, msg: "set-image needs a tag, an image:tag or an image@digest"},
		{
			name: "config without configMap", req: configCmd("cart", "prod", []command.KeyValue{{Key: "A", Value: "b"}}), code: Invalid,
			msg: "the prod overlay of cart generates no ConfigMap; add a `configMapGenerator` to apps/cart/overlays/prod/kustomization.yaml, or name the service's with `configMap:` in .github/daytwo.yml",
		},
		{
			name: "unset missing key", req: configCmd("checkout", "prod", nil, "NOPE"), code: Invalid,
			msg: "NOPE is not set in the checkout-config ConfigMap of checkout in prod (keys: FEATURE_X, LOG_LEVEL)",
		},
		{
			name: "bad config key", req: configCmd("checkout", "prod", []command.KeyValue{{Key: "A B", Value: "b"}}), code: Invalid,
			msg: `the config key "A B" may only contain letters, digits, '-', '_' and '.'`,
		},
		{
			name: "resume not suspended", req: request("/resume", cmd("resume", "checkout", "prod")), code: Invalid,
			msg: "checkout in prod is not suspended (Deployment/checkout has no daytwo.dev/replicas-before-suspend annotation); use /scale <n> to set replicas",
		},
		{
			name: "promote first env", req: request("/promote dev", cmd("promote", "checkout", "dev")), code: Invalid,
			msg: "dev is the first environment, so there is nothing to promote into it; name a source with --from <env>",
		},
		{name: "read-only verb", req: request("/status", cmd("status", "checkout", "prod")), code: Invalid, msg: "/status is not a change; there is nothing to plan"},
		{
			name: "unknown service", req: request("/restart", cmd("restart", "chekout", "prod")), code: Invalid,
			parts: []string{`unknown service "chekout"`, `"checkout"`},
		},
		{
			name: "ambiguous service", req: request("/restart", cmd("restart", "", "prod")), code: Invalid,
			msg: "which service? name one with --service <name> (checkout, cart)",
		},
		{
			name:   "overlay missing",
			mutate: func(t *testing.T, f map[string][]byte) { delete(f, "apps/cart/overlays/staging/kustomization.yaml") },
			req:    request("/restart", cmd("restart", "cart", "staging")), code: NotFound,
			msg: "the staging overlay of cart does not exist: no directory apps/cart/overlays/staging",
		},
		{
			name: "workload missing",
			mutate: func(t *testing.T, f map[string][]byte) {
				replace(t, f, repoconfig.Path, "name: cart-api", "name: cart-apii")
			},
			req: request("/restart", cmd("restart", "cart", "prod")), code: NotFound,
			msg: "`Deployment/cart-apii` is not in the render of the prod overlay of cart (workloads: `Deployment/cart-api`); fix `workload:` of cart in .github/daytwo.yml",
		},
		{
			name: "rollback unknown commit", hist: true, code: NotFound, msg: "commit deadbeef not found",
			req: func() Input {
				c := cmd("rollback", "checkout", "prod")
				c.To = "deadbeef"
				return request("/rollback", c)
			}(),
		},
		{
			name: "rollback without daytwo change", hist: true, req: request("/rollback", cmd("rollback", "checkout", "prod")), code: Invalid,
			msg: "found no daytwo change to the prod overlay of checkout in its last 1 commit; name the commit to restore with --to <sha>",
		},
		{
			name: "rollback to HEAD", hist: true, code: NoChange, parts: []string{"the prod overlay of checkout already matches "},
			req: func() Input {
				c := cmd("rollback", "checkout", "prod")
				c.To = "HEAD"
				return request("/rollback", c)
			}(),
		},
	}
	base := readTree(t, filepath.Join("testdata", "scale-prod", "input"))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := cloneFiles(base)
			if c.mutate != nil {
				c.mutate(t, files)
			}
			var snap Snapshot = newMemSnapshot(baseSHA, files)
			var hist History
			if c.hist {
				h := &memHistory{}
				snap = h.commit("Initial import", files)
				hist = headAlias{h, snap.Commit()}
			}
			_, err := New().Plan(context.Background(), loadConfig(t, files), files[repoconfig.Path], snap, hist, c.req)
			assertError(t, err, c.code, c.msg, c.parts...)
		})
	}
}

// headAlias resolves "HEAD" like git does.
type headAlias struct {
	*memHistory
	head string
}

func (h headAlias) At(ctx context.Context, commit string) (Snapshot, error) {
	if commit == "HEAD" {
		commit = h.head
	}
	return h.memHistory.At(ctx, commit)
}

func assertError(t *testing.T, err error, code Code, msg string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *plan.Error", err)
	}
	if e.Code != code {
		t.Errorf("code = %s, want %s (message %q)", e.Code, code, e.Msg)
	}
	if msg != "" && e.Msg != msg {
		t.Errorf("message:\n got %q\nwant %q", e.Msg, msg)
	}
	for _, p := range parts {
		if !strings.Contains(e.Msg, p) {
			t.Errorf("message %q does not contain %q", e.Msg, p)
		}
	}
}

func TestBreakGlassPlansThroughAFreeze(t *testing.T) {
	files := readTree(t, filepath.Join("testdata", "scale-prod", "input"))
	freezeProd(t, files)
	c := cmd("scale", "checkout", "prod")
	c.Replicas, c.BreakGlass = 5, true
	cs, err := New().Plan(context.Background(), loadConfig(t, files), files[repoconfig.Path], newMemSnapshot(baseSHA, files), nil, request("/scale 5 --env prod --break-glass", c))
	if err != nil {
		t.Fatal(err)
	}
	if cs.Risk != RiskHigh || cs.Metadata["breakGlass"] != "true" {
		t.Errorf("risk %s, metadata %v", cs.Risk, cs.Metadata)
	}
	if meta, _ := ParseMetadata(cs.Body); meta["breakGlass"] != "true" {
		t.Errorf("body metadata %v", meta)
	}
	for _, want := range []string{"**Break-glass:**", "while prod is frozen since 2026-11-20 10:00 UTC by `@bob`: release week", "two owners must approve"} {
		if !strings.Contains(cs.Body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if !strings.Contains(cs.CommitMessage, "Break-glass: planned with --break-glass while prod is frozen") {
		t.Errorf("commit message lacks break-glass:\n%s", cs.CommitMessage)
	}
}

func TestRiskTiers(t *testing.T) {
	files := readTree(t, filepath.Join("testdata", "scale-prod", "input"))
	replace(t, files, repoconfig.Path, "      min: 2\n", "      min: 0\n")
	cfg := loadConfig(t, files)
	snap := newMemSnapshot(baseSHA, files)
	for _, c := range []struct {
		req  Input
		want Risk
	}{
		{scaleReq(0, "prod"), RiskHigh},
		{scaleReq(0, "staging"), RiskMedium},
		{scaleReq(4, "prod"), RiskMedium},
		{scaleReq(4, "dev"), RiskLow},
		{request("/restart", cmd("restart", "checkout", "prod")), RiskLow},
		{request("/suspend", cmd("suspend", "checkout", "dev")), RiskHigh},
	} {
		cs, err := New().Plan(context.Background(), cfg, nil, snap, nil, c.req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.req.Command.Name, c.req.Command.Env, err)
		}
		if cs.Risk != c.want {
			t.Errorf("%s %d in %s: risk %s, want %s", c.req.Command.Name, c.req.Command.Replicas, c.req.Command.Env, cs.Risk, c.want)
		}
	}
}

func scaleReq(n int, env string) Input {
	c := cmd("scale", "checkout", env)
	c.Replicas = n
	return request("/scale", c)
}
