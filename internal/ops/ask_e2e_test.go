package ops_test

import (
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/ai/aitest"
	"github.com/daytwo-dev/daytwo/internal/apptest"
)

// A token a careless person put in the service's catalog entry: /status shows the
// description, so it is in the facts on GitHub, but never in a prompt.
const leakedToken = "ghp_R3alLookingT0kenValue1234567890abcd"

// aiWorld is the example world with daytwo configured for the fake AI endpoint f (nil: AI
// off, the default), and a secret in checkout's catalog entry.
func aiWorld(t *testing.T, f *aitest.Server, timeout string) *world {
	t.Helper()
	env := map[string]string{}
	if f != nil {
		env = map[string]string{
			"DAYTWO_AI_ENDPOINT": f.URL, "DAYTWO_AI_MODEL": "gpt-test",
			"DAYTWO_AI_TOKEN_ENV": "TEST_AI_KEY", "TEST_AI_KEY": "sk-ai-test-key",
			"DAYTWO_AI_TIMEOUT": timeout,
		}
	}
	w := seedWorld(t, apptest.StartWithEnv(t, clock, env))
	const path = "apps/checkout/catalog-info.yaml"
	c, _ := w.repo.File("main", path)
	w.repo.Commit("main", "checkout: how to debug", map[string]string{path: strings.Replace(c, "of the web shop.", "of the web shop; debug with "+leakedToken+" and password=hunter2", 1)})
	return w
}

func TestAskWithAI(t *testing.T) {
	f := aitest.New(t, aitest.Options{Model: "gpt-test", Token: "sk-ai-test-key"})
	f.Require("why is checkout slow in prod?", "/status --service checkout --env prod", "1.7.1", "/diff staging prod --service checkout", "CART_TTL")
	f.Forbid(leakedToken, "hunter2", "sk-ai-test-key", "apptest-secret")
	f.Serve(aitest.JSON("checkout runs 1.7.1 in prod, behind staging's 1.7.2. Ask @acme/checkout-team <img src=x onerror=alert(1)> about #12.\n\nPromoting staging would carry 1.7.2.",
		"/promote prod --service checkout",
		"/diff staging prod --service checkout",
		"/restart --service checkout --env prod --now", // does not parse
		"/freeze prod", // not a verb it was offered
		"/scale 100000 --service checkout --env prod")) // does not parse
	w := aiWorld(t, f, "5s")
	n := w.ask(t, "rita", "/ask why is checkout slow in prod?")
	w.golden(t, "ask-ai", n, "rita")
	st := w.status(t, n)
	if strings.Contains(st, "/freeze") || strings.Contains(st, "--now") || strings.Contains(st, "100000") {
		t.Errorf("a suggested command that does not parse is shown:\n%s", st)
	}
	if !strings.Contains(st, "password=hunter2") {
		t.Error("the facts on GitHub should be /status's, as written")
	}
	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("want one request to the model, got %d", len(reqs))
	}
	if sys := reqs[0].Messages[0].Content; !strings.Contains(sys, "/rollback, /restart") || strings.Contains(sys, "/freeze") {
		t.Errorf("the model is offered the wrong verbs: %s", sys)
	}
}

func TestAskWithoutAI(t *testing.T) {
	w := aiWorld(t, nil, "")
	n := w.ask(t, "rita", "/ask what's wrong with checkout in prod?")
	w.golden(t, "ask-off", n, "rita")
	if st := w.status(t, n); !strings.Contains(st, "`ai:`") || !strings.Contains(st, "/status --service checkout --env prod") {
		t.Errorf("status:\n%s", st)
	}
}

func TestAskFallsBackToTheFacts(t *testing.T) {
	f := aitest.New(t, aitest.Options{Model: "gpt-test", Token: "sk-ai-test-key"})
	f.Serve(aitest.Slow(10*time.Second, aitest.JSON("too late")))
	w := aiWorld(t, f, "300ms")
	n := w.ask(t, "rita", "/ask why is checkout slow in prod?")
	w.golden(t, "ask-unavailable", n, "rita")
	for _, tc := range []struct {
		name  string
		reply aitest.Reply
	}{
		{"server error", aitest.Status(500)}, {"refusal", aitest.Refusal()}, {"malformed", aitest.Malformed()},
	} {
		f.Serve(tc.reply)
		n := w.ask(t, "rita", "/ask why is checkout slow? --env prod")
		st := w.status(t, n)
		if !strings.Contains(st, "The AI-written answer is unavailable right now") || !strings.Contains(st, "##### `/status --service checkout --env prod`") {
			t.Errorf("%s: status:\n%s", tc.name, st)
		}
		for _, leak := range []string{"500", "refus", "JSON", "sk-ai-test-key"} {
			if strings.Contains(st, leak) {
				t.Errorf("%s: the reply shows %q:\n%s", tc.name, leak, st)
			}
		}
	}
	if got := len(f.Requests()); got != 4 {
		t.Errorf("want 4 requests to the model, got %d", got)
	}
}

func TestAskRefusals(t *testing.T) {
	w := aiWorld(t, nil, "")
	for _, tc := range []struct{ who, line, want string }{
		{"stranger", "/ask why is checkout slow?", "is for people with read"},
		{"rita", "/ask why is it slow?", "which service?"},
		{"rita", "/ask why is checkout slow in qa? --env qa", `"qa"`},
	} {
		n := w.ask(t, tc.who, tc.line)
		var all string
		for _, c := range w.repo.Comments(n) {
			all += c.Body
		}
		if !strings.Contains(all, tc.want) {
			t.Errorf("%s by %s: want %q in\n%s", tc.line, tc.who, tc.want, all)
		}
	}
}

// An issue opened from the /ask form that /init writes is answered like the comment.
func TestAskFromIssueForm(t *testing.T) {
	w := aiWorld(t, nil, "")
	n := w.repo.CreateIssue("rita", "[daytwo] ask", "### Service\r\n\r\ncheckout\r\n\r\n### Environment\r\n\r\nprod\r\n\r\n### Question\r\n\r\nWhy is checkout slow?\r\n\r\n### Reason\r\n\r\n_No response_\r\n", "daytwo", "action/ask")
	w.Send(t, "issues", w.repo.IssuesOpenedPayload(n))
	w.Quiet(t)
	st := w.status(t, n)
	if !strings.Contains(st, "/ask") || !strings.Contains(st, "/status --service checkout --env prod") || strings.Contains(st, "could not be read") {
		t.Errorf("status:\n%s", st)
	}
}
