package overlay

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/valid"
)

// renderKust renders a kustomization (in o/) over one Deployment "web" in b/.
func renderKust(t *testing.T, kust []byte, extra map[string]string) *Rendered {
	t.Helper()
	files := map[string]string{
		"b/kustomization.yaml": "resources:\n  - web.yaml\nconfigMapGenerator:\n  - name: cfg\n    literals:\n      - BASE=1\n",
		"b/web.yaml":           deployment("web", "ghcr.io/acme/web:1.0.0"),
		"o/kustomization.yaml": string(kust),
	}
	for p, c := range extra {
		files[p] = c
	}
	tree, err := Load(context.Background(), newRepo(files), "o")
	if err != nil {
		t.Fatal(err)
	}
	out, err := tree.Render()
	if err != nil {
		t.Fatalf("render: %v\n%s", err, kust)
	}
	return out
}

func mustEdit(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func TestImageEdits(t *testing.T) {
	const base = "resources:\n  - ../b\n"
	k := []byte(base)
	if _, found, err := GetImage(k, webImage); err != nil || found {
		t.Fatalf("GetImage on no images = %v, %v", found, err)
	}
	steps := []struct {
		set  ImageEdit
		want ImageEdit
		ref  string
	}{
		{ImageEdit{NewTag: "1.10"}, ImageEdit{NewTag: "1.10"}, "ghcr.io/acme/web:1.10"},
		{ImageEdit{Digest: newDigest}, ImageEdit{Digest: newDigest}, "ghcr.io/acme/web@" + newDigest},
		{ImageEdit{NewName: "mirror.io/web"}, ImageEdit{NewName: "mirror.io/web", Digest: newDigest}, "mirror.io/web@" + newDigest},
		{ImageEdit{NewTag: "yes"}, ImageEdit{NewName: "mirror.io/web", NewTag: "yes"}, "mirror.io/web:yes"},
		{ImageEdit{NewTag: "2", Digest: newDigest}, ImageEdit{NewName: "mirror.io/web", NewTag: "2", Digest: newDigest}, "mirror.io/web:2@" + newDigest},
	}
	for _, s := range steps {
		k = mustEdit(t)(SetImage(k, webImage, s.set))
		got, found, err := GetImage(k, webImage)
		if err != nil || !found || got != s.want {
			t.Fatalf("after SetImage(%+v): GetImage = %+v, %v, %v; want %+v\n%s", s.set, got, found, err, s.want, k)
		}
		img := field(t, mustFind(t, renderKust(t, k, nil), "Deployment", "web"), "spec", "template", "spec", "containers", "0", "image")
		if img != s.ref {
			t.Errorf("after SetImage(%+v): rendered image %q, want %q\n%s", s.set, img, s.ref, k)
		}
	}
	// Setting what is already set changes nothing, byte for byte.
	again := mustEdit(t)(SetImage(k, webImage, ImageEdit{NewTag: "2", Digest: newDigest}))
	if !bytes.Equal(again, k) {
		t.Errorf("a no-op edit rewrote the file:\n%s", FileDiff("k", k, again))
	}
}

func TestImageEditDeprecatedImageTags(t *testing.T) {
	k := []byte("resources: [../b]\nimageTags:\n  - name: ghcr.io/acme/web\n    newTag: \"1.0\"\n")
	out := mustEdit(t)(SetImage(k, webImage, ImageEdit{NewTag: "1.1"}))
	if strings.Contains(string(out), "images:") {
		t.Errorf("added an images list beside imageTags:\n%s", out)
	}
	if got, _, _ := GetImage(out, webImage); got.NewTag != "1.1" {
		t.Errorf("tag = %q", got.NewTag)
	}
}

func TestEditRefusals(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"bad tag", func() error { _, err := SetImage(nil, webImage, ImageEdit{NewTag: "1.0 beta"}); return err }(), "not a valid tag"},
		{"bad digest", func() error { _, err := SetImage(nil, webImage, ImageEdit{Digest: "md5"}); return err }(), "must be sha256"},
		{"bad name", func() error { _, err := SetImage(nil, "web image", ImageEdit{NewTag: "1"}); return err }(), `image name "web image" is not valid`},
		{"nothing", func() error { _, err := SetImage(nil, webImage, ImageEdit{}); return err }(), "nothing to set"},
		{"images a mapping", func() error {
			_, err := SetImage([]byte("resources: []\nimages:\n  web: x\n"), webImage, ImageEdit{NewTag: "1"})
			return err
		}(), "line 3: images must be a list, not a mapping"},
		{"images entry a string", func() error {
			_, _, err := GetImage([]byte("images:\n  - web\n"), webImage)
			return err
		}(), "line 2: list entries must be mappings"},
		{"two documents", func() error { _, err := SetReplicas([]byte("a: 1\n---\nb: 2\n"), "web", 1); return err }(), "2 YAML documents"},
		{"not a mapping", func() error { _, err := SetReplicas([]byte("- a\n"), "web", 1); return err }(), "line 1: a kustomization must be a mapping, not a list"},
		{"invalid YAML", func() error { _, err := SetReplicas([]byte("a: [\n"), "web", 1); return err }(), "line 1: did not find expected node content"},
		{"negative replicas", func() error { _, err := SetReplicas(nil, "web", -1); return err }(), "negative"},
		{"count not a number", func() error {
			_, _, err := getReplicas([]byte("replicas:\n  - name: web\n    count: many\n"), "web")
			return err
		}(), `line 3: replicas count "many" of web is not a whole number`},
		{"literal key", func() error {
			_, err := SetLiterals(nil, "cfg", []valid.KeyValue{{Key: "A B", Value: "x"}}, nil)
			return err
		}(), "may only contain"},
		{"set and unset", func() error {
			_, err := SetLiterals(nil, "cfg", []valid.KeyValue{{Key: "A", Value: "x"}}, []string{"A"})
			return err
		}(), "both set and removed"},
		{"set twice", func() error {
			_, err := SetLiterals(nil, "cfg", []valid.KeyValue{{Key: "A", Value: "x"}, {Key: "A", Value: "y"}}, nil)
			return err
		}(), "set twice"},
		{"literal not key=value", func() error {
			_, _, err := GetLiterals([]byte("configMapGenerator:\n  - name: cfg\n    literals:\n      - JUSTKEY\n"), "cfg")
			return err
		}(), `line 4: literal "JUSTKEY" of cfg is not key=value`},
		{"patch outside", func() error { _, err := EnsurePatch(nil, "../x.yaml"); return err }(), "below the kustomization"},
		{"patch absolute", func() error { _, err := EnsurePatch(nil, "/x.yaml"); return err }(), "below the kustomization"},
		{"alias bomb", func() error { _, err := SetReplicas([]byte(billionLaughs), "web", 1); return err }(), "aliases expand"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
			wantMsg(t, tc.err, tc.want)
		})
	}
}

func TestReplicasEdits(t *testing.T) {
	k := []byte("resources: [../b]\nreplicas:\n") // a null list
	k = mustEdit(t)(SetReplicas(k, "web", 3))
	if n, found, err := getReplicas(k, "web"); err != nil || !found || n != 3 {
		t.Fatalf("GetReplicas = %d, %v, %v\n%s", n, found, err, k)
	}
	// A quoted count does not decode in kustomize; setting it writes a number.
	k = []byte("resources: [../b]\nreplicas:\n  - name: web\n    count: \"3\" # quoted\n")
	k = mustEdit(t)(SetReplicas(k, "web", 3))
	if !strings.Contains(string(k), "count: 3 # quoted") {
		t.Errorf("count not rewritten as a number:\n%s", k)
	}
	if got := field(t, mustFind(t, renderKust(t, k, nil), "Deployment", "web"), "spec", "replicas"); got != "3" {
		t.Errorf("rendered replicas %q", got)
	}
	same := mustEdit(t)(SetReplicas(k, "web", 3))
	if !bytes.Equal(same, k) {
		t.Error("a no-op edit rewrote the file")
	}
	if _, found, err := getReplicas(k, "worker"); err != nil || found {
		t.Errorf("getReplicas(worker) = %v, %v", found, err)
	}
}

func TestLiteralEdits(t *testing.T) {
	k := []byte("resources: [../b]\n")
	values := []valid.KeyValue{
		{Key: "QUOTED", Value: `"already quoted"`},
		{Key: "SINGLE", Value: `'x'`},
		{Key: "EQUALS", Value: "a=b=c"},
		{Key: "BOOLISH", Value: "yes"},
		{Key: "NUMBER", Value: "010"},
		{Key: "MULTI", Value: "line one\nline two"},
		{Key: "SPACES", Value: "  padded  "},
		{Key: "EMPTY", Value: ""},
	}
	k = mustEdit(t)(SetLiterals(k, "cfg", values, nil))
	got, found, err := GetLiterals(k, "cfg")
	if err != nil || !found || !reflect.DeepEqual(got, values) {
		t.Fatalf("GetLiterals = %q, %v, %v; want %q\n%s", got, found, err, values, k)
	}
	var cm *Resource
	out := renderKust(t, k, nil)
	for _, r := range out.Resources() {
		if r.Kind == "ConfigMap" {
			cm = &r
		}
	}
	data := cm.Node.GetDataMap()
	for _, kv := range values {
		if data[kv.Key] != kv.Value {
			t.Errorf("kustomize reads %s as %q, want %q", kv.Key, data[kv.Key], kv.Value)
		}
	}
	if data["BASE"] != "1" {
		t.Error("behavior: merge lost the base's literal")
	}

	// Removing every literal removes the literals list; unsetting on a missing generator
	// changes nothing.
	var keys []string
	for _, kv := range values {
		keys = append(keys, kv.Key)
	}
	k2 := mustEdit(t)(SetLiterals(k, "cfg", nil, keys))
	if strings.Contains(string(k2), "literals") {
		t.Errorf("empty literals list kept:\n%s", k2)
	}
	if lits, found, _ := GetLiterals(k2, "cfg"); !found || len(lits) != 0 {
		t.Errorf("GetLiterals = %v, %v", lits, found)
	}
	k3 := mustEdit(t)(SetLiterals(k, "other", nil, []string{"X"}))
	if !bytes.Equal(k3, k) {
		t.Error("unset on a missing generator changed the file")
	}
	k4 := mustEdit(t)(SetLiterals(k, "cfg", []valid.KeyValue{{Key: "EQUALS", Value: "a=b=c"}}, []string{"ABSENT"}))
	if !bytes.Equal(k4, k) {
		t.Error("a no-op literal edit rewrote the file")
	}
}

func TestEnsurePatch(t *testing.T) {
	for name, in := range map[string]string{
		"patches":               "patches:\n  - path: ./daytwo-patch.yaml\n",
		"patchesStrategicMerge": "patchesStrategicMerge:\n  - daytwo-patch.yaml\n",
	} {
		out := mustEdit(t)(EnsurePatch([]byte(in), "daytwo-patch.yaml"))
		if string(out) != in {
			t.Errorf("%s: already applied, yet changed:\n%s", name, out)
		}
	}
	out := mustEdit(t)(EnsurePatch([]byte("resources: [../b]\npatches: # none yet\n"), "daytwo-patch.yaml"))
	if want := "resources: [../b]\npatches: # none yet\n- path: daytwo-patch.yaml\n"; string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	out = mustEdit(t)(EnsurePatch([]byte("patches:\n  - patch: |-\n      - op: remove\n        path: /x\n    target:\n      kind: Deployment\n"), "daytwo-patch.yaml"))
	if !strings.HasSuffix(string(out), "  - path: daytwo-patch.yaml\n") {
		t.Errorf("inline patch entry not kept before the new one:\n%s", out)
	}
}

func TestPatchEdits(t *testing.T) {
	p := mustEdit(t)(SetPodTemplateAnnotation(nil, "batch/v1", "CronJob", "nightly", restartKey, "t1"))
	if !strings.Contains(string(p), "jobTemplate:\n    spec:\n      template:\n        metadata:\n          annotations:") {
		t.Errorf("CronJob pod template path:\n%s", p)
	}
	if v, ok, err := getPodTemplateAnnotation(p, "batch/v1", "CronJob", "nightly", restartKey); err != nil || !ok || v != "t1" {
		t.Errorf("GetPodTemplateAnnotation = %q, %v, %v", v, ok, err)
	}
	same := mustEdit(t)(SetPodTemplateAnnotation(p, "batch/v1", "CronJob", "nightly", restartKey, "t1"))
	if !bytes.Equal(same, p) {
		t.Error("a no-op annotation edit rewrote the file")
	}
	// Another apiVersion is another document.
	p2 := mustEdit(t)(SetWorkloadAnnotation(p, "batch/v1beta1", "CronJob", "nightly", "a", "b"))
	if strings.Count(string(p2), "kind: CronJob") != 2 {
		t.Errorf("want two documents:\n%s", p2)
	}
	if _, ok, _ := getWorkloadAnnotation(p2, "batch/v1", "CronJob", "nightly", "a"); ok {
		t.Error("annotation landed in the wrong document")
	}
	// Removing what is not there changes nothing; a nil patch stays nil.
	if out := mustEdit(t)(RemoveWorkloadAnnotation(p, "batch/v1", "CronJob", "nightly", "absent")); !bytes.Equal(out, p) {
		t.Error("removing an absent annotation rewrote the file")
	}
	if out := mustEdit(t)(RemoveWorkloadAnnotation(nil, "apps/v1", "Deployment", "x", "a")); out != nil {
		t.Errorf("remove on a new file = %q", out)
	}
	// A stray document separator is dropped, the documents are kept.
	in := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n---\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n")
	out := mustEdit(t)(SetPodTemplateAnnotation(in, "apps/v1", "Deployment", "b", restartKey, "t"))
	if strings.Count(string(out), "---") != 1 || !strings.Contains(string(out), "name: a") {
		t.Errorf("documents:\n%s", out)
	}

	for name, err := range map[string]error{
		"invalid key": func() error {
			_, err := SetPodTemplateAnnotation(nil, "apps/v1", "Deployment", "a", "not a key", "v")
			return err
		}(),
		"empty name": func() error { _, err := SetWorkloadAnnotation(nil, "apps/v1", "Deployment", "", "a", "v"); return err }(),
		"document not a mapping": func() error {
			_, err := SetPodTemplateAnnotation([]byte("- a\n"), "apps/v1", "Deployment", "a", "k", "v")
			return err
		}(),
		"template not a mapping": func() error {
			_, err := SetPodTemplateAnnotation([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  template: []\n"), "apps/v1", "Deployment", "a", "k", "v")
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestEditKeepsUnrelatedText(t *testing.T) {
	in := []byte(`# head
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization   # kind

resources:
  - ../b

configMapGenerator:
  - name: cfg
    behavior: merge
    literals:
      - A=1
    files:
      - script.sh

# foot
`)
	out := mustEdit(t)(SetLiterals(in, "cfg", []valid.KeyValue{{Key: "A", Value: "2"}}, nil))
	want := strings.Replace(string(in), "A=1", "A=2", 1)
	if string(out) != want {
		t.Errorf("more than the literal changed:\n%s", FileDiff("kustomization.yaml", in, out))
	}
}

func TestEditKeepsWindowsLineEndings(t *testing.T) {
	in := []byte("resources:\r\n  - ../b\r\n\r\nreplicas:\r\n  - name: web\r\n    count: 1 # one\r\n")
	out := mustEdit(t)(SetReplicas(in, "web", 2))
	if want := strings.Replace(string(in), "count: 1", "count: 2", 1); string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}
