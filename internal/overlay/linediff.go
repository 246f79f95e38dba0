package overlay

import (
	"fmt"
	"strings"
)

// Bounds of the line diff: beyond them a changed region is shown as removed and added
// whole, which is still a correct diff, only a less precise one.
const (
	maxDiffLines    = 50_000 // lines of both sides after trimming the common ends
	maxEditDistance = 1_000  // inserted plus deleted lines Myers may search for
	diffContext     = 3
)

type opKind uint8

const (
	opEqual opKind = iota
	opDelete
	opInsert
)

// op is one line of an edit script: a[a] kept or deleted, or b[b] inserted.
type op struct {
	kind opKind
	a, b int
}

// splitLines splits text into lines that keep their "\n"; a last line without one stays
// without, so that "x" and "x\n" differ.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	lines := make([]string, 0, strings.Count(s, "\n")+1)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i+1])
		s = s[i+1:]
	}
	return lines
}

// diffLines returns an edit script turning a into b. With ok false the changed region
// exceeded the bounds and the script shows it removed and added whole.
func diffLines(a, b []string, maxD int) (ops []op, ok bool) {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	for i := 0; i < pre; i++ {
		ops = append(ops, op{opEqual, i, i})
	}
	midA, midB := a[pre:len(a)-suf], b[pre:len(b)-suf]
	var mid []op
	if len(midA)+len(midB) <= maxDiffLines {
		mid, ok = myers(midA, midB, maxD)
	}
	if !ok {
		mid = wholeReplace(midA, midB)
	}
	for _, o := range mid {
		o.a += pre
		o.b += pre
		ops = append(ops, o)
	}
	for i := 0; i < suf; i++ {
		ops = append(ops, op{opEqual, len(a) - suf + i, len(b) - suf + i})
	}
	return ops, ok
}

// myers is the O((N+M)·D) greedy algorithm of Myers (1986), keeping the frontier of
// every step (O(D²) memory) to walk the path back.
func myers(a, b []string, maxD int) ([]op, bool) {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		var ops []op
		for i := 0; i < n; i++ {
			ops = append(ops, op{opDelete, i, 0})
		}
		for j := 0; j < m; j++ {
			ops = append(ops, op{opInsert, n, j})
		}
		return ops, true
	}
	limit := n + m
	if limit > maxD {
		limit = maxD
	}
	// Compare interned ids instead of strings.
	ids := map[string]int{}
	ai, bi := make([]int, n), make([]int, m)
	for i, s := range a {
		id, ok := ids[s]
		if !ok {
			id = len(ids)
			ids[s] = id
		}
		ai[i] = id
	}
	for j, s := range b {
		id, ok := ids[s]
		if !ok {
			id = len(ids)
			ids[s] = id
		}
		bi[j] = id
	}
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int // trace[d][k+d] is the furthest x on diagonal k after step d
	for d := 0; d <= limit; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && ai[x] == bi[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(trace, n, m, d), true
			}
		}
		trace = append(trace, append([]int(nil), v[off-d:off+d+1]...))
	}
	return nil, false
}

func backtrack(trace [][]int, n, m, dEnd int) []op {
	var rev []op
	x, y := n, m
	for d := dEnd; d > 0; d-- {
		prev := trace[d-1]
		at := func(k int) int { return prev[k+d-1] }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			x--
			y--
			rev = append(rev, op{opEqual, x, y})
		}
		if x == px {
			y--
			rev = append(rev, op{opInsert, x, y})
		} else {
			x--
			rev = append(rev, op{opDelete, x, y})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, op{opEqual, x, y})
	}
	ops := make([]op, len(rev))
	for i, o := range rev {
		ops[len(rev)-1-i] = o
	}
	return ops
}

// unified renders the hunks of a diff between a and b, without file headers; "" when
// they are equal.
func unified(a, b []string) string {
	ops, _ := diffLines(a, b, maxEditDistance)
	var sb strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == opEqual {
			i++
			continue
		}
		// A hunk starts diffContext lines before this change and runs until a gap of
		// equal lines wider than two contexts.
		start := i - diffContext
		if start < 0 {
			start = 0
		}
		end := i
		for end < len(ops) {
			if ops[end].kind != opEqual {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == opEqual {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				end += min(diffContext, run-end)
				break
			}
			end = run
		}
		writeHunk(&sb, a, b, ops[start:end])
		i = end
	}
	return sb.String()
}

func wholeReplace(a, b []string) []op {
	ops := make([]op, 0, len(a)+len(b))
	for i := range a {
		ops = append(ops, op{opDelete, i, 0})
	}
	for j := range b {
		ops = append(ops, op{opInsert, len(a), j})
	}
	return ops
}

func writeHunk(sb *strings.Builder, a, b []string, ops []op) {
	aStart, bStart := ops[0].a, ops[0].b
	aLen, bLen := 0, 0
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			aLen++
			bLen++
		case opDelete:
			aLen++
		case opInsert:
			bLen++
		}
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			writeLine(sb, ' ', a[o.a])
		case opDelete:
			writeLine(sb, '-', a[o.a])
		case opInsert:
			writeLine(sb, '+', b[o.b])
		}
	}
}

// hunkRange is "start,len" with GNU diff's conventions: 1-based, ",1" omitted, and an
// empty range numbered by the line before it.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func writeLine(sb *strings.Builder, prefix byte, line string) {
	sb.WriteByte(prefix)
	sb.WriteString(line)
	if !strings.HasSuffix(line, "\n") {
		sb.WriteString("\n\\ No newline at end of file\n")
	}
}
