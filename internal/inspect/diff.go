package inspect

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// EnvDiff is what differs between environments A and B of a service, read as
// `/promote B --from A` reads them: A is the source, B the target.
type EnvDiff struct {
	Service string
	A, B    string
	Commit  string // commit both overlays were read at

	VersionsA, VersionsB     []string // distinct image versions, as Desired.Versions
	ConfigHashA, ConfigHashB string
	// PromoteConfig: B's environment has promoteConfig, so /promote carries ConfigMap
	// literals into it.
	PromoteConfig bool

	Images   []ImageChange
	Replicas []ReplicaChange
	Config   []ConfigChange
}

// ImageChange is a container whose image differs; "" on a side means the container does
// not exist there.
type ImageChange struct {
	Workload  string // "Deployment/checkout"
	Container string
	A, B      string // image references
	// Promoted: `/promote B --from A` sets B's image to A's.
	Promoted bool
}

// ReplicaChange is a workload whose replica count differs. Values are counts, "unset"
// when the manifest leaves it to the API server, "" when the workload does not exist on
// that side. Replicas are per environment: /promote never carries them.
type ReplicaChange struct {
	Workload string
	A, B     string
}

// ConfigChange is a ConfigMap key whose value differs or that exists on one side only.
type ConfigChange struct {
	ConfigMap string
	Key       string
	InA, InB  bool
	A, B      string // values; MaskedValue for keys that look secret
	Masked    bool
	// Promoted: `/promote B --from A` sets the key in B to A's value (B's environment
	// has promoteConfig and A's overlay sets the key as a literal).
	Promoted bool
}

// MaskedValue stands in for the value of a key that looks secret.
const MaskedValue = "••••••"

// Empty reports whether A and B run the same images, replicas and config.
func (d EnvDiff) Empty() bool {
	return len(d.Images)+len(d.Replicas)+len(d.Config) == 0
}

// Diff compares the rendered overlays of service in environments a and b at snap. Errors
// are *plan.Error: Invalid when a and b are the same or the service is not deployed to
// one of them, NotFound and Broken as for ReadDesired.
func Diff(ctx context.Context, cfg *repoconfig.Config, snap plan.Snapshot, service, a, b string) (*EnvDiff, error) {
	if a == b && a != "" {
		return nil, plan.Errorf(plan.Invalid, "a diff compares two different environments, not %s with itself", a)
	}
	da, kustA, err := readDesired(ctx, cfg, snap, service, a)
	if err != nil {
		return nil, err
	}
	db, _, err := readDesired(ctx, cfg, snap, service, b)
	if err != nil {
		return nil, err
	}
	for _, d := range []*Desired{da, db} {
		if !d.Deployed() {
			return nil, plan.Errorf(plan.Invalid, "%s is not deployed to %s (%s); there is nothing to compare", service, d.Env, d.NotDeployed.Reason)
		}
	}
	svc, _ := cfg.Service(service)
	envB, _ := cfg.Env(b)
	out := &EnvDiff{
		Service: service, A: a, B: b, Commit: snap.Commit(),
		VersionsA: da.Versions(), VersionsB: db.Versions(),
		ConfigHashA: da.ConfigHash, ConfigHashB: db.ConfigHash,
		PromoteConfig: envB.PromoteConfig && svc.ConfigMap != "",
	}
	refs, err := promotedImages(svc, kustA)
	if err != nil {
		return nil, &plan.Error{Code: plan.Broken, Msg: fmt.Sprintf("the %s overlay of %s: images: %s", a, service, clipRunes(err.Error(), 300)), Err: err}
	}
	out.Images = diffImages(da, db, refs)
	out.Replicas = diffReplicas(da, db)
	var literals map[string]string
	if out.PromoteConfig {
		kvs, _, err := overlay.GetLiterals(kustA, svc.ConfigMap)
		if err != nil {
			return nil, &plan.Error{Code: plan.Broken, Msg: fmt.Sprintf("the %s overlay of %s: configMapGenerator: %s", a, service, clipRunes(err.Error(), 300)), Err: err}
		}
		literals = map[string]string{}
		for _, kv := range kvs {
			literals[svc.ConfigMap+"/"+kv.Key] = kv.Value
		}
	}
	out.Config = diffConfig(da.Config, db.Config, literals)
	return out, nil
}

// promotedImages are the references /promote writes into the target: those of the
// source kustomization's images entries (only the service's image when the config names
// one) that pin a tag or digest.
func promotedImages(svc *repoconfig.Service, kust []byte) (map[string]bool, error) {
	refs := map[string]bool{}
	if kust == nil {
		return refs, nil
	}
	names := []string{svc.Image}
	if svc.Image == "" {
		root, err := yaml.Parse(string(kust))
		if err != nil {
			return nil, err
		}
		list, err := root.Pipe(yaml.Lookup("images"))
		if err != nil {
			return nil, err
		}
		if list == nil {
			return refs, nil
		}
		if names, err = list.ElementValues("name"); err != nil {
			return nil, err
		}
	}
	for _, name := range names {
		e, ok, err := overlay.GetImage(kust, name)
		if err != nil {
			return nil, err
		}
		if !ok || e.NewTag == "" && e.Digest == "" {
			continue
		}
		im := Image{Name: name, Tag: e.NewTag, Digest: e.Digest}
		if e.NewName != "" {
			im.Name = e.NewName
		}
		refs[im.Ref()] = true
	}
	return refs, nil
}

func diffImages(a, b *Desired, promoted map[string]bool) []ImageChange {
	type key struct{ workload, container string }
	refs := func(d *Desired) map[key]string {
		m := map[key]string{}
		for _, im := range d.Images {
			m[key{im.Workload, im.Container}] = im.Ref()
		}
		return m
	}
	ra, rb := refs(a), refs(b)
	var out []ImageChange
	for k := range union(ra, rb) {
		va, vb := ra[k], rb[k]
		if va == vb {
			continue
		}
		out = append(out, ImageChange{Workload: k.workload, Container: k.container, A: va, B: vb, Promoted: va != "" && vb != "" && promoted[va]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Workload != out[j].Workload {
			return out[i].Workload < out[j].Workload
		}
		return out[i].Container < out[j].Container
	})
	return out
}

func diffReplicas(a, b *Desired) []ReplicaChange {
	counts := func(d *Desired) map[string]string {
		m := map[string]string{}
		for _, w := range d.Workloads {
			v := "unset"
			if w.Replicas != nil {
				v = strconv.Itoa(*w.Replicas)
			}
			m[w.ID()] = v
		}
		return m
	}
	ca, cb := counts(a), counts(b)
	var out []ReplicaChange
	for k := range union(ca, cb) {
		if ca[k] != cb[k] {
			out = append(out, ReplicaChange{Workload: k, A: ca[k], B: cb[k]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Workload < out[j].Workload })
	return out
}

// diffConfig compares ConfigMap data keyed "<configmap>/<key>"; literals are the source
// overlay's literals /promote carries (nil: none).
func diffConfig(a, b, literals map[string]string) []ConfigChange {
	var out []ConfigChange
	for k := range union(a, b) {
		va, inA := a[k]
		vb, inB := b[k]
		if inA == inB && va == vb {
			continue
		}
		cm, key, _ := strings.Cut(k, "/")
		c := ConfigChange{ConfigMap: cm, Key: key, InA: inA, InB: inB, A: va, B: vb}
		if lit, ok := literals[k]; ok && inA && lit == va {
			c.Promoted = true
		}
		switch {
		case secretLike(key):
			c.Masked = true
			if inA {
				c.A = MaskedValue
			}
			if inB {
				c.B = MaskedValue
			}
		case urlPassword.MatchString(va) || urlPassword.MatchString(vb):
			c.Masked = true
			c.A = urlPassword.ReplaceAllString(va, "${1}"+MaskedValue+"@")
			c.B = urlPassword.ReplaceAllString(vb, "${1}"+MaskedValue+"@")
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ConfigMap != out[j].ConfigMap {
			return out[i].ConfigMap < out[j].ConfigMap
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// secretWords mark keys whose values stay out of comments. Over-matching ("MONKEY") only
// hides a value; under-matching would publish a credential.
var secretWords = []string{"PASSWORD", "PASSWD", "PASSPHRASE", "TOKEN", "SECRET", "KEY", "CREDENTIAL", "PRIVATE", "AUTH", "CERT", "DSN"}

// urlPassword finds the password of a URL's user info ("postgres://app:s3cret@db/app").
var urlPassword = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@`)

// secretLike says whether a ConfigMap key looks like it holds a secret.
func secretLike(key string) bool {
	k := strings.ToUpper(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

func union[K comparable](a, b map[K]string) map[K]bool {
	out := make(map[K]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
