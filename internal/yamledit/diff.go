package yamledit

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

const (
	// maxDiffLines bounds the lines of both sides a line diff compares after their common
	// ends: beyond it a changed region is shown removed and added whole, which is still a
	// correct diff, only a less precise one, and the time a diff takes stays bounded.
	maxDiffLines = 20_000
	diffContext  = 3
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
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lineOps returns an edit script turning a into b. With ok false the changed region
// exceeded maxDiffLines and the script shows it removed and added whole.
func lineOps(a, b []string) (ops []op, ok bool) {
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
	if ok = len(midA)+len(midB) <= maxDiffLines; ok {
		mid = myers(midA, midB)
	} else {
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

// myers is diff-match-patch's line diff (Myers' algorithm) of a and b as an edit script.
func myers(a, b []string) []op {
	dmp := diffmatchpatch.New()
	// No deadline: the shortest script, the same on every machine; maxDiffLines bounds
	// the time instead.
	dmp.DiffTimeout = 0
	// Each line becomes one rune; lines are split on "\n" as splitLines does.
	ra, rb, _ := dmp.DiffLinesToRunes(strings.Join(a, ""), strings.Join(b, ""))
	var ops []op
	i, j := 0, 0
	for _, d := range dmp.DiffMainRunes(ra, rb, false) {
		for range utf8.RuneCountInString(d.Text) {
			switch d.Type {
			case diffmatchpatch.DiffEqual:
				ops = append(ops, op{opEqual, i, j})
				i, j = i+1, j+1
			case diffmatchpatch.DiffDelete:
				ops = append(ops, op{opDelete, i, j})
				i++
			case diffmatchpatch.DiffInsert:
				ops = append(ops, op{opInsert, i, j})
				j++
			}
		}
	}
	return ops
}

// Unified is the hunks of a unified diff of a and b, without file headers: 3 lines of
// context, GNU diff's numbering and its "\ No newline at end of file"; "" when they are
// equal.
func Unified(a, b []byte) string { return unified(splitLines(a), splitLines(b)) }

// unified renders the hunks of a diff between a and b, without file headers; "" when
// they are equal.
func unified(a, b []string) string {
	ops, _ := lineOps(a, b)
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
