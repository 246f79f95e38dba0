package command

import (
	"sort"
	"strings"
	"unicode"
)

// candidateLines returns the lines of a markdown text that may hold a command, trimmed:
// lines outside fenced code blocks (``` or ~~~, indented or not, closed or running to the
// end), outside HTML comments, not quoted (">" at any depth) and not inside a code span
// or HTML comment that an earlier line of the same paragraph opened. Whether a line
// starts with "/" is left to the caller.
func candidateLines(text string) []string {
	text = strings.TrimPrefix(text, "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var (
		out       []string
		para      []string
		fenceChar byte
		fenceLen  int
		inComment bool
	)
	flush := func() {
		out = append(out, visibleLines(para)...)
		para = para[:0]
	}
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimLeftFunc(line, unicode.IsSpace)
		switch {
		case fenceLen > 0:
			if closesFence(t, fenceChar, fenceLen) {
				fenceLen = 0
			}
		case inComment:
			inComment = !strings.Contains(line, "-->")
		case t == "":
			flush()
		case t[0] == '>':
			flush()
		case opensFence(t) > 0:
			flush()
			fenceChar, fenceLen = t[0], opensFence(t)
		case strings.HasPrefix(t, "<!--"):
			flush()
			inComment = !strings.Contains(t[4:], "-->")
		default:
			para = append(para, t)
		}
	}
	flush()
	return out
}

// opensFence returns the length of the fence t opens, or 0: three or more backticks not
// followed by another backtick on the line, or three or more tildes.
func opensFence(t string) int {
	if t == "" || (t[0] != '`' && t[0] != '~') {
		return 0
	}
	n := len(t) - len(strings.TrimLeft(t, t[:1]))
	if n < 3 || (t[0] == '`' && strings.Contains(t[n:], "`")) {
		return 0
	}
	return n
}

func closesFence(t string, c byte, n int) bool {
	run := len(t) - len(strings.TrimLeft(t, string(c)))
	return run >= n && strings.TrimSpace(t[run:]) == ""
}

// visibleLines returns the lines of a paragraph (left-trimmed already) that do not start
// inside an inline code span or an inline HTML comment begun on an earlier line.
func visibleLines(para []string) []string {
	if len(para) == 0 {
		return nil
	}
	starts := make([]int, len(para))
	var b strings.Builder
	for i, l := range para {
		starts[i] = b.Len()
		b.WriteString(l)
		b.WriteByte('\n')
	}
	hidden := hiddenSpans(b.String())
	out := make([]string, 0, len(para))
	for i, l := range para {
		if !inSpans(hidden, starts[i]) {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

type span struct{ start, end int } // [start, end)

// hiddenSpans finds the code spans (a run of n backticks up to the next run of exactly n)
// and HTML comments of s, in order. It runs in linear time: each backtick run length keeps
// a queue of where runs of that length start.
func hiddenSpans(s string) []span {
	type run struct{ pos, n int }
	var runs []run
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		runs = append(runs, run{i, j - i})
		i = j
	}
	byLen := map[int][]int{} // run length -> indexes into runs
	for k, r := range runs {
		byLen[r.n] = append(byLen[r.n], k)
	}
	var spans []span
	noCommentEnd := false
	k := 0 // next run
	for i := 0; i < len(s); {
		for k < len(runs) && runs[k].pos < i {
			k++
		}
		nextRun := len(s)
		if k < len(runs) {
			nextRun = runs[k].pos
		}
		c := -1
		if !noCommentEnd {
			if c = strings.Index(s[i:nextRun], "<!--"); c >= 0 {
				c += i
			}
		}
		if c >= 0 {
			end := strings.Index(s[c+4:], "-->")
			if end < 0 {
				noCommentEnd = true
				continue
			}
			spans = append(spans, span{c, c + 4 + end + 3})
			i = c + 4 + end + 3
			continue
		}
		if k >= len(runs) {
			break
		}
		r := runs[k]
		queue := byLen[r.n]
		for len(queue) > 0 && queue[0] <= k {
			queue = queue[1:]
		}
		byLen[r.n] = queue
		if len(queue) == 0 {
			i = r.pos + r.n // an unmatched run is literal
			continue
		}
		closer := runs[queue[0]]
		spans = append(spans, span{r.pos, closer.pos + closer.n})
		i = closer.pos + closer.n
	}
	return spans
}

func inSpans(spans []span, off int) bool {
	i := sort.Search(len(spans), func(i int) bool { return spans[i].end > off })
	return i < len(spans) && spans[i].start < off
}
