package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/overlay"
)

// A strategic-merge patch finds its target by apiVersion, kind, name AND namespace, as the
// target is at the point the overlay applies its patches: with the namespace its bases
// gave it, before the overlay's own `namespace:` field applies. The overlay's patch-file
// edits write apiVersion, kind and name only, so for a namespaced workload the planner
// starts the workload's document itself, namespace included, and lets them fill it.

// patchNamespace is the namespace a workload has where the overlay's patches apply.
func (j *job) patchNamespace(w overlay.Resource) (string, error) {
	if w.Namespace == "" {
		return "", nil
	}
	if j.info.namespace == "" {
		return w.Namespace, nil
	}
	// The overlay set the rendered namespace; what its resources bring shows in a render
	// without that field.
	if j.inner == nil {
		kust, err := withoutNamespace(j.kust)
		if err != nil {
			return "", &Error{Code: Broken, Msg: fmt.Sprintf("%s does not parse: %s", j.kustPath, clipMessage(err.Error())), Err: err}
		}
		r, err := j.tree.With(map[string][]byte{j.kustPath: kust}).Render()
		if err != nil {
			return "", &Error{Code: Broken, Msg: fmt.Sprintf("cannot tell the namespace %s has in the resources of %s: %s", w.ID(), j.where(), clipMessage(err.Error())), Err: err}
		}
		j.inner = r
	}
	if x, ok := j.inner.Find(w.Kind, w.Name); ok {
		return x.Namespace, nil
	}
	return "", nil
}

func withoutNamespace(kust []byte) ([]byte, error) {
	node, err := yaml.Parse(string(kust))
	if err != nil {
		return nil, err
	}
	if _, err := node.Pipe(yaml.Clear("namespace")); err != nil {
		return nil, err
	}
	s, err := node.String()
	return []byte(s), err
}

// startPatchDoc appends to a daytwo patch file the document of a namespaced workload, when
// the file has none for it yet.
func (j *job) startPatchDoc(patch []byte, w overlay.Resource) ([]byte, error) {
	ns, err := j.patchNamespace(w)
	if err != nil || ns == "" {
		return patch, err
	}
	name := j.info.patchName(w.Name)
	has, err := hasPatchDoc(patch, w.APIVersion, w.Kind, name)
	if err != nil || has {
		return patch, err
	}
	type meta struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	}
	doc, err := yaml.Marshal(struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   meta   `yaml:"metadata"`
	}{w.APIVersion, w.Kind, meta{name, ns}})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if len(bytes.TrimSpace(patch)) > 0 {
		out.Write(patch)
		if !bytes.HasSuffix(patch, []byte("\n")) {
			out.WriteByte('\n')
		}
		out.WriteString("---\n")
	}
	out.Write(doc)
	return out.Bytes(), nil
}

// hasPatchDoc reports whether a patch file has a document for the workload.
func hasPatchDoc(patch []byte, apiVersion, kind, name string) (bool, error) {
	dec := yaml.NewDecoder(bytes.NewReader(patch))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if len(doc.Content) == 0 {
			continue
		}
		rn := yaml.NewRNode(doc.Content[0])
		if rn.GetApiVersion() == apiVersion && rn.GetKind() == kind && rn.GetName() == name {
			return true, nil
		}
	}
}
