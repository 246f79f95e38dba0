package inspect_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/inspect"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

func TestDiffDevAgainstProd(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	d, err := inspect.Diff(context.Background(), e.cfg, e.snap(t), "checkout", "dev", "prod")
	if err != nil {
		t.Fatal(err)
	}
	wantImages := []inspect.ImageChange{{Workload: "Deployment/checkout", Container: "checkout",
		A: "ghcr.io/acme/checkout:1.8.0", B: "ghcr.io/acme/checkout:1.7.1", Promoted: true}}
	if !reflect.DeepEqual(d.Images, wantImages) {
		t.Errorf("images:\n got %+v\nwant %+v", d.Images, wantImages)
	}
	if want := []inspect.ReplicaChange{{Workload: "Deployment/checkout", A: "1", B: "3"}}; !reflect.DeepEqual(d.Replicas, want) {
		t.Errorf("replicas %+v", d.Replicas)
	}
	// prod has no promoteConfig: nothing of the config travels.
	wantConfig := []inspect.ConfigChange{
		{ConfigMap: "checkout-config", Key: "CART_TTL", InA: true, InB: true, A: "24h", B: "72h"},
		{ConfigMap: "checkout-config", Key: "FEATURE_EXPRESS_CHECKOUT", InA: true, InB: true, A: "true", B: "false"},
		{ConfigMap: "checkout-config", Key: "LOG_LEVEL", InA: true, InB: true, A: "debug", B: "info"},
	}
	if !reflect.DeepEqual(d.Config, wantConfig) {
		t.Errorf("config:\n got %+v\nwant %+v", d.Config, wantConfig)
	}
	if d.Empty() || d.PromoteConfig || d.A != "dev" || d.B != "prod" || strings.Join(d.VersionsA, ",") != "1.8.0" || strings.Join(d.VersionsB, ",") != "1.7.1" {
		t.Errorf("diff %+v", d)
	}

	md := d.Markdown()
	for _, want := range []string{
		"### checkout: dev → prod",
		"`/promote prod --from dev`",
		"| `checkout` | `ghcr.io/acme/checkout:1.8.0` | `ghcr.io/acme/checkout:1.7.1` | ✓ |",
		"prod does not take config with /promote",
		"| `CART_TTL` | `24h` | `72h` | — |",
		"| Deployment/checkout | 1 | 3 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestDiffCarriesConfigWhereTheTargetTakesIt(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	// staging has promoteConfig; dev's own literals travel, the base's do not.
	d, err := inspect.Diff(context.Background(), e.cfg, e.snap(t), "checkout", "dev", "staging")
	if err != nil {
		t.Fatal(err)
	}
	if !d.PromoteConfig {
		t.Error("staging takes config with /promote")
	}
	want := []inspect.ConfigChange{{ConfigMap: "checkout-config", Key: "LOG_LEVEL", InA: true, InB: true, A: "debug", B: "info", Promoted: true}}
	if !reflect.DeepEqual(d.Config, want) {
		t.Errorf("config %+v", d.Config)
	}
	// The other way round, staging sets no LOG_LEVEL literal: promoting dev from staging
	// would not restore info.
	back, err := inspect.Diff(context.Background(), e.cfg, e.snap(t), "checkout", "staging", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Config) != 1 || back.Config[0].Promoted || back.Images[0].A != "ghcr.io/acme/checkout:1.7.2" {
		t.Errorf("staging → dev: %+v", back)
	}
	if md := d.Markdown(); !strings.Contains(md, "| `LOG_LEVEL` | `debug` | `info` | ✓ |") || !strings.Contains(md, "it never removes keys") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestDiffOfEqualEnvironments(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	dev := e.read(t, "apps/checkout/overlays/dev/kustomization.yaml")
	e.commit(t, "staging = dev", map[string]string{
		"apps/checkout/overlays/staging/kustomization.yaml": strings.Replace(dev, "namespace: checkout-dev", "namespace: checkout-staging", 1),
	})
	d, err := inspect.Diff(context.Background(), e.cfg, e.snap(t), "checkout", "dev", "staging")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Empty() || d.ConfigHashA != d.ConfigHashB {
		t.Fatalf("equal environments differ: %+v", d)
	}
	md := d.Markdown()
	if !strings.Contains(md, "No differences: dev and staging run the same images (1.8.0), replicas and config (`"+d.ConfigHashA+"`).") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestDiffMasksSecrets(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	dev := strings.Replace(e.read(t, "apps/checkout/overlays/dev/kustomization.yaml"), "  - LOG_LEVEL=debug",
		"  - LOG_LEVEL=debug\n  - STRIPE_API_KEY=sk_live_hunter2\n  - SESSION_SECRET=dev-s3cr3t\n  - DATABASE_URL=postgres://app:pa55word@db:5432/app\n  - Auth_Token=tok-dev", 1)
	prod := strings.Replace(e.read(t, "apps/checkout/overlays/prod/kustomization.yaml"), "      - CART_TTL=72h",
		"      - CART_TTL=72h\n      - SESSION_SECRET=prod-s3cr3t\n      - DATABASE_URL=postgres://app:other@db:5432/app\n      - Auth_Token=tok-prod", 1)
	e.commit(t, "secrets in config maps", map[string]string{
		"apps/checkout/overlays/dev/kustomization.yaml":  dev,
		"apps/checkout/overlays/prod/kustomization.yaml": prod,
	})
	d, err := inspect.Diff(context.Background(), e.cfg, e.snap(t), "checkout", "dev", "prod")
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]inspect.ConfigChange{}
	for _, c := range d.Config {
		byKey[c.Key] = c
	}
	for key, want := range map[string]inspect.ConfigChange{
		"STRIPE_API_KEY": {ConfigMap: "checkout-config", Key: "STRIPE_API_KEY", InA: true, A: inspect.MaskedValue, Masked: true},
		"SESSION_SECRET": {ConfigMap: "checkout-config", Key: "SESSION_SECRET", InA: true, InB: true, A: inspect.MaskedValue, B: inspect.MaskedValue, Masked: true},
		"Auth_Token":     {ConfigMap: "checkout-config", Key: "Auth_Token", InA: true, InB: true, A: inspect.MaskedValue, B: inspect.MaskedValue, Masked: true},
		"DATABASE_URL": {ConfigMap: "checkout-config", Key: "DATABASE_URL", InA: true, InB: true,
			A: "postgres://app:" + inspect.MaskedValue + "@db:5432/app", B: "postgres://app:" + inspect.MaskedValue + "@db:5432/app", Masked: true},
		"CART_TTL": {ConfigMap: "checkout-config", Key: "CART_TTL", InA: true, InB: true, A: "24h", B: "72h"},
	} {
		if !reflect.DeepEqual(byKey[key], want) {
			t.Errorf("%s:\n got %+v\nwant %+v", key, byKey[key], want)
		}
	}
	md := d.Markdown()
	for _, secret := range []string{"hunter2", "s3cr3t", "pa55word", "other@", "tok-"} {
		if strings.Contains(md, secret) || strings.Contains(fmt.Sprintf("%+v", d), secret) {
			t.Errorf("%q shows:\n%s", secret, md)
		}
	}
	for _, want := range []string{
		"| `STRIPE_API_KEY` | `" + inspect.MaskedValue + "` | _not set_ | — |",
		"| `SESSION_SECRET` | `" + inspect.MaskedValue + "` | `" + inspect.MaskedValue + "` (differs) | — |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestDiffErrors(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	ctx := context.Background()
	if _, err := inspect.Diff(ctx, e.cfg, e.snap(t), "checkout", "prod", "prod"); plan.ErrorCode(err) != plan.Invalid || !strings.Contains(err.Error(), "itself") {
		t.Errorf("same environment: %v", err)
	}
	if _, err := inspect.Diff(ctx, e.cfg, e.snap(t), "checkout", "dev", "qa"); plan.ErrorCode(err) != plan.NotFound {
		t.Errorf("unknown environment: %v", err)
	}
	e.commit(t, "payments: leave staging", map[string]string{"apps/payments/overlays/staging": ""})
	_, err := inspect.Diff(ctx, e.cfg, e.snap(t), "payments", "dev", "staging")
	if plan.ErrorCode(err) != plan.Invalid || !strings.Contains(err.Error(), "payments is not deployed to staging (no overlay at apps/payments/overlays/staging)") {
		t.Errorf("not deployed: %v", err)
	}
}

func TestDiffOfTwoWorkloads(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	d, err := inspect.Diff(context.Background(), e.cfg, e.snap(t), "payments", "staging", "prod")
	if err != nil {
		t.Fatal(err)
	}
	var images, replicas []string
	for _, c := range d.Images {
		images = append(images, fmt.Sprintf("%s/%s %s→%s %v", c.Workload, c.Container, c.A, c.B, c.Promoted))
	}
	for _, c := range d.Replicas {
		replicas = append(replicas, c.Workload+" "+c.A+"→"+c.B)
	}
	if strings.Join(images, "; ") != "Deployment/payments-api/api ghcr.io/acme/payments:3.1.0→ghcr.io/acme/payments:3.0.4 true; "+
		"Deployment/payments-worker/worker ghcr.io/acme/payments:3.1.0→ghcr.io/acme/payments:3.0.4 true" {
		t.Errorf("images %v", images)
	}
	if strings.Join(replicas, "; ") != "Deployment/payments-api 2→3; Deployment/payments-worker 1→2" {
		t.Errorf("replicas %v", replicas)
	}
	if md := d.Markdown(); !strings.Contains(md, "| `api` in Deployment/payments-api |") {
		t.Errorf("markdown names the workload of each container:\n%s", md)
	}
}
