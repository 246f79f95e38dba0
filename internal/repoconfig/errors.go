package repoconfig

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/daytwo-dev/daytwo/internal/typo"
)

// maxReported bounds how many problems Error prints; the rest are counted.
const maxReported = 20

// Problem is one thing wrong in the config file. Line is 1-based, 0 when the problem is
// the file as a whole.
type Problem struct {
	Line    int
	Message string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", Path, p.Line, p.Message)
	}
	return Path + ": " + p.Message
}

// Error is what Load returns for a file it refuses: every problem found, in line order.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == maxReported {
			fmt.Fprintf(&b, "\n… and %d more problems", len(e.Problems)-maxReported)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects Problems, keeping the first of identical ones.
type problems struct {
	list []Problem
	seen map[Problem]bool
}

func (ps *problems) add(line int, format string, args ...any) {
	p := Problem{Line: line, Message: fmt.Sprintf(format, args...)}
	if ps.seen == nil {
		ps.seen = map[Problem]bool{}
	}
	if ps.seen[p] {
		return
	}
	ps.seen[p] = true
	ps.list = append(ps.list, p)
}

// err returns the collected problems as an *Error in line order, or nil.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	out := append([]Problem(nil), ps.list...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return &Error{Problems: out}
}

// didYouMean is ` (did you mean "x"?)` when a candidate is close to s, else "".
func didYouMean(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// closest returns the candidate nearest to s: equal ignoring case, or within a small
// edit distance (transpositions count once). "" when none is close enough.
func closest(s string, candidates []string) string {
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if strings.ToLower(c) == ls {
			return c
		}
	}
	limit := 2
	if n := len([]rune(s)); n <= 3 {
		limit = 1
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		lc := strings.ToLower(c)
		// Long strings are never typos of a key; skip the quadratic table.
		if utf8.RuneCountInString(ls) > maxTypoLen || utf8.RuneCountInString(lc) > maxTypoLen {
			continue
		}
		if d := typo.Distance(ls, lc); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// maxTypoLen bounds the strings closest compares.
const maxTypoLen = 64
