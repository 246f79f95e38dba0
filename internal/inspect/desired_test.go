package inspect_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/inspect"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

func TestDesiredOfCheckoutInEachEnvironment(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	ctx := context.Background()
	snap := e.snap(t)
	// What apps/checkout/overlays/<env>/kustomization.yaml set on top of the base.
	want := map[string]struct {
		tag       string
		replicas  int
		overrides map[string]string
	}{
		"dev":     {"1.8.0", 1, map[string]string{"LOG_LEVEL": "debug", "FEATURE_EXPRESS_CHECKOUT": "true", "CART_TTL": "24h"}},
		"staging": {"1.7.2", 2, map[string]string{"LOG_LEVEL": "info", "FEATURE_EXPRESS_CHECKOUT": "true", "CART_TTL": "24h"}},
		"prod":    {"1.7.1", 3, map[string]string{"LOG_LEVEL": "info", "FEATURE_EXPRESS_CHECKOUT": "false", "CART_TTL": "72h"}},
	}
	hashes := map[string]string{}
	for _, env := range e.cfg.EnvNames() {
		w := want[env]
		d, err := inspect.ReadDesired(ctx, e.cfg, snap, "checkout", env)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if !d.Deployed() || d.Overlay != "apps/checkout/overlays/"+env || d.Commit != snap.Commit() {
			t.Errorf("%s: deployed=%v overlay=%q commit=%q", env, d.Deployed(), d.Overlay, d.Commit)
		}
		wantImages := []inspect.Image{{Workload: "Deployment/checkout", Container: "checkout", Name: "ghcr.io/acme/checkout", Tag: w.tag}}
		if !reflect.DeepEqual(d.Images, wantImages) {
			t.Errorf("%s images = %+v, want %+v", env, d.Images, wantImages)
		}
		if d.Images[0].Ref() != "ghcr.io/acme/checkout:"+w.tag || strings.Join(d.Versions(), ",") != w.tag {
			t.Errorf("%s: ref %q versions %v", env, d.Images[0].Ref(), d.Versions())
		}
		if len(d.Workloads) != 1 || d.Workloads[0].ID() != "Deployment/checkout" || fmtInt(d.Workloads[0].Replicas) != fmtInt(ptr(w.replicas)) {
			t.Errorf("%s workloads = %+v (replicas %s), want Deployment/checkout with %d", env, d.Workloads, fmtInt(d.Workloads[0].Replicas), w.replicas)
		}
		// The base's six literals, merged with the overlay's.
		if d.ConfigKeys != 6 || len(d.Config) != 6 {
			t.Errorf("%s: %d config keys: %v", env, d.ConfigKeys, d.Config)
		}
		for k, v := range w.overrides {
			if got := d.Config["checkout-config/"+k]; got != v {
				t.Errorf("%s: %s = %q, want %q", env, k, got, v)
			}
		}
		if len(d.ConfigHash) != 8 {
			t.Errorf("%s: config hash %q", env, d.ConfigHash)
		}
		if d.Frozen {
			t.Errorf("%s is not frozen in the example", env)
		}
		hashes[env] = d.ConfigHash
	}
	if hashes["dev"] == hashes["staging"] || hashes["staging"] == hashes["prod"] || hashes["dev"] == hashes["prod"] {
		t.Errorf("each environment of the example has its own config, hashes %v", hashes)
	}

	// Staging given dev's literals: the namespaces still differ, the config is now equal.
	staging := strings.Replace(e.read(t, "apps/checkout/overlays/staging/kustomization.yaml"),
		"      - FEATURE_EXPRESS_CHECKOUT=true", "      - FEATURE_EXPRESS_CHECKOUT=true\n      - LOG_LEVEL=debug", 1)
	e.commit(t, "staging: debug logs", map[string]string{"apps/checkout/overlays/staging/kustomization.yaml": staging})
	dev, err := inspect.ReadDesired(ctx, e.cfg, e.snap(t), "checkout", "dev")
	if err != nil {
		t.Fatal(err)
	}
	st, err := inspect.ReadDesired(ctx, e.cfg, e.snap(t), "checkout", "staging")
	if err != nil {
		t.Fatal(err)
	}
	if dev.ConfigHash != st.ConfigHash || !reflect.DeepEqual(dev.Config, st.Config) {
		t.Errorf("equal config, hashes %s and %s:\n%v\n%v", dev.ConfigHash, st.ConfigHash, dev.Config, st.Config)
	}
}

func TestDesiredOfTwoWorkloads(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	d, err := inspect.ReadDesired(context.Background(), e.cfg, e.snap(t), "payments", "prod")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range d.Workloads {
		got = append(got, w.ID()+"="+fmtInt(w.Replicas))
	}
	if strings.Join(got, " ") != "Deployment/payments-api=3 Deployment/payments-worker=2" {
		t.Errorf("workloads %v", got)
	}
	var images []string
	for _, im := range d.Images {
		images = append(images, im.Workload+"/"+im.Container+"="+im.Ref())
	}
	if strings.Join(images, " ") != "Deployment/payments-api/api=ghcr.io/acme/payments:3.0.4 Deployment/payments-worker/worker=ghcr.io/acme/payments:3.0.4" {
		t.Errorf("images %v", images)
	}
	// One image in two containers is one version.
	if strings.Join(d.Versions(), ",") != "3.0.4" {
		t.Errorf("versions %v", d.Versions())
	}
	if d.Config["payments-config/WORKER_CONCURRENCY"] != "16" || d.Config["payments-config/SETTLEMENT_BATCH"] != "500" || d.Config["payments-config/PROVIDER"] != "stripe" {
		t.Errorf("config %v", d.Config)
	}
}

func TestDesiredDigestsAndInitContainers(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	digest := "sha256:" + strings.Repeat("ab12", 16)
	kust := strings.Replace(e.read(t, "apps/checkout/overlays/dev/kustomization.yaml"),
		"  newTag: 1.8.0   # dev runs what main built last", "  newTag: 1.8.0\n  digest: "+digest, 1)
	patch := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  replicas: null
  template:
    spec:
      initContainers:
      - name: migrate
        image: registry.local:5000/acme/migrate@` + digest + `
`
	kust += "patches:\n- path: init.yaml\n"
	e.commit(t, "dev: pin by digest, migrate first", map[string]string{
		"apps/checkout/overlays/dev/kustomization.yaml": kust,
		"apps/checkout/overlays/dev/init.yaml":          patch,
	})
	d, err := inspect.ReadDesired(context.Background(), e.cfg, e.snap(t), "checkout", "dev")
	if err != nil {
		t.Fatal(err)
	}
	want := []inspect.Image{
		{Workload: "Deployment/checkout", Container: "migrate", Init: true, Name: "registry.local:5000/acme/migrate", Digest: digest},
		{Workload: "Deployment/checkout", Container: "checkout", Name: "ghcr.io/acme/checkout", Tag: "1.8.0", Digest: digest},
	}
	if !reflect.DeepEqual(d.Images, want) {
		t.Errorf("images:\n got %+v\nwant %+v", d.Images, want)
	}
	// Init containers are not what the service "runs".
	if v := d.Versions(); len(v) != 1 || v[0] != "1.8.0@sha256:ab12ab12ab12" {
		t.Errorf("versions %v", v)
	}
	if d.Images[0].Version() != "sha256:ab12ab12ab12" || (inspect.Image{Name: "nginx"}).Version() != "latest" {
		t.Errorf("version of a digest %q", d.Images[0].Version())
	}
}

func TestNotDeployed(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	ctx := context.Background()

	// The config limits catalog to dev and staging.
	cfg := strings.Replace(e.read(t, repoconfig.Path), "  - name: catalog\n", "  - name: catalog\n    environments: [dev, staging]\n", 1)
	e.commit(t, "catalog: not in prod", map[string]string{repoconfig.Path: cfg})
	e.reloadConfig(t)
	d, err := inspect.ReadDesired(ctx, e.cfg, e.snap(t), "catalog", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if d.Deployed() || d.NotDeployed == nil || !strings.Contains(d.NotDeployed.Reason, "dev, staging") || len(d.Images) != 0 {
		t.Errorf("excluded by the config: %+v", d)
	}

	// No overlay directory for payments in staging.
	e.commit(t, "payments: leave staging", map[string]string{"apps/payments/overlays/staging": ""})
	d, err = inspect.ReadDesired(ctx, e.cfg, e.snap(t), "payments", "staging")
	if err != nil {
		t.Fatal(err)
	}
	if d.Deployed() || d.NotDeployed.Reason != "no overlay at apps/payments/overlays/staging" {
		t.Errorf("no overlay: %+v", d.NotDeployed)
	}
	if d, err := inspect.ReadDesired(ctx, e.cfg, e.snap(t), "payments", "prod"); err != nil || !d.Deployed() {
		t.Errorf("payments still runs in prod: %v", err)
	}
}

func TestDesiredErrors(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	ctx := context.Background()
	cases := []struct {
		service, env string
		code         plan.Code
		says         []string
	}{
		{"nope", "dev", plan.NotFound, []string{`"nope"`, "checkout, catalog, payments"}},
		{"checkout", "qa", plan.NotFound, []string{`"qa"`, "dev, staging, prod"}},
	}
	for _, c := range cases {
		_, err := inspect.ReadDesired(ctx, e.cfg, e.snap(t), c.service, c.env)
		if plan.ErrorCode(err) != c.code {
			t.Errorf("%s/%s: %v, want code %s", c.service, c.env, err, c.code)
			continue
		}
		for _, s := range c.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s/%s: %q does not say %s", c.service, c.env, err, s)
			}
		}
	}

	// A file the overlay references is missing: broken, not "not deployed".
	e.commit(t, "lose the patch", map[string]string{"apps/checkout/overlays/prod/production.yaml": ""})
	_, err := inspect.ReadDesired(ctx, e.cfg, e.snap(t), "checkout", "prod")
	if plan.ErrorCode(err) != plan.Broken || !strings.Contains(err.Error(), "production.yaml") || !strings.Contains(err.Error(), "the prod overlay of checkout") {
		t.Errorf("missing patch: %v", err)
	}

	// An overlay kustomize refuses.
	e.commit(t, "bad replicas", map[string]string{"apps/checkout/overlays/staging/kustomization.yaml": "resources:\n- ../../base\nreplicas:\n- name: checkout\n  count: many\n"})
	_, err = inspect.ReadDesired(ctx, e.cfg, e.snap(t), "checkout", "staging")
	if plan.ErrorCode(err) != plan.Broken || !strings.Contains(err.Error(), "does not render") {
		t.Errorf("unrenderable overlay: %v", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := inspect.ReadDesired(cancelled, e.cfg, e.snap(t), "checkout", "dev"); err == nil {
		t.Error("a cancelled context still read the overlay")
	}
}

// flakySnapshot fails to read one file, as a repository API does when it is down.
type flakySnapshot struct {
	dirSnapshot
	fail string
}

func (s flakySnapshot) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if p == s.fail {
		return nil, errors.New("502 Bad Gateway")
	}
	return s.dirSnapshot.ReadFile(ctx, p)
}

func TestDesiredWhenTheRepositoryCannotBeRead(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	snap := flakySnapshot{dirSnapshot{os.DirFS("../../examples/gitops")}, "apps/checkout/base/deployment.yaml"}
	_, err := inspect.ReadDesired(context.Background(), e.cfg, snap, "checkout", "prod")
	if plan.ErrorCode(err) != plan.Internal || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("a failed read is daytwo's problem, not a broken overlay: %v (code %s)", err, plan.ErrorCode(err))
	}
	// The same snapshot reads the other environments' overlays, which do not fail.
	if d, err := inspect.ReadDesired(context.Background(), e.cfg, snap, "catalog", "prod"); err != nil || !d.Deployed() {
		t.Errorf("catalog: %v", err)
	}
}
