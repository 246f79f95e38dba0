package server_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

type app struct {
	*apptest.App
	repo *githubtest.Repo
	hook string
	logs *apptest.SyncBuffer
}

// startApp runs the real daytwo server against the test GitHub with one installed repo.
func startApp(t *testing.T) *app {
	t.Helper()
	a := apptest.Start(t, nil)
	repo := a.GH.CreateRepo("acme", "gitops")
	repo.Commit(repo.DefaultBranch(), "initial", map[string]string{"README.md": "# gitops\n"})
	a.GH.Install("acme", "gitops")
	return &app{App: a, repo: repo, hook: a.Hook(), logs: a.Logs}
}

func (a *app) send(t *testing.T, event string, payload []byte) { a.Send(t, event, payload) }

var eventually = apptest.Eventually

func TestHelpCommentGetsReplyAndReaction(t *testing.T) {
	a := startApp(t)
	issue := a.repo.CreateIssue("octocat", "Restart checkout?", "")
	id := a.repo.AddComment(issue, "octocat", "How do I use this?\n\n/help\n")
	a.send(t, "issue_comment", a.repo.IssueCommentPayload(id))

	eventually(t, "the reply", func() bool { return len(a.repo.Comments(issue)) == 2 })
	comments := a.repo.Comments(issue)
	reply := comments[1]
	if reply.User != a.GH.BotLogin() {
		t.Fatalf("reply written by %q, want the app's bot %q", reply.User, a.GH.BotLogin())
	}
	for _, want := range []string{"@octocat", "/promote", "/restart", "/scale", "/set-image", "/rollback", "/freeze", "--dry-run"} {
		if !strings.Contains(reply.Body, want) {
			t.Errorf("help reply lacks %q:\n%s", want, reply.Body)
		}
	}
	eventually(t, "the reaction", func() bool { return len(a.repo.Comments(issue)[0].Reactions) == 1 })
	r := a.repo.Comments(issue)[0].Reactions[0]
	if r.Content != "eyes" || r.User != a.GH.BotLogin() {
		t.Fatalf("reaction %+v, want eyes by the bot", r)
	}

	// The writes were made with an installation token obtained through the JWT flow.
	var tokenReq, commentReq *githubtest.Request
	for _, req := range a.GH.Requests() {
		req := req
		switch {
		case req.Method == http.MethodPost && strings.HasSuffix(req.Path, "/access_tokens") && req.Status == http.StatusCreated:
			tokenReq = &req
		case req.Method == http.MethodPost && req.Operation == "daytwoAck": // the reply and the 👀 in one GraphQL request
			commentReq = &req
		}
	}
	if tokenReq == nil || commentReq == nil {
		t.Fatalf("no token exchange or no comment request in %+v", a.GH.Requests())
	}
	if !strings.HasPrefix(commentReq.Token, "ghs_") || commentReq.Installation == 0 {
		t.Fatalf("comment posted with %q, not an installation token", commentReq.Token)
	}

	// GitHub requests and the rate limit are measured (the handler's own count lands as it returns).
	wantMetrics := []string{`daytwo_github_requests_total{status="200"}`, `daytwo_github_rate_limit_remaining{resource="core"}`,
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
	// Logs (complete once the handler is counted) carry the delivery's context and never the key or the token.
	logs := a.logs.String()
	for _, want := range []string{`"github_delivery_id"`, `"github_event_type":"issue_comment"`, `"github_installation_id"`, `"github_repository_name":"gitops"`, `"github_pr_num":` + strconv.Itoa(issue)} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}

	keyLine := strings.Split(string(a.GH.PrivateKeyPEM()), "\n")[1]
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
