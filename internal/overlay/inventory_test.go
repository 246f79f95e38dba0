package overlay

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func inspect(t *testing.T, files map[string]string, dir string) Inventory {
	t.Helper()
	tree := loadFiles(t, files, dir)
	r, err := tree.Render()
	if err != nil {
		t.Fatal(err)
	}
	return Inspect(tree, r)
}

const podWithSidecar = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: registry.example.com/acme/api:0.0.0
          envFrom:
            - configMapRef: {name: api-settings}
          env:
            - name: FLAG
              valueFrom:
                configMapKeyRef: {name: flags, key: flag}
        - name: log-shipper
          image: fluent/fluent-bit:3.1.9
      volumes:
        - name: static
          configMap: {name: static-files}
`

// TestInspectFollowsKustomize: names, images and generated ConfigMaps are read as kustomize
// rendered them (prefix, new tag, new name, hash suffix) and traced back to what the
// kustomizations call them.
func TestInspectFollowsKustomize(t *testing.T) {
	inv := inspect(t, map[string]string{
		"base/kustomization.yaml": `resources: [deployment.yaml, static.yaml]
configMapGenerator:
  - name: api-settings
    literals: [LOG_LEVEL=info]
  - name: flags
    literals: [flag=on]
`,
		"base/deployment.yaml": podWithSidecar,
		// A ConfigMap written by hand is no generator's.
		"base/static.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: static-files\ndata:\n  a: b\n",
		"envs/prod/kustomization.yaml": `namespace: prod
namePrefix: prod-
resources: [../../base]
images:
  - name: registry.example.com/acme/api
    newName: mirror.example.com/api
    newTag: 1.2.3
configMapGenerator:
  - name: api-settings
    behavior: merge
    literals: [LOG_LEVEL=warn]
`,
	}, "envs/prod")

	if len(inv.Workloads) != 1 {
		t.Fatalf("workloads %+v", inv.Workloads)
	}
	w := inv.Workloads[0]
	if w.Kind != "Deployment" || w.Name != "prod-api" || w.Namespace != "prod" || w.ID() != "Deployment/prod-api" {
		t.Errorf("workload %+v", w)
	}
	want := []Container{
		{Name: "api", Image: "mirror.example.com/api:1.2.3", ImageName: "registry.example.com/acme/api"},
		{Name: "log-shipper", Image: "fluent/fluent-bit:3.1.9", ImageName: "fluent/fluent-bit"},
	}
	if !reflect.DeepEqual(w.Containers, want) {
		t.Errorf("containers %+v, want %+v", w.Containers, want)
	}
	if !reflect.DeepEqual(w.ConfigMaps, []string{"api-settings", "flags"}) {
		t.Errorf("the pod uses generators %v, want api-settings and flags (static-files is not generated)", w.ConfigMaps)
	}
	var gens []string
	for _, cm := range inv.ConfigMaps {
		gens = append(gens, cm.Generator)
		if !strings.HasPrefix(cm.Name, "prod-"+cm.Generator+"-") {
			t.Errorf("generated %s rendered as %s", cm.Generator, cm.Name)
		}
	}
	if strings.Join(gens, ",") != "api-settings,flags" {
		t.Errorf("generated ConfigMaps %v", inv.ConfigMaps)
	}
	if !w.Runs("registry.example.com/acme/api") || !w.Runs("mirror.example.com/api") || w.Runs("registry.example.com/acme/other") {
		t.Error("Runs must know the image by its images[].name and by its rendered name, and nothing else")
	}
}

// TestInspectHashlessGenerator: a generator without the hash suffix is still found, and
// the longest generator name wins over one it contains.
func TestInspectHashlessGenerator(t *testing.T) {
	inv := inspect(t, map[string]string{
		"o/kustomization.yaml": `resources: [d.yaml]
generatorOptions: {disableNameSuffixHash: true}
configMapGenerator:
  - name: api
    literals: [a=b]
  - name: api-settings
    literals: [c=d]
`,
		"o/d.yaml": deployment("api", "x:1"),
	}, "o")
	got := map[string]string{}
	for _, cm := range inv.ConfigMaps {
		got[cm.Name] = cm.Generator
	}
	if !reflect.DeepEqual(got, map[string]string{"api": "api", "api-settings": "api-settings"}) {
		t.Errorf("generated %v", got)
	}
}

func TestChoose(t *testing.T) {
	two := inspect(t, map[string]string{
		"o/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
		"o/a.yaml":             deployment("payments-api", "ghcr.io/acme/payments:1"),
		"o/b.yaml":             deployment("payments-worker", "ghcr.io/acme/payments:1"),
	}, "o")
	if _, cands, ok := two.Choose("payments", "ghcr.io/acme/payments"); ok || len(cands) != 2 {
		t.Errorf("two Deployments of one image, neither named after the service: want no choice and both candidates, got %v %v", ok, cands)
	}
	if w, _, ok := two.Choose("payments-worker", "ghcr.io/acme/payments"); !ok || w.Name != "payments-worker" {
		t.Errorf("the one named after the service: %+v %v", w, ok)
	}

	mixed := inspect(t, map[string]string{
		"o/kustomization.yaml": "resources: [a.yaml, b.yaml, rs.yaml]\n",
		"o/a.yaml":             deployment("web", "ghcr.io/acme/web:1"),
		"o/b.yaml":             deployment("redis", "redis:7"),
		// A bare ReplicaSet is a workload of the render, but not one commands act on.
		"o/rs.yaml": strings.Replace(deployment("legacy", "ghcr.io/acme/web:0"), "kind: Deployment", "kind: ReplicaSet", 1),
	}, "o")
	if len(mixed.Workloads) != 3 {
		t.Fatalf("workloads %+v", mixed.Workloads)
	}
	if w, _, ok := mixed.Choose("shop", "ghcr.io/acme/web"); !ok || w.Name != "web" {
		t.Errorf("the only Deployment running the image (the ReplicaSet does not count): %+v %v", w, ok)
	}
	if _, cands, ok := mixed.Choose("shop", ""); ok || len(cands) != 2 {
		t.Errorf("without a name or image that decides: %v %+v", ok, cands)
	}

	one := inspect(t, map[string]string{
		"o/kustomization.yaml": "resources: [s.yaml]\n",
		"o/s.yaml":             strings.Replace(deployment("db", "postgres:16"), "kind: Deployment", "kind: StatefulSet", 1),
	}, "o")
	if w, _, ok := one.Choose("anything", "other"); !ok || w.ID() != "StatefulSet/db" {
		t.Errorf("the only workload is the answer: %+v %v", w, ok)
	}
}

// TestInspectExamples runs on the bundled example repositories, whose configs say what
// the answer is.
func TestInspectExamples(t *testing.T) {
	read := func(root, dir string) Inventory {
		t.Helper()
		files := map[string]string{}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			files[filepath.ToSlash(rel)] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		tree, err := Load(context.Background(), newRepo(files), dir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := tree.Render()
		if err != nil {
			t.Fatal(err)
		}
		return Inspect(tree, r)
	}
	api := read("../../examples/envs-layout", "envs/prod/api")
	w, _, ok := api.Choose("api", "")
	if !ok || w.ID() != "Deployment/api" || len(w.Containers) != 2 || w.Containers[0].ImageName != "registry.example.com/acme/api" ||
		!reflect.DeepEqual(w.ConfigMaps, []string{"api-settings"}) {
		t.Errorf("envs-layout api in prod: %+v", w)
	}
	pay := read("../../examples/gitops", "apps/payments/overlays/prod")
	if _, cands, ok := pay.Choose("payments", "ghcr.io/acme/payments"); ok || len(cands) != 2 {
		t.Errorf("payments runs two Deployments of one image: %v %+v", ok, cands)
	}
}
