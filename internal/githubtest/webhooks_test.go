package githubtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// leafDiff lists the paths where two JSON documents differ (a whole object when only one
// side has it).
func leafDiff(path string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for k := range keys {
			out = append(out, leafDiff(strings.TrimPrefix(path+"."+k, "."), am[k], bm[k])...)
		}
		return out
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		return []string{path}
	}
	return nil
}

func TestDerivedPayloadsDifferOnlyAsDocumented(t *testing.T) {
	for derived, tc := range map[string]struct {
		source string
		want   []string // path prefixes allowed to differ
	}{
		"issue_comment.created.pr":               {"issue_comment.created", []string{"issue.pull_request", "issue.html_url", "comment.html_url"}},
		"pull_request.closed.merged":             {"pull_request.closed", []string{"pull_request.merged", "pull_request.merged_at", "pull_request.merged_by", "pull_request.mergeable", "pull_request.rebaseable", "pull_request.mergeable_state"}},
		"pull_request_review.submitted.approved": {"pull_request_review.submitted", []string{"review.state"}},
		"issue_comment.created.bot":              {"issue_comment.created", []string{"comment.user", "comment.performed_via_github_app", "comment.author_association", "comment.body", "sender"}},
		"workflow_run.in_progress":               {"workflow_run.requested", []string{"action", "workflow_run.status"}},
	} {
		var a, b any
		if err := json.Unmarshal(githubtest.Payload(tc.source), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(githubtest.Payload(derived), &b); err != nil {
			t.Fatal(err)
		}
		diff := leafDiff("", a, b)
		if len(diff) == 0 {
			t.Errorf("%s is identical to %s", derived, tc.source)
		}
		for _, p := range diff {
			ok := false
			for _, w := range tc.want {
				ok = ok || p == w || strings.HasPrefix(p, w+".")
			}
			if !ok {
				t.Errorf("%s differs from %s at %s, which README.md does not list", derived, tc.source, p)
			}
		}
	}
}

func TestVendoredPayloadsParse(t *testing.T) {
	names := githubtest.PayloadNames()
	if len(names) != 14 {
		t.Fatalf("payloads = %v", names)
	}
	for _, name := range names {
		event, _, _ := strings.Cut(name, ".")
		parsed, err := github.ParseWebHook(event, githubtest.Payload(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch e := parsed.(type) {
		case *github.IssueCommentEvent:
			isPR := strings.HasSuffix(name, ".pr")
			isBot := strings.HasSuffix(name, ".bot")
			if e.GetIssue().IsPullRequest() != isPR || (e.GetComment().GetUser().GetType() == "Bot") != isBot || e.GetInstallation().GetID() == 0 {
				t.Errorf("%s: pull request %v, user %+v", name, e.GetIssue().IsPullRequest(), e.GetComment().GetUser())
			}
		case *github.PullRequestEvent:
			if e.GetPullRequest().GetMerged() != strings.HasSuffix(name, ".merged") || e.GetAction() != "closed" {
				t.Errorf("%s: merged %v", name, e.GetPullRequest().GetMerged())
			}
		case *github.PullRequestReviewEvent:
			if want := map[bool]string{true: "approved", false: "commented"}[strings.HasSuffix(name, ".approved")]; e.GetReview().GetState() != want {
				t.Errorf("%s: review state %q", name, e.GetReview().GetState())
			}
		case *github.IssuesEvent:
			if _, action, _ := strings.Cut(name, "."); e.GetAction() != action || e.GetInstallation().GetID() == 0 {
				t.Errorf("%s: %+v", name, e)
			}
		case *github.WorkflowRunEvent:
			if _, action, _ := strings.Cut(name, "."); e.GetAction() != action || e.GetWorkflowRun().GetID() == 0 {
				t.Errorf("%s: action %q, run %+v", name, e.GetAction(), e.GetWorkflowRun())
			}
		}
	}
	if _, err := githubtest.LookupPayload("issue_comment.nope"); err == nil || !strings.Contains(err.Error(), "issue_comment.created") {
		t.Fatalf("unknown payload: err = %v, want the list of known ones", err)
	}
}

func TestSignPayloadMatchesGitHubsVector(t *testing.T) {
	got := githubtest.SignPayload("It's a Secret to Everybody", []byte("Hello, World!"))
	if want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"; got != want {
		t.Fatalf("SignPayload = %s, want %s", got, want)
	}
}

func TestEditPayload(t *testing.T) {
	out, err := githubtest.EditPayload(githubtest.Payload("issue_comment.created")).
		Repo("acme", "gitops").Installation(77).IssueNumber(7).CommentID(555).CommentBody("/promote staging").User("alice").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	e, err := github.ParseWebHook("issue_comment", out)
	if err != nil {
		t.Fatal(err)
	}
	ev := e.(*github.IssueCommentEvent)
	checks := map[string][2]string{
		"full_name":    {ev.GetRepo().GetFullName(), "acme/gitops"},
		"owner":        {ev.GetRepo().GetOwner().GetLogin(), "acme"},
		"installation": {fmt.Sprint(ev.GetInstallation().GetID()), "77"},
		"number":       {fmt.Sprint(ev.GetIssue().GetNumber()), "7"},
		"issue url":    {ev.GetIssue().GetURL(), "https://api.github.com/repos/acme/gitops/issues/7"},
		"comment id":   {fmt.Sprint(ev.GetComment().GetID()), "555"},
		"comment url":  {ev.GetComment().GetHTMLURL(), "https://github.com/acme/gitops/issues/7#issuecomment-555"},
		"body":         {ev.GetComment().GetBody(), "/promote staging"},
		"author":       {ev.GetComment().GetUser().GetLogin(), "alice"},
		"author url":   {ev.GetComment().GetUser().GetHTMLURL(), "https://github.com/alice"},
		"sender":       {ev.GetSender().GetLogin(), "alice"},
		"issue author": {ev.GetIssue().GetUser().GetLogin(), "Codertocat"}, // untouched
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if strings.Contains(string(out), "Codertocat/Hello-World") {
		t.Error("a URL still names the example repository")
	}
	if _, err := githubtest.EditPayload(githubtest.Payload("ping")).Set("nope.deeper", 1).Bytes(); err == nil {
		t.Fatal("setting below a missing object should fail")
	}
	if _, err := githubtest.EditPayload([]byte("{")).Bytes(); err == nil {
		t.Fatal("a malformed payload should fail")
	}
}

// recorder is a go-githubapp event handler keeping what it was given.
type recorder struct {
	mu     sync.Mutex
	events []string
	bodies [][]byte
}

func (r *recorder) Handles() []string {
	return []string{"issue_comment", "issues", "pull_request", "pull_request_review"}
}

func (r *recorder) Handle(_ context.Context, eventType, deliveryID string, payload []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, eventType+"/"+deliveryID)
	r.bodies = append(r.bodies, payload)
	return nil
}

// TestStatePayloadsThroughGoGitHubAppDispatcher sends payloads built from the fake's state
// to go-githubapp's dispatcher, which checks the signature and routes by event.
func TestStatePayloadsThroughGoGitHubAppDispatcher(t *testing.T) {
	s, repo, gh := setup(t)
	ctx := context.Background()
	rec := &recorder{}
	app := httptest.NewServer(githubapp.NewEventDispatcher([]githubapp.EventHandler{rec}, s.WebhookSecret()))
	t.Cleanup(app.Close)

	issue := repo.CreateIssue("alice", "Promote", "/promote staging", "daytwo")
	comment := repo.AddComment(issue, "alice", "/promote web --to prod")
	repo.Commit("daytwo/p", "p", map[string]string{"p": "1\n"})
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "gitops", &github.NewPullRequest{Title: github.String("p"), Head: github.String("daytwo/p"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	prComment := repo.AddComment(pr.GetNumber(), "alice", "/approve")
	botReply, _, err := gh.Issues.CreateComment(ctx, "acme", "gitops", issue, &github.IssueComment{Body: github.String("on it")})
	if err != nil {
		t.Fatal(err)
	}
	repo.SetPermission("bob", githubtest.RoleWrite)
	review := repo.SubmitReview(pr.GetNumber(), "bob", "APPROVED", "")
	merged, _, err := gh.PullRequests.Merge(ctx, "acme", "gitops", pr.GetNumber(), "", nil)
	if err != nil {
		t.Fatal(err)
	}

	sends := []struct {
		event   string
		payload []byte
	}{
		{"issues", repo.IssuesOpenedPayload(issue)},
		{"issue_comment", repo.IssueCommentPayload(comment)},
		{"issue_comment", repo.IssueCommentPayload(prComment)},
		{"issue_comment", repo.IssueCommentPayload(botReply.GetID())},
		{"pull_request_review", repo.ReviewSubmittedPayload(pr.GetNumber(), review)},
		{"pull_request", repo.PullClosedPayload(pr.GetNumber())},
	}
	for i, snd := range sends {
		res, err := s.SendWebhookWithDelivery(app.URL+githubapp.DefaultWebhookRoute, snd.event, fmt.Sprintf("delivery-%d", i), snd.payload)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: dispatcher answered %d", snd.event, res.StatusCode)
		}
	}
	// The signature is what the dispatcher checks: another secret refuses the delivery.
	strict := httptest.NewServer(githubapp.NewEventDispatcher([]githubapp.EventHandler{rec}, "another secret"))
	t.Cleanup(strict.Close)
	res, err := s.SendWebhook(strict.URL, "issues", sends[0].payload)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("delivery signed with another secret: %d, want 400", res.StatusCode)
	}

	if len(rec.events) != len(sends) || rec.events[0] != "issues/delivery-0" {
		t.Fatalf("handled %v", rec.events)
	}
	parse := func(i int) any {
		ev, err := github.ParseWebHook(sends[i].event, rec.bodies[i])
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	var inst int64
	for _, r := range s.Requests() {
		inst = max(inst, r.Installation)
	}
	opened := parse(0).(*github.IssuesEvent)
	if opened.GetIssue().GetNumber() != issue || opened.GetIssue().GetBody() != "/promote staging" || opened.GetRepo().GetFullName() != "acme/gitops" ||
		opened.GetInstallation().GetID() != inst || opened.GetIssue().Labels[0].GetName() != "daytwo" {
		t.Errorf("issues.opened = %+v", opened.GetIssue())
	}
	c := parse(1).(*github.IssueCommentEvent)
	if c.GetComment().GetID() != comment || c.GetComment().GetBody() != "/promote web --to prod" || c.GetComment().GetUser().GetLogin() != "alice" || c.GetIssue().IsPullRequest() {
		t.Errorf("issue comment = %+v", c.GetComment())
	}
	// The comment the payload names is the fake's: the app can react to it.
	if _, _, err := gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "gitops", c.GetComment().GetID(), "eyes"); err != nil {
		t.Errorf("react to the delivered comment: %v", err)
	}
	if c := parse(2).(*github.IssueCommentEvent); !c.GetIssue().IsPullRequest() || c.GetIssue().GetNumber() != pr.GetNumber() {
		t.Errorf("PR comment: pull request %v number %d", c.GetIssue().IsPullRequest(), c.GetIssue().GetNumber())
	}
	if c := parse(3).(*github.IssueCommentEvent); c.GetComment().GetUser().GetLogin() != s.BotLogin() || c.GetComment().GetUser().GetType() != "Bot" || c.GetSender().GetType() != "Bot" {
		t.Errorf("bot comment user = %+v", c.GetComment().GetUser())
	}
	var via struct {
		Comment struct {
			PerformedVia struct {
				ID int64 `json:"id"`
			} `json:"performed_via_github_app"`
		} `json:"comment"`
	}
	if err := json.Unmarshal(rec.bodies[3], &via); err != nil || via.Comment.PerformedVia.ID != s.AppID() {
		t.Errorf("bot comment performed_via_github_app.id = %d, %v", via.Comment.PerformedVia.ID, err)
	}
	rv := parse(4).(*github.PullRequestReviewEvent)
	if rv.GetReview().GetState() != "approved" || rv.GetReview().GetUser().GetLogin() != "bob" || rv.GetReview().GetID() != review {
		t.Errorf("review = %+v", rv.GetReview())
	}
	closed := parse(5).(*github.PullRequestEvent)
	p := closed.GetPullRequest()
	if !p.GetMerged() || p.GetMergeCommitSHA() != merged.GetSHA() || p.GetNumber() != pr.GetNumber() || p.GetHead().GetRef() != "daytwo/p" ||
		p.GetBase().GetRef() != "main" || closed.GetInstallation().GetID() != inst || !strings.HasPrefix(p.GetHTMLURL(), s.URL()+"/acme/gitops/pull/") {
		t.Errorf("closed PR = merged %v sha %q number %d head %q html %q", p.GetMerged(), p.GetMergeCommitSHA(), p.GetNumber(), p.GetHead().GetRef(), p.GetHTMLURL())
	}
}

func TestSendWebhookHeaders(t *testing.T) {
	s := githubtest.New(t, githubtest.WithWebhookSecret("s3cret"))
	var got http.Header
	var verr error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, verr = github.ValidatePayloadFromBody(r.Header.Get("Content-Type"), r.Body, r.Header.Get("X-Hub-Signature-256"), []byte("s3cret"))
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	res, err := s.SendWebhook(srv.URL, "ping", githubtest.Payload("ping"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if verr != nil {
		t.Fatalf("signature: %v", verr)
	}
	if got.Get("X-GitHub-Event") != "ping" || !strings.HasPrefix(got.Get("User-Agent"), "GitHub-Hookshot/") || got.Get("Content-Type") != "application/json" ||
		len(got.Get("X-GitHub-Delivery")) != 36 || got.Get("X-GitHub-Hook-Installation-Target-ID") != fmt.Sprint(s.AppID()) {
		t.Fatalf("headers = %v", got)
	}
	first := got.Get("X-GitHub-Delivery")
	res, err = s.SendWebhook(srv.URL, "ping", githubtest.Payload("ping"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got.Get("X-GitHub-Delivery") == first {
		t.Fatal("delivery ids repeat")
	}
}

func decodeInto(payload []byte, v any) error { return json.Unmarshal(payload, v) }
