package command

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/workflow"
)

func TestParseRun(t *testing.T) {
	reg := Default()
	tests := []struct {
		line string
		want Command
	}{
		{"/run smoke-test --env prod", Command{Name: "run", Workflow: "smoke-test", Env: "prod"}},
		{"/run migrate dry_run=false 'notes=two words' --ref release/2.4 -s checkout -e staging",
			Command{Name: "run", Workflow: "migrate", Service: "checkout", Env: "staging", Ref: "release/2.4",
				Inputs: []KeyValue{{Key: "dry_run", Value: "false"}, {Key: "notes", Value: "two words"}}}},
		{"/run e2e empty= eq=a=b --dry-run --env dev", Command{Name: "run", Workflow: "e2e", Env: "dev", DryRun: true,
			Inputs: []KeyValue{{Key: "empty", Value: ""}, {Key: "eq", Value: "a=b"}}}},
		{"/run e2e flag=--verbose --env dev", Command{Name: "run", Workflow: "e2e", Env: "dev", Inputs: []KeyValue{{Key: "flag", Value: "--verbose"}}}},
		{"/RUN deploy --break-glass --env prod", Command{Name: "run", Workflow: "deploy", Env: "prod", BreakGlass: true}},
	}
	for _, tt := range tests {
		got, err := reg.ParseLine(tt.line)
		if err != nil {
			t.Errorf("%s: %v", tt.line, err)
			continue
		}
		got.Line = ""
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.line, got, tt.want)
		}
	}
	got, _ := reg.ParseLine("/run m a=1 b=2")
	if args := got.RunArgs(); !reflect.DeepEqual(args, []workflow.Arg{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}) {
		t.Errorf("RunArgs = %+v", args)
	}

	refusals := []struct {
		line, msg string
		arg       int
		flag      string
	}{
		{"/run", "name the workflow to run: /run <workflow> [key=value...]", 0, ""},
		{"/run env=prod", "name the workflow before its inputs: /run <workflow> env=prod", 0, ""},
		{"/run Smoke", `the workflow name "Smoke" must be lower case: "smoke"`, 0, ""},
		{"/run smoke prod", `"prod" is not KEY=VALUE; the workflow's inputs are given as key=value`, 1, ""},
		{"/run smoke 1x=2", `"1x" is not an input name`, 1, ""},
		{"/run smoke a=1 b=2 a=3", "the input a is given twice", 3, ""},
		{"/run smoke a=x\u200by", "the line contains the invisible or control character U+200B", -1, ""},
		{"/run smoke --ref a..b", `"a..b" is not a branch or tag name`, -1, "ref"},
		{"/run smoke --ref", "", -1, "ref"},
	}
	for _, r := range refusals {
		_, err := reg.ParseLine(r.line)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%s: %v", r.line, err)
			continue
		}
		if ue.Command != "run" || !strings.Contains(ue.Err.Error(), r.msg) || ue.Arg != r.arg || ue.Flag != r.flag {
			t.Errorf("%s: %+v (%v), want %q at arg %d flag %q", r.line, ue, ue.Err, r.msg, r.arg, r.flag)
		}
		if !strings.Contains(ue.Usage, "/run <workflow> [key=value...] [--ref <ref>]") {
			t.Errorf("%s: the usage is not /run's:\n%s", r.line, ue.Usage)
		}
	}
}

// /run acts outside Git: the help says so instead of promising a pull request.
func TestRunHelp(t *testing.T) {
	reg := Default()
	h := reg.Help("run")
	for _, want := range []string{
		"`/run <workflow> [key=value...] [--ref <ref>]`",
		"Acts directly, without a pull request; add `--dry-run` to check it without acting.",
		"| `--ref <ref>` |", "| `--break-glass` |",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("/help run lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, "Opens a pull request") {
		t.Errorf("/help run promises a pull request:\n%s", h)
	}
	mdtest.AssertSafe(t, h)
	o := reg.Help("")
	if !strings.Contains(o, "open a pull request against the GitOps repository, except `/run`, `/sync`, which act directly.") ||
		!strings.Contains(o, "| `/run <workflow> [key=value...] [--ref <ref>]` | Run a GitHub Actions workflow the repository allows | yes |") {
		t.Errorf("/help:\n%s", o)
	}
	if o := Where(func(s Spec) bool { return !s.External }).Help(""); !strings.Contains(o, "open a pull request against the GitOps repository.\n") {
		t.Errorf("without an external command the overview has no exception:\n%s", o)
	}

	bad := RunSpec()
	bad.Name, bad.Mutating, bad.Examples, bad.Form = "peek", false, nil, nil
	if err := Default().Register(bad); err == nil || !strings.Contains(err.Error(), "acts outside Git") {
		t.Errorf("an external command that changes nothing: %v", err)
	}
}

// An issue opened from /run's form is read into the command its comment line gives, and
// the form promises no pull request.
func TestRunFormRoundTrip(t *testing.T) {
	reg := Default()
	generated, err := reg.IssueForms(FormChoices{Services: []string{"checkout"}, Environments: []string{"staging", "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	var forms []Form
	for _, g := range generated {
		f, err := ParseForm(g.YAML)
		if err != nil {
			t.Fatal(err)
		}
		if g.Verb == "run" {
			y := string(g.YAML)
			if strings.Contains(y, "pull request") && !strings.Contains(y, "no pull request is opened") {
				t.Errorf("the /run form speaks of a pull request:\n%s", y)
			}
			if !strings.Contains(y, "Only check it; do not run it") {
				t.Errorf("the /run form's dry run:\n%s", y)
			}
		}
		forms = append(forms, f)
	}
	set, err := reg.NewFormSet(forms)
	if err != nil {
		t.Fatal(err)
	}
	for values, line := range map[*map[string]string]string{
		{"service": "checkout", "env": "prod", "workflow": "migrate", "inputs": "dry_run=false\nnotes=two words", "ref": "release/2.4"}: "/run migrate dry_run=false 'notes=two words' --ref release/2.4 --service checkout --env prod",
		{"service": "checkout", "env": "staging", "workflow": "smoke-test", "dry-run": "Only check it; do not run it"}:                  "/run smoke-test --service checkout --env staging --dry-run",
	} {
		want, err := reg.ParseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		body := submit(formByVerb(t, set, "run"), *values)
		got, err := set.ParseIssueForm([]string{"daytwo", "action/run"}, body)
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, body)
			continue
		}
		got.Line, want.Line = "", ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("form:\n got %+v\nwant %+v", got, want)
		}
	}
	body := submit(formByVerb(t, set, "run"), map[string]string{"service": "checkout", "env": "prod", "workflow": "migrate", "inputs": "oops"})
	if _, err := set.ParseIssueForm([]string{"action/run"}, body); err == nil || !strings.Contains(err.Error(), `Inputs: "oops" is not KEY=VALUE`) {
		t.Errorf("a bad input line: %v", err)
	}
}
