package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/dashboard"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// DefaultDashboardEvery is how often, at most, daytwo rewrites one repository's dashboard
// after changes, merges and rollouts.
const DefaultDashboardEvery = 30 * time.Second

// maxDashboardWrites bounds the attempts to write the dashboard while people edit it.
const maxDashboardWrites = 5

// dashboardIntro opens a new dashboard issue, outside daytwo's markers: people may
// rewrite it.
const dashboardIntro = "This issue is daytwo's dashboard of this GitOps repository. " +
	"Write what you like above or below daytwo's part; `/dashboard` in a comment brings it up to date now."

// dashboardCommand answers /dashboard: it creates the dashboard issue or brings it up
// to date, and links it on the status comment.
func (r *Runner) dashboardCommand(ctx context.Context, client *gh.Client, req Request, st *statusComment) {
	t, err := r.target(ctx, client, r.graphql(client), req.Owner, req.Repo)
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	if !strings.EqualFold(t.repo.FullName(), req.FullRepo()) {
		st.failWith(ctx, plan.Errorf(plan.Invalid, "The dashboard belongs to the GitOps repository: ask for `/dashboard` in %s.", t.repo.FullName()))
		return
	}
	ok, have, err := qualifies(ctx, t.repo, req.Author, repoconfig.Rule{Permission: "read"})
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	if !ok {
		st.fail(ctx, githubapi.StateRefused, fmt.Sprintf("@%s, `/dashboard` is for people with read access to %s; you have %s.", req.Author, t.repo.FullName(), describePermission(have)))
		return
	}
	is, err := r.updateDashboard(ctx, t, true)
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	st.set(githubapi.StateAnswered, 0).step(ctx, "", fmt.Sprintf("📋 The dashboard is up to date: [#%d](%s).", is.Number, is.URL))
}

// updateDashboard rewrites daytwo's part of the repository's dashboard from what it
// reads now; create opens the dashboard where there is none, otherwise nothing is done
// and the issue is nil. daytwo's writers of one repository take turns (coord), and each
// write compares the body first, so neither they nor people lose an edit to a stale read.
func (r *Runner) updateDashboard(ctx context.Context, t *target, create bool) (*githubapi.Issue, error) {
	lease, err := r.locks().Lock(ctx, dashboardLock(t.repo))
	if err != nil {
		return nil, err
	}
	defer lease.Unlock()
	is, err := findDashboard(ctx, t.repo)
	if err != nil || (is == nil && !create) {
		return nil, err
	}
	sec := dashboard.Render(r.dashboardFacts(ctx, t))
	if len(sec)+len(dashboardIntro)+2 > githubapi.MaxCommentBytes {
		// Cut, it would lose its end marker and the boxes: say so instead.
		return nil, plan.Errorf(plan.Invalid, "The dashboard of %s would be %d bytes, over GitHub's limit of %d for an issue: it has too many services and environments to show in one issue.", t.repo.FullName(), len(sec), githubapi.MaxCommentBytes)
	}
	if is == nil {
		n, url, err := t.repo.OpenIssue(ctx, dashboard.Title, dashboardIntro+"\n\n"+sec, dashboard.Labels)
		if err != nil {
			return nil, err
		}
		return &githubapi.Issue{Number: n, URL: url, Title: dashboard.Title}, nil
	}
	return is, writeDashboard(ctx, t.repo, is.Number, is, func(body string) string { return dashboard.Splice(body, sec) })
}

func dashboardLock(repo githubapi.Repo) string {
	return "dashboard|" + strings.ToLower(repo.FullName())
}

// findDashboard is the repository's open dashboard issue: labelled, titled and marked as
// daytwo's; the oldest when there are several. nil when there is none.
func findDashboard(ctx context.Context, repo githubapi.Repo) (*githubapi.Issue, error) {
	list, err := repo.OpenIssuesLabelled(ctx, dashboard.Labels...)
	if err != nil {
		return nil, err
	}
	for _, is := range list {
		if is.Title == dashboard.Title && dashboard.Has(is.Body) {
			return &is, nil
		}
	}
	return nil, nil
}

// isDashboard reports whether an issue is a dashboard daytwo keeps.
func isDashboard(title, body string, labels []string) bool {
	for _, l := range dashboard.Labels {
		if !slices.Contains(labels, l) {
			return false
		}
	}
	return title == dashboard.Title && dashboard.Has(body)
}

// errDashboardBusy is a dashboard whose body kept changing while daytwo wrote it.
var errDashboardBusy = errors.New("the dashboard issue kept changing while daytwo wrote it")

// writeDashboard sets the body of issue n to edit(body): it reads the body (the first time
// it may be given, as read), edits it, and reads it again just before writing; when it
// changed meanwhile (a person's edit), it starts over from the new body. An edit that
// changes nothing writes nothing.
func writeDashboard(ctx context.Context, repo githubapi.Repo, n int, read *githubapi.Issue, edit func(string) string) error {
	for attempt := 1; attempt <= maxDashboardWrites; attempt++ {
		cur := read
		if cur == nil || attempt > 1 {
			is, err := repo.ReadIssue(ctx, n)
			if err != nil {
				return err
			}
			cur = &is
		}
		next := edit(cur.Body)
		if next == cur.Body {
			return nil
		}
		again, err := repo.ReadIssue(ctx, n)
		if err != nil {
			return err
		}
		if again.Body != cur.Body {
			zerolog.Ctx(ctx).Debug().Int("issue", n).Int("attempt", attempt).Msg("the dashboard changed while daytwo wrote it; again")
			continue
		}
		return repo.SetIssueBody(ctx, n, next)
	}
	return errDashboardBusy
}

// dashboardFacts gathers what the dashboard shows, as /status and /diff read it: each
// service in each environment from Git, Argo CD where configured, the open daytwo pull
// requests, and the open incident issues. What cannot be read is said, not fatal.
func (r *Runner) dashboardFacts(ctx context.Context, t *target) dashboard.Facts {
	envs := t.cfg.EnvNames()
	f := dashboard.Facts{Envs: envs, ArgoCD: r.ArgoCD != nil}
	// The open incidents are listed while the tree is read.
	var (
		incidentList []githubapi.Issue
		incidentErr  error
		listed       = make(chan struct{})
	)
	go func() {
		defer close(listed)
		incidentList, incidentErr = t.repo.OpenIssuesLabelled(ctx, "daytwo", "incident")
	}()
	// Every overlay is rendered: the tree and its YAML files in two or three requests, not
	// one per file. Should that fail, files are read one by one.
	if _, err := t.snap.ReadTree(ctx, t.g, t.repo); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot read the repository ahead; reading file by file")
	}
	<-listed
	for _, e := range envs {
		if fr, ok := t.cfg.Frozen(e); ok {
			f.Frozen = append(f.Frozen, dashboard.Freeze{Env: e, Reason: fr.Reason})
		}
	}
	incidents := map[string][]dashboard.Link{} // "service/env" → issues
	if incidentErr != nil {
		f.Problems = append(f.Problems, "open incidents: "+userMessage(ctx, incidentErr))
	} else {
		for _, is := range incidentList {
			svc, env := labelValue(is.Labels, "service/"), labelValue(is.Labels, "env/")
			incidents[svc+"/"+env] = append(incidents[svc+"/"+env], dashboard.Link{Number: is.Number, URL: is.URL})
		}
	}
	names := t.cfg.ServiceNames()
	f.Services = make([]dashboard.Service, len(names))
	promos := make([][]dashboard.Promotion, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4) // rendering is CPU work; Argo CD answers are waited for alongside
	for i, name := range names {
		g.Go(func() error {
			f.Services[i], promos[i] = r.serviceFacts(gctx, t, name, envs, incidents)
			return nil
		})
	}
	_ = g.Wait()
	for _, p := range promos {
		f.Promotions = append(f.Promotions, p...)
	}
	return f
}

// serviceFacts is one service in every environment, and its pending promotions between
// consecutive environments.
func (r *Runner) serviceFacts(ctx context.Context, t *target, name string, envs []string, incidents map[string][]dashboard.Link) (dashboard.Service, []dashboard.Promotion) {
	svc, _ := t.cfg.Service(name)
	out := dashboard.Service{Name: name, Envs: make([]dashboard.Cell, len(envs))}
	desired := make([]*report.Desired, len(envs))
	prs := make([][]dashboard.Link, len(envs))
	for i, e := range envs {
		c := &out.Envs[i]
		c.Env = e
		_, c.Frozen = t.cfg.Frozen(e)
		for _, pr := range openFor(t.read, t.head.Branch, e, name) {
			prs[i] = append(prs[i], dashboard.Link{Number: pr.Number, URL: pr.URL})
		}
		c.PRs, c.Incidents = prs[i], incidents[name+"/"+e]
		d, err := report.ReadDesired(ctx, t.cfg, t.snap, name, e)
		if err != nil {
			c.Err = firstLine(err.Error())
			continue
		}
		desired[i] = d
		c.Deployed = d.Deployed
		for _, ct := range d.Containers {
			if !slices.Contains(c.Images, ct.Image) {
				c.Images = append(c.Images, ct.Image)
			}
		}
		for _, w := range d.Workloads {
			n := "default"
			if w.Replicas != nil {
				n = strconv.Itoa(*w.Replicas)
			}
			if len(d.Workloads) > 1 {
				n = w.Name + "=" + n
			}
			c.Replicas = append(c.Replicas, n)
		}
		if r.ArgoCD != nil && d.Deployed && svc.Deploys(e) {
			l := r.liveState(ctx, svc.ArgoCDAppName(e))
			c.Sync, c.Health, c.LiveErr = l.Sync, l.Health, l.Err
		}
	}
	var promos []dashboard.Promotion
	for i := 1; i < len(envs); i++ {
		a, b := desired[i-1], desired[i]
		if a == nil || b == nil || !a.Deployed || !b.Deployed {
			continue
		}
		d, err := report.Compare(a, b)
		if err != nil {
			continue
		}
		env, _ := t.cfg.Env(envs[i])
		if len(d.Images) == 0 && (!env.PromoteConfig || len(d.Config) == 0) {
			continue
		}
		p := dashboard.Promotion{Service: name, From: envs[i-1], To: envs[i], Version: a.Version(), Replaces: b.Version()}
		if len(prs[i]) > 0 {
			p.PR = &prs[i][0]
		}
		promos = append(promos, p)
	}
	return out, promos
}

// labelValue is what follows prefix in the first label carrying it ("service/checkout").
func labelValue(labels []string, prefix string) string {
	for _, l := range labels {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			return v
		}
	}
	return ""
}

// DashboardEdited acts on an edit of an issue's body: each box of daytwo's dashboard
// that the editor ticked runs its command as the editor, under the same policy as a
// comment, answered on the dashboard. A command that is not carried out has its box
// unticked, its status comment saying why. The app's own edits, and other bots', do
// nothing.
func (r *Runner) DashboardEdited(ctx context.Context, client *gh.Client, ev *gh.IssuesEvent, deliveryID string) error {
	is, sender := ev.GetIssue(), ev.GetSender()
	if sender.GetType() == "Bot" || strings.HasSuffix(sender.GetLogin(), "[bot]") || ev.GetChanges().GetBody() == nil {
		return nil
	}
	labels := make([]string, 0, len(is.Labels))
	for _, l := range is.Labels {
		labels = append(labels, l.GetName())
	}
	if is.IsPullRequest() || !isDashboard(is.GetTitle(), is.GetBody(), labels) {
		return nil
	}
	ticked := dashboard.Ticked(ev.GetChanges().GetBody().GetFrom(), is.GetBody())
	if len(ticked) == 0 {
		return nil
	}
	log := zerolog.Ctx(ctx).With().Int("dashboard", is.GetNumber()).Str("by", sender.GetLogin()).Logger()
	ctx = log.WithContext(ctx)
	req := Request{
		InstallationID: ev.GetInstallation().GetID(),
		Owner:          ev.GetRepo().GetOwner().GetLogin(),
		Repo:           ev.GetRepo().GetName(),
		Number:         is.GetNumber(),
		Author:         sender.GetLogin(),
		AuthorType:     sender.GetType(),
		Labels:         labels,
		URL:            is.GetHTMLURL(),
		DeliveryID:     deliveryID,
		ThreadNodeID:   is.GetNodeID(),
		Tick:           deliveryID,
	}
	repo := githubapi.Repo{Client: client, Owner: req.Owner, Name: req.Repo}
	thread := githubapi.Thread{Client: client, Owner: req.Owner, Repo: req.Repo, Number: req.Number}
	eyes := newReaction(ctx, thread, req)
	defer eyes.wait()
	var errs []error
	for i, box := range ticked {
		req.Index, req.Body = i+1, box.Command
		cmd, ok := r.tickCommand(box.Command)
		state := githubapi.StateRefused
		if ok {
			log.Info().Str("command", cmd.Name).Msg("running a ticked command")
			st, err := r.runCommand(ctx, client, req, cmd, eyes)
			errs = append(errs, err)
			if st != nil {
				state = st.mark.State
			}
		}
		if state == githubapi.StateRefused || state == githubapi.StateFailed {
			err := r.untick(ctx, repo, req.Number, box.Command)
			if err != nil {
				log.Warn().Err(err).Str("command", box.Command).Msg("cannot untick a refused box")
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// tickCommand parses the command a box carries, as a comment holding it would be.
func (r *Runner) tickCommand(line string) (command.Command, bool) {
	res := r.Commands.Parse(line)
	if len(res) != 1 || res[0].Command == nil {
		return command.Command{}, false
	}
	return *res[0].Command, true
}

// untick clears the tick of cmd's box on the dashboard, with the same care as any write.
func (r *Runner) untick(ctx context.Context, repo githubapi.Repo, n int, cmd string) error {
	lease, err := r.locks().Lock(ctx, dashboardLock(repo))
	if err != nil {
		return err
	}
	defer lease.Unlock()
	return writeDashboard(ctx, repo, n, nil, func(body string) string {
		out, _ := dashboard.Untick(body, cmd)
		return out
	})
}

// dashboardSoon brings repo's dashboard, if it has one, up to date after a change, a
// merge or a rollout: at most once per DashboardEvery for one repository, and always once
// more after the last call.
func (r *Runner) dashboardSoon(ctx context.Context, repo githubapi.Repo) {
	log := *zerolog.Ctx(ctx)
	r.dashboardQueue().soon(strings.ToLower(repo.FullName()), func() {
		ctx := log.WithContext(r.lifetime())
		// Most repositories (a service's own, one nobody asked a dashboard for) have none:
		// that costs one request, before anything is read.
		is, err := findDashboard(ctx, repo)
		if err != nil || is == nil {
			if err != nil {
				log.Warn().Err(err).Str("repo", repo.FullName()).Msg("cannot look for the dashboard")
			}
			return
		}
		t, err := r.target(ctx, repo.Client, r.graphql(repo.Client), repo.Owner, repo.Name)
		if err == nil && strings.EqualFold(t.repo.FullName(), repo.FullName()) {
			_, err = r.updateDashboard(ctx, t, false)
		}
		if err != nil {
			log.Warn().Err(err).Str("repo", repo.FullName()).Msg("cannot update the dashboard")
		}
	})
}

func (r *Runner) dashboardQueue() *coalescer {
	r.dashOnce.Do(func() {
		every := r.DashboardEvery
		if every <= 0 {
			every = DefaultDashboardEvery
		}
		r.dash = &coalescer{every: every, after: r.DashboardAfter, pending: map[string]func() bool{}}
	})
	return r.dash
}

// WaitDashboards blocks until the dashboard updates asked for so far are written (for
// tests).
func (r *Runner) WaitDashboards() { r.dashboardQueue().wait() }

// coalescer runs work for a key at most once per every: the first call schedules a run
// every later, calls before it starts join it, and a call after it started schedules the
// next. Each run reads what is current when it starts, so the last call is always served.
type coalescer struct {
	every time.Duration
	// after runs f after d and returns what stops it (time.AfterFunc when nil).
	after func(d time.Duration, f func()) (stop func() bool)

	mu      sync.Mutex
	pending map[string]func() bool // key → stop of its scheduled run
	closed  bool
	work    sync.WaitGroup // scheduled and running
}

func (c *coalescer) soon(key string, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pending[key]; ok || c.closed {
		return
	}
	after := c.after
	if after == nil {
		after = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	c.work.Add(1)
	c.pending[key] = after(c.every, func() {
		defer c.work.Done()
		c.mu.Lock()
		delete(c.pending, key)
		c.mu.Unlock()
		f()
	})
}

func (c *coalescer) wait() { c.work.Wait() }

// close drops the runs not started and waits for those running.
func (c *coalescer) close() {
	c.mu.Lock()
	c.closed = true
	for key, stop := range c.pending {
		if stop() {
			c.work.Done()
		}
		delete(c.pending, key)
	}
	c.mu.Unlock()
	c.work.Wait()
}
