package argoapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"

	"github.com/daytwo-dev/daytwo/internal/clip"
)

// Outcome answers a sync or a refresh asked for by someone: the app's state once Argo CD
// has done it (revision, sync status, health, and the last operation's phase and message).
type Outcome struct {
	State
	// AlreadySynced: the app was synced to the revision already, so no sync was asked.
	AlreadySynced bool
}

// syncInfo names the operation info SyncApp tags its sync with. Argo CD copies a sync
// request's infos into the operation's state, so SyncApp knows its own operation from an
// earlier one of the same revision still shown (a watch's first event can predate it).
const syncInfo = "daytwo"

// SyncApp syncs app as a person pressing Sync in Argo CD would, and follows the sync to its
// end. revision "" is the app's target revision (what Argo CD resolves it to now); a
// commit pins the sync to it, which Argo CD refuses for an app with automated sync. The
// app is refreshed first: when it is synced to the revision already, the answer says so
// and no sync is asked. Otherwise the sync prunes as the app's own sync policy does
// (automated.prune; no pruning without automated sync), applies without --force, and
// keeps the app's sync options and retry. It ends when the operation has ended and, once
// it succeeded, Argo CD has assessed the health after it: Healthy or Suspended (nil), or
// Degraded or a failed sync (an error wrapping ErrUnhealthy); or when ctx ends (ctx's
// error). The Outcome holds the last state seen in every case.
func (c *Client) SyncApp(ctx context.Context, app, revision string) (Outcome, error) {
	a, err := c.apps.Get(ctx, c.query(app, string(v1alpha1.RefreshTypeNormal)))
	if err != nil {
		return Outcome{}, c.explain(app, err)
	}
	before := StateOf(a)
	want := revision
	if want == "" {
		want = before.Revision // the target revision as the refresh resolved it
	}
	if before.SyncedTo(want) {
		return Outcome{State: before, AlreadySynced: true}, nil
	}

	tag := "sync-" + rand.Text()
	prune := a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated != nil && a.Spec.SyncPolicy.Automated.Prune
	req := &application.ApplicationSyncRequest{Name: &app, Prune: &prune, Infos: []*v1alpha1.Info{{Name: syncInfo, Value: tag}}}
	if revision != "" {
		req.Revision = &revision
	}
	if c.opts.AppNamespace != "" {
		req.AppNamespace = &c.opts.AppNamespace
	}
	if _, err := c.apps.Sync(ctx, req); err != nil {
		err = c.explain(app, err)
		if errors.Is(err, ErrOperationInProgress) {
			err = c.busy(app, before)
		}
		return Outcome{State: before}, err
	}

	last, err := c.follow(ctx, app, nil,
		func(s State) bool {
			return s.OperationInfo[syncInfo] == tag && s.OperationPhase == "Succeeded" && !s.HealthAssessed(s.OperationRevision)
		},
		func(s State) (bool, error) {
			done, healthy := s.syncEnded(tag)
			switch {
			case !done:
				return false, nil
			case healthy:
				return true, nil
			case s.OperationPhase != "Succeeded":
				return true, fmt.Errorf("%s: %w: the sync %s: %s", app, ErrUnhealthy, s.OperationPhase, s.Message)
			}
			return true, fmt.Errorf("%s: %w (%s, %s)", app, ErrUnhealthy, orUnknown(s.Sync), orUnknown(s.Health))
		})
	return Outcome{State: last}, err
}

// syncEnded reports whether the sync operation tagged tag has ended, and whether well: a
// failed sync has; a successful one once Argo CD assessed the health after it and found
// it Healthy, Suspended (a steady state: a suspended CronJob, a paused rollout) or Degraded.
// The state of another operation, or none yet (argocd-server clears it when it accepts a
// sync), is not the end of this one.
func (s State) syncEnded(tag string) (done, healthy bool) {
	if s.OperationInfo[syncInfo] != tag {
		return false, false
	}
	switch s.OperationPhase {
	case "Failed", "Error":
		return true, false
	case "Succeeded":
	default:
		return false, false
	}
	if !s.HealthAssessed(s.OperationRevision) {
		return false, false
	}
	switch s.Health {
	case "Healthy", "Suspended":
		return true, true
	case "Degraded":
		return true, false
	}
	return false, false
}

// RefreshApp asks Argo CD to compare app with Git now; hard also regenerates the
// manifests rather than using its caches (argocd app get --hard-refresh). argocd-server
// answers once the controller has done it, with the app's state then.
func (c *Client) RefreshApp(ctx context.Context, app string, hard bool) (Outcome, error) {
	refresh := v1alpha1.RefreshTypeNormal
	if hard {
		refresh = v1alpha1.RefreshTypeHard
	}
	a, err := c.apps.Get(ctx, c.query(app, string(refresh)))
	if err != nil {
		return Outcome{}, c.explain(app, err)
	}
	return Outcome{State: StateOf(a)}, nil
}

// describeOperation says which operation is running, for an error that asks to wait for it.
func describeOperation(s State) string {
	d := "a sync"
	if s.OperationRevision != "" {
		d += " to " + clip.SHA(s.OperationRevision)
	}
	if s.OperationBy != "" {
		d += " by " + s.OperationBy
	}
	if !s.OperationStarted.IsZero() {
		d += ", started " + s.OperationStarted.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return d
}
