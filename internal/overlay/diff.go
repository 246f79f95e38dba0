package overlay

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/yamledit"
)

// Diff is a unified diff of every resource that is added, removed or modified between
// two renders, each headed by its ID: modified and added ones in the order of after,
// then removed ones in the order of before. Identical renders give "".
//
// A generated ConfigMap or Secret whose name hash changed is diffed against its earlier
// self instead of showing as removed and added. Secret values are replaced by a digest.
func Diff(before, after *Rendered) string {
	var b, a []Resource
	if before != nil {
		b = before.resources
	}
	if after != nil {
		a = after.resources
	}
	// Match by identity first, then pair what is left by name without generator hash.
	matchB := make([]int, len(b))
	matchA := make([]int, len(a))
	for i := range matchB {
		matchB[i] = -1
	}
	for i := range matchA {
		matchA[i] = -1
	}
	index := map[string][]int{}
	for i, r := range b {
		index[diffKey(r, r.Name)] = append(index[diffKey(r, r.Name)], i)
	}
	for j, r := range a {
		k := diffKey(r, r.Name)
		if is := index[k]; len(is) > 0 {
			matchA[j], matchB[is[0]] = is[0], j
			index[k] = is[1:]
		}
	}
	unhashed := map[string][]int{}
	for i, r := range b {
		if matchB[i] < 0 {
			if base, ok := trimNameHash(r); ok {
				unhashed[diffKey(r, base)] = append(unhashed[diffKey(r, base)], i)
			}
		}
	}
	counts := map[string]int{}
	for j, r := range a {
		if matchA[j] < 0 {
			if base, ok := trimNameHash(r); ok {
				counts[diffKey(r, base)]++
			}
		}
	}
	for j, r := range a {
		if matchA[j] >= 0 {
			continue
		}
		base, ok := trimNameHash(r)
		if !ok {
			continue
		}
		k := diffKey(r, base)
		if is := unhashed[k]; len(is) == 1 && counts[k] == 1 {
			matchA[j], matchB[is[0]] = is[0], j
		}
	}

	var sb strings.Builder
	for j, r := range a {
		if i := matchA[j]; i >= 0 {
			writeResourceDiff(&sb, &b[i], &r)
		} else {
			writeResourceDiff(&sb, nil, &r)
		}
	}
	for i, r := range b {
		if matchB[i] < 0 {
			writeResourceDiff(&sb, &r, nil)
		}
	}
	return sb.String()
}

// diffKey identifies a resource across renders: API group (not version), kind,
// namespace and name.
func diffKey(r Resource, name string) string {
	group, _, _ := strings.Cut(r.APIVersion, "/")
	if !strings.Contains(r.APIVersion, "/") {
		group = ""
	}
	return group + "\x00" + r.Kind + "\x00" + r.Namespace + "\x00" + name
}

// trimNameHash strips the "-<hash>" suffix kustomize appends to generated ConfigMaps
// and Secrets.
func trimNameHash(r Resource) (string, bool) {
	if r.Kind != "ConfigMap" && r.Kind != "Secret" {
		return "", false
	}
	i := strings.LastIndexByte(r.Name, '-')
	if i <= 0 || !IsNameHash(r.Name[i+1:]) {
		return "", false
	}
	return r.Name[:i], true
}

func writeResourceDiff(sb *strings.Builder, before, after *Resource) {
	var bt, at string
	oldName, newName := "/dev/null", "/dev/null"
	if before != nil {
		bt = resourceText(*before, after, false)
		oldName = "a/" + before.ID()
	}
	if after != nil {
		at = resourceText(*after, before, true)
		newName = "b/" + after.ID()
	}
	if before != nil && after != nil && bt == at {
		return
	}
	hunks := yamledit.Unified([]byte(bt), []byte(at))
	if hunks == "" {
		return
	}
	fmt.Fprintf(sb, "--- %s\n+++ %s\n%s", oldName, newName, hunks)
}

// resourceText is the YAML of a rendered resource as shown in a diff; other is its
// counterpart in the other render, if any, and isAfter tells which side r is.
func resourceText(r Resource, other *Resource, isAfter bool) string {
	if r.Node == nil {
		return ""
	}
	n := r.Node
	if r.Kind == "Secret" {
		var o *yaml.RNode
		if other != nil && isAfter {
			o = other.Node
		}
		n = redactSecret(n, o)
	}
	s, err := n.String()
	if err != nil {
		return fmt.Sprintf("# %s cannot be shown: %v\n", r.ID(), err)
	}
	return s
}

// redactSecret hides the values of a Secret. On the after side (before set), a value
// that differs from before's reads "<redacted, changed>", so the diff shows which keys
// changed without showing any value, not even a digest of a guessable one.
func redactSecret(n, before *yaml.RNode) *yaml.RNode {
	c := n.Copy()
	for _, field := range []string{"data", "stringData"} {
		m, err := c.Pipe(yaml.Lookup(field))
		if err != nil || m == nil || m.YNode().Kind != yaml.MappingNode {
			continue
		}
		var old map[string]string
		if before != nil {
			if om, err := before.Pipe(yaml.Lookup(field)); err == nil && om != nil && om.YNode().Kind == yaml.MappingNode {
				old = map[string]string{}
				oc := om.YNode().Content
				for i := 0; i+1 < len(oc); i += 2 {
					old[oc[i].Value] = oc[i+1].Value
				}
			}
		}
		content := m.YNode().Content
		for i := 0; i+1 < len(content); i += 2 {
			text := "<redacted>"
			if prev, ok := old[content[i].Value]; ok && prev != content[i+1].Value {
				text = "<redacted, changed>"
			}
			content[i+1] = yamledit.StringNode(text)
		}
	}
	return c
}

// FileDiff is a unified diff of one file with a/ and b/ headers; before nil means a new
// file, after nil a deleted one. Equal contents give "".
func FileDiff(path string, before, after []byte) string {
	if before != nil && after != nil && string(before) == string(after) {
		return ""
	}
	if before == nil && after == nil {
		return ""
	}
	oldName, newName := "a/"+path, "b/"+path
	if before == nil {
		oldName = "/dev/null"
	}
	if after == nil {
		newName = "/dev/null"
	}
	hunks := yamledit.Unified(before, after)
	if hunks == "" {
		// A new or deleted empty file has no lines to show.
		return fmt.Sprintf("--- %s\n+++ %s\n", oldName, newName)
	}
	return fmt.Sprintf("--- %s\n+++ %s\n%s", oldName, newName, hunks)
}
