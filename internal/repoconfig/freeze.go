package repoconfig

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// SetFreeze returns the config file with environments[name=env].freeze set to f, or
// removed when f is nil. The file is edited in place: only the lines of the freeze
// change, so comments, blank lines, key order, quoting and list indentation stay as
// written and the pull request shows the freeze alone. Where the environment is written
// in flow style, the document is re-encoded with kyaml instead (comments and key order
// kept, blank lines not). Either way the result is checked to differ from the file in
// that freeze only.
func SetFreeze(file []byte, env string, f *Freeze) ([]byte, error) {
	if len(file) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d KiB", Path, MaxFileSize>>10)
	}
	if f != nil {
		g := *f
		g.Since = g.Since.UTC()
		f = &g
	}
	crlf := bytes.Contains(file, []byte("\r\n"))
	src := string(file)
	if crlf {
		src = strings.ReplaceAll(src, "\r\n", "\n")
	}
	out, err := spliceFreeze(src, env, f)
	if err == nil {
		err = onlyFreezeChanged(src, out, env, f)
	}
	if err != nil {
		if !errors.Is(err, errNoSplice) && !errors.Is(err, errSpliceMismatch) {
			return nil, err
		}
		if out, err = rewriteFreeze(src, env, f); err != nil {
			return nil, err
		}
		if err := onlyFreezeChanged(src, out, env, f); err != nil {
			return nil, err
		}
	}
	if crlf {
		out = strings.ReplaceAll(out, "\n", "\r\n")
	}
	return []byte(out), nil
}

var (
	errNoSplice       = errors.New("the environment is not written in block style")
	errSpliceMismatch = errors.New("the edit changed more than the freeze")
)

// spliceFreeze replaces the lines of the freeze entry (or appends one to the
// environment's mapping) in the text itself.
func spliceFreeze(src, env string, f *Freeze) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return "", fmt.Errorf("parsing %s: %w", Path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return "", fmt.Errorf("%s is not a mapping", Path)
	}
	root := doc.Content[0]
	if root.Style&yaml.FlowStyle != 0 {
		return "", errNoSplice
	}
	ki := keyIndex(root, "environments")
	if ki < 0 {
		return "", fmt.Errorf("%s has no environments list", Path)
	}
	seq := root.Content[ki+1]
	if seq.Kind != yaml.SequenceNode {
		if seq.Kind == yaml.AliasNode {
			return "", errNoSplice
		}
		return "", fmt.Errorf("%s has no environments list", Path)
	}
	if seq.Style&yaml.FlowStyle != 0 {
		return "", errNoSplice
	}
	item, next := -1, 0
	for i, n := range seq.Content {
		if nameOf(n) == env {
			item = i
			break
		}
	}
	if item < 0 {
		return "", fmt.Errorf("%s has no environment %q", Path, env)
	}
	lines := strings.Split(src, "\n")
	switch m := seq.Content[item]; {
	case m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0:
		return "", errNoSplice
	case item+1 < len(seq.Content):
		next = seq.Content[item+1].Line
	case ki+2 < len(root.Content):
		next = root.Content[ki+2].Line
	default:
		next = len(lines) + 1
	}
	m := seq.Content[item]
	unit := indentUnit(m)

	if fi := keyIndex(m, "freeze"); fi >= 0 {
		k, v := m.Content[fi], m.Content[fi+1]
		after := next
		if fi+2 < len(m.Content) {
			after = m.Content[fi+2].Line
		}
		start, end := k.Line, entryEnd(lines, k.Line, lastLine(v), after)
		if f == nil {
			// The key's own comment goes with it.
			for k.HeadComment != "" && start > 1 && isCommentAt(lines[start-2], k.Column-1) {
				start--
			}
			return joinLines(lines[:start-1], lines[end:]), nil
		}
		block, err := renderFreeze(f, k.Column-1, unit)
		if err != nil {
			return "", err
		}
		// Keep a comment written beside the key.
		if c := k.LineComment; c != "" {
			block[0] += " " + c
		} else if c := v.LineComment; c != "" && v.Line == k.Line {
			block[0] += " " + c
		}
		return joinLines(lines[:start-1], block, lines[end:]), nil
	}
	if f == nil {
		return src, nil
	}
	end := entryEnd(lines, m.Line, lastLine(m), next)
	block, err := renderFreeze(f, m.Content[0].Column-1, unit)
	if err != nil {
		return "", err
	}
	return joinLines(lines[:end], block, lines[end:]), nil
}

func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// entryEnd is the last line (1-based) of an entry starting at start whose content reaches
// at least line min, when the next entry starts at line next. Blank and comment lines
// before next belong to the next entry.
func entryEnd(lines []string, start, min, next int) int {
	e := next - 1
	if e > len(lines) {
		e = len(lines)
	}
	for e > min && e > start && isTrivia(lines[e-1]) {
		e--
	}
	return e
}

func isTrivia(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || t == "-" || t == "---" || t == "..." || strings.HasPrefix(t, "#")
}

func isCommentAt(line string, indent int) bool {
	return len(line) > indent && strings.TrimLeft(line[:indent], " ") == "" && line[indent] == '#'
}

// lastLine is the last line a node's text reaches, as far as the parser tells.
func lastLine(n *yaml.Node) int {
	l := n.Line
	if n.Kind == yaml.ScalarNode && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
		l += strings.Count(n.Value, "\n")
		if !strings.HasSuffix(n.Value, "\n") {
			l++
		}
	}
	for _, c := range n.Content {
		l = max(l, lastLine(c))
	}
	return l
}

// indentUnit is the indentation a nested block mapping of m uses, 2 when m has none.
func indentUnit(m *yaml.Node) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && v.Content[0].Column > k.Column {
			return v.Content[0].Column - k.Column
		}
	}
	return 2
}

// renderFreeze is the "freeze:" entry as lines indented by indent spaces.
func renderFreeze(f *Freeze, indent, unit int) ([]string, error) {
	entry := kyaml.NewRNode(&kyaml.Node{Kind: kyaml.MappingNode})
	entry.YNode().Content = []*kyaml.Node{{Kind: kyaml.ScalarNode, Value: "freeze"}, freezeNode(f).YNode()}
	var buf bytes.Buffer
	enc := kyaml.NewEncoder(&buf)
	enc.SetIndent(unit)
	if err := enc.Encode(entry.YNode()); err != nil {
		return nil, fmt.Errorf("encoding the freeze: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding the freeze: %w", err)
	}
	out := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	pad := strings.Repeat(" ", indent)
	for i, l := range out {
		if l != "" {
			out[i] = pad + l
		}
	}
	return out, nil
}

func joinLines(parts ...[]string) string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return strings.Join(all, "\n")
}

// rewriteFreeze edits the freeze with kyaml and re-encodes the whole document.
func rewriteFreeze(src, env string, f *Freeze) (string, error) {
	doc, err := kyaml.Parse(src)
	if err != nil {
		return "", fmt.Errorf("parsing %s: %w", Path, err)
	}
	if doc.YNode() == nil || doc.YNode().Kind != kyaml.MappingNode {
		return "", fmt.Errorf("%s is not a mapping", Path)
	}
	envs, err := doc.Pipe(kyaml.Lookup("environments"))
	if err != nil {
		return "", fmt.Errorf("finding environments in %s: %w", Path, err)
	}
	if envs == nil || envs.YNode().Kind != kyaml.SequenceNode {
		return "", fmt.Errorf("%s has no environments list", Path)
	}
	item, err := envs.Pipe(kyaml.MatchElement("name", env))
	if err != nil {
		return "", fmt.Errorf("finding environment %q in %s: %w", env, Path, err)
	}
	if item == nil {
		return "", fmt.Errorf("%s has no environment %q", Path, env)
	}
	if f == nil {
		if _, err := item.Pipe(kyaml.Clear("freeze")); err != nil {
			return "", fmt.Errorf("removing the freeze of %q: %w", env, err)
		}
	} else if _, err := item.Pipe(kyaml.SetField("freeze", freezeNode(f))); err != nil {
		return "", fmt.Errorf("setting the freeze of %q: %w", env, err)
	}
	out, err := kyaml.MarshalWithOptions(doc.Document(), &kyaml.EncoderOptions{
		SeqIndent: kyaml.SequenceIndentStyle(kyaml.DeriveSeqIndentStyle(src)),
	})
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", Path, err)
	}
	return string(out), nil
}

// freezeNode is the YAML of a freeze, keys in a fixed order; an empty freeze is `{}`.
func freezeNode(f *Freeze) *kyaml.RNode {
	m := kyaml.NewRNode(&kyaml.Node{Kind: kyaml.MappingNode})
	add := func(k string, v *kyaml.Node) {
		m.YNode().Content = append(m.YNode().Content, &kyaml.Node{Kind: kyaml.ScalarNode, Value: k}, v)
	}
	text := func(s string) *kyaml.Node {
		n := kyaml.NewStringRNode(s).YNode()
		// yes, on, no… are booleans to YAML 1.1 readers: quote them.
		if n.Style == 0 && kyaml.IsYaml1_1NonString(n) {
			n.Style = kyaml.DoubleQuotedStyle
		}
		return n
	}
	if f.Reason != "" {
		add("reason", text(f.Reason))
	}
	if f.By != "" {
		add("by", text(f.By))
	}
	if !f.Since.IsZero() {
		add("since", &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!timestamp", Value: f.Since.UTC().Format(time.RFC3339Nano)})
	}
	if len(m.YNode().Content) == 0 {
		m.YNode().Style = kyaml.FlowStyle
	}
	return m
}

// onlyFreezeChanged checks that after is before with env's freeze set to f: the data of
// both, that freeze left out, is equal, and after's freeze decodes to f.
func onlyFreezeChanged(before, after, env string, f *Freeze) error {
	var b, a any
	if err := yaml.Unmarshal([]byte(before), &b); err != nil {
		return fmt.Errorf("parsing %s: %w", Path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(after), &doc); err != nil {
		return fmt.Errorf("%w: the result does not parse: %v", errSpliceMismatch, err)
	}
	if err := doc.Decode(&a); err != nil {
		return fmt.Errorf("%w: the result does not decode: %v", errSpliceMismatch, err)
	}
	b, a = comparable(b), comparable(a)
	dropFreeze(b, env)
	if !dropFreeze(a, env) {
		if f != nil {
			return fmt.Errorf("%w: the result has no freeze", errSpliceMismatch)
		}
	} else if f == nil {
		return fmt.Errorf("%w: the result still has a freeze", errSpliceMismatch)
	}
	if !reflect.DeepEqual(a, b) {
		return errSpliceMismatch
	}
	if f == nil {
		return nil
	}
	if got := decodeFreeze(&doc, env); !reflect.DeepEqual(got, f) {
		return fmt.Errorf("%w: the freeze reads back as %+v", errSpliceMismatch, got)
	}
	return nil
}

// comparable makes decoded YAML comparable with reflect.DeepEqual: times become their
// UTC text (locations are pointers) and NaN a string.
func comparable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = comparable(e)
		}
	case map[any]any:
		for k, e := range t {
			t[k] = comparable(e)
		}
	case []any:
		for i, e := range t {
			t[i] = comparable(e)
		}
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	case float64:
		if t != t {
			return "NaN"
		}
	}
	return v
}

// dropFreeze deletes the freeze of the first environment named env; it reports whether
// there was one.
func dropFreeze(doc any, env string) bool {
	root, _ := doc.(map[string]any)
	envs, _ := root["environments"].([]any)
	for _, e := range envs {
		m, ok := e.(map[string]any)
		if !ok || m["name"] != env {
			continue
		}
		_, had := m["freeze"]
		delete(m, "freeze")
		return had
	}
	return false
}

// decodeFreeze reads the freeze of the first environment named env, nil when there is none
// or it does not decode.
func decodeFreeze(doc *yaml.Node, env string) *Freeze {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	root := doc.Content[0]
	ki := keyIndex(root, "environments")
	if ki < 0 {
		return nil
	}
	seq := root.Content[ki+1]
	for seq.Kind == yaml.AliasNode && seq.Alias != nil {
		seq = seq.Alias
	}
	for _, n := range seq.Content {
		if nameOf(n) != env {
			continue
		}
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		fi := keyIndex(n, "freeze")
		if fi < 0 {
			return nil
		}
		d := &decoder{lines: map[string]int{}}
		var f *Freeze
		d.value(n.Content[fi+1], reflect.ValueOf(&f).Elem(), place{sub: "freeze"})
		if d.err() != nil || d.tooBig {
			return nil
		}
		return f
	}
	return nil
}
