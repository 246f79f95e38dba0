package ops

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/incident"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// prNumber is the "(#12)" GitHub appends to a squash merge's subject.
var prNumber = regexp.MustCompile(`\(#(\d+)\)\s*$`)

// AppWatcher streams the state of Argo CD's applications (argoapi.Client).
type AppWatcher interface {
	WatchApps(ctx context.Context, opts argoapi.WatchOptions, onEvent func(argoapi.AppEvent)) error
}

// IncidentOptions tune the incident watch; zero values are the defaults.
type IncidentOptions struct {
	// Grace, Settle and Debounce are the incident.Tracker's.
	Grace, Settle, Debounce time.Duration
	// Rescan paces the look for the applications to watch: every configured service ×
	// environment of every repository the app is installed on (default 5m).
	Rescan time.Duration
	// RescanUnknown is the least time between two looks caused by an application in
	// trouble that is not watched (yet): a service or repository added since (default 30s).
	RescanUnknown time.Duration
	// Tick paces the decisions (default 1s).
	Tick time.Duration
	// HoldFor is how long an incident waits while a daytwo change for its app is in
	// flight before it is looked at again (default 1m).
	HoldFor time.Duration
}

// reopenWithin is how recently an incident issue may have been closed to be reopened
// rather than a new one opened: an app that flaps keeps one issue.
const reopenWithin = time.Hour

// incidentApp is where an application's incidents are told: the GitOps repository that
// configures the service and environment it runs.
type incidentApp struct {
	repo         githubapi.Repo
	service, env string
	catalog      string // the service's catalog-info path
	installation int64
}

// incidentWatch is the leader's watch of every configured application: observations go to
// the tracker, and its decisions become issues.
type incidentWatch struct {
	r       *Runner
	opts    IncidentOptions
	tracker *incident.Tracker
	log     *zerolog.Logger

	mu     sync.Mutex
	apps   map[string]incidentApp      // by Argo CD application
	latest map[string]argoapi.AppEvent // the last state of every app seen, watched or not

	lastScan   time.Time
	unknownBad bool // an app not watched is in trouble: look for its config again
}

// WatchIncidents watches the Applications of every configured service and environment
// until ctx ends, and opens, updates and closes their incident issues (docs/architecture.md,
// "Incidents"). Only the leader runs it. Without Argo CD it returns at once.
func (r *Runner) WatchIncidents(ctx context.Context) error {
	w, ok := r.ArgoCD.(AppWatcher)
	if !ok || w == nil {
		return nil
	}
	o := r.Incidents
	o.Rescan = orDuration(o.Rescan, 5*time.Minute)
	o.Tick = orDuration(o.Tick, time.Second)
	o.HoldFor = orDuration(o.HoldFor, time.Minute)
	o.RescanUnknown = orDuration(o.RescanUnknown, 30*time.Second)
	iw := &incidentWatch{r: r, opts: o, log: zerolog.Ctx(ctx),
		tracker: &incident.Tracker{Grace: o.Grace, Settle: o.Settle, Debounce: o.Debounce},
		apps:    map[string]incidentApp{}, latest: map[string]argoapi.AppEvent{}}
	events := make(chan argoapi.AppEvent, 256)
	go func() {
		err := w.WatchApps(ctx, argoapi.WatchOptions{Reconnected: func(err error) {
			iw.log.Debug().Err(err).Msg("the watch of Argo CD's applications was opened again")
		}}, func(ev argoapi.AppEvent) {
			select {
			case events <- ev:
			case <-ctx.Done():
			}
		})
		if err != nil {
			iw.log.Error().Err(err).Msg("Argo CD refuses the watch of its applications: no incident issues")
		}
	}()
	iw.scan(ctx) // while the stream's first events wait
	tick, rescan := time.NewTicker(o.Tick), time.NewTicker(o.Rescan)
	defer tick.Stop()
	defer rescan.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			iw.observe(ev)
		case <-tick.C:
			if iw.unknownBad && time.Since(iw.lastScan) >= o.RescanUnknown {
				iw.scan(ctx)
			}
			iw.act(ctx)
		case <-rescan.C:
			iw.scan(ctx)
		}
	}
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (iw *incidentWatch) now() time.Time { return time.Now() }

// observe passes an app's state on to the tracker when the app is watched.
func (iw *incidentWatch) observe(ev argoapi.AppEvent) {
	iw.mu.Lock()
	_, watched := iw.apps[ev.App]
	if ev.Deleted {
		delete(iw.latest, ev.App)
	} else {
		iw.latest[ev.App] = ev
	}
	iw.mu.Unlock()
	switch {
	case !watched:
		iw.unknownBad = iw.unknownBad || !ev.Deleted && observation(ev.State, iw.now()).Bad()
	case ev.Deleted:
		// Missing from Argo CD altogether: the app is gone, which the trouble is.
		st := ev.State
		st.Health, st.Sync, st.Unhealthy = "Missing", "Unknown", nil
		iw.tracker.Observe(observation(st, iw.now()))
	default:
		iw.tracker.Observe(observation(ev.State, iw.now()))
	}
}

// observation is an Argo CD state in the tracker's terms.
func observation(s argoapi.State, at time.Time) incident.Observation {
	o := incident.Observation{App: s.App, Health: s.Health, Sync: s.Sync, Revision: s.Revision, At: at,
		Message: strings.TrimSpace(s.HealthMessage), Syncing: s.OperationPhase == "Running" || s.OperationPhase == "Terminating"}
	if s.Health == "Degraded" || s.Health == "Missing" {
		o.Since = s.HealthSince // when it turned so; an OutOfSync app's health time says nothing of its sync
	}
	if s.OperationPhase == "Failed" || s.OperationPhase == "Error" {
		o.Message = strings.TrimSpace(s.Message)
	}
	for _, r := range s.Unhealthy {
		if r.Health == "Progressing" {
			continue // on its way, not what is wrong
		}
		o.Resources = append(o.Resources, incident.Resource{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Health: r.Health, Message: r.Message})
	}
	return o
}

// scan finds the applications to watch: every service × environment of the config of each
// repository of each installation, and the incident issues open for them (a restart, or
// another leader before this one, opened them).
func (iw *incidentWatch) scan(ctx context.Context) {
	r := iw.r
	iw.lastScan = time.Now()
	found := map[string]incidentApp{}
	var open []struct {
		app   string
		since time.Time
	}
	visited := 0
	err := r.eachRepo(ctx, func(inst int64, repo githubapi.Repo) error {
		visited++
		t, pointer, err := r.readTarget(ctx, repo.Client, r.graphql(repo.Client), repo.Owner, repo.Name)
		if err != nil || pointer != "" {
			return nil // no config of its own: not a GitOps repository daytwo manages
		}
		for _, svc := range t.cfg.Services {
			for _, env := range t.cfg.EnvNames() {
				if !svc.Deploys(env) {
					continue
				}
				name := svc.ArgoCDAppName(env)
				if _, dup := found[name]; !dup {
					found[name] = incidentApp{repo: t.repo, service: svc.Name, env: env, catalog: svc.CatalogPath(), installation: inst}
				}
			}
		}
		issues, err := t.repo.IssuesLabelled(ctx, "open", []string{"daytwo", "incident"})
		if err != nil {
			iw.log.Warn().Err(err).Str("repo", t.repo.FullName()).Msg("incidents: cannot list the open incident issues")
			return nil
		}
		for _, is := range issues {
			if _, _, a, ok := incident.ParseMark(is.Body); ok {
				open = append(open, struct {
					app   string
					since time.Time
				}{a, is.CreatedAt})
			}
		}
		return nil
	})
	if err != nil {
		iw.log.Warn().Err(err).Msg("incidents: cannot list every repository")
		if visited == 0 {
			return // keep the apps known so far
		}
	}
	iw.mu.Lock()
	var added []argoapi.AppEvent
	for name := range iw.apps {
		if _, ok := found[name]; !ok {
			iw.tracker.Forget(name)
		}
	}
	for name := range found {
		if _, had := iw.apps[name]; !had {
			if ev, ok := iw.latest[name]; ok {
				added = append(added, ev)
			}
		}
	}
	iw.apps = found
	// An app still in trouble and still unknown is looked for again, at RescanUnknown's pace.
	iw.unknownBad = false
	for name, ev := range iw.latest {
		if _, ok := found[name]; !ok && observation(ev.State, iw.now()).Bad() {
			iw.unknownBad = true
		}
	}
	iw.mu.Unlock()
	sort.Slice(added, func(i, j int) bool { return added[i].App < added[j].App })
	for _, ev := range added {
		iw.tracker.Observe(observation(ev.State, iw.now()))
	}
	for _, o := range open {
		if _, ok := found[o.app]; ok {
			iw.tracker.Adopt(o.app, o.since)
		}
	}
}

// act carries out what the tracker says is due.
func (iw *incidentWatch) act(ctx context.Context) {
	for _, d := range iw.tracker.Due(iw.now()) {
		iw.mu.Lock()
		a, ok := iw.apps[d.App]
		iw.mu.Unlock()
		if !ok {
			continue
		}
		log := iw.log.With().Str("app", d.App).Str("service", a.service).Str("env", a.env).Str("decision", d.Kind.String()).Logger()
		held, err := iw.carryOut(log.WithContext(ctx), a, d)
		switch {
		case err != nil:
			log.Warn().Err(err).Msg("incident issue not written; trying again")
		case held:
			log.Info().Msg("a daytwo change for the app is in flight: no incident issue while it is")
			iw.tracker.Hold(d.App, iw.now().Add(iw.opts.HoldFor))
		default:
			iw.tracker.Done(d, iw.now())
		}
	}
}

// carryOut writes one decision to GitHub, under the target's incident lock so that two
// leaders (a lost lease, a split) do not both open an issue. held reports that an open was
// not made because a daytwo change for the app is in flight.
func (iw *incidentWatch) carryOut(ctx context.Context, a incidentApp, d incident.Decision) (held bool, err error) {
	r := iw.r
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	lease, err := r.locks().Lock(lctx, fmt.Sprintf("incident|%s|%s|%s", a.repo.FullName(), a.service, a.env))
	cancel()
	if err != nil {
		return false, fmt.Errorf("lock: %w", err)
	}
	defer lease.Unlock()

	client, err := r.Clients.NewInstallationClient(a.installation)
	if err != nil {
		return false, err
	}
	a.repo.Client = client
	issues, err := a.repo.IssuesLabelled(ctx, "all", incident.Labels(a.service, a.env))
	if err != nil {
		return false, err
	}
	var current, recent *githubapi.Issue
	for i := range issues {
		is := &issues[i]
		if _, _, app, ok := incident.ParseMark(is.Body); !ok || app != d.App {
			continue
		}
		switch {
		case is.State == "open" && (current == nil || is.Number < current.Number):
			current = is
		case is.State == "closed" && recent == nil && iw.now().Sub(is.Closed) < reopenWithin:
			recent = is
		}
	}

	switch d.Kind {
	case incident.Close:
		rep := incident.Report{Service: a.service, Env: a.env, App: d.App, Since: d.Since, Now: iw.now(), State: d.State}
		is := current
		if is == nil {
			// Closed already during the incident: by the rollout of a fix replied in it
			// (a healthy rollout closes its asking issue), or by a person. How long it
			// lasted is still news there.
			if recent == nil || !recent.Closed.After(d.Since) {
				return false, nil
			}
			is = recent
		}
		if _, err := (githubapi.Thread{Client: client, Owner: a.repo.Owner, Repo: a.repo.Name, Number: is.Number}).Comment(ctx, incident.Closing(rep, d.Until)); err != nil {
			return false, err
		}
		zerolog.Ctx(ctx).Info().Int("issue", is.Number).Dur("lasted", d.Lasted()).Msg("incident over")
		if is.State == "closed" {
			return false, nil
		}
		return false, a.repo.EditIssue(ctx, is.Number, "", "", "closed")
	case incident.Update:
		if current == nil {
			return false, nil // a person closed it while it lasts: they know
		}
	case incident.Open:
		if current == nil {
			if inFlight, err := iw.inFlight(ctx, a); err != nil || inFlight {
				return inFlight, err
			}
		}
	}

	rep, err := iw.report(ctx, a, d)
	if err != nil {
		return false, err
	}
	title, body := incident.Title(rep), incident.Body(rep)
	switch {
	case current != nil:
		err = a.repo.EditIssue(ctx, current.Number, title, body, "")
	case recent != nil:
		if err = a.repo.EditIssue(ctx, recent.Number, title, body, "open"); err == nil {
			_, err = (githubapi.Thread{Client: client, Owner: a.repo.Owner, Repo: a.repo.Name, Number: recent.Number}).Comment(ctx, incident.Reopened(rep))
		}
	default:
		var n int
		if n, _, err = a.repo.OpenIssue(ctx, title, body, incident.Labels(a.service, a.env)); err == nil {
			zerolog.Ctx(ctx).Info().Int("issue", n).Msg("incident opened")
			err = iw.dedupe(ctx, a, d.App, n)
		}
	}
	return false, err
}

// dedupe keeps the oldest open issue of app when another leader opened one at the same
// time (two leaders whose locks are not shared: a split, no Redis): the issue mine is
// closed as its duplicate when it is not the oldest.
func (iw *incidentWatch) dedupe(ctx context.Context, a incidentApp, app string, mine int) error {
	issues, err := a.repo.IssuesLabelled(ctx, "open", incident.Labels(a.service, a.env))
	if err != nil {
		return err
	}
	oldest := mine
	for _, is := range issues {
		if _, _, other, ok := incident.ParseMark(is.Body); ok && other == app && is.Number < oldest {
			oldest = is.Number
		}
	}
	if oldest == mine {
		return nil
	}
	zerolog.Ctx(ctx).Info().Int("issue", mine).Int("duplicate_of", oldest).Msg("another leader opened the incident too; closing this one")
	if _, err := (githubapi.Thread{Client: a.repo.Client, Owner: a.repo.Owner, Repo: a.repo.Name, Number: mine}).Comment(ctx, fmt.Sprintf("Duplicate of #%d.", oldest)); err != nil {
		return err
	}
	return a.repo.EditIssue(ctx, mine, "", "", "closed")
}

// inFlight reports whether a daytwo change for the app's service and environment is in
// flight: an open daytwo pull request for it, or a merged one whose rollout daytwo follows.
// That change reports on itself; an incident issue would say the same twice.
func (iw *incidentWatch) inFlight(ctx context.Context, a incidentApp) (bool, error) {
	prefixes := []string{fmt.Sprintf("daytwo/%s/%s/", a.env, a.service), fmt.Sprintf("%s%s/%s/", plan.TimeboxedBranches, a.env, a.service)}
	for _, prefix := range prefixes {
		open, err := a.repo.OpenChanges(ctx, "", prefix)
		if err != nil {
			return false, err
		}
		if len(open) > 0 {
			return true, nil
		}
	}
	rolling, err := a.repo.MergedWithLabel(ctx, rollingOut)
	if err != nil {
		return false, err
	}
	for _, m := range rolling {
		if strings.HasPrefix(m.Branch, prefixes[0]) || strings.HasPrefix(m.Branch, prefixes[1]) {
			return true, nil
		}
	}
	return false, nil
}

// report gathers what the issue says: the app's state, the service's owner from its
// catalog entry (and the GitHub team, when one exists), and the last day-2 changes.
func (iw *incidentWatch) report(ctx context.Context, a incidentApp, d incident.Decision) (incident.Report, error) {
	r := iw.r
	rep := incident.Report{Service: a.service, Env: a.env, App: d.App, Since: d.Since, Now: iw.now(), State: d.State}
	t, err := r.target(ctx, a.repo.Client, r.graphql(a.repo.Client), a.repo.Owner, a.repo.Name)
	if err != nil {
		return rep, err
	}
	rep.RepoURL = t.repoURL()
	log := zerolog.Ctx(ctx)
	if cat, err := report.ReadCatalog(ctx, t.snap, a.catalog); err != nil {
		log.Debug().Err(err).Msg("incident: no catalog entry")
	} else if cat != nil {
		rep.Owner = cat.Owner
		if team := cat.Team(a.repo.Owner); team != "" {
			org, slug, _ := strings.Cut(team, "/")
			if ok, err := t.repo.TeamExists(ctx, org, slug); ok {
				rep.Team = team
			} else if err != nil {
				log.Debug().Err(err).Str("team", team).Msg("incident: cannot tell whether the owner's team exists")
			}
		}
	}
	if svc, ok := t.cfg.Service(a.service); ok {
		// Every commit to the overlay, daytwo's and the others (a person's push is a likely
		// cause too); freezes live in the config, not the overlay.
		log, err := t.snap.History().Log(ctx, []string{svc.OverlayPath(a.env)}, 5)
		if err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Msg("incident: no history")
		}
		for _, c := range log {
			ch := incident.Change{When: c.Time, SHA: c.SHA, Command: c.Trailers[plan.TrailerCommand], Requester: c.Trailers[plan.TrailerRequester]}
			ch.Subject, _, _ = strings.Cut(c.Message, "\n")
			if c.Trailers[plan.TrailerAction] == "" {
				ch.Command = ""
			}
			if m := prNumber.FindStringSubmatch(ch.Subject); m != nil {
				ch.PR, _ = strconv.Atoi(m[1])
			}
			rep.Changes = append(rep.Changes, ch)
		}
	}
	if r.Summarize != nil {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		sum, err := r.Summarize(sctx, rep.Facts())
		cancel()
		if err != nil {
			log.Warn().Err(err).Msg("incident: no summary; the facts stand alone")
		} else {
			rep.Summary = sum
		}
	}
	return rep, nil
}
