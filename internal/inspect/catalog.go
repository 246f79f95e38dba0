package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Catalog is what a service's Backstage entity says about it.
type Catalog struct {
	Path        string // the catalog-info.yaml it was read from
	Kind        string // "Component" unless the file has none
	Name        string
	Title       string
	Description string
	Type        string
	Owner       string   // entity reference, e.g. "group:acme/checkout-team"
	System      string   // entity reference
	Lifecycle   string   // "production", "experimental", ...
	DependsOn   []string // entity references, as written
}

// maxCatalogBytes bounds what is parsed; real catalog files are a few kilobytes.
const maxCatalogBytes = 1 << 20

// ReadCatalog reads the service's Backstage catalog-info.yaml (the path the config gives
// it) at snap: the Component named like the service, else the file's first Component,
// else its first entity. A file that does not exist is nil, nil; one that does not parse
// is a *plan.Error (Broken) naming the file and line.
func ReadCatalog(ctx context.Context, cfg *repoconfig.Config, snap plan.Snapshot, service string) (*Catalog, error) {
	if cfg == nil || snap == nil {
		return nil, plan.Errorf(plan.Internal, "reading the catalog needs the repository config and a snapshot")
	}
	svc, err := lookupService(cfg, service)
	if err != nil {
		return nil, err
	}
	p := svc.CatalogPath()
	if p == "" {
		return nil, nil
	}
	data, err := snap.ReadFile(ctx, p)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("reading %s: %w", p, ctx.Err())
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &plan.Error{Code: plan.Internal, Msg: fmt.Sprintf("reading %s failed", p), Err: err}
	}
	return parseCatalog(p, data, service)
}

// yamlLine matches the position yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func parseCatalog(path string, data []byte, service string) (*Catalog, error) {
	broken := func(line int, format string, args ...any) error {
		where := path
		if line > 0 {
			where += fmt.Sprintf(" line %d", line)
		}
		return plan.Errorf(plan.Broken, "Backstage catalog %s: %s", where, fmt.Sprintf(format, args...))
	}
	if len(data) > maxCatalogBytes {
		return nil, broken(0, "it is %d bytes, more than the %d read", len(data), maxCatalogBytes)
	}
	var entities []*Catalog
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			msg := err.Error()
			if m := yamlLine.FindStringSubmatch(msg); m != nil {
				line, _ := strconv.Atoi(m[1])
				msg = strings.TrimPrefix(msg, m[0])
				if indentedWithTab(data, line) {
					msg += " (YAML is indented with spaces; this line starts with a tab)"
				}
				return nil, broken(line, "%s", msg)
			}
			return nil, broken(0, "%s", strings.TrimPrefix(msg, "yaml: "))
		}
		root := &doc
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		root = deref(root)
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document between separators
		}
		e, line, msg := entity(root)
		if msg != "" {
			return nil, broken(line, "%s", msg)
		}
		e.Path = path
		entities = append(entities, e)
	}
	if len(entities) == 0 {
		return nil, broken(0, "it holds no entity")
	}
	var firstComponent *Catalog
	for _, e := range entities {
		if e.Kind != "Component" {
			continue
		}
		if e.Name == service {
			return e, nil
		}
		if firstComponent == nil {
			firstComponent = e
		}
	}
	if firstComponent != nil {
		return firstComponent, nil
	}
	return entities[0], nil
}

// indentedWithTab reports whether line n (from 1) of data has a tab in its indentation,
// the usual cause of yaml.v3's "found character that cannot start any token".
func indentedWithTab(data []byte, n int) bool {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return false
	}
	l := lines[n-1]
	return strings.Contains(l[:len(l)-len(strings.TrimLeft(l, " \t"))], "\t")
}

// entity reads one document; on a problem it returns its line and a message.
func entity(root *yaml.Node) (*Catalog, int, string) {
	if root.Kind != yaml.MappingNode {
		return nil, root.Line, "an entity is a mapping with apiVersion, kind, metadata and spec, not " + kindName(root)
	}
	e := &Catalog{}
	var metadata, spec *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i].Value, deref(root.Content[i+1])
		switch k {
		case "kind":
			if v.Kind != yaml.ScalarNode {
				return nil, v.Line, "kind must be a string, not " + kindName(v)
			}
			e.Kind = v.Value
		case "metadata":
			metadata = v
		case "spec":
			spec = v
		}
	}
	fields := []struct {
		parent *yaml.Node
		where  string
		names  map[string]*string
	}{
		{metadata, "metadata", map[string]*string{"name": &e.Name, "title": &e.Title, "description": &e.Description}},
		{spec, "spec", map[string]*string{"type": &e.Type, "owner": &e.Owner, "system": &e.System, "lifecycle": &e.Lifecycle}},
	}
	for _, f := range fields {
		if f.parent == nil || isNull(f.parent) {
			continue
		}
		if f.parent.Kind != yaml.MappingNode {
			return nil, f.parent.Line, fmt.Sprintf("%s must be a mapping, not %s", f.where, kindName(f.parent))
		}
		for i := 0; i+1 < len(f.parent.Content); i += 2 {
			k, v := f.parent.Content[i].Value, deref(f.parent.Content[i+1])
			if dst, ok := f.names[k]; ok {
				if isNull(v) {
					continue
				}
				if v.Kind != yaml.ScalarNode {
					return nil, v.Line, fmt.Sprintf("%s.%s must be a string, not %s", f.where, k, kindName(v))
				}
				*dst = v.Value
			}
			if f.where == "spec" && k == "dependsOn" && !isNull(v) {
				if v.Kind != yaml.SequenceNode {
					return nil, v.Line, "spec.dependsOn must be a list of entity references, not " + kindName(v)
				}
				for _, item := range v.Content {
					item = deref(item)
					if item.Kind != yaml.ScalarNode || isNull(item) {
						return nil, item.Line, "spec.dependsOn entries must be entity references such as component:payments, not " + kindName(item)
					}
					e.DependsOn = append(e.DependsOn, item.Value)
				}
			}
		}
	}
	return e, 0, ""
}

func deref(n *yaml.Node) *yaml.Node {
	// An alias chain is at most as long as the document; the bound only stops a cycle.
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 64; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", clipRunes(n.Value, 40))
	}
	return "an alias"
}
