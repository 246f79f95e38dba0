package overlay

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/valid"
	"github.com/daytwo-dev/daytwo/internal/yamledit"
)

// Patch files owned by daytwo are multi-document strategic-merge patches with one
// document per workload, identified by apiVersion, kind and metadata.name.

type workloadRef struct{ apiVersion, kind, name string }

func (w workloadRef) String() string { return w.kind + "/" + w.name }

func (w workloadRef) validate() error {
	switch {
	case w.apiVersion == "" || strings.ContainsAny(w.apiVersion, " \t\n"):
		return fmt.Errorf("patch of %s: invalid apiVersion %q", w, w.apiVersion)
	case w.kind == "" || strings.ContainsAny(w.kind, " \t\n/"):
		return fmt.Errorf("patch of %s: invalid kind %q", w, w.kind)
	case w.name == "" || strings.ContainsAny(w.name, " \t\n/"):
		return fmt.Errorf("patch of %s: invalid name %q", w, w.name)
	}
	return nil
}

func validateAnnotationKey(w workloadRef, key string) error {
	if err := valid.AnnotationKey(key); err != nil {
		return fmt.Errorf("patch of %s: %w", w, err)
	}
	return nil
}

// editPatch applies fn to the document of w in a patch file, adding the document when
// create is set and it is missing. fn reports whether it changed anything; when nothing
// changed the input is returned as is.
func editPatch(patch []byte, w workloadRef, create bool, fn func(doc *yaml.RNode) (bool, error)) ([]byte, error) {
	if err := w.validate(); err != nil {
		return nil, err
	}
	lf, crlf := yamledit.ToLF(patch)
	docs, err := yamledit.Parse(lf)
	if err != nil {
		return nil, err
	}
	// Documents without content (a stray "---") are dropped.
	kept := docs[:0]
	for _, d := range docs {
		if len(d.Content) > 0 && !yamledit.IsNull(d.Content[0]) {
			kept = append(kept, d)
		}
	}
	docs = kept
	var target *yaml.RNode
	for _, d := range docs {
		root := yamledit.Deref(d.Content[0])
		if root.Kind != yaml.MappingNode {
			return nil, yamledit.LineErrorf(root, "a patch document must be a mapping, not %s", yamledit.KindName(root))
		}
		rn := yaml.NewRNode(root)
		if rn.GetApiVersion() == w.apiVersion && rn.GetKind() == w.kind && rn.GetName() == w.name {
			target = rn
			break
		}
	}
	if target == nil {
		if !create {
			return patch, nil
		}
		target = yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode})
		meta := &yaml.Node{Kind: yaml.MappingNode}
		for _, f := range []struct {
			name  string
			value *yaml.Node
		}{{"apiVersion", yamledit.StringNode(w.apiVersion)}, {"kind", yamledit.StringNode(w.kind)}, {"metadata", meta}} {
			if err := target.PipeE(yaml.SetField(f.name, yaml.NewRNode(f.value))); err != nil {
				return nil, err
			}
		}
		if err := yaml.NewRNode(meta).PipeE(yaml.SetField("name", yaml.NewRNode(yamledit.StringNode(w.name)))); err != nil {
			return nil, err
		}
		docs = append(docs, &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{target.YNode()}})
	}
	changed, err := fn(target)
	if err != nil {
		return nil, fmt.Errorf("patch of %s: %w", w, err)
	}
	if !changed {
		return patch, nil
	}
	out, err := yamledit.Encode(lf, docs)
	if err != nil || !crlf {
		return out, err
	}
	return yamledit.ToCRLF(out), nil
}

// ensurePath walks path from m, creating mappings (and replacing nulls) on the way.
func ensurePath(m *yaml.RNode, path ...string) (*yaml.RNode, error) {
	cur := m
	for _, p := range path {
		next, err := ensure(cur, p, yaml.MappingNode)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// podTemplatePath is where the pod template of a kind sits.
func podTemplatePath(kind string) []string {
	if kind == "CronJob" {
		return []string{"spec", "jobTemplate", "spec", "template"}
	}
	return []string{"spec", "template"}
}

// SetPodTemplateAnnotation sets an annotation on the pod template of one workload in a
// patch file (nil patch: a new file). Changing the pod template rolls the workload's
// pods, and only that workload's.
func SetPodTemplateAnnotation(patch []byte, apiVersion, kind, name, key, value string) ([]byte, error) {
	w := workloadRef{apiVersion, kind, name}
	if err := validateAnnotationKey(w, key); err != nil {
		return nil, err
	}
	return editPatch(patch, w, true, func(doc *yaml.RNode) (bool, error) {
		ann, err := ensurePath(doc, append(podTemplatePath(kind), "metadata", "annotations")...)
		if err != nil {
			return false, err
		}
		return setScalar(ann, key, value)
	})
}

// SetWorkloadAnnotation sets an annotation on one workload's own metadata in a patch file.
func SetWorkloadAnnotation(patch []byte, apiVersion, kind, name, key, value string) ([]byte, error) {
	w := workloadRef{apiVersion, kind, name}
	if err := validateAnnotationKey(w, key); err != nil {
		return nil, err
	}
	return editPatch(patch, w, true, func(doc *yaml.RNode) (bool, error) {
		ann, err := ensurePath(doc, "metadata", "annotations")
		if err != nil {
			return false, err
		}
		return setScalar(ann, key, value)
	})
}

// RemoveWorkloadAnnotation removes an annotation from one workload's metadata in a patch
// file, and the annotations mapping when it ends empty. A file without it is returned as is.
func RemoveWorkloadAnnotation(patch []byte, apiVersion, kind, name, key string) ([]byte, error) {
	w := workloadRef{apiVersion, kind, name}
	if err := validateAnnotationKey(w, key); err != nil {
		return nil, err
	}
	return editPatch(patch, w, false, func(doc *yaml.RNode) (bool, error) {
		meta, err := mapField(doc, "metadata")
		if err != nil || meta == nil {
			return false, err
		}
		ann, err := mapField(meta, "annotations")
		if err != nil || ann == nil {
			return false, err
		}
		removed, err := clearField(ann, key)
		if err != nil || !removed {
			return false, err
		}
		if len(ann.YNode().Content) == 0 {
			if _, err := clearField(meta, "annotations"); err != nil {
				return false, err
			}
		}
		return true, nil
	})
}

// mapField returns the mapping under field, nil when absent or null.
func mapField(parent *yaml.RNode, field string) (*yaml.RNode, error) {
	f, err := parent.Pipe(yaml.Lookup(field))
	if err != nil || f == nil || yamledit.IsNull(f.YNode()) {
		return nil, err
	}
	n := yamledit.Deref(f.YNode())
	if n.Kind != yaml.MappingNode {
		return nil, yamledit.LineErrorf(n, "%s must be a mapping, not %s", field, yamledit.KindName(n))
	}
	return yaml.NewRNode(n), nil
}
