package overlay

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"sync"
	"testing"
)

func loadFiles(t *testing.T, files map[string]string, dir string) *Tree {
	t.Helper()
	tree, err := Load(context.Background(), newRepo(files), dir)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func TestRenderErrorSurfacesKrustyMessage(t *testing.T) {
	tree := loadFiles(t, map[string]string{
		"o/kustomization.yaml": "resources:\n  - d.yaml\npatches:\n  - path: p.yaml\n",
		"o/d.yaml":             deployment("d", "x:1"),
		"o/p.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: missing\nspec:\n  replicas: 2\n",
	}, "o")
	_, err := tree.Render()
	if err == nil {
		t.Fatal("render of a patch without target succeeded")
	}
	wantMsg(t, err, "kustomize build o", "no matches for Id Deployment.v1.apps/missing")
}

func TestRenderInvalidKustomizationFails(t *testing.T) {
	tree := loadFiles(t, map[string]string{
		"o/kustomization.yaml": "resources:\n  - d.yaml\nreplicas:\n  - name: d\n    count: not-a-number\n",
		"o/d.yaml":             deployment("d", "x:1"),
	}, "o")
	if _, err := tree.Render(); err == nil {
		t.Fatal("render of an invalid kustomization succeeded")
	}
}

func TestWith(t *testing.T) {
	files := map[string]string{
		"o/kustomization.yaml": "resources:\n  - d.yaml\n",
		"o/d.yaml":             deployment("d", "x:1"),
	}
	tree := loadFiles(t, files, "o")
	kust, _ := tree.File("o/kustomization.yaml")
	kust2, err := SetReplicas(kust, "d", 7)
	if err != nil {
		t.Fatal(err)
	}
	kust2, err = EnsurePatch(kust2, "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	patch, err := SetPodTemplateAnnotation(nil, "apps/v1", "Deployment", "d", restartKey, "now")
	if err != nil {
		t.Fatal(err)
	}
	changed := tree.With(map[string][]byte{"o/kustomization.yaml": kust2, "o/p.yaml": patch})
	if b, _ := tree.File("o/kustomization.yaml"); !bytes.Equal(b, kust) {
		t.Error("With changed the original tree")
	}
	if _, ok := tree.File("o/p.yaml"); ok {
		t.Error("With added to the original tree")
	}
	if got, want := changed.Paths(), []string{"o/d.yaml", "o/kustomization.yaml", "o/p.yaml"}; !equalStrings(got, want) {
		t.Errorf("Paths() = %q, want %q", got, want)
	}
	before, err := tree.Render()
	if err != nil {
		t.Fatal(err)
	}
	after, err := changed.Render()
	if err != nil {
		t.Fatal(err)
	}
	d := mustFind(t, after, "Deployment", "d")
	if field(t, d, "spec", "replicas") != "7" || field(t, d, "spec", "template", "metadata", "annotations", restartKey) != "now" {
		t.Errorf("edits not rendered:\n%s", renderedYAML(after))
	}
	if field(t, mustFind(t, before, "Deployment", "d"), "spec", "replicas") != "1" {
		t.Error("the earlier render changed")
	}

	// Deleting a referenced file is caught with the name of the file.
	_, err = changed.With(map[string][]byte{"o/p.yaml": nil}).Render()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("want fs.ErrNotExist, got %v", err)
	}
	wantMsg(t, err, "o/kustomization.yaml line", "o/p.yaml does not exist")

	// Content added by With is held to Load's rules.
	remote := []byte("resources:\n  - d.yaml\n  - https://example.com/x.yaml\n")
	_, err = tree.With(map[string][]byte{"o/kustomization.yaml": remote}).Render()
	wantMsg(t, err, "remote references are not supported")
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRenderRecoversFromKustomizePanics(t *testing.T) {
	// kustomize panics on an OpenAPI schema it cannot parse.
	bad := loadFiles(t, map[string]string{
		"o/kustomization.yaml": "resources:\n  - d.yaml\nopenapi:\n  path: schema.json\npatches:\n  - path: p.yaml\n",
		"o/d.yaml":             deployment("d", "x:1"),
		"o/p.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 2\n",
		"o/schema.json":        "{\"definitions\": 42}",
	}, "o")
	if got, ok := bad.File("o/schema.json"); !ok || len(got) == 0 {
		t.Fatal("openapi.path not loaded")
	}
	_, err := bad.Render()
	if err == nil {
		t.Fatal("render with a broken schema succeeded")
	}
	wantMsg(t, err, "kustomize failed on this overlay", "invalid schema file")
	// Later renders use the built-in schema again: containers merge by name.
	good := loadFiles(t, map[string]string{
		"o/kustomization.yaml": "resources:\n  - d.yaml\npatches:\n  - path: p.yaml\n",
		"o/d.yaml":             deployment("d", "x:1"),
		"o/p.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n        - name: sidecar\n          image: s:1\n",
	}, "o")
	out, err := good.Render()
	if err != nil {
		t.Fatal(err)
	}
	d := mustFind(t, out, "Deployment", "d")
	if field(t, d, "spec", "template", "spec", "containers", "[name=d]", "image") != "x:1" ||
		field(t, d, "spec", "template", "spec", "containers", "[name=sidecar]", "image") != "s:1" {
		t.Errorf("containers were not merged by name:\n%s", renderedYAML(out))
	}
}

func TestRenderConcurrent(t *testing.T) {
	tree := loadFiles(t, appsLayout("checkout", "payments"), "apps/checkout/overlays/prod")
	want, err := tree.Render()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := tree.Render()
			if err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(renderedYAML(got), renderedYAML(want)) {
				errs <- errors.New("renders differ")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRenderLoadRestrictions(t *testing.T) {
	tree := loadFiles(t, map[string]string{
		"o/kustomization.yaml": "resources:\n  - d.yaml\n  - ../common/ns.yaml\n",
		"o/d.yaml":             deployment("d", "x:1"),
		"common/ns.yaml":       "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
	}, "o")
	_, err := tree.Render()
	if err == nil {
		t.Fatal("a file outside the kustomization's directory rendered with the default restrictions")
	}
	wantMsg(t, err, "common/ns.yaml")
	out, err := tree.RenderWith(RenderOptions{LoadRestrictionsNone: true})
	if err != nil {
		t.Fatal(err)
	}
	mustFind(t, out, "Namespace", "shop")
}

// Removing the last annotation leaves a document naming only its workload; kustomize
// applies it as a no-op.
func TestRenderIdentityOnlyPatch(t *testing.T) {
	p, err := SetWorkloadAnnotation(nil, "apps/v1", "Deployment", "d", suspendKey, "3")
	if err != nil {
		t.Fatal(err)
	}
	if p, err = RemoveWorkloadAnnotation(p, "apps/v1", "Deployment", "d", suspendKey); err != nil {
		t.Fatal(err)
	}
	if want := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"; string(p) != want {
		t.Fatalf("patch = %q, want %q", p, want)
	}
	files := map[string]string{
		"o/kustomization.yaml": "resources:\n  - d.yaml\n",
		"o/d.yaml":             deployment("d", "x:1"),
	}
	before := render(t, files)
	files["o/kustomization.yaml"] += "patches:\n  - path: p.yaml\n"
	files["o/p.yaml"] = string(p)
	after := render(t, files)
	if d := Diff(before, after); d != "" {
		t.Errorf("an identity-only patch changed the render:\n%s", d)
	}
}
