package ops_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// The registry (command.All) is the one list of verbs: each consumer reads what a command
// is from its Spec. The config takes every command but those on the whole repository (save
// /new-service, which adds to environments) as a requesters key, with read access as the built-in rule exactly for the read-only ones;
// the planner plans exactly the mutating ones that are neither on the repository nor act
// outside Git (/run), resolving only an environment for those on an environment.
func TestVerbsComeFromTheRegistry(t *testing.T) {
	reg := command.All()
	p := plan.New()
	const services = "services: [{name: web}]\n"
	for _, name := range reg.Names() {
		s, _ := reg.Lookup(name)
		cfgText := "version: 1\nenvironments:\n  - name: prod\n    requesters:\n      " + name + ": {permission: admin}\n" + services
		_, err := repoconfig.Load([]byte(cfgText), reg)
		if governed := !s.Repository || s.EnvironmentPolicy; (err == nil) != governed {
			t.Errorf("/%s (repository-level %v, governed by each environment %v) as a requesters key: %v", name, s.Repository, s.EnvironmentPolicy, err)
		}

		cfg, err := repoconfig.Load([]byte("version: 1\nenvironments: [{name: prod}]\n"+services), reg)
		if err != nil {
			t.Fatal(err)
		}
		prod, _ := cfg.Env("prod")
		if read := prod.Allowed(name).Permission == "read"; read != s.ReadOnly {
			t.Errorf("/%s (read-only %v): built-in rule %s", name, s.ReadOnly, prod.Allowed(name))
		}

		cmd := command.Command{Name: name, Line: "/" + name}
		_, err = p.Plan(context.Background(), cfg, nil, emptySnapshot{}, nil, plan.Input{Command: cmd})
		notAChange := err != nil && (strings.Contains(err.Error(), "is not a change") || strings.Contains(err.Error(), "acts outside Git"))
		if notAChange == (s.Mutating && !s.Repository && !s.External) {
			t.Errorf("/%s (mutating %v, repository %v, external %v): planned as a change: %v", name, s.Mutating, s.Repository, s.External, !notAChange)
		}
		if s.Repository || s.ReadOnly && name == "help" {
			continue
		}
		resolved, err := p.Resolve(cfg, plan.Input{Command: cmd})
		if err != nil {
			t.Errorf("/%s: resolve: %v", name, err)
			continue
		}
		if envOnly := resolved.Service == ""; envOnly != s.Environment {
			t.Errorf("/%s (on an environment %v): resolved to %+v", name, s.Environment, resolved)
		}
	}
}

// emptySnapshot is a repository with no file: planning a change fails reading it, after
// deciding that it is one.
type emptySnapshot struct{}

func (emptySnapshot) Commit() string                                    { return "0000000000000000000000000000000000000000" }
func (emptySnapshot) ReadFile(context.Context, string) ([]byte, error)  { return nil, fs.ErrNotExist }
func (emptySnapshot) ReadDir(context.Context, string) ([]string, error) { return nil, fs.ErrNotExist }
