package argoapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
)

func syncs(fake *argoapitest.Server) []argoapitest.Call {
	var out []argoapitest.Call
	for _, c := range fake.Calls() {
		if c.Method == "Sync" {
			out = append(out, c)
		}
	}
	return out
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// An app without automated sync: a push leaves it OutOfSync until someone syncs it.
func TestSyncAppFollowsTheSyncToItsEnd(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("checkout-prod", false)
	rev := strings.Repeat("c", 40)
	g.push(rev)
	ctx := timeout(t, 10*time.Second)

	out, err := c.SyncApp(ctx, "checkout-prod", "")
	if err != nil {
		t.Fatalf("SyncApp: %v (%+v)", err, out)
	}
	if out.AlreadySynced || !out.SyncedTo(rev) || out.Health != "Healthy" || out.OperationPhase != "Succeeded" || !strings.Contains(out.Message, "successfully synced") {
		t.Errorf("outcome %+v", out)
	}
	if !out.HealthAssessed(rev) {
		t.Errorf("the health reported was assessed before the sync ended: %+v", out)
	}
	calls := fake.Calls()
	if calls[0].Method != "Refresh" || calls[0].Refresh != "normal" {
		t.Errorf("first call %+v, want a normal refresh (compare with Git before deciding)", calls[0])
	}
	s := syncs(fake)
	if len(s) != 1 {
		t.Fatalf("syncs %+v", s)
	}
	req := s[0].Sync
	// The target revision (no revision sent), no pruning without automated sync, no --force.
	if req.Revision != nil || req.GetPrune() || req.Strategy != nil || req.SyncOptions != nil || req.RetryStrategy != nil || req.GetDryRun() || len(req.Resources) != 0 {
		t.Errorf("sync request %v", req)
	}
	if len(req.Infos) != 1 || req.Infos[0].Name != "daytwo" || out.OperationInfo["daytwo"] != req.Infos[0].Value || s[0].Sub != "daytwo" {
		t.Errorf("the operation followed is not the one asked: infos %v, outcome's %v", req.Infos, out.OperationInfo)
	}
	if out.OperationBy != "daytwo" {
		t.Errorf("operation by %q", out.OperationBy)
	}
}

func TestSyncAppAlreadySyncedSendsNothing(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("checkout-prod", false)
	ctx := timeout(t, 10*time.Second)
	for _, rev := range []string{"", g.head(), g.head()[:7]} {
		out, err := c.SyncApp(ctx, "checkout-prod", rev)
		if err != nil || !out.AlreadySynced || out.Sync != "Synced" || out.Revision != g.head() || out.Health != "Healthy" {
			t.Errorf("revision %q: %+v %v", rev, out, err)
		}
	}
	if s := syncs(fake); len(s) != 0 {
		t.Errorf("an app synced already was synced again: %+v", s)
	}
}

// With automated sync, a sync asked for prunes as the app's policy does. Automated sync
// does not try a revision again after it failed there: a person asks.
func TestSyncAppPrunesAsTheAppsPolicy(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("catalog-dev", true, argoapitest.Failed(5*time.Millisecond, "one or more objects failed to apply")...)
	rev := strings.Repeat("d", 40)
	g.push(rev)
	ctx := timeout(t, 10*time.Second)
	if _, err := c.Refresh(ctx, "catalog-dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx, "catalog-dev", rev, nil); !errors.Is(err, argoapi.ErrUnhealthy) {
		t.Fatalf("the automated sync: %v", err)
	}
	fake.SetScript("catalog-dev", argoapitest.Healthy(5*time.Millisecond)...)
	out, err := c.SyncApp(ctx, "catalog-dev", "")
	if err != nil || !out.SyncedTo(rev) || out.Health != "Healthy" {
		t.Fatalf("SyncApp: %+v %v", out, err)
	}
	s := syncs(fake)
	if len(s) != 1 || !s[0].Sync.GetPrune() || s[0].Sync.Revision != nil {
		t.Errorf("syncs %+v", s)
	}
}

func TestSyncAppFailedOrDegraded(t *testing.T) {
	res := argoapitest.Resource{Kind: "Deployment", Namespace: "checkout-prod", Name: "checkout", Health: "Degraded", Message: `Deployment "checkout" exceeded its progress deadline`}
	for _, tc := range []struct {
		name  string
		steps []argoapitest.Step
		check func(argoapi.Outcome) bool
	}{
		{"failed", argoapitest.Failed(5*time.Millisecond, `one or more objects failed to apply, reason: Deployment.apps "checkout" is invalid`), func(o argoapi.Outcome) bool {
			return o.OperationPhase == "Failed" && strings.Contains(o.Message, "is invalid") && o.Sync == "OutOfSync"
		}},
		{"degraded", argoapitest.Degraded(5*time.Millisecond, res), func(o argoapi.Outcome) bool {
			return o.OperationPhase == "Succeeded" && o.Health == "Degraded" && len(o.Unhealthy) == 1 && o.Unhealthy[0].Name == "checkout"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, g, c := setup(t)
			fake.AddApp("checkout-prod", false, tc.steps...)
			g.push(strings.Repeat("e", 40))
			out, err := c.SyncApp(timeout(t, 10*time.Second), "checkout-prod", "")
			if !errors.Is(err, argoapi.ErrUnhealthy) || !tc.check(out) {
				t.Fatalf("SyncApp: %+v, %v", out, err)
			}
			if tc.name == "failed" && !strings.Contains(err.Error(), "is invalid") {
				t.Errorf("the error does not carry Argo CD's message: %v", err)
			}
		})
	}
}

// Right after the sync the status holds the health from before it: SyncApp reports the
// health assessed after it, asking for refreshes until there is one.
func TestSyncAppReportsTheHealthAssessedAfterTheSync(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("payments-prod", false,
		argoapitest.Step{After: 5 * time.Millisecond, Sync: "OutOfSync", Health: "Degraded", Phase: "Running", Stale: true},
		argoapitest.Step{After: 5 * time.Millisecond, Sync: "Synced", Health: "Healthy", Phase: "Succeeded", Stale: true})
	fake.SetHealth("payments-prod", "Degraded")
	g.push(strings.Repeat("f", 40))
	out, err := c.SyncApp(timeout(t, 10*time.Second), "payments-prod", "")
	if err != nil || out.Health != "Healthy" {
		t.Fatalf("SyncApp: %+v, %v", out, err)
	}
	var refreshes int
	for _, call := range fake.Calls() {
		if call.Method == "Refresh" {
			refreshes++
		}
	}
	if refreshes < 2 {
		t.Errorf("want a refresh asking for the assessment after the first, got %d", refreshes)
	}
}

func TestSyncAppWhileAnotherOperationRuns(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("checkout-prod", false, argoapitest.Healthy(time.Second)...)
	rev := strings.Repeat("1", 40)
	g.push(rev)
	ctx := timeout(t, 10*time.Second)
	if err := c.Sync(ctx, "checkout-prod", rev); err != nil {
		t.Fatal(err)
	}
	out, err := c.SyncApp(ctx, "checkout-prod", "")
	if !errors.Is(err, argoapi.ErrOperationInProgress) || errors.Is(err, argoapi.ErrPermanent) {
		t.Fatalf("SyncApp during another sync: %v", err)
	}
	for _, want := range []string{"already running a sync to 1111111 by daytwo, started ", `on application "checkout-prod"; ask again once it ends`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if out.OperationPhase != "Running" {
		t.Errorf("outcome %+v", out)
	}
}

func TestSyncAppRefusals(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("checkout-prod", false)
	fake.AddApp("catalog-dev", true)
	fake.AddAccount("viewer-token", "viewer", "get")
	fake.AddAccount("nobody-token", "nobody")
	viewer, err := argoapi.New(argoapi.Options{Server: fake.Addr(), Token: "viewer-token", PlainText: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { viewer.Close() })
	nobody, err := argoapi.New(argoapi.Options{Server: fake.Addr(), Token: "nobody-token", PlainText: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nobody.Close() })
	g.push(strings.Repeat("2", 40))
	ctx := timeout(t, 10*time.Second)

	t.Run("no sync permission", func(t *testing.T) {
		if out, err := viewer.RefreshApp(ctx, "checkout-prod", false); err != nil || out.Sync != "OutOfSync" {
			t.Fatalf("get is allowed: %+v %v", out, err)
		}
		_, err := viewer.SyncApp(ctx, "checkout-prod", "")
		if !errors.Is(err, argoapi.ErrPermanent) {
			t.Fatalf("SyncApp: %v", err)
		}
		for _, want := range []string{"permission denied: applications, sync, default/checkout-prod, sub: viewer", `"p, viewer, applications, sync, default/checkout-prod, allow"`, "argocd-rbac-cm"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})
	t.Run("no get permission, or no app", func(t *testing.T) {
		for _, tc := range []struct {
			c   *argoapi.Client
			app string
		}{{nobody, "checkout-prod"}, {c, "nope"}} {
			_, err := tc.c.SyncApp(ctx, tc.app, "")
			if !errors.Is(err, argoapi.ErrPermanent) || !strings.Contains(err.Error(), `application "`+tc.app+`" not found`) || !strings.Contains(err.Error(), "argocdApp") || !strings.Contains(err.Error(), "get permission") {
				t.Errorf("%s: %v", tc.app, err)
			}
			if _, err2 := tc.c.RefreshApp(ctx, tc.app, true); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("refresh of %s: %v", tc.app, err2)
			}
		}
	})
	t.Run("another revision with automated sync", func(t *testing.T) {
		other := strings.Repeat("3", 40)
		_, err := c.SyncApp(ctx, "catalog-dev", other)
		if !errors.Is(err, argoapi.ErrPermanent) || !strings.Contains(err.Error(), "Cannot sync to "+other+": auto-sync currently set to main") {
			t.Errorf("SyncApp: %v", err)
		}
	})
	t.Run("sync window", func(t *testing.T) {
		fake.BlockSyncs(true)
		defer fake.BlockSyncs(false)
		_, err := c.SyncApp(ctx, "checkout-prod", "")
		if !errors.Is(err, argoapi.ErrPermanent) || !strings.Contains(err.Error(), "blocked by sync window") || !strings.Contains(err.Error(), "once the window opens") {
			t.Errorf("SyncApp: %v", err)
		}
	})
	// Nothing refused ran.
	if out, err := c.RefreshApp(ctx, "checkout-prod", false); err != nil || out.Sync != "OutOfSync" || out.OperationPhase != "" {
		t.Errorf("checkout-prod after the refusals: %+v %v", out, err)
	}
}

func TestRefreshAppNormalAndHard(t *testing.T) {
	fake, g, c := setup(t)
	fake.AddApp("checkout-prod", false)
	rev := strings.Repeat("4", 40)
	g.push(rev)
	ctx := timeout(t, 10*time.Second)
	out, err := c.RefreshApp(ctx, "checkout-prod", true)
	if err != nil || out.Sync != "OutOfSync" || out.Revision != rev || out.AlreadySynced {
		t.Fatalf("hard refresh: %+v %v", out, err)
	}
	if _, err := c.RefreshApp(ctx, "checkout-prod", false); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, call := range fake.Calls() {
		kinds = append(kinds, call.Method+":"+call.Refresh)
	}
	if got := strings.Join(kinds, ","); got != "Refresh:hard,Refresh:normal" {
		t.Errorf("calls %s", got)
	}
}
