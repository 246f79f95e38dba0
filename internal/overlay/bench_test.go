package overlay

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/valid"
)

// BenchmarkLoadRender loads and renders one overlay of repositories of 10 and 1,000
// services: the cost must not grow with the repository.
func BenchmarkLoadRender(b *testing.B) {
	for _, layout := range []struct {
		name  string
		files func(...string) map[string]string
		dir   string
	}{
		{"apps", appsLayout, "apps/checkout/overlays/prod"},
		{"envs", envsLayout, "envs/prod/checkout"},
	} {
		for _, n := range []int{10, 1000} {
			r := newRepo(layout.files(serviceNames(n)...))
			b.Run(fmt.Sprintf("%s/services=%d", layout.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					tree, err := Load(context.Background(), r, layout.dir)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tree.Render(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func benchInput(b *testing.B, name string) []byte {
	b.Helper()
	in, err := os.ReadFile(filepath.Join("testdata", name, "input", "kustomization.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	return in
}

func benchEdit(b *testing.B, in []byte, edit func([]byte) ([]byte, error)) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := edit(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEditImage(b *testing.B) {
	in := benchInput(b, "image-tag-indented")
	benchEdit(b, in, func(k []byte) ([]byte, error) { return SetImage(k, webImage, ImageEdit{NewTag: "1.4.2"}) })
}

func BenchmarkEditReplicas(b *testing.B) {
	in := benchInput(b, "replicas-existing")
	benchEdit(b, in, func(k []byte) ([]byte, error) { return SetReplicas(k, "web", 5) })
}

func BenchmarkEditLiterals(b *testing.B) {
	in := benchInput(b, "literals-edit")
	benchEdit(b, in, func(k []byte) ([]byte, error) {
		return SetLiterals(k, "web-config", []valid.KeyValue{{Key: "LOG_LEVEL", Value: "error"}}, []string{"OLD_FLAG"})
	})
}

func BenchmarkEditPodTemplateAnnotation(b *testing.B) {
	in, err := os.ReadFile(filepath.Join("testdata", "restart-existing-file", "input", "daytwo-patch.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	benchEdit(b, in, func(p []byte) ([]byte, error) {
		return SetPodTemplateAnnotation(p, "apps/v1", "Deployment", "web", restartKey, "2024-06-01T12:00:00Z")
	})
}

func BenchmarkDiff(b *testing.B) {
	r := newRepo(appsLayout("checkout"))
	tree, err := Load(context.Background(), r, "apps/checkout/overlays/prod")
	if err != nil {
		b.Fatal(err)
	}
	before, err := tree.Render()
	if err != nil {
		b.Fatal(err)
	}
	kp, _ := tree.KustomizationPath(tree.Dir())
	k, _ := tree.File(kp)
	k2, err := SetReplicas(k, "checkout", 9)
	if err != nil {
		b.Fatal(err)
	}
	after, err := tree.With(map[string][]byte{kp: k2}).Render()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if Diff(before, after) == "" {
			b.Fatal("no diff")
		}
	}
}
