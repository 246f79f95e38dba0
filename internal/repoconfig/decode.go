package repoconfig

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// extensionPrefix starts top-level keys daytwo ignores, so anchors have somewhere to live.
const extensionPrefix = "x-"

// maxNodes bounds the nodes decoded with aliases expanded, so a few anchors cannot make a
// small file expand into billions of values.
const maxNodes = 50_000

var (
	durationType = reflect.TypeOf(time.Duration(0))
	timeType     = reflect.TypeOf(time.Time{})
)

// decoder fills the config types from a parsed YAML tree. It reports unknown keys, wrong
// types and duplicate keys with their line and where they are, and remembers the line of
// every key it decodes so validation can point at it too.
type decoder struct {
	problems
	lines   map[string]int // key path ("environments[1].replicas.max") → line
	visited int
	tooBig  bool
	active  map[*yaml.Node]bool // nodes being decoded, to refuse aliases into themselves
}

// place is where a value sits in the file: its key path, and how a person names it.
type place struct {
	path  string // "environments[1].replicas.max"
	owner string // `environment "prod"`, `service "checkout"`; "" at the top level
	sub   string // path below the owner: "replicas.max"
}

func (p place) child(key string) place {
	q := p
	q.path = join(p.path, key)
	q.sub = join(p.sub, key)
	return q
}

func (p place) index(i int) place {
	q := p
	q.path = fmt.Sprintf("%s[%d]", p.path, i)
	q.sub = fmt.Sprintf("%s[%d]", p.sub, i)
	return q
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// String names the value: "replicas.max of environment \"prod\"", "defaults.overlay", "version".
func (p place) String() string {
	switch {
	case p.owner == "" && p.sub == "":
		return "the file"
	case p.owner == "":
		return p.sub
	case p.sub == "":
		return p.owner
	}
	return p.sub + " of " + p.owner
}

// in says where a key sits: "in environment \"prod\"", "in replicas of service \"x\"", "at the top level".
func (p place) in() string {
	if p.owner == "" && p.sub == "" {
		return "at the top level"
	}
	return "in " + p.String()
}

// elementNoun names list elements whose "name" key identifies them in messages.
var elementNoun = map[reflect.Type]string{
	reflect.TypeOf(Environment{}): "environment",
	reflect.TypeOf(Service{}):     "service",
	reflect.TypeOf(Workflow{}):    "workflow",
}

// enter resolves an alias and counts the node against maxNodes; nil means stop.
func (d *decoder) enter(n *yaml.Node) *yaml.Node {
	if d.tooBig || n == nil {
		return nil
	}
	alias := n
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil
		}
		n = n.Alias
	}
	if d.active[n] {
		d.add(alias.Line, "the alias *%s is used inside the value it names", alias.Value)
		return nil
	}
	return n
}

// count charges n units of work against maxNodes and reports whether decoding may go on.
func (d *decoder) count(n int) bool {
	d.visited += n
	if d.visited > maxNodes {
		d.tooBig = true
	}
	return !d.tooBig
}

// hold marks n as being decoded until the returned func runs.
func (d *decoder) hold(n *yaml.Node) func() {
	if d.active == nil {
		d.active = map[*yaml.Node]bool{}
	}
	d.active[n] = true
	return func() { delete(d.active, n) }
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "must be X, not Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return strconv.Quote(v)
	}
	return "empty"
}

// value decodes n into v.
func (d *decoder) value(n *yaml.Node, v reflect.Value, at place) {
	if n = d.enter(n); n == nil || !d.count(1) {
		return
	}
	defer d.hold(n)()
	d.resolved(n, v, at)
}

func (d *decoder) resolved(n *yaml.Node, v reflect.Value, at place) {
	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	switch v.Type() {
	case durationType:
		d.duration(n, v, at)
		return
	case timeType:
		d.timestamp(n, v, at)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.resolved(n, p.Elem(), at)
		v.Set(p)
	case reflect.Struct:
		d.structure(n, v, at)
	case reflect.Slice:
		d.list(n, v, at)
	case reflect.Map:
		d.dictionary(n, v, at)
	case reflect.String:
		if s, ok := d.text(n, at); ok {
			v.SetString(s)
		}
	case reflect.Int:
		d.integer(n, v, at)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.add(n.Line, "%s must be true or false, not %s", at, describe(n))
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.add(n.Line, "%s must be true or false, not %s", at, describe(n))
			return
		}
		v.SetBool(b)
	default:
		// Only reachable if a field of an unsupported type is added to the config types.
		d.add(n.Line, "%s has a type the loader does not support (%s)", at, v.Type())
	}
}

// pair is one key and value of a mapping; merged pairs come from a "<<" merge key.
type pair struct {
	key, val *yaml.Node
	merged   bool
}

// pairs lists a mapping's entries with "<<" merges expanded first, so that the mapping's
// own keys, applied later, win over merged ones.
func (d *decoder) pairs(n *yaml.Node, at place) []pair {
	var merged, own []pair
	if !d.count(len(n.Content) / 2) {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(v, at)...)
			continue
		}
		own = append(own, pair{key: k, val: v})
	}
	return append(merged, own...)
}

func (d *decoder) merge(v *yaml.Node, at place) []pair {
	if v = d.enter(v); v == nil {
		return nil
	}
	defer d.hold(v)()
	var out []pair
	// Merged pairs are copied once per level of merging: charge the copies too.
	defer func() { d.count(len(out)) }()
	switch v.Kind {
	case yaml.MappingNode:
		for _, p := range d.pairs(v, at) {
			p.merged = true
			out = append(out, p)
		}
	case yaml.SequenceNode:
		// Earlier mappings in the list win: apply them last.
		for i := len(v.Content) - 1; i >= 0; i-- {
			m := d.enter(v.Content[i])
			if m == nil {
				continue
			}
			if m.Kind != yaml.MappingNode {
				d.add(m.Line, "the << merge key %s takes mappings, not %s", at.in(), describe(m))
				continue
			}
			release := d.hold(m)
			for _, p := range d.pairs(m, at) {
				p.merged = true
				out = append(out, p)
			}
			release()
		}
	default:
		d.add(v.Line, "the << merge key %s takes a mapping or a list of mappings, not %s", at.in(), describe(v))
	}
	return out
}

// key reads a mapping key, reporting keys that are not plain text and repeated keys.
func (d *decoder) key(p pair, seen map[string]int, at place) (string, bool) {
	k := p.key
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode || isNull(k) {
		d.add(p.key.Line, "keys %s must be plain text, not %s", at.in(), describe(k))
		return "", false
	}
	if p.merged {
		return k.Value, true
	}
	if first, dup := seen[k.Value]; dup {
		d.add(p.key.Line, "key %q appears twice %s (first on line %d)", k.Value, at.in(), first)
		return "", false
	}
	seen[k.Value] = p.key.Line
	return k.Value, true
}

// yamlFields maps the YAML key of each field of a struct type to its index.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	idx := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		idx[name] = i
		names = append(names, name)
	}
	return idx, names
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, at place) {
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, "%s must be a mapping of keys, not %s", at, describe(n))
		return
	}
	fields, names := yamlFields(v.Type())
	seen := map[string]int{}
	for _, p := range d.pairs(n, at) {
		name, ok := d.key(p, seen, at)
		if !ok {
			continue
		}
		i, known := fields[name]
		if !known && at.path == "" && strings.HasPrefix(name, extensionPrefix) {
			continue // a place for anchors, as in Compose files
		}
		if !known {
			d.add(p.key.Line, "unknown key %q %s%s", name, at.in(), didYouMean(name, names))
			continue
		}
		child := at.child(name)
		if _, ok := d.lines[child.path]; !ok || !p.merged {
			d.lines[child.path] = p.key.Line
		}
		f := v.Field(i)
		f.Set(reflect.Zero(f.Type()))
		d.value(p.val, f, child)
	}
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, at place) {
	if n.Kind != yaml.SequenceNode {
		d.add(n.Line, "%s must be a list, not %s", at, describe(n))
		return
	}
	if len(n.Content) == 0 {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	noun := elementNoun[v.Type().Elem()]
	for i, item := range n.Content {
		child := at.index(i)
		if noun != "" {
			child = place{path: child.path, owner: child.String()}
			if name := nameOf(item); name != "" {
				child.owner = fmt.Sprintf("%s %q", noun, name)
				if at.owner != "" {
					// A list inside an environment or a service: say whose.
					child.owner += " of " + at.owner
				}
			}
		}
		d.lines[child.path] = item.Line
		d.value(item, s.Index(i), child)
	}
	v.Set(s)
}

// nameOf is the "name" of a mapping list element, for naming it in messages.
func nameOf(n *yaml.Node) string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; k.Value == "name" && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	return ""
}

func (d *decoder) dictionary(n *yaml.Node, v reflect.Value, at place) {
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, "%s must be a mapping, not %s", at, describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]int{}
	for _, p := range d.pairs(n, at) {
		name, ok := d.key(p, seen, at)
		if !ok {
			continue
		}
		child := at.child(name)
		if _, ok := d.lines[child.path]; !ok || !p.merged {
			d.lines[child.path] = p.key.Line
		}
		e := reflect.New(v.Type().Elem()).Elem()
		d.value(p.val, e, child)
		m.SetMapIndex(reflect.ValueOf(name), e)
	}
	if m.Len() > 0 {
		v.Set(m)
	} else {
		v.Set(reflect.Zero(v.Type()))
	}
}

func (d *decoder) text(n *yaml.Node, at place) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.add(n.Line, "%s must be text, not %s", at, describe(n))
		return "", false
	}
	s := n.Value
	if n.ShortTag() == "!!binary" {
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			d.add(n.Line, "%s is tagged !!binary but is not base64", at)
			return "", false
		}
		s = string(b)
	}
	if !utf8.ValidString(s) {
		d.add(n.Line, "%s must be UTF-8 text", at)
		return "", false
	}
	return s, true
}

func (d *decoder) integer(n *yaml.Node, v reflect.Value, at place) {
	var i int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		d.add(n.Line, "%s must be a whole number, not %s", at, describe(n))
		return
	}
	if i < -1<<31 || i > 1<<31-1 {
		d.add(n.Line, "%s is out of range (%d)", at, i)
		return
	}
	v.SetInt(i)
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, at place) {
	if n.Kind != yaml.ScalarNode {
		d.add(n.Line, "%s must be a duration such as \"10m\", not %s", at, describe(n))
		return
	}
	t, err := time.ParseDuration(n.Value)
	if err != nil {
		hint := ""
		if n.ShortTag() == "!!int" || n.ShortTag() == "!!float" {
			hint = " (a number needs a unit: s, m or h)"
		}
		d.add(n.Line, "%s must be a duration such as \"10m\" or \"1h30m\", not %s%s", at, describe(n), hint)
		return
	}
	v.SetInt(int64(t))
}

// timeLayouts are the timestamp forms accepted, RFC 3339 first.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02"}

func (d *decoder) timestamp(n *yaml.Node, v reflect.Value, at place) {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!str" || n.ShortTag() == "!!timestamp") {
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, n.Value); err == nil {
				// UTC: a time read back from its own output must compare equal.
				v.Set(reflect.ValueOf(t.UTC()))
				return
			}
		}
	}
	d.add(n.Line, "%s must be a time such as 2026-01-31T15:04:05Z, not %s", at, describe(n))
}
