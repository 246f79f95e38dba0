package overlay

import (
	"strings"
	"testing"
)

func TestUnifiedFormat(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\nend"
	b := "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\nend\n"
	want := `--- a/f.txt
+++ b/f.txt
@@ -2,7 +2,7 @@
 2
 3
 4
-5
+five
 6
 7
 8
@@ -13,4 +13,4 @@
 13
 14
 15
-end
\ No newline at end of file
+end
`
	if got := FileDiff("f.txt", []byte(a), []byte(b)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := FileDiff("f", []byte("x\n"), []byte("x\n")); got != "" {
		t.Errorf("equal files: %q", got)
	}
	if got, want := FileDiff("new.yaml", nil, []byte("a: 1\n")), "--- /dev/null\n+++ b/new.yaml\n@@ -0,0 +1 @@\n+a: 1\n"; got != want {
		t.Errorf("new file:\n%s\nwant:\n%s", got, want)
	}
	if got, want := FileDiff("old.yaml", []byte("a: 1\nb: 2\n"), nil), "--- a/old.yaml\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a: 1\n-b: 2\n"; got != want {
		t.Errorf("deleted file:\n%s\nwant:\n%s", got, want)
	}
}

func render(t *testing.T, files map[string]string) *Rendered {
	t.Helper()
	out, err := loadFiles(t, files, "o").Render()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDiffRenders(t *testing.T) {
	before := render(t, map[string]string{
		"o/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n  - gone.yaml\nconfigMapGenerator:\n  - name: cfg\n    literals: [A=1, B=2]\nsecretGenerator:\n  - name: creds\n    literals: [USER=admin, PASSWORD=hunter2]\n",
		"o/a.yaml":             deployment("a", "x:1"),
		"o/b.yaml":             deployment("b", "x:1"),
		"o/gone.yaml":          service("gone"),
	})
	if d := Diff(before, before); d != "" {
		t.Errorf("identical renders: %q", d)
	}
	after := render(t, map[string]string{
		"o/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n  - new.yaml\nconfigMapGenerator:\n  - name: cfg\n    literals: [A=1, B=3]\nsecretGenerator:\n  - name: creds\n    literals: [USER=admin, PASSWORD=correct-horse]\n",
		"o/a.yaml":             deployment("a", "x:2"),
		"o/b.yaml":             deployment("b", "x:1"),
		"o/new.yaml":           service("new"),
	})
	d := Diff(before, after)
	if d != Diff(before, after) {
		t.Error("Diff is not deterministic")
	}
	var headers []string
	for _, l := range strings.Split(d, "\n") {
		if strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ ") {
			headers = append(headers, hashSuffix.ReplaceAllString(l, "-HASH"))
		}
	}
	// after's order (krusty puts generated objects last), then what was removed.
	want := []string{
		"--- a/Deployment/a", "+++ b/Deployment/a",
		"--- /dev/null", "+++ b/Service/new",
		"--- a/ConfigMap/cfg-HASH", "+++ b/ConfigMap/cfg-HASH",
		"--- a/Secret/creds-HASH", "+++ b/Secret/creds-HASH",
		"--- a/Service/gone", "+++ /dev/null",
	}
	if !equalStrings(headers, want) {
		t.Errorf("headers:\n%s\nwant:\n%s\ndiff:\n%s", strings.Join(headers, "\n"), strings.Join(want, "\n"), d)
	}
	for _, s := range []string{"-  B: \"2\"", "+  B: \"3\"", "-        image: x:1", "+        image: x:2", "+  PASSWORD: <redacted, changed>", "-  PASSWORD: <redacted>"} {
		if !strings.Contains(d, s) {
			t.Errorf("diff lacks %q:\n%s", s, d)
		}
	}
	for _, secret := range []string{"hunter2", "aHVudGVyMg", "Y29ycmVjdC1ob3JzZQ", "YWRtaW4"} {
		if strings.Contains(d, secret) {
			t.Errorf("diff shows a secret value %q:\n%s", secret, d)
		}
	}
	if strings.Contains(d, "Deployment/b") {
		t.Errorf("unchanged resource in the diff:\n%s", d)
	}
	if got := Diff(nil, after); !strings.Contains(got, "+++ b/Deployment/a") {
		t.Errorf("Diff(nil, after) misses additions: %q", got)
	}
}
