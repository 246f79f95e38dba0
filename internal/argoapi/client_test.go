package argoapi_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
)

const token = "argocd-api-token"

// git is the GitOps repository's head as the fake Argo CD sees it.
type git struct {
	mu  sync.Mutex
	rev string
}

func (g *git) head() string { g.mu.Lock(); defer g.mu.Unlock(); return g.rev }
func (g *git) push(rev string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rev = rev
}

func setup(t *testing.T) (*argoapitest.Server, *git, *argoapi.Client) {
	t.Helper()
	g := &git{rev: strings.Repeat("a", 40)}
	fake := argoapitest.New(t, token, g.head)
	c, err := argoapi.New(argoapi.Options{Server: fake.Addr(), Token: token, PlainText: true, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return fake, g, c
}

func TestRefreshThenWaitUntilHealthy(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("checkout-dev", true)
	rev := strings.Repeat("b", 40)
	g.push(rev)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	st, err := c.Refresh(ctx, "checkout-dev")
	if err != nil {
		t.Fatal(err)
	}
	if !st.AutoSync || st.Sync != "OutOfSync" {
		t.Fatalf("after the refresh: %+v", st)
	}
	var seen []string
	final, err := c.Wait(ctx, "checkout-dev", rev, func(s argoapi.State) { seen = append(seen, s.Sync+"/"+s.Health) })
	if err != nil {
		t.Fatalf("Wait: %v (%+v)", err, final)
	}
	if !final.SyncedTo(rev) || final.Health != "Healthy" {
		t.Errorf("final %+v", final)
	}
	if got := strings.Join(seen, " → "); !strings.Contains(got, "Synced/Progressing") || !strings.HasSuffix(got, "Synced/Healthy") {
		t.Errorf("states seen: %s", got)
	}
	var methods []string
	for _, call := range fake.Calls() {
		methods = append(methods, call.Method)
	}
	// No connection probe first (argo-cd's own client calls Version): the refresh is the first call.
	if got := strings.Join(methods, ","); !strings.HasPrefix(got, "Refresh,Get,Watch") {
		t.Errorf("calls %s", got)
	}
}

func TestSyncWhenNotAutomated(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("checkout-prod", false)
	rev := strings.Repeat("c", 40)
	g.push(rev)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.Refresh(ctx, "checkout-prod")
	if err != nil || st.AutoSync {
		t.Fatalf("refresh: %+v %v", st, err)
	}
	// Without a sync nothing happens: the wait times out, naming the last state.
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if last, err := c.Wait(short, "checkout-prod", rev, nil); !errors.Is(err, context.DeadlineExceeded) || last.Sync != "OutOfSync" {
		t.Fatalf("without a sync: %+v %v", last, err)
	}
	if err := c.Sync(ctx, "checkout-prod", rev); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx, "checkout-prod", rev, nil); err != nil {
		t.Fatal(err)
	}
	var synced string
	for _, call := range fake.Calls() {
		if call.Method == "Sync" {
			synced = call.Revision
		}
	}
	if synced != rev {
		t.Errorf("synced to %q, want %q", synced, rev)
	}
}

func TestDegradedNamesTheResources(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("payments-staging", true, argoapitest.Degraded(5*time.Millisecond,
		argoapitest.Resource{Kind: "Deployment", Namespace: "payments-staging", Name: "payments", Health: "Degraded", Message: `Deployment "payments" exceeded its progress deadline`})...)
	rev := strings.Repeat("d", 40)
	g.push(rev)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Refresh(ctx, "payments-staging"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Wait(ctx, "payments-staging", rev, nil)
	if !errors.Is(err, argoapi.ErrUnhealthy) {
		t.Fatalf("want ErrUnhealthy, got %v", err)
	}
	if st.Health != "Degraded" || len(st.Unhealthy) != 1 || st.Unhealthy[0].Name != "payments" || !strings.Contains(st.Unhealthy[0].Message, "progress deadline") {
		t.Errorf("state %+v", st)
	}
}

func TestWatchBrokenFallsBackToPolling(t *testing.T) {
	fake, g, c := setup(t)
	fake.BreakWatch(true)
	fake.AddApp("catalog-dev", true)
	rev := strings.Repeat("e", 40)
	g.push(rev)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Refresh(ctx, "catalog-dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx, "catalog-dev", rev, nil); err != nil {
		t.Fatalf("Wait by polling: %v", err)
	}
	var gets int
	for _, call := range fake.Calls() {
		if call.Method == "Get" {
			gets++
		}
	}
	if gets < 2 {
		t.Errorf("want polling Gets after the watch failed, got %d", gets)
	}
}

func TestArgoCDDownThenBack(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("checkout-dev", true)
	rev := strings.Repeat("f", 40)
	g.push(rev)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Refresh(ctx, "checkout-dev"); err != nil {
		t.Fatal(err)
	}
	fake.Down()
	done := make(chan error, 1)
	go func() {
		_, err := c.Wait(ctx, "checkout-dev", rev, nil)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Wait ended while Argo CD was down: %v", err)
	default:
	}
	fake.Up()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after Argo CD came back: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Wait did not finish after Argo CD came back")
	}
}

func TestErrorsSayWhatToCheck(t *testing.T) {
	fake, _, c := setup(t)
	ctx := context.Background()
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, argoapi.ErrPermanent) || !strings.Contains(err.Error(), "argocdApp") {
		t.Errorf("missing app: %v", err)
	}
	bad, err := argoapi.New(argoapi.Options{Server: fake.Addr(), Token: "wrong", PlainText: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	fake.AddApp("checkout-dev", true)
	if _, err := bad.Get(ctx, "checkout-dev"); !errors.Is(err, argoapi.ErrPermanent) || !strings.Contains(err.Error(), "argocd.token") {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := argoapi.New(argoapi.Options{Token: token}); err == nil || !strings.Contains(err.Error(), "argocd.server") {
		t.Errorf("no server: %v", err)
	}
	if _, err := argoapi.New(argoapi.Options{Server: fake.Addr()}); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("no token: %v", err)
	}
	// A slow Argo CD: the caller's deadline is honoured.
	fake.SetDelay(2 * time.Second)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Get(short, "checkout-dev"); err == nil || time.Since(start) > time.Second {
		t.Errorf("slow server: %v after %s", err, time.Since(start))
	}
}

// Right after a sync the status still holds the health of what ran before it. Wait reports
// the health Argo CD assessed after the sync, in either order, asking for refreshes until
// there is one.
func TestWaitTrustsOnlyHealthAssessedAfterTheSync(t *testing.T) {
	res := argoapitest.Resource{Kind: "Deployment", Namespace: "payments-dev", Name: "payments", Health: "Degraded", Message: `Deployment "payments" exceeded its progress deadline`}
	for _, tc := range []struct {
		name, before string
		steps        []argoapitest.Step
		wantHealth   string
	}{
		{"a rollback after a broken rollout: stale Degraded, then Healthy", "Degraded", []argoapitest.Step{
			{After: 5 * time.Millisecond, Sync: "OutOfSync", Health: "Degraded", Phase: "Running", Stale: true},
			{After: 5 * time.Millisecond, Sync: "Synced", Health: "Healthy", Phase: "Succeeded", Stale: true},
		}, "Healthy"},
		{"a broken change: stale Healthy, then Degraded", "Healthy", []argoapitest.Step{
			{After: 5 * time.Millisecond, Sync: "OutOfSync", Health: "Healthy", Phase: "Running", Stale: true},
			{After: 5 * time.Millisecond, Sync: "Synced", Health: "Degraded", Phase: "Succeeded", Stale: true, Unhealthy: []argoapitest.Resource{res}},
		}, "Degraded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, g, c := setup(t)
			fake.AddApp("payments-dev", true, tc.steps...)
			if tc.before == "Degraded" {
				fake.SetHealth("payments-dev", "Degraded")
			}
			rev := strings.Repeat("9", 40)
			g.push(rev)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.Refresh(ctx, "payments-dev"); err != nil {
				t.Fatal(err)
			}
			var stale []string
			st, err := c.Wait(ctx, "payments-dev", rev, func(s argoapi.State) {
				if s.SyncedTo(rev) && !s.HealthAssessed(rev) {
					stale = append(stale, s.Health)
				}
			})
			if st.Health != tc.wantHealth || (tc.wantHealth == "Healthy") != (err == nil) {
				t.Fatalf("Wait: %s, %v; want %s", st.Health, err, tc.wantHealth)
			}
			if len(stale) == 0 || stale[0] != tc.before {
				t.Errorf("the stale health before the assessment was seen as %q, want %q first", stale, tc.before)
			}
			if tc.wantHealth == "Degraded" && (len(st.Unhealthy) != 1 || st.Unhealthy[0].Name != "payments") {
				t.Errorf("unhealthy resources %+v", st.Unhealthy)
			}
		})
	}
}

// A health Argo CD never assesses after the sync is no verdict: Wait ends with its
// context, the last state saying the health is the one from before.
func TestWaitWithoutAssessmentEndsWithTheContext(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("payments-dev", true,
		argoapitest.Step{After: 5 * time.Millisecond, Sync: "OutOfSync", Health: "Healthy", Phase: "Running"},
		argoapitest.Step{After: 5 * time.Millisecond, Sync: "Synced", Health: "Healthy", Phase: "Succeeded", Stale: true})
	fake.SetHealth("payments-dev", "Degraded")
	fake.StallStatus("payments-dev", true)
	rev := strings.Repeat("8", 40)
	g.push(rev)
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	if _, err := c.Refresh(ctx, "payments-dev"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Wait(ctx, "payments-dev", rev, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !st.SyncedTo(rev) || st.HealthAssessed(rev) || st.Health != "Degraded" {
		t.Fatalf("Wait: %+v, %v", st, err)
	}
	var refreshes int
	for _, call := range fake.Calls() {
		if call.Method == "Refresh" {
			refreshes++
		}
	}
	if refreshes < 2 {
		t.Errorf("want Wait to ask for the assessment again, got %d refreshes", refreshes)
	}
}
