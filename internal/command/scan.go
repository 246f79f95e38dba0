package command

import (
	"sort"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	gmtext "github.com/yuin/goldmark/text"
)

// mdParser reads a comment as GitHub does: CommonMark with GFM tables (a line GitHub shows
// as a table row is not paragraph text). Parsing keeps its state per call, so one parser
// serves concurrent callers.
var mdParser = goldmark.New(goldmark.WithExtensions(extension.Table)).Parser()

// scanned is a line that may hold a command: its text, trimmed, and the byte offset of
// that text in the normalised comment.
type scanned struct {
	line string
	off  int
}

// normalize drops a byte-order mark and turns CRLF and lone CR line endings into LF.
func normalize(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// candidateLines returns the lines of a comment that may hold a command, trimmed. Whether
// a line starts with "/" is left to the caller.
func candidateLines(text string) []string {
	found := scanLines(normalize(text))
	out := make([]string, len(found))
	for i, s := range found {
		out[i] = s.line
	}
	return out
}

// scanLines finds, with a CommonMark parser, the lines of src (normalised) whose first
// character is paragraph (or setext heading) text as written: not in a code block, fenced
// or indented, nor an HTML block or comment, nor a code span, raw HTML or image
// description, and with nothing but white space before it on its line, so that a line
// behind a quote marker (">") or a list marker ("-", "1.") does not count. A line a
// paragraph takes in lazily (written without ">" right after a quoted line) is the
// writer's own and counts; so does a line continuing a list item's paragraph.
func scanLines(src string) []scanned {
	doc := mdParser.Parse(gmtext.NewReader([]byte(src)))
	var out []scanned
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.(type) {
		case *ast.Paragraph, *ast.TextBlock, *ast.Heading: // a tight list item's paragraph is a TextBlock
		default:
			return ast.WalkContinue, nil
		}
		plain := plainText(n)
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			lineStart := strings.LastIndexByte(src[:seg.Start], '\n') + 1
			lineEnd := len(src)
			if j := strings.IndexByte(src[seg.Start:], '\n'); j >= 0 {
				lineEnd = seg.Start + j
			}
			first := lineStart + firstNonSpace(src[lineStart:lineEnd])
			if first < seg.Start || first >= lineEnd || !within(plain, first) {
				continue
			}
			out = append(out, scanned{line: strings.TrimRightFunc(src[first:lineEnd], unicode.IsSpace), off: first})
		}
		return ast.WalkSkipChildren, nil
	})
	return out
}

// plainText returns the source ranges of the text shown as written in block n (its text
// nodes), leaving out code spans and image descriptions, in document order.
func plainText(block ast.Node) []span {
	var spans []span
	_ = ast.Walk(block, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := n.(type) {
		case *ast.CodeSpan, *ast.Image:
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			spans = append(spans, span{t.Segment.Start, t.Segment.Stop})
		}
		return ast.WalkContinue, nil
	})
	return spans
}

type span struct{ start, end int } // [start, end)

func within(spans []span, off int) bool {
	i := sort.Search(len(spans), func(i int) bool { return spans[i].end > off })
	return i < len(spans) && spans[i].start <= off
}

// firstNonSpace is the byte offset of the first rune of s that is not white space,
// len(s) when there is none.
func firstNonSpace(s string) int {
	for i, r := range s {
		if !unicode.IsSpace(r) {
			return i
		}
	}
	return len(s)
}
