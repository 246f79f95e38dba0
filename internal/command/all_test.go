package command

import (
	"reflect"
	"strings"
	"testing"
)

// All is the built-in commands plus the read-only answers, /cancel, /init, /dashboard, /sync and
// /refresh; what each is (a change, read-only, on an environment, on the repository,
// outside Git) is its Spec's to say.
func TestAll(t *testing.T) {
	r := All()
	want := []string{"ask", "cancel", "config", "dashboard", "diff", "extend", "freeze", "help", "history", "init", "new-service", "promote", "redeploy", "refresh", "restart",
		"resume", "rollback", "run", "scale", "set-image", "status", "suspend", "sync", "unfreeze"}
	if got := r.Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, n := range Default().Names() {
		a, _ := r.Lookup(n)
		d, _ := Default().Lookup(n)
		if a.Summary != d.Summary || a.Mutating != d.Mutating || a.ReadOnly != d.ReadOnly || a.Environment != d.Environment {
			t.Errorf("/%s differs between All and Default", n)
		}
	}
	kinds := map[string]string{}
	for _, n := range r.Names() {
		s, _ := r.Lookup(n)
		switch {
		case s.Repository:
			kinds[n] = "repository"
		case s.Environment:
			kinds[n] = "environment"
		case s.ReadOnly:
			kinds[n] = "read-only"
		case s.External:
			kinds[n] = "external"
		case s.Mutating:
			kinds[n] = "change"
		default:
			kinds[n] = "other"
		}
		if r.ReadOnly(n) != s.ReadOnly {
			t.Errorf("ReadOnly(%s) = %v, the Spec says %v", n, r.ReadOnly(n), s.ReadOnly)
		}
	}
	wantKinds := map[string]string{
		"ask": "read-only", "cancel": "other", "config": "change", "dashboard": "repository", "diff": "read-only", "extend": "other", "freeze": "environment", "help": "read-only",
		"history": "read-only", "init": "repository", "new-service": "repository", "promote": "change", "redeploy": "change", "refresh": "other",
		"restart": "change", "resume": "change", "rollback": "change", "run": "external", "scale": "change", "set-image": "change", "status": "read-only",
		"suspend": "change", "sync": "external", "unfreeze": "environment",
	}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("kinds %v, want %v", kinds, wantKinds)
	}
	if r.ReadOnly("nosuch") {
		t.Error("an unknown command is read-only")
	}
	if s, _ := r.Lookup("history"); !strings.Contains(strings.Join(flagNames(r, "history"), ","), "limit") || s.Mutating {
		t.Errorf("/history: %+v", s)
	}
	// /sync takes --dry-run, and --break-glass to act during a freeze; /refresh changes
	// nothing to check or to freeze, and takes --hard.
	if got := strings.Join(flagNames(r, "sync"), ","); got != "service,env,dry-run,break-glass" {
		t.Errorf("/sync flags %s", got)
	}
	if got := strings.Join(flagNames(r, "refresh"), ","); got != "hard,service,env" {
		t.Errorf("/refresh flags %s", got)
	}
	for line, hard := range map[string]bool{"/refresh -e prod": false, "/refresh --hard --env prod": true} {
		if c, err := r.ParseLine(line); err != nil || c.Hard != hard || c.Env != "prod" {
			t.Errorf("%s: %+v %v", line, c, err)
		}
	}
	if _, err := r.ParseLine("/refresh --dry-run"); err == nil {
		t.Error("/refresh took --dry-run")
	}
}

func flagNames(r *Registry, name string) []string {
	var out []string
	for _, f := range r.Flags(name) {
		out = append(out, f.Name)
	}
	return out
}

// Governed is what an environment's requesters may name: no command on the whole
// repository but those adding to environments (/new-service); changes, then the others, read-only ones last, each in registration order.
func TestGoverned(t *testing.T) {
	want := []string{"promote", "restart", "redeploy", "scale", "set-image", "config", "suspend", "resume",
		"rollback", "freeze", "unfreeze", "new-service", "run", "sync", "refresh", "cancel", "extend", "status", "history", "diff", "ask", "help"}
	if got := All().Governed(); !reflect.DeepEqual(got, want) {
		t.Errorf("Governed() = %v, want %v", got, want)
	}
	// A command registered later takes its place in its group.
	r := All()
	for _, s := range []Spec{
		{Name: "audit", Summary: "x", ReadOnly: true},
		{Name: "pause", Summary: "x", Mutating: true},
		{Name: "sweep", Summary: "x", Mutating: true, Repository: true},
	} {
		if err := r.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	got := r.Governed()
	if got[14] != "pause" || got[len(got)-1] != "audit" || strings.Contains(strings.Join(got, ","), "sweep") {
		t.Errorf("Governed() with later commands = %v", got)
	}
}

func TestRegisterRefusesContradictions(t *testing.T) {
	for _, s := range []Spec{
		{Name: "x", Summary: "x", Mutating: true, ReadOnly: true},
		{Name: "x", Summary: "x", Repository: true, Environment: true},
		{Name: "x", Summary: "x", Mutating: true, EnvironmentPolicy: true},
		{Name: "x", Summary: "x", External: true},
		{Name: "x", Summary: "x", Mutating: true, Repository: true, External: true},
	} {
		r := NewRegistry()
		if err := r.Register(s); err == nil {
			t.Errorf("%+v registered", s)
		}
		if len(r.Names()) != 0 || len(r.Governed()) != 0 {
			t.Errorf("%+v stays registered", s)
		}
	}
	// A Spec refused for its example leaves the order as it was.
	r := NewRegistry()
	if err := r.Register(Spec{Name: "x", Summary: "x", Examples: []Example{{"/x 1", "?"}}}); err == nil {
		t.Fatal("a bad example registered")
	}
	if err := r.Register(Spec{Name: "y", Summary: "y"}); err != nil || !reflect.DeepEqual(r.Governed(), []string{"y"}) {
		t.Errorf("Governed() = %v (%v)", r.Governed(), err)
	}
}

// Where keeps some of All's commands; /help in it knows only those.
func TestWhere(t *testing.T) {
	r := Where(func(s Spec) bool { return s.ReadOnly || s.Name == "scale" })
	if got := r.Names(); !reflect.DeepEqual(got, []string{"ask", "diff", "help", "history", "scale", "status"}) {
		t.Fatalf("Names() = %v", got)
	}
	res := r.Parse("/help restart")
	if len(res) != 1 || res[0].Reply == nil {
		t.Errorf("/help of a command left out: %+v", res)
	}
}
