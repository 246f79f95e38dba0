package argoapi

import (
	"sort"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
)

// State is one observation of an Application, in daytwo's terms.
type State struct {
	App            string
	Sync           string // Synced, OutOfSync, Unknown
	Health         string // Healthy, Progressing, Degraded, Suspended, Missing, Unknown
	HealthMessage  string
	Revision       string // the revision the app is synced to
	OperationPhase string // Running, Succeeded, Failed, Error, Terminating ("" without an operation)
	// OperationRevision is the revision the last operation synced (or is syncing).
	OperationRevision string
	Message           string // the last operation's message
	// OperationStarted, OperationBy and OperationInfo describe the last operation: when it
	// started, who asked for it ("automated" for the controller's auto-sync) and the
	// name/value pairs it was asked with.
	OperationStarted time.Time
	OperationBy      string
	OperationInfo    map[string]string
	AutoSync         bool
	Images           []string
	LastSynced       time.Time
	Unhealthy        []Resource

	// When Argo CD's controller last did what, by its own clock (whole seconds: the
	// Kubernetes API keeps no finer time). See HealthAssessed.
	OperationFinished time.Time // status.operationState.finishedAt
	ReconciledAt      time.Time // status.reconciledAt
	HealthSince       time.Time // status.health.lastTransitionTime

	// Target is the branch, tag or commit the app follows (its source's targetRevision;
	// "" and "HEAD" are the repository's default branch).
	Target string
}

// Resource is a managed resource that is not healthy.
type Resource struct {
	Group, Kind, Namespace, Name string
	Sync, Health, Message        string
}

// StateOf reads an Application's status into a State.
func StateOf(app *v1alpha1.Application) State {
	if app == nil {
		return State{}
	}
	st := app.Status
	s := State{
		App:      app.Name,
		Sync:     string(st.Sync.Status),
		Health:   string(st.Health.Status),
		Revision: st.Sync.Revision,
		Images:   append([]string(nil), st.Summary.Images...),
		AutoSync: app.Spec.SyncPolicy != nil && app.Spec.SyncPolicy.Automated != nil,
		Target:   app.Spec.GetSource().TargetRevision,
	}
	//nolint:staticcheck // Health.Message is deprecated in favour of per-resource messages, but older servers still fill it
	s.HealthMessage = st.Health.Message
	if t := st.Health.LastTransitionTime; t != nil {
		s.HealthSince = t.Time
	}
	if st.ReconciledAt != nil {
		s.ReconciledAt = st.ReconciledAt.Time
	}
	if s.Revision == "" && len(st.Sync.Revisions) > 0 {
		s.Revision = st.Sync.Revisions[0]
	}
	if op := st.OperationState; op != nil {
		s.OperationPhase = string(op.Phase)
		s.Message = op.Message
		if op.SyncResult != nil {
			s.OperationRevision = op.SyncResult.Revision
			if s.OperationRevision == "" && len(op.SyncResult.Revisions) > 0 {
				s.OperationRevision = op.SyncResult.Revisions[0]
			}
		}
		if s.OperationRevision == "" && op.Operation.Sync != nil {
			s.OperationRevision = op.Operation.Sync.Revision
		}
		s.OperationStarted = op.StartedAt.Time
		s.OperationBy = op.Operation.InitiatedBy.Username
		if op.Operation.InitiatedBy.Automated {
			s.OperationBy = "automated"
		}
		for _, i := range op.Operation.Info {
			if i == nil {
				continue
			}
			if s.OperationInfo == nil {
				s.OperationInfo = map[string]string{}
			}
			s.OperationInfo[i.Name] = i.Value
		}
		if op.FinishedAt != nil {
			s.LastSynced = op.FinishedAt.Time
			s.OperationFinished = op.FinishedAt.Time
		}
	}
	if s.LastSynced.IsZero() && len(st.History) > 0 {
		s.LastSynced = st.History[len(st.History)-1].DeployedAt.Time
	}
	for _, r := range st.Resources {
		if r.Health == nil || r.Health.Status == "" || r.Health.Status == "Healthy" {
			continue
		}
		s.Unhealthy = append(s.Unhealthy, Resource{
			Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name,
			Sync: string(r.Status), Health: string(r.Health.Status), Message: r.Health.Message,
		})
	}
	sort.SliceStable(s.Unhealthy, func(i, j int) bool { return severity(s.Unhealthy[i].Health) > severity(s.Unhealthy[j].Health) })
	return s
}

// severity orders health for reporting: the worst first.
func severity(h string) int {
	switch h {
	case "Degraded":
		return 4
	case "Missing":
		return 3
	case "Unknown":
		return 2
	case "Progressing", "Suspended":
		return 1
	}
	return 0
}

// SyncedTo reports whether the app is synced to revision (a full or abbreviated id).
func (s State) SyncedTo(revision string) bool {
	return s.Sync == "Synced" && sameRevision(s.Revision, revision)
}

// Done reports whether a rollout of revision has ended, and whether it is healthy. Its
// health counts only once Argo CD assessed it after the sync (HealthAssessed).
func (s State) Done(revision string) (done, healthy bool) {
	if s.OperationPhase == "Failed" || s.OperationPhase == "Error" {
		if sameRevision(s.OperationRevision, revision) {
			return true, false
		}
	}
	if !s.SyncedTo(revision) || s.OperationPhase == "Running" || s.OperationPhase == "Terminating" || !s.HealthAssessed(revision) {
		return false, false
	}
	switch s.Health {
	case "Healthy":
		return true, true
	case "Degraded":
		return true, false
	}
	return false, false
}

// HealthAssessed reports whether the app's health was assessed after the sync to revision
// finished. Right after a sync, status.health is still the verdict on what ran before it
// (a rollback of a broken rollout shows the old Degraded for a moment, a broken change the
// old Healthy); only a later assessment says how revision runs.
//
// Argo CD v2.14's controller sets operationState.finishedAt when the sync ends, then
// reconciles the app with the latest Git (status.reconciledAt), and stamps
// status.health.lastTransitionTime whenever a reconcile changes the health; so either
// stamp later than finishedAt dates a health assessed after the sync. They are whole
// seconds, and the reconcile that started an automated sync is often in the same second
// as its end: only a strictly later second counts, and Client.Wait asks for a refresh
// until one comes. Without an operation of revision, the comparison that found the app
// synced to it assessed its health at the same time.
func (s State) HealthAssessed(revision string) bool {
	if s.OperationFinished.IsZero() || !sameRevision(s.OperationRevision, revision) {
		return true
	}
	return s.ReconciledAt.After(s.OperationFinished) || s.HealthSince.After(s.OperationFinished)
}

func sameRevision(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	n := min(len(a), len(b))
	return n >= 7 && a[:n] == b[:n]
}
