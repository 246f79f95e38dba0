package workflow

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

func load(t *testing.T, name string) *Workflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Parse(".github/workflows/"+name, data)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestParseDocsExamples(t *testing.T) {
	w := load(t, "inputs.yml")
	want := []Input{
		{Name: "logLevel", Type: TypeChoice, Description: "Log level", Required: true, Default: "warning", HasDefault: true, Options: []string{"info", "warning", "debug"}},
		{Name: "print_tags", Type: TypeBoolean, Description: "True to print to STDOUT", Required: true},
		{Name: "tags", Type: TypeString, Description: "Test scenario tags"},
		{Name: "environment", Type: TypeEnvironment, Description: "Environment to run tests against", Required: true},
	}
	if w.Name != "Log and tags" || !w.Dispatchable || !reflect.DeepEqual(w.Inputs, want) {
		t.Errorf("inputs.yml = %+v", w)
	}
	w = load(t, "number.yml")
	if len(w.Inputs) != 3 || w.Inputs[0].Type != TypeNumber || !w.Inputs[2].Required || w.Inputs[2].Type != TypeBoolean {
		t.Errorf("number.yml = %+v", w.Inputs)
	}
	// No type means string; defaults are kept.
	w = load(t, "greet.yml")
	if w.Inputs[0].Type != TypeString || w.Inputs[0].Default != "Mona the Octocat" || w.Inputs[1].Required {
		t.Errorf("greet.yml = %+v", w.Inputs)
	}
}

func TestOnForms(t *testing.T) {
	for file, dispatchable := range map[string]bool{"on-string.yml": true, "on-list.yml": true, "push.yml": false, "greet.yml": true} {
		w := load(t, file)
		if w.Dispatchable != dispatchable {
			t.Errorf("%s: Dispatchable = %v", file, w.Dispatchable)
		}
	}
	if w := load(t, "push.yml"); w.Name != "CI" || len(w.Inputs) != 0 {
		t.Errorf("push.yml = %+v", w)
	}
	if w := load(t, "on-string.yml"); w.Name != ".github/workflows/on-string.yml" {
		t.Errorf("a workflow without name: is named by its path, got %q", w.Name)
	}
	for _, src := range []string{
		"on:\n  workflow_dispatch:\njobs: {}\n",
		"on:\n  workflow_dispatch: {}\n",
		"'on': {workflow_dispatch: {inputs: {}}}\n",
		// A YAML 1.1 parser reads the key on as true; this one must not.
		"on:\n  push: {}\n  workflow_dispatch:\n    inputs:\n      x: {type: boolean, default: on}\n",
	} {
		w, err := Parse("w.yml", []byte(src))
		if src == "on:\n  push: {}\n  workflow_dispatch:\n    inputs:\n      x: {type: boolean, default: on}\n" {
			// "on" as a boolean default is a string in YAML 1.2, and not true or false.
			var fe *FileError
			if !errors.As(err, &fe) || fe.Line != 5 || !strings.Contains(fe.Msg, `must be true or false, not "on"`) {
				t.Errorf("boolean default on: err = %v", err)
			}
			continue
		}
		if err != nil || !w.Dispatchable {
			t.Errorf("%q: %+v, %v", src, w, err)
		}
	}
}

func TestParseRefusesWhatGitHubRefuses(t *testing.T) {
	many := "on:\n  workflow_dispatch:\n    inputs:\n"
	for i := 0; i <= MaxInputs; i++ {
		many += fmt.Sprintf("      in%d: {}\n", i)
	}
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"empty", "", 0, "the file is empty"},
		{"not yaml", "on: [push\n", 0, "not valid YAML"},
		{"list", "- on\n", 1, "a workflow file is a mapping"},
		{"no on", "name: x\njobs: {}\n", 1, "has no on: key"},
		{"on number", "on: 3\n", 0, ""},
		{"unknown type", "on:\n  workflow_dispatch:\n    inputs:\n      x:\n        type: text\n", 5, `input "x": type must be one of string, boolean, choice, number, environment, not "text"`},
		{"choice without options", "on:\n  workflow_dispatch:\n    inputs:\n      x:\n        type: choice\n", 5, `input "x": a choice input needs options`},
		{"default not an option", "on:\n  workflow_dispatch:\n    inputs:\n      x:\n        type: choice\n        options: [a, b]\n        default: c\n", 7, `input "x": the default must be one of "a", "b", not "c"`},
		{"required yes", "on:\n  workflow_dispatch:\n    inputs:\n      x:\n        required: yes\n", 5, `input "x": required must be true or false, not "yes"`},
		{"bad id", "on:\n  workflow_dispatch:\n    inputs:\n      1x: {}\n", 4, `input id "1x" must start with a letter`},
		{"ids differing in case", "on:\n  workflow_dispatch:\n    inputs:\n      env: {}\n      ENV: {}\n", 5, `input "ENV" is declared twice (first on line 4)`},
		{"inputs list", "on:\n  workflow_dispatch:\n    inputs: [a]\n", 3, "inputs must be a mapping"},
		{"too many", many, 3, fmt.Sprintf("declares %d inputs; GitHub allows at most %d", MaxInputs+1, MaxInputs)},
		{"too big", "on: workflow_dispatch\n#" + strings.Repeat("x", MaxFileSize) + "\n", 0, "daytwo reads workflow files of at most 512 KiB"},
	}
	for _, tt := range tests {
		w, err := Parse("w.yml", []byte(tt.src))
		if tt.name == "on number" {
			// A scalar on: that is not workflow_dispatch names another event.
			if err != nil || w.Dispatchable {
				t.Errorf("%s: %+v, %v", tt.name, w, err)
			}
			continue
		}
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a *FileError", tt.name, err)
			continue
		}
		if fe.Line != tt.line || !strings.Contains(fe.Msg, tt.msg) || fe.Path != "w.yml" {
			t.Errorf("%s: %q (line %d), want line %d and %q", tt.name, fe.Error(), fe.Line, tt.line, tt.msg)
		}
	}
}

func TestCheck(t *testing.T) {
	w := load(t, "inputs.yml")
	d, err := w.Check([]Arg{{"print_tags", "TRUE"}, {"environment", "prod"}, {"tags", "a b"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"print_tags": "true", "environment": "prod", "tags": "a b"}; !reflect.DeepEqual(d.Inputs, want) {
		t.Errorf("Inputs = %v, want %v", d.Inputs, want)
	}
	if want := map[string]string{"print_tags": "true", "environment": "prod", "tags": "a b", "logLevel": "warning"}; !reflect.DeepEqual(d.Values, want) {
		t.Errorf("Values = %v: the default of logLevel is filled", d.Values)
	}
	if !reflect.DeepEqual(d.Given, []string{"print_tags", "environment", "tags"}) {
		t.Errorf("Given = %v", d.Given)
	}

	tests := []struct {
		name     string
		args     []Arg
		opt      Options
		problems []string
	}{
		{"missing required", []Arg{{"print_tags", "false"}}, Options{},
			[]string{`"environment" is required; give it as "environment=<environment>"`}},
		{"unknown and near miss", []Arg{{"print_tags", "false"}, {"environment", "x"}, {"loglevel", "info"}, {"colour", "red"}}, Options{},
			[]string{`there is no input "loglevel"; did you mean "logLevel"?`, `there is no input "colour"`}},
		{"bad values", []Arg{{"print_tags", "yes"}, {"environment", "x"}, {"logLevel", "warn"}}, Options{},
			[]string{`"print_tags" must be true or false, not "yes"`, `"logLevel" must be one of "info", "warning", "debug", not "warn"`}},
		{"empty required", []Arg{{"print_tags", "true"}, {"environment", ""}}, Options{},
			[]string{`"environment" is required and cannot be empty`}},
		{"twice", []Arg{{"print_tags", "true"}, {"environment", "a"}, {"environment", "b"}}, Options{},
			[]string{`"environment" is given twice`}},
		{"unknown environment", []Arg{{"print_tags", "true"}, {"environment", "qa"}}, Options{Environments: []string{"staging", "prod"}},
			[]string{`"environment" must name an environment of the repository ("staging", "prod"), not "qa"`}},
		{"ghes limit", []Arg{{"print_tags", "true"}, {"environment", "a"}, {"tags", "x"}}, Options{MaxInputs: 2},
			[]string{`3 inputs are given; GitHub accepts at most 2 in one run`}},
	}
	for _, tt := range tests {
		_, err := w.Check(tt.args, tt.opt)
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(ie.Problems, tt.problems) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, ie.Problems, tt.problems)
		}
	}

	n := load(t, "number.yml")
	for v, ok := range map[string]bool{"42": true, "-1.5": true, "1e3": true, "0x10": false, "NaN": false, "1_000": false, "": false, "four": false} {
		_, err := n.Check([]Arg{{"build_id", v}, {"deploy_target", "t"}, {"perform_deploy", "false"}}, Options{})
		if (err == nil) != ok {
			t.Errorf("build_id=%q: err = %v", v, err)
		}
	}

	big := load(t, "greet.yml")
	_, err = big.Check([]Arg{{"name", strings.Repeat("x", MaxPayload)}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "GitHub accepts at most 65535") {
		t.Errorf("a payload over the limit: %v", err)
	}

	var nd *NotDispatchableError
	if _, err := load(t, "push.yml").Check(nil, Options{}); !errors.As(err, &nd) || !strings.Contains(err.Error(), "CI (.github/workflows/push.yml) has no workflow_dispatch trigger") {
		t.Errorf("push.yml: %v", err)
	}
}

// The answer to bad inputs lists every input, and what came from the file or the person
// cannot mention anyone, open HTML or break the table.
func TestInputErrorMarkdownIsSafe(t *testing.T) {
	src := "name: 'Deploy <b>@acme/sre</b>'\non:\n  workflow_dispatch:\n    inputs:\n" +
		"      target:\n        description: 'where | @alice <script>x</script> #12'\n        type: choice\n        options: ['a|b', '`c`']\n        default: 'a|b'\n        required: true\n" +
		"      dry:\n        type: boolean\n"
	w, err := Parse(".github/workflows/deploy.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Check([]Arg{{"target", "<img src=x>"}, {"@bob", "1"}}, Options{})
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatal(err)
	}
	md := ie.Markdown(markdown.GitHub)
	mdtest.AssertSafe(t, md, "Deploy <b>@acme/sre</b>", "where | @alice <script>x</script> #12", "a|b", "`c`", "<img src=x>", "@bob")
	for _, want := range []string{"| Input | Type | Required | Default | Options | Description |", "| `dry` | boolean | no |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the answer lacks %q:\n%s", want, md)
		}
	}
	plain := ie.Markdown(markdown.Plain)
	if !strings.Contains(plain, "target") || strings.Contains(plain, "|") && strings.Contains(plain, "---") {
		t.Errorf("plain answer:\n%s", plain)
	}
	if got := (&Workflow{Name: "x", Dispatchable: true}).InputsTable(markdown.GitHub); got != "The workflow takes no inputs.\n" {
		t.Errorf("no inputs: %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"inputs.yml", "number.yml", "greet.yml", "on-list.yml"} {
		data, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(data, "a=b")
	}
	f.Fuzz(func(t *testing.T, data []byte, arg string) {
		w, err := Parse("w.yml", data)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error %T %v is not a *FileError", err, err)
			}
			return
		}
		k, v, _ := strings.Cut(arg, "=")
		d, err := w.Check([]Arg{{k, v}}, Options{})
		if err == nil && len(d.Inputs) > MaxInputs {
			t.Fatalf("%d inputs passed", len(d.Inputs))
		}
	})
}

func TestNames(t *testing.T) {
	for s, want := range map[string]string{
		"deploy.yml": "", "smoke.yaml": "", "161335": "", "my_flow-1.yml": "",
		".github/workflows/deploy.yml": `write the workflow file's name without its folder: "deploy.yml"`,
		"ci/deploy.yml":                `is not a file of .github/workflows`,
		"deploy":                       `neither a workflow file name`,
		"0":                            `neither a workflow file name`,
		"":                             `neither a workflow file name`,
	} {
		err := ValidateFile(s)
		if (want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateFile(%q) = %v, want %q", s, err, want)
		}
	}
	for ref, ok := range map[string]bool{
		"main": true, "release/2.4": true, "v1.2.3": true, "refs/heads/main": true, "feature/x_y-z": true,
		"": false, "-x": false, "a..b": false, "a b": false, "a~1": false, "x.lock": false, "a//b": false,
		"/a": false, "a/": false, "a/.b": false, "@": false, "a@{1}": false, "a:b": false, "a\x01": false, "x.": false,
	} {
		if err := ValidateRef(ref); (err == nil) != ok {
			t.Errorf("ValidateRef(%q) = %v", ref, err)
		}
	}
	for s, ok := range map[string]bool{"logLevel": true, "_x": true, "a-b_c1": true, "1a": false, "a.b": false, "": false, "a b": false} {
		if ValidInputName(s) != ok {
			t.Errorf("ValidInputName(%q) = %v", s, !ok)
		}
	}
}
