package plan

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/valid"
)

// buildConfig sets and unsets literals of the service's ConfigMap generator (configured, or
// inferred by pickConfigMap) in the overlay. The generated name carries a content hash, so
// the workload referring to it rolls.
func buildConfig(_ context.Context, j *job) (*edit, error) {
	set, unset := j.cmd.Set, j.cmd.Unset
	if len(set) == 0 && len(unset) == 0 {
		return nil, Errorf(Invalid, "config needs KEY=VALUE pairs to set or keys to unset")
	}
	seen := map[string]bool{}
	for _, k := range append(keysOf(set), unset...) {
		if err := valid.ConfigMapKey(k); err != nil {
			return nil, Errorf(Invalid, "%v", err)
		}
		if seen[k] {
			return nil, Errorf(Invalid, "%s is named twice; set or unset each key once", k)
		}
		seen[k] = true
	}
	picked, err := j.pickConfigMap()
	if err != nil {
		return nil, err
	}
	cm := picked.value
	res, ok := findConfigMap(j.before, j.info, cm)
	if !ok {
		return nil, Errorf(NotFound, "%s renders no ConfigMap generated as %s; fix configMap: in %s", j.where(), cm, repoconfig.Path)
	}
	data := dataOf(res)
	for _, k := range unset {
		if _, ok := data[k]; !ok {
			return nil, Errorf(Invalid, "%s is not set in the %s ConfigMap of %s in %s (keys: %s)", k, cm, j.svc.Name, j.cmd.Env, listOrNone(slices.Sorted(maps.Keys(data))))
		}
	}

	var details, changed []string
	for _, kv := range set {
		old, had := data[kv.Key]
		if had && old == kv.Value {
			continue
		}
		from := "(unset)"
		if had {
			from = shownValue(old)
		}
		details = append(details, fmt.Sprintf("%s: %s → %s", markdown.Code(kv.Key), from, shownValue(kv.Value)))
		changed = append(changed, kv.Key)
	}
	for _, k := range unset {
		details = append(details, fmt.Sprintf("%s: %s → (unset)", markdown.Code(k), shownValue(data[k])))
	}
	noChange := fmt.Sprintf("%s in %s already has %s", j.svc.Name, j.cmd.Env, pairs(set))
	if len(details) == 0 {
		return nil, Errorf(NoChange, "%s", noChange)
	}
	kust, err := j.editKust(j.kust, "edit the literals of "+cm, func(b []byte) ([]byte, error) {
		return overlay.SetLiterals(b, cm, set, unset)
	})
	if err != nil {
		return nil, err
	}

	var parts []string
	if len(changed) > 0 {
		parts = append(parts, "set "+strings.Join(changed, ", "))
	}
	if len(unset) > 0 {
		parts = append(parts, "unset "+strings.Join(unset, ", "))
	}
	what := "config " + strings.Join(parts, ", ")
	return &edit{
		files:    map[string][]byte{j.kustPath: kust},
		what:     what,
		summary:  fmt.Sprintf("%s of %s in %s (ConfigMap %s)", what, j.svc.Name, j.cmd.Env, cm),
		details:  details,
		noChange: noChange,
		verify: func(after *overlay.Rendered) error {
			res, ok := findConfigMap(after, j.info, cm)
			if !ok {
				return Errorf(Conflict, "the %s ConfigMap disappeared from the render of %s", cm, j.where())
			}
			got := dataOf(res)
			for _, kv := range set {
				if v, ok := got[kv.Key]; !ok || v != kv.Value {
					return Errorf(Conflict, "%s of the %s ConfigMap would not be %q after the edit (%s)", kv.Key, cm, kv.Value, j.suspects(kv.Key))
				}
			}
			for _, k := range unset {
				if _, ok := got[k]; ok {
					return Errorf(Conflict, "%s would still be set in the %s ConfigMap: it comes from the base generator or an env file, not from the literals of %s", k, cm, j.where())
				}
			}
			return nil
		},
	}, nil
}

func keysOf(kvs []command.KeyValue) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key
	}
	return out
}

func pairs(kvs []command.KeyValue) string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key + "=" + clip.Runes(kv.Value, 80)
	}
	return strings.Join(out, ", ")
}

// shownValue quotes a value for the PR body, shortened: the file diff has it whole.
func shownValue(v string) string { return markdown.Code(clip.Runes(v, 80)) }
