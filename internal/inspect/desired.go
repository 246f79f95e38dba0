// Package inspect answers the read-only commands /status, /history and /diff from Git: what
// the rendered overlays say each environment of a service runs, the service's Backstage
// entity, the day-2 actions recorded in commit trailers, and what differs between two
// environments. Live Argo CD state and open pull requests come from the caller as plain
// values; the package renders GitHub-flavoured markdown and imports neither GitHub nor
// Argo CD.
package inspect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Desired is what Git says one service runs in one environment, read from the rendered
// overlay at one commit.
type Desired struct {
	Service string
	Env     string
	Overlay string // overlay directory
	Commit  string // commit the overlay was read at

	// NotDeployed is set when Git deploys nothing of the service to the environment; the
	// fields below about the render are then empty.
	NotDeployed *NotDeployed

	Images    []Image    // every container of every workload, in render order
	Workloads []Workload // in render order
	// Config is the data of the rendered ConfigMaps, keyed "<configmap>/<key>", with the
	// hash kustomize appends to generated names left out so environments compare.
	Config     map[string]string
	ConfigHash string // short hash of Config; equal config, equal hash; "" when empty
	ConfigKeys int

	Frozen       bool
	FreezeReason string
	FrozenBy     string
	FrozenSince  time.Time
}

// NotDeployed says why a service has nothing in an environment.
type NotDeployed struct {
	Reason string
}

// Deployed reports whether Git deploys the service to the environment.
func (d *Desired) Deployed() bool { return d != nil && d.NotDeployed == nil }

// Image is the image one container runs.
type Image struct {
	Workload  string // "Deployment/checkout"
	Container string
	Init      bool // an init container
	Name      string
	Tag       string // "" when the reference has none
	Digest    string // "sha256:…", "" when the reference has none
}

// Ref is the image reference as the rendered manifest writes it.
func (i Image) Ref() string {
	s := i.Name
	if i.Tag != "" {
		s += ":" + i.Tag
	}
	if i.Digest != "" {
		s += "@" + i.Digest
	}
	return s
}

// Version is what people call the image's version: the tag, the tag and a short digest,
// a short digest, or "latest" for a bare name (what the container runtime pulls).
func (i Image) Version() string {
	switch {
	case i.Tag != "" && i.Digest != "":
		return i.Tag + "@" + shortDigest(i.Digest)
	case i.Digest != "":
		return shortDigest(i.Digest)
	case i.Tag != "":
		return i.Tag
	}
	return "latest"
}

// Workload is a rendered Deployment, StatefulSet, DaemonSet, ReplicaSet or Rollout.
type Workload struct {
	Kind, Name string
	Replicas   *int // nil: not set (the API server's default applies; none for a DaemonSet)
}

// ID is "Kind/name".
func (w Workload) ID() string { return w.Kind + "/" + w.Name }

// Versions lists the distinct versions of the non-init containers, in render order.
func (d *Desired) Versions() []string {
	if !d.Deployed() {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, im := range d.Images {
		if im.Init || seen[im.Version()] {
			continue
		}
		seen[im.Version()] = true
		out = append(out, im.Version())
	}
	return out
}

// ReadDesired renders the overlay of service in env at snap. A service that Git does not
// deploy to env (excluded by the config, or without an overlay directory) is a Desired
// with NotDeployed set, not an error. Errors are *plan.Error: NotFound for a service or
// environment the config does not name, Broken for an overlay that does not load or
// render.
func ReadDesired(ctx context.Context, cfg *repoconfig.Config, snap plan.Snapshot, service, env string) (*Desired, error) {
	d, _, err := readDesired(ctx, cfg, snap, service, env)
	return d, err
}

// readDesired is ReadDesired that also returns the overlay's kustomization file, which
// Diff reads to tell what /promote carries.
func readDesired(ctx context.Context, cfg *repoconfig.Config, snap plan.Snapshot, service, env string) (*Desired, []byte, error) {
	if cfg == nil || snap == nil {
		return nil, nil, plan.Errorf(plan.Internal, "reading desired state needs the repository config and a snapshot")
	}
	svc, err := lookupService(cfg, service)
	if err != nil {
		return nil, nil, err
	}
	if err := checkEnv(cfg, env); err != nil {
		return nil, nil, err
	}
	d := &Desired{Service: service, Env: env, Overlay: svc.OverlayPath(env), Commit: snap.Commit()}
	if f, ok := cfg.Frozen(env); ok {
		d.Frozen, d.FreezeReason, d.FrozenBy, d.FrozenSince = true, f.Reason, f.By, f.Since
	}
	if !svc.Deploys(env) {
		d.NotDeployed = &NotDeployed{Reason: fmt.Sprintf("%s limits %s to %s", repoconfig.Path, service, strings.Join(svc.Environments, ", "))}
		return d, nil, nil
	}
	where := fmt.Sprintf("the %s overlay of %s", env, service)
	// Only a missing overlay directory means "not deployed"; a missing file inside one is
	// a broken overlay.
	_, err = snap.ReadDir(ctx, d.Overlay)
	if ctx.Err() != nil {
		// Some snapshots report any failed read as a missing file.
		return nil, nil, fmt.Errorf("reading %s: %w", where, ctx.Err())
	}
	if errors.Is(err, fs.ErrNotExist) {
		d.NotDeployed = &NotDeployed{Reason: "no overlay at " + d.Overlay}
		return d, nil, nil
	} else if err != nil {
		return nil, nil, &plan.Error{Code: plan.Internal, Msg: fmt.Sprintf("reading %s failed", d.Overlay), Err: err}
	}
	rr := &recordingReader{r: snap}
	tree, err := overlay.Load(ctx, rr, d.Overlay)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", where, ctx.Err())
		}
		if rr.err != nil {
			// The repository could not be read; the overlay may well be fine.
			return nil, nil, &plan.Error{Code: plan.Internal, Msg: fmt.Sprintf("reading %s failed", where), Err: err}
		}
		return nil, nil, &plan.Error{Code: plan.Broken, Msg: fmt.Sprintf("%s does not load: %s", where, clipRunes(err.Error(), 500)), Err: err}
	}
	r, err := tree.Render()
	if err != nil {
		return nil, nil, &plan.Error{Code: plan.Broken, Msg: fmt.Sprintf("%s does not render: %s", where, clipRunes(err.Error(), 500)), Err: err}
	}
	if err := d.fill(r); err != nil {
		return nil, nil, &plan.Error{Code: plan.Broken, Msg: fmt.Sprintf("%s: %s", where, err), Err: err}
	}
	var kust []byte
	if kp, ok := tree.KustomizationPath(d.Overlay); ok {
		kust, _ = tree.File(kp)
	}
	return d, kust, nil
}

// recordingReader keeps the first read failure other than a missing file, which tells a
// repository that could not be read from an overlay that is broken.
type recordingReader struct {
	r   overlay.Reader
	err error
}

func (rr *recordingReader) ReadFile(ctx context.Context, p string) ([]byte, error) {
	b, err := rr.r.ReadFile(ctx, p)
	rr.record(err)
	return b, err
}

func (rr *recordingReader) ReadDir(ctx context.Context, p string) ([]string, error) {
	names, err := rr.r.ReadDir(ctx, p)
	rr.record(err)
	return names, err
}

func (rr *recordingReader) record(err error) {
	if err != nil && rr.err == nil && !errors.Is(err, fs.ErrNotExist) {
		rr.err = err
	}
}

// fill reads workloads, images and ConfigMap data from a render.
func (d *Desired) fill(r *overlay.Rendered) error {
	for _, w := range r.Workloads() {
		wl := Workload{Kind: w.Kind, Name: w.Name}
		n, err := w.Node.Pipe(yaml.Lookup("spec", "replicas"))
		if err != nil {
			return fmt.Errorf("%s: spec.replicas: %w", w.ID(), err)
		}
		if n != nil {
			v, err := strconv.Atoi(n.YNode().Value)
			if err != nil {
				return fmt.Errorf("%s: spec.replicas %q is not a number", w.ID(), n.YNode().Value)
			}
			wl.Replicas = &v
		}
		d.Workloads = append(d.Workloads, wl)
		for _, field := range []string{"initContainers", "containers"} {
			list, err := w.Node.Pipe(yaml.Lookup("spec", "template", "spec", field))
			if err != nil || list == nil {
				continue
			}
			items, err := list.Elements()
			if err != nil {
				return fmt.Errorf("%s: %s: %w", w.ID(), field, err)
			}
			for _, c := range items {
				name, _ := c.GetString("name")
				ref, _ := c.GetString("image")
				im := Image{Workload: wl.ID(), Container: name, Init: field == "initContainers"}
				im.Name, im.Tag, im.Digest = splitImage(ref)
				d.Images = append(d.Images, im)
			}
		}
	}
	d.Config = map[string]string{}
	for _, res := range r.Resources() {
		if res.Kind != "ConfigMap" {
			continue
		}
		name := trimNameHash(res.Name)
		for k, v := range res.Node.GetDataMap() {
			d.Config[name+"/"+k] = v
		}
		for k, v := range res.Node.GetBinaryDataMap() {
			sum := sha256.Sum256([]byte(v))
			d.Config[name+"/"+k] = fmt.Sprintf("(binary, sha256 %x)", sum[:6])
		}
	}
	d.ConfigKeys = len(d.Config)
	d.ConfigHash = hashConfig(d.Config)
	return nil
}

func lookupService(cfg *repoconfig.Config, name string) (*repoconfig.Service, error) {
	svc, ok := cfg.Service(name)
	if !ok {
		return nil, plan.Errorf(plan.NotFound, "no service %q in %s (services: %s)", name, repoconfig.Path, listOrNone(cfg.ServiceNames()))
	}
	return svc, nil
}

func checkEnv(cfg *repoconfig.Config, name string) error {
	if _, ok := cfg.Env(name); !ok {
		return plan.Errorf(plan.NotFound, "no environment %q in %s (environments: %s)", name, repoconfig.Path, listOrNone(cfg.EnvNames()))
	}
	return nil
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// splitImage splits a reference into name, tag and digest. A colon before the last slash
// belongs to a registry host ("localhost:5000/app").
func splitImage(ref string) (name, tag, digest string) {
	name = ref
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, digest = name[:i], name[i+1:]
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}

// shortDigest keeps the algorithm and 12 hex digits, as registries and kubectl show them.
func shortDigest(d string) string {
	if algo, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return algo + ":" + hex[:12]
	}
	return d
}

// trimNameHash drops the "-<10 characters>" suffix kustomize gives generated ConfigMaps.
// The suffix hashes the content, so dropping it keys ConfigMaps by what the generator
// calls them.
func trimNameHash(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || len(name)-i-1 != 10 {
		return name
	}
	for _, c := range name[i+1:] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return name
		}
	}
	return name[:i]
}

// hashConfig is a short, order-independent hash of the config: 8 hex digits tell
// environments apart at a glance.
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
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(m[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// clipRunes cuts s to at most n runes, marking the cut.
func clipRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
