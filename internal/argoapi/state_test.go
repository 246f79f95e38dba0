package argoapi

import (
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/health"
	synccommon "github.com/argoproj/gitops-engine/pkg/sync/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestStateOfAndDone(t *testing.T) {
	const rev, old = "0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98"
	app := func(sync, hl string, phase synccommon.OperationPhase, opRev string, res ...v1alpha1.ResourceStatus) *v1alpha1.Application {
		a := &v1alpha1.Application{}
		a.Name = "checkout-prod"
		a.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCode(sync), Revisions: []string{rev}}
		a.Status.Health = v1alpha1.HealthStatus{Status: health.HealthStatusCode(hl)}
		if phase != "" {
			a.Status.OperationState = &v1alpha1.OperationState{Phase: phase, SyncResult: &v1alpha1.SyncOperationResult{Revision: opRev}}
		}
		a.Status.Resources = res
		return a
	}
	cases := []struct {
		name          string
		app           *v1alpha1.Application
		done, healthy bool
	}{
		{"healthy at the revision", app("Synced", "Healthy", synccommon.OperationSucceeded, rev), true, true},
		{"abbreviated revision", app("Synced", "Healthy", "", ""), true, true},
		{"still syncing", app("Synced", "Healthy", synccommon.OperationRunning, rev), false, false},
		{"progressing", app("Synced", "Progressing", synccommon.OperationSucceeded, rev), false, false},
		{"degraded", app("Synced", "Degraded", synccommon.OperationSucceeded, rev), true, false},
		{"sync of this revision failed", app("OutOfSync", "Healthy", synccommon.OperationFailed, rev), true, false},
		{"an older sync failed", app("OutOfSync", "Healthy", synccommon.OperationFailed, old), false, false},
		{"out of sync", app("OutOfSync", "Healthy", "", ""), false, false},
	}
	for _, c := range cases {
		s := StateOf(c.app)
		if s.Revision != rev || s.App != "checkout-prod" {
			t.Errorf("%s: revision %q app %q", c.name, s.Revision, s.App)
		}
		target := rev
		if c.name == "abbreviated revision" {
			target = rev[:7]
		}
		if done, healthy := s.Done(target); done != c.done || healthy != c.healthy {
			t.Errorf("%s: Done = %v, %v; want %v, %v", c.name, done, healthy, c.done, c.healthy)
		}
	}
	s := StateOf(app("Synced", "Degraded", synccommon.OperationSucceeded, rev,
		v1alpha1.ResourceStatus{Kind: "Service", Name: "ok", Health: &v1alpha1.HealthStatus{Status: health.HealthStatusHealthy}},
		v1alpha1.ResourceStatus{Kind: "Pod", Name: "p", Health: &v1alpha1.HealthStatus{Status: health.HealthStatusProgressing}},
		v1alpha1.ResourceStatus{Kind: "Deployment", Name: "d", Health: &v1alpha1.HealthStatus{Status: health.HealthStatusDegraded, Message: "deadline"}},
		v1alpha1.ResourceStatus{Kind: "ConfigMap", Name: "c"},
	))
	if len(s.Unhealthy) != 2 || s.Unhealthy[0].Kind != "Deployment" || s.Unhealthy[0].Message != "deadline" || s.Unhealthy[1].Kind != "Pod" {
		t.Errorf("unhealthy, worst first: %+v", s.Unhealthy)
	}
	// The revision the app follows, of its source or the first of its sources.
	one := &v1alpha1.Application{Spec: v1alpha1.ApplicationSpec{Source: &v1alpha1.ApplicationSource{TargetRevision: "main"}}}
	multi := &v1alpha1.Application{Spec: v1alpha1.ApplicationSpec{Sources: v1alpha1.ApplicationSources{{TargetRevision: "release"}, {TargetRevision: "main"}}}}
	if StateOf(one).Target != "main" || StateOf(multi).Target != "release" || StateOf(&v1alpha1.Application{}).Target != "" {
		t.Errorf("targets %q %q", StateOf(one).Target, StateOf(multi).Target)
	}
	if StateOf(nil).App != "" || sameRevision("abc", "abcdef") {
		t.Error("nil app / too-short revision")
	}
}

// A health counts for a revision only when Argo CD assessed it in a second after the one
// its sync finished in: the API's times are whole seconds.
func TestHealthAssessedOnlyAfterTheSync(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	finished := time.Date(2026, 11, 23, 12, 0, 5, 0, time.UTC)
	at := func(sec int) *metav1.Time {
		t := metav1.NewTime(finished.Add(time.Duration(sec) * time.Second))
		return &t
	}
	app := func(hl string, reconciled, since *metav1.Time, opRev string) *v1alpha1.Application {
		a := &v1alpha1.Application{}
		a.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeSynced, Revision: rev}
		a.Status.Health = v1alpha1.HealthStatus{Status: health.HealthStatusCode(hl), LastTransitionTime: since}
		a.Status.ReconciledAt = reconciled
		a.Status.OperationState = &v1alpha1.OperationState{Phase: synccommon.OperationSucceeded, FinishedAt: at(0),
			SyncResult: &v1alpha1.SyncOperationResult{Revision: opRev}}
		return a
	}
	cases := []struct {
		name          string
		app           *v1alpha1.Application
		done, healthy bool
	}{
		{"Degraded from before the sync", app("Degraded", at(-1), at(-300), rev), false, false},
		{"Healthy from before the sync", app("Healthy", at(-1), at(-300), rev), false, false},
		{"reconciled in the sync's second", app("Healthy", at(0), at(-300), rev), false, false},
		{"health changed in the sync's second", app("Healthy", at(-1), at(0), rev), false, false},
		{"reconciled a second later", app("Healthy", at(1), at(-300), rev), true, true},
		{"became Degraded after the sync", app("Degraded", at(-1), at(2), rev), true, false},
		{"became Healthy after the sync", app("Healthy", at(0), at(1), rev), true, true},
		{"no times at all", app("Healthy", nil, nil, rev), false, false},
		{"the operation was another revision's", app("Healthy", at(-1), at(-300), "fedcba9876543210fedcba9876543210fedcba98"), true, true},
	}
	for _, c := range cases {
		s := StateOf(c.app)
		if done, healthy := s.Done(rev); done != c.done || healthy != c.healthy {
			t.Errorf("%s: Done = %v, %v; want %v, %v", c.name, done, healthy, c.done, c.healthy)
		}
		if s.HealthAssessed(rev) != c.done {
			t.Errorf("%s: HealthAssessed = %v", c.name, s.HealthAssessed(rev))
		}
	}
}

// A sync's end is its own operation's: an earlier operation of the same revision still in
// the status (a watch's first event can predate the sync) is not it.
func TestSyncEndedOnlyByItsOwnOperation(t *testing.T) {
	const rev, tag = "0123456789abcdef0123456789abcdef01234567", "sync-mine"
	finished := time.Date(2026, 11, 23, 12, 0, 5, 0, time.UTC)
	app := func(info string, phase synccommon.OperationPhase, hl string, reconciled time.Time) *v1alpha1.Application {
		a := &v1alpha1.Application{}
		a.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeSynced, Revision: rev}
		a.Status.Health = v1alpha1.HealthStatus{Status: health.HealthStatusCode(hl)}
		r := metav1.NewTime(reconciled)
		a.Status.ReconciledAt = &r
		op := &v1alpha1.OperationState{Phase: phase, SyncResult: &v1alpha1.SyncOperationResult{Revision: rev}}
		op.Operation.Sync = &v1alpha1.SyncOperation{Revision: rev}
		if info != "" {
			op.Operation.Info = []*v1alpha1.Info{{Name: "daytwo", Value: info}}
		}
		if phase != synccommon.OperationRunning {
			f := metav1.NewTime(finished)
			op.FinishedAt = &f
		}
		a.Status.OperationState = op
		return a
	}
	later := finished.Add(time.Second)
	cases := []struct {
		name          string
		app           *v1alpha1.Application
		done, healthy bool
	}{
		{"an earlier failed sync of the revision", app("", synccommon.OperationFailed, "Healthy", later), false, false},
		{"another request's sync", app("sync-theirs", synccommon.OperationSucceeded, "Healthy", later), false, false},
		{"no operation yet", &v1alpha1.Application{}, false, false},
		{"running", app(tag, synccommon.OperationRunning, "Healthy", later), false, false},
		{"succeeded, health from before", app(tag, synccommon.OperationSucceeded, "Healthy", finished), false, false},
		{"succeeded, progressing", app(tag, synccommon.OperationSucceeded, "Progressing", later), false, false},
		{"succeeded, healthy", app(tag, synccommon.OperationSucceeded, "Healthy", later), true, true},
		{"succeeded, suspended", app(tag, synccommon.OperationSucceeded, "Suspended", later), true, true},
		{"succeeded, degraded", app(tag, synccommon.OperationSucceeded, "Degraded", later), true, false},
		{"failed", app(tag, synccommon.OperationFailed, "Healthy", finished), true, false},
		{"error", app(tag, synccommon.OperationError, "Healthy", finished), true, false},
	}
	for _, c := range cases {
		if done, healthy := StateOf(c.app).syncEnded(tag); done != c.done || healthy != c.healthy {
			t.Errorf("%s: syncEnded = %v, %v; want %v, %v", c.name, done, healthy, c.done, c.healthy)
		}
	}
}
