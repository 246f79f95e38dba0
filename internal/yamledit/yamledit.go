// Package yamledit edits YAML with kyaml and writes it back in the layout it was written
// in, so that a pull request shows the edit and nothing else: comments, key order, quoting
// and sequence indentation survive the round trip through kyaml, and blank lines, a
// leading "---" and the spacing of unchanged lines are put back after it. Its line diff,
// also used to show changes, is diff-match-patch's.
package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// maxExpandedNodes bounds the size of a YAML document once its aliases are expanded: a
// few anchors referencing each other ("billion laughs") otherwise make every later
// consumer (krusty, JSON conversion) allocate without bound.
const maxExpandedNodes = 1_000_000

// Parse decodes every document of b, refusing documents whose aliases expand beyond
// maxExpandedNodes. Errors carry the line number when the parser reports one.
func Parse(b []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		n := &yaml.Node{}
		err := dec.Decode(n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, yamlError(err)
		}
		if err := checkExpansion(n); err != nil {
			return nil, err
		}
		docs = append(docs, n)
	}
}

// checkExpansion refuses a document whose alias-expanded size exceeds maxExpandedNodes.
// Sizes are memoised per node, so the check is linear in the unexpanded document.
func checkExpansion(doc *yaml.Node) error {
	sizes := map[*yaml.Node]int{}
	const inProgress = -1
	var size func(n *yaml.Node) (int, error)
	size = func(n *yaml.Node) (int, error) {
		if n == nil {
			return 0, nil
		}
		if s, ok := sizes[n]; ok {
			if s == inProgress {
				return 0, fmt.Errorf("line %d: an alias refers to itself", n.Line)
			}
			return s, nil
		}
		sizes[n] = inProgress
		total := 1
		children := n.Content
		if n.Kind == yaml.AliasNode {
			children = []*yaml.Node{n.Alias}
		}
		for _, c := range children {
			s, err := size(c)
			if err != nil {
				return 0, err
			}
			total += s
			if total > maxExpandedNodes {
				return 0, fmt.Errorf("line %d: aliases expand to more than %d YAML nodes; refusing to expand it", n.Line, maxExpandedNodes)
			}
		}
		sizes[n] = total
		return total, nil
	}
	_, err := size(doc)
	return err
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// LineError is a YAML problem at a line of a file.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string {
	if e.Line <= 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// yamlError rewrites the parser's "yaml: line 3: …" as a LineError.
func yamlError(err error) error {
	msg := err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &LineError{Line: line, Msg: m[2]}
	}
	return &LineError{Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// LineErrorf is a LineError at the line of n.
func LineErrorf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &LineError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Deref follows aliases to the node they name.
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// IsNull is true for a missing node and for `key:`, `key: ~` and `key: null`.
func IsNull(n *yaml.Node) bool {
	n = Deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// KindName names the kind of n for messages: "a mapping", "a list"….
func KindName(n *yaml.Node) string {
	switch Deref(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.DocumentNode:
		return "a document"
	}
	return "empty"
}

// Pairs returns the key/value pairs of a mapping, with the pairs of `<<` merge keys
// after the mapping's own.
func Pairs(m *yaml.Node) [][2]*yaml.Node {
	m = Deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var own, merged [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			v = Deref(v)
			switch v.Kind {
			case yaml.MappingNode:
				merged = append(merged, Pairs(v)...)
			case yaml.SequenceNode:
				for _, e := range v.Content {
					merged = append(merged, Pairs(e)...)
				}
			}
			continue
		}
		own = append(own, [2]*yaml.Node{k, v})
	}
	return append(own, merged...)
}

// SetString sets a scalar to a string value, keeping its comments, quoting it when a
// YAML 1.1 reader (sigs.k8s.io/yaml, used by kustomize) would read something else.
func SetString(n *yaml.Node, v string) {
	n.Kind = yaml.ScalarNode
	n.Tag = yaml.NodeTagString
	n.Value = v
	n.Content = nil
	n.Alias = nil
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 && !strings.Contains(v, "\n") {
		n.Style = 0
	}
	n.Style &^= yaml.TaggedStyle | yaml.FlowStyle
	if n.Style == 0 && yaml.IsYaml1_1NonString(n) {
		n.Style = yaml.DoubleQuotedStyle
	}
}

// StringNode is a scalar holding v, quoted as SetString does.
func StringNode(v string) *yaml.Node {
	n := &yaml.Node{}
	SetString(n, v)
	return n
}

// ToLF turns a file written with Windows line endings into one with "\n" only, so that
// comments do not carry a "\r"; crlf reports whether it did.
func ToLF(b []byte) (lf []byte, crlf bool) {
	n := bytes.Count(b, []byte("\r\n"))
	if n == 0 || n != bytes.Count(b, []byte("\n")) {
		return b, false
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), true
}

// ToCRLF undoes ToLF.
func ToCRLF(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }

// Encode writes documents back with the indentation and sequence style of the original
// text, then restores what the encoder normalises away in lines it did not change.
func Encode(orig []byte, docs []*yaml.Node) ([]byte, error) {
	st := deriveStyle(orig, docs)
	out, err := marshalDocs(docs, st)
	if err != nil {
		return nil, err
	}
	if len(orig) == 0 {
		return out, nil
	}
	return restoreLayout(orig, out, st), nil
}

// style is how the encoder lays out block collections.
type style struct {
	indent  int  // spaces a nested mapping is indented by
	compact bool // sequence dashes at the column of their key, not indented
}

// deriveStyle reads the style of orig from its nodes where they still carry their
// position (an edit's new nodes do not): the indentation of the first nested block
// mapping, and where the dashes of the first block sequence under a key stand. Without
// either, 2 spaces and kyaml's reading of the text.
func deriveStyle(orig []byte, docs []*yaml.Node) style {
	st := style{compact: yaml.DeriveSeqIndentStyle(string(orig)) == string(yaml.CompactSequenceStyle)}
	foundIndent, foundSeq := false, false
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 100 || (foundIndent && foundSeq) {
			return
		}
		if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Line == 0 || v.Style&yaml.FlowStyle != 0 || len(v.Content) == 0 || v.Content[0].Line <= k.Line {
					continue
				}
				switch first := v.Content[0]; v.Kind {
				case yaml.MappingNode:
					if !foundIndent && first.Column > k.Column {
						st.indent, foundIndent = first.Column-k.Column, true
					}
				case yaml.SequenceNode:
					// The item follows its "- ".
					if dash := first.Column - 2; !foundSeq && first.Column > 0 && dash >= k.Column {
						st.compact, foundSeq = dash == k.Column, true
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	for _, d := range docs {
		walk(d, 0)
	}
	if !foundIndent || st.indent < 2 || st.indent > 9 {
		st.indent = yaml.DefaultIndent
	}
	return st
}

func marshalDocs(docs []*yaml.Node, st style) ([]byte, error) {
	var buf bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(st.indent)
		if st.compact {
			enc.CompactSeqIndent()
		} else {
			enc.DefaultSeqIndent()
		}
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("encoding YAML: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// restoreLayout makes a small edit show as a small change: the encoder drops blank
// lines and the leading "---", and re-spaces indentation and comments. Those parts of
// orig are put back around the lines that really changed. A candidate is kept only if
// it re-encodes to exactly encoded, which proves the restored text changes no value,
// key order or comment; otherwise encoded is returned.
func restoreLayout(orig, encoded []byte, st style) []byte {
	a, b := splitLines(orig), splitLines(encoded)
	ops, ok := lineOps(a, b)
	if !ok {
		return encoded
	}
	// First also keep orig's spacing of lines whose tokens did not change, then only
	// its blank lines.
	for _, spacing := range []bool{true, false} {
		cand := mergeLayout(a, b, ops, spacing)
		if bytes.Equal(cand, encoded) {
			return encoded
		}
		docs, err := Parse(cand)
		if err != nil {
			continue
		}
		if check, err := marshalDocs(docs, st); err == nil && bytes.Equal(check, encoded) {
			return cand
		}
	}
	return encoded
}

// mergeLayout rebuilds encoded (b) with orig's (a) blank lines and leading "---"; with
// spacing, a line of b that differs from the line of a it replaces only by whitespace
// is written as in a, and other lines of b get a's indentation of the same depth.
func mergeLayout(a, b []string, ops []op, spacing bool) []byte {
	type slot struct {
		text   string // a line of a kept as is
		b      string // a line of b
		a      int    // the line of a that b replaces, or -1
		isKept bool
	}
	kept := func(ai int) string {
		line := a[ai]
		switch {
		case strings.TrimSpace(line) == "":
			return "\n"
		case ai == 0 && strings.TrimRight(line, " \r\n") == "---":
			return "---\n"
		}
		return ""
	}
	var slots []slot
	for i := 0; i < len(ops); {
		if ops[i].kind == opEqual {
			slots = append(slots, slot{b: b[ops[i].b], a: ops[i].a})
			i++
			continue
		}
		// A changed block: lines of a replaced by lines of b. a's blank lines keep their
		// place; b's lines take the places of a's other lines, in order.
		var dels []int
		var ins []string
		for ; i < len(ops) && ops[i].kind != opEqual; i++ {
			if ops[i].kind == opDelete {
				dels = append(dels, ops[i].a)
			} else {
				ins = append(ins, b[ops[i].b])
			}
		}
		others := 0
		for _, ai := range dels {
			if kept(ai) == "" {
				others++
			}
		}
		total := others
		for _, ai := range dels {
			if k := kept(ai); k != "" {
				// A blank line between removed lines that nothing replaces was part of
				// what was removed (a block scalar's empty line, say).
				if len(ins) > 0 || others == 0 || others == total {
					slots = append(slots, slot{text: k, isKept: true})
				}
				continue
			}
			others--
			if len(ins) == 0 {
				continue
			}
			if others > 0 {
				slots = append(slots, slot{b: ins[0], a: ai})
				ins = ins[1:]
				continue
			}
			slots = append(slots, slot{b: ins[0], a: ai})
			for _, l := range ins[1:] {
				slots = append(slots, slot{b: l, a: -1})
			}
			ins = nil
		}
		for _, l := range ins {
			slots = append(slots, slot{b: l, a: -1})
		}
	}
	// Indentation depths of b mapped to a's, learnt from lines that kept their tokens:
	// the mapping most of them show, the same depth on a tie (a sequence written wider
	// than the encoder writes it shifts only its own lines).
	depth := map[int]int{}
	if spacing {
		votes := map[[2]int]int{}
		for _, s := range slots {
			if !s.isKept && s.a >= 0 && sameTokens(a[s.a], s.b) {
				votes[[2]int{indent(s.b), indent(a[s.a])}]++
			}
		}
		for v, n := range votes {
			from, to := v[0], v[1]
			cur, ok := depth[from]
			best := votes[[2]int{from, cur}]
			if !ok || n > best || (n == best && (to == from || (cur != from && to < cur))) {
				depth[from] = to
			}
		}
	}
	var out bytes.Buffer
	for _, s := range slots {
		switch {
		case s.isKept:
			out.WriteString(s.text)
		case !spacing:
			out.WriteString(s.b)
		case s.a >= 0 && sameTokens(a[s.a], s.b):
			out.WriteString(a[s.a])
		default:
			if d, ok := depth[indent(s.b)]; ok {
				out.WriteString(strings.Repeat(" ", d))
				out.WriteString(s.b[indent(s.b):])
			} else {
				out.WriteString(s.b)
			}
		}
	}
	return out.Bytes()
}

func indent(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }

func sameTokens(x, y string) bool {
	fx, fy := strings.Fields(x), strings.Fields(y)
	if len(fx) != len(fy) {
		return false
	}
	for i := range fx {
		if fx[i] != fy[i] {
			return false
		}
	}
	return strings.HasSuffix(x, "\n") == strings.HasSuffix(y, "\n")
}
