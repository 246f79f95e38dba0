package command

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/daytwo-dev/daytwo/templates"
)

func embeddedForms(t testing.TB) *FormSet {
	t.Helper()
	forms, err := LoadForms(templates.IssueForms, templates.IssueFormsDir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Default().NewFormSet(forms)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// submit builds an issue body from values (field id -> value) the way GitHub does when a
// form is submitted: "### <label>", a blank line, the value; "_No response_" for an empty
// input or textarea, "None" for an empty dropdown, "- [X] option" lines for checkboxes, a
// fenced block for a textarea with render. Checkbox values list the checked options, one
// per line.
func submit(f Form, values map[string]string) string {
	var parts []string
	for _, fd := range f.Fields {
		v := values[fd.ID]
		switch {
		case fd.Type == typeCheckboxes:
			checked := map[string]bool{}
			for _, c := range strings.Split(v, "\n") {
				checked[c] = true
			}
			var lines []string
			for _, o := range fd.Options {
				mark := " "
				if checked[o] {
					mark = "X"
				}
				lines = append(lines, "- ["+mark+"] "+o)
			}
			v = strings.Join(lines, "\n")
		case v == "" && fd.Type == typeDropdown:
			v = "None"
		case v == "":
			v = "_No response_"
		case fd.Render != "":
			v = "```" + fd.Render + "\n" + v + "\n```"
		}
		parts = append(parts, "### "+fd.Label+"\n\n"+v)
	}
	return strings.Join(parts, "\n\n")
}

func formByVerb(t testing.TB, set *FormSet, verb string) Form {
	t.Helper()
	for _, f := range set.Forms() {
		if f.Verb == verb {
			return f
		}
	}
	t.Fatalf("no form for /%s", verb)
	return Form{}
}

func TestEmbeddedForms(t *testing.T) {
	set := embeddedForms(t)
	var verbs []string
	for _, f := range set.Forms() {
		verbs = append(verbs, f.Verb)
		if !reflect.DeepEqual(f.Labels, []string{"daytwo", ActionLabelPrefix + f.Verb}) {
			t.Errorf("%s: labels %v", f.File, f.Labels)
		}
		if f.Title != "[daytwo] "+f.Verb+": " {
			t.Errorf("%s: title %q", f.File, f.Title)
		}
		ids := map[string]Field{}
		for _, fd := range f.Fields {
			ids[fd.ID] = fd
		}
		want := []string{"service", "env", "reason", "dry-run"}
		switch f.Verb {
		case "new-service": // on the whole repository: no target
			want = []string{"name", "owner", "image", "reason", "dry-run"}
		case "dashboard": // on the whole repository, and changes nothing but the dashboard
			want = []string{"reason"}
		case "ask": // changes nothing; a question may be about every environment
			want = []string{"service", "env", "question", "reason"}
		}
		if _, ok := ids["service"]; ok && (f.Verb == "new-service" || f.Verb == "dashboard") {
			t.Errorf("%s asks for a service", f.File)
		}
		for _, id := range want {
			if _, ok := ids[id]; !ok {
				t.Errorf("%s has no %s field", f.File, id)
			}
		}
		if f.Verb == "new-service" || f.Verb == "dashboard" {
			continue
		}
		if f.Verb == "ask" {
			if _, ok := ids["dry-run"]; ok || !ids["question"].Required {
				t.Errorf("%s: a question is required, and nothing is dry-run", f.File)
			}
			continue
		}
		if !ids["service"].Required || !ids["env"].Required || ids["dry-run"].Type != typeCheckboxes {
			t.Errorf("%s: service and env must be required, dry-run a checkbox", f.File)
		}
	}
	if want := []string{"ask", "config", "dashboard", "new-service", "promote", "restart", "rollback", "run", "scale", "set-image", "sync"}; !reflect.DeepEqual(verbs, want) {
		t.Errorf("forms for %v, want %v", verbs, want)
	}
}

func TestIssueFormRoundTrip(t *testing.T) {
	set := embeddedForms(t)
	dg := "sha256:" + strings.Repeat("c0ffee", 10) + "abcd"
	tests := []struct {
		verb   string
		values map[string]string
		want   Command
	}{
		{"restart", map[string]string{"service": "checkout", "env": "prod"},
			Command{Name: "restart", Line: "/restart --service checkout --env prod", Service: "checkout", Env: "prod"}},
		{"restart", map[string]string{"service": "checkout", "env": "prod", "reason": "stuck\nconnections", "dry-run": "Only show the change; do not open a pull request"},
			Command{Name: "restart", Line: "/restart --service checkout --env prod --dry-run", Service: "checkout", Env: "prod", DryRun: true, Reason: "stuck\nconnections"}},
		{"scale", map[string]string{"service": "checkout", "env": "prod", "replicas": "3"},
			Command{Name: "scale", Line: "/scale 3 --service checkout --env prod", Service: "checkout", Env: "prod", Replicas: 3}},
		{"scale", map[string]string{"service": "checkout", "env": "prod", "replicas": "3", "for": "2h"},
			Command{Name: "scale", Line: "/scale 3 --service checkout --env prod --for 2h", Service: "checkout", Env: "prod", Replicas: 3, For: 2 * time.Hour}},
		{"promote", map[string]string{"service": "web", "env": "prod"},
			Command{Name: "promote", Line: "/promote --service web --env prod", Service: "web", Env: "prod"}},
		{"promote", map[string]string{"service": "web", "env": "prod", "from": "qa"},
			Command{Name: "promote", Line: "/promote --service web --env prod --from qa", Service: "web", Env: "prod", From: "qa"}},
		{"rollback", map[string]string{"service": "web", "env": "prod", "to": "ABCDEF12"},
			Command{Name: "rollback", Line: "/rollback --service web --env prod --to ABCDEF12", Service: "web", Env: "prod", To: "abcdef12"}},
		{"set-image", map[string]string{"service": "web", "env": "staging", "image": "side=ghcr.io/acme/proxy@" + dg},
			Command{Name: "set-image", Line: "/set-image side=ghcr.io/acme/proxy@" + dg + " --service web --env staging", Service: "web", Env: "staging", Image: ImageRef{Container: "side", Name: "ghcr.io/acme/proxy", Digest: dg}}},
		{"config", map[string]string{"service": "web", "env": "dev", "operation": "set", "literals": "LOG_LEVEL=debug\n\nMSG=hello world\nQUOTE=it's"},
			Command{Name: "config", Line: `/config set LOG_LEVEL=debug 'MSG=hello world' 'QUOTE=it'\''s' --service web --env dev`, Service: "web", Env: "dev",
				Set: []KeyValue{{Key: "LOG_LEVEL", Value: "debug"}, {Key: "MSG", Value: "hello world"}, {Key: "QUOTE", Value: "it's"}}}},
		{"config", map[string]string{"service": "web", "env": "dev", "operation": "unset", "literals": "-odd\nB"},
			Command{Name: "config", Line: "/config --service web --env dev -- unset -odd B", Service: "web", Env: "dev", Unset: []string{"-odd", "B"}}},
	}
	r := Default()
	for _, tt := range tests {
		f := formByVerb(t, set, tt.verb)
		body := submit(f, tt.values)
		for _, variant := range []struct{ name, body string }{{"lf", body}, {"crlf", strings.ReplaceAll(body, "\n", "\r\n")}} {
			got, err := set.ParseIssueForm([]string{"daytwo", "Action/" + tt.verb, "env/prod"}, variant.body)
			if err != nil {
				t.Errorf("%s %s: %v\n%s", tt.verb, variant.name, err, variant.body)
				continue
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s %s:\n got %+v\nwant %+v", tt.verb, variant.name, got, tt.want)
			}
			// The synthesized line is a comment that means the same, reason aside.
			again, err := r.ParseLine(got.Line)
			got.Reason = ""
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("%s: ParseLine(%q) = %+v, %v; want %+v", tt.verb, got.Line, again, err, got)
			}
		}
	}
}

func TestParseIssueFormErrors(t *testing.T) {
	set := embeddedForms(t)
	scale := formByVerb(t, set, "scale")
	config := formByVerb(t, set, "config")
	good := map[string]string{"service": "checkout", "env": "prod", "replicas": "3"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		labels []string
		body   string
		want   []string // substrings of the error
	}{
		{"not a number", []string{"action/scale"}, submit(scale, with("replicas", "three")), []string{`Replicas: "three" is not a number`}},
		{"too many", []string{"action/scale"}, submit(scale, with("replicas", "5000")), []string{"Replicas: 5000 is more than the limit"}},
		{"required missing", []string{"action/scale"}, submit(scale, with("replicas", "")), []string{"Replicas: is required but has no value"}},
		{"two bad fields", []string{"action/scale"}, submit(scale, map[string]string{"service": "Checkout", "env": "../prod", "replicas": "1"}),
			[]string{`Service: the service name "Checkout" must be lower case`, `Environment: the environment name "../prod" must not contain ".."`}},
		{"section removed", []string{"action/scale"}, strings.Replace(submit(scale, good), "### Replicas", "### Something else", 1), []string{"Replicas: is required but its section is missing"}},
		{"garbage", []string{"action/scale"}, "I want three replicas please", []string{`none of the sections of the "daytwo: scale" form`, "### Replicas"}},
		{"multi-line input", []string{"action/scale"}, submit(scale, with("replicas", "3\n4")), []string{"Replicas: expected a single line"}},
		{"duplicate section", []string{"action/scale"}, submit(scale, good) + "\n\n### Replicas\n\n4", []string{"Replicas: the section appears twice"}},
		{"several actions", []string{"action/scale", "action/restart"}, submit(scale, good), []string{"several action labels (action/scale, action/restart)"}},
		{"dropdown edited", []string{"action/config"}, submit(config, map[string]string{"service": "a", "env": "b", "operation": "delete", "literals": "A"}), []string{`Operation: "delete" is not one of: set, unset`}},
		{"dropdown none", []string{"action/config"}, submit(config, map[string]string{"service": "a", "env": "b", "literals": "A"}), []string{"Operation: is required"}},
		{"bad literal", []string{"action/config"}, submit(config, map[string]string{"service": "a", "env": "b", "operation": "set", "literals": "A=1\nB"}), []string{`Literals: "B" is not KEY=VALUE`}},
		{"duplicate literal", []string{"action/config"}, submit(config, map[string]string{"service": "a", "env": "b", "operation": "set", "literals": "A=1\nA=2"}), []string{"Literals: the key A is given twice"}},
		{"checkbox garbage", []string{"action/scale"}, strings.Replace(submit(scale, good), "- [ ] Only show", "* maybe Only show", 1), []string{"Dry run:", "is not a checkbox line"}},
		{"unknown checkbox", []string{"action/scale"}, strings.Replace(submit(scale, good), "Only show the change", "Do it twice", 1), []string{"Dry run:", "is not one of the checkboxes"}},
		{"hidden character in reason", []string{"action/scale"}, submit(scale, with("reason", "fine\u202e")), []string{"Reason:", "U+202E"}},
		{"huge body", []string{"action/scale"}, strings.Repeat("x", maxBodyLen+1), []string{"the limit is"}},
	}
	for _, tt := range tests {
		_, err := set.ParseIssueForm(tt.labels, tt.body)
		var fe *FormError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a *FormError", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tt.name, err, w)
			}
		}
	}
}

func TestParseIssueFormLeniency(t *testing.T) {
	set := embeddedForms(t)
	scale := formByVerb(t, set, "scale")
	body := submit(scale, map[string]string{"service": "checkout", "env": "prod", "replicas": "3"})
	edited := "Some text the user added before.\n\n" +
		strings.NewReplacer("### Replicas", "###   replicas  ", "- [ ] Only show", "- [x] Only show").Replace(body) +
		"\n\n### Notes\n\nanything at all\n### more\n"
	got, err := set.ParseIssueForm([]string{"action/scale"}, edited)
	if err != nil {
		t.Fatal(err)
	}
	if got.Replicas != 3 || !got.DryRun {
		t.Errorf("got %+v", got)
	}

	// A heading inside a rendered textarea is content, not a section.
	config := formByVerb(t, set, "config")
	body = submit(config, map[string]string{"service": "a", "env": "b", "operation": "set", "literals": "A=1\n### Reason\nB=2"})
	if _, err := set.ParseIssueForm([]string{"action/config"}, body); err == nil || !strings.Contains(err.Error(), `"### Reason" is not KEY=VALUE`) {
		t.Errorf("heading in a fence: err = %v", err)
	}
	// Without the fence (the user removed it) the lines are still read.
	body = strings.Replace(strings.Replace(submit(config, map[string]string{"service": "a", "env": "b", "operation": "unset", "literals": "A\nB"}), "```text\n", "", 1), "\n```", "", 1)
	if got, err := set.ParseIssueForm([]string{"action/config"}, body); err != nil || !reflect.DeepEqual(got.Unset, []string{"A", "B"}) {
		t.Errorf("unfenced literals: %+v, %v", got, err)
	}
}

func TestParseIssueFormNotAForm(t *testing.T) {
	set := embeddedForms(t)
	for _, labels := range [][]string{nil, {"bug"}, {"daytwo"}, {"action/"}, {"action/deploy-the-moon"}} {
		if _, err := set.ParseIssueForm(labels, "### Service\n\nx"); !errors.Is(err, ErrNotForm) {
			t.Errorf("labels %v: err = %v, want ErrNotForm", labels, err)
		}
	}
}

func TestParseFormSchema(t *testing.T) {
	const head = "name: n\ndescription: d\nlabels: [daytwo, action/restart]\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"no name", "description: d\nbody:\n- type: input\n  attributes: {label: x}\n", "name is missing"},
		{"blank name", "name: ' '\ndescription: d\nbody:\n- type: input\n  attributes: {label: x}\n", "name is missing or empty"},
		{"no description", "name: n\nbody:\n- type: input\n  attributes: {label: x}\n", "description is missing"},
		{"no body", "name: n\ndescription: d\n", "body is missing"},
		{"boolean name", "name: yes\ndescription: d\nbody: []\n", "must be a string"},
		{"unknown top key", head + "hello: world\nbody:\n- type: input\n  attributes: {label: x}\n", "hello"},
		{"two documents", head + "body:\n- type: input\n  attributes: {label: x}\n---\nname: m\n", "more than one YAML document"},
		{"only markdown", head + "body:\n- type: markdown\n  attributes: {value: hi}\n", "at least one non-markdown"},
		{"bad type", head + "body:\n- type: x\n  attributes: {label: x}\n", `"x" is not a valid input type`},
		{"no type", head + "body:\n- attributes: {label: x}\n", "type is missing"},
		{"no attributes", head + "body:\n- type: input\n", "attributes is missing"},
		{"markdown no value", head + "body:\n- type: markdown\n  attributes: {label: x}\n", "label is not a permitted attribute of markdown"},
		{"markdown id", head + "body:\n- type: markdown\n  id: m\n  attributes: {value: v}\n- type: input\n  attributes: {label: x}\n", "takes no id"},
		{"no label", head + "body:\n- type: input\n  attributes: {description: d}\n", "label is missing"},
		{"render on input", head + "body:\n- type: input\n  attributes: {label: x, render: sh}\n", "render is not a permitted attribute of input"},
		{"bad id", head + "body:\n- type: input\n  id: a b\n  attributes: {label: x}\n", "can only contain"},
		{"duplicate id", head + "body:\n- type: input\n  id: a\n  attributes: {label: x}\n- type: input\n  id: a\n  attributes: {label: y}\n", `id "a" is not unique`},
		{"duplicate label", head + "body:\n- type: input\n  attributes: {label: x}\n- type: textarea\n  attributes: {label: x}\n", `label "x" is not unique`},
		{"empty dropdown", head + "body:\n- type: dropdown\n  attributes: {label: x, options: []}\n", "needs options"},
		{"duplicate option", head + "body:\n- type: dropdown\n  attributes: {label: x, options: [a, a]}\n", `option "a" is not unique`},
		{"none option", head + "body:\n- type: dropdown\n  attributes: {label: x, options: [a, None]}\n", "reserved word"},
		{"boolean option", head + "body:\n- type: dropdown\n  attributes: {label: x, options: [a, yes]}\n", "must not be booleans"},
		{"bad default", head + "body:\n- type: dropdown\n  attributes: {label: x, options: [a], default: 1}\n", "not the index"},
		{"checkbox without label", head + "body:\n- type: checkboxes\n  attributes:\n    label: x\n    options:\n    - required: true\n", "needs a label"},
		{"checkbox unknown key", head + "body:\n- type: checkboxes\n  attributes:\n    label: x\n    options:\n    - {label: a, colour: red}\n", `"colour" is not a permitted key`},
		{"checkbox string option", head + "body:\n- type: checkboxes\n  attributes: {label: x, options: [a]}\n", "map with a label"},
		{"checkbox label clash", head + "body:\n- type: input\n  attributes: {label: a}\n- type: checkboxes\n  attributes:\n    label: x\n    options:\n    - label: a\n", `checkbox label "a" is not unique`},
		{"markdown validations", head + "body:\n- type: markdown\n  attributes: {value: v}\n  validations: {required: true}\n- type: input\n  attributes: {label: x}\n", "no validations"},
		{"long labels", "name: n\ndescription: d\nlabels: [action/restart, " + strings.Repeat("l", 4100) + "]\nbody:\n- type: input\n  attributes: {label: x}\n", "longer than 4096"},
		{"no action label", "name: n\ndescription: d\nlabels: daytwo\nbody:\n- type: input\n  attributes: {label: x}\n", "no action/<verb> label"},
		{"two action labels", "name: n\ndescription: d\nlabels: action/a, action/b\nbody:\n- type: input\n  attributes: {label: x}\n", "several action/<verb> labels"},
		{"empty", "", "empty"},
	}
	for _, tt := range tests {
		_, err := ParseForm([]byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ParseForm err = %v, want %q", tt.name, err, tt.want)
		}
	}
	f, err := ParseForm([]byte("name: n\ndescription: d\nlabels: 'daytwo, action/Restart'\nbody:\n- type: input\n  id: service\n  attributes: {label: x}\n"))
	if err != nil || f.Verb != "restart" || !reflect.DeepEqual(f.Labels, []string{"daytwo", "action/Restart"}) {
		t.Errorf("comma-separated labels: %+v, %v", f, err)
	}
}

func TestNewFormSetChecksAgainstRegistry(t *testing.T) {
	form := func(verb, body string) Form {
		f, err := ParseForm([]byte("name: n\ndescription: d\nlabels: [action/" + verb + "]\nbody:\n" + body))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	input := func(id string) string { return "- type: input\n  id: " + id + "\n  attributes: {label: " + id + "}\n" }
	tests := []struct {
		name  string
		forms []Form
		want  string
	}{
		{"unknown verb", []Form{form("deploy", input("service"))}, "names no command"},
		{"two forms", []Form{form("restart", input("service")), form("restart", input("env"))}, "both for /restart"},
		{"no id", []Form{form("restart", "- type: input\n  attributes: {label: x}\n")}, "needs an id"},
		{"arg to no-arg command", []Form{form("restart", input("replicas"))}, "takes no arguments"},
		{"switch as input", []Form{form("restart", input("dry-run"))}, "is a switch"},
		{"value as checkbox", []Form{form("restart", "- type: checkboxes\n  id: env\n  attributes:\n    label: e\n    options: [{label: a}]\n")}, "takes a value"},
		{"unknown switch", []Form{form("restart", "- type: checkboxes\n  id: force\n  attributes:\n    label: e\n    options: [{label: a}]\n")}, "no switch --force"},
		{"value from textarea", []Form{form("restart", "- type: textarea\n  id: env\n  attributes: {label: e}\n")}, "takes one value"},
		{"reason dropdown", []Form{form("restart", "- type: dropdown\n  id: reason\n  attributes: {label: e, options: [a]}\n")}, "reason is an input or a textarea"},
	}
	for _, tt := range tests {
		_, err := Default().NewFormSet(tt.forms)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadForms(t *testing.T) {
	fsys := fstest.MapFS{
		"f/b.yml":     {Data: []byte("name: b\ndescription: d\nlabels: [action/scale]\nbody:\n- type: input\n  id: replicas\n  attributes: {label: R}\n")},
		"f/a.yaml":    {Data: []byte("name: a\ndescription: d\nlabels: [action/restart]\nbody:\n- type: input\n  id: env\n  attributes: {label: E}\n")},
		"f/README":    {Data: []byte("not a form")},
		"f/sub/c.yml": {Data: []byte("ignored")},
	}
	forms, err := LoadForms(fsys, "f")
	if err != nil || len(forms) != 2 || forms[0].File != "f/a.yaml" || forms[1].Verb != "scale" {
		t.Fatalf("LoadForms = %+v, %v", forms, err)
	}
	fsys["f/bad.yml"] = &fstest.MapFile{Data: []byte("name: [")}
	if _, err := LoadForms(fsys, "f"); err == nil || !strings.Contains(err.Error(), "f/bad.yml") {
		t.Errorf("a broken form: err = %v", err)
	}
	if _, err := LoadForms(fsys, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing directory: err = %v", err)
	}
}
