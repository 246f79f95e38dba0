package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// A time-boxed change (--for) is a pull request of its own whose commit carries
// Daytwo-Expires. Once merged it keeps the label expiresLabel, the index the leader's
// Expire scans; when the time is up, Expire opens the change restoring what was there
// before, unless a later change superseded it. /extend and /cancel in the asking thread
// leave records (ExpiryMark) in their own status comments, which Expire reads.

// expiresLabel marks a time-boxed change whose expiry is pending.
const expiresLabel = "daytwo/expires"

// openFor lists the open changes of a service in an environment: its stack and its
// time-boxed changes.
func openFor(read *githubapi.DefaultRead, base, env, service string) []githubapi.PR {
	return slices.Concat(read.OpenOn(base, fmt.Sprintf("daytwo/%s/%s/", env, service)),
		read.OpenOn(base, fmt.Sprintf("%s%s/%s/", plan.TimeboxedBranches, env, service)))
}

// expiryNote is what the status says of a time-boxed change before it merges.
func expiryNote(cmd command.Command) string {
	if cmd.For <= 0 {
		return ""
	}
	return fmt.Sprintf(" ⏳ Time-boxed: expires %s after merge.", command.FormatDuration(cmd.For))
}

// dryRunExpiry says what a time-boxed change would restore, planned on snap.
func (r *Runner) dryRunExpiry(ctx context.Context, t *target, snap plan.Snapshot, cmd command.Command) string {
	head := fmt.Sprintf("⏳ Time-boxed: expires %s after merge", command.FormatDuration(cmd.For))
	before, err := r.Planner.ValuesAt(ctx, t.cfg, snap, cmd)
	if err != nil {
		return head + "; what it would restore cannot be told: " + userMessage(ctx, err)
	}
	lines, err := plan.Restore(cmd, before)
	if err != nil {
		return head + "; " + userMessage(ctx, err)
	}
	return head + "; daytwo then restores what is there now with " + codeList(lines) + "."
}

func codeList(lines []string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = markdown.Code(l)
	}
	return strings.Join(out, " and ")
}

// expiry is the pending expiry of one merged (or open) time-boxed change.
type expiry struct {
	repo     githubapi.Repo
	number   int
	url      string
	merged   *githubapi.Merged // nil while the pull request is open
	change   carried           // the time-boxed request's commit
	cmd      command.Command   // its command, with its service and environment
	st       *statusComment    // the request's status comment; nil when unreadable
	path     string            // what it changes: the overlay, or the config for a freeze
	base     time.Duration     // Daytwo-Expires
	extra    time.Duration     // the /extend records
	cancel   string            // who cancelled it, "" when nobody did
	extended []string          // who extended it
}

// ref is how records and trailers name the pull request: owner/name#number.
func (e *expiry) ref() string { return fmt.Sprintf("%s#%d", e.repo.FullName(), e.number) }

// due is when the change expires; zero before the merge.
func (e *expiry) due() time.Time {
	if e.merged == nil {
		return time.Time{}
	}
	return e.merged.MergedAt.Add(e.base + e.extra)
}

// thread is the asking thread's prefix of request ids: owner/name#number/.
func (e *expiry) thread() string {
	id := e.change.request()
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		if j := strings.LastIndexByte(id[:i], '/'); j >= 0 {
			return id[:j+1]
		}
	}
	return id
}

// readExpiry reads the time-boxed change pull request number carries, and the /extend and
// /cancel records of its thread; nil when it carries none.
func (r *Runner) readExpiry(ctx context.Context, repo githubapi.Repo, number int, url string, merged *githubapi.Merged, commits []githubapi.Commit) (*expiry, error) {
	var e *expiry
	for _, c := range requestsOf(commits) {
		if v := c.trailers[plan.TrailerExpires]; v != "" {
			d, err := command.ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("#%d: %s: %w", number, plan.TrailerExpires, err)
			}
			e = &expiry{repo: repo, number: number, url: url, merged: merged, change: c, base: d}
		}
	}
	if e == nil {
		return nil, nil
	}
	cmd, err := r.Commands.ParseLine(e.change.trailers[plan.TrailerCommand])
	if err != nil {
		return nil, fmt.Errorf("#%d: the command %q does not parse: %w", number, e.change.trailers[plan.TrailerCommand], err)
	}
	cmd.Service, cmd.Env, cmd.DryRun, cmd.BreakGlass = e.change.trailers[plan.TrailerService], e.change.trailers[plan.TrailerEnv], false, false
	e.cmd = cmd
	e.st = r.statusAt(ctx, repo, e.change.trailers[plan.TrailerStatus])
	if e.st == nil {
		return e, nil
	}
	// The records are in the asking thread, or on the pull request where /extend or
	// /cancel was written there.
	keep := func(m githubapi.StatusMark) bool { return m.Expiry != nil && strings.EqualFold(m.Expiry.PR, e.ref()) }
	records, err := e.st.thread.FindMarked(ctx, keep)
	if err != nil {
		return nil, err
	}
	if pr := (githubapi.Thread{Client: repo.Client, Owner: repo.Owner, Repo: repo.Name, Number: number}); !strings.EqualFold(pr.Owner+"/"+pr.Repo, e.st.thread.Owner+"/"+e.st.thread.Repo) || pr.Number != e.st.thread.Number {
		more, err := pr.FindMarked(ctx, keep)
		if err != nil {
			return nil, err
		}
		records = append(records, more...)
	}
	for _, p := range records {
		m, _ := githubapi.ParseStatusMark(p.Body)
		switch x := m.Expiry; {
		case x.Cancel:
			e.cancel = x.By
		case x.Extend != "":
			if d, err := command.ParseDuration(x.Extend); err == nil {
				e.extra += d
				e.extended = append(e.extended, x.By)
			}
		}
	}
	return e, nil
}

// expiresText is how a status shows when the change expires.
func (r *Runner) expiresText(e *expiry) string {
	if e.merged == nil {
		return fmt.Sprintf("expires %s after merge", command.FormatDuration(e.base+e.extra))
	}
	due := e.due()
	left := due.Sub(r.now()).Round(time.Minute)
	if left < time.Minute {
		return fmt.Sprintf("expires at %s (now)", due.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return fmt.Sprintf("expires at %s (in %s)", due.UTC().Format("2006-01-02 15:04 UTC"), command.FormatDuration(left))
}

// expiryStep is the status step of a merged time-boxed change: when it expires; "" for
// other changes.
func (r *Runner) expiryStep(ctx context.Context, repo githubapi.Repo, m *githubapi.Merged, commits []githubapi.Commit) string {
	e, err := r.readExpiry(ctx, repo, m.Number, m.URL, m, commits)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Int("pr", m.Number).Msg("cannot read the expiry of a time-boxed change")
	}
	if e == nil {
		return ""
	}
	return fmt.Sprintf("⏳ Time-boxed: %s; `/extend 1h` or `/cancel` here.", r.expiresText(e))
}

// Expire restores every time-boxed change whose time is up, in every GitOps repository
// of every installation. The leader calls it every minute.
func (r *Runner) Expire(ctx context.Context) error {
	log := zerolog.Ctx(ctx)
	return r.eachRepo(ctx, func(_ int64, repo githubapi.Repo) error {
		merged, err := repo.MergedWithLabel(ctx, expiresLabel)
		if err != nil {
			log.Warn().Err(err).Str("repo", repo.FullName()).Msg("cannot list the time-boxed changes")
			return nil
		}
		var errs []error
		for i := range merged {
			if err := r.expire(ctx, repo, &merged[i]); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
}

// expire restores one merged time-boxed change if its time is up. The lock keeps a
// second leader (or a second call) off it; the restore's own request id keeps a repeat
// after a crash from opening a second pull request.
func (r *Runner) expire(ctx context.Context, repo githubapi.Repo, m *githubapi.Merged) error {
	log := zerolog.Ctx(ctx).With().Str("repo", repo.FullName()).Int("pr", m.Number).Logger()
	ctx = log.WithContext(ctx)
	commits, err := repo.PullCommits(ctx, m.Number)
	if err != nil {
		return err
	}
	// Extensions only postpone it: before the trailer's time nothing more need be read.
	for _, c := range requestsOf(commits) {
		if d, err := command.ParseDuration(c.trailers[plan.TrailerExpires]); err == nil && r.now().Before(m.MergedAt.Add(d)) {
			return nil
		}
	}
	lease := r.tryLock(ctx, fmt.Sprintf("expire|%s#%d", repo.FullName(), m.Number))
	if lease == nil {
		return nil // another replica or call is on it
	}
	defer lease.Unlock()
	// Read under the lock, which /extend and /cancel take to write their records.
	e, err := r.readExpiry(ctx, repo, m.Number, m.URL, m, commits)
	if err != nil {
		return err
	}
	if e == nil {
		log.Warn().Msg("labelled as time-boxed, but no commit carries an expiry; dropping the label")
		return repo.RemoveLabel(ctx, m.Number, expiresLabel)
	}
	if e.cancel == "" && r.now().Before(e.due()) {
		return nil
	}
	if e.cancel != "" {
		return repo.RemoveLabel(ctx, m.Number, expiresLabel)
	}
	done, err := r.restore(ctx, e)
	if err != nil {
		return err
	}
	if done {
		return repo.RemoveLabel(ctx, m.Number, expiresLabel)
	}
	return nil
}

func (r *Runner) tryLock(ctx context.Context, key string) coord.Lease {
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	lease, err := r.locks().Lock(tctx, key)
	if err != nil {
		return nil
	}
	return lease
}

// tell adds a step to the change's status comment.
func (e *expiry) tell(ctx context.Context, step string) {
	if e.st != nil {
		e.st.step(ctx, step, "")
	}
}

// restore opens the change restoring what e's change replaced, or says why not. done is
// false when it should be tried again later.
func (r *Runner) restore(ctx context.Context, e *expiry) (done bool, err error) {
	t, _, err := r.readTarget(ctx, e.repo.Client, r.graphql(e.repo.Client), e.repo.Owner, e.repo.Name)
	if err != nil {
		return false, err
	}
	cmd := e.cmd
	e.path = repoconfig.Path
	if cmd.Name != "freeze" {
		svc, ok := t.cfg.Service(cmd.Service)
		if !ok {
			e.tell(ctx, fmt.Sprintf("⏰ Expired, but %s no longer lists the service %s: nothing restored.", repoconfig.Path, markdown.Code(cmd.Service)))
			return true, nil
		}
		e.path = svc.OverlayPath(cmd.Env)
	}
	// A later change of the same field supersedes this one: by its Daytwo-Sets, or, for a
	// commit of someone's own, by the field no longer holding what this change set. The
	// restore checks again under the target's lock (change).
	by, restored := r.supersededBy(ctx, t, e)
	switch {
	case restored:
		return true, nil // a restore merged already, and said so
	case by != "":
		e.tell(ctx, fmt.Sprintf("⏰ Expired, but superseded by %s: nothing restored.", by))
		return true, nil
	}
	if f, frozen := t.cfg.Frozen(cmd.Env); frozen && cmd.Name != "freeze" {
		// A freeze holds back the restore like any change: it is tried again each round.
		waiting := fmt.Sprintf("⏰ Expired, but %s: restoring once it is unfrozen.", markdown.Text(plan.FreezeText(cmd.Env, f)))
		if e.st != nil && !slices.Contains(e.st.steps, waiting) {
			e.tell(ctx, waiting)
		}
		return false, nil
	}
	parent, err := e.repo.FirstParent(ctx, e.merged.MergeCommit)
	if err != nil {
		return false, err
	}
	before, err := r.Planner.ValuesAt(ctx, t.cfg, githubapi.SnapshotAt(e.repo.Client, e.repo.Owner, e.repo.Name, parent), cmd)
	if err != nil {
		e.tell(ctx, "⏰ Expired, but what was there before cannot be read: "+userMessage(ctx, err)+" Nothing restored.")
		return true, nil
	}
	lines, err := plan.Restore(cmd, before)
	if err == nil && cmd.Name == "suspend" && r.lastTouchedBy(ctx, t, e.path, e.merged.MergeCommit) {
		// /resume renders the same, but keeps the patch /suspend wrote; with nothing else
		// changed in the overlay since, its files as they were before are exactly right.
		lines = []string{fmt.Sprintf("/rollback --to %s --service %s --env %s", parent, cmd.Service, cmd.Env)}
	}
	if err == nil {
		var cmds []command.Command
		if cmds, err = plan.RestoreCommands(lines); err == nil {
			return r.runRestore(ctx, e, lines, cmds)
		}
	}
	e.tell(ctx, "⏰ Expired: "+userMessage(ctx, err))
	return true, nil
}

// lastTouchedBy reports whether commit is the newest commit of the default branch that
// changed path.
func (r *Runner) lastTouchedBy(ctx context.Context, t *target, path, commit string) bool {
	log, err := t.snap.History().Log(ctx, []string{path}, 1)
	return err == nil && len(log) == 1 && log[0].SHA == commit
}

// supersededBy names the later change on path (the overlay, or the config for a freeze)
// that set what e's change set, or "". restored reports that a restore of e was merged
// already: its own restoring commits never supersede it.
func (r *Runner) supersededBy(ctx context.Context, t *target, e *expiry) (by string, restored bool) {
	since, err := e.repo.CommitsSince(ctx, e.merged.MergeCommit, t.head.Commit)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot read the commits since the merge")
	}
	touching := map[string]bool{}
	if len(since) > 0 {
		log, err := t.snap.History().Log(ctx, []string{e.path}, 100)
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot read the history of the overlay")
		}
		for _, c := range log {
			touching[c.SHA] = true
		}
	}
	var later []plan.CommitInfo // oldest first
	for _, c := range since {
		switch {
		case !touching[c.SHA]:
		case strings.EqualFold(c.Trailers[plan.TrailerRestores], e.ref()):
			restored = true
		default:
			later = append(later, c)
		}
	}
	name := func(c plan.CommitInfo) string {
		return fmt.Sprintf("`%s` (%s)", clip.SHA(c.SHA), markdown.Text(clip.Runes(firstLine(c.Message), 100)))
	}
	// The first change that overrode this one.
	for _, c := range later {
		if c.Trailers[plan.TrailerAction] != "" && plan.Overlaps(e.change.sets(), strings.Fields(c.Trailers[plan.TrailerSets])) {
			return name(c), restored
		}
	}
	if restored || len(later) == 0 {
		// Only its own restore changed the field since, if anything did.
		return "", restored
	}
	set, err := r.Planner.ValuesAt(ctx, t.cfg, githubapi.SnapshotAt(e.repo.Client, e.repo.Owner, e.repo.Name, e.merged.MergeCommit), e.cmd)
	if err != nil {
		return "", false
	}
	now, err := r.Planner.ValuesAt(ctx, t.cfg, t.snap, e.cmd)
	if err != nil || now.Equal(set) {
		return "", false
	}
	for i := len(later) - 1; i >= 0; i-- {
		if later[i].Trailers[plan.TrailerAction] == "" {
			return name(later[i]), false // the last of someone's own commits
		}
	}
	return name(later[len(later)-1]), false
}

// restoreKey identifies the i-th restoring request of a time-boxed change, in the thread
// that asked for the change, so /cancel there reaches it too.
func restoreKey(e *expiry, i int) string {
	return fmt.Sprintf("%sexpiry-%d/%d", e.thread(), e.number, i)
}

// runRestore carries out the restoring commands as requests of the change's requester,
// in the thread that asked, each on its own status comment.
func (r *Runner) runRestore(ctx context.Context, e *expiry, lines []string, cmds []command.Command) (bool, error) {
	if e.st == nil {
		return false, fmt.Errorf("%s: the status comment of the time-boxed change cannot be read", e.ref())
	}
	th := e.st.thread
	client := th.Client
	e.tell(ctx, fmt.Sprintf("⏰ Expired at %s: restoring with %s.", e.due().UTC().Format("2006-01-02 15:04 UTC"), codeList(lines)))
	var prs []string
	merged := true
	for i, cmd := range cmds {
		cmd.Line = lines[i]
		req := Request{
			Owner: th.Owner, Repo: th.Repo, Number: th.Number,
			Author: e.change.trailers[plan.TrailerRequester], AuthorType: "User",
			URL: e.url, Key: restoreKey(e, i+1), Restores: e.ref(), expiry: e,
		}
		if err := r.run(ctx, client, req, cmd, nil); err != nil {
			return false, err
		}
		found, err := th.FindStatus(ctx, req.Key)
		if err != nil || len(found) == 0 {
			return false, fmt.Errorf("%s: the status of the restore cannot be found: %w", e.ref(), err)
		}
		m, _ := githubapi.ParseStatusMark(found[0].Body)
		switch {
		case m.State == githubapi.StateWorking:
			return false, nil // another attempt is on it
		case m.PR != 0:
			prs = append(prs, fmt.Sprintf("#%d", m.PR))
			merged = merged && m.State == githubapi.StateMerged
		default:
			prs = append(prs, fmt.Sprintf("nothing (%s: see the status below)", m.State))
			merged = false
		}
	}
	if !merged {
		// Read again: the restore's own merge may have written to it meanwhile.
		if cur, err := resumeStatus(ctx, th, e.st.id); err == nil {
			e.st = cur
		}
		e.tell(ctx, fmt.Sprintf("🔀 The restore is in %s.", strings.Join(prs, ", ")))
	}
	return true, nil
}

// noteRestored tells the time-boxed change's status that the pull request restoring it
// merged.
func (r *Runner) noteRestored(ctx context.Context, repo githubapi.Repo, m *githubapi.Merged, commits []githubapi.Commit) {
	seen := map[string]bool{}
	for _, c := range requestsOf(commits) {
		ref := c.trailers[plan.TrailerRestores]
		if ref == "" || seen[ref] {
			continue
		}
		seen[ref] = true
		full, num, ok := strings.Cut(ref, "#")
		var n int
		if _, err := fmt.Sscan(num, &n); !ok || err != nil || !strings.EqualFold(full, repo.FullName()) {
			continue
		}
		orig, err := repo.PullCommits(ctx, n)
		if err != nil {
			continue
		}
		for _, s := range r.statusesFrom(ctx, repo, n, orig) {
			s.step(ctx, fmt.Sprintf("✅ Restored: [PR #%d](%s) merged as `%s`.", m.Number, m.URL, clip.SHA(m.MergeCommit)), "")
		}
	}
}

// pendingFrom lists the time-boxed changes asked for in req's thread whose expiry is
// pending: open, or merged and still labelled.
func (r *Runner) pendingFrom(ctx context.Context, t *target, req Request) ([]*expiry, error) {
	thread := fmt.Sprintf("%s#%d/", req.FullRepo(), req.Number)
	mine := func(e *expiry) bool {
		onThisPR := req.IsPR && e.number == req.Number && strings.EqualFold(req.FullRepo(), t.repo.FullName())
		return e.cancel == "" && (onThisPR || strings.HasPrefix(e.change.request(), thread))
	}
	var out []*expiry
	for _, p := range t.read.OpenOn(t.head.Branch, plan.TimeboxedBranches) {
		e, err := r.readExpiry(ctx, t.repo, p.Number, p.URL, nil, p.Commits)
		if err != nil {
			return nil, err
		}
		if e != nil && mine(e) {
			out = append(out, e)
		}
	}
	merged, err := t.repo.MergedWithLabel(ctx, expiresLabel)
	if err != nil {
		return nil, err
	}
	for i := range merged {
		commits, err := t.repo.PullCommits(ctx, merged[i].Number)
		if err != nil {
			return nil, err
		}
		e, err := r.readExpiry(ctx, t.repo, merged[i].Number, merged[i].URL, &merged[i], commits)
		if err != nil {
			return nil, err
		}
		if e != nil && mine(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// mayAct checks that who asked may /extend or /cancel (verb) the expiry of e: whoever
// may ask for e's command in its environment, or whom the environment's rule for verb
// names. It returns a refusal or "".
func (r *Runner) mayAct(ctx context.Context, t *target, req Request, e *expiry, verb string) (string, error) {
	env, ok := t.cfg.Env(e.cmd.Env)
	if !ok {
		return fmt.Sprintf("%s no longer lists the environment %s.", repoconfig.Path, markdown.Code(e.cmd.Env)), nil
	}
	rule := env.Allowed(e.cmd.Name)
	ok, have, err := qualifies(ctx, t.repo, req.Author, rule)
	if err != nil || ok {
		return "", err
	}
	if ok, _, err := qualifies(ctx, t.repo, req.Author, env.Allowed(verb)); err != nil || ok {
		return "", err
	}
	return fmt.Sprintf("@%s, `/%s` of the expiry of %s is for whoever may ask for `/%s` in %s: people with %s on %s; you have %s.",
		req.Author, verb, e.url, e.cmd.Name, env.Name, rule, t.repo.FullName(), describePermission(have)), nil
}

// extend postpones the pending expiries of the time-boxed changes asked for in this
// thread by cmd.For, recorded in this request's status mark.
func (r *Runner) extend(ctx context.Context, client *gh.Client, req Request, cmd command.Command, st *statusComment) {
	t, err := r.target(ctx, client, r.graphql(client), req.Owner, req.Repo)
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	pending, err := r.pendingFrom(ctx, t, req)
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	if len(pending) == 0 {
		st.fail(ctx, githubapi.StateRefused, "There is no time-boxed change from this thread whose expiry is pending, so there is nothing to extend. `--for <duration>` on /scale, /suspend, /config set, /set-image or /freeze makes one.")
		return
	}
	if len(pending) > 1 {
		st.fail(ctx, githubapi.StateRefused, fmt.Sprintf("Several time-boxed changes from this thread are pending (%s); write `/extend` on the pull request of the one to extend.", prList(pending)))
		return
	}
	e := pending[0]
	if refusal, err := r.mayAct(ctx, t, req, e, "extend"); err != nil || refusal != "" {
		if err != nil {
			st.failWith(ctx, err)
		} else {
			st.fail(ctx, githubapi.StateRefused, refusal)
		}
		return
	}
	lease, err := r.locks().Lock(ctx, "expire|"+e.ref())
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	defer lease.Unlock()
	if ok, err := r.stillPending(ctx, t, e); err != nil || !ok {
		if err != nil {
			st.failWith(ctx, err)
		} else {
			st.fail(ctx, githubapi.StateRefused, fmt.Sprintf("%s expired or was closed meanwhile: there is nothing left to extend.", e.url))
		}
		return
	}
	if total := e.base + e.extra + cmd.For; total > command.MaxFor {
		st.fail(ctx, githubapi.StateRefused, fmt.Sprintf("A change is time-boxed for 90 days at most; %s is at %s already.", e.url, command.FormatDuration(e.base+e.extra)))
		return
	}
	st.mark.Expiry = &githubapi.ExpiryMark{PR: e.ref(), Extend: command.FormatDuration(cmd.For), By: req.Author}
	e.extra += cmd.For
	text := fmt.Sprintf("⏳ @%s extended the expiry by %s: it %s.", req.Author, command.FormatDuration(cmd.For), r.expiresText(e))
	st.set(githubapi.StateAnswered, e.number).step(ctx, "", text)
	if e.st != nil && e.st.id != st.id {
		e.tell(ctx, text)
	}
}

// cancelExpiry cancels the pending expiries of the merged time-boxed changes asked for
// in this thread: the changes stay. It reports whether there was any.
func (r *Runner) cancelExpiry(ctx context.Context, t *target, req Request, st *statusComment) bool {
	pending, err := r.pendingFrom(ctx, t, req)
	if err != nil {
		st.failWith(ctx, err)
		return true
	}
	var done []string
	for _, e := range pending {
		if e.merged == nil {
			continue // open: /cancel closes its pull request instead
		}
		if refusal, err := r.mayAct(ctx, t, req, e, "cancel"); err != nil || refusal != "" {
			if err != nil {
				st.failWith(ctx, err)
			} else {
				st.fail(ctx, githubapi.StateRefused, refusal)
			}
			return true
		}
		lease, err := r.locks().Lock(ctx, "expire|"+e.ref())
		if err != nil {
			st.failWith(ctx, err)
			return true
		}
		ok, err := r.stillPending(ctx, t, e)
		if err != nil || !ok {
			lease.Unlock()
			if err != nil {
				st.failWith(ctx, err)
				return true
			}
			continue // expired meanwhile: its restore is under way
		}
		st.mark.Expiry = &githubapi.ExpiryMark{PR: e.ref(), Cancel: true, By: req.Author}
		err = t.repo.RemoveLabel(ctx, e.number, expiresLabel)
		lease.Unlock()
		if err != nil {
			st.failWith(ctx, err)
			return true
		}
		e.tell(ctx, fmt.Sprintf("⏹️ @%s cancelled the expiry: the change stays.", req.Author))
		done = append(done, fmt.Sprintf("#%d", e.number))
	}
	if len(done) == 0 {
		return false
	}
	st.set(githubapi.StateAnswered, 0).step(ctx, "", fmt.Sprintf("⏹️ Cancelled the expiry of %s: the change stays, nothing will be restored.", strings.Join(done, ", ")))
	return true
}

// stillPending reports whether e's expiry is still to come, read again under its lock:
// its pull request open, or merged and labelled.
func (r *Runner) stillPending(ctx context.Context, t *target, e *expiry) (bool, error) {
	if e.merged == nil {
		ms, err := t.repo.MergeState(ctx, e.number)
		if err != nil {
			return false, err
		}
		if ms.Open {
			return true, nil
		}
		if !ms.Merged {
			return false, nil
		}
	}
	return t.repo.HasLabel(ctx, e.number, expiresLabel)
}

func prList(es []*expiry) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = fmt.Sprintf("#%d", e.number)
	}
	return strings.Join(out, ", ")
}
