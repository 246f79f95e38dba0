package command

import (
	"strings"
	"testing"
)

func TestParseAsk(t *testing.T) {
	r := All()
	for _, tc := range []struct{ line, question, service, env string }{
		{"/ask why is checkout slow in prod?", "why is checkout slow in prod?", "", ""},
		{"/ask what's wrong with payments? --env prod", "what's wrong with payments?", "", "prod"},
		{"/ask -s checkout what changed last", "what changed last", "checkout", ""},
		{`/ask "is it 'frozen'?" --service checkout`, "is it 'frozen'?", "checkout", ""},
		{"/ASK   why   so   slow", "why so slow", "", ""},
	} {
		c, err := r.ParseLine(tc.line)
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		if c.Name != "ask" || c.Question != tc.question || c.Service != tc.service || c.Env != tc.env {
			t.Errorf("%s: %+v", tc.line, c)
		}
	}
	for line, want := range map[string]string{
		"/ask":                                "ask a question: /ask <question>",
		"/ask --env prod":                     "ask a question",
		"/ask " + strings.Repeat("why ", 200): "keep it within 500",
		"/ask why --dry-run":                  "--dry-run",
	} {
		if _, err := r.ParseLine(line); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40s: got %v, want %q", line, err, want)
		}
	}
	if !r.ReadOnly("ask") {
		t.Error("/ask changes nothing")
	}
}

// An issue opened from /ask's generated form is read into the same command, whose Line
// parses back to it, apostrophes and all.
func TestAskIssueForm(t *testing.T) {
	r := All()
	generated, err := r.IssueForms(FormChoices{Services: []string{"checkout"}, Environments: []string{"staging", "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	var forms []Form
	for _, g := range generated {
		if g.Verb != "ask" {
			continue
		}
		if !strings.Contains(string(g.YAML), "daytwo answers here; nothing is changed.") || strings.Contains(string(g.YAML), "pull request") {
			t.Errorf("the /ask form promises a pull request:\n%s", g.YAML)
		}
		f, err := ParseForm(g.YAML)
		if err != nil {
			t.Fatal(err)
		}
		forms = append(forms, f)
	}
	set, err := r.NewFormSet(forms)
	if err != nil || len(forms) != 1 {
		t.Fatalf("%d forms: %v", len(forms), err)
	}
	body := "### Service\n\ncheckout\n\n### Environment\n\nprod\n\n### Question\n\nWhat's making checkout slow?\nIs it the 1.7.1 image?\n\n### Reason\n\n_No response_"
	c, err := set.ParseIssueForm([]string{"daytwo", "action/ask"}, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "ask" || c.Service != "checkout" || c.Env != "prod" || c.Question != "What's making checkout slow? Is it the 1.7.1 image?" {
		t.Fatalf("%+v", c)
	}
	back, err := r.ParseLine(c.Line)
	if err != nil || back.Question != c.Question || back.Service != c.Service || back.Env != c.Env {
		t.Fatalf("%q parses as %+v, %v", c.Line, back, err)
	}
}
