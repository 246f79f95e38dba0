// Package ops carries out day-2 commands asked for on GitHub. For each command it finds the
// GitOps repository and its config (default branch only), checks that the requester may
// ask, plans the change, opens or reuses the pull request with code-owner reviewers, and keeps
// one status comment in the asking thread up to date until the PR is merged or closed.
package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"math/rand/v2"

	"github.com/daytwo-dev/daytwo/internal/codeowners"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/coord"
	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Runner carries out the commands of requests, and follows the pull requests they open.
type Runner struct {
	Clients githubapp.ClientCreator
	// Commands are the commands daytwo answers; a config's requesters keys name them.
	Commands *command.Registry
	Planner  *plan.Planner
	Now      func() time.Time
	// GraphQLURL is the GraphQL endpoint (github.v4_api_url); "" derives it from the REST URL.
	GraphQLURL string
	// ArgoCD, when set, is asked to refresh after a merge, and the rollout is reported.
	ArgoCD ArgoCD
	// RefreshEvery paces further refreshes until Argo CD has seen the merge (default 5s).
	RefreshEvery time.Duration

	rollouts sync.WaitGroup

	discoveredMu sync.Mutex
	discovered   map[string]*repoconfig.Config // repo@commit → config made by discovery
	lifeOnce     sync.Once
	life         context.Context
	endLife      context.CancelFunc

	// Locks serialise the commands for one target (repo, service, env): in this process by
	// default, across replicas with Redis.
	Locks    coord.Locker
	embedded coord.Embedded
}

// target is the GitOps repository a request acts on, read at its default branch.
type target struct {
	repo    ghapi.Repo
	g       *ghapi.GraphQL
	read    *ghapi.DefaultRead // head, open pull requests, node id
	head    ghapi.Head
	snap    *ghapi.Snapshot
	cfg     *repoconfig.Config
	cfgFile []byte
}

// Answer carries out the commands asked in req's text, one after the other, each on a
// status comment of its own, and then posts reply, the answer to the rest of the text.
// The first comment posted reacts 👀 to the text. It fails only when it could not tell the
// asker anything: the delivery is then worth another attempt.
func (r *Runner) Answer(ctx context.Context, client *gh.Client, req Request, asked []Asked, reply Reply) error {
	thread := ghapi.Thread{Client: client, Owner: req.Owner, Repo: req.Repo, Number: req.Number}
	eyes := newReaction(ctx, thread, req)
	defer eyes.wait()
	var errs []error
	for _, a := range asked {
		req.Index = a.Index
		zerolog.Ctx(ctx).Info().Str("command", a.Command.Name).Msg("running command")
		errs = append(errs, r.run(ctx, client, req, a.Command, eyes))
	}
	if reply.Body != "" {
		errs = append(errs, r.reply(ctx, client, req, reply, eyes))
	}
	return errors.Join(errs...)
}

// reply posts the answer to the parts of a request that are not carried out, once per
// request: a repeat finds the reply it got before.
func (r *Runner) reply(ctx context.Context, client *gh.Client, req Request, reply Reply, eyes *reaction) error {
	state := ghapi.StateAnswered
	if reply.Refused {
		state = ghapi.StateRefused
	}
	s := &status{thread: ghapi.Thread{Client: client, Owner: req.Owner, Repo: req.Repo, Number: req.Number},
		head: strings.TrimRight(reply.Body, "\n"), mark: ghapi.StatusMark{Request: req.ReplyID(), State: state}}
	_, _, err := postStatus(ctx, r.graphql(client), req, eyes, s, "")
	return err
}

// maxAttempts bounds how often a request is planned again after losing a race for its
// target's branch (another replica, or a merge, moved it).
const maxAttempts = 6

// run carries out cmd; everything it has to say goes to its status comment.
//
// A mutating command costs six requests to GitHub in the usual case: the status comment
// with the 👀 reaction, in parallel with one read of the default branch (head, config,
// CODEOWNERS, open pull requests and their commits) and the requester's permission; one
// read ahead of the overlay (files, label and reviewer ids); one mutation writing the
// commit (with branch and pull request for a target's first change); one adding labels,
// reviewers, the render check and the PR link to the status.
func (r *Runner) run(ctx context.Context, client *gh.Client, req Request, cmd command.Command, eyes *reaction) error {
	log := zerolog.Ctx(ctx).With().Str("command", cmd.Name).Str("request", req.ID()).Logger()
	ctx = log.WithContext(ctx)
	thread := ghapi.Thread{Client: client, Owner: req.Owner, Repo: req.Repo, Number: req.Number}
	g := r.graphql(client)
	// Anything but a change of a service or an environment is answered on the status
	// comment alone: the read-only commands, /cancel and /init.
	if spec, _ := r.Commands.Lookup(cmd.Name); !spec.Mutating || spec.Repository {
		now := "⏳ Reading…"
		switch cmd.Name {
		case "cancel":
			now = "⏳ Looking for the change to cancel…"
		case "init":
			now = "⏳ Reading the repository and rendering its overlays…"
		}
		st, repeat, err := startStatus(ctx, thread, g, req, eyes, cmd.Line, now)
		switch {
		case err != nil:
			return fmt.Errorf("post the status comment: %w", err)
		case repeat && st.done():
			log.Info().Msg("answered before, or being answered")
		case cmd.Name == "cancel":
			r.cancel(ctx, client, req, st)
		case cmd.Name == "init":
			r.onboard(ctx, client, req, cmd, st)
		default:
			r.view(ctx, client, req, cmd, st)
		}
		return nil
	}

	// The status comment is posted while the GitOps repository is read.
	var (
		st     *status
		repeat bool
		stErr  error
	)
	posted := make(chan struct{})
	go func() {
		defer close(posted)
		st, repeat, stErr = startStatus(ctx, thread, g, req, eyes, cmd.Line, "⏳ Planning the change…")
	}()
	t, err := r.target(ctx, client, g, req.Owner, req.Repo)
	<-posted
	if stErr != nil {
		return fmt.Errorf("post the status comment: %w", stErr)
	}
	if repeat && st.done() {
		if st.mark.State == ghapi.StateOpen && err == nil {
			// Its PR may have been merged or closed by a replica that stopped before
			// saying so: finish that.
			r.settleOpen(ctx, t.repo, st)
		}
		log.Info().Str("state", st.mark.State).Msg("answered before, or being answered by another delivery; nothing left to do")
		return nil
	}
	// A bug must not leave the requester looking at "Planning…" forever: say so, then let
	// the server's recovery count and log the panic.
	defer func() {
		if p := recover(); p != nil {
			st.fail(context.WithoutCancel(ctx), ghapi.StateFailed, "daytwo hit an internal error (logged) and stopped; nothing was merged. Tell the platform team.")
			panic(p)
		}
	}()
	if err != nil {
		st.failWith(ctx, err)
		return nil
	}
	// A conflict (the branch moved under the change) is planned again from a fresh read.
	withdrawn := map[int]bool{} // PRs of this request daytwo closed itself
	for attempt := 1; ; attempt++ {
		err = r.change(ctx, st, t, req, cmd, attempt > 1, withdrawn)
		var w *ghapi.WithdrawnError
		if errors.As(err, &w) {
			withdrawn[w.PR] = true
		}
		if plan.ErrorCode(err) != plan.Conflict || attempt == maxAttempts {
			break
		}
		log.Info().Err(err).Int("attempt", attempt).Msg("conflict; planning again")
		time.Sleep(time.Duration(attempt*attempt*20+rand.IntN(100)) * time.Millisecond)
		// What an earlier attempt wrote may have been merged, closed or overridden since,
		// and its asker told so: that is the answer, not a second change.
		if cur, cerr := resumeStatus(ctx, st.thread, st.id); cerr == nil && cur.mark.Final() {
			log.Info().Str("state", cur.mark.State).Msg("the request reached its end meanwhile")
			return nil
		}
		if t, err = r.target(ctx, client, g, req.Owner, req.Repo); err != nil {
			break
		}
	}
	if err != nil {
		switch {
		case errors.Is(err, ghapi.ErrNoAnswer):
			err = &plan.Error{Code: plan.Conflict, Msg: "GitHub did not answer daytwo's last write, after several tries, and daytwo could not confirm it. If a daytwo pull request for this service and environment lists this request, it carries it; otherwise ask again.", Err: err}
		case plan.ErrorCode(err) == plan.Conflict:
			err = &plan.Error{Code: plan.Conflict, Msg: "Other changes to the same service and environment kept moving its pull request while daytwo planned this one; nothing of it was written. Ask again.", Err: err}
		}
		st.failWith(ctx, err)
	}
	return nil
}

// change plans cmd on t and writes it: as a new pull request when the target has no open
// change, or as one more commit on the one it has (its stack). What it has to say goes to
// the status comment, except the error it returns; an error means nothing of the request
// was written.
//
// again is set when an earlier attempt may have written the request (it ended in a
// conflict): the request's own PR, merged or closed since (but not withdrawn by daytwo
// itself), is then its answer.
func (r *Runner) change(ctx context.Context, st *status, t *target, req Request, cmd command.Command, again bool, withdrawn map[int]bool) error {
	log := zerolog.Ctx(ctx)
	preq := plan.Request{
		Command: cmd, Requester: req.Author, Origin: req.URL,
		OriginKey: req.ID(), ID: req.ID(), Status: statusRef(st),
		Labels: req.Labels, Repo: req.FullRepo(), Now: r.now(),
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

	owners, err := ghapi.ReadCodeOwners(ctx, t.snap)
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
	var stack *ghapi.PR
	open := t.read.OpenOn(t.head.Branch, prefix)
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
			st.set(ghapi.StateOpen, stack.Number).write(ctx, fmt.Sprintf("🔀 In %s — the change is there already (written by an earlier attempt of this request).", stack.URL))
			// The PR may have moved on since it was read (a later request, a merge).
			if ms, err := t.repo.MergeState(ctx, stack.Number); err == nil {
				r.reconcile(ctx, t.repo, stack, ms.PRState(), st)
			}
			return nil
		}
	}

	// Who asked and what the overlay holds are independent reads: one round trip for both.
	snap, base := t.snap, t.head
	if stack != nil {
		base = ghapi.Head{Branch: t.head.Branch, Commit: stack.HeadSHA}
		snap = ghapi.SnapshotAt(t.repo.Client, t.repo.Owner, t.repo.Name, stack.HeadSHA)
	}
	var (
		refusal string
		ids     *ghapi.ChangeRead
	)
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) {
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
		st.set(ghapi.StateDryRun, 0).step(ctx, "", dryRunText(cs))
		return nil
	}

	reviewers := reviewersOf(owners, cs, req.Author)
	select {
	case <-lease.Lost():
		// Another replica may hold the target now: stop before writing and plan again.
		return &plan.Error{Code: plan.Conflict, Msg: "the lock of the target expired while planning; plan again", Err: coord.ErrLost}
	default:
	}
	var pr *ghapi.PR
	if stack == nil {
		pr, err = t.repo.CreateChange(ctx, t.g, t.read.RepoID, cs, ghapi.ChangeOptions{Base: base, Labels: labels, Reviewers: reviewers, StackPrefix: prefix})
	} else {
		pr, err = t.repo.AppendChange(ctx, t.g, cs, *stack)
	}
	if err != nil {
		return err
	}
	// From here on the change is in pr: what fails is reported, never as "not done".
	verb := "Opened"
	fin := ghapi.Finish{
		IDs: ids, RepoID: t.read.RepoID, Labels: labels, Reviewers: reviewers,
		Check:         &ghapi.CheckRun{Name: "daytwo/render", Conclusion: "success", Title: "The change renders", Summary: renderSummary(cs)},
		CommentNodeID: st.nodeID,
	}
	if !pr.Fresh {
		verb = "Added to"
		fin.Title, fin.Body = stackText(pr.Body, resolved.Service, resolved.Env, pr.Commits)
		if pr.Labels != nil {
			fin.Labels = missingLabels(labels, pr.Labels) // the stack has the others
		}
	}
	next := fmt.Sprintf("🔀 %s %s — %s", verb, pr.URL, waitingText(env, reviewers))
	fin.CommentBody = st.set(ghapi.StateOpen, pr.Number).advance(fmt.Sprintf("📝 Planned: %s (risk: %s)", markdown.Text(cs.Summary), cs.Risk), next)
	if pr.NodeID == "" || st.nodeID == "" {
		fin.CommentNodeID = ""
	}
	done, err := t.repo.FinishChange(ctx, t.g, pr, fin)
	if err != nil {
		// A new pull request GitHub would not label was withdrawn: the request failed.
		log.Warn().Err(err).Int("pr", pr.Number).Msg("the new pull request was withdrawn")
		st.fail(ctx, ghapi.StateFailed, withdrawnText(t.repo.FullName(), prRef{pr.Number, pr.URL}, pr.Branch, err))
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
		next = fmt.Sprintf("🔀 %s %s — %s", verb, pr.URL, waitingText(env, asked))
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
			st.step(ctx, refusalText(t.repo.FullName(), prRef{pr.Number, pr.URL}, ghapi.RefusalOf(ghapi.StepIssue, nil, err)), next)
		}
	}
	if why := mergeReason(env, resolved.BreakGlass); why != "" {
		r.tryMerge(ctx, t.repo, *pr, st, why)
	}
	return nil
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
	var ref *ghapi.Refusal
	what, why := fmt.Sprintf("daytwo could not label %s or ask for its reviews (logged)", pr), "a daytwo pull request must carry its labels and reviewers"
	if errors.As(err, &ref) {
		said := strings.TrimSuffix(gitHubSaid(ref), ".")
		what, why = fmt.Sprintf("GitHub did not label %s%s (%s)", pr, spaced(codes(ref.Names)), said), "a daytwo pull request must carry its labels"
		if ref.Step == ghapi.StepReviews {
			what = fmt.Sprintf("GitHub did not ask %s to review %s (%s)", codes(ref.Names), pr, said)
			why = "a daytwo pull request must ask its code owners to review it"
		}
	}
	if errors.Is(err, ghapi.ErrNotCleanedUp) {
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

// readAhead is what planning a change of svc in env reads: the overlay and the directory
// two levels up (where bases usually live), the catalog file, the PR labels, and the ids
// of the code owners of the overlay's files.
func readAhead(svc *repoconfig.Service, env string, labels []string, owners *codeowners.Owners, requester string) ghapi.ReadSpec {
	spec := ghapi.ReadSpec{Labels: labels}
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

func (r *Runner) locks() coord.Locker {
	if r.Locks != nil {
		return r.Locks
	}
	return &r.embedded
}

func (r *Runner) graphql(client *gh.Client) *ghapi.GraphQL {
	return ghapi.NewGraphQL(client, r.GraphQLURL)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// target locates the GitOps repository: the repository the request came from when it has a
// daytwo config, or the one its pointer (`gitops: owner/name`) names, reached through that
// repository's own installation. The GitOps config is the authority: it must map the asking
// repository to a service.
func (r *Runner) target(ctx context.Context, client *gh.Client, g *ghapi.GraphQL, owner, name string) (*target, error) {
	t, pointer, err := r.readTarget(ctx, client, g, owner, name)
	if err != nil || pointer == "" {
		return t, err
	}
	gOwner, gName, _ := strings.Cut(pointer, "/")
	gclient, err := r.clientFor(ctx, gOwner, gName)
	if err != nil {
		return nil, plan.Errorf(plan.NotFound, "%s/%s points at %s, but daytwo cannot reach it (%v): install the app there too.", owner, name, pointer, err)
	}
	t, again, err := r.readTarget(ctx, gclient, r.graphql(gclient), gOwner, gName)
	if err != nil {
		return nil, err
	}
	if again != "" {
		return nil, plan.Errorf(plan.Invalid, "%s points at %s, which points further at %s; point at the GitOps repository itself.", owner+"/"+name, pointer, again)
	}
	asking := owner + "/" + name
	if !slices.ContainsFunc(t.cfg.Services, func(s repoconfig.Service) bool { return strings.EqualFold(s.Repository, asking) }) {
		return nil, plan.Errorf(plan.Forbidden, "%s does not list %s as the repository of any service (`repository:` in `%s`), so commands asked here are not carried out.", pointer, asking, repoconfig.Path)
	}
	return t, nil
}

// readTarget reads a repository's daytwo config at its default branch; a pointer comes
// back as the repository it names.
func (r *Runner) readTarget(ctx context.Context, client *gh.Client, g *ghapi.GraphQL, owner, name string) (*target, string, error) {
	repo := ghapi.Repo{Client: client, Owner: owner, Name: name}
	read, err := repo.ReadDefault(ctx, g, append([]string{repoconfig.Path}, ghapi.CodeOwnersPaths...))
	if err != nil {
		return nil, "", err
	}
	head, snap := read.Head, read.Snap
	data, err := snap.ReadFile(ctx, repoconfig.Path)
	if errors.Is(err, fs.ErrNotExist) {
		cfg, derr := r.discover(ctx, repo, g, snap)
		if derr != nil {
			return nil, "", plan.Errorf(plan.NotFound, "%s has no `%s` on its default branch `%s`, and daytwo cannot tell its services and environments from its Argo CD manifests (%v). Write the config: see the configuration reference (docs/config.md).", repo.FullName(), repoconfig.Path, head.Branch, derr)
		}
		return &target{repo: repo, g: g, read: read, head: head, snap: snap, cfg: cfg}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if pointer, ok, err := repoconfig.ParsePointer(data); ok {
		if err != nil {
			return nil, "", plan.Errorf(plan.Invalid, "%v", err)
		}
		return nil, pointer, nil
	}
	cfg, err := repoconfig.Load(data, r.Commands)
	if err != nil {
		return nil, "", plan.Errorf(plan.Invalid, "`%s` on `%s` is not valid: %v", repoconfig.Path, head.Branch, err)
	}
	return &target{repo: repo, g: g, read: read, head: head, snap: snap, cfg: cfg, cfgFile: data}, "", nil
}

// userMessage turns an error into what the requester reads; internal details go to the log.
func userMessage(ctx context.Context, err error) string {
	var pe *plan.Error
	if errors.As(err, &pe) && pe.Code != plan.Internal {
		return pe.Msg
	}
	var rl *ghapi.RateLimitedError
	if errors.As(err, &rl) {
		return "GitHub's rate limit for this app is used up until " + rl.Until.UTC().Format("15:04 MST") + "; ask again after that."
	}
	zerolog.Ctx(ctx).Error().Err(err).Msg("command failed")
	return "Something went wrong on daytwo's side (logged); nothing was changed. Try again, and tell the platform team if it persists."
}
