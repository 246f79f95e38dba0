package yamledit

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
		ops, ok := lineOps(a, b)
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

func TestUnifiedBoundsHugeInputs(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 200_000; i++ {
		fmt.Fprintf(&a, "line a %d\n", i)
		fmt.Fprintf(&b, "line b %d\n", i)
	}
	start := time.Now()
	d := Unified([]byte(a.String()), []byte(b.String()))
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("diff of 400,000 changed lines took %v", el)
	}
	if !strings.HasPrefix(d, "@@ -1,200000 +1,200000 @@\n-line a 0\n") {
		t.Errorf("unexpected start: %.100q", d)
	}
	// Many scattered changes exceed the bound and still give a correct diff.
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
