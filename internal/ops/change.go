package ops

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/codeowners"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// change plans cmd on t and writes it: as a new pull request when the target has no open
// change, or as one more commit on the one it has (its stack). What it has to say goes to
// the status comment, except the error it returns; an error means nothing of the request
// was written.
//
// again is set when an earlier attempt may have written the request (it ended in a
// conflict): the request's own PR, merged or closed since (but not withdrawn by daytwo
// itself), is then its answer.
func (r *Runner) change(ctx context.Context, st *statusComment, t *target, req Request, cmd command.Command, again bool, withdrawn map[int]bool) error {
	log := zerolog.Ctx(ctx)
	preq := plan.Input{
		Command: cmd, Requester: req.Author, Origin: req.URL,
		OriginKey: req.ID(), ID: req.ID(), Status: statusRef(st),
		Labels: req.Labels, Repo: req.FullRepo(), Now: r.now(), Restores: req.Restores,
	}
	resolved, err := r.Planner.Resolve(t.cfg, preq)
	if err != nil {
		return err
	}
	env, _ := t.cfg.Env(resolved.Env)
	svc, _ := t.cfg.Service(resolved.Service)

	// One open change per (service, env): a request for a target with an open one is added
	// to it, planned on its head. Requests for one target run one at a time here; other
	// replicas are held off by the compare-and-swap on the branch.
	lease, err := r.locks().Lock(ctx, t.repo.FullName()+"|"+resolved.Service+"|"+resolved.Env)
	if err != nil {
		return fmt.Errorf("lock %s in %s: %w", resolved.Service, resolved.Env, err)
	}
	defer lease.Unlock()
	log.Debug().Int64("fence", lease.Token()).Msg("target locked")
	if lease.Waited() || !t.read.OpenComplete {
		// A command for the same target ran meanwhile: what is open must be read again.
		fresh, _, err := r.readTarget(ctx, t.repo.Client, t.g, t.repo.Owner, t.repo.Name)
		if err != nil {
			return err
		}
		t = fresh
	}
	if e := req.expiry; e != nil && !resolved.DryRun {
		if by, _ := r.supersededBy(ctx, t, e); by != "" {
			return plan.Errorf(plan.NoChange, "Superseded by %s since the expiry was checked: nothing restored.", by)
		}
	}

	owners, err := githubapi.ReadCodeOwners(ctx, t.snap)
	if err != nil {
		log.Warn().Err(err).Msg("cannot read CODEOWNERS; opening the PR without review requests")
	}
	prefix := fmt.Sprintf("daytwo/%s/%s/", resolved.Env, resolved.Service)
	if again && !resolved.DryRun {
		if done, err := r.endedBefore(ctx, t.repo, plan.BranchFor(resolved, preq), withdrawn, st); done || err != nil {
			return err
		}
		// Added to another request's PR, which merged since.
		if sha, n := mergedBefore(ctx, t.snap, svc, resolved.Env, req.ID()); sha != "" {
			r.answerEnded(ctx, t.repo, n, true, st)
			return nil
		}
	}
	var stack *githubapi.PR
	open := t.read.OpenOn(t.head.Branch, prefix)
	timeboxed := resolved.For > 0
	if timeboxed {
		// A time-boxed change has a pull request of its own (see plan.TimeboxedBranches):
		// the only one to find is this request's, written by an earlier attempt.
		open = nil
		for _, p := range t.read.OpenOn(t.head.Branch, plan.TimeboxedBranches) {
			if _, ok := carries(p.Commits, req.ID()); ok {
				open = append(open, p)
			}
		}
		prefix = ""
	}
	if len(open) > 0 {
		stack = &open[0] // the oldest: a newer one lost a race and is giving way to it
	}
	if again && !resolved.DryRun {
		// An earlier attempt whose answer was lost may have opened this request's own PR
		// beside an older one of the target: it gives way now, as it would have then.
		for i := 1; i < len(open); i++ {
			if _, ok := carries(open[i].Commits, req.ID()); ok && len(requestsOf(open[i].Commits)) == 1 {
				t.repo.GiveWay(ctx, &open[i], open[0].Number)
			}
		}
	}
	labels := []string{"daytwo", "env/" + resolved.Env, "action/" + resolved.Name}
	if timeboxed {
		labels = append(labels, expiresLabel)
	}
	if stack != nil && !resolved.DryRun {
		if c, ok := carries(stack.Commits, req.ID()); ok {
			probe := repoconfig.Path
			if svc != nil {
				probe = path.Join(svc.OverlayPath(resolved.Env), "kustomization.yaml")
			}
			refused := r.finishCarried(ctx, t, stack, labels, ownersOf(owners, []string{probe}, req.Author))
			st.steps = append(st.steps, "📝 Planned: "+markdown.Text(firstLine(c.Message)))
			for _, ref := range groupRefusals(refused) {
				st.steps = append(st.steps, refusalText(t.repo.FullName(), prRef{stack.Number, stack.URL}, ref))
			}
			st.set(githubapi.StateOpen, stack.Number).write(ctx, fmt.Sprintf("🔀 In %s — the change is there already (written by an earlier attempt of this request).", stack.URL))
			// The PR may have moved on since it was read (a later request, a merge).
			if ms, err := t.repo.MergeState(ctx, stack.Number); err == nil {
				r.reconcile(ctx, t.repo, stack, ms.PRState(), st)
			}
			// The earlier attempt may have been cut off before telling the requests this one
			// overrides (noteOverridden); they are told now.
			r.statusesOf(ctx, t.repo, stack.Number)
			return nil
		}
	}

	// Who asked and what the overlay holds are independent reads: one round trip for both.
	snap, base := t.snap, t.head
	if stack != nil {
		base = githubapi.Head{Branch: t.head.Branch, Commit: stack.HeadSHA}
		snap = githubapi.SnapshotAt(t.repo.Client, t.repo.Owner, t.repo.Name, stack.HeadSHA)
	}
	var (
		refusal string
		ids     *githubapi.ChangeRead
	)
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) {
		if req.Restores != "" {
			// Restoring a time-boxed change was part of that change, allowed when it was asked.
			return nil
		}
		refusal, err = r.mayRequest(gctx, t.repo, req.Author, resolved, env)
		return err
	})
	eg.Go(func() (err error) {
		if ids, err = t.repo.Prefetch(gctx, t.g, snap, readAhead(svc, resolved.Env, labels, owners, req.Author)); err != nil {
			log.Warn().Err(err).Msg("reading ahead failed; reading file by file")
		}
		return nil
	})
	if err := eg.Wait(); err != nil {
		return err
	}
	if refusal != "" {
		return plan.Errorf(plan.Forbidden, "%s", refusal)
	}

	preq.Command = resolved
	cs, err := r.Planner.PlanResolved(ctx, t.cfg, t.cfgFile, snap, snap.History(), preq)
	if stack != nil && plan.ErrorCode(err) == plan.NoChange {
		return plan.Errorf(plan.NoChange, "Nothing to add: with %s, which is open for %s in %s, this is already the case. Follow that pull request.", stack.URL, resolved.Service, resolved.Env)
	}
	if plan.ErrorCode(err) == plan.NoChange && !again {
		// Nothing to change may mean this very request was merged already (an earlier
		// attempt's PR, merged meanwhile): then that is the answer, not a refusal. A retry
		// looked at the same history before planning.
		if sha, n := mergedBefore(ctx, snap, svc, resolved.Env, req.ID()); sha != "" {
			r.answerEnded(ctx, t.repo, n, true, st)
			return nil
		}
	}
	if err != nil {
		return err
	}
	if resolved.DryRun {
		text := dryRunText(cs)
		if timeboxed {
			text = r.dryRunExpiry(ctx, t, snap, resolved) + "\n\n" + text
		}
		st.set(githubapi.StateDryRun, 0).step(ctx, "", text)
		return nil
	}

	reviewers := reviewersOf(owners, cs, req.Author)
	select {
	case <-lease.Lost():
		// Another replica may hold the target now: stop before writing and plan again.
		return &plan.Error{Code: plan.Conflict, Msg: "the lock of the target expired while planning; plan again", Err: coord.ErrLost}
	default:
	}
	var pr *githubapi.PR
	if stack == nil {
		pr, err = t.repo.CreateChange(ctx, t.g, t.read.RepoID, cs, githubapi.ChangeOptions{Base: base, Labels: labels, Reviewers: reviewers, StackPrefix: prefix})
	} else {
		pr, err = t.repo.AppendChange(ctx, t.g, cs, *stack)
	}
	if err != nil {
		return err
	}
	// From here on the change is in pr: what fails is reported, never as "not done".
	verb := "Opened"
	fin := githubapi.Finish{
		IDs: ids, RepoID: t.read.RepoID, Labels: labels, Reviewers: reviewers,
		Check:         &githubapi.CheckRun{Name: "daytwo/render", Conclusion: "success", Title: "The change renders", Summary: renderSummary(cs)},
		CommentNodeID: st.nodeID,
	}
	if !pr.Fresh {
		verb = "Added to"
		fin.Title, fin.Body = stackText(pr.Body, resolved.Service, resolved.Env, pr.Commits)
		if pr.Labels != nil {
			fin.Labels = missingLabels(labels, pr.Labels) // the stack has the others
		}
	}
	next := fmt.Sprintf("🔀 %s %s — %s%s", verb, pr.URL, waitingText(env, reviewers), expiryNote(resolved))
	fin.CommentBody = st.set(githubapi.StateOpen, pr.Number).advance(fmt.Sprintf("📝 Planned: %s (risk: %s)", markdown.Text(cs.Summary), cs.Risk), next)
	if pr.NodeID == "" || st.nodeID == "" {
		fin.CommentNodeID = ""
	}
	done, err := t.repo.FinishChange(ctx, t.g, pr, fin)
	r.dashboardSoon(ctx, t.repo)
	if err != nil {
		// A new pull request GitHub would not label was withdrawn: the request failed.
		log.Warn().Err(err).Int("pr", pr.Number).Msg("the new pull request was withdrawn")
		st.fail(ctx, githubapi.StateFailed, withdrawnText(t.repo.FullName(), prRef{pr.Number, pr.URL}, pr.Branch, err))
		return nil
	}
	if len(done.Refused) > 0 {
		// The status says what GitHub did not do, and names as reviewers only those it asked.
		refused := refusedReviewers(done.Refused)
		asked := slices.DeleteFunc(slices.Clone(reviewers), func(r string) bool {
			return slices.ContainsFunc(refused, func(x string) bool { return strings.EqualFold(strings.TrimPrefix(r, "@"), x) })
		})
		for _, ref := range groupRefusals(done.Refused) {
			log.Warn().Err(ref).Int("pr", pr.Number).Msg("GitHub refused a step of the change")
			st.steps = append(st.steps, refusalText(t.repo.FullName(), prRef{pr.Number, pr.URL}, ref))
		}
		next = fmt.Sprintf("🔀 %s %s — %s%s", verb, pr.URL, waitingText(env, asked), expiryNote(resolved))
		done.Commented = false
	}
	if !done.Commented {
		st.write(ctx, next)
	}
	if done.HeadAfter != "" && (done.HeadAfter != pr.HeadSHA || done.State != "OPEN") {
		// The PR moved on before "open" reached the status: a later request may have
		// overridden this one, or a merge taken it along. Say what holds now.
		r.reconcile(ctx, t.repo, pr, done.State, st)
	}
	if !pr.Fresh {
		if done.HeadAfterEdit != pr.HeadSHA {
			r.retitle(ctx, t.repo, *pr, resolved.Service, resolved.Env)
		}
		r.noteOverridden(ctx, t.repo, pr, cs, req)
	}
	if resolved.BreakGlass {
		if err := r.breakGlass(ctx, t, cs, pr, req); err != nil {
			st.step(ctx, refusalText(t.repo.FullName(), prRef{pr.Number, pr.URL}, githubapi.RefusalOf(githubapi.StepIssue, nil, err)), next)
		}
	}
	if why := mergeReason(env, resolved.BreakGlass); why != "" {
		r.tryMerge(ctx, t.repo, *pr, st, why)
	}
	return nil
}

// mayRequest checks who asked against the environment's policy for the command (and for
// --break-glass). It returns a refusal naming what is required, or "".
func (r *Runner) mayRequest(ctx context.Context, repo githubapi.Repo, login string, cmd command.Command, env *repoconfig.Environment) (string, error) {
	// Breaking glass is judged by the environment's breakGlass rule alone: it names who may
	// act in an emergency, whatever the everyday rule of the command.
	if cmd.BreakGlass {
		if env.BreakGlass == nil {
			return fmt.Sprintf("%s does not allow `--break-glass` (no `breakGlass` rule in `%s`); repeat without it.", env.Name, repoconfig.Path), nil
		}
		ok, _, err := qualifies(ctx, repo, login, *env.BreakGlass)
		if err != nil || ok {
			return "", err
		}
		return fmt.Sprintf("@%s, `--break-glass` in %s is for people with %s; repeat without it.", login, env.Name, env.BreakGlass), nil
	}
	rule := env.Allowed(cmd.Name)
	ok, have, err := qualifies(ctx, repo, login, rule)
	if err != nil || ok {
		return "", err
	}
	return fmt.Sprintf("@%s, `/%s` in %s may be requested by people with %s on %s; you have %s. "+
		"Ask someone who qualifies, or the repository admins to change `requesters` in `%s`.",
		login, cmd.Name, env.Name, rule, repo.FullName(), describePermission(have), repoconfig.Path), nil
}

// qualifies reports whether login meets any one part of rule, and their permission.
func qualifies(ctx context.Context, repo githubapi.Repo, login string, rule repoconfig.Rule) (bool, string, error) {
	if slices.ContainsFunc(rule.Users, func(u string) bool { return strings.EqualFold(u, login) }) {
		return true, "", nil
	}
	perm, err := repo.Permission(ctx, login)
	if err != nil {
		return false, "", err
	}
	want := rule.Permission
	if rule.Empty() {
		want = "write"
	}
	if want != "" && repoconfig.PermissionAtLeast(perm, want) {
		return true, perm, nil
	}
	for _, team := range rule.Teams {
		org, slug, _ := strings.Cut(team, "/")
		member, err := repo.TeamMember(ctx, org, slug, login)
		if err != nil {
			return false, perm, err
		}
		if member {
			return true, perm, nil
		}
	}
	return false, perm, nil
}

func describePermission(p string) string {
	if p == "" || p == "none" {
		return "no access"
	}
	return p + " permission"
}

// readAhead is what planning a change of svc in env reads: the overlay and the directory
// two levels up (where bases usually live), the catalog file, the PR labels, and the ids
// of the code owners of the overlay's files.
func readAhead(svc *repoconfig.Service, env string, labels []string, owners *codeowners.Owners, requester string) githubapi.ReadSpec {
	spec := githubapi.ReadSpec{Labels: labels}
	probes := []string{repoconfig.Path} // environment commands (freeze) change the config
	if svc != nil {
		overlay := svc.OverlayPath(env)
		spec.Dirs = append(spec.Dirs, overlay)
		if up := path.Dir(path.Dir(overlay)); up != "." && up != "/" {
			spec.Dirs = append(spec.Dirs, up)
		}
		if c := svc.CatalogPath(); c != "" {
			spec.Files = append(spec.Files, c)
		}
		probes = append(probes, path.Join(overlay, "kustomization.yaml"))
	}
	if owners != nil {
		for _, o := range owners.For(probes...) {
			if strings.EqualFold(o, requester) {
				continue
			}
			if strings.Contains(o, "/") {
				spec.Teams = append(spec.Teams, o)
			} else {
				spec.Users = append(spec.Users, o)
			}
		}
	}
	return spec
}

// mergeReason is why daytwo merges a change in env without waiting for a person: the
// environment auto-merges, or the request broke glass; "" when it waits.
func mergeReason(env *repoconfig.Environment, breakGlass bool) string {
	switch {
	case !env.ApprovalRequired() && env.AutoMerge:
		return "the environment auto-merges"
	case !env.ApprovalRequired():
		return "the environment needs no approval"
	case breakGlass:
		return "`--break-glass`: merged without waiting for approval"
	}
	return ""
}

// withdrawnText says that a new pull request was closed again because GitHub refused a
// step it cannot stay open without (its labels, its review requests), in GitHub's words.
func withdrawnText(repo string, pr prRef, branch string, err error) string {
	var ref *githubapi.Refusal
	what, why := fmt.Sprintf("daytwo could not label %s or ask for its reviews (logged)", pr), "a daytwo pull request must carry its labels and reviewers"
	if errors.As(err, &ref) {
		said := strings.TrimSuffix(gitHubSaid(ref), ".")
		what, why = fmt.Sprintf("GitHub did not label %s%s (%s)", pr, spaced(codes(ref.Names)), said), "a daytwo pull request must carry its labels"
		if ref.Step == githubapi.StepReviews {
			what = fmt.Sprintf("GitHub did not ask %s to review %s (%s)", codes(ref.Names), pr, said)
			why = "a daytwo pull request must ask its code owners to review it"
		}
	}
	if errors.Is(err, githubapi.ErrNotCleanedUp) {
		return fmt.Sprintf("%s, and daytwo could not withdraw it: close %s and delete its branch %s by hand, then ask again.", what, pr, markdown.Code(branch))
	}
	next := "Ask again; tell the platform team if it persists."
	if ref != nil {
		if a := labelAdvice(repo, ref); a != "" {
			next = a + " Then ask again."
		}
	}
	return fmt.Sprintf("%s, so daytwo closed it and deleted its branch, as %s: nothing changed. %s", what, why, next)
}

// reviewers are the code owners of the changed files (from the default branch's
// CODEOWNERS), without the requester: GitHub does not let authors review their own asks.
func reviewersOf(owners *codeowners.Owners, cs *plan.ChangeSet, requester string) []string {
	paths := make([]string, len(cs.Files))
	for i, f := range cs.Files {
		paths[i] = f.Path
	}
	return ownersOf(owners, paths, requester)
}

// ownersOf are the code owners of paths, without the requester.
func ownersOf(owners *codeowners.Owners, paths []string, requester string) []string {
	if owners == nil {
		return nil
	}
	var out []string
	for _, o := range owners.For(paths...) {
		if !strings.EqualFold(o, requester) {
			out = append(out, o)
		}
	}
	return out
}

func dryRunText(cs *plan.ChangeSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🧪 Dry run — nothing was changed. Without `--dry-run` this opens %s (risk: %s):\n\n%s\n\n", markdown.Code(cs.Title), cs.Risk, markdown.Text(cs.Summary))
	fmt.Fprintf(&b, "<details><summary>Files</summary>\n\n%s</details>\n\n", markdown.Fence("diff", clipDiff(cs.FileDiff, 20000)))
	if cs.RenderedDiff != "" {
		fmt.Fprintf(&b, "<details><summary>Rendered</summary>\n\n%s</details>\n", markdown.Fence("diff", clipDiff(cs.RenderedDiff, 30000)))
	}
	return b.String()
}

func renderSummary(cs *plan.ChangeSet) string {
	return fmt.Sprintf("The overlay renders with this change (kustomize, in memory) and the intended effect was verified.\n\n%s\n\n%s",
		markdown.Text(cs.Summary), markdown.Fence("diff", clipDiff(cs.RenderedDiff, 60000)))
}

func waitingText(env *repoconfig.Environment, reviewers []string) string {
	if !env.ApprovalRequired() {
		return "merging once GitHub reports it mergeable."
	}
	if len(reviewers) == 0 {
		return "waiting for approval."
	}
	at := make([]string, len(reviewers))
	for i, r := range reviewers {
		at[i] = "@" + r
	}
	return "waiting for approval from " + strings.Join(at, ", ") + "."
}

// tryMerge merges when GitHub says the PR is mergeable with approvals and required checks
// satisfied ("clean"); otherwise it leaves the PR for the next review or check event. The
// squash commit carries the requests' own messages, trailers included: Git history is the
// audit log. The merge is made only at the head that was checked, and the branch is
// deleted once merged. Every request the PR carries is told.
//
// own, when set, is the status of the request that just added to pr: when another
// request's merge took its commit along before it said "open", it learns so here. why is
// the reason daytwo merges it, which the statuses give.
func (r *Runner) tryMerge(ctx context.Context, repo githubapi.Repo, pr githubapi.PR, own *statusComment, why string) {
	log := zerolog.Ctx(ctx)
	ms, err := repo.MergeState(ctx, pr.Number)
	if err != nil {
		log.Warn().Err(err).Msg("cannot read mergeability")
		return
	}
	if ms.Merged && own != nil && own.mark.State == githubapi.StateOpen {
		r.reconcile(ctx, repo, &pr, "MERGED", own) // merged with it, or overridden in it
		return
	}
	if ms.Merged || ms.Mergeable == nil || !*ms.Mergeable || ms.State != "clean" {
		log.Info().Str("mergeable_state", ms.State).Msg("not merging yet")
		return
	}
	commits, err := repo.PullCommits(ctx, pr.Number)
	if err != nil {
		log.Warn().Err(err).Msg("cannot read the change's commits")
		return
	}
	if len(commits) == 0 || commits[len(commits)-1].SHA != ms.HeadSHA {
		log.Info().Msg("the pull request moved; merging on its next event")
		return
	}
	title, body := mergeMessage(commits)
	title = fmt.Sprintf("%s (#%d)", title, pr.Number)
	sha, err := repo.Merge(ctx, pr.Number, ms.HeadSHA, "squash", title, body)
	if err != nil {
		log.Warn().Err(err).Msg("merge refused")
		if plan.ErrorCode(err) == plan.Conflict { // a moved head merges on its next event
			return
		}
		// A PR closed or merged meanwhile (a /cancel, a person) is why; whoever did it tells
		// the askers, and a line written now would put back the state it replaced.
		if now, err := repo.MergeState(ctx, pr.Number); err != nil || !now.Open || now.Merged {
			return
		}
		var still statusComments
		for _, s := range r.statusesFrom(ctx, repo, pr.Number, commits) {
			if s.mark.State == githubapi.StateOpen && s.mark.PR == pr.Number {
				still = append(still, s)
			}
		}
		still.step(ctx, "", refusalText(repo.FullName(), prRef{pr.Number, pr.URL}, githubapi.RefusalOf(githubapi.StepMerge, nil, err)))
		// A request added to the PR meanwhile may have marked one of these overridden
		// before this write put "open" back: whoever writes last reads the PR after.
		r.statusesOf(ctx, repo, pr.Number)
		return
	}
	// The merge was made at the head these commits end in: they are what was merged.
	sts := r.statusesFrom(ctx, repo, pr.Number, commits)
	log.Info().Str("merge_commit", sha).Msg("merged")
	if pr.Branch != "" {
		if err := repo.DeleteBranch(ctx, pr.Branch); err != nil {
			log.Warn().Err(err).Msg("cannot delete the merged branch")
		}
	}
	m := &githubapi.Merged{PR: pr, MergeCommit: sha, MergedAt: r.now()}
	r.noteRestored(ctx, repo, m, commits)
	sts.set(githubapi.StateMerged, pr.Number)
	for _, s := range sts {
		s.steps = append(s.steps, fmt.Sprintf("🔀 [PR #%d](%s) merged by daytwo as `%s` (%s)", pr.Number, pr.URL, clip.SHA(sha), why))
	}
	sts.step(ctx, r.expiryStep(ctx, repo, m, commits), r.afterMerge())
	if _, service, env, ok := targetOf(commits); ok {
		r.startRollout(ctx, rollout{repo: repo, pr: githubapi.Merged{PR: pr, MergeCommit: sha}, service: service, env: env, st: sts})
	}
}

// mergeMessage is the squash commit of a change PR: one request keeps its own message; a
// stack lists its requests, and its trailers are every request's, newest last.
func mergeMessage(commits []githubapi.Commit) (title, body string) {
	reqs := requestsOf(commits)
	if len(reqs) == 0 {
		t, b, _ := strings.Cut(commits[len(commits)-1].Message, "\n")
		return t, strings.TrimLeft(b, "\n")
	}
	if len(reqs) == 1 {
		t, b, _ := strings.Cut(reqs[0].Message, "\n")
		return t, strings.TrimLeft(b, "\n")
	}
	var list, trailers strings.Builder
	for _, c := range reqs {
		fmt.Fprintf(&list, "- %s\n", firstLine(c.Message))
		msg := strings.TrimSpace(c.Message)
		if i := strings.LastIndex(msg, "\n\n"); i >= 0 {
			trailers.WriteString(msg[i+2:] + "\n")
		}
	}
	first := firstLine(reqs[0].Message)
	prefix, _, _ := strings.Cut(first, ": ")
	title = fmt.Sprintf("%s: %d changes", prefix, len(reqs))
	return title, list.String() + "\n" + trailers.String()
}

// afterMerge says what happens once a change is merged.
func (r *Runner) afterMerge() string {
	if r.ArgoCD == nil {
		return "🚀 Merged; Argo CD rolls it out on its next sync."
	}
	return "🚀 Merged; asking Argo CD to roll it out…"
}

// breakGlass opens the mandatory follow-up review issue of an emergency change; the error
// is GitHub's refusal.
func (r *Runner) breakGlass(ctx context.Context, t *target, cs *plan.ChangeSet, pr *githubapi.PR, req Request) error {
	body := fmt.Sprintf("@%s used `--break-glass` for %s (%s in %s): %s.\n\nPR: %s\nAsked in: %s\n\n"+
		"Review the change after the fact and close this issue when done.",
		req.Author, markdown.Code(cs.Metadata["command"]), cs.Service, cs.Env, markdown.Text(cs.Summary), pr.URL, req.URL)
	if _, _, err := t.repo.OpenIssue(ctx, "Break-glass review: "+cs.Title, body, []string{"daytwo", "break-glass", "env/" + cs.Env}); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("cannot open the break-glass review issue")
		return err
	}
	return nil
}

// clientFor returns an installation client for another repository the app is installed on.
func (r *Runner) clientFor(ctx context.Context, owner, name string) (*gh.Client, error) {
	app, err := r.Clients.NewAppClient()
	if err != nil {
		return nil, err
	}
	inst, _, err := app.Apps.FindRepositoryInstallation(ctx, owner, name)
	if err != nil {
		return nil, fmt.Errorf("daytwo is not installed on %s/%s: %w", owner, name, err)
	}
	return r.Clients.NewInstallationClient(inst.GetID())
}

// clipDiff cuts text shown in a comment at a line, pointing to the pull request.
func clipDiff(s string, max int) string {
	return clip.Lines(s, max, "… (truncated; the PR has the whole diff)\n")
}
