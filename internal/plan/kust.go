package plan

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/valid"
)

// kustInfo is what the planner reads (never writes) from the overlay's own kustomization.
type kustInfo struct {
	namePrefix, nameSuffix string
	namespace              string
	images                 []string // images[].name, in file order
}

// readKust reads the kustomization as kustomize's own type, without kustomize's check
// for unknown fields: the render reports those, with the file and line.
func readKust(path string, b []byte) (kustInfo, error) {
	var k types.Kustomization
	if err := sigsyaml.Unmarshal(b, &k); err != nil {
		return kustInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	info := kustInfo{namePrefix: k.NamePrefix, nameSuffix: k.NameSuffix, namespace: k.Namespace}
	for _, img := range k.Images {
		info.images = append(info.images, img.Name)
	}
	return info, nil
}

func scalar(node *yaml.RNode, field string) (string, error) {
	f, err := node.Pipe(yaml.Lookup(field))
	if err != nil || f == nil {
		return "", err
	}
	if f.YNode().Kind != yaml.ScalarNode {
		return "", fmt.Errorf("%s is not a string", field)
	}
	return f.YNode().Value, nil
}

// renderedName is the name a resource of the overlay gets once the overlay's own
// namePrefix/nameSuffix apply; configured names are the names the overlay's patches use.
func (k kustInfo) renderedName(name string) string { return k.namePrefix + name + k.nameSuffix }

// patchName is the inverse of renderedName.
func (k kustInfo) patchName(rendered string) string {
	n := strings.TrimPrefix(rendered, k.namePrefix)
	return strings.TrimSuffix(n, k.nameSuffix)
}

// replicaKinds are the kinds the kustomization `replicas:` field can scale (kustomize's
// built-in field specs); any other kind makes the build fail.
var replicaKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "ReplicaSet": true, "ReplicationController": true}

func replicasOf(res overlay.Resource) (int, error) {
	f, err := res.Node.Pipe(yaml.Lookup("spec", "replicas"))
	if err != nil {
		return 0, fmt.Errorf("%s: spec.replicas: %w", res.ID(), err)
	}
	if f == nil {
		return 1, nil // the API server's default
	}
	n, err := strconv.Atoi(f.YNode().Value)
	if err != nil {
		return 0, fmt.Errorf("%s: spec.replicas %q is not a number", res.ID(), f.YNode().Value)
	}
	return n, nil
}

type container struct {
	Name, Image string
	Init        bool
}

func containersOf(res overlay.Resource) []container {
	var out []container
	for _, field := range []string{"initContainers", "containers"} {
		list, err := res.Node.Pipe(yaml.Lookup("spec", "template", "spec", field))
		if err != nil || list == nil {
			continue
		}
		elems, err := list.Elements()
		if err != nil {
			continue
		}
		for _, e := range elems {
			c := container{Init: field == "initContainers"}
			c.Name, _ = scalar(e, "name")
			c.Image, _ = scalar(e, "image")
			out = append(out, c)
		}
	}
	return out
}

func podAnnotation(res overlay.Resource, key string) (string, bool) {
	f, err := res.Node.Pipe(yaml.Lookup("spec", "template", "metadata", "annotations", key))
	if err != nil || f == nil {
		return "", false
	}
	return f.YNode().Value, true
}

func workloadAnnotation(res overlay.Resource, key string) (string, bool) {
	v, ok := res.Node.GetAnnotations()[key]
	return v, ok
}

// findWorkload finds the workload the config names (kind + name as the overlay's patches
// see it) in a render.
func findWorkload(r *overlay.Rendered, k kustInfo, kind, name string) (overlay.Resource, bool) {
	if res, ok := r.Find(kind, k.renderedName(name)); ok {
		return res, true
	}
	return r.Find(kind, name)
}

// findConfigMap finds the ConfigMap a generator named name produced: the name carries the
// overlay's prefix/suffix and, unless disabled, a "-<hash>" suffix.
func findConfigMap(r *overlay.Rendered, k kustInfo, name string) (overlay.Resource, bool) {
	want := k.renderedName(name)
	for _, res := range r.Resources() {
		if res.Kind != "ConfigMap" {
			continue
		}
		if res.Name == want || res.Name == name {
			return res, true
		}
		if h, ok := strings.CutPrefix(res.Name, want+"-"); ok && overlay.IsNameHash(h) {
			return res, true
		}
	}
	return overlay.Resource{}, false
}

func dataOf(res overlay.Resource) map[string]string { return res.Node.GetDataMap() }

// imageRef is how kustomize writes an image once an images entry applied.
func imageRef(name, tag, digest string) string {
	if tag != "" {
		name += ":" + tag
	}
	if digest != "" {
		name += "@" + digest
	}
	return name
}

// shortImage is the tag or digest of a reference, what people say when naming a version.
func shortImage(ref string) string {
	_, tag, digest := valid.SplitImage(ref)
	switch {
	case digest != "" && tag != "":
		return tag + "@" + shortDigest(digest)
	case digest != "":
		return shortDigest(digest)
	case tag != "":
		return tag
	}
	return ref
}

func shortDigest(d string) string {
	if algo, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return algo + ":" + hex[:12]
	}
	return d
}
