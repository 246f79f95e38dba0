// Package incident decides, from a stream of observations of Argo CD applications, when
// an application is in trouble long enough to open an incident issue, when to update it,
// and when it has recovered for long enough to close it; and it writes the body
// and closing comment. It knows nothing of GitHub or Argo CD: ops feeds it observations
// and carries out its decisions.
package incident

import (
	"sort"
	"time"
)

// Observation is one look at an application.
type Observation struct {
	App      string
	Health   string // Healthy, Progressing, Degraded, Suspended, Missing, Unknown
	Sync     string // Synced, OutOfSync, Unknown
	Revision string // the revision the app is synced to (or compared with)
	Message  string // the last operation's message, or the app's health message
	// Syncing: an operation (a sync) is running, which an OutOfSync status is on its way out of.
	Syncing bool
	// Since is when the app's health last changed, by Argo CD's clock; zero when unknown.
	// A process that starts watching an app Degraded for an hour knows it from this.
	Since     time.Time
	Resources []Resource // the unhealthy resources, worst first
	At        time.Time
}

// Resource is a managed resource that is not healthy, with Argo CD's message.
type Resource struct {
	Kind, Namespace, Name, Health, Message string
}

// Bad reports whether o is trouble: Degraded or Missing, or not what Git holds while no
// sync is running.
func (o Observation) Bad() bool {
	return o.Health == "Degraded" || o.Health == "Missing" || o.Sync == "OutOfSync" && !o.Syncing
}

// Good reports whether o is recovered: synced and healthy (or suspended, a steady state).
// Neither Bad nor Good (Progressing, Unknown) leaves an incident as it is.
func (o Observation) Good() bool {
	return o.Sync == "Synced" && (o.Health == "Healthy" || o.Health == "Suspended")
}

// same reports whether a and b would read the same in an issue.
func same(a, b Observation) bool {
	if a.Health != b.Health || a.Sync != b.Sync || a.Revision != b.Revision || a.Message != b.Message || len(a.Resources) != len(b.Resources) {
		return false
	}
	for i := range a.Resources {
		if a.Resources[i] != b.Resources[i] {
			return false
		}
	}
	return true
}

// Kind is what a Decision asks for.
type Kind int

// The decisions.
const (
	Open   Kind = iota + 1 // open an issue, or update the one open (a restart, another replica)
	Update                 // what is wrong changed: rewrite the body
	Close                  // recovered for the settle time: comment how long it lasted, close
)

func (k Kind) String() string {
	switch k {
	case Open:
		return "open"
	case Update:
		return "update"
	case Close:
		return "close"
	}
	return "none"
}

// Decision is what to do about one app now.
type Decision struct {
	Kind  Kind
	App   string
	Since time.Time   // when the trouble began
	Until time.Time   // Close: when the recovery began
	State Observation // the latest observation
}

// Lasted is how long the incident lasted: from its start to the recovery.
func (d Decision) Lasted() time.Duration { return d.Until.Sub(d.Since) }

// Defaults of a Tracker's timing.
const (
	DefaultGrace    = 5 * time.Minute
	DefaultSettle   = time.Minute
	DefaultDebounce = 30 * time.Second
)

// Tracker follows apps and decides. It is not safe for concurrent use; the watcher that
// owns it feeds it and asks it from one goroutine.
type Tracker struct {
	// Grace is how long an app must be Bad before an issue is opened.
	Grace time.Duration
	// Settle is how long an app must stay Good before its issue is closed: a flapping app
	// keeps its one issue.
	Settle time.Duration
	// Debounce is the least time between two updates of an open issue.
	Debounce time.Duration

	apps map[string]*app
}

type app struct {
	last      Observation
	badSince  time.Time // start of the trouble; zero when not in trouble
	goodSince time.Time // start of the recovery; zero when not recovered
	open      bool      // an issue is open for this trouble
	written   Observation
	wroteAt   time.Time
	holdUntil time.Time // asked not to open before then
}

func (t *Tracker) get(name string) *app {
	if t.apps == nil {
		t.apps = map[string]*app{}
	}
	a := t.apps[name]
	if a == nil {
		a = &app{}
		t.apps[name] = a
	}
	return a
}

func (t *Tracker) grace() time.Duration  { return orDefault(t.Grace, DefaultGrace) }
func (t *Tracker) settle() time.Duration { return orDefault(t.Settle, DefaultSettle) }
func (t *Tracker) debounce() time.Duration {
	return orDefault(t.Debounce, DefaultDebounce)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Observe records an observation of o.App.
func (t *Tracker) Observe(o Observation) {
	a := t.get(o.App)
	a.last = o
	switch {
	case o.Bad():
		if a.badSince.IsZero() {
			a.badSince = o.At
			// Argo CD's own time of the change, when it is earlier: the trouble began
			// before this process saw it.
			if !o.Since.IsZero() && o.Since.Before(o.At) {
				a.badSince = o.Since
			}
		}
		a.goodSince = time.Time{}
	case o.Good():
		if a.goodSince.IsZero() {
			a.goodSince = o.At
		}
		if !a.open {
			a.badSince = time.Time{} // recovered within the grace: nothing to tell
		}
	}
}

// Due lists what to do at now, in the apps' order. A decision is carried out and then
// confirmed with Done; one not confirmed comes again.
func (t *Tracker) Due(now time.Time) []Decision {
	var out []Decision
	for name, a := range t.apps {
		switch {
		case a.open && !a.goodSince.IsZero() && now.Sub(a.goodSince) >= t.settle():
			out = append(out, Decision{Kind: Close, App: name, Since: a.badSince, Until: a.goodSince, State: a.last})
		case a.open && a.last.Bad() && !same(a.last, a.written) && now.Sub(a.wroteAt) >= t.debounce():
			out = append(out, Decision{Kind: Update, App: name, Since: a.badSince, State: a.last})
		case !a.open && a.last.Bad() && !a.badSince.IsZero() && now.Sub(a.badSince) >= t.grace() && !now.Before(a.holdUntil):
			out = append(out, Decision{Kind: Open, App: name, Since: a.badSince, State: a.last})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].App < out[j].App })
	return out
}

// Done confirms that d was carried out at now.
func (t *Tracker) Done(d Decision, now time.Time) {
	a := t.get(d.App)
	switch d.Kind {
	case Open, Update:
		a.open, a.written, a.wroteAt = true, d.State, now
	case Close:
		a.open, a.badSince, a.written = false, time.Time{}, Observation{}
	}
}

// Hold keeps the app's issue from opening before until: a daytwo change for it is in
// flight, and that change reports on itself.
func (t *Tracker) Hold(app string, until time.Time) { t.get(app).holdUntil = until }

// Adopt says an issue is open already for app since since (found on GitHub after a
// restart, or opened by another replica): it is updated and closed, never opened again.
func (t *Tracker) Adopt(app string, since time.Time) {
	a := t.get(app)
	if a.open {
		return
	}
	a.open = true
	if a.badSince.IsZero() || since.Before(a.badSince) {
		a.badSince = since
	}
	if a.last.Good() && a.goodSince.IsZero() {
		a.goodSince = a.last.At
	}
}

// Forget drops an app that is no longer watched (its service or environment left the
// config).
func (t *Tracker) Forget(app string) { delete(t.apps, app) }

// Open reports whether app has an issue open, as far as the tracker knows.
func (t *Tracker) Open(app string) bool {
	a := t.apps[app]
	return a != nil && a.open
}
