package handler

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/ops"
	"github.com/daytwo-dev/daytwo/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func responder(t *testing.T) *Responder {
	t.Helper()
	reg := command.Default()
	forms, err := command.LoadForms(templates.IssueForms, templates.IssueFormsDir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := reg.NewFormSet(forms)
	if err != nil {
		t.Fatal(err)
	}
	return &Responder{Commands: reg, Forms: set}
}

// answer builds the comment Respond posts for req, with "ran /<verb>" for a command the
// runner would carry out.
func answer(r *Responder, req ops.Request) string {
	var parts []string
	for _, res := range r.parse(req) {
		switch {
		case res.Reply != nil:
			parts = append(parts, res.Reply.Markdown())
		case res.Command.Name == "help":
			parts = append(parts, r.Commands.Help(res.Command.Topic))
		default:
			parts = append(parts, "ran /"+res.Command.Name)
		}
	}
	return replyBody(req.Author, parts)
}

// The reply to a comment with several hostile lines mentions its author only: each line
// shows in a code block that opens, and nothing a person wrote is HTML or a mention.
func TestReplyToHostileComment(t *testing.T) {
	r := responder(t)
	lines := []string{
		"/scale '<img src=x onerror=alert(1)>' --env prod",
		"/set-image @acme/everyone --env prod",
		"/scael ```` <!-- #123",
		"/restart --env prod",
		"/help '[x](javascript:alert(1))'",
	}
	body := answer(r, ops.Request{Author: "alice", CommentID: 1, Body: strings.Join(lines, "\n")})
	if !strings.HasPrefix(body, "@alice\n\n```") {
		t.Errorf("the reply does not start with the mention and a blank line:\n%s", body)
	}
	policy := mdtest.Policy{Mentions: []string{"alice"}, InCode: true}
	policy.AssertSafe(t, body, lines[0], lines[1], lines[2], lines[4]) // lines[3] runs

	form := ops.Request{Author: "alice", Labels: []string{"daytwo", "action/scale"},
		Body: "### Service\n\n@acme/everyone\n\n### Environment\n\n<img src=x onerror=alert(1)>\n\n### Replicas\n\n3\n"}
	formBody := answer(r, form)
	if !strings.Contains(formBody, "\n- **Environment**: ") {
		t.Errorf("the form's problems are not a list:\n%s", formBody)
	}
	mdtest.Policy{Mentions: []string{"alice"}}.AssertSafe(t, formBody, "@acme/everyone", "<img src=x onerror=alert(1)>")

	help := answer(r, ops.Request{Author: "alice", CommentID: 2, Body: "/help scale"})
	mdtest.Policy{Mentions: []string{"alice"}}.AssertSafe(t, help)

	mdtest.Golden(t, filepath.Join("testdata", "replies.golden"), body+"\n====\n"+formBody, *update)
}

func TestReplyBody(t *testing.T) {
	if got := replyBody("alice", []string{"", " \n"}); got != "" {
		t.Errorf("nothing to say: %q", got)
	}
	if got := replyBody("alice", []string{"a\n", "b"}); got != "@alice\n\na\n\n\n---\n\nb" {
		t.Errorf("replyBody = %q", got)
	}
	// Not a login (GitHub sends none such): shown, not mentioned.
	body := replyBody("<b>@acme/everyone", []string{"x"})
	mdtest.AssertSafe(t, body, "<b>@acme/everyone")
}
