package ai_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/ai"
	"github.com/daytwo-dev/daytwo/internal/ai/aitest"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/config"
)

var facts = []ai.Fact{
	{Title: "/status --service checkout --env prod", Lines: []string{"prod: ghcr.io/acme/checkout:1.7.1, 3 replicas, Synced, Degraded"}},
	{Title: "/history --service checkout --env prod", Lines: []string{"2026-12-07 12:01 /set-image 1.7.1 --service checkout --env prod, asked by alice"}},
}

func parser() func(string) error {
	reg := command.All()
	return func(line string) error { _, err := reg.ParseLine(line); return err }
}

func client(t *testing.T, f *aitest.Server, cfg config.AI) *ai.Client {
	t.Helper()
	if cfg.Endpoint == "" {
		cfg.Endpoint = f.URL
	}
	c, err := ai.New(cfg, parser())
	if err != nil || c == nil {
		t.Fatalf("new: %v %v", c, err)
	}
	return c.WithVerbs("rollback", "restart", "status")
}

func TestOffIsNil(t *testing.T) {
	c, err := ai.New(config.AI{}, parser())
	if c != nil || err != nil {
		t.Fatalf("off: %v %v", c, err)
	}
	if _, err := c.WithVerbs("restart").Ask(context.Background(), "why?", facts); !errors.Is(err, ai.ErrOff) {
		t.Fatalf("a nil client answers %v", err)
	}
}

func TestAskGoodJSON(t *testing.T) {
	f := aitest.New(t, aitest.Options{Model: "gpt-test", Token: "sk-test-token"})
	f.Require("Degraded", "/set-image 1.7.1", "why is checkout slow in prod?")
	f.Serve(aitest.JSON("checkout is Degraded in prod since 1.7.1 was set by alice.",
		"/rollback --service checkout --env prod", "/rollback --service checkout --env prod", // once
		"/restart --service checkout --env prod --replicas 2", // does not parse
		"/scale 0 --service checkout --env prod",              // not an offered verb
		"rm -rf /",                                            // not a command
		"`/status --service checkout`"))
	c := client(t, f, config.AI{Model: "gpt-test", Token: "sk-test-token", Timeout: config.Duration(5 * time.Second)})
	a, err := c.Ask(context.Background(), "why is checkout slow in prod?", facts)
	if err != nil {
		t.Fatal(err)
	}
	if a.Text != "checkout is Degraded in prod since 1.7.1 was set by alice." {
		t.Errorf("text %q", a.Text)
	}
	if want := []string{"/rollback --service checkout --env prod", "/status --service checkout"}; !slices.Equal(a.Commands, want) {
		t.Errorf("commands %q, want %q", a.Commands, want)
	}
	reqs := f.Requests()
	if len(reqs) != 1 || !reqs[0].JSONMode || reqs[0].Path != "/v1/chat/completions" {
		t.Fatalf("requests %+v", reqs)
	}
	sys := reqs[0].Messages[0].Content
	for _, want := range []string{"only the facts", "/rollback, /restart, /status", "JSON object"} {
		if !strings.Contains(sys, want) {
			t.Errorf("system prompt lacks %q: %s", want, sys)
		}
	}
}

func TestAskPlainText(t *testing.T) {
	f := aitest.New(t, aitest.Options{Model: "llama3.1"}) // Ollama: no token
	f.Serve(aitest.Plain("checkout runs 1.7.1 in prod and is Degraded."))
	c := client(t, f, config.AI{Model: "llama3.1"})
	a, err := c.Ask(context.Background(), "what runs in prod?", facts)
	if err != nil || a.Text != "checkout runs 1.7.1 in prod and is Degraded." || len(a.Commands) != 0 {
		t.Fatalf("%+v %v", a, err)
	}
	// A JSON answer in a code fence is still read.
	f.Serve(aitest.Plain("```json\n{\"text\": \"fenced\", \"commands\": []}\n```"))
	if a, err := c.Ask(context.Background(), "q", facts); err != nil || a.Text != "fenced" {
		t.Fatalf("%+v %v", a, err)
	}
}

func TestAskFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply aitest.Reply
		want  string
	}{
		{"malformed JSON", aitest.Malformed(), "malformed JSON"},
		{"refusal", aitest.Refusal(), ai.ErrRefused.Error()},
		{"content filter", aitest.Filtered(), ai.ErrRefused.Error()},
		{"rate limited", aitest.Status(429), "HTTP 429"},
		{"server error", aitest.Status(500), "HTTP 500"},
		{"empty", aitest.Plain("  "), "empty"},
		{"empty text", aitest.JSON(""), "empty"},
		{"slow", aitest.Slow(3*time.Second, aitest.JSON("too late")), "no answer in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := aitest.New(t, aitest.Options{Model: "m", Token: "tok"})
			f.Serve(tc.reply)
			c := client(t, f, config.AI{Model: "m", Token: "tok", Timeout: config.Duration(300 * time.Millisecond)})
			a, err := c.Summarize(context.Background(), "checkout in prod is Degraded", facts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %+v, %v; want an error with %q", a, err, tc.want)
			}
			if tc.name == "slow" && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a timeout should wrap DeadlineExceeded: %v", err)
			}
			if strings.Contains(err.Error(), "tok") && tc.name != "slow" {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

func TestAzureShape(t *testing.T) {
	f := aitest.New(t, aitest.Options{Model: "daytwo-gpt4o", Token: "azure-key", APIVersion: "2024-06-01"})
	f.Serve(aitest.JSON("ok"))
	c := client(t, f, config.AI{Model: "daytwo-gpt4o", Token: "azure-key", APIVersion: "2024-06-01"})
	if _, err := c.Ask(context.Background(), "q", facts); err != nil {
		t.Fatal(err)
	}
	r := f.Requests()
	if len(r) != 1 || r[0].Path != "/openai/deployments/daytwo-gpt4o/chat/completions" || r[0].Header.Get("api-key") != "azure-key" || r[0].Header.Get("Authorization") != "" {
		t.Fatalf("request %+v", r)
	}
}

func TestNoSecretReachesTheModel(t *testing.T) {
	secrets := []string{
		"ghp_" + strings.Repeat("A1b2", 9), "ghs_" + strings.Repeat("Z9y8", 9), "github_pat_11ABCDEFG0" + strings.Repeat("x", 50),
		"hunter2", "s3cr3t-value", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk=", "MIIEowIBAAKCAQEA",
		"sk-proj-abcdefghijklmnop1234", "AKIAIOSFODNN7EXAMPLE", "tiger99",
	}
	f := aitest.New(t, aitest.Options{Model: "m"})
	f.Forbid(secrets...)
	f.Require("ghcr.io/acme/checkout@sha256:"+strings.Repeat("ab", 32), "3f2a9c1d0e4b5a6978877665544332211ffeeddc", "DB_HOST=db.internal")
	leaky := []ai.Fact{{Title: "config", Lines: []string{
		"token " + secrets[0], "GITHUB_TOKEN=" + secrets[1], secrets[2],
		"DB_PASSWORD=" + secrets[3], "api_key: '" + secrets[4] + "'", "Authorization: Bearer " + secrets[5],
		"blob " + secrets[6], "-----BEGIN RSA PRIVATE KEY-----", secrets[7], "-----END RSA PRIVATE KEY-----",
		"OPENAI=" + secrets[8], "aws " + secrets[9], "postgres://app:" + secrets[10] + "@db:5432/app",
		"image ghcr.io/acme/checkout@sha256:" + strings.Repeat("ab", 32), "commit 3f2a9c1d0e4b5a6978877665544332211ffeeddc", "DB_HOST=db.internal",
	}}}
	c := client(t, f, config.AI{Model: "m"})
	if _, err := c.Ask(context.Background(), "why? password: "+secrets[3]+" and ghp_"+strings.Repeat("Q", 36), leaky); err != nil {
		t.Fatal(err)
	}
	if len(f.Requests()) != 1 {
		t.Fatal("no request")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"password=hunter2 next":                            "password=[redacted] next",
		`client_secret: "a b c"`:                           "client_secret: [redacted]",
		"Bearer abcdef123456":                              "[redacted]",
		"authorization: Basic dXNlcjpwYXNz":                "authorization: [redacted]",
		"https://u:p4ss@example.com/x":                     "https://[redacted]@example.com/x",
		"-----BEGIN CERTIFICATE-----\nMIIB\n":              "[redacted]",
		"sha256:" + strings.Repeat("0f", 32):               "sha256:" + strings.Repeat("0f", 32),
		"checkout-payments-worker-deployment-name-in-prod": "checkout-payments-worker-deployment-name-in-prod",
		"3 replicas, Synced, Healthy":                      "3 replicas, Synced, Healthy",
	} {
		if got := ai.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// Reasoning models refuse max_tokens and a temperature: the request leaves them out.
func TestReasoningModel(t *testing.T) {
	for model, reasoning := range map[string]bool{"gpt-5-mini": true, "o3-mini": true, "gpt-4o-mini": false, "llama3.1": false} {
		f := aitest.New(t, aitest.Options{Model: model})
		c := client(t, f, config.AI{Model: model})
		if _, err := c.Ask(context.Background(), "q", facts); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		r := f.Requests()[0]
		if got := r.Temperature == nil && r.MaxTokens == 0 && r.MaxCompletionTokens > 0; got != reasoning {
			t.Errorf("%s: temperature %v, max_tokens %d, max_completion_tokens %d", model, r.Temperature, r.MaxTokens, r.MaxCompletionTokens)
		}
	}
}
