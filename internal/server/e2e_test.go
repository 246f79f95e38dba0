package server_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/handler"
	"github.com/daytwo-dev/daytwo/internal/server"
)

const secret = "e2e-secret"

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type app struct {
	gh   *githubtest.Server
	repo *githubtest.Repo
	hook string
	logs *syncBuffer
}

// startApp runs the real daytwo server against the test GitHub, configured through the
// same environment variables an operator sets.
func startApp(t *testing.T) *app {
	t.Helper()
	gh := githubtest.New(t, githubtest.WithWebhookSecret(secret))
	repo := gh.CreateRepo("acme", "gitops")
	repo.Commit(repo.DefaultBranch(), "initial", map[string]string{"README.md": "# gitops\n"})
	gh.Install("acme", "gitops")

	env := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_WEBHOOK_SECRET": secret,
		"GITHUB_APP_PRIVATE_KEY":    string(gh.PrivateKeyPEM()),
		"GITHUB_V3_API_URL":         gh.V3URL(),
		"GITHUB_V4_API_URL":         gh.V4URL(),
		"DAYTWO_ADDR":               "127.0.0.1:0",
	}
	cfg, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := server.New(cfg, zerolog.New(logs).Level(zerolog.DebugLevel), func(c githubapp.ClientCreator) ([]githubapp.EventHandler, error) {
		return handler.New(c, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &app{gh: gh, repo: repo, hook: "http://" + l.Addr().String() + githubapp.DefaultWebhookRoute, logs: logs}
}


func (a *app) send(t *testing.T, event string, payload []byte) {
	t.Helper()
	res, err := a.gh.SendWebhook(a.hook, event, payload)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d", res.StatusCode)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHelpCommentGetsReplyAndReaction(t *testing.T) {
	a := startApp(t)
	issue := a.repo.CreateIssue("octocat", "Restart checkout?", "")
	id := a.repo.AddComment(issue, "octocat", "How do I use this?\n\n/help\n")
	a.send(t, "issue_comment", a.repo.IssueCommentPayload(id))

	eventually(t, "the reply", func() bool { return len(a.repo.Comments(issue)) == 2 })
	comments := a.repo.Comments(issue)
	reply := comments[1]
	if reply.User != a.gh.BotLogin() {
		t.Fatalf("reply written by %q, want the app's bot %q", reply.User, a.gh.BotLogin())
	}
	for _, want := range []string{"@octocat", "/promote", "/restart", "/scale", "/set-image", "/rollback", "/freeze", "--dry-run"} {
		if !strings.Contains(reply.Body, want) {
			t.Errorf("help reply lacks %q:\n%s", want, reply.Body)
		}
	}
	eventually(t, "the reaction", func() bool { return len(a.repo.Comments(issue)[0].Reactions) == 1 })
	r := a.repo.Comments(issue)[0].Reactions[0]
	if r.Content != "eyes" || r.User != a.gh.BotLogin() {
		t.Fatalf("reaction %+v, want eyes by the bot", r)
	}

	// The writes were made with an installation token obtained through the JWT flow.
	var tokenReq, commentReq *githubtest.Request
	for _, req := range a.gh.Requests() {
		req := req
		switch {
		case req.Method == http.MethodPost && strings.HasSuffix(req.Path, "/access_tokens") && req.Status == http.StatusCreated:
			tokenReq = &req
		case req.Method == http.MethodPost && strings.HasSuffix(req.Path, "/issues/"+strconv.Itoa(issue)+"/comments"):
			commentReq = &req
		}
	}
	if tokenReq == nil || commentReq == nil {
		t.Fatalf("no token exchange or no comment request in %+v", a.gh.Requests())
	}
	if !strings.HasPrefix(commentReq.Token, "ghs_") || commentReq.Installation == 0 {
		t.Fatalf("comment posted with %q, not an installation token", commentReq.Token)
	}

	// Logs carry the delivery's context and never the key or the token.
	logs := a.logs.String()
	for _, want := range []string{`"github_delivery_id"`, `"github_event_type":"issue_comment"`, `"github_installation_id"`, `"github_repository_name":"gitops"`, `"github_pr_num":` + strconv.Itoa(issue)} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	// GitHub requests and the rate limit are measured (the handler's own count lands as it returns).
	wantMetrics := []string{`daytwo_github_requests_total{status="201"}`, `daytwo_github_rate_limit_remaining{resource="core"}`,
		`daytwo_webhook_deliveries_total{event="issue_comment",outcome="handled"} 1`, `daytwo_handler_duration_seconds_count{event="issue_comment"} 1`}
	var metrics string
	eventually(t, "metrics", func() bool {
		res, err := http.Get(strings.TrimSuffix(a.hook, githubapp.DefaultWebhookRoute) + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		metrics = string(b)
		for _, want := range wantMetrics {
			if !strings.Contains(metrics, want) {
				return false
			}
		}
		return true
	})

	keyLine := strings.Split(string(a.gh.PrivateKeyPEM()), "\n")[1]
	if strings.Contains(logs, commentReq.Token) || strings.Contains(logs, keyLine) {
		t.Fatal("a token or the private key appeared in the logs")
	}
}

func TestOwnAndOtherBotsCommentsAreIgnored(t *testing.T) {
	a := startApp(t)
	issue := a.repo.CreateIssue("octocat", "t", "")
	first := a.repo.AddComment(issue, "octocat", "/help scale")
	a.send(t, "issue_comment", a.repo.IssueCommentPayload(first))
	eventually(t, "the reply", func() bool { return len(a.repo.Comments(issue)) == 2 })

	// daytwo's own reply contains command text; its webhook must not start a loop.
	own := a.repo.Comments(issue)[1]
	if !strings.Contains(own.Body, "/scale") {
		t.Fatalf("help for scale does not mention /scale: %s", own.Body)
	}
	a.send(t, "issue_comment", a.repo.IssueCommentPayload(own.ID))
	other := a.repo.AddComment(issue, "renovate[bot]", "/help")
	a.send(t, "issue_comment", a.repo.IssueCommentPayload(other))
	prose := a.repo.AddComment(issue, "octocat", "see /usr/share/doc and `/help` in code")
	a.send(t, "issue_comment", a.repo.IssueCommentPayload(prose))

	time.Sleep(300 * time.Millisecond)
	cs := a.repo.Comments(issue)
	if len(cs) != 4 {
		t.Fatalf("got %d comments, want the 3 written plus one reply", len(cs))
	}
	for _, c := range cs[2:] {
		if len(c.Reactions) != 0 {
			t.Fatalf("comment %q by %s got reactions %v", c.Body, c.User, c.Reactions)
		}
	}
}

func TestUsageErrorReply(t *testing.T) {
	a := startApp(t)
	issue := a.repo.CreateIssue("octocat", "t", "")
	id := a.repo.AddComment(issue, "octocat", "/scael 3")
	a.send(t, "issue_comment", a.repo.IssueCommentPayload(id))
	eventually(t, "the reply", func() bool { return len(a.repo.Comments(issue)) == 2 })
	body := a.repo.Comments(issue)[1].Body
	if !strings.Contains(body, "did you mean /scale?") || !strings.Contains(body, "/scale <n>") {
		t.Fatalf("usage reply: %s", body)
	}
}
