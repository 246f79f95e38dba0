package overlay

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/valid"
	"github.com/daytwo-dev/daytwo/internal/yamledit"
)

// FuzzEditKustomization runs arbitrary bytes through every edit. No edit may panic; when
// one succeeds its output must parse, read back the value just set, and a repeat of the
// edit must change nothing.
func FuzzEditKustomization(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "input", "*.yaml"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, "1.4.2", 3)
		}
	}
	f.Add([]byte("images:\n- name: ghcr.io/acme/web\n  newTag: 1\n"), "v2", 0)
	f.Add([]byte("replicas: [{name: web, count: x}]\n"), "x", 1)
	f.Add([]byte("configMapGenerator:\n- name: cfg\n  literals: [A=1, \"B='2'\"]\n"), `"q"`, 2)
	f.Add([]byte("a: &x [1]\nimages: *x\n"), "", 5)
	f.Add([]byte(billionLaughs), "z", 7)
	f.Add([]byte("resources:\r\n  - ../b\r\n\r\nreplicas:\r\n  - name: web\r\n    count: 1\r\n"), "crlf", 4)
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: null}\n"), "now", 9)

	f.Fuzz(func(t *testing.T, in []byte, s string, n int) {
		check := func(what string, out []byte, err error, readBack func(out []byte) bool, again func(out []byte) ([]byte, error)) {
			t.Helper()
			if err != nil {
				return
			}
			if _, perr := yamledit.Parse(out); perr != nil {
				t.Fatalf("%s: output does not parse: %v\ninput:\n%s\noutput:\n%s", what, perr, in, out)
			}
			if !readBack(out) {
				t.Fatalf("%s: value does not read back\ninput:\n%s\noutput:\n%s", what, in, out)
			}
			out2, err := again(out)
			if err != nil || string(out2) != string(out) {
				t.Fatalf("%s: repeating the edit changed the file (err %v)\n%s", what, err, FileDiff("k", out, out2))
			}
		}

		img := ImageEdit{NewTag: s}
		if n%2 == 1 {
			img = ImageEdit{NewName: "mirror.io/" + s}
		}
		out, err := SetImage(in, webImage, img)
		check("SetImage", out, err, func(out []byte) bool {
			got, found, err := GetImage(out, webImage)
			if err != nil || !found {
				return false
			}
			return (img.NewTag == "" || got.NewTag == img.NewTag) && (img.NewName == "" || got.NewName == img.NewName)
		}, func(out []byte) ([]byte, error) { return SetImage(out, webImage, img) })

		count := n % 1000
		if count < 0 {
			count = -count
		}
		out, err = SetReplicas(in, "web", count)
		check("SetReplicas", out, err, func(out []byte) bool {
			got, found, err := getReplicas(out, "web")
			return err == nil && found && got == count
		}, func(out []byte) ([]byte, error) { return SetReplicas(out, "web", count) })

		set := []valid.KeyValue{{Key: "FUZZ", Value: s}}
		out, err = SetLiterals(in, "cfg", set, []string{"A"})
		check("SetLiterals", out, err, func(out []byte) bool {
			got, found, err := GetLiterals(out, "cfg")
			if err != nil || !found {
				return false
			}
			seen := false
			for _, kv := range got {
				switch kv.Key {
				case "A":
					return false
				case "FUZZ":
					if !reflect.DeepEqual(kv, set[0]) {
						return false
					}
					seen = true
				}
			}
			return seen
		}, func(out []byte) ([]byte, error) { return SetLiterals(out, "cfg", set, []string{"A"}) })

		out, err = EnsurePatch(in, "daytwo-patch.yaml")
		check("EnsurePatch", out, err, func(out []byte) bool {
			k, err := parseKust(out)
			if err != nil {
				return false
			}
			l, err := list(k.root, "patches")
			if err != nil {
				return false
			}
			e, err := element(l, "path", "daytwo-patch.yaml")
			if e != nil && err == nil {
				return true
			}
			l, err = list(k.root, "patchesStrategicMerge")
			return err == nil && l != nil
		}, func(out []byte) ([]byte, error) { return EnsurePatch(out, "daytwo-patch.yaml") })

		out, err = SetPodTemplateAnnotation(in, "apps/v1", "Deployment", "web", restartKey, s)
		check("SetPodTemplateAnnotation", out, err, func(out []byte) bool {
			v, ok, err := getPodTemplateAnnotation(out, "apps/v1", "Deployment", "web", restartKey)
			return err == nil && ok && v == s
		}, func(out []byte) ([]byte, error) {
			return SetPodTemplateAnnotation(out, "apps/v1", "Deployment", "web", restartKey, s)
		})

		out, err = SetWorkloadAnnotation(in, "apps/v1", "Deployment", "web", suspendKey, s)
		check("SetWorkloadAnnotation", out, err, func(out []byte) bool {
			v, ok, err := getWorkloadAnnotation(out, "apps/v1", "Deployment", "web", suspendKey)
			return err == nil && ok && v == s
		}, func(out []byte) ([]byte, error) {
			return SetWorkloadAnnotation(out, "apps/v1", "Deployment", "web", suspendKey, s)
		})

		out, err = RemoveWorkloadAnnotation(in, "apps/v1", "Deployment", "web", suspendKey)
		check("RemoveWorkloadAnnotation", out, err, func(out []byte) bool {
			_, ok, err := getWorkloadAnnotation(out, "apps/v1", "Deployment", "web", suspendKey)
			return err == nil && !ok
		}, func(out []byte) ([]byte, error) {
			return RemoveWorkloadAnnotation(out, "apps/v1", "Deployment", "web", suspendKey)
		})
	})
}
