package ops_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// fakeClock is daytwo's clock in the time-boxed tests: the real time (the test GitHub
// stamps merges with it) moved forward by what the test advanced.
type fakeClock struct{ ahead atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *fakeClock) advance(d time.Duration) { c.ahead.Add(int64(d)) }
func timeboxWorld(t *testing.T) (*world, *fakeClock) {
	t.Helper()
	c := &fakeClock{}
	return seedWorld(t, apptest.Start(t, c.now)), c
}

// statuses are daytwo's comments on issue n, oldest first.
func (w *world) statuses(n int) []string {
	var out []string
	for _, c := range w.repo.Comments(n) {
		if c.User == w.GH.BotLogin() {
			out = append(out, c.Body)
		}
	}
	return out
}

func (w *world) expire(t *testing.T) {
	t.Helper()
	if err := w.Runner.Expire(context.Background()); err != nil {
		t.Fatalf("Expire: %v", err)
	}
	w.Quiet(t)
}

// mergeBy merges pull request number as login would and delivers the event.
func (w *world) mergeBy(t *testing.T, number int, login string) {
	t.Helper()
	w.repo.MergeAs(number, "squash", login)
	w.Send(t, "pull_request", w.repo.PullClosedPayload(number))
	w.Quiet(t)
}

func hasLabel(p githubtest.Pull, l string) bool {
	for _, x := range p.Labels {
		if x == l {
			return true
		}
	}
	return false
}

const stagingKust = "apps/checkout/overlays/staging/kustomization.yaml"

// /scale --for opens its own pull request with the trailer and the label; merged, the
// status says when it expires; when the time is up, Expire opens the pull request that
// restores the replicas, once however often it runs; merged, the first status says so, and
// the overlay is byte for byte what it was.
func TestTimeboxedScaleIsRestored(t *testing.T) {
	w, clk := timeboxWorld(t)
	orig, _ := w.repo.File("main", stagingKust)
	n := w.ask(t, "alice", "/scale 5 --for 1h --service checkout --env staging")
	pr := w.openFor(t, "daytwo/_for/staging/checkout/")
	if !hasLabel(pr, "daytwo/expires") {
		t.Errorf("labels %v", pr.Labels)
	}
	head, _ := w.repo.GetCommit(pr.HeadSHA)
	if tr := plan.ParseTrailers(head.Message); tr[plan.TrailerExpires] != "1h" {
		t.Errorf("trailers %v", tr)
	}
	if st := w.status(t, n); !strings.Contains(st, "Time-boxed: expires 1h after merge") {
		t.Errorf("status before merge:\n%s", st)
	}
	// /status lists it among the open changes of the target.
	if st := w.status(t, w.ask(t, "rita", "/status --service checkout --env staging")); !strings.Contains(st, fmt.Sprintf("#%d", pr.Number)) {
		t.Errorf("/status does not list the time-boxed PR:\n%s", st)
	}
	// A request for the same target meanwhile is not stacked onto the time-boxed change.
	other := w.ask(t, "sam", "/config set X=1 --service checkout --env staging")
	if m := w.mark(t, other); m.State != "open" || m.PR == pr.Number {
		t.Errorf("the other request went into the time-boxed PR: %+v", m)
	}
	w.repo.ClosePull(w.mark(t, other).PR, "sam")

	w.mergeBy(t, pr.Number, "alice")
	if st := w.status(t, n); !strings.Contains(st, "expires at ") || !strings.Contains(st, "(in 1h)") || !strings.Contains(st, "`/extend 1h` or `/cancel` here") {
		t.Errorf("status after merge:\n%s", st)
	}
	w.expire(t)
	if len(w.openPulls()) != 0 {
		t.Fatalf("restored before its time: %+v", w.openPulls())
	}

	clk.advance(61 * time.Minute)
	var wg sync.WaitGroup
	for range 2 { // two leaders for a moment
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Runner.Expire(context.Background()); err != nil {
				t.Errorf("Expire: %v", err)
			}
		}()
	}
	wg.Wait()
	w.Quiet(t)
	w.expire(t) // and once more later
	restore := w.openFor(t, "daytwo/staging/checkout/")
	rc, _ := w.repo.GetCommit(restore.HeadSHA)
	tr := plan.ParseTrailers(rc.Message)
	if tr[plan.TrailerRestores] != fmt.Sprintf("acme/gitops#%d", pr.Number) || tr[plan.TrailerCommand] != "/scale 2 --service checkout --env staging" || tr[plan.TrailerRequester] != "alice" {
		t.Errorf("restore trailers %v", tr)
	}
	if p, _ := w.repo.Pull(pr.Number); hasLabel(p, "daytwo/expires") {
		t.Error("the label stayed after the restore was opened")
	}
	sts := w.statuses(n)
	if len(sts) != 2 || !strings.Contains(sts[0], "restoring with `/scale 2 --service checkout --env staging`.") || !strings.Contains(sts[0], fmt.Sprintf("The restore is in #%d.", restore.Number)) {
		t.Fatalf("statuses after expiry: %q", sts)
	}
	if m, _ := githubapi.ParseStatusMark(sts[1]); m.State != "open" || m.PR != restore.Number {
		t.Errorf("the restore's status: %+v\n%s", m, sts[1])
	}

	w.mergeBy(t, restore.Number, "alice")
	if sts := w.statuses(n); !strings.Contains(sts[0], fmt.Sprintf("Restored: [PR #%d]", restore.Number)) {
		t.Errorf("after the restore merged:\n%s", sts[0])
	}
	if now, _ := w.repo.File("main", stagingKust); now != orig {
		t.Errorf("the overlay is not what it was:\n%s\n----\n%s", orig, now)
	}
	w.expire(t)
	if len(w.openPulls()) != 0 {
		t.Errorf("a second restore: %+v", w.openPulls())
	}
}

// Where the environment auto-merges, daytwo merges the time-boxed change and its restore.
func TestTimeboxedAutoMergeRestores(t *testing.T) {
	w, clk := timeboxWorld(t)
	const dev = "apps/checkout/overlays/dev/kustomization.yaml"
	orig, _ := w.repo.File("main", dev)
	n := w.ask(t, "alice", "/scale 3 --for 30m --service checkout --env dev")
	if m := w.mark(t, n); m.State != "merged" {
		t.Fatalf("not merged: %+v\n%s", m, w.status(t, n))
	}
	if st := w.status(t, n); !strings.Contains(st, "(in 30m)") {
		t.Errorf("status:\n%s", st)
	}
	clk.advance(31 * time.Minute)
	w.expire(t)
	sts := w.statuses(n)
	if len(sts) != 2 {
		t.Fatalf("statuses: %q", sts)
	}
	if m, _ := githubapi.ParseStatusMark(sts[1]); m.State != "merged" {
		t.Errorf("the restore did not merge: %+v\n%s", m, sts[1])
	}
	if !strings.Contains(sts[0], "Restored: [PR #") {
		t.Errorf("the change's status:\n%s", sts[0])
	}
	if now, _ := w.repo.File("main", dev); now != orig {
		t.Errorf("dev is not what it was:\n%s", now)
	}
}

// The leader reads every page of an installation's repositories: a GitOps repository
// listed after a hundred others is still restored.
func TestTimeboxedRestoredBeyondTheFirstPage(t *testing.T) {
	clk := &fakeClock{}
	a := apptest.Start(t, clk.now)
	for i := range 120 {
		a.GH.CreateRepo("acme", fmt.Sprintf("other-%03d", i)) // listed before acme/gitops
	}
	w := seedWorld(t, a)
	const dev = "apps/checkout/overlays/dev/kustomization.yaml"
	orig, _ := w.repo.File("main", dev)
	n := w.ask(t, "alice", "/scale 3 --for 30m --service checkout --env dev")
	clk.advance(31 * time.Minute)
	w.expire(t)
	if st := w.statuses(n); len(st) != 2 || !strings.Contains(st[0], "Restored: [PR #") {
		t.Fatalf("not restored: %q", st)
	}
	if now, _ := w.repo.File("main", dev); now != orig {
		t.Errorf("dev is not what it was:\n%s", now)
	}
}

// A later change of the same field supersedes the time-boxed one: nothing is restored,
// and the thread is told by which commit.
func TestTimeboxedSuperseded(t *testing.T) {
	w, clk := timeboxWorld(t)
	n := w.ask(t, "alice", "/scale 5 --for 1h --service checkout --env staging")
	w.mergeBy(t, w.openFor(t, "daytwo/_for/staging/checkout/").Number, "alice")
	later := w.ask(t, "sam", "/scale 4 --service checkout --env staging")
	w.mergeBy(t, w.mark(t, later).PR, "sam")
	clk.advance(2 * time.Hour)
	w.expire(t)
	if len(w.openPulls()) != 0 {
		t.Fatalf("restored a superseded change: %+v", w.openPulls())
	}
	if st := w.status(t, n); !strings.Contains(st, "superseded by `") || !strings.Contains(st, "nothing restored") {
		t.Errorf("status:\n%s", st)
	}

	// A person's own commit changing the field supersedes it too.
	n = w.ask(t, "alice", "/scale 5 --for 1h --service catalog --env staging")
	w.mergeBy(t, w.openFor(t, "daytwo/_for/staging/catalog/").Number, "alice")
	const k = "apps/catalog/overlays/staging/kustomization.yaml"
	kust, _ := w.repo.File("main", k)
	w.repo.Commit("main", "catalog: 6 replicas for the sale", map[string]string{k: strings.Replace(kust, "count: 5", "count: 6", 1)})
	clk.advance(2 * time.Hour)
	w.expire(t)
	if st := w.status(t, n); !strings.Contains(st, "catalog: 6 replicas for the sale") || len(w.openPulls()) != 0 {
		t.Errorf("status:\n%s\nopen: %+v", st, w.openPulls())
	}
}

// /extend postpones the expiry, before and after the merge; a restarted daytwo (a new
// runner on the same GitHub) finds the expiry and its extensions.
func TestTimeboxedExtend(t *testing.T) {
	w, clk := timeboxWorld(t)
	n := w.ask(t, "alice", "/scale 5 --for 1h --service checkout --env staging")
	pr := w.openFor(t, "daytwo/_for/staging/checkout/")
	w.comment(t, n, "sam", "/extend 30m")
	if sts := w.statuses(n); len(sts) != 2 || !strings.Contains(sts[1], "extended the expiry by 30m: it expires 1h30m after merge") {
		t.Fatalf("before merge: %q", sts)
	}
	w.mergeBy(t, pr.Number, "alice")
	if sts := w.statuses(n); !strings.Contains(sts[0], "(in 1h30m)") {
		t.Errorf("after merge:\n%s", sts[0])
	}
	// On the merged pull request itself this time: the record is kept there.
	w.comment(t, pr.Number, "alice", "/extend 1h")
	if sts := w.statuses(pr.Number); len(sts) != 1 || !strings.Contains(sts[0], "(in 2h30m)") {
		t.Fatalf("on the PR: %q", sts)
	}
	if sts := w.statuses(n); len(sts) != 2 || !strings.Contains(sts[0], "@alice extended the expiry by 1h: it expires at ") {
		t.Fatalf("in the asking thread: %q", sts)
	}
	w.Restart(t)
	clk.advance(2 * time.Hour)
	w.expire(t)
	if len(w.openPulls()) != 0 {
		t.Fatalf("restored before the extended time: %+v", w.openPulls())
	}
	clk.advance(31 * time.Minute)
	w.expire(t)
	w.openFor(t, "daytwo/staging/checkout/")
}

// /cancel after the merge cancels the expiry and keeps the change; before, it closes the
// pull request, which then has no expiry either.
func TestTimeboxedCancel(t *testing.T) {
	w, clk := timeboxWorld(t)
	early := w.ask(t, "alice", "/scale 4 --for 1h --service catalog --env staging")
	open := w.openFor(t, "daytwo/_for/staging/catalog/")
	w.comment(t, early, "alice", "/cancel")
	if p, _ := w.repo.Pull(open.Number); p.State != "closed" || hasLabel(p, "daytwo/expires") {
		t.Errorf("cancelled before merge: %+v", p)
	}

	n := w.ask(t, "alice", "/suspend --for 2h --service checkout --env staging")
	pr := w.openFor(t, "daytwo/_for/staging/checkout/")
	w.mergeBy(t, pr.Number, "alice")
	w.comment(t, n, "alice", "/cancel")
	sts := w.statuses(n)
	if len(sts) != 2 || !strings.Contains(sts[1], fmt.Sprintf("Cancelled the expiry of #%d", pr.Number)) || !strings.Contains(sts[0], "cancelled the expiry: the change stays") {
		t.Fatalf("statuses: %q", sts)
	}
	if p, _ := w.repo.Pull(pr.Number); hasLabel(p, "daytwo/expires") {
		t.Error("the label stayed")
	}
	clk.advance(3 * time.Hour)
	w.expire(t)
	if len(w.openPulls()) != 0 {
		t.Errorf("restored a cancelled expiry: %+v", w.openPulls())
	}
}

// /config set of a key absent before is restored by unsetting it; /freeze --for by
// /unfreeze.
func TestTimeboxedConfigAndFreeze(t *testing.T) {
	w, clk := timeboxWorld(t)
	orig, _ := w.repo.File("main", stagingKust)
	n := w.ask(t, "alice", "/config set NEW_FLAG=on FEATURE_EXPRESS_CHECKOUT=false --for 1h --service checkout --env staging")
	w.mergeBy(t, w.openFor(t, "daytwo/_for/staging/checkout/").Number, "alice")
	clk.advance(61 * time.Minute)
	w.expire(t)
	restore := w.openFor(t, "daytwo/staging/checkout/")
	w.mergeBy(t, restore.Number, "alice")
	if sts := w.statuses(n); len(sts) != 3 || !strings.Contains(sts[0], "`/config set FEATURE_EXPRESS_CHECKOUT=true --service checkout --env staging` and `/config unset NEW_FLAG --service checkout --env staging`.") {
		t.Fatalf("statuses: %q", sts)
	}
	if now, _ := w.repo.File("main", stagingKust); now != orig {
		t.Errorf("the overlay is not what it was:\n%s\n----\n%s", orig, now)
	}

	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	f := w.ask(t, "mo", "/freeze prod --for 2h --reason deploy window")
	w.mergeBy(t, w.openFor(t, "daytwo/_for/prod/").Number, "mo")
	clk.advance(121 * time.Minute)
	w.expire(t)
	unfreeze := w.openFor(t, "daytwo/prod/")
	uc, _ := w.repo.GetCommit(unfreeze.HeadSHA)
	if tr := plan.ParseTrailers(uc.Message); tr[plan.TrailerAction] != "unfreeze" {
		t.Errorf("restore of a freeze: %v", tr)
	}
	w.mergeBy(t, unfreeze.Number, "mo")
	if now, _ := w.repo.File("main", ".github/daytwo.yml"); now != cfg {
		t.Errorf("the config is not what it was:\n%s", now)
	}
	if sts := w.statuses(f); !strings.Contains(sts[0], "Restored: [PR #") {
		t.Errorf("freeze status:\n%s", sts[0])
	}
}

// Refusals of --for and /extend, as the asker reads them.
func TestTimeboxedRefusals(t *testing.T) {
	w, _ := timeboxWorld(t)
	w.golden(t, "for-out-of-range", w.ask(t, "alice", "/scale 5 --for 100d --service checkout --env staging"), "alice")
	w.golden(t, "for-not-timeboxed", w.ask(t, "alice", "/restart --for 1h --service checkout --env staging"), "alice")
	w.golden(t, "extend-nothing-pending", w.ask(t, "alice", "/extend 1h"), "alice")
	s := w.ask(t, "sam", "/scale 5 --for 1h --service checkout --env prod")
	w.comment(t, s, "alice", "/extend 1h") // alice may not /scale in prod: only acme/sre
	sts := w.statuses(s)
	if len(sts) != 2 {
		t.Fatalf("statuses: %q", sts)
	}
	if m, _ := githubapi.ParseStatusMark(sts[1]); m.State != "refused" {
		t.Errorf("/extend by someone not allowed: %+v\n%s", m, sts[1])
	}
	st := strings.ReplaceAll(sts[1], w.GH.URL(), "https://github.test")
	st = attemptRE.ReplaceAllString(st, `"$1":"…"`)
	mdtest.Golden(t, filepath.Join("testdata", "status", "extend-not-allowed.md"), st, *update)
	mdtest.Policy{Mentions: []string{"alice", "acme/sre"}, Comments: true}.AssertSafe(t, st) // the rule names the team, as every refusal by policy does
}

// Through the whole server: real webhooks, and the leader's own loop (every 50ms here)
// restoring a one-minute change once the clock has moved past it.
func TestTimeboxedLeaderLoop(t *testing.T) {
	c := &fakeClock{}
	w := seedWorld(t, apptest.StartExpiring(t, c.now, 50*time.Millisecond))
	const dev = "apps/checkout/overlays/dev/kustomization.yaml"
	orig, _ := w.repo.File("main", dev)
	n := w.ask(t, "alice", "/scale 2 --for 1m --service checkout --env dev")
	if m := w.mark(t, n); m.State != "merged" {
		t.Fatalf("not merged: %+v", m)
	}
	time.Sleep(200 * time.Millisecond) // a few rounds of the loop: not due yet
	if got := len(w.statuses(n)); got != 1 {
		t.Fatalf("restored before its time: %q", w.statuses(n))
	}
	c.advance(time.Minute)
	apptest.Eventually(t, "the restore merged", func() bool {
		sts := w.statuses(n)
		return len(sts) == 2 && strings.Contains(sts[0], "Restored: [PR #")
	})
	w.Quiet(t)
	if now, _ := w.repo.File("main", dev); now != orig {
		t.Errorf("dev is not what it was:\n%s", now)
	}
	if got := len(w.repo.Pulls()); got != 2 {
		t.Errorf("%d pull requests, want the change and its restore", got)
	}
}

// --dry-run of a time-boxed change says when it would expire and what it would restore.
func TestTimeboxedDryRun(t *testing.T) {
	w, _ := timeboxWorld(t)
	n := w.ask(t, "alice", "/scale 5 --for 2h --dry-run --service checkout --env staging")
	st := w.status(t, n)
	if !strings.Contains(st, "⏳ Time-boxed: expires 2h after merge; daytwo then restores what is there now with `/scale 2 --service checkout --env staging`.") || !strings.Contains(st, "Dry run") {
		t.Errorf("status:\n%s", st)
	}
	if len(w.repo.Pulls()) != 0 {
		t.Error("a dry run opened a pull request")
	}
}

// A freeze of the environment holds the restore back, saying so once; after /unfreeze the
// next round restores.
func TestTimeboxedWaitsForUnfreeze(t *testing.T) {
	w, clk := timeboxWorld(t)
	n := w.ask(t, "alice", "/scale 5 --for 1h --service checkout --env staging")
	w.mergeBy(t, w.openFor(t, "daytwo/_for/staging/checkout/").Number, "alice")
	f := w.ask(t, "mo", "/freeze staging --reason load test")
	w.mergeBy(t, w.mark(t, f).PR, "mo")
	clk.advance(61 * time.Minute)
	w.expire(t)
	w.expire(t)
	if st := w.status(t, n); strings.Count(st, "restoring once it is unfrozen") != 1 || len(w.openPulls()) != 0 {
		t.Fatalf("while frozen:\n%s\nopen: %+v", st, w.openPulls())
	}
	u := w.ask(t, "mo", "/unfreeze staging")
	w.mergeBy(t, w.mark(t, u).PR, "mo")
	w.expire(t)
	w.openFor(t, "daytwo/staging/checkout/")
}

// BenchmarkExpireRestore is the leader's round that finds a time-boxed change due and
// restores it (dev auto-merges: the restore is merged too), at 150 ms per GitHub request.
func BenchmarkExpireRestore(b *testing.B) {
	clk := &fakeClock{}
	w := seedWorld(b, apptest.Start(b, clk.now, githubtest.WithLatency(150*time.Millisecond)))
	requests := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		n := w.repo.CreateIssue("alice", "for a while", "")
		w.Send(b, "issue_comment", w.repo.IssueCommentPayload(w.repo.AddComment(n, "alice", fmt.Sprintf("/scale %d --for 30m --service checkout --env dev", 2+i%2))))
		w.Quiet(b)
		clk.advance(31 * time.Minute)
		w.GH.ResetLog()
		b.StartTimer()
		if err := w.Runner.Expire(context.Background()); err != nil {
			b.Fatal(err)
		}
		w.Quiet(b)
		b.StopTimer()
		time.Sleep(100 * time.Millisecond) // the fake logs a request just after answering it
		for _, r := range w.GH.Requests() {
			if !strings.HasSuffix(r.Path, "/access_tokens") {
				requests++
			}
		}
		if sts := w.statuses(n); len(sts) != 2 {
			b.Fatalf("not restored: %q", sts)
		}
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

// /suspend --for comes back byte for byte: with nothing else changed in the overlay since,
// the restore brings back its files as they were before, the patch /suspend wrote gone.
func TestTimeboxedSuspendRestoresTheFiles(t *testing.T) {
	w, clk := timeboxWorld(t)
	const dir = "apps/checkout/overlays/dev/"
	overlay := func() map[string]string {
		out := map[string]string{}
		for p, c := range w.repo.Files("main") {
			if strings.HasPrefix(p, dir) {
				out[p] = c
			}
		}
		return out
	}
	before := overlay()
	n := w.ask(t, "alice", "/suspend --for 1h --service checkout --env dev") // dev merges at once
	if m := w.mark(t, n); m.State != "merged" {
		t.Fatalf("not merged: %+v\n%s", m, w.status(t, n))
	}
	if reflect.DeepEqual(overlay(), before) {
		t.Fatal("the suspend changed nothing")
	}
	clk.advance(61 * time.Minute)
	w.expire(t)
	sts := w.statuses(n)
	if len(sts) != 2 || !strings.Contains(sts[1], "/rollback --to ") {
		t.Fatalf("statuses: %q", sts)
	}
	if m, _ := githubapi.ParseStatusMark(sts[1]); m.State != "merged" {
		t.Fatalf("the restore did not merge: %+v\n%s", m, sts[1])
	}
	if after := overlay(); !reflect.DeepEqual(after, before) {
		t.Errorf("the overlay is not what it was:\nbefore %v\nafter  %v", before, after)
	}
}
