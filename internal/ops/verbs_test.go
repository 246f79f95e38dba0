package ops_test

import (
	"slices"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/ops"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// TestVerbListsAgree ties the registry (the one list of verbs the server parses and helps
// with) to the config's requesters keys: every command on a service or an environment is
// a key, read-only exactly when it changes nothing; /init, on the whole repository, is
// not, since no environment's policy can govern it; /new-service is, since it adds to
// environments, each of whose rules applies; and no key names a verb the registry lacks.
func TestVerbListsAgree(t *testing.T) {
	reg := command.Default()
	for _, s := range (&ops.Runner{}).Specs() {
		if err := reg.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	keys := repoconfig.Commands()
	var repoLevel int
	for _, name := range reg.Names() {
		s, _ := reg.Lookup(name)
		if s.Repository {
			repoLevel++
			if name == "new-service" {
				if !slices.Contains(keys, name) {
					t.Errorf("/new-service adds to environments, yet their requesters cannot name it")
				}
				continue
			}
			if slices.Contains(keys, name) {
				t.Errorf("/%s acts on the whole repository, yet requesters may name it", name)
			}
			continue
		}
		if !slices.Contains(keys, name) {
			t.Errorf("/%s is a command, but requesters cannot name it: add it to repoconfig's commands", name)
		}
		if s.Mutating && repoconfig.ReadOnly(name) {
			t.Errorf("/%s changes something, but the config treats it as read-only", name)
		}
		// /cancel changes something, but there is nothing to dry-run.
		if !s.Mutating && !repoconfig.ReadOnly(name) && name != "cancel" {
			t.Errorf("/%s changes nothing, but the config does not treat it as read-only", name)
		}
	}
	for _, k := range keys {
		if _, ok := reg.Lookup(k); !ok {
			t.Errorf("requesters key %q names no command", k)
		}
	}
	if s, ok := reg.Lookup("init"); !ok || !s.Repository || !s.Mutating || s.Form != nil {
		t.Errorf("/init: %+v", s)
	}
	if repoLevel != 2 {
		t.Errorf("%d commands act on the whole repository; the docs name /init and /new-service", repoLevel)
	}
}
