package overlay

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/valid"
	"github.com/daytwo-dev/daytwo/internal/yamledit"
)

// Edits of a kustomization file take its bytes and return new bytes. Comments, key order
// and sequence indentation of the hand-written file are kept; when an edit changes
// nothing the input is returned as is.

// kust is a parsed kustomization file.
type kust struct {
	orig []byte     // with "\n" line endings
	crlf bool       // the file had Windows line endings
	doc  *yaml.Node // the document node
	root *yaml.RNode
}

func parseKust(in []byte) (*kust, error) {
	b, crlf := yamledit.ToLF(in)
	docs, err := yamledit.Parse(b)
	if err != nil {
		return nil, err
	}
	if len(docs) > 1 {
		return nil, fmt.Errorf("the file holds %d YAML documents; a kustomization is one document", len(docs))
	}
	var doc *yaml.Node
	if len(docs) == 1 {
		doc = docs[0]
	} else {
		doc = &yaml.Node{Kind: yaml.DocumentNode}
	}
	if len(doc.Content) == 0 || yamledit.IsNull(doc.Content[0]) {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, yamledit.LineErrorf(root, "a kustomization must be a mapping, not %s", yamledit.KindName(root))
	}
	return &kust{orig: b, crlf: crlf, doc: doc, root: yaml.NewRNode(root)}, nil
}

func (k *kust) bytes() ([]byte, error) {
	out, err := yamledit.Encode(k.orig, []*yaml.Node{k.doc})
	if err != nil || !k.crlf {
		return out, err
	}
	return yamledit.ToCRLF(out), nil
}

// list returns the list under field, nil when absent or null.
func list(parent *yaml.RNode, field string) (*yaml.RNode, error) {
	f, err := parent.Pipe(yaml.Lookup(field))
	if err != nil {
		return nil, err
	}
	if f == nil || yamledit.IsNull(f.YNode()) {
		return nil, nil
	}
	n := yamledit.Deref(f.YNode())
	if n.Kind != yaml.SequenceNode {
		return nil, yamledit.LineErrorf(n, "%s must be a list, not %s", field, yamledit.KindName(n))
	}
	return yaml.NewRNode(n), nil
}

// ensureList returns the list under field, creating it (or replacing a null) if needed.
func ensureList(parent *yaml.RNode, field string) (*yaml.RNode, error) {
	return ensure(parent, field, yaml.SequenceNode)
}

// ensure returns the node of kind under field, creating it when absent and replacing a
// null value in place (its comments stay).
func ensure(parent *yaml.RNode, field string, kind yaml.Kind) (*yaml.RNode, error) {
	f, err := parent.Pipe(yaml.Lookup(field))
	if err != nil {
		return nil, err
	}
	if f == nil {
		return parent.Pipe(yaml.LookupCreate(kind, field))
	}
	n := f.YNode()
	if yamledit.IsNull(n) {
		n.Kind, n.Tag, n.Value, n.Style, n.Alias, n.Content = kind, "", "", 0, nil, nil
		return yaml.NewRNode(n), nil
	}
	n = yamledit.Deref(n)
	if n.Kind != kind {
		want := "a mapping"
		if kind == yaml.SequenceNode {
			want = "a list"
		}
		return nil, yamledit.LineErrorf(n, "%s must be %s, not %s", field, want, yamledit.KindName(n))
	}
	return yaml.NewRNode(n), nil
}

// element returns the mapping of list whose field key equals value.
func element(l *yaml.RNode, key, value string) (*yaml.RNode, error) {
	if l == nil {
		return nil, nil
	}
	for _, e := range l.YNode().Content {
		e = yamledit.Deref(e)
		if e.Kind != yaml.MappingNode {
			return nil, yamledit.LineErrorf(e, "list entries must be mappings, not %s", yamledit.KindName(e))
		}
	}
	return l.Pipe(yaml.MatchElement(key, value))
}

// scalar reads a string field of a mapping; "" when absent or null.
func scalar(m *yaml.RNode, field string) (string, *yaml.Node, error) {
	f, err := m.Pipe(yaml.Lookup(field))
	if err != nil || f == nil || yamledit.IsNull(f.YNode()) {
		return "", nil, err
	}
	n := yamledit.Deref(f.YNode())
	if n.Kind != yaml.ScalarNode {
		return "", nil, yamledit.LineErrorf(n, "%s must be a string, not %s", field, yamledit.KindName(n))
	}
	return n.Value, n, nil
}

// setScalar sets a string field, keeping the existing value node's comments and style.
// It reports whether the value changed.
func setScalar(m *yaml.RNode, field, value string) (bool, error) {
	old, n, err := scalar(m, field)
	if err != nil {
		return false, err
	}
	if n != nil {
		if old == value && n.ShortTag() == yaml.NodeTagString {
			return false, nil
		}
		yamledit.SetString(n, value)
		return true, nil
	}
	if err := m.PipeE(yaml.SetField(field, yaml.NewRNode(yamledit.StringNode(value)))); err != nil {
		return false, err
	}
	return true, nil
}

// clearField removes a field; it reports whether it was there.
func clearField(m *yaml.RNode, field string) (bool, error) {
	removed, err := m.Pipe(yaml.Clear(field))
	return removed != nil, err
}

// ImageEdit is the images entry of one image: the name it is renamed to, its tag, its digest.
type ImageEdit struct{ NewName, NewTag, Digest string }

// findImage returns the images entry of name; the deprecated imageTags list counts too.
func findImage(k *kust, name string) (*yaml.RNode, error) {
	for _, field := range []string{"images", "imageTags"} {
		l, err := list(k.root, field)
		if err != nil {
			return nil, err
		}
		e, err := element(l, "name", name)
		if err != nil || e != nil {
			return e, err
		}
	}
	return nil, nil
}

// GetImage reads images[name=name].
func GetImage(kustomization []byte, name string) (ImageEdit, bool, error) {
	k, err := parseKust(kustomization)
	if err != nil {
		return ImageEdit{}, false, err
	}
	e, err := findImage(k, name)
	if err != nil || e == nil {
		return ImageEdit{}, false, err
	}
	var img ImageEdit
	for _, f := range []struct {
		name string
		dst  *string
	}{{"newName", &img.NewName}, {"newTag", &img.NewTag}, {"digest", &img.Digest}} {
		if *f.dst, _, err = scalar(e, f.name); err != nil {
			return ImageEdit{}, false, err
		}
	}
	return img, true, nil
}

// SetImage adds or updates images[name=name]. Setting a tag clears the digest and the
// reverse, unless both are given; an empty NewName keeps the existing one.
func SetImage(kustomization []byte, name string, e ImageEdit) ([]byte, error) {
	if err := validateImage(name, e); err != nil {
		return nil, err
	}
	k, err := parseKust(kustomization)
	if err != nil {
		return nil, err
	}
	entry, err := findImage(k, name)
	if err != nil {
		return nil, err
	}
	if entry == nil {
		l, err := ensureList(k.root, "images")
		if err != nil {
			return nil, err
		}
		m := yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode})
		for _, f := range [][2]string{{"name", name}, {"newName", e.NewName}, {"newTag", e.NewTag}, {"digest", e.Digest}} {
			if f[1] != "" {
				if err := m.PipeE(yaml.SetField(f[0], yaml.NewRNode(yamledit.StringNode(f[1])))); err != nil {
					return nil, err
				}
			}
		}
		if _, err := l.Pipe(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{name}, Element: m.YNode()}); err != nil {
			return nil, err
		}
		return k.bytes()
	}
	changed := false
	set := func(field, value string) error {
		c, err := setScalar(entry, field, value)
		changed = changed || c
		return err
	}
	clear := func(field string) error {
		c, err := clearField(entry, field)
		changed = changed || c
		return err
	}
	if e.NewName != "" {
		if err := set("newName", e.NewName); err != nil {
			return nil, err
		}
	}
	if e.NewTag != "" {
		if err := set("newTag", e.NewTag); err != nil {
			return nil, err
		}
		if e.Digest == "" {
			if err := clear("digest"); err != nil {
				return nil, err
			}
		}
	}
	if e.Digest != "" {
		if err := set("digest", e.Digest); err != nil {
			return nil, err
		}
		if e.NewTag == "" {
			if err := clear("newTag"); err != nil {
				return nil, err
			}
		}
	}
	if !changed {
		return kustomization, nil
	}
	return k.bytes()
}

func validateImage(name string, e ImageEdit) error {
	if err := valid.ImageName(name); err != nil {
		return err
	}
	if e.NewName == "" && e.NewTag == "" && e.Digest == "" {
		return fmt.Errorf("image %s: nothing to set (no new name, tag or digest)", name)
	}
	for _, c := range []struct {
		value string
		check func(string) error
	}{{e.NewName, valid.ImageName}, {e.NewTag, valid.Tag}, {e.Digest, valid.Digest}} {
		if c.value == "" {
			continue
		}
		if err := c.check(c.value); err != nil {
			return fmt.Errorf("image %s: %w", name, err)
		}
	}
	return nil
}

// SetReplicas adds or updates replicas[name=name].count.
func SetReplicas(kustomization []byte, name string, count int) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("replicas: empty resource name")
	}
	if count < 0 {
		return nil, fmt.Errorf("replicas of %s: %d is negative", name, count)
	}
	k, err := parseKust(kustomization)
	if err != nil {
		return nil, err
	}
	l, err := ensureList(k.root, "replicas")
	if err != nil {
		return nil, err
	}
	e, err := element(l, "name", name)
	if err != nil {
		return nil, err
	}
	value := strconv.Itoa(count)
	if e == nil {
		m := yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode})
		if err := m.PipeE(yaml.SetField("name", yaml.NewRNode(yamledit.StringNode(name)))); err != nil {
			return nil, err
		}
		if err := m.PipeE(yaml.SetField("count", yaml.NewRNode(intNode(value)))); err != nil {
			return nil, err
		}
		if _, err := l.Pipe(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{name}, Element: m.YNode()}); err != nil {
			return nil, err
		}
		return k.bytes()
	}
	old, n, err := scalar(e, "count")
	if err != nil {
		return nil, err
	}
	if n == nil {
		if err := e.PipeE(yaml.SetField("count", yaml.NewRNode(intNode(value)))); err != nil {
			return nil, err
		}
		return k.bytes()
	}
	if old == value && n.ShortTag() == yaml.NodeTagInt {
		return kustomization, nil
	}
	n.Tag, n.Value, n.Style = yaml.NodeTagInt, value, 0
	return k.bytes()
}

func intNode(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: v}
}

// GetLiterals reads configMapGenerator[name=configMap].literals; found reports whether
// the generator exists in this kustomization.
func GetLiterals(kustomization []byte, configMap string) ([]valid.KeyValue, bool, error) {
	k, err := parseKust(kustomization)
	if err != nil {
		return nil, false, err
	}
	l, err := list(k.root, "configMapGenerator")
	if err != nil {
		return nil, false, err
	}
	g, err := element(l, "name", configMap)
	if err != nil || g == nil {
		return nil, false, err
	}
	lits, err := list(g, "literals")
	if err != nil || lits == nil {
		return nil, true, err
	}
	var out []valid.KeyValue
	for _, n := range lits.YNode().Content {
		n = yamledit.Deref(n)
		if n.Kind != yaml.ScalarNode {
			return nil, false, yamledit.LineErrorf(n, "literals of %s must be strings", configMap)
		}
		key, value, ok := strings.Cut(n.Value, "=")
		if !ok || key == "" {
			return nil, false, yamledit.LineErrorf(n, "literal %q of %s is not key=value", n.Value, configMap)
		}
		out = append(out, valid.KeyValue{Key: key, Value: unquoteLiteral(value)})
	}
	return out, true, nil
}

// SetLiterals sets and removes literals of the ConfigMap generator named configMap. When
// this kustomization has no such generator, one is added with `behavior: merge`: the
// base defines the ConfigMap and the overlay merges into it.
func SetLiterals(kustomization []byte, configMap string, set []valid.KeyValue, unset []string) ([]byte, error) {
	if configMap == "" {
		return nil, fmt.Errorf("configMapGenerator: empty ConfigMap name")
	}
	setKeys := map[string]bool{}
	for _, kv := range set {
		if err := valid.ConfigMapKey(kv.Key); err != nil {
			return nil, fmt.Errorf("ConfigMap %s: %w", configMap, err)
		}
		if setKeys[kv.Key] {
			return nil, fmt.Errorf("ConfigMap %s: key %s is set twice", configMap, kv.Key)
		}
		setKeys[kv.Key] = true
	}
	for _, key := range unset {
		if err := valid.ConfigMapKey(key); err != nil {
			return nil, fmt.Errorf("ConfigMap %s: %w", configMap, err)
		}
		if setKeys[key] {
			return nil, fmt.Errorf("ConfigMap %s: key %s is both set and removed", configMap, key)
		}
	}
	k, err := parseKust(kustomization)
	if err != nil {
		return nil, err
	}
	l, err := list(k.root, "configMapGenerator")
	if err != nil {
		return nil, err
	}
	g, err := element(l, "name", configMap)
	if err != nil {
		return nil, err
	}
	if g == nil {
		if len(set) == 0 {
			return kustomization, nil
		}
		if l, err = ensureList(k.root, "configMapGenerator"); err != nil {
			return nil, err
		}
		m := yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode})
		lits := &yaml.Node{Kind: yaml.SequenceNode}
		for _, kv := range set {
			lits.Content = append(lits.Content, yamledit.StringNode(literal(kv)))
		}
		for _, f := range []struct {
			name  string
			value *yaml.Node
		}{{"name", yamledit.StringNode(configMap)}, {"behavior", yamledit.StringNode("merge")}, {"literals", lits}} {
			if err := m.PipeE(yaml.SetField(f.name, yaml.NewRNode(f.value))); err != nil {
				return nil, err
			}
		}
		if _, err := l.Pipe(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{configMap}, Element: m.YNode()}); err != nil {
			return nil, err
		}
		return k.bytes()
	}

	changed := false
	lits, err := list(g, "literals")
	if err != nil {
		return nil, err
	}
	if lits != nil {
		// Remove unset keys; update set keys in place, keeping their comments.
		remove := map[string]bool{}
		for _, key := range unset {
			remove[key] = true
		}
		var kept []*yaml.Node
		for _, n := range lits.YNode().Content {
			d := yamledit.Deref(n)
			if d.Kind != yaml.ScalarNode {
				return nil, yamledit.LineErrorf(d, "literals of %s must be strings", configMap)
			}
			key, value, ok := strings.Cut(d.Value, "=")
			if !ok || key == "" {
				return nil, yamledit.LineErrorf(d, "literal %q of %s is not key=value", d.Value, configMap)
			}
			if remove[key] {
				changed = true
				continue
			}
			for _, kv := range set {
				if kv.Key == key && unquoteLiteral(value) != kv.Value {
					yamledit.SetString(d, literal(kv))
					changed = true
				}
			}
			kept = append(kept, n)
		}
		lits.YNode().Content = kept
	}
	var missing []valid.KeyValue
	for _, kv := range set {
		if !hasLiteral(lits, kv.Key) {
			missing = append(missing, kv)
		}
	}
	if len(missing) > 0 {
		if lits, err = ensureList(g, "literals"); err != nil {
			return nil, err
		}
		for _, kv := range missing {
			lits.YNode().Content = append(lits.YNode().Content, yamledit.StringNode(literal(kv)))
		}
		changed = true
	}
	if lits != nil && len(lits.YNode().Content) == 0 {
		if _, err := clearField(g, "literals"); err != nil {
			return nil, err
		}
	}
	if !changed {
		return kustomization, nil
	}
	return k.bytes()
}

func hasLiteral(lits *yaml.RNode, key string) bool {
	if lits == nil {
		return false
	}
	for _, n := range lits.YNode().Content {
		if k, _, _ := strings.Cut(yamledit.Deref(n).Value, "="); k == key {
			return true
		}
	}
	return false
}

// literal writes key=value so that kustomize reads value back: it strips one pair of
// matching surrounding quotes, so a value that has them gets one more pair.
func literal(kv valid.KeyValue) string {
	v := kv.Value
	if unquoteLiteral(v) != v {
		v = `"` + v + `"`
	}
	return kv.Key + "=" + v
}

// unquoteLiteral is kustomize's reading of a literal value.
func unquoteLiteral(s string) string {
	if len(s) >= 2 && s[0] == s[len(s)-1] && (s[0] == '"' || s[0] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// EnsurePatch adds `patches: - path: <patchPath>` unless the kustomization already
// applies that file (through patches or patchesStrategicMerge).
func EnsurePatch(kustomization []byte, patchPath string) ([]byte, error) {
	clean := path.Clean(patchPath)
	switch {
	case strings.TrimSpace(patchPath) == "":
		return nil, fmt.Errorf("patch path is empty")
	case path.IsAbs(patchPath) || isRemote(patchPath) || clean == ".." || strings.HasPrefix(clean, "../"):
		return nil, fmt.Errorf("patch path %q must be a file below the kustomization's directory", patchPath)
	}
	k, err := parseKust(kustomization)
	if err != nil {
		return nil, err
	}
	if l, err := list(k.root, "patchesStrategicMerge"); err != nil {
		return nil, err
	} else if l != nil {
		for _, n := range l.YNode().Content {
			if n = yamledit.Deref(n); n.Kind == yaml.ScalarNode && path.Clean(n.Value) == clean {
				return kustomization, nil
			}
		}
	}
	patches, err := list(k.root, "patches")
	if err != nil {
		return nil, err
	}
	if patches != nil {
		for _, n := range patches.YNode().Content {
			n = yamledit.Deref(n)
			if n.Kind != yaml.MappingNode {
				return nil, yamledit.LineErrorf(n, "entries of patches must be mappings, not %s", yamledit.KindName(n))
			}
			p, _, err := scalar(yaml.NewRNode(n), "path")
			if err != nil {
				return nil, err
			}
			if p != "" && path.Clean(p) == clean {
				return kustomization, nil
			}
		}
	}
	if patches, err = ensureList(k.root, "patches"); err != nil {
		return nil, err
	}
	m := yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode})
	if err := m.PipeE(yaml.SetField("path", yaml.NewRNode(yamledit.StringNode(patchPath)))); err != nil {
		return nil, err
	}
	if _, err := patches.Pipe(yaml.Append(m.YNode())); err != nil {
		return nil, err
	}
	return k.bytes()
}
