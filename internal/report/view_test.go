package report_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// Read answers each read-only command, parsed and resolved as the server and the command
// line do, from a clone.
func TestReadAnswersEachView(t *testing.T) {
	e := newExample(t)
	ctx := context.Background()
	reg := command.All()
	read := func(line string) (*report.View, []string, error) {
		t.Helper()
		c, err := reg.ParseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		resolved, err := report.Resolve(plan.New(), e.cfg, plan.Input{Command: c})
		if err != nil {
			return nil, nil, err
		}
		s := e.snap(t)
		v, err := report.Read(ctx, e.cfg, s, s.History(), resolved)
		return v, report.Envs(e.cfg, resolved), err
	}

	v, envs, err := read("/status --service payments")
	if err != nil || v.Status == nil || !reflect.DeepEqual(envs, []string{"dev", "staging", "prod"}) || len(v.Status.Envs) != 3 ||
		v.Status.Catalog == nil || v.Status.Envs[2].Desired.Version() != "3.0.4" {
		t.Fatalf("status: %+v %v %v", v, envs, err)
	}
	if v, envs, err = read("/status -s payments -e prod"); err != nil || !reflect.DeepEqual(envs, []string{"prod"}) || len(v.Status.Envs) != 1 {
		t.Fatalf("status in prod: %+v %v %v", v, envs, err)
	}
	if v, envs, err = read("/diff staging prod -s checkout"); err != nil || v.Diff == nil || !reflect.DeepEqual(envs, []string{"staging", "prod"}) || len(v.Diff.Images) != 1 {
		t.Fatalf("diff: %+v %v %v", v, envs, err)
	}
	if v, _, err = read("/history"); err != nil || v.History != nil || v.Status != nil || v.Diff != nil ||
		!strings.Contains(v.Markdown(), "No day-2 actions") {
		t.Fatalf("history: %+v %v", v, err)
	}
	if _, _, err = read("/status"); err == nil || !strings.Contains(err.Error(), "which service?") {
		t.Fatalf("status without a service: %v", err)
	}
	if _, _, err = read("/diff dev qa -s checkout"); err == nil || !strings.Contains(err.Error(), `"qa"`) {
		t.Fatalf("diff with an unknown environment: %v", err)
	}

	// Unresolved input is refused with a reason, not a panic.
	s := e.snap(t)
	if _, err := report.Read(ctx, e.cfg, s, s.History(), command.Command{Name: "status", Service: "nope"}); err == nil || !strings.Contains(err.Error(), `no service "nope"`) {
		t.Errorf("unknown service: %v", err)
	}
	if _, err := report.Read(ctx, e.cfg, s, s.History(), command.Command{Name: "scale"}); err == nil {
		t.Error("/scale read as a view")
	}
}
