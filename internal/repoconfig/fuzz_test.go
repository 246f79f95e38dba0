package repoconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzLoad: Load never panics, and a config it accepts survives a round trip through
// its own YAML encoding; freezing and unfreezing an accepted file keeps it loadable.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yml")
	more, _ := filepath.Glob("testdata/freeze/*/*.yml")
	examples, _ := filepath.Glob("../../examples/*/.github/daytwo.yml")
	for _, p := range append(append(seeds, more...), examples...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("version: 1\nenvironments: [{name: a}]\nservices: [{name: b, overlay: '{service}/{env}'}]\n"))
	f.Add([]byte("version: 1\nx-a: &a {name: a}\nenvironments: [*a, {<<: *a, name: b}]\nservices: [{name: b}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(data, commands)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Load returned %T, not *Error: %v", err, err)
			}
			return
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Load(out, commands)
		if err != nil {
			t.Fatalf("re-marshalled config does not load: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v\n%s", c, again, out)
		}
		env := c.Environments[len(c.Environments)-1].Name
		frozen, err := SetFreeze(data, env, &Freeze{Reason: "fuzz", By: "alice", Since: since})
		if err != nil {
			return // a file Load accepts may still be beyond in-place editing (e.g. aliases)
		}
		fc, err := Load(frozen, commands)
		if err != nil {
			t.Fatalf("frozen file does not load: %v\n%s", err, frozen)
		}
		if _, ok := fc.Frozen(env); !ok {
			t.Fatalf("SetFreeze did not freeze %s:\n%s", env, frozen)
		}
		thawed, err := SetFreeze(frozen, env, nil)
		if err != nil {
			t.Fatalf("unfreeze: %v", err)
		}
		tc, err := Load(thawed, commands)
		if err != nil {
			t.Fatalf("unfrozen file does not load: %v\n%s", err, thawed)
		}
		if _, ok := tc.Frozen(env); ok {
			t.Fatalf("SetFreeze(nil) left %s frozen:\n%s", env, thawed)
		}
	})
}
