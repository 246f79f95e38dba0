// Package report answers the read-only commands: what Git says each environment of a
// service runs (/status, with live state supplied by the caller), the day-2 actions in Git
// history (/history), and what differs between two environments (/diff). It renders
// GitHub-flavoured markdown and imports neither GitHub nor Argo CD.
package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Desired is what Git says one service runs in one environment, read from the rendered
// overlay.
type Desired struct {
	Service, Env, Overlay string
	Deployed              bool // false: the service has no overlay for this environment
	Containers            []Container
	Workloads             []Workload
	Config                map[string]string // ConfigMap data, "<configmap>/<key>" → value
	ConfigHash            string            // short hash of Config: equal config, equal hash
	Frozen                bool
	FreezeReason          string
}

// Container is one container of a workload and the image it runs.
type Container struct{ Workload, Name, Image string }

// Workload is a Deployment, StatefulSet or DaemonSet and its replica count (nil: not set).
type Workload struct {
	Kind, Name string
	Replicas   *int
}

// Version is the tag or digest of the service's first container's image, "" when none.
func (d *Desired) Version() string {
	if d == nil || len(d.Containers) == 0 {
		return ""
	}
	return imageVersion(d.Containers[0].Image)
}

// ReadDesired renders the service's overlay of env at snap.
func ReadDesired(ctx context.Context, cfg *repoconfig.Config, snap plan.Snapshot, service, env string) (*Desired, error) {
	svc, ok := cfg.Service(service)
	if !ok {
		return nil, fmt.Errorf("no service %q in %s (services: %s)", service, repoconfig.Path, strings.Join(cfg.ServiceNames(), ", "))
	}
	if _, ok := cfg.Env(env); !ok {
		return nil, fmt.Errorf("no environment %q in %s (environments: %s)", env, repoconfig.Path, strings.Join(cfg.EnvNames(), ", "))
	}
	d := &Desired{Service: service, Env: env, Overlay: svc.OverlayPath(env), Config: map[string]string{}}
	if f, ok := cfg.Frozen(env); ok {
		d.Frozen, d.FreezeReason = true, f.Reason
	}
	if !svc.Deploys(env) {
		return d, nil
	}
	tree, err := overlay.Load(ctx, snap, d.Overlay)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", service, env, err)
	}
	r, err := tree.Render()
	if err != nil {
		return nil, fmt.Errorf("%s in %s does not render: %w", service, env, err)
	}
	d.Deployed = true
	for _, w := range r.Workloads() {
		wl := Workload{Kind: w.Kind, Name: w.Name}
		if n, err := w.Node.Pipe(yaml.Lookup("spec", "replicas")); err == nil && n != nil {
			var v int
			if err := n.YNode().Decode(&v); err == nil {
				wl.Replicas = &v
			}
		}
		d.Workloads = append(d.Workloads, wl)
		for _, field := range []string{"initContainers", "containers"} {
			list, err := w.Node.Pipe(yaml.Lookup("spec", "template", "spec", field))
			if err != nil || list == nil {
				continue
			}
			items, _ := list.Elements()
			for _, c := range items {
				name, _ := c.GetString("name")
				image, _ := c.GetString("image")
				d.Containers = append(d.Containers, Container{Workload: w.Kind + "/" + w.Name, Name: name, Image: image})
			}
		}
	}
	for _, res := range r.Resources() {
		if res.Kind != "ConfigMap" {
			continue
		}
		data, err := res.Node.Pipe(yaml.Lookup("data"))
		if err != nil || data == nil {
			continue
		}
		name := generatedName(res.Name)
		_ = data.VisitFields(func(n *yaml.MapNode) error {
			d.Config[name+"/"+n.Key.YNode().Value] = n.Value.YNode().Value
			return nil
		})
	}
	d.ConfigHash = hashConfig(d.Config)
	return d, nil
}

// generatedName drops the content hash kustomize appends to generated ConfigMaps, so the
// same map compares equal across environments.
func generatedName(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || len(name)-i-1 != 10 {
		return name
	}
	for _, r := range name[i+1:] {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return name
		}
	}
	return name[:i]
}

func hashConfig(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\x00", k, m[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// imageVersion is the tag or digest of an image reference ("latest" when it has neither).
func imageVersion(ref string) string {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		d := ref[i+1:]
		if len(d) > 19 {
			d = d[:19] // sha256: and 12 hex digits
		}
		return d
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[i+1:]
	}
	return "latest"
}
