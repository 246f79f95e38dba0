package ops_test

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/coord/redistest"
	"github.com/daytwo-dev/daytwo/internal/dashboard"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

// dashboardIssue is the one open issue titled as daytwo's dashboard.
func (w *world) dashboardIssue(t *testing.T) githubtest.Issue {
	t.Helper()
	var found []githubtest.Issue
	for n := 1; ; n++ {
		is, ok := w.repo.Issue(n)
		if !ok {
			break
		}
		if is.Title == dashboard.Title && is.State == "open" && !is.IsPull {
			found = append(found, is)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one dashboard issue, got %d", len(found))
	}
	return found[0]
}

// tick edits the dashboard as login, ticking the box whose label starts with label, and
// delivers the edit.
func (w *world) tick(t *testing.T, a *apptest.App, login, label string) {
	t.Helper()
	d := w.dashboardIssue(t)
	body := strings.Replace(d.Body, "- [ ] "+label, "- [x] "+label, 1)
	if body == d.Body {
		t.Fatalf("no unticked box %q on the dashboard:\n%s", label, d.Body)
	}
	a.Send(t, "issues", w.repo.EditIssueBody(d.Number, login, body))
}

// botComments are daytwo's comments on issue n.
func (w *world) botComments(n int) []string {
	var out []string
	for _, c := range w.repo.Comments(n) {
		if c.User == w.GH.BotLogin() {
			out = append(out, c.Body)
		}
	}
	return out
}

func TestDashboardCommandCreatesAndUpdatesIt(t *testing.T) {
	w := newWorld(t)
	n := w.ask(t, "rita", "/dashboard") // read access is enough
	d := w.dashboardIssue(t)
	if strings.Join(d.Labels, ",") != "daytwo,dashboard" || d.User != w.GH.BotLogin() {
		t.Fatalf("dashboard labels %v by %s", d.Labels, d.User)
	}
	if st := w.status(t, n); !strings.Contains(st, "/issues/"+itoa(d.Number)) || w.mark(t, n).State != githubapi.StateAnswered {
		t.Errorf("status:\n%s", st)
	}
	for _, want := range []string{
		"| `checkout` | staging | `ghcr.io/acme/checkout:1.7.2` |",
		"- [ ] promote checkout to staging (`1.8.0` → replaces `1.7.2`) <!-- daytwo:do /promote staging --service checkout --from dev -->",
		"- [ ] promote payments to prod (`3.1.0` → replaces `3.0.4`)",
	} {
		if !strings.Contains(d.Body, want) {
			t.Errorf("the dashboard lacks %q:\n%s", want, d.Body)
		}
	}
	mdtest.Policy{Comments: true}.AssertSafe(t, d.Body)

	// Bringing it up to date costs: the status comment, the default branch, the asker's
	// permission, finding the dashboard and the incidents, reading the body twice, writing it.
	w.GH.ResetLog()
	head := w.repo.Commit("main", "scale checkout in dev by hand", map[string]string{"apps/checkout/overlays/dev/kustomization.yaml": strings.Replace(w.file(t, "apps/checkout/overlays/dev/kustomization.yaml"), "newTag: 1.8.0", "newTag: 1.8.1", 1)})
	w.ask(t, "rita", "/dashboard")
	want := []string{
		"GET /repos/acme/gitops/collaborators/rita/permission",
		"GET /repos/acme/gitops/git/trees/" + head,
		"GET /repos/acme/gitops/issues", "GET /repos/acme/gitops/issues",
		"GET /repos/acme/gitops/issues/" + itoa(d.Number),
		"PATCH /repos/acme/gitops/issues/" + itoa(d.Number), "PATCH /repos/acme/gitops/issues/comments/N",
		"POST /api/graphql daytwoAck", "POST /api/graphql daytwoDefaultBranch", "POST /api/graphql daytwoPrefetch",
	}
	sort.Strings(want)
	commentID := regexp.MustCompile(`/comments/[0-9]+$`)
	var got []string
	apptest.Eventually(t, "the request log", func() bool {
		got = got[:0]
		for _, r := range w.GH.Requests() {
			if !strings.HasSuffix(r.Path, "/access_tokens") {
				got = append(got, strings.TrimSpace(r.Method+" "+commentID.ReplaceAllString(r.Path, "/comments/N")+" "+r.Operation))
			}
		}
		sort.Strings(got)
		return slices.Equal(got, want)
	})

	// A person writes around daytwo's part; /dashboard again keeps it, and opens no
	// second issue.
	human := "Our notes: <!-- daytwo:dashboard:end --> `" + dashboard.Start + "`\r\n\r\n"
	body := human + d.Body + "\n\n- [ ] my own task\n"
	w.Send(t, "issues", w.repo.EditIssueBody(d.Number, "alice", body)) // no tick: nothing to run
	w.Quiet(t)
	w.repo.Commit("main", "freeze prod by hand", map[string]string{".github/daytwo.yml": strings.Replace(w.file(t, ".github/daytwo.yml"), "  - name: prod\n", "  - name: prod\n    freeze: {reason: audit week}\n", 1)})
	w.ask(t, "rita", "/dashboard")
	d2 := w.dashboardIssue(t)
	if d2.Number != d.Number || !strings.HasPrefix(d2.Body, human) || !strings.HasSuffix(d2.Body, "\n\n- [ ] my own task\n") {
		t.Fatalf("the person's text was not kept:\n%q", d2.Body)
	}
	if !strings.Contains(d2.Body, "- [ ] unfreeze prod: audit week <!-- daytwo:do /unfreeze prod -->") {
		t.Errorf("no unfreeze box:\n%s", d2.Body)
	}
}

func (w *world) file(t *testing.T, path string) string {
	t.Helper()
	s, ok := w.repo.File("main", path)
	if !ok {
		t.Fatalf("no %s", path)
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestDashboardFollowsAChangeAndItsMerge(t *testing.T) {
	w := newWorld(t)
	w.Runner.DashboardEvery = 20 * time.Millisecond
	w.ask(t, "alice", "/dashboard")
	d := w.dashboardIssue(t)
	// A person's text outside the markers, kept through every update.
	w.repo.EditIssueBody(d.Number, "alice", "Ping @acme/sre before prod.\n"+d.Body)

	w.ask(t, "alice", "/scale 3 --service checkout --env dev") // dev merges at once
	var merged []githubtest.Pull
	for _, p := range w.repo.Pulls() {
		if strings.HasPrefix(p.Head, "daytwo/dev/checkout/") && p.Merged {
			merged = append(merged, p)
		}
	}
	if len(merged) != 1 {
		t.Fatalf("merged %+v", merged)
	}
	w.Send(t, "pull_request", w.repo.PullClosedPayload(merged[0].Number))
	w.Quiet(t)
	w.Runner.WaitDashboards()
	body := w.dashboardIssue(t).Body
	if above := d.Body[:strings.Index(d.Body, dashboard.Start)]; !strings.HasPrefix(body, "Ping @acme/sre before prod.\n"+above+dashboard.Start) {
		t.Errorf("the person's text was not kept:\n%s", body)
	}
	if !strings.Contains(body, "| `checkout` | dev | `ghcr.io/acme/checkout:1.8.0` | 3 |") {
		t.Errorf("the merged scale is not shown:\n%s", body)
	}

	// A change PR waiting for approval shows, and the promotion it carries says so.
	w.ask(t, "alice", "/promote staging --service checkout")
	w.Runner.WaitDashboards()
	open := w.openFor(t, "daytwo/staging/checkout/")
	body = w.dashboardIssue(t).Body
	link := "[#" + itoa(open.Number) + "](" + w.GH.URL() + "/acme/gitops/pull/" + itoa(open.Number) + ")"
	if !strings.Contains(body, "| `checkout` | staging |") || !strings.Contains(body, "in progress in "+link) {
		t.Errorf("the open PR %s is not shown:\n%s", link, body)
	}

	// A time-boxed change has a branch of its own, and shows too.
	w.ask(t, "alice", "/scale 5 --for 2h --service catalog --env staging")
	w.Runner.WaitDashboards()
	boxed := w.openFor(t, "daytwo/_for/staging/catalog/")
	body = w.dashboardIssue(t).Body
	if !strings.Contains(body, "[#"+itoa(boxed.Number)+"](") {
		t.Errorf("the time-boxed PR #%d is not shown:\n%s", boxed.Number, body)
	}
}

func TestDashboardTickRunsTheCommandAsThePerson(t *testing.T) {
	w := newWorld(t)
	w.Runner.DashboardEvery = 20 * time.Millisecond
	w.ask(t, "alice", "/dashboard")
	d := w.dashboardIssue(t)
	before := len(w.botComments(d.Number))

	w.tick(t, w.App, "sam", "promote checkout to staging")
	w.Quiet(t)
	w.Runner.WaitDashboards()
	pr := w.openFor(t, "daytwo/staging/checkout/")
	if !strings.Contains(pr.Body, "@sam") {
		t.Errorf("the PR does not name who ticked:\n%s", pr.Body)
	}
	comments := w.botComments(d.Number)
	if len(comments) != before+1 {
		t.Fatalf("want one reply on the dashboard, got %q", comments[before:])
	}
	m, _ := githubapi.ParseStatusMark(comments[before])
	if m.State != githubapi.StateOpen || !strings.Contains(comments[before], "/pull/"+itoa(pr.Number)) {
		t.Errorf("reply %+v:\n%s", m, comments[before])
	}
	// The dashboard now shows the promotion in progress, its box not ticked.
	if body := w.dashboardIssue(t).Body; !strings.Contains(body, "- [ ] promote checkout to staging (`1.8.0` → replaces `1.7.2`), in progress in [#"+itoa(pr.Number)+"]") {
		t.Errorf("dashboard after the tick:\n%s", body)
	}

	// A bot's edit that ticks a box, and daytwo's own edits, run nothing.
	d = w.dashboardIssue(t)
	ticked := strings.Replace(d.Body, "- [ ] promote payments to prod", "- [x] promote payments to prod", 1)
	bot := githubtest.EditPayload(w.repo.EditIssueBody(d.Number, "alice", ticked)).
		Set("sender.login", "renovate[bot]").Set("sender.type", "Bot").MustBytes()
	w.Send(t, "issues", bot)
	w.Quiet(t)
	// daytwo rewrites the dashboard (the tick above goes): GitHub tells of that edit too.
	w.ask(t, "alice", "/dashboard")
	own := w.repo.IssueEditedPayload(d.Number)
	if ev := githubtest.EditPayload(own); ev.Get("sender.login") != w.GH.BotLogin() {
		t.Fatalf("the last edit is %v's", ev.Get("sender.login"))
	}
	w.Send(t, "issues", own)
	w.Quiet(t)
	if got := w.botComments(d.Number); len(got) != before+1 {
		t.Errorf("a bot's edit ran something: %q", got[before+1:])
	}
	if strings.Contains(w.dashboardIssue(t).Body, "- [x]") {
		t.Errorf("a box stayed ticked:\n%s", w.dashboardIssue(t).Body)
	}
	if len(w.openPulls()) != 1 {
		t.Errorf("pull requests %+v", w.openPulls())
	}
}

func TestDashboardRefusedTickIsUntickedWithTheReason(t *testing.T) {
	w := newWorld(t)
	w.ask(t, "alice", "/dashboard")
	d := w.dashboardIssue(t)
	before := len(w.botComments(d.Number))

	// rita has read access only. The same delivery twice is one request.
	ticked := strings.Replace(d.Body, "- [ ] promote checkout to staging", "- [x] promote checkout to staging", 1)
	payload := w.repo.EditIssueBody(d.Number, "rita", ticked)
	w.SendWithDelivery(t, "issues", "tick-delivery", payload)
	w.Quiet(t)
	w.SendWithDelivery(t, "issues", "tick-delivery", payload)
	w.Quiet(t)
	if len(w.openPulls()) != 0 {
		t.Fatalf("a refused tick opened %+v", w.openPulls())
	}
	comments := w.botComments(d.Number)
	if len(comments) != before+1 {
		t.Fatalf("want one reply, got %q", comments[before:])
	}
	m, _ := githubapi.ParseStatusMark(comments[before])
	if m.State != githubapi.StateRefused || !strings.Contains(comments[before], "@rita") || !strings.Contains(comments[before], "write") {
		t.Errorf("reply %+v:\n%s", m, comments[before])
	}
	if body := w.dashboardIssue(t).Body; body != d.Body {
		t.Errorf("the box was not unticked, or more changed:\n%s", body)
	}

	// /dashboard is for people with read access at least.
	n := w.ask(t, "eve", "/dashboard")
	if m := w.mark(t, n); m.State != githubapi.StateRefused || !strings.Contains(w.status(t, n), "read access") {
		t.Errorf("eve: %+v\n%s", m, w.status(t, n))
	}
}

// Writers racing on one dashboard, on two replicas sharing Redis: refused ticks each
// unticking their box. A write from a stale read would tick a box again; none is lost:
// every box ends unticked, and the person's text is kept.
func TestDashboardConcurrentWritersLoseNothing(t *testing.T) {
	rs := redistest.Start(t)
	w := seedWorld(t, apptest.StartWithEnv(t, clock, map[string]string{"DAYTWO_REDIS_URL": rs.URL()}))
	other := w.Replica(t)
	apps := []*apptest.App{w.App, other}
	for _, p := range []string{"rita", "ron", "rex", "roy", "ria", "rob"} {
		w.repo.SetPermission(p, githubtest.RoleRead)
	}
	w.ask(t, "alice", "/dashboard")
	d := w.dashboardIssue(t)
	w.repo.EditIssueBody(d.Number, "alice", "Notes.\n"+d.Body+"\nMore notes.\n")
	d = w.dashboardIssue(t)
	above := d.Body[:strings.Index(d.Body, dashboard.Start)]
	boxes := dashboard.Boxes(d.Body)
	if len(boxes) < 4 {
		t.Fatalf("boxes %+v", boxes)
	}

	// Every person ticks a box at once (the edits land one after the other, as on GitHub),
	// then the edits are delivered to the replicas at once, in a shuffled order.
	r := rand.New(rand.NewPCG(7, 16))
	people := []string{"rita", "ron", "rex", "roy", "ria", "rob"}
	var payloads [][]byte
	for i, b := range boxes {
		cur := w.dashboardIssue(t).Body
		line := "- [ ] " + b.Label + " <!-- daytwo:do " + b.Command + " -->"
		payloads = append(payloads, w.repo.EditIssueBody(d.Number, people[i%len(people)], strings.Replace(cur, line, strings.Replace(line, "[ ]", "[x]", 1), 1)))
	}
	r.Shuffle(len(payloads), func(i, j int) { payloads[i], payloads[j] = payloads[j], payloads[i] })
	var wg sync.WaitGroup
	for i, p := range payloads {
		wg.Add(1)
		delay := time.Duration(r.IntN(5)) * time.Millisecond
		go func() {
			defer wg.Done()
			time.Sleep(delay)
			apps[i%2].Send(t, "issues", p)
		}()
	}
	wg.Wait()
	w.Quiet(t)
	other.Quiet(t)

	body := w.dashboardIssue(t).Body
	for _, b := range dashboard.Boxes(body) {
		if b.Ticked {
			t.Errorf("box %s is still ticked: an untick was lost", b.Command)
		}
	}
	if !strings.HasPrefix(body, above+dashboard.Start) || !strings.HasSuffix(body, dashboard.End+"\nMore notes.\n") {
		t.Errorf("the person's text was not kept:\n%s", body)
	}
	if got := len(w.botComments(d.Number)); got != len(boxes) {
		t.Errorf("want a reply per tick (%d), got %d", len(boxes), got)
	}
	if len(w.openPulls()) != 0 {
		t.Errorf("refused ticks opened %+v", w.openPulls())
	}
}

// With Argo CD configured, each cell shows the Application's sync and health; open
// incident issues show beside the service and environment their labels name.
func TestDashboardShowsArgoCDAndIncidents(t *testing.T) {
	w := newArgoWorld(t)
	inc := w.repo.CreateIssue("alice", "checkout in prod is Degraded", "", "daytwo", "incident", "service/checkout", "env/prod")
	w.repo.CreateIssue("alice", "not an incident", "", "daytwo", "service/checkout", "env/prod")
	w.ask(t, "alice", "/dashboard")
	body := w.dashboardIssue(t).Body
	for _, want := range []string{
		"| service | environment | image | replicas | frozen | sync / health | open pull requests | open incidents |",
		"| `checkout` | dev | `ghcr.io/acme/checkout:1.8.0` | 1 | | Synced / Healthy | | |",
		"| `checkout` | prod | `ghcr.io/acme/checkout:1.7.1` | 3 | | Synced / Healthy | | [#" + itoa(inc) + "](" + w.GH.URL() + "/acme/gitops/issues/" + itoa(inc) + ") |",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the dashboard lacks %q:\n%s", want, body)
		}
	}
	if strings.Count(body, "/issues/") != 1 {
		t.Errorf("only the incident is linked:\n%s", body)
	}
}

// BenchmarkDashboardUpdate measures /dashboard bringing the example repository's dashboard
// (three services in three environments, every overlay rendered) up to date after a commit,
// from the webhook to the status comment linking it, with the test GitHub answering every
// request after 150 ms; it counts the GitHub requests.
func BenchmarkDashboardUpdate(b *testing.B) {
	w := newWorld(b, githubtest.WithLatency(150*time.Millisecond))
	first := w.repo.CreateIssue("alice", "dashboard", "")
	w.Send(b, "issue_comment", w.repo.IssueCommentPayload(w.repo.AddComment(first, "alice", "/dashboard")))
	w.Quiet(b)
	requests := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		kust, _ := w.repo.File("main", "apps/checkout/overlays/dev/kustomization.yaml")
		kust = regexp.MustCompile(`newTag: [0-9.]+`).ReplaceAllString(kust, "newTag: 1.9."+strconv.Itoa(i))
		w.repo.Commit("main", "a change by hand", map[string]string{"apps/checkout/overlays/dev/kustomization.yaml": kust})
		n := w.repo.CreateIssue("alice", "dashboard", "")
		payload := w.repo.IssueCommentPayload(w.repo.AddComment(n, "alice", "/dashboard"))
		w.GH.ResetLog()
		b.StartTimer()
		w.Send(b, "issue_comment", payload)
		w.Quiet(b)
		b.StopTimer()
		time.Sleep(100 * time.Millisecond) // the fake logs a request just after answering it
		for _, r := range w.GH.Requests() {
			if !strings.HasSuffix(r.Path, "/access_tokens") {
				requests++
			}
		}
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

// An issue opened from the dashboard's issue form asks for /dashboard.
func TestDashboardIssueForm(t *testing.T) {
	w := newWorld(t)
	n := w.repo.CreateIssue("alice", "[daytwo] dashboard", "### Reason\r\n\r\n_No response_\r\n", "daytwo", "action/dashboard")
	w.Send(t, "issues", w.repo.IssuesOpenedPayload(n))
	w.Quiet(t)
	d := w.dashboardIssue(t)
	if st := w.status(t, n); !strings.Contains(st, "/issues/"+itoa(d.Number)) {
		t.Errorf("status:\n%s", st)
	}
}
