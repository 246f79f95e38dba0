package ops_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

var (
	commitURLRE = regexp.MustCompile(`/commit/[0-9a-f]{40}\)`)
	startedRE   = regexp.MustCompile(`sync to [0-9a-f]{7} by (\w+), started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC`)
	iatRE       = regexp.MustCompile(`iat: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
)

// argoGolden compares the status comment on issue n with testdata/status/<name>.md, with
// the fake Argo CD's address, commit links and the times Argo CD states replaced.
func (w *argoWorld) argoGolden(t *testing.T, name string, n int, mentions ...string) {
	t.Helper()
	st := w.shown(t, n)
	st = strings.ReplaceAll(st, w.argo.Addr(), "argocd.test:443")
	st = commitURLRE.ReplaceAllString(st, "/commit/<sha>)")
	st = startedRE.ReplaceAllString(st, "sync to SHA by $1, started TIME")
	st = iatRE.ReplaceAllString(st, "iat: TIME")
	mdtest.Golden(t, filepath.Join("testdata", "status", name+".md"), st, *update)
	mdtest.Policy{Mentions: mentions, Comments: true}.AssertSafe(t, st)
}

// push commits a change of the service's overlay in env to the default branch, as a
// person pushing by hand, and returns the commit: Argo CD finds it on its next refresh.
func (w *argoWorld) push(t *testing.T, svc, env string) string {
	t.Helper()
	path := "apps/" + svc + "/overlays/" + env + "/kustomization.yaml"
	kust, ok := w.repo.File("main", path)
	if !ok {
		t.Fatalf("no %s", path)
	}
	return w.repo.Commit("main", svc+" "+env+": by hand", map[string]string{path: kust + "# touched by hand\n"})
}

// sync asks for line as author, and waits until daytwo has followed the sync.
func (w *argoWorld) sync(t *testing.T, author, line string) (int, string) {
	t.Helper()
	n := w.ask(t, author, line)
	w.Runner.WaitRollouts()
	return n, w.status(t, n)
}

// argoCalls are the calls of method on app the fake Argo CD answered.
func (w *argoWorld) argoCalls(method, app string) []argoapitest.Call {
	var out []argoapitest.Call
	for _, c := range w.argo.Calls() {
		if c.Method == method && c.App == app {
			out = append(out, c)
		}
	}
	return out
}

func commitLink(w *argoWorld, rev string) string {
	return "[`" + rev[:7] + "`](" + w.GH.URL() + "/acme/gitops/commit/" + rev + ")"
}

// /sync of an app without automated sync, after a person's push: Argo CD syncs it to the
// default branch's head, and the status says so with the revision, sync status and health.
// A second /sync finds it synced and asks for no sync.
func TestSyncDeploysTheDefaultBranch(t *testing.T) {
	w := newArgoWorld(t)
	rev := w.push(t, "checkout", "prod")
	n, st := w.sync(t, "mo", "/sync --service checkout --env prod")
	if !strings.Contains(st, "✅ `checkout-prod` synced to "+commitLink(w, rev)+" in ") || !strings.Contains(st, ": Synced, Healthy.") {
		t.Fatalf("status:\n%s", st)
	}
	if m := w.mark(t, n); m.State != githubapi.StateAnswered || m.PR != 0 {
		t.Errorf("mark %+v", m)
	}
	mdtest.Policy{Mentions: []string{"mo"}, Comments: true}.AssertSafe(t, st)
	syncs := w.argoCalls("Sync", "checkout-prod")
	if len(syncs) != 1 || syncs[0].Revision != "" || syncs[0].Sub != "daytwo" || syncs[0].Sync.GetPrune() {
		t.Fatalf("want one sync to the target revision, without pruning (no automated sync): %+v", syncs)
	}
	if s, h, r := w.argo.State("checkout-prod"); s != "Synced" || h != "Healthy" || r != rev {
		t.Errorf("checkout-prod: %s %s %s", s, h, r)
	}
	if len(w.openPulls()) != 0 || len(w.daytwoBranches()) != 0 {
		t.Error("/sync wrote to Git")
	}
	if rs := w.repo.Comments(n)[0].Reactions; len(rs) != 1 || rs[0].Content != "eyes" {
		t.Errorf("reactions %+v", rs)
	}

	n, st = w.sync(t, "mo", "/sync --service checkout --env prod")
	if !strings.Contains(st, "✅ `checkout-prod` is already synced to "+commitLink(w, rev)+": nothing to do. It is Healthy.") {
		t.Fatalf("status:\n%s", st)
	}
	if m := w.mark(t, n); m.State != githubapi.StateAnswered {
		t.Errorf("mark %+v", m)
	}
	if syncs := w.argoCalls("Sync", "checkout-prod"); len(syncs) != 1 {
		t.Errorf("a second sync was asked: %+v", syncs)
	}
}

// A daytwo pull request for the service and environment is open: /sync says it is not part
// of what is synced, and syncs what the default branch holds.
func TestSyncWarnsOfAnOpenPullRequest(t *testing.T) {
	w := newArgoWorld(t)
	w.ask(t, "alice", "/scale 3 --service checkout --env staging")
	pr := w.openFor(t, "daytwo/staging/checkout/")
	head, _ := w.repo.BranchSHA("main")
	n, st := w.sync(t, "alice", "/sync --service checkout --env staging")
	for _, want := range []string{
		"- ⚠️ [PR #" + strconv.Itoa(pr.Number) + "](" + w.GH.URL() + "/acme/gitops/pull/" + strconv.Itoa(pr.Number) + ") is not merged yet; `/sync` deploys what is on `main`.",
		"✅ `checkout-staging` is already synced to " + commitLink(w, head) + ": nothing to do.",
	} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	if m := w.mark(t, n); m.State != githubapi.StateAnswered {
		t.Errorf("mark %+v", m)
	}
	// Another service's PR is no warning.
	_, st = w.sync(t, "alice", "/sync --service catalog --env staging")
	if strings.Contains(st, "not merged yet") {
		t.Errorf("status:\n%s", st)
	}
}

// Right after a push, Argo CD's automated sync of an app that has one is running when
// /sync asks: daytwo follows that sync instead, since it does what was asked.
func TestSyncFollowsTheAutomatedSyncRunning(t *testing.T) {
	w := newArgoWorld(t)
	w.argo.SetScript("checkout-dev", argoapitest.Healthy(300*time.Millisecond)...)
	rev := w.push(t, "checkout", "dev")
	_, st := w.sync(t, "alice", "/sync --service checkout --env dev")
	for _, want := range []string{"✅ `checkout-dev` synced to " + commitLink(w, rev) + " by Argo CD's automated sync in ", ": Synced, Healthy."} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	if s, h, r := w.argo.State("checkout-dev"); s != "Synced" || h != "Healthy" || r != rev {
		t.Errorf("checkout-dev: %s %s %s", s, h, r)
	}
}

// A sync that leaves the app Degraded, one that fails, and one that outlasts the
// environment's argocd.timeout: each is said, with what Argo CD reports.
func TestSyncThatDoesNotEndHealthy(t *testing.T) {
	w := newArgoWorld(t)
	w.argo.SetScript("checkout-prod", argoapitest.Degraded(10*time.Millisecond,
		argoapitest.Resource{Kind: "Deployment", Namespace: "checkout-prod", Name: "checkout", Health: "Degraded", Message: "progress deadline exceeded"})...)
	rev := w.push(t, "checkout", "prod")
	n, st := w.sync(t, "mo", "/sync --service checkout --env prod")
	for _, want := range []string{"💔 `checkout-prod` synced to " + commitLink(w, rev) + ", but it is Degraded after ", "- `checkout-prod/Deployment/checkout` Degraded: progress deadline exceeded"} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	if m := w.mark(t, n); m.State != githubapi.StateFailed {
		t.Errorf("mark %+v", m)
	}
	mdtest.Policy{Mentions: []string{"mo"}, Comments: true}.AssertSafe(t, st)

	w.argo.SetScript("checkout-prod", argoapitest.Failed(10*time.Millisecond, "one or more objects failed to apply: admission webhook denied the request")...)
	rev = w.push(t, "checkout", "prod")
	n, st = w.sync(t, "mo", "/sync --service checkout --env prod")
	if want := "❌ Argo CD's sync of `checkout-prod` to " + commitLink(w, rev) + " ended Failed after "; !strings.Contains(st, want) || !strings.Contains(st, "admission webhook denied the request") {
		t.Errorf("status lacks %q:\n%s", want, st)
	}
	if m := w.mark(t, n); m.State != githubapi.StateFailed {
		t.Errorf("mark %+v", m)
	}

	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	short := strings.Replace(cfg, "timeout: 15m", "timeout: 1s", 1)
	if short == cfg {
		t.Fatal("the example's prod has no argocd timeout of 15m")
	}
	w.repo.Commit("main", "prod: a short Argo CD timeout", map[string]string{".github/daytwo.yml": short})
	w.argo.SetScript("checkout-prod", argoapitest.Healthy(3*time.Second)...)
	n, st = w.sync(t, "mo", "/sync --service checkout --env prod")
	if want := "⌛ `checkout-prod` did not finish syncing within 1s (last seen: OutOfSync, Healthy, operation Running). The sync goes on in Argo CD"; !strings.Contains(st, want) {
		t.Errorf("status lacks %q:\n%s", want, st)
	}
	if m := w.mark(t, n); m.State != githubapi.StateFailed {
		t.Errorf("mark %+v", m)
	}
}

// --dry-run asks Argo CD for the app's state only, and says what a sync would deploy.
func TestSyncDryRun(t *testing.T) {
	w := newArgoWorld(t)
	w.push(t, "checkout", "prod")
	before := len(w.argo.Calls())
	n, _ := w.sync(t, "mo", "/sync --service checkout --env prod --dry-run")
	if m := w.mark(t, n); m.State != githubapi.StateDryRun {
		t.Errorf("mark %+v", m)
	}
	w.argoGolden(t, "sync-dry-run", n, "mo")
	for _, c := range w.argo.Calls()[before:] {
		if c.Method == "Watch" && c.App == "" {
			continue // the leader's watch of every app, for incidents
		}
		if c.Method != "Get" {
			t.Errorf("a dry run asked Argo CD for more than the app's state: %+v", c)
		}
	}
	// Synced to the head already: the dry run says a sync would do nothing.
	w.sync(t, "mo", "/sync --service checkout --env prod")
	head, _ := w.repo.BranchSHA("main")
	_, st := w.sync(t, "mo", "/sync --service checkout --env prod --dry-run")
	if want := "- `main` is at " + commitLink(w, head) + ", which it is synced to: `/sync` would do nothing."; !strings.Contains(st, want) {
		t.Errorf("status lacks %q:\n%s", want, st)
	}
}

// The refusals of /sync: by the environment's policy (requesters, freeze), by daytwo's
// setup (no Argo CD), and by Argo CD (no such app, daytwo's account may not sync, another
// operation running, a sync window). Nothing is synced, and each says why and what to do.
func TestSyncRefusals(t *testing.T) {
	w := newArgoWorld(t)
	w.push(t, "checkout", "prod")
	refused := func(t *testing.T, n int) {
		t.Helper()
		if m := w.mark(t, n); m.State != githubapi.StateRefused {
			t.Errorf("mark %+v", m)
		}
		if syncs := w.argoCalls("Sync", "checkout-prod"); len(syncs) != 0 {
			t.Errorf("refused, yet a sync was asked: %+v", syncs)
		}
	}

	t.Run("requesters", func(t *testing.T) {
		n, _ := w.sync(t, "alice", "/sync --service checkout --env prod")
		refused(t, n)
		w.argoGolden(t, "sync-not-permitted", n, "alice")
	})

	t.Run("Argo CD refuses", func(t *testing.T) {
		// daytwo's account may get applications but not sync them.
		w.argo.AddAccount(argoToken, "daytwo", "get")
		n, _ := w.sync(t, "mo", "/sync --service checkout --env prod")
		w.argoGolden(t, "sync-denied-by-argocd", n, "mo")
		w.argo.AddAccount(argoToken, "daytwo", "*")
		if m := w.mark(t, n); m.State != githubapi.StateRefused {
			t.Errorf("mark %+v", m)
		}

		w.argo.BlockSyncs(true)
		n, st := w.sync(t, "mo", "/sync --service checkout --env prod")
		w.argo.BlockSyncs(false)
		if !strings.Contains(st, "❌ Argo CD at "+w.argo.Addr()+" does not sync application \"checkout-prod\" now (cannot sync: blocked by sync window): its project's sync windows forbid it; sync once the window opens") {
			t.Errorf("sync window:\n%s", st)
		}
		if m := w.mark(t, n); m.State != githubapi.StateRefused {
			t.Errorf("mark %+v", m)
		}
	})

	t.Run("operation in progress", func(t *testing.T) {
		// bob's sync in Argo CD is still running.
		w.argo.AddAccount("bob-token", "bob", "*")
		bob, err := argoapi.New(argoapi.Options{Server: w.argo.Addr(), Token: "bob-token", PlainText: true})
		if err != nil {
			t.Fatal(err)
		}
		defer bob.Close()
		w.argo.SetScript("checkout-prod", argoapitest.Step{After: time.Minute, Sync: "Synced", Health: "Healthy", Phase: "Succeeded"})
		if err := bob.Sync(context.Background(), "checkout-prod", ""); err != nil {
			t.Fatal(err)
		}
		n, _ := w.sync(t, "mo", "/sync --service checkout --env prod")
		w.argoGolden(t, "sync-operation-in-progress", n, "mo")
		if m := w.mark(t, n); m.State != githubapi.StateRefused {
			t.Errorf("mark %+v", m)
		}
	})

	t.Run("freeze", func(t *testing.T) {
		cfg, _ := w.repo.File("main", ".github/daytwo.yml")
		frozen, err := repoconfig.SetFreeze([]byte(cfg), "staging", &repoconfig.Freeze{Reason: "release week", By: "mo", Since: clock()})
		if err != nil {
			t.Fatal(err)
		}
		w.repo.Commit("main", "freeze staging", map[string]string{".github/daytwo.yml": string(frozen)})
		n, _ := w.sync(t, "alice", "/sync --service checkout --env staging")
		if m := w.mark(t, n); m.State != githubapi.StateRefused {
			t.Errorf("mark %+v", m)
		}
		if calls := w.argoCalls("Sync", "checkout-staging"); len(calls) != 0 {
			t.Errorf("frozen, yet a sync was asked: %+v", calls)
		}
		w.argoGolden(t, "sync-frozen", n, "alice")
		// /refresh changes nothing: a freeze does not stop it.
		if _, st := w.sync(t, "alice", "/refresh --service checkout --env staging"); !strings.Contains(st, "🔄 Argo CD refreshed `checkout-staging`") {
			t.Errorf("refresh during a freeze:\n%s", st)
		}
	})

	t.Run("unknown app", func(t *testing.T) {
		cfg, _ := w.repo.File("main", ".github/daytwo.yml")
		renamed := strings.Replace(cfg, "  - name: catalog\n", "  - name: catalog\n    argocdApp: shop-{service}-{env}\n", 1)
		w.repo.Commit("main", "catalog: its apps are named shop-…", map[string]string{".github/daytwo.yml": renamed})
		n, _ := w.sync(t, "mo", "/sync --service catalog --env prod")
		w.argoGolden(t, "sync-app-missing", n, "mo")
		if m := w.mark(t, n); m.State != githubapi.StateRefused {
			t.Errorf("mark %+v", m)
		}
	})
}

// Without Argo CD in daytwo's configuration, /sync and /refresh say so.
func TestSyncWithoutArgoCD(t *testing.T) {
	w := newWorld(t)
	n := w.ask(t, "alice", "/sync --service checkout --env dev")
	if m := w.mark(t, n); m.State != githubapi.StateRefused {
		t.Errorf("mark %+v", m)
	}
	w.golden(t, "sync-no-argocd", n, "alice")
	n = w.ask(t, "alice", "/refresh --service checkout --env dev")
	if st := w.status(t, n); !strings.Contains(st, "Argo CD is not configured for this daytwo, so it cannot ask Argo CD to refresh `checkout-dev`") {
		t.Errorf("status:\n%s", st)
	}
}

// A freeze gives way to --break-glass for those the environment's breakGlass rule names:
// the sync goes through and a review issue follows, as for a change.
func TestSyncBreakGlass(t *testing.T) {
	w := newArgoWorld(t)
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	frozen, err := repoconfig.SetFreeze([]byte(cfg), "prod", &repoconfig.Freeze{Reason: "release week", By: "mo", Since: clock()})
	if err != nil {
		t.Fatal(err)
	}
	rev := w.repo.Commit("main", "freeze prod", map[string]string{".github/daytwo.yml": string(frozen)})
	// sam may not /sync prod (maintain), but may break glass there (acme/sre).
	n, st := w.sync(t, "sam", "/sync --service checkout --env prod --break-glass")
	for _, want := range []string{
		"- 🧯 `--break-glass`: prod is frozen since 2026-11-23 12:00 UTC by ",
		"- 🧯 Break-glass review: [#",
		"✅ `checkout-prod` synced to " + commitLink(w, rev),
	} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	if m := w.mark(t, n); m.State != githubapi.StateAnswered {
		t.Errorf("mark %+v", m)
	}
	m := regexp.MustCompile(`Break-glass review: \[#(\d+)\]`).FindStringSubmatch(st)
	if m == nil {
		t.Fatalf("no break-glass review issue:\n%s", st)
	}
	num, _ := strconv.Atoi(m[1])
	is, ok := w.repo.Issue(num)
	if !ok || is.Title != "Break-glass review: sync checkout-prod" || strings.Join(is.Labels, ",") != "daytwo,break-glass,env/prod" || !strings.Contains(is.Body, "@sam used `--break-glass` for `/sync --service checkout --env prod --break-glass`") {
		t.Errorf("review issue %+v", is)
	}
	// Without break glass, the freeze holds even for whom /sync is open.
	n, _ = w.sync(t, "mo", "/sync --service checkout --env prod")
	if m := w.mark(t, n); m.State != githubapi.StateRefused {
		t.Errorf("mark %+v", m)
	}
}

// /refresh asks Argo CD to compare the app with Git now (hard: without its cache), and
// says what it found and what deploys it; it is for those with write permission unless
// the environment says otherwise.
func TestRefresh(t *testing.T) {
	w := newArgoWorld(t)
	rev := w.push(t, "checkout", "prod")
	n, st := w.sync(t, "mo", "/refresh --hard --service checkout --env prod")
	want := "🔄 Argo CD refreshed `checkout-prod` (hard: the manifests regenerated, not read from its cache): OutOfSync with " + commitLink(w, rev) +
		", Healthy. `/sync --service checkout --env prod` deploys what Git holds."
	if !strings.Contains(st, want) {
		t.Errorf("status lacks %q:\n%s", want, st)
	}
	if m := w.mark(t, n); m.State != githubapi.StateAnswered {
		t.Errorf("mark %+v", m)
	}
	if calls := w.argoCalls("Refresh", "checkout-prod"); len(calls) != 1 || calls[0].Refresh != "hard" {
		t.Errorf("refreshes %+v", calls)
	}
	if len(w.argoCalls("Sync", "checkout-prod")) != 0 {
		t.Error("/refresh synced")
	}

	// An app with automated sync starts syncing what the refresh found.
	w.argo.SetScript("checkout-dev", argoapitest.Healthy(300*time.Millisecond)...)
	rev = w.push(t, "checkout", "dev")
	_, st = w.sync(t, "alice", "/refresh --service checkout --env dev")
	if want := "Argo CD is syncing it to " + commitLink(w, rev) + " (its automated sync)."; !strings.Contains(st, want) {
		t.Errorf("status lacks %q:\n%s", want, st)
	}
	if calls := w.argoCalls("Refresh", "checkout-dev"); len(calls) == 0 || calls[0].Refresh != "normal" {
		t.Errorf("refreshes %+v", calls)
	}

	n, st = w.sync(t, "rita", "/refresh --service checkout --env staging")
	if m := w.mark(t, n); m.State != githubapi.StateRefused || !strings.Contains(st, "`/refresh` in staging may be requested by people with write permission") {
		t.Errorf("rita (read) refreshed staging: %+v\n%s", m, st)
	}
}
