package overlay

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

// parseDocs decodes every document of b, refusing documents whose aliases expand beyond
// maxExpandedNodes. Errors carry the line number when the parser reports one.
func parseDocs(b []byte) ([]*yaml.Node, error) {
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

// lineError is a YAML problem at a line of a file.
type lineError struct {
	Line int
	Msg  string
}

func (e *lineError) Error() string {
	if e.Line <= 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// yamlError rewrites the parser's "yaml: line 3: …" as a lineError.
func yamlError(err error) error {
	msg := err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &lineError{Line: line, Msg: m[2]}
	}
	return &lineError{Msg: strings.TrimPrefix(msg, "yaml: ")}
}

func lineErrorf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &lineError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull is true for a missing node and for `key:`, `key: ~` and `key: null`.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func kindName(n *yaml.Node) string {
	switch deref(n).Kind {
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

// pairs returns the key/value pairs of a mapping, with the pairs of `<<` merge keys
// after the mapping's own.
func pairs(m *yaml.Node) [][2]*yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var own, merged [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			v = deref(v)
			switch v.Kind {
			case yaml.MappingNode:
				merged = append(merged, pairs(v)...)
			case yaml.SequenceNode:
				for _, e := range v.Content {
					merged = append(merged, pairs(e)...)
				}
			}
			continue
		}
		own = append(own, [2]*yaml.Node{k, v})
	}
	return append(own, merged...)
}

// setString sets a scalar to a string value, keeping its comments, quoting it when a
// YAML 1.1 reader (sigs.k8s.io/yaml, used by kustomize) would read something else.
func setString(n *yaml.Node, v string) {
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

func stringNode(v string) *yaml.Node {
	n := &yaml.Node{}
	setString(n, v)
	return n
}

// toLF turns a file written with Windows line endings into one with "\n" only, so that
// comments do not carry a "\r"; crlf reports whether it did.
func toLF(b []byte) (lf []byte, crlf bool) {
	n := bytes.Count(b, []byte("\r\n"))
	if n == 0 || n != bytes.Count(b, []byte("\n")) {
		return b, false
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), true
}

func toCRLF(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }

// encodeDocs writes documents back with the sequence indentation of the original text,
// then restores what the encoder normalises away in lines it did not change.
func encodeDocs(orig []byte, docs []*yaml.Node) ([]byte, error) {
	opts := &yaml.EncoderOptions{SeqIndent: yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(orig)))}
	out, err := marshalDocs(docs, opts)
	if err != nil {
		return nil, err
	}
	if len(orig) == 0 {
		return out, nil
	}
	return restoreLayout(orig, out, opts), nil
}

func marshalDocs(docs []*yaml.Node, opts *yaml.EncoderOptions) ([]byte, error) {
	var buf bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		out, err := yaml.MarshalWithOptions(d, opts)
		if err != nil {
			return nil, fmt.Errorf("encoding YAML: %w", err)
		}
		buf.Write(out)
	}
	return buf.Bytes(), nil
}

// restoreLayout makes a small edit show as a small change: the encoder drops blank
// lines and the leading "---", and re-spaces indentation and comments. Those parts of
// orig are put back around the lines that really changed. A candidate is kept only if
// it re-encodes to exactly encoded, which proves the restored text changes no value,
// key order or comment; otherwise encoded is returned.
func restoreLayout(orig, encoded []byte, opts *yaml.EncoderOptions) []byte {
	a, b := splitLines(orig), splitLines(encoded)
	ops, ok := diffLines(a, b, maxEditDistance)
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
		docs, err := parseDocs(cand)
		if err != nil {
			continue
		}
		if check, err := marshalDocs(docs, opts); err == nil && bytes.Equal(check, encoded) {
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
		for _, ai := range dels {
			if k := kept(ai); k != "" {
				slots = append(slots, slot{text: k, isKept: true})
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
	// Indentation depths of b mapped to a's, learnt from lines that kept their tokens.
	depth := map[int]int{}
	if spacing {
		for _, s := range slots {
			if !s.isKept && s.a >= 0 && sameTokens(a[s.a], s.b) {
				depth[indent(s.b)] = indent(a[s.a])
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
