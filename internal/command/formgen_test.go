package command

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/templates"
)

const formsDir = "../../templates/issue-forms"

// The generic issue forms in templates/issue-forms are generated from the registry:
// go test ./internal/command -run GenericIssueForms -update
func TestGenericIssueFormsAreGenerated(t *testing.T) {
	forms, err := Default().IssueForms(FormChoices{})
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		old, _ := filepath.Glob(filepath.Join(formsDir, "*.yml"))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range forms {
			if err := os.WriteFile(filepath.Join(formsDir, f.File), f.YAML, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(formsDir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range forms {
		names = append(names, f.File)
		got, err := os.ReadFile(filepath.Join(formsDir, f.File))
		if err != nil {
			t.Errorf("%s: %v (go test ./internal/command -run GenericIssueForms -update)", f.File, err)
			continue
		}
		if string(got) != string(f.YAML) {
			t.Errorf("templates/issue-forms/%s is not what the registry generates: go test ./internal/command -run GenericIssueForms -update", f.File)
		}
	}
	var checkedIn []string
	for _, f := range files {
		checkedIn = append(checkedIn, filepath.Base(f))
	}
	if !reflect.DeepEqual(checkedIn, names) {
		t.Errorf("templates/issue-forms holds %v; the registry has forms for %v", checkedIn, names)
	}
	// The server reads issues with the embedded copy.
	embedded, err := LoadForms(templates.IssueForms, templates.IssueFormsDir)
	if err != nil || len(embedded) != len(forms) {
		t.Fatalf("embedded forms: %d, %v", len(embedded), err)
	}
}

// TestRepositoryFormsRoundTrip: a repository's forms offer its services and environments
// in dropdowns, and an issue submitted from them is read into the same command as the
// comment line, by a FormSet of those forms and by the server's, built from the generic
// forms.
func TestRepositoryFormsRoundTrip(t *testing.T) {
	reg := Default()
	choices := FormChoices{Services: []string{"catalog", "checkout", "payments"}, Environments: []string{"dev", "staging", "prod"}}
	generated, err := reg.IssueForms(choices)
	if err != nil {
		t.Fatal(err)
	}
	var forms []Form
	for _, g := range generated {
		f, err := ParseForm(g.YAML)
		if err != nil {
			t.Fatalf("%s: %v", g.File, err)
		}
		f.File = g.File
		forms = append(forms, f)
		for _, fd := range f.Fields {
			var want []string
			switch {
			case fd.ID == FlagService:
				want = choices.Services
			case fd.ID == FlagEnv, fd.ID == "from":
				want = choices.Environments
			default:
				continue
			}
			if fd.Type != typeDropdown || !reflect.DeepEqual(fd.Options, want) || fd.Required != (fd.ID != "from") {
				t.Errorf("%s: field %s is %s %v required=%v; want a dropdown of %v", g.File, fd.ID, fd.Type, fd.Options, fd.Required, want)
			}
		}
	}
	own, err := reg.NewFormSet(forms)
	if err != nil {
		t.Fatal(err)
	}
	server := embeddedForms(t)

	cases := []struct {
		verb   string
		values map[string]string
		line   string
	}{
		{"promote", map[string]string{"service": "checkout", "env": "prod", "from": "staging"}, "/promote prod --from staging --service checkout"},
		{"restart", map[string]string{"service": "payments", "env": "staging", "dry-run": formDryRunOption}, "/restart --service payments --env staging --dry-run"},
		{"scale", map[string]string{"service": "catalog", "env": "prod", "replicas": "3", "reason": "Black Friday"}, "/scale 3 --service catalog --env prod"},
		{"set-image", map[string]string{"service": "checkout", "env": "dev", "image": "v1.4.2"}, "/set-image v1.4.2 --service checkout --env dev"},
		{"config", map[string]string{"service": "payments", "env": "dev", "operation": "set", "literals": "A=1\nB=two words"}, "/config set A=1 'B=two words' --service payments --env dev"},
		{"rollback", map[string]string{"service": "checkout", "env": "prod", "to": "3f2a9c1"}, "/rollback --to 3f2a9c1 --service checkout --env prod"},
	}
	for _, c := range cases {
		want, err := reg.ParseLine(c.line)
		if err != nil {
			t.Fatal(err)
		}
		for name, set := range map[string]*FormSet{"generated": own, "server": server} {
			body := submit(formByVerb(t, own, c.verb), c.values)
			got, err := set.ParseIssueForm([]string{"daytwo", ActionLabelPrefix + c.verb}, strings.ReplaceAll(body, "\n", "\r\n"))
			if err != nil {
				t.Errorf("%s with the %s forms: %v\n%s", c.verb, name, err, body)
				continue
			}
			if got.Reason != c.values["reason"] {
				t.Errorf("%s: reason %q", c.verb, got.Reason)
			}
			got.Line, want.Line, got.Reason = "", "", ""
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s with the %s forms:\n got %+v\nwant %+v", c.verb, name, got, want)
			}
		}
	}

	// A person who edits the issue afterwards is told what the form offers.
	body := submit(formByVerb(t, own, "scale"), map[string]string{"service": "checkout", "env": "qa", "replicas": "2"})
	_, err = own.ParseIssueForm([]string{"action/scale"}, body)
	if err == nil || !strings.Contains(err.Error(), `Environment: "qa" is not one of: dev, staging, prod`) {
		t.Errorf("an environment the dropdown does not offer: %v", err)
	}
}

func TestRepositoryFormsEdgeCases(t *testing.T) {
	reg := Default()
	// One service: its dropdown preselects it. An environment named "none" cannot be a
	// dropdown option on GitHub: the field stays free text.
	forms, err := reg.IssueForms(FormChoices{Services: []string{"web"}, Environments: []string{"dev", "none"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range forms {
		f, err := ParseForm(g.YAML)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := reg.Lookup(g.Verb); s.Repository {
			continue // no service or environment field
		}
		if f.Fields[0].Type != typeDropdown || !strings.Contains(string(g.YAML), "default: 0") {
			t.Errorf("%s: a single service is a preselected dropdown:\n%s", g.File, g.YAML)
		}
		if f.Fields[1].Type != typeInput {
			t.Errorf("%s: the environment field must stay an input when an option would be None", g.File)
		}
	}
	// A value GitHub's YAML 1.1 reader takes for a boolean is quoted.
	forms, err = reg.IssueForms(FormChoices{Services: []string{"yes", "on"}, Environments: []string{"no"}})
	if err != nil {
		t.Fatalf("services named yes and on: %v", err)
	}
	if !strings.Contains(string(forms[0].YAML), `- "yes"`) || !strings.Contains(string(forms[0].YAML), `- "no"`) {
		t.Errorf("booleans of YAML 1.1 must be quoted:\n%s", forms[0].YAML)
	}
}
