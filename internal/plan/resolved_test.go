package plan

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// PlanResolved plans what Plan plans, for a command resolved beforehand, without resolving
// it again; a command that was not resolved is refused, never planned on a guess.
func TestPlanResolved(t *testing.T) {
	ctx := context.Background()
	for _, c := range goldenCases {
		if c.history != nil || c.reqFor != nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			input := readTree(t, filepath.Join("testdata", c.name, "input"))
			snap := newMemSnapshot(baseSHA, input)
			cfg := loadConfig(t, input)
			p := New()
			want, err := p.Plan(ctx, cfg, input[repoconfig.Path], snap, nil, c.req)
			if err != nil {
				t.Fatal(err)
			}
			resolved, err := p.Resolve(cfg, c.req)
			if err != nil {
				t.Fatal(err)
			}
			req := c.req
			req.Command = resolved
			got, err := p.PlanResolved(ctx, cfg, input[repoconfig.Path], snap, nil, req)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("PlanResolved differs from Plan:\n%+v\n%+v", got, want)
			}
			if !envOnly(req.Command.Name) {
				unresolved := req
				unresolved.Command.Service = ""
				if _, err := p.PlanResolved(ctx, cfg, input[repoconfig.Path], snap, nil, unresolved); ErrorCode(err) != Internal {
					t.Errorf("a command without its service: %v", err)
				}
			}
			unknown := req
			unknown.Command.Env = "nowhere"
			if _, err := p.PlanResolved(ctx, cfg, input[repoconfig.Path], snap, nil, unknown); ErrorCode(err) != Internal {
				t.Errorf("a command resolved to an unknown environment: %v", err)
			}
		})
	}
}
