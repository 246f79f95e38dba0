package overlay

import (
	"fmt"
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lcs is the textbook dynamic programme, to check that Myers finds a shortest script.
func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func randLines(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a'+r.Intn(4))) + "\n"
	}
	return out
}

func TestDiffLinesIsMinimalAndCorrect(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for iter := 0; iter < 2000; iter++ {
		a, b := randLines(r, r.Intn(12)), randLines(r, r.Intn(12))
		ops, ok := diffLines(a, b, maxEditDistance)
		if !ok {
			t.Fatal("bounded out on a tiny input")
		}
		var got []string
		edits, ai, bi := 0, 0, 0
		for _, o := range ops {
			switch o.kind {
			case opEqual:
				if o.a != ai || o.b != bi || a[o.a] != b[o.b] {
					t.Fatalf("bad equal op %+v at a%d b%d", o, ai, bi)
				}
				got = append(got, a[o.a])
				ai, bi = ai+1, bi+1
			case opDelete:
				if o.a != ai {
					t.Fatalf("bad delete op %+v at a%d", o, ai)
				}
				ai++
				edits++
			case opInsert:
				if o.b != bi {
					t.Fatalf("bad insert op %+v at b%d", o, bi)
				}
				got = append(got, b[o.b])
				bi++
				edits++
			}
		}
		if ai != len(a) || strings.Join(got, "") != strings.Join(b, "") {
			t.Fatalf("script does not turn %q into %q", a, b)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("%q → %q: %d edits, shortest is %d", a, b, edits, want)
		}
	}
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$`)

// applyUnified applies hunks produced by unified to a, checking their line counts.
func applyUnified(t *testing.T, a []string, hunks string) []string {
	t.Helper()
	var out []string
	next := 0 // next line of a to copy
	lines := strings.SplitAfter(hunks, "\n")
	for i := 0; i < len(lines) && lines[i] != ""; {
		m := hunkHeader.FindStringSubmatch(strings.TrimSuffix(lines[i], "\n"))
		if m == nil {
			t.Fatalf("not a hunk header: %q", lines[i])
		}
		num := func(s string, def int) int {
			if s == "" {
				return def
			}
			n, _ := strconv.Atoi(s)
			return n
		}
		aStart, aLen := num(m[1], 0), num(m[2], 1)
		bLen := num(m[4], 1)
		from := aStart - 1
		if aLen == 0 {
			from = aStart
		}
		out = append(out, a[next:from]...)
		next = from
		i++
		seenA, seenB := 0, 0
		for i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			i++
			text := l[1:]
			if i < len(lines) && strings.HasPrefix(lines[i], `\ No newline at end of file`) {
				text = strings.TrimSuffix(text, "\n")
				i++
			}
			switch l[0] {
			case ' ':
				if a[next] != text {
					t.Fatalf("context %q does not match %q", text, a[next])
				}
				out = append(out, text)
				next++
				seenA++
				seenB++
			case '-':
				if a[next] != text {
					t.Fatalf("removed %q does not match %q", text, a[next])
				}
				next++
				seenA++
			case '+':
				out = append(out, text)
				seenB++
			default:
				t.Fatalf("bad hunk line %q", l)
			}
		}
		if seenA != aLen || seenB != bLen {
			t.Fatalf("hunk %s has %d/%d lines", m[0], seenA, seenB)
		}
	}
	return append(out, a[next:]...)
}

func TestUnifiedApplies(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for iter := 0; iter < 2000; iter++ {
		a, b := randLines(r, r.Intn(40)), randLines(r, r.Intn(40))
		if r.Intn(3) == 0 && len(a) > 0 {
			a[len(a)-1] = strings.TrimSuffix(a[len(a)-1], "\n")
		}
		if r.Intn(3) == 0 && len(b) > 0 {
			b[len(b)-1] = strings.TrimSuffix(b[len(b)-1], "\n")
		}
		h := unified(a, b)
		if (h == "") != (strings.Join(a, "") == strings.Join(b, "")) {
			t.Fatalf("empty diff iff equal: %q vs %q gave %q", a, b, h)
		}
		if got := applyUnified(t, a, h); strings.Join(got, "") != strings.Join(b, "") {
			t.Fatalf("applying\n%s to %q gives %q, want %q", h, a, got, b)
		}
	}
}

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

func TestUnifiedBoundsHugeInputs(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 200_000; i++ {
		fmt.Fprintf(&a, "line a %d\n", i)
		fmt.Fprintf(&b, "line b %d\n", i)
	}
	start := time.Now()
	d := FileDiff("big", []byte(a.String()), []byte(b.String()))
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("diff of 400,000 changed lines took %v", el)
	}
	if !strings.HasPrefix(d, "--- a/big\n+++ b/big\n@@ -1,200000 +1,200000 @@\n-line a 0\n") {
		t.Errorf("unexpected start: %.100q", d)
	}
	// Many scattered changes exceed the edit bound and still give a correct diff.
	al, bl := make([]string, 20_000), make([]string, 20_000)
	for i := range al {
		al[i] = fmt.Sprintf("%d\n", i)
		bl[i] = al[i]
		if i%3 == 0 {
			bl[i] = fmt.Sprintf("changed %d\n", i)
		}
	}
	start = time.Now()
	h := unified(al, bl)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("diff of scattered changes took %v", el)
	}
	if got := applyUnified(t, al, h); strings.Join(got, "") != strings.Join(bl, "") {
		t.Error("bounded diff does not apply")
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
