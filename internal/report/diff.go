package report

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Change is one thing that differs between two environments; "" means absent.
type Change struct{ What, A, B string }

// EnvDiff is what differs between environments A and B of a service: what promoting A
// into B would carry (images, ConfigMap data) and what stays per environment (replicas).
type EnvDiff struct {
	Service, A, B string
	Images        []Change
	Replicas      []Change
	Config        []Change
}

// Empty reports whether the environments run the same.
func (d *EnvDiff) Empty() bool { return len(d.Images)+len(d.Replicas)+len(d.Config) == 0 }

// Diff compares the rendered overlays of service in environments a and b.
func Diff(ctx context.Context, cfg *repoconfig.Config, snap plan.Snapshot, service, a, b string) (*EnvDiff, error) {
	if a == b {
		return nil, fmt.Errorf("/diff compares two different environments, not %s with itself", a)
	}
	da, err := ReadDesired(ctx, cfg, snap, service, a)
	if err != nil {
		return nil, err
	}
	db, err := ReadDesired(ctx, cfg, snap, service, b)
	if err != nil {
		return nil, err
	}
	return Compare(da, db)
}

// Compare is what differs between two environments of one service read before.
func Compare(da, db *Desired) (*EnvDiff, error) {
	for _, d := range []*Desired{da, db} {
		if !d.Deployed {
			return nil, fmt.Errorf("%s is not deployed to %s (no overlay at %s)", d.Service, d.Env, d.Overlay)
		}
	}
	out := &EnvDiff{Service: da.Service, A: da.Env, B: db.Env}
	images := func(d *Desired) map[string]string {
		m := map[string]string{}
		for _, c := range d.Containers {
			m[c.Workload+" "+c.Name] = c.Image
		}
		return m
	}
	out.Images = compare(images(da), images(db), false)
	replicas := func(d *Desired) map[string]string {
		m := map[string]string{}
		for _, w := range d.Workloads {
			v := "default"
			if w.Replicas != nil {
				v = strconv.Itoa(*w.Replicas)
			}
			m[w.Kind+"/"+w.Name] = v
		}
		return m
	}
	out.Replicas = compare(replicas(da), replicas(db), false)
	out.Config = compare(da.Config, db.Config, true)
	return out, nil
}

func compare(a, b map[string]string, mask bool) []Change {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []Change
	for k := range keys {
		va, vb := a[k], b[k]
		if va == vb {
			continue
		}
		if mask && secretLike(k) {
			va, vb = masked(va), masked(vb)
			if va == vb { // both set, different: say so without showing either
				va, vb = "••• (differs)", "•••"
			}
		}
		out = append(out, Change{What: k, A: va, B: vb})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].What < out[j].What })
	return out
}

// secretLike says whether a key names something not to show in a comment.
func secretLike(key string) bool {
	k := strings.ToUpper(key)
	for _, s := range []string{"PASSWORD", "PASSWD", "TOKEN", "SECRET", "KEY", "CREDENTIAL", "PRIVATE"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func masked(v string) string {
	if v == "" {
		return ""
	}
	return "•••"
}
