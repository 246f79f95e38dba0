package overlay

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/valid"
)

var update = flag.Bool("update", false, "rewrite the expected trees under testdata")

const (
	restartKey = "kubectl.kubernetes.io/restartedAt"
	suspendKey = "daytwo.dev/replicas-before-suspend"
	webImage   = "ghcr.io/acme/web"
	newDigest  = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
)

// goldenCase is one edit of testdata/<case>/input (an overlay of testdata/base mounted
// at overlay/, base at base/), compared with testdata/<case>/expected and then rendered.
type goldenCase struct {
	edit    func(t *testing.T, files map[string][]byte)
	check   func(t *testing.T, r *Rendered)
	changed []string // IDs (generator hashes removed) the rendered diff must name, sorted
}

func editFile(t *testing.T, files map[string][]byte, name string, fn func([]byte) ([]byte, error)) {
	t.Helper()
	out, err := fn(files[name])
	if err != nil {
		t.Fatalf("editing %s: %v", name, err)
	}
	files[name] = out
}

func setImage(name string, e ImageEdit) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) { return SetImage(b, name, e) }
}

func setReplicas(name string, n int) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) { return SetReplicas(b, name, n) }
}

func restart(name, ts string) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) {
		return SetPodTemplateAnnotation(b, "apps/v1", "Deployment", name, restartKey, ts)
	}
}

func ensurePatch(b []byte) ([]byte, error) { return EnsurePatch(b, "daytwo-patch.yaml") }

func checkImage(name, want string) func(t *testing.T, r *Rendered) {
	return func(t *testing.T, r *Rendered) {
		t.Helper()
		if got := field(t, mustFind(t, r, "Deployment", name), "spec", "template", "spec", "containers", "0", "image"); got != want {
			t.Errorf("image of %s = %q, want %q", name, got, want)
		}
	}
}

func checkReplicas(name, want string) func(t *testing.T, r *Rendered) {
	return func(t *testing.T, r *Rendered) {
		t.Helper()
		if got := field(t, mustFind(t, r, "Deployment", name), "spec", "replicas"); got != want {
			t.Errorf("replicas of %s = %q, want %q", name, got, want)
		}
	}
}

func checkPodAnnotation(name, key, want string) func(t *testing.T, r *Rendered) {
	return func(t *testing.T, r *Rendered) {
		t.Helper()
		if got := field(t, mustFind(t, r, "Deployment", name), "spec", "template", "metadata", "annotations", key); got != want {
			t.Errorf("pod template annotation %s of %s = %q, want %q", key, name, got, want)
		}
	}
}

func checkAll(checks ...func(t *testing.T, r *Rendered)) func(t *testing.T, r *Rendered) {
	return func(t *testing.T, r *Rendered) {
		t.Helper()
		for _, c := range checks {
			c(t, r)
		}
	}
}

// checkConfigMap asserts the generated web-config's data and that web refers to it by
// its hashed name.
func checkConfigMap(want map[string]string) func(t *testing.T, r *Rendered) {
	return func(t *testing.T, r *Rendered) {
		t.Helper()
		var cm *Resource
		for _, res := range r.Resources() {
			if res.Kind == "ConfigMap" && strings.HasPrefix(res.Name, "web-config-") {
				cm = &res
				break
			}
		}
		if cm == nil {
			t.Fatal("no generated web-config ConfigMap")
		}
		if got := cm.Node.GetDataMap(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s data = %v, want %v", cm.ID(), got, want)
		}
		ref := field(t, mustFind(t, r, "Deployment", "web"), "spec", "template", "spec", "containers", "0", "envFrom", "0", "configMapRef", "name")
		if ref != cm.Name {
			t.Errorf("web refers to ConfigMap %q, want the generated %q", ref, cm.Name)
		}
	}
}

var goldenCases = map[string]goldenCase{
	"image-tag-indented": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "kustomization.yaml", setImage(webImage, ImageEdit{NewTag: "1.4.2"}))
		},
		check:   checkAll(checkImage("web", "ghcr.io/acme/web:1.4.2"), checkImage("worker", "ghcr.io/acme/worker:1.0.3")),
		changed: []string{"Deployment/web-prod/web"},
	},
	"image-tag-compact": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "kustomization.yaml", setImage(webImage, ImageEdit{NewTag: "1.4.2"}))
		},
		check:   checkAll(checkImage("web", "ghcr.io/acme/web:1.4.2"), checkImage("worker", "ghcr.io/acme/worker:2.0")),
		changed: []string{"Deployment/web"},
	},
	"image-digest": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "kustomization.yaml", setImage(webImage, ImageEdit{Digest: newDigest}))
		},
		check:   checkImage("web", "ghcr.io/acme/web@"+newDigest),
		changed: []string{"Deployment/web"},
	},
	"image-newname-tag": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "kustomization.yaml", setImage(webImage, ImageEdit{NewName: "mirror.example.com/acme/web", NewTag: "1.4.2"}))
		},
		check:   checkImage("web", "mirror.example.com/acme/web:1.4.2"),
		changed: []string{"Deployment/web"},
	},
	"replicas-new": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "kustomization.yaml", setReplicas("web", 5))
		},
		check:   checkAll(checkReplicas("web", "5"), checkReplicas("worker", "1")),
		changed: []string{"Deployment/web"},
	},
	"replicas-existing": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "kustomization.yaml", setReplicas("web", 5))
		},
		check:   checkAll(checkReplicas("web", "5"), checkReplicas("worker", "1")),
		changed: []string{"Deployment/web"},
	},
	"replicas-four-space": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "kustomization.yaml", setReplicas("web", 5))
		},
		check:   checkAll(checkReplicas("web", "5"), checkReplicas("worker", "2")),
		changed: []string{"Deployment/web"},
	},
	"literals-edit": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "kustomization.yaml", func(b []byte) ([]byte, error) {
				return SetLiterals(b, "web-config", []valid.KeyValue{{Key: "LOG_LEVEL", Value: "error"}, {Key: "GREETING", Value: "hello: world"}}, []string{"OLD_FLAG"})
			})
		},
		check: checkConfigMap(map[string]string{
			"LOG_LEVEL": "error", "FEATURE_X": "off", "TIMEOUT": "30s", "GREETING": "hello: world",
		}),
		changed: []string{"ConfigMap/web-config", "Deployment/web"},
	},
	"literals-generator-missing": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "kustomization.yaml", func(b []byte) ([]byte, error) {
				return SetLiterals(b, "web-config", []valid.KeyValue{{Key: "LOG_LEVEL", Value: "debug"}}, nil)
			})
		},
		check:   checkConfigMap(map[string]string{"LOG_LEVEL": "debug", "FEATURE_X": "off"}),
		changed: []string{"ConfigMap/web-config", "Deployment/web"},
	},
	"restart-new-file": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "daytwo-patch.yaml", restart("web", "2024-06-01T12:00:00Z"))
			editFile(t, f, "kustomization.yaml", ensurePatch)
		},
		check: checkAll(
			checkPodAnnotation("web", restartKey, "2024-06-01T12:00:00Z"),
			checkPodAnnotation("worker", restartKey, ""),
			func(t *testing.T, r *Rendered) {
				if got := field(t, mustFind(t, r, "Deployment", "web"), "spec", "template", "spec", "containers", "0", "resources", "limits", "memory"); got != "512Mi" {
					t.Errorf("the hand-written patch no longer applies: memory limit %q", got)
				}
			}),
		changed: []string{"Deployment/web"},
	},
	"restart-existing-file": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "daytwo-patch.yaml", restart("web", "2024-06-01T12:00:00Z"))
			editFile(t, f, "kustomization.yaml", ensurePatch)
		},
		check: checkAll(
			checkPodAnnotation("web", restartKey, "2024-06-01T12:00:00Z"),
			checkPodAnnotation("web", "team", "web"),
			checkPodAnnotation("worker", restartKey, "2024-04-01T08:00:00Z")),
		changed: []string{"Deployment/web"},
	},
	"restart-second-workload": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "daytwo-patch.yaml", restart("worker", "2024-06-01T12:00:00Z"))
			editFile(t, f, "kustomization.yaml", ensurePatch)
		},
		check: checkAll(
			checkPodAnnotation("web", restartKey, "2024-05-01T10:00:00Z"),
			checkPodAnnotation("worker", restartKey, "2024-06-01T12:00:00Z")),
		changed: []string{"Deployment/worker"},
	},
	"workload-annotation-set": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "daytwo-patch.yaml", func(b []byte) ([]byte, error) {
				return SetWorkloadAnnotation(b, "apps/v1", "Deployment", "web", suspendKey, "4")
			})
			editFile(t, f, "kustomization.yaml", setReplicas("web", 0))
		},
		check: checkAll(
			checkReplicas("web", "0"),
			checkPodAnnotation("web", restartKey, "2024-05-01T10:00:00Z"),
			func(t *testing.T, r *Rendered) {
				if got := mustFind(t, r, "Deployment", "web").Node.GetAnnotations()[suspendKey]; got != "4" {
					t.Errorf("annotation %s = %q, want 4", suspendKey, got)
				}
			}),
		changed: []string{"Deployment/web"},
	},
	"workload-annotation-remove": {
		edit: func(t *testing.T, f map[string][]byte) {
			editFile(t, f, "daytwo-patch.yaml", func(b []byte) ([]byte, error) {
				return RemoveWorkloadAnnotation(b, "apps/v1", "Deployment", "web", suspendKey)
			})
			editFile(t, f, "kustomization.yaml", setReplicas("web", 4))
		},
		check: checkAll(
			checkReplicas("web", "4"),
			checkPodAnnotation("web", restartKey, "2024-05-01T10:00:00Z"),
			func(t *testing.T, r *Rendered) {
				if got, ok := mustFind(t, r, "Deployment", "web").Node.GetAnnotations()[suspendKey]; ok {
					t.Errorf("annotation %s still set to %q", suspendKey, got)
				}
			}),
		changed: []string{"Deployment/web"},
	},
}

var hashSuffix = regexp.MustCompile(`-[a-z0-9]{10}$`)

func TestGolden(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	// Every directory with an input/ is a case and must have an edit.
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join("testdata", e.Name(), "input")); err == nil {
			if _, ok := goldenCases[e.Name()]; !ok {
				t.Errorf("testdata/%s has no entry in goldenCases", e.Name())
			}
		}
	}
	base := readTree(t, filepath.Join("testdata", "base"))
	for name, tc := range goldenCases {
		t.Run(name, func(t *testing.T) {
			input := readTree(t, filepath.Join("testdata", name, "input"))
			got := map[string][]byte{}
			for p, b := range input {
				got[p] = b
			}
			tc.edit(t, got)
			for p, b := range got {
				if b == nil {
					delete(got, p)
				}
			}
			expectedDir := filepath.Join("testdata", name, "expected")
			if *update {
				writeTree(t, expectedDir, got)
			}
			compareTrees(t, got, readTree(t, expectedDir))

			before := renderFiles(t, base, input)
			after := renderFiles(t, base, got)
			tc.check(t, after)

			d := Diff(before, after)
			var ids []string
			for _, id := range diffIDs(d) {
				ids = append(ids, hashSuffix.ReplaceAllString(id, ""))
			}
			ids = dedupe(ids)
			if !reflect.DeepEqual(ids, tc.changed) {
				t.Errorf("rendered diff names %v, want %v:\n%s", ids, tc.changed, d)
			}
		})
	}
}

func dedupe(xs []string) []string {
	var out []string
	for i, x := range xs {
		if i == 0 || xs[i-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// renderFiles loads and renders an overlay mounted at overlay/ over base/.
func renderFiles(t *testing.T, base, overlay map[string][]byte) *Rendered {
	t.Helper()
	r := newRepo(nil)
	r.add("base", base)
	r.add("overlay", overlay)
	tree, err := Load(context.Background(), r, "overlay")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	out, err := tree.Render()
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return out
}
