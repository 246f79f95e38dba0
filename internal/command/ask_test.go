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
