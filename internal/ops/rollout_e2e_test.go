package ops_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

const argoToken = "daytwo-argocd-token"

// argoWorld is the example GitOps repo on the test GitHub, a fake Argo CD holding an
// Application per service and environment, and daytwo configured with both.
type argoWorld struct {
	*world
	argo *argoapitest.Server
	// lag makes Argo CD's next refreshes find the commit before the head, as a git server
	// replica that has not caught up would answer.
	lag atomic.Int32
}

func newArgoWorld(t testing.TB, opts ...apptest.Option) *argoWorld {
	t.Helper()
	var w *world
	aw := &argoWorld{}
	head := func() string {
		sha, _ := w.repo.BranchSHA("main")
		if aw.lag.Load() > 0 {
			aw.lag.Add(-1)
			if c, ok := w.repo.GetCommit(sha); ok && len(c.Parents) > 0 {
				return c.Parents[0]
			}
		}
		return sha
	}
	argo := argoapitest.New(t, argoToken, func() string {
		if w == nil {
			return ""
		}
		return head()
	})
	a := apptest.StartWithEnv(t, clock, map[string]string{"DAYTWO_ARGOCD_SERVER": argo.Addr(), "DAYTWO_ARGOCD_TOKEN": argoToken, "DAYTWO_ARGOCD_PLAINTEXT": "true"}, opts...)
	w = seedWorld(t, a)
	for _, svc := range []string{"checkout", "catalog", "payments"} {
		for _, env := range []string{"dev", "staging", "prod"} {
			argo.AddApp(svc+"-"+env, env != "prod")
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Argo CD calls: %+v", argo.Calls())
		}
	})
	aw.world, aw.argo = w, argo
	return aw
}

// rolloutChecks are the daytwo/rollout check runs on a commit.
func (w *argoWorld) rolloutChecks(sha string) []githubtest.CheckRun {
	var out []githubtest.CheckRun
	for _, c := range w.repo.CheckRuns(sha) {
		if c.Name == "daytwo/rollout" {
			out = append(out, c)
		}
	}
	return out
}

func (w *argoWorld) mergedPull(t testing.TB) githubtest.Pull {
	t.Helper()
	for _, p := range w.repo.Pulls() {
		if p.Merged {
			return p
		}
	}
	t.Fatal("no merged PR")
	return githubtest.Pull{}
}

func TestRolloutReportedAfterAutoMerge(t *testing.T) {
	w := newArgoWorld(t)
	n := w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev")
	w.Runner.WaitRollouts()

	pr := w.mergedPull(t)
	st := w.status(t, n)
	for _, want := range []string{"merged by daytwo", "Asked Argo CD to refresh `checkout-dev`", "Synced at `" + pr.MergeCommitSHA[:7] + "`", "checkout-dev is Healthy in", "Rolled out."} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	if runs := w.rolloutChecks(pr.MergeCommitSHA); len(runs) != 1 || runs[0].Conclusion != "success" {
		t.Errorf("rollout check on the merge commit: %+v", runs)
	}
	if is, _ := w.repo.Issue(n); is.State != "closed" {
		t.Error("a healthy rollout closes the asking issue")
	}
	if p, _ := w.repo.Pull(pr.Number); strings.Contains(strings.Join(p.Labels, ","), "daytwo/rolling-out") {
		t.Error("the rollout mark stayed on the PR")
	}
	var refreshed, synced bool
	for _, c := range w.argo.Calls() {
		refreshed = refreshed || c.Method == "Refresh" && c.App == "checkout-dev"
		synced = synced || c.Method == "Sync"
	}
	if !refreshed || synced {
		t.Errorf("dev auto-syncs: want a refresh and no sync; calls %+v", w.argo.Calls())
	}
}

func TestRolloutSyncsWhereThePolicySays(t *testing.T) {
	w := newArgoWorld(t)
	w.GH.AddTeamMember("acme", "sre", "sam", "member", "active")
	n := w.ask(t, "sam", "/scale 4 --service checkout --env prod")
	open := w.openPulls()
	if len(open) != 1 {
		t.Fatalf("want one PR:\n%s", w.status(t, n))
	}
	// A person merges; the pull_request event tells daytwo.
	w.repo.Merge(open[0].Number, "squash")
	w.Send(t, "pull_request", w.repo.PullClosedPayload(open[0].Number))
	w.Quiet(t)
	w.Runner.WaitRollouts()
	pr, _ := w.repo.Pull(open[0].Number)
	var syncedTo string
	for _, c := range w.argo.Calls() {
		if c.Method == "Sync" && c.App == "checkout-prod" {
			syncedTo = c.Revision
		}
	}
	if syncedTo != pr.MergeCommitSHA {
		t.Fatalf("prod has argocd.sync and a manual-sync app: want a sync to %s, got %q", pr.MergeCommitSHA, syncedTo)
	}
	if st := w.status(t, n); !strings.Contains(st, "and sync it") || !strings.Contains(st, "checkout-prod is Healthy") {
		t.Errorf("status:\n%s", st)
	}
}

func TestDegradedRolloutOffersRollback(t *testing.T) {
	w := newArgoWorld(t)
	w.argo.SetScript("checkout-dev", argoapitest.Degraded(10*time.Millisecond, argoapitest.Resource{
		Kind: "Deployment", Namespace: "checkout-dev", Name: "checkout", Health: "Degraded",
		Message: `Deployment "checkout" exceeded its progress deadline`,
	})...)
	n := w.ask(t, "alice", "/set-image 9.9.9-broken --service checkout --env dev")
	w.Runner.WaitRollouts()
	pr := w.mergedPull(t)
	st := w.status(t, n)
	for _, want := range []string{"checkout-dev is Degraded", "`checkout-dev/Deployment/checkout` Degraded: Deployment \"checkout\" exceeded its progress deadline", "/rollback --service checkout --env dev"} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	if runs := w.rolloutChecks(pr.MergeCommitSHA); len(runs) != 1 || runs[0].Conclusion != "failure" {
		t.Errorf("rollout check: %+v", runs)
	}
	if is, _ := w.repo.Issue(n); is.State != "open" {
		t.Error("a degraded rollout leaves the request open")
	}

	// The offered command, replied as is, rolls back and the rollback rolls out healthy.
	w.argo.SetScript("checkout-dev", argoapitest.Healthy(10*time.Millisecond)...)
	w.comment(t, n, "alice", "/rollback --service checkout --env dev")
	w.Runner.WaitRollouts()
	kust, _ := w.repo.File("main", "apps/checkout/overlays/dev/kustomization.yaml")
	if strings.Contains(kust, "9.9.9-broken") {
		t.Fatalf("the rollback did not restore the image:\n%s", kust)
	}
	if is, _ := w.repo.Issue(n); is.State != "closed" {
		t.Errorf("the healthy rollback closes the request:\n%s", w.repo.Comments(n)[len(w.repo.Comments(n))-1].Body)
	}
}

func TestArgoCDDownIsReportedWithoutHanging(t *testing.T) {
	w := newArgoWorld(t)
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	cfg = strings.Replace(cfg, "    argocd:\n      timeout: 5m", "    argocd:\n      timeout: 2s", 1)
	w.repo.Commit("main", "dev: short rollout timeout", map[string]string{".github/daytwo.yml": cfg})
	w.argo.Down()
	start := time.Now()
	n := w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev")
	w.Runner.WaitRollouts()
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s", d)
	}
	st := w.status(t, n)
	if !strings.Contains(st, "Argo CD did not answer for `checkout-dev`") || !strings.Contains(st, "next poll") {
		t.Errorf("status:\n%s", st)
	}
	if is, _ := w.repo.Issue(n); is.State != "open" {
		t.Error("an unknown outcome leaves the request open")
	}
}

func TestMissingAppIsNamed(t *testing.T) {
	w := newArgoWorld(t)
	n := w.repo.CreateIssue("alice", "x", "")
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	cfg = strings.Replace(cfg, `argocdApp: "{service}-{env}"`, `argocdApp: "shop-{service}-{env}"`, 1)
	w.repo.Commit("main", "rename apps", map[string]string{".github/daytwo.yml": cfg})
	w.comment(t, n, "alice", "/restart --service catalog --env dev")
	w.Runner.WaitRollouts()
	if st := w.status(t, n); !strings.Contains(st, `application "shop-catalog-dev" not found`) || !strings.Contains(st, "argocdApp") {
		t.Errorf("status:\n%s", st)
	}
}

func TestRolloutResumedAfterRestart(t *testing.T) {
	w := newArgoWorld(t)
	w.argo.Down()
	n := w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev")
	pr := w.mergedPull(t)
	if p, _ := w.repo.Pull(pr.Number); !strings.Contains(strings.Join(p.Labels, ","), "daytwo/rolling-out") {
		t.Fatalf("a rollout being followed is marked on its PR: %v", p.Labels)
	}
	// daytwo stops while Argo CD is away; a new one starts once it is back.
	w.Restart(t)
	w.argo.Up()
	w.Runner.WaitRollouts()
	st := w.status(t, n)
	if !strings.Contains(st, "checkout-dev is Healthy") || strings.Count(st, "checkout-dev is Healthy") != 1 {
		t.Fatalf("status after the restart:\n%s", st)
	}
	if runs := w.rolloutChecks(pr.MergeCommitSHA); len(runs) != 1 || runs[0].Conclusion != "success" {
		t.Errorf("rollout check: %+v", runs)
	}
}

func TestRefreshAskedAgainUntilArgoCDSeesTheMerge(t *testing.T) {
	w := newArgoWorld(t)
	w.Runner.RefreshEvery = 20 * time.Millisecond
	w.lag.Store(3) // the first refreshes find the previous commit
	n := w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev")
	w.Runner.WaitRollouts()
	if st := w.status(t, n); !strings.Contains(st, "checkout-dev is Healthy") {
		t.Fatalf("status:\n%s", st)
	}
	var refreshes int
	for _, c := range w.argo.Calls() {
		if c.Method == "Refresh" && c.App == "checkout-dev" {
			refreshes++
		}
	}
	if refreshes < 3 {
		t.Errorf("want the refresh asked again while Argo CD lagged, got %d", refreshes)
	}
}

// Resume run while a rollout is being followed (the leader does so now and then) leaves it
// to its follower: one report, not two.
func TestResumeLeavesAFollowedRolloutToItsFollower(t *testing.T) {
	w := newArgoWorld(t)
	w.argo.Down()
	n := w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev")
	pr := w.mergedPull(t)
	ctx := zerolog.New(w.Logs).WithContext(context.Background())
	for range 2 {
		if err := w.Runner.Resume(ctx); err != nil {
			t.Fatal(err)
		}
	}
	w.argo.Up()
	w.Runner.WaitRollouts()
	if st := w.status(t, n); strings.Count(st, "checkout-dev is Healthy") != 1 {
		t.Fatalf("status:\n%s", st)
	}
	if runs := w.rolloutChecks(pr.MergeCommitSHA); len(runs) != 1 {
		t.Errorf("rollout checks: %+v", runs)
	}
}

// rolloutStatus is the status on issue n once its rollout was reported.
func (w *argoWorld) rolloutStatus(t *testing.T, n int) string {
	t.Helper()
	w.Runner.WaitRollouts()
	return w.status(t, n)
}

// A rollback of a broken rollout: right after its sync Argo CD still shows the broken
// rollout's Degraded, assessed before the sync. The verdict is the health assessed after.
func TestRollbackReportedOnTheHealthAfterItsSync(t *testing.T) {
	w := newArgoWorld(t)
	w.argo.SetScript("checkout-dev", argoapitest.Degraded(10*time.Millisecond, argoapitest.Resource{
		Kind: "Deployment", Namespace: "checkout-dev", Name: "checkout", Health: "Degraded", Message: `Deployment "checkout" exceeded its progress deadline`})...)
	broken := w.ask(t, "alice", "/set-image 9.9.9-broken --service checkout --env dev")
	if st := w.rolloutStatus(t, broken); !strings.Contains(st, "checkout-dev is Degraded") {
		t.Fatalf("the broken rollout:\n%s", st)
	}
	// The rollback's sync ends before the controller looks at the health again.
	w.argo.SetScript("checkout-dev",
		argoapitest.Step{After: 10 * time.Millisecond, Sync: "OutOfSync", Health: "Progressing", Phase: "Running", Stale: true},
		argoapitest.Step{After: 10 * time.Millisecond, Sync: "Synced", Health: "Healthy", Phase: "Succeeded", Message: "successfully synced (all tasks run)", Stale: true})
	n := w.ask(t, "alice", "/rollback --service checkout --env dev")
	st := w.rolloutStatus(t, n)
	if !strings.Contains(st, "checkout-dev is Healthy") || strings.Contains(st, "Degraded") || strings.Contains(st, "To undo it") {
		t.Fatalf("the rollback's status:\n%s", st)
	}
	if runs := w.rolloutChecks(w.headOfMain(t)); len(runs) != 1 || runs[0].Conclusion != "success" {
		t.Errorf("rollout check: %+v", runs)
	}
}

// The mirror case: a broken change's sync ends while Argo CD still shows the Healthy of
// what ran before. It is reported Degraded once Argo CD has looked.
func TestBrokenChangeNotReportedOnTheHealthBeforeItsSync(t *testing.T) {
	w := newArgoWorld(t)
	res := argoapitest.Resource{Kind: "Deployment", Namespace: "checkout-dev", Name: "checkout", Health: "Degraded", Message: `Deployment "checkout" exceeded its progress deadline`}
	w.argo.SetScript("checkout-dev",
		argoapitest.Step{After: 10 * time.Millisecond, Sync: "OutOfSync", Health: "Healthy", Phase: "Running", Stale: true},
		argoapitest.Step{After: 10 * time.Millisecond, Sync: "Synced", Health: "Degraded", Phase: "Succeeded", Unhealthy: []argoapitest.Resource{res}, Stale: true})
	n := w.ask(t, "alice", "/set-image 9.9.9-broken --service checkout --env dev")
	st := w.rolloutStatus(t, n)
	for _, want := range []string{"checkout-dev is Degraded", "`checkout-dev/Deployment/checkout` Degraded", "/rollback --service checkout --env dev"} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	if strings.Contains(st, "Healthy") || strings.Contains(st, "Rolled out") {
		t.Errorf("a broken rollout reported healthy:\n%s", st)
	}
	if is, _ := w.repo.Issue(n); is.State != "open" {
		t.Error("a degraded rollout leaves the request open")
	}
}

// A health Argo CD never assesses after the sync gives no verdict, but the timeout, saying
// what is known.
func TestHealthNeverAssessedAfterTheSyncTimesOut(t *testing.T) {
	w := newArgoWorld(t)
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	cfg = strings.Replace(cfg, "    argocd:\n      timeout: 5m", "    argocd:\n      timeout: 3s", 1)
	w.repo.Commit("main", "dev: short rollout timeout", map[string]string{".github/daytwo.yml": cfg})
	w.argo.SetHealth("checkout-dev", "Degraded") // what an earlier rollout left
	w.argo.StallStatus("checkout-dev", true)
	w.argo.SetScript("checkout-dev",
		argoapitest.Step{After: 10 * time.Millisecond, Sync: "OutOfSync", Health: "Progressing", Phase: "Running"},
		argoapitest.Step{After: 10 * time.Millisecond, Sync: "Synced", Health: "Healthy", Phase: "Succeeded"})
	n := w.ask(t, "alice", "/set-image 1.9.1 --service checkout --env dev")
	st := w.rolloutStatus(t, n)
	pr := w.mergedPull(t)
	want := "⌛ `checkout-dev` synced to `" + pr.MergeCommitSHA[:7] + "`, but Argo CD did not assess its health after the sync within 3s (its last verdict, from before the sync: Degraded)."
	if !strings.Contains(st, want) || strings.Contains(st, "💔") || strings.Contains(st, "💚") {
		t.Fatalf("status lacks %q:\n%s", want, st)
	}
	if runs := w.rolloutChecks(pr.MergeCommitSHA); len(runs) != 1 || runs[0].Conclusion != "timed_out" {
		t.Errorf("rollout check: %+v", runs)
	}
	if is, _ := w.repo.Issue(n); is.State != "open" {
		t.Error("an unknown outcome leaves the request open")
	}
}

func (w *argoWorld) headOfMain(t *testing.T) string {
	t.Helper()
	sha, ok := w.repo.BranchSHA("main")
	if !ok {
		t.Fatal("no main")
	}
	return sha
}
