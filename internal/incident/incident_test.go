package incident_test

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/incident"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// clock is a fake clock the tests move by hand.
type clock struct{ now time.Time }

func (c *clock) after(d time.Duration) time.Time { c.now = c.now.Add(d); return c.now }

func degraded(at time.Time) incident.Observation {
	return incident.Observation{App: "checkout-prod", Health: "Degraded", Sync: "Synced", Revision: "abc1234", At: at,
		Resources: []incident.Resource{{Kind: "Deployment", Namespace: "shop", Name: "checkout", Health: "Degraded", Message: "progress deadline exceeded"}}}
}

func healthy(at time.Time) incident.Observation {
	return incident.Observation{App: "checkout-prod", Health: "Healthy", Sync: "Synced", Revision: "def5678", At: at}
}

func kinds(ds []incident.Decision) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Kind.String()+" "+d.App)
	}
	return strings.Join(out, ", ")
}

// step observes o, asks what is due and confirms it all, as the watcher does.
func step(tr *incident.Tracker, now time.Time, obs ...incident.Observation) []incident.Decision {
	for _, o := range obs {
		tr.Observe(o)
	}
	ds := tr.Due(now)
	for _, d := range ds {
		tr.Done(d, now)
	}
	return ds
}

func TestGraceBeforeOpening(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: 5 * time.Minute, Settle: time.Minute}
	if ds := step(tr, c.now, degraded(c.now)); len(ds) != 0 {
		t.Fatalf("nothing is due within the grace: %s", kinds(ds))
	}
	if ds := step(tr, c.after(4*time.Minute+59*time.Second)); len(ds) != 0 {
		t.Fatalf("still within the grace: %s", kinds(ds))
	}
	ds := step(tr, c.after(time.Second))
	if kinds(ds) != "open checkout-prod" || !ds[0].Since.Equal(t0) || ds[0].State.Health != "Degraded" {
		t.Fatalf("after the grace: %+v", ds)
	}
	if ds := step(tr, c.after(time.Minute), degraded(c.now)); len(ds) != 0 {
		t.Fatalf("the same state again is no update: %s", kinds(ds))
	}
}

func TestRecoveryWithinGraceOpensNothing(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: 5 * time.Minute}
	step(tr, c.now, degraded(c.now))
	step(tr, c.after(3*time.Minute), healthy(c.now))
	step(tr, c.after(3*time.Minute), degraded(c.now))
	if ds := step(tr, c.after(4*time.Minute)); len(ds) != 0 {
		t.Fatalf("the grace starts again after a recovery: %s", kinds(ds))
	}
	if ds := step(tr, c.after(time.Minute)); kinds(ds) != "open checkout-prod" || !ds[0].Since.Equal(t0.Add(6*time.Minute)) {
		t.Fatalf("%+v", ds)
	}
}

func TestProgressingNeitherOpensNorCloses(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: time.Minute, Settle: time.Minute}
	p := healthy(c.now)
	p.Health = "Progressing"
	if ds := step(tr, c.after(10*time.Minute), p); len(ds) != 0 {
		t.Fatalf("Progressing is no incident: %s", kinds(ds))
	}
	step(tr, c.now, degraded(c.now))
	step(tr, c.after(time.Minute))
	p.At = c.now
	if ds := step(tr, c.after(10*time.Minute), p); len(ds) != 0 {
		t.Fatalf("Progressing is no recovery: %s", kinds(ds))
	}
}

func TestOutOfSyncAndMissingAreTrouble(t *testing.T) {
	for _, o := range []incident.Observation{
		{App: "a", Health: "Healthy", Sync: "OutOfSync"},
		{App: "a", Health: "Missing", Sync: "Synced"},
	} {
		c := &clock{now: t0}
		tr := &incident.Tracker{Grace: time.Minute}
		o.At = c.now
		step(tr, c.now, o)
		if ds := step(tr, c.after(time.Minute)); kinds(ds) != "open a" {
			t.Errorf("%+v: %s", o, kinds(ds))
		}
	}
}

func TestOutOfSyncWhileSyncingIsNoTrouble(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: time.Minute}
	step(tr, c.now, incident.Observation{App: "a", Health: "Progressing", Sync: "OutOfSync", Syncing: true, At: c.now})
	if ds := step(tr, c.after(10*time.Minute)); len(ds) != 0 {
		t.Fatalf("a sync under way: %s", kinds(ds))
	}
	step(tr, c.now, incident.Observation{App: "a", Health: "Degraded", Sync: "OutOfSync", Syncing: true, At: c.now})
	if ds := step(tr, c.after(time.Minute)); kinds(ds) != "open a" {
		t.Fatalf("Degraded is trouble, syncing or not: %s", kinds(ds))
	}
}

func TestUpdatesAreDebounced(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: time.Minute, Debounce: 30 * time.Second}
	step(tr, c.now, degraded(c.now))
	step(tr, c.after(time.Minute))
	worse := degraded(c.now)
	worse.Resources = append(worse.Resources, incident.Resource{Kind: "Pod", Name: "checkout-1", Health: "Degraded", Message: "ImagePullBackOff"})
	if ds := step(tr, c.after(10*time.Second), worse); len(ds) != 0 {
		t.Fatalf("within the debounce: %s", kinds(ds))
	}
	if ds := step(tr, c.after(20*time.Second)); kinds(ds) != "update checkout-prod" || len(ds[0].State.Resources) != 2 {
		t.Fatalf("after the debounce: %+v", ds)
	}
	if ds := step(tr, c.after(time.Minute), worse); len(ds) != 0 {
		t.Fatalf("nothing new: %s", kinds(ds))
	}
}

func TestFlappingKeepsOneIssueAndCloseWaitsForTheSettle(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: time.Minute, Settle: 2 * time.Minute, Debounce: time.Second}
	step(tr, c.now, degraded(c.now))
	if ds := step(tr, c.after(time.Minute)); kinds(ds) != "open checkout-prod" {
		t.Fatal(kinds(ds))
	}
	opens := 1
	for range 5 { // healthy for less than the settle time, then Degraded again
		for _, d := range step(tr, c.after(30*time.Second), healthy(c.now)) {
			t.Fatalf("a short recovery closes nothing: %s", d.Kind)
		}
		for _, d := range step(tr, c.after(90*time.Second), degraded(c.now)) {
			if d.Kind == incident.Open {
				opens++
			}
		}
	}
	if opens != 1 || !tr.Open("checkout-prod") {
		t.Fatalf("a flapping app has one issue: %d opened", opens)
	}
	back := c.after(10 * time.Second)
	step(tr, back, healthy(back))
	if ds := step(tr, c.after(time.Minute+59*time.Second)); len(ds) != 0 {
		t.Fatalf("before the settle time: %s", kinds(ds))
	}
	ds := step(tr, c.after(time.Second))
	if kinds(ds) != "close checkout-prod" || !ds[0].Since.Equal(t0) || !ds[0].Until.Equal(back) || ds[0].Lasted() != back.Sub(t0) {
		t.Fatalf("after the settle time: %+v", ds)
	}
	if tr.Open("checkout-prod") {
		t.Error("closed")
	}
}

func TestUnconfirmedDecisionComesAgain(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: time.Minute}
	tr.Observe(degraded(c.now))
	c.after(time.Minute)
	if kinds(tr.Due(c.now)) != "open checkout-prod" || kinds(tr.Due(c.after(time.Second))) != "open checkout-prod" {
		t.Fatal("an open that failed (GitHub down) is asked again")
	}
}

func TestHoldWhileAChangeIsInFlight(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: time.Minute}
	step(tr, c.now, degraded(c.now))
	c.after(time.Minute)
	tr.Hold("checkout-prod", c.now.Add(30*time.Second))
	if ds := tr.Due(c.now); len(ds) != 0 {
		t.Fatalf("held: %s", kinds(ds))
	}
	if ds := tr.Due(c.after(30 * time.Second)); kinds(ds) != "open checkout-prod" {
		t.Fatalf("after the hold: %s", kinds(ds))
	}
}

func TestArgoCDsTimeDatesTheTrouble(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: 5 * time.Minute}
	o := degraded(c.now)
	o.Since = t0.Add(-time.Hour) // Degraded before this process started watching
	if ds := step(tr, c.now, o); kinds(ds) != "open checkout-prod" || !ds[0].Since.Equal(o.Since) {
		t.Fatalf("%+v", ds)
	}
}

func TestAdoptedIssueIsUpdatedAndClosedNeverOpened(t *testing.T) {
	c := &clock{now: t0}
	tr := &incident.Tracker{Grace: time.Minute, Settle: time.Minute, Debounce: time.Second}
	tr.Observe(healthy(c.now))
	tr.Adopt("checkout-prod", t0.Add(-time.Hour))
	ds := step(tr, c.after(time.Minute))
	if kinds(ds) != "close checkout-prod" || !ds[0].Since.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("an adopted issue of a healthy app is closed after the settle: %+v", ds)
	}

	tr = &incident.Tracker{Grace: time.Minute, Debounce: time.Second}
	tr.Observe(degraded(c.now))
	tr.Adopt("checkout-prod", c.now)
	if ds := step(tr, c.after(time.Minute)); kinds(ds) != "update checkout-prod" {
		t.Fatalf("an adopted issue is updated, not opened again: %s", kinds(ds))
	}
}

// hostile is what Argo CD may relay from a cluster: anyone can name a resource or make a
// controller's message say this.
const hostile = `@octocat <img src=x onerror=alert(1)> **fixed** see #1 [x](javascript:alert(1))`

func report() incident.Report {
	o := degraded(t0)
	o.Revision = "0123456789abcdef0123456789abcdef01234567"
	o.Message = "one or more objects failed to apply: " + hostile
	o.Resources = append(o.Resources, incident.Resource{Kind: "Pod", Namespace: "shop", Name: "checkout-7c9|x", Health: "Degraded", Message: hostile})
	return incident.Report{
		Service: "checkout", Env: "prod", App: "checkout-prod",
		Since: t0, Now: t0.Add(7 * time.Minute), State: o,
		RepoURL: "https://github.com/acme/gitops",
		Owner:   "group:default/payments", Team: "acme/payments",
		Changes: []incident.Change{
			{When: t0.Add(-12 * time.Minute), SHA: "89abcdef0123456789abcdef0123456789abcdef", Command: "/set-image 2.4.0 --env prod", Requester: "alice", PR: 42},
			{When: t0.Add(-48 * time.Hour), SHA: "fedcba9876543210fedcba9876543210fedcba98", Command: "/scale 3 --env prod", Requester: "bob"},
			{When: t0.Add(-72 * time.Hour), SHA: "0000000000000000000000000000000000000001", Subject: "bump checkout by hand " + hostile},
		},
	}
}

func TestBodyGolden(t *testing.T) {
	r := report()
	body := incident.Body(r)
	mdtest.Golden(t, filepath.Join("testdata", "body.md"), body, *update)
	mdtest.Policy{Mentions: []string{"acme/payments"}, Comments: true}.AssertSafe(t, body, hostile)
	for _, want := range []string{"**likely cause**: 12m before", "Synced** at [`0123456`](https://github.com/acme/gitops/commit/0123456789abcdef0123456789abcdef01234567)", "team @acme/payments", "since 2026-12-07 09:00 UTC (7m)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the body lacks %q", want)
		}
	}
	if s, e, a, ok := incident.ParseMark(body); !ok || s != "checkout" || e != "prod" || a != "checkout-prod" {
		t.Errorf("mark: %q %q %q %v", s, e, a, ok)
	}
	if strings.Count(body, "likely cause") != 1 {
		t.Error("one change is the likely cause")
	}

	// No team that exists: the owner is named, nobody is mentioned.
	r.Team = ""
	r.Changes[0].When = t0.Add(-2 * time.Hour) // too long before to be the likely cause
	body = incident.Body(r)
	if !strings.Contains(body, "a commit not made through daytwo, [`0000000`]") {
		t.Errorf("the commit by hand is listed:\n%s", body)
	}
	mdtest.Policy{Comments: true}.AssertSafe(t, body, hostile)
	if strings.Contains(body, "likely cause") || !strings.Contains(body, "`group:default/payments` (catalog-info).") {
		t.Errorf("without a team or a recent change:\n%s", body)
	}
}

func TestBodyWithSummaryAndNoChanges(t *testing.T) {
	r := report()
	r.Changes, r.Owner, r.Team = nil, "", ""
	r.Summary = "The new image does not start; " + hostile
	body := incident.Body(r)
	mdtest.Golden(t, filepath.Join("testdata", "body-summary.md"), body, *update)
	mdtest.Policy{Comments: true}.AssertSafe(t, body, hostile)
	if !strings.Contains(body, "### Summary") || !strings.Contains(body, "No commit changed the overlay") {
		t.Errorf("%s", body)
	}
}

func TestClosingGolden(t *testing.T) {
	r := report()
	r.State = healthy(t0.Add(40 * time.Minute))
	r.App = "checkout-prod " + hostile // as if Argo CD named it so
	c := incident.Closing(r, t0.Add(42*time.Minute+10*time.Second))
	mdtest.Golden(t, filepath.Join("testdata", "closing.md"), c, *update)
	mdtest.AssertSafe(t, c, hostile)
	if !strings.Contains(c, "lasted 42m") {
		t.Errorf("duration: %s", c)
	}
}

func TestFactsAreTheBodysFacts(t *testing.T) {
	facts := report().Facts()
	var titles []string
	for _, f := range facts {
		titles = append(titles, f.Title)
	}
	if strings.Join(titles, ", ") != "What is wrong, Since, Owner, Last changes to the overlay" {
		t.Fatalf("titles: %v", titles)
	}
	if l := facts[3].Lines[0]; !strings.HasSuffix(l, "likely cause") || !strings.Contains(l, "/set-image 2.4.0") {
		t.Errorf("changes: %q", l)
	}
	if l := facts[3].Lines[2]; !strings.HasPrefix(l, "2026-12-04 09:00 UTC a commit not made through daytwo: bump checkout by hand") {
		t.Errorf("a commit by hand: %q", l)
	}
	if l := facts[0].Lines[0]; l != "Argo CD application checkout-prod: health Degraded, sync status Synced at revision 0123456" {
		t.Errorf("what is wrong: %q", l)
	}
}

func TestRepliesParse(t *testing.T) {
	reg := command.All()
	body := incident.Body(report())
	for _, rep := range incident.Replies {
		cmd, err := reg.ParseLine(rep.Command)
		if err != nil {
			t.Errorf("%s: %v", rep.Command, err)
			continue
		}
		if "/"+cmd.Name != rep.Command {
			t.Errorf("%s parsed as %s", rep.Command, cmd.Name)
		}
		if !strings.Contains(body, "`"+rep.Command+"`") {
			t.Errorf("the body does not offer %s", rep.Command)
		}
	}
}

func TestTitleAndLabels(t *testing.T) {
	r := report()
	if got := incident.Title(r); got != "Incident: checkout in prod is Degraded" {
		t.Errorf("title %q", got)
	}
	r.State.Sync = "OutOfSync"
	if got := incident.Title(r); got != "Incident: checkout in prod is Degraded and OutOfSync" {
		t.Errorf("title %q", got)
	}
	if got := strings.Join(incident.Labels("checkout", "prod"), ","); got != "daytwo,incident,service/checkout,env/prod" {
		t.Errorf("labels %q", got)
	}
}
