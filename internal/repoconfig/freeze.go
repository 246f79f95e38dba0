package repoconfig

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"gopkg.in/yaml.v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/yamledit"
)

// SetFreeze returns the config file with environments[name=env].freeze set to f, or
// removed when f is nil. The file is edited with kyaml and written back in its own layout
// (yamledit), so comments, blank lines, key order, quoting and list indentation stay as
// written and the pull request shows the freeze alone. The result is checked to differ
// from the file in that freeze only.
func SetFreeze(file []byte, env string, f *Freeze) ([]byte, error) {
	if len(file) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d KiB", Path, MaxFileSize>>10)
	}
	if f != nil {
		g := *f
		g.Since = g.Since.UTC()
		f = &g
	}
	src, crlf := yamledit.ToLF(file)
	docs, err := yamledit.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", Path, err)
	}
	if len(docs) != 1 || len(docs[0].Content) == 0 || yamledit.Deref(docs[0].Content[0]).Kind != kyaml.MappingNode {
		return nil, fmt.Errorf("%s is not a mapping", Path)
	}
	doc := kyaml.NewRNode(yamledit.Deref(docs[0].Content[0]))
	envs, err := doc.Pipe(kyaml.Lookup("environments"))
	if err != nil {
		return nil, fmt.Errorf("finding environments in %s: %w", Path, err)
	}
	if envs == nil || yamledit.Deref(envs.YNode()).Kind != kyaml.SequenceNode {
		return nil, fmt.Errorf("%s has no environments list", Path)
	}
	envs = kyaml.NewRNode(yamledit.Deref(envs.YNode()))
	item, err := envs.Pipe(kyaml.MatchElement("name", env))
	if err != nil {
		return nil, fmt.Errorf("finding environment %q in %s: %w", env, Path, err)
	}
	if item == nil {
		return nil, fmt.Errorf("%s has no environment %q", Path, env)
	}
	if f == nil {
		if _, err := item.Pipe(kyaml.Clear("freeze")); err != nil {
			return nil, fmt.Errorf("removing the freeze of %q: %w", env, err)
		}
	} else if err := setFreezeNode(item, f); err != nil {
		return nil, fmt.Errorf("setting the freeze of %q: %w", env, err)
	}
	out, err := yamledit.Encode(src, docs)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", Path, err)
	}
	if err := onlyFreezeChanged(string(src), string(out), env, f); err != nil {
		return nil, err
	}
	if crlf {
		out = yamledit.ToCRLF(out)
	}
	return out, nil
}

// setFreezeNode sets the freeze of an environment in block style, whatever style the
// one it replaces had, keeping a comment written beside it.
func setFreezeNode(item *kyaml.RNode, f *Freeze) error {
	var comment string
	if old, err := item.Pipe(kyaml.Lookup("freeze")); err == nil && old != nil {
		comment = old.YNode().LineComment
	}
	if err := item.PipeE(kyaml.FieldSetter{Name: "freeze", Value: freezeNode(f), OverrideStyle: true}); err != nil {
		return err
	}
	m := item.YNode()
	for i := 0; comment != "" && i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Value == "freeze" && k.LineComment == "" {
			k.LineComment = comment
		}
	}
	return nil
}

// errSpliceMismatch is an edit that changed more than the freeze.
var errSpliceMismatch = errors.New("the edit changed more than the freeze")

func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
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
