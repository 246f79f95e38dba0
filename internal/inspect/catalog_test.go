package inspect_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/inspect"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

func TestCatalogOfTheExample(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	ctx := context.Background()
	c, err := inspect.ReadCatalog(ctx, e.cfg, e.snap(t), "checkout")
	if err != nil {
		t.Fatal(err)
	}
	want := &inspect.Catalog{
		Path: "apps/checkout/catalog-info.yaml", Kind: "Component", Name: "checkout", Title: "Checkout",
		Description: "Cart and order API of the web shop.", Type: "service",
		Owner: "group:acme/checkout-team", System: "shop", Lifecycle: "production",
		DependsOn: []string{"component:catalog", "component:payments"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("checkout:\n got %+v\nwant %+v", c, want)
	}
	p, err := inspect.ReadCatalog(ctx, e.cfg, e.snap(t), "payments")
	if err != nil || p.Owner != "group:acme/payments-team" || strings.Join(p.DependsOn, " ") != "resource:rabbitmq resource:payments-db" {
		t.Errorf("payments: %+v %v", p, err)
	}
	if _, err := inspect.ReadCatalog(ctx, e.cfg, e.snap(t), "nope"); plan.ErrorCode(err) != plan.NotFound {
		t.Errorf("unknown service: %v", err)
	}
}

func TestCatalogAbsent(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	e.commit(t, "catalog: no backstage entity", map[string]string{"apps/catalog/catalog-info.yaml": ""})
	c, err := inspect.ReadCatalog(context.Background(), e.cfg, e.snap(t), "catalog")
	if c != nil || err != nil {
		t.Errorf("absent file: %+v, %v", c, err)
	}
}

func TestCatalogPicksTheServiceComponent(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	file := `apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: checkout-api
spec:
  owner: group:acme/api-guild
---
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: checkout-worker}
spec: {owner: group:acme/other}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  description: ~
spec:
  owner: &team group:acme/checkout-team
  system: *team
  dependsOn: []
`
	e.commit(t, "several entities", map[string]string{"apps/checkout/catalog-info.yaml": file})
	c, err := inspect.ReadCatalog(context.Background(), e.cfg, e.snap(t), "checkout")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "checkout" || c.Owner != "group:acme/checkout-team" || c.System != "group:acme/checkout-team" || c.Description != "" || len(c.DependsOn) != 0 {
		t.Errorf("picked %+v", c)
	}

	// Without a Component of its name, the first Component; without any, the first entity.
	e.commit(t, "other names", map[string]string{"apps/checkout/catalog-info.yaml": strings.Replace(file, "name: checkout\n", "name: shop-checkout\n", 1)})
	if c, err := inspect.ReadCatalog(context.Background(), e.cfg, e.snap(t), "checkout"); err != nil || c.Name != "checkout-worker" {
		t.Errorf("first component: %+v %v", c, err)
	}
	e.commit(t, "an API only", map[string]string{"apps/checkout/catalog-info.yaml": file[:strings.Index(file, "---")]})
	if c, err := inspect.ReadCatalog(context.Background(), e.cfg, e.snap(t), "checkout"); err != nil || c.Kind != "API" || c.Owner != "group:acme/api-guild" {
		t.Errorf("first entity: %+v %v", c, err)
	}
}

func TestCatalogCustomPath(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	cfg := strings.Replace(e.read(t, repoconfig.Path), "  catalog: apps/{service}/catalog-info.yaml", "  catalog: backstage/{service}.yaml", 1)
	e.commit(t, "catalog files elsewhere", map[string]string{
		repoconfig.Path:          cfg,
		"backstage/catalog.yaml": "kind: Component\nmetadata: {name: catalog}\nspec: {owner: group:acme/search}\n",
	})
	e.reloadConfig(t)
	c, err := inspect.ReadCatalog(context.Background(), e.cfg, e.snap(t), "catalog")
	if err != nil || c.Path != "backstage/catalog.yaml" || c.Owner != "group:acme/search" {
		t.Errorf("custom path: %+v %v", c, err)
	}
}

func TestCatalogMalformed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file string
		line       string
		says       string
	}{
		{"syntax", "kind: Component\nmetadata:\n  name: checkout\nspec: [\n", "line 4", "did not find expected node content"},
		{"tab indent", "kind: Component\nmetadata:\n\tname: checkout\n", "line 3", "tab"},
		{"owner list", "kind: Component\nmetadata:\n  name: checkout\nspec:\n  owner:\n    - a\n    - b\n", "line 6", "spec.owner must be a string, not a list"},
		{"dependsOn string", "kind: Component\nmetadata: {name: checkout}\nspec:\n  dependsOn: component:payments\n", "line 4", "spec.dependsOn must be a list"},
		{"dependsOn entry", "kind: Component\nmetadata: {name: checkout}\nspec:\n  dependsOn:\n    - component:a\n    - {name: b}\n", "line 6", "entity references"},
		{"not a mapping", "- kind: Component\n", "line 1", "not a list"},
		{"metadata list", "kind: Component\nmetadata:\n  - name\n", "line 3", "metadata must be a mapping"},
		{"second document", "kind: Component\nmetadata: {name: x}\n---\nkind: [\n", "line 4", "catalog-info.yaml"},
	}
	e := newExample(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.commit(t, c.name, map[string]string{"apps/checkout/catalog-info.yaml": c.file})
			got, err := inspect.ReadCatalog(context.Background(), e.cfg, e.snap(t), "checkout")
			if err == nil {
				t.Fatalf("parsed %+v", got)
			}
			msg := err.Error()
			if plan.ErrorCode(err) != plan.Broken || !strings.Contains(msg, "apps/checkout/catalog-info.yaml "+c.line) || !strings.Contains(msg, c.says) {
				t.Errorf("error %q (code %s) should name the file, %s and say %q", msg, plan.ErrorCode(err), c.line, c.says)
			}
		})
	}
	e.commit(t, "empty", map[string]string{"apps/checkout/catalog-info.yaml": "# nothing yet\n"})
	if _, err := inspect.ReadCatalog(context.Background(), e.cfg, e.snap(t), "checkout"); err == nil || !strings.Contains(err.Error(), "no entity") {
		t.Errorf("a file without entities: %v", err)
	}
}
