package ops_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/ai/aitest"
	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/incident"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/ops"
)

// incidentTiming is short, so that the tests take seconds: the decisions are the
// tracker's, tested with a fake clock in internal/incident.
var incidentTiming = ops.IncidentOptions{Grace: 300 * time.Millisecond, Settle: 300 * time.Millisecond, Debounce: 50 * time.Millisecond,
	Tick: 20 * time.Millisecond, Rescan: time.Hour, HoldFor: 100 * time.Millisecond}

// newIncidentWorld is the Argo CD world with the leader's own incident watch off: the
// tests start watches themselves, on a repository seeded before they look.
func newIncidentWorld(t *testing.T) *argoWorld {
	t.Helper()
	return newIncidentWorldWith(t, nil)
}

// newIncidentWorldWith is newIncidentWorld with more of daytwo's environment.
func newIncidentWorldWith(t *testing.T, extra map[string]string) *argoWorld {
	t.Helper()
	var w *world
	argo := argoAtMain(t, &w)
	env := map[string]string{"DAYTWO_ARGOCD_SERVER": argo.Addr(), "DAYTWO_ARGOCD_TOKEN": argoToken,
		"DAYTWO_ARGOCD_PLAINTEXT": "true", "DAYTWO_INCIDENTS_ENABLED": "false"}
	maps.Copy(env, extra)
	a := apptest.StartWithEnv(t, clock, env)
	w = seedWorld(t, a)
	for _, svc := range []string{"checkout", "catalog", "payments"} {
		for _, env := range []string{"dev", "staging", "prod"} {
			argo.AddApp(svc+"-"+env, env != "prod")
		}
	}
	return &argoWorld{world: w, argo: argo}
}

// argoAtMain is a test Argo CD whose desired revision is the head of main of *w, once the
// world is seeded.
func argoAtMain(t *testing.T, w **world) *argoapitest.Server {
	return argoapitest.New(t, argoToken, func() string {
		if *w == nil {
			return ""
		}
		sha, _ := (*w).repo.BranchSHA("main")
		return sha
	})
}

// watch runs r's incident watch until the test ends or stop is called.
func watch(t *testing.T, r *ops.Runner) (stop func()) {
	t.Helper()
	r.Incidents = incidentTiming
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := r.WatchIncidents(ctx); err != nil {
			t.Errorf("WatchIncidents: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// incidents are the issues labelled incident, open or closed, by number.
func (w *argoWorld) incidents() []githubtest.Issue {
	var out []githubtest.Issue
	for n := 1; n < 200; n++ {
		is, ok := w.repo.Issue(n)
		if ok && !is.IsPull && strings.Contains(","+strings.Join(is.Labels, ",")+",", ",incident,") {
			out = append(out, is)
		}
	}
	return out
}

func (w *argoWorld) openIncidents() []githubtest.Issue {
	var out []githubtest.Issue
	for _, is := range w.incidents() {
		if is.State == "open" {
			out = append(out, is)
		}
	}
	return out
}

// waitIncident waits until the one open incident issue satisfies cond.
func (w *argoWorld) waitIncident(t *testing.T, what string, cond func(githubtest.Issue) bool) githubtest.Issue {
	t.Helper()
	var got githubtest.Issue
	apptest.Eventually(t, what, func() bool {
		open := w.openIncidents()
		if len(open) == 1 && cond(open[0]) {
			got = open[0]
			return true
		}
		return false
	})
	return got
}

const hostileMessage = `Back-off pulling image "ghcr.io/acme/checkout:9.9.9" @octocat <script>alert(1)</script> #1`

func brokenDeployment(ns string) argoapitest.Resource {
	return argoapitest.Resource{Kind: "Deployment", Namespace: ns, Name: "checkout", Health: "Degraded", Message: hostileMessage}
}

func TestIncidentOpensAfterGraceAndClosesWhenHealthy(t *testing.T) {
	w := newIncidentWorld(t)
	watch(t, w.Runner)
	// Argo CD dates the change in whole seconds, and the grace counts from its date.
	start := time.Now().Truncate(time.Second)
	w.argo.SetLive("checkout-prod", "Degraded", brokenDeployment("shop"))

	is := w.waitIncident(t, "the incident issue", func(githubtest.Issue) bool { return true })
	if waited := time.Since(start); waited < incidentTiming.Grace {
		t.Errorf("opened after %s, within the grace of %s", waited, incidentTiming.Grace)
	}
	if got := strings.Join(is.Labels, ","); got != "daytwo,incident,service/checkout,env/prod" {
		t.Errorf("labels %q", got)
	}
	if is.User != w.GH.BotLogin() || is.Title != "Incident: checkout in prod is Degraded" {
		t.Errorf("issue %+v", is)
	}
	for _, want := range []string{"health **Degraded**, sync status **Synced**", "`shop/Deployment/checkout`", "`group:acme/checkout-team` (catalog-info), team @acme/checkout-team.",
		"`/rollback`", "`/restart`", "`/sync`", incident.Mark("checkout", "prod", "checkout-prod")} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("the body lacks %q:\n%s", want, is.Body)
		}
	}
	mdtest.Policy{Mentions: []string{"acme/checkout-team"}, Comments: true}.AssertSafe(t, is.Body, hostileMessage)

	// Still Degraded a while later: the same issue, no other.
	time.Sleep(5 * incidentTiming.Tick)
	if n := len(w.incidents()); n != 1 {
		t.Fatalf("want one incident issue, got %d", n)
	}

	w.argo.SetLive("checkout-prod", "Healthy")
	apptest.Eventually(t, "the issue closed", func() bool { got, _ := w.repo.Issue(is.Number); return got.State == "closed" })
	comments := w.repo.Comments(is.Number)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "The incident lasted") || !strings.Contains(comments[0].Body, "is Healthy and Synced again") {
		t.Fatalf("closing comment: %+v", comments)
	}
	if got, _ := w.repo.Issue(is.Number); got.StateReason != "completed" {
		t.Errorf("closed as %q", got.StateReason)
	}
}

func TestNoIncidentWhileADaytwoChangeIsInFlight(t *testing.T) {
	for _, line := range []string{"/scale 4 --service checkout --env prod", "/scale 4 --for 2h --service checkout --env prod"} {
		t.Run(line, func(t *testing.T) {
			w := newIncidentWorld(t)
			w.GH.AddTeamMember("acme", "sre", "sam", "member", "active")
			n := w.ask(t, "sam", line)
			open := w.openPulls()
			if len(open) != 1 {
				t.Fatalf("want the scale's PR open:\n%s", w.status(t, n))
			}
			watch(t, w.Runner)
			w.argo.SetLive("checkout-prod", "Degraded", brokenDeployment("shop"))
			time.Sleep(incidentTiming.Grace + 10*incidentTiming.Tick)
			if got := w.incidents(); len(got) != 0 {
				t.Fatalf("a daytwo PR for checkout/prod is open: no incident issue, got %+v", got)
			}

			// The PR is closed without merging: nothing of daytwo's is in flight any more.
			w.comment(t, n, "sam", "/cancel")
			if len(w.openPulls()) != 0 {
				t.Fatalf("the PR is still open:\n%s", w.status(t, n))
			}
			w.waitIncident(t, "the incident once the PR is closed", func(githubtest.Issue) bool { return true })
		})
	}
}

func TestRestartedWatchUpdatesTheSameIssue(t *testing.T) {
	w := newIncidentWorld(t)
	stop := watch(t, w.Runner)
	w.argo.SetLive("checkout-dev", "Degraded", brokenDeployment("checkout-dev"))
	first := w.waitIncident(t, "the incident issue", func(githubtest.Issue) bool { return true })
	stop()

	// What is wrong changes while no one watches; a new watch (a restart, a new leader)
	// finds the issue by its labels and mark and rewrites it.
	w.argo.SetLive("checkout-dev", "Missing", argoapitest.Resource{Kind: "Service", Namespace: "checkout-dev", Name: "checkout", Health: "Missing", Message: "service gone"})
	watch(t, w.Runner)
	is := w.waitIncident(t, "the issue updated", func(is githubtest.Issue) bool { return strings.Contains(is.Body, "service gone") })
	if is.Number != first.Number || len(w.incidents()) != 1 {
		t.Fatalf("want #%d updated, got #%d and %d incident issues", first.Number, is.Number, len(w.incidents()))
	}
	if is.Title != "Incident: checkout in dev is Missing" {
		t.Errorf("title %q", is.Title)
	}
}

func TestRestartedWatchClosesTheIssueOfARecoveredApp(t *testing.T) {
	w := newIncidentWorld(t)
	stop := watch(t, w.Runner)
	w.argo.SetLive("catalog-staging", "Degraded")
	is := w.waitIncident(t, "the incident issue", func(githubtest.Issue) bool { return true })
	stop()
	w.argo.SetLive("catalog-staging", "Healthy") // recovers while no one watches
	watch(t, w.Runner)
	apptest.Eventually(t, "the issue closed", func() bool { got, _ := w.repo.Issue(is.Number); return got.State == "closed" })
}

func TestTwoLeadersOneOpenIssue(t *testing.T) {
	w := newIncidentWorld(t)
	other := w.Replica(t) // its own process: its locks are not shared without Redis
	watch(t, w.Runner)
	watch(t, other.Runner)
	w.argo.SetLive("payments-prod", "Degraded")
	is := w.waitIncident(t, "one open incident issue", func(githubtest.Issue) bool { return true })
	time.Sleep(10 * incidentTiming.Tick)
	if open := w.openIncidents(); len(open) != 1 || open[0].Number != is.Number {
		t.Fatalf("want #%d alone open, got %+v", is.Number, open)
	}
	for _, dup := range w.incidents() {
		if dup.Number != is.Number {
			if c := w.repo.Comments(dup.Number); len(c) == 0 || c[0].Body != fmt.Sprintf("Duplicate of #%d.", is.Number) {
				t.Errorf("a second issue is closed as a duplicate: %+v %+v", dup, c)
			}
		}
	}
}

func TestRollbackRepliedInTheIncidentIssue(t *testing.T) {
	w := newIncidentWorld(t)
	// A day-2 change rolls out healthy, then the app breaks.
	n := w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev")
	w.Runner.WaitRollouts()
	if !strings.Contains(w.status(t, n), "Rolled out.") {
		t.Fatalf("status:\n%s", w.status(t, n))
	}
	watch(t, w.Runner)
	w.argo.SetLive("checkout-dev", "Degraded", brokenDeployment("checkout-dev"))
	is := w.waitIncident(t, "the incident issue", func(githubtest.Issue) bool { return true })
	if !strings.Contains(is.Body, "`/set-image 1.9.0 --service checkout --env dev` by `alice`") || !strings.Contains(is.Body, "**likely cause**") {
		t.Errorf("the change is listed as the likely cause:\n%s", is.Body)
	}

	// /rollback alone: the issue's labels name checkout in dev.
	w.comment(t, is.Number, "alice", "/rollback")
	w.Runner.WaitRollouts()
	kust, _ := w.repo.File("main", "apps/checkout/overlays/dev/kustomization.yaml")
	if strings.Contains(kust, "1.9.0") {
		t.Fatalf("the rollback did not undo the image:\n%s", kust)
	}
	var pr githubtest.Pull
	for _, p := range w.repo.Pulls() {
		if strings.HasPrefix(p.Head, "daytwo/") && strings.Contains(p.Head, "/rollback-") {
			pr = p
		}
	}
	if !strings.HasPrefix(pr.Head, "daytwo/dev/checkout/") || !pr.Merged {
		t.Fatalf("the rollback's PR targets checkout in dev: %+v", pr)
	}

	// The rollback's healthy rollout closes its asking issue, this one, and the incident
	// watch says how long it lasted, whichever comes first.
	lasted := func() int {
		n := 0
		for _, c := range w.repo.Comments(is.Number) {
			if strings.Contains(c.Body, "The incident lasted") {
				n++
			}
		}
		return n
	}
	apptest.Eventually(t, "the incident over", func() bool { got, _ := w.repo.Issue(is.Number); return got.State == "closed" && lasted() > 0 })
	time.Sleep(10 * incidentTiming.Tick)
	if n := lasted(); n != 1 {
		t.Errorf("want one comment with the duration, got %d", n)
	}
}

func TestWatchFindsARepositoryInstalledLater(t *testing.T) {
	var w *world
	argo := argoAtMain(t, &w)
	a := apptest.StartWithEnv(t, clock, map[string]string{"DAYTWO_ARGOCD_SERVER": argo.Addr(), "DAYTWO_ARGOCD_TOKEN": argoToken,
		"DAYTWO_ARGOCD_PLAINTEXT": "true", "DAYTWO_INCIDENTS_ENABLED": "false"})
	argo.AddApp("checkout-staging", true)
	a.Runner.Incidents = incidentTiming
	a.Runner.Incidents.RescanUnknown = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Runner.WatchIncidents(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	// The watch started with nothing installed; the app breaks, then the repository that
	// configures it is installed.
	argo.SetLive("checkout-staging", "Degraded")
	time.Sleep(2 * incidentTiming.Grace)
	w = seedWorld(t, a)
	aw := &argoWorld{world: w, argo: argo}
	is := aw.waitIncident(t, "the incident of an app found later", func(githubtest.Issue) bool { return true })
	if !strings.Contains(is.Body, incident.Mark("checkout", "staging", "checkout-staging")) {
		t.Errorf("body:\n%s", is.Body)
	}
}

// The leader's loop, configured by the environment, with no test driving the watch.
func TestLeaderWatchesForIncidents(t *testing.T) {
	var w *world
	argo := argoAtMain(t, &w)
	a := apptest.StartWithEnv(t, clock, map[string]string{"DAYTWO_ARGOCD_SERVER": argo.Addr(), "DAYTWO_ARGOCD_TOKEN": argoToken,
		"DAYTWO_ARGOCD_PLAINTEXT": "true", "DAYTWO_INCIDENTS_GRACE": "1s", "DAYTWO_INCIDENTS_SETTLE": "1s"})
	w = seedWorld(t, a)
	argo.AddApp("catalog-dev", true)
	a.Restart(t) // a daytwo started once the repository is installed
	aw := &argoWorld{world: w, argo: argo}
	argo.SetLive("catalog-dev", "Degraded")
	is := aw.waitIncident(t, "the leader's incident issue", func(githubtest.Issue) bool { return true })
	argo.SetLive("catalog-dev", "Healthy")
	apptest.Eventually(t, "the issue closed", func() bool { got, _ := w.repo.Issue(is.Number); return got.State == "closed" })
}

func TestIncidentBackWithinTheHourReopensItsIssue(t *testing.T) {
	w := newIncidentWorld(t)
	watch(t, w.Runner)
	w.argo.SetLive("payments-dev", "Degraded")
	is := w.waitIncident(t, "the incident issue", func(githubtest.Issue) bool { return true })
	w.argo.SetLive("payments-dev", "Healthy")
	apptest.Eventually(t, "the issue closed", func() bool { got, _ := w.repo.Issue(is.Number); return got.State == "closed" })

	w.argo.SetLive("payments-dev", "Missing")
	again := w.waitIncident(t, "the issue reopened", func(is githubtest.Issue) bool { return strings.Contains(is.Body, "health **Missing**") })
	if again.Number != is.Number || len(w.incidents()) != 1 {
		t.Fatalf("want #%d reopened, got #%d and %d incident issues", is.Number, again.Number, len(w.incidents()))
	}
	// The body is rewritten before the comment is posted.
	last := func() string { c := w.repo.Comments(is.Number); return c[len(c)-1].Body }
	apptest.Eventually(t, "the reopening comment", func() bool { return strings.Contains(last(), "is Missing again since") })
}

func TestSummaryFromTheFacts(t *testing.T) {
	w := newIncidentWorld(t)
	var got []incident.Fact
	var mu sync.Mutex
	w.Runner.Summarize = func(_ context.Context, facts []incident.Fact) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		got = facts
		return "The Deployment never became ready; rolling back is the quickest fix.", nil
	}
	watch(t, w.Runner)
	w.argo.SetLive("catalog-prod", "Degraded", argoapitest.Resource{Kind: "Deployment", Namespace: "shop", Name: "catalog", Health: "Degraded", Message: "deadline exceeded"})
	is := w.waitIncident(t, "the incident issue", func(githubtest.Issue) bool { return true })
	if !strings.Contains(is.Body, "### Summary\n\nThe Deployment never became ready; rolling back is the quickest fix.") {
		t.Errorf("no summary:\n%s", is.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || got[0].Title != "What is wrong" || !strings.Contains(strings.Join(got[0].Lines, "\n"), "shop/Deployment/catalog Degraded: deadline exceeded") {
		t.Errorf("the facts given: %+v", got)
	}
}

// The summary of a configured AI endpoint: written from the issue's facts, escaped, and
// naming only the replies that parse; a failing endpoint leaves the facts alone.
func TestSummaryFromTheAIEndpoint(t *testing.T) {
	f := aitest.New(t, aitest.Options{Model: "gpt-test", Token: "sk-ai-test-key"})
	f.Require("What is wrong", "catalog-prod", "shop/Deployment/catalog Degraded: deadline exceeded")
	f.Forbid("sk-ai-test-key", argoToken)
	f.Serve(aitest.JSON("The new catalog image never became ready; ask @acme/catalog <img src=x> to roll back.", "/rollback", "/freeze prod"),
		aitest.Status(500))
	w := newIncidentWorldWith(t, map[string]string{"DAYTWO_AI_ENDPOINT": f.URL, "DAYTWO_AI_MODEL": "gpt-test",
		"DAYTWO_AI_TOKEN_ENV": "TEST_AI_KEY", "TEST_AI_KEY": "sk-ai-test-key"})
	watch(t, w.Runner)
	w.argo.SetLive("catalog-prod", "Degraded", argoapitest.Resource{Kind: "Deployment", Namespace: "shop", Name: "catalog", Health: "Degraded", Message: "deadline exceeded"})
	is := w.waitIncident(t, "the incident issue", func(githubtest.Issue) bool { return true })
	sum, _, ok := strings.Cut(is.Body, "### What is wrong")
	if !ok || !strings.Contains(sum, "### Summary\n\nThe new catalog image never became ready; ask `@acme/catalog` \\<img src=x\\> to roll back.") ||
		!strings.Contains(sum, "It suggests replying: /rollback") || strings.Contains(sum, "/freeze") {
		t.Errorf("summary:\n%s", sum)
	}
	mdtest.AssertSafe(t, sum, "@acme/catalog", "<img src=x>")
	if n := len(f.Requests()); n != 1 {
		t.Errorf("want one request to the model, got %d", n)
	}
}

func TestFailingSummaryLeavesTheFacts(t *testing.T) {
	w := newIncidentWorld(t)
	w.Runner.Summarize = func(context.Context, []incident.Fact) (string, error) {
		return "", context.DeadlineExceeded
	}
	watch(t, w.Runner)
	w.argo.SetLive("catalog-prod", "Degraded")
	is := w.waitIncident(t, "the incident issue", func(githubtest.Issue) bool { return true })
	if strings.Contains(is.Body, "### Summary") || !strings.Contains(is.Body, "### What is wrong") {
		t.Errorf("body:\n%s", is.Body)
	}
}

func TestOutOfSyncCountsFromWhenItIsSeen(t *testing.T) {
	w := newIncidentWorld(t)
	watch(t, w.Runner)
	// Healthy for a while, then a push Argo CD finds and does not sync (no automated sync).
	time.Sleep(time.Second)
	w.repo.Commit("main", "checkout prod: by hand", map[string]string{"apps/checkout/overlays/prod/extra.txt": "x\n"})
	seen := time.Now()
	w.argo.Poll("checkout-prod")
	is := w.waitIncident(t, "the incident issue", func(githubtest.Issue) bool { return true })
	if waited := time.Since(seen); waited < incidentTiming.Grace {
		t.Errorf("opened %s after the app turned OutOfSync, within the grace of %s: its health's older time counted", waited, incidentTiming.Grace)
	}
	if is.Title != "Incident: checkout in prod is OutOfSync" {
		t.Errorf("title %q", is.Title)
	}
}
