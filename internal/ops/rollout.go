package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
)

// ArgoCD is what following a rollout needs from Argo CD (argoapi.Client).
type ArgoCD interface {
	// Get reads the app's state.
	Get(ctx context.Context, app string) (argoapi.State, error)
	// Refresh asks Argo CD to compare the app with Git now instead of at its next poll.
	Refresh(ctx context.Context, app string) (argoapi.State, error)
	// Sync starts a sync of the app to revision.
	Sync(ctx context.Context, app, revision string) error
	// Wait follows the app until it is synced to revision and healthy (nil error), degraded
	// or its sync failed (argoapi.ErrUnhealthy), or ctx ends; onChange sees each state.
	Wait(ctx context.Context, app, revision string, onChange func(argoapi.State)) (argoapi.State, error)
	// SyncApp syncs the app to revision ("": its target revision), as /sync asks, and
	// follows the sync to its end; RefreshApp is /refresh.
	SyncApp(ctx context.Context, app, revision string) (argoapi.Outcome, error)
	RefreshApp(ctx context.Context, app string, hard bool) (argoapi.Outcome, error)
}

// rollingOut marks a merged change PR whose rollout daytwo has not reported yet. It lives
// on GitHub, so a restarted daytwo finds the rollouts it was following (Resume).
const rollingOut = "daytwo/rolling-out"

// rollout is a merged change and where to report on it.
type rollout struct {
	repo    githubapi.Repo
	pr      githubapi.Merged
	service string
	env     string
	st      statusComments // of every request the change carries; empty when the comments are gone
	lost    func() bool    // the rollout's lock was lost: another replica reports it
}

// startRollout follows a merged change in the background: the webhook queue never waits
// for Argo CD. The PR is labelled first, so a restart picks the rollout up again.
func (r *Runner) startRollout(ctx context.Context, ro rollout) {
	if r.ArgoCD == nil {
		return
	}
	if err := ro.repo.AddLabel(ctx, ro.pr.Number, rollingOut); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot mark the rollout; a restart will not resume it")
	}
	if lease := r.tryRolloutLock(ctx, ro.repo, ro.pr.Number); lease != nil {
		r.goFollow(zerolog.Ctx(ctx), lease, ro)
	}
}

// tryRolloutLock takes the lock that makes one replica follow a rollout; nil when another
// follower holds it.
func (r *Runner) tryRolloutLock(ctx context.Context, repo githubapi.Repo, number int) coord.Lease {
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	lease, err := r.locks().Lock(tctx, fmt.Sprintf("rollout|%s|%d", repo.FullName(), number))
	if err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Int("pr", number).Msg("the rollout is followed elsewhere")
		return nil
	}
	return lease
}

// goFollow follows ro in the background, for as long as the runner lives and holds the
// rollout's lease.
func (r *Runner) goFollow(log *zerolog.Logger, lease coord.Lease, ro rollout) {
	bg, cancel := context.WithCancel(log.WithContext(r.lifetime()))
	ro.lost = func() bool {
		select {
		case <-lease.Lost():
			return true
		default:
			return false
		}
	}
	r.rollouts.Add(1)
	go func() {
		defer r.rollouts.Done()
		defer lease.Unlock()
		defer cancel()
		go func() {
			select {
			case <-lease.Lost():
				cancel()
			case <-bg.Done():
			}
		}()
		r.follow(bg, ro)
	}()
}

// lifetime is cancelled by Close.
func (r *Runner) lifetime() context.Context {
	r.lifeOnce.Do(func() { r.life, r.endLife = context.WithCancel(context.Background()) })
	return r.life
}

// WaitRollouts blocks until the rollouts and the syncs being followed are reported (for
// tests).
func (r *Runner) WaitRollouts() { r.rollouts.Wait() }

// Close stops following rollouts without reporting on them: they stay marked, and the next
// daytwo resumes them.
func (r *Runner) Close() {
	r.lifetime()
	r.endLife()
	r.rollouts.Wait()
	r.dashboardQueue().close()
}

// follow asks Argo CD to refresh (and sync where the environment lets daytwo), then reports
// on the status comment as a timeline, as a check run on the merge commit, and, once
// healthy, by closing the asking issue; a degraded rollout offers the /rollback to reply.
func (r *Runner) follow(ctx context.Context, ro rollout) {
	log := zerolog.Ctx(ctx).With().Int("pr", ro.pr.Number).Str("service", ro.service).Str("env", ro.env).Logger()
	ctx = log.WithContext(ctx)
	start := time.Now()
	t, err := r.target(ctx, ro.repo.Client, r.graphql(ro.repo.Client), ro.repo.Owner, ro.repo.Name)
	if err != nil {
		r.reportRollout(ctx, ro, "", fmt.Sprintf("⚠️ Cannot follow the rollout: %s", userMessage(ctx, err)), "neutral")
		return
	}
	env, okEnv := t.cfg.Env(ro.env)
	svc, okSvc := t.cfg.Service(ro.service)
	if !okEnv || !okSvc {
		r.reportRollout(ctx, ro, "", fmt.Sprintf("⚠️ %s/%s is no longer in `.github/daytwo.yml`; not following the rollout.", ro.service, ro.env), "neutral")
		return
	}
	app := svc.ArgoCDAppName(ro.env)
	ctx, cancel := context.WithTimeout(ctx, env.ArgoCD.Timeout)
	defer cancel()

	live, err := retry(ctx, func() (argoapi.State, error) { return r.ArgoCD.Refresh(ctx, app) })
	if err != nil {
		r.reportRollout(ctx, ro, "", fmt.Sprintf("⚠️ Argo CD did not answer for `%s` (%v); it will still roll the change out on its next poll. Check the app in Argo CD.", app, err), "neutral")
		return
	}
	asked := fmt.Sprintf("🔄 Asked Argo CD to refresh `%s`", app)
	if env.ArgoCD.Sync && !live.AutoSync {
		if _, err := retry(ctx, func() (argoapi.State, error) { return argoapi.State{}, r.ArgoCD.Sync(ctx, app, ro.pr.MergeCommit) }); err != nil {
			r.reportRollout(ctx, ro, asked, fmt.Sprintf("⚠️ Argo CD refused to sync `%s`: %v. Sync it in Argo CD.", app, err), "failure")
			return
		}
		asked += " and sync it"
	}
	if len(ro.st) > 0 {
		ro.st.step(ctx, asked, "⏳ Waiting for `"+app+"` to sync to `"+clip.SHA(ro.pr.MergeCommit)+"`…")
	}

	// Until Argo CD has seen the merge commit, the refresh is asked again every few seconds:
	// a git server may answer the first one from a replica that lacks the commit yet.
	seen := make(chan struct{})
	var seenOnce sync.Once
	go func() {
		t := time.NewTicker(r.refreshEvery())
		defer t.Stop()
		for {
			select {
			case <-seen:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := r.ArgoCD.Refresh(ctx, app); err != nil {
					log.Debug().Err(err).Msg("refresh again")
				}
			}
		}
	}()
	defer seenOnce.Do(func() { close(seen) })
	var syncedAt time.Duration
	onChange := func(l argoapi.State) {
		if l.SyncedTo(ro.pr.MergeCommit) || argoRevision(l.OperationRevision, ro.pr.MergeCommit) {
			seenOnce.Do(func() { close(seen) })
		}
		if syncedAt == 0 && l.SyncedTo(ro.pr.MergeCommit) {
			syncedAt = time.Since(start)
			if len(ro.st) > 0 {
				ro.st.step(ctx, fmt.Sprintf("✅ Synced at `%s` after %s", clip.SHA(l.Revision), roundSeconds(syncedAt)), "⏳ Waiting for `"+app+"` to be healthy…")
			}
		}
	}
	live, err = r.ArgoCD.Wait(ctx, app, ro.pr.MergeCommit, onChange)
	took := roundSeconds(time.Since(start))
	switch {
	case err == nil:
		r.reportRollout(ctx, ro, fmt.Sprintf("💚 %s is Healthy in %s", app, took), "🚀 Rolled out.", "success")
		for _, st := range ro.st { // the requests are done: their issues (not PR conversations) are closed
			asking := githubapi.Repo{Client: st.thread.Client, Owner: st.thread.Owner, Name: st.thread.Repo}
			if err := asking.CloseIssue(context.WithoutCancel(ctx), st.thread.Number); err != nil {
				log.Warn().Err(err).Msg("cannot close the asking issue")
			}
		}
	case errors.Is(err, argoapi.ErrUnhealthy):
		r.reportRollout(ctx, ro, fmt.Sprintf("💔 %s is %s after %s", app, orDash(live.Health), took), unhealthyText(live, ro), "failure")
	case ctx.Err() != nil && live.SyncedTo(ro.pr.MergeCommit) && !live.HealthAssessed(ro.pr.MergeCommit):
		// What status.health says is Argo CD's verdict on what ran before the sync.
		r.reportRollout(ctx, ro, "", fmt.Sprintf("⌛ `%s` synced to `%s`, but Argo CD did not assess its health after the sync within %s (its last verdict, from before the sync: %s). Check the app in Argo CD. %s", app, clip.SHA(ro.pr.MergeCommit), env.ArgoCD.Timeout, orDash(live.Health), rollbackOffer(ro)), "timed_out")
	case ctx.Err() != nil:
		r.reportRollout(ctx, ro, "", fmt.Sprintf("⌛ `%s` was not synced and healthy within %s (last seen: %s, %s). %s", app, env.ArgoCD.Timeout, orDash(live.Sync), orDash(live.Health), rollbackOffer(ro)), "timed_out")
	default:
		r.reportRollout(ctx, ro, "", fmt.Sprintf("⚠️ Lost track of `%s` in Argo CD: %v. Check the app in Argo CD.", app, err), "neutral")
	}
}

// reportRollout ends a followed rollout: the status comment, the check run on the merge
// commit, and the PR's mark taken off.
func (r *Runner) reportRollout(ctx context.Context, ro rollout, done, now, conclusion string) {
	if r.lifetime().Err() != nil || ro.lost != nil && ro.lost() {
		return // shutting down, or the lock was lost: the next follower reports it
	}
	ctx = context.WithoutCancel(ctx)
	log := zerolog.Ctx(ctx)
	summary := strings.TrimSpace(done + "\n\n" + now)
	if err := ro.repo.Check(ctx, ro.pr.MergeCommit, "daytwo/rollout", conclusion, "Rollout of "+ro.service+" in "+ro.env, summary); err != nil {
		log.Warn().Err(err).Msg("cannot publish the rollout check")
		// The status says the check is missing, after what it would have said.
		for _, st := range ro.st {
			if done != "" {
				st.steps = append(st.steps, done)
			}
		}
		done = refusalText(ro.repo.FullName(), prRef{ro.pr.Number, ro.pr.URL}, githubapi.RefusalOf(githubapi.StepRolloutRun, nil, err))
	}
	ro.st.step(ctx, done, now)
	r.dashboardSoon(ctx, ro.repo)
	if err := ro.repo.RemoveLabel(ctx, ro.pr.Number, rollingOut); err != nil {
		log.Warn().Err(err).Msg("cannot unmark the rollout")
	}
}

func unhealthyText(l argoapi.State, ro rollout) string {
	var b strings.Builder
	b.WriteString("Unhealthy resources:\n\n")
	if len(l.Unhealthy) == 0 {
		fmt.Fprintf(&b, "- (none named) %s\n", strings.TrimSpace(l.Message+" "+l.HealthMessage))
	}
	for i, res := range l.Unhealthy {
		if i == 20 {
			fmt.Fprintf(&b, "- … and %d more\n", len(l.Unhealthy)-i)
			break
		}
		name := res.Kind + "/" + res.Name
		if res.Namespace != "" {
			name = res.Namespace + "/" + name
		}
		fmt.Fprintf(&b, "- `%s` %s: %s\n", name, res.Health, strings.ReplaceAll(strings.TrimSpace(res.Message), "\n", " "))
	}
	b.WriteString("\n")
	b.WriteString(rollbackOffer(ro))
	return b.String()
}

func rollbackOffer(ro rollout) string {
	return fmt.Sprintf("To undo it, reply:\n\n```\n/rollback --service %s --env %s\n```", ro.service, ro.env)
}

// retry calls f until it succeeds or ctx ends, backing off from 250 ms to 5 s: Argo CD may
// be restarting or slow, and a rollout outlives that.
func retry(ctx context.Context, f func() (argoapi.State, error)) (argoapi.State, error) {
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		l, err := f()
		if err == nil || attempt == 6 || errors.Is(err, argoapi.ErrPermanent) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return l, err
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// refreshEvery paces repeated refreshes while Argo CD has not seen the merge commit.
func (r *Runner) refreshEvery() time.Duration {
	if r.RefreshEvery > 0 {
		return r.RefreshEvery
	}
	return 5 * time.Second
}

func argoRevision(a, b string) bool {
	return len(a) >= 7 && len(b) >= 7 && (strings.HasPrefix(a, b) || strings.HasPrefix(b, a))
}

func roundSeconds(d time.Duration) string {
	if d < time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func orDash(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Resume follows again the rollouts a previous daytwo was following when it stopped: the
// merged change PRs still marked daytwo/rolling-out, in every repository of every
// installation, that no one follows (holds the rollout's lock). The leader runs it now and
// then, so a rollout whose follower died is taken over.
func (r *Runner) Resume(ctx context.Context) error {
	if r.ArgoCD == nil {
		return nil
	}
	log := zerolog.Ctx(ctx)
	return r.eachRepo(ctx, func(_ int64, repo githubapi.Repo) error {
		merged, err := repo.MergedWithLabel(ctx, rollingOut)
		if err != nil {
			log.Warn().Err(err).Str("repo", repo.FullName()).Msg("cannot list unreported rollouts")
			return nil
		}
		for _, m := range merged {
			lease := r.tryRolloutLock(ctx, repo, m.Number)
			if lease == nil {
				continue // followed by this or another replica
			}
			// What it rolls out, and to whom to report, is in its commits' trailers.
			commits, err := repo.PullCommits(ctx, m.Number)
			_, service, env, ok := targetOf(commits)
			if err != nil || !ok {
				log.Warn().Err(err).Str("repo", repo.FullName()).Int("pr", m.Number).Msg("cannot tell what a merged change rolls out; trying again later")
				lease.Unlock()
				continue
			}
			log.Info().Str("repo", repo.FullName()).Int("pr", m.Number).Msg("resuming a rollout")
			ro := rollout{repo: repo, pr: m, service: service, env: env, st: r.statusesFrom(ctx, repo, m.Number, commits)}
			r.goFollow(log, lease, ro)
		}
		return nil
	})
}
