package command

import (
	"reflect"
	"strings"
	"testing"
)

func TestDefaultBuiltins(t *testing.T) {
	r := Default()
	want := []string{"ask", "config", "dashboard", "freeze", "help", "new-service", "promote", "redeploy", "refresh", "restart", "resume", "rollback", "run", "scale", "set-image", "suspend", "sync", "unfreeze"}
	if got := r.Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, n := range want {
		if s, _ := r.Lookup(n); s.Repository {
			continue // TestRepositoryCommand
		}
		s, _ := r.Lookup(n)
		flags := map[string]bool{}
		for _, f := range r.Flags(n) {
			flags[f.Name] = true
		}
		if !flags[FlagService] || !flags[FlagEnv] {
			t.Errorf("/%s lacks --service or --env", n)
		}
		if flags[FlagDryRun] != s.Mutating || flags[FlagBreakGlass] != s.Mutating {
			t.Errorf("/%s: mutating=%v but dry-run=%v break-glass=%v", n, s.Mutating, flags[FlagDryRun], flags[FlagBreakGlass])
		}
		if s.Description == "" || len(s.Examples) == 0 {
			t.Errorf("/%s has no description or examples", n)
		}
	}
	if s, _ := r.Lookup("help"); s.Mutating {
		t.Error("/help is mutating")
	}
	if Default() == r {
		t.Error("Default returns a shared registry")
	}
}

// TestExtension registers commands the way later code does and parses them without any
// change to the parser.
func TestExtension(t *testing.T) {
	r := Default()
	err := r.Register(Spec{
		Name:        "cancel",
		Args:        "[<id>]",
		Summary:     "Cancel a queued operation",
		Description: "Cancels the operation with the given id, or the newest one of the thread.",
		Mutating:    true,
		Examples:    []Example{{"/cancel 42", "cancel operation 42"}, {"/cancel --all", "cancel all"}},
		Flags: func(fs *FlagSet, c *Command) {
			fs.Bool("all", "a", "cancel every queued operation of the thread", &c.DryRun) // stores somewhere observable
		},
		Bind: func(c *Command, args []string) error {
			if len(args) > 1 {
				return ArgErrorf(1, "one id at most")
			}
			if len(args) == 1 {
				n, err := ParseReplicas(args[0])
				if err != nil {
					return &ArgError{Index: 0, Err: err}
				}
				c.Replicas = n
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Register(Spec{Name: "status", Summary: "Show what runs", Examples: []Example{{"/status -e prod", "status of prod"}}}); err != nil {
		t.Fatal(err)
	}
	got := r.Parse("/cancel 42 -a\n/status --env prod\n/statsu\n/help cancel")
	if len(got) != 4 {
		t.Fatalf("got %s", describe(got))
	}
	if c := got[0].Command; c == nil || c.Name != "cancel" || c.Replicas != 42 || !c.DryRun {
		t.Errorf("cancel: %s", describe(got[:1]))
	}
	if c := got[1].Command; c == nil || c.Name != "status" || c.Env != "prod" {
		t.Errorf("status: %s", describe(got[1:2]))
	}
	if rep := got[2].Reply; rep == nil || !strings.Contains(rep.Message, "did you mean /status?") {
		t.Errorf("typo of a registered command: %s", describe(got[2:3]))
	}
	if c := got[3].Command; c == nil || c.Topic != "cancel" {
		t.Errorf("help topic of a registered command: %s", describe(got[3:]))
	}
	if got := r.Parse("/status --dry-run"); len(got) != 1 || got[0].Reply == nil {
		t.Errorf("a non-mutating command accepted --dry-run: %s", describe(got))
	}
	if !strings.Contains(r.Help(""), "`/cancel [<id>] [--all]`") {
		t.Errorf("help does not list /cancel:\n%s", r.Help(""))
	}
}

func TestRegisterRefusesBadSpecs(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"bad name", Spec{Name: "Bad", Summary: "x"}, "must be lower-case"},
		{"slash", Spec{Name: "/x", Summary: "x"}, "must be lower-case"},
		{"duplicate", Spec{Name: "scale", Summary: "x"}, "registered twice"},
		{"no summary", Spec{Name: "x"}, "no summary"},
		{"args without bind", Spec{Name: "x", Summary: "x", Args: "<n>"}, "no Bind"},
		{"clashing flag", Spec{Name: "x", Summary: "x", Flags: func(fs *FlagSet, c *Command) { fs.Bool("env", "", "u", &c.DryRun) }}, "--env is defined twice"},
		{"clashing short", Spec{Name: "x", Summary: "x", Flags: func(fs *FlagSet, c *Command) { fs.Bool("every", "e", "u", &c.DryRun) }}, "-e is defined twice"},
		{"flag without usage", Spec{Name: "x", Summary: "x", Flags: func(fs *FlagSet, c *Command) { fs.Bool("all", "", "", &c.DryRun) }}, "no usage"},
		{"bad example", Spec{Name: "x", Summary: "x", Examples: []Example{{"/x 1", "?"}}}, "takes no arguments"},
		{"example of another command", Spec{Name: "x", Summary: "x", Examples: []Example{{"/restart", "?"}}}, "parses as /restart"},
	}
	for _, tt := range tests {
		r := Default()
		err := r.Register(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Register err = %v, want %q", tt.name, err, tt.want)
		}
		if tt.spec.Name == "x" {
			if _, ok := r.Lookup("x"); ok {
				t.Errorf("%s: a refused spec stays registered", tt.name)
			}
		}
	}
}

// TestRepositoryCommand: a command on the whole repository takes no target and cannot
// break glass; naming a target is refused with a reason.
func TestRepositoryCommand(t *testing.T) {
	r := Default()
	if err := r.Register(Spec{Name: "onboard", Summary: "Onboard", Mutating: true, Repository: true,
		Examples: []Example{{Line: "/onboard --dry-run", Text: "show it"}}}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range r.Flags("onboard") {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != FlagDryRun {
		t.Errorf("flags of a repository command: %v, want only --dry-run", names)
	}
	c, err := r.ParseLine("/onboard --dry-run")
	if err != nil || !c.DryRun || c.Service != "" || c.Env != "" {
		t.Errorf("%+v %v", c, err)
	}
	for _, line := range []string{"/onboard --env prod", "/onboard -s web", "/onboard --service=web", "/onboard --break-glass"} {
		_, err := r.ParseLine(line)
		if err == nil {
			t.Errorf("%s parsed", line)
			continue
		}
		if strings.Contains(line, "break-glass") {
			continue // an unknown flag, said so by the flag parser
		}
		if !strings.Contains(err.Error(), "/onboard acts on the whole GitOps repository and takes no -") {
			t.Errorf("%s: %v", line, err)
		}
	}
	if _, err := r.ParseLine("/onboard prod"); err == nil || strings.Contains(err.Error(), "--env") {
		t.Errorf("an argument must not be explained as an environment: %v", err)
	}
	// Its issue form asks for neither a service nor an environment.
	if err := r.Register(Spec{Name: "onboard2", Summary: "x", Repository: true, Mutating: true,
		Form:  &FormSpec{Name: "x", Description: "x", Intro: "x", Fields: []FormField{{ID: "note", Type: "input", Label: "Note"}}},
		Flags: func(fs *FlagSet, c *Command) { fs.Text("note", "", "<text>", "a note", &c.Reason) }}); err != nil {
		t.Fatal(err)
	}
	forms, err := r.IssueForms(FormChoices{Services: []string{"web"}, Environments: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range forms {
		if g.Verb != "onboard2" {
			continue
		}
		f, err := ParseForm(g.YAML)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, fd := range f.Fields {
			ids = append(ids, fd.ID)
		}
		if strings.Join(ids, ",") != "note,reason,dry-run" {
			t.Errorf("fields of a repository command's form: %v", ids)
		}
	}
}
