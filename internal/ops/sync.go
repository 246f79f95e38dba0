package ops

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// argoTarget is the Application a /sync or /refresh acts on, and the request around it.
type argoTarget struct {
	t   *target
	req Request
	cmd command.Command // resolved: Service and Env are set
	env *repoconfig.Environment
	app string
}

// argoCommand carries out /sync and /refresh: Argo CD acts on the service's Application in
// the environment, nothing is written to Git, and the answer is st. A sync is followed in
// the background, as a rollout is: the webhook queue never waits for Argo CD.
func (r *Runner) argoCommand(ctx context.Context, client *gh.Client, req Request, cmd command.Command, st *statusComment) {
	t, err := r.target(ctx, client, r.graphql(client), req.Owner, req.Repo)
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	cmd, err = r.Planner.Resolve(t.cfg, plan.Input{Command: cmd, Requester: req.Author, Labels: req.Labels, Repo: req.FullRepo()})
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	env, _ := t.cfg.Env(cmd.Env)
	svc, _ := t.cfg.Service(cmd.Service)
	at := argoTarget{t: t, req: req, cmd: cmd, env: env, app: svc.ArgoCDAppName(cmd.Env)}
	if r.ArgoCD == nil {
		st.fail(ctx, githubapi.StateRefused, fmt.Sprintf("Argo CD is not configured for this daytwo, so it cannot ask Argo CD to %s %s: its server configuration has no `argocd.server`. "+
			"Do it in Argo CD, or ask the platform team to give daytwo Argo CD's address and an API token (`argocd.server` and `argocd.token`).", cmd.Name, markdown.Code(at.app)))
		return
	}
	refusal, err := r.mayRequest(ctx, t.repo, req.Author, cmd, env)
	switch {
	case err != nil:
		st.failWith(ctx, err)
		return
	case refusal != "":
		st.fail(ctx, githubapi.StateRefused, refusal)
		return
	}
	if cmd.Name == "refresh" {
		r.refreshApp(ctx, at, st)
		return
	}
	r.syncApp(ctx, at, st)
}

// refreshApp asks Argo CD to compare the app with Git now, and says what it found.
func (r *Runner) refreshApp(ctx context.Context, at argoTarget, st *statusComment) {
	actx, cancel := context.WithTimeout(ctx, at.env.ArgoCD.Timeout)
	defer cancel()
	out, err := r.ArgoCD.RefreshApp(actx, at.app, at.cmd.Hard)
	if err != nil {
		argoProblem(ctx, st, at.app, err)
		return
	}
	how := ""
	if at.cmd.Hard {
		how = " (hard: the manifests regenerated, not read from its cache)"
	}
	text := fmt.Sprintf("🔄 Argo CD refreshed %s%s: %s.", markdown.Code(at.app), how, at.t.describeApp(out.State))
	switch {
	case out.OperationPhase == "Running":
		text += fmt.Sprintf(" Argo CD is syncing it to %s%s.", at.t.revision(out.OperationRevision), operationBy(out.State))
	case out.Sync == "OutOfSync" && out.AutoSync:
		text += " Its automated sync deploys what Git holds."
	case out.Sync == "OutOfSync":
		text += fmt.Sprintf(" %s deploys what Git holds.", markdown.Code(fmt.Sprintf("/sync --service %s --env %s", at.cmd.Service, at.cmd.Env)))
	}
	st.set(githubapi.StateAnswered, 0).write(ctx, text)
}

// syncApp checks that the environment lets the sync happen, says what a daytwo pull request
// still open for the target means for it, and then syncs (or, with --dry-run, says what a
// sync would deploy).
func (r *Runner) syncApp(ctx context.Context, at argoTarget, st *statusComment) {
	freeze, frozen := at.t.cfg.Frozen(at.cmd.Env)
	if frozen && !at.cmd.BreakGlass {
		st.fail(ctx, githubapi.StateRefused, fmt.Sprintf("%s; ask for `/unfreeze --env %s` first, or repeat with `--break-glass` in an emergency.", markdown.Text(plan.FreezeText(at.cmd.Env, freeze)), at.cmd.Env))
		return
	}
	if frozen {
		st.steps = append(st.steps, fmt.Sprintf("🧯 `--break-glass`: %s; syncing all the same.", markdown.Text(plan.FreezeText(at.cmd.Env, freeze))))
	}
	for _, pr := range openFor(at.t.read, at.t.head.Branch, at.cmd.Env, at.cmd.Service) {
		st.steps = append(st.steps, fmt.Sprintf("⚠️ [PR #%d](%s) is not merged yet; `/sync` deploys what is on %s.", pr.Number, pr.URL, markdown.Code(at.t.head.Branch)))
	}
	if at.cmd.DryRun {
		r.syncDryRun(ctx, at, st)
		return
	}
	if r.lifetime().Err() != nil {
		st.fail(ctx, githubapi.StateFailed, "daytwo is shutting down, so it did not ask Argo CD to sync; ask again.")
		return
	}
	st.write(ctx, fmt.Sprintf("⏳ Asking Argo CD to sync %s, and following the sync…", markdown.Code(at.app)))

	log := zerolog.Ctx(ctx).With().Str("app", at.app).Logger()
	bg, cancel := context.WithTimeout(log.WithContext(r.lifetime()), at.env.ArgoCD.Timeout)
	r.rollouts.Add(1)
	go func() {
		defer r.rollouts.Done()
		defer cancel()
		r.followSync(bg, at, st, frozen)
	}()
}

// followSync asks Argo CD to sync the app to its target revision and reports how the sync
// ended. When Argo CD's automated sync is running already, it follows that one instead:
// it does what the request asks for.
func (r *Runner) followSync(ctx context.Context, at argoTarget, st *statusComment, frozen bool) {
	log := zerolog.Ctx(ctx)
	// The status is written even once ctx has ended: a timeout is news too.
	wctx := context.WithoutCancel(ctx)
	start := time.Now()
	out, err := r.ArgoCD.SyncApp(ctx, at.app, "")
	by := ""
	if errors.Is(err, argoapi.ErrOperationInProgress) {
		if cur, gerr := r.ArgoCD.Get(ctx, at.app); gerr == nil && cur.OperationBy == "automated" && cur.OperationRevision != "" &&
			(cur.OperationPhase == "Running" || cur.OperationPhase == "Succeeded") {
			st.write(wctx, fmt.Sprintf("⏳ Argo CD's automated sync of %s to %s was running already; following it…", markdown.Code(at.app), at.t.revision(cur.OperationRevision)))
			out.State, err = r.ArgoCD.Wait(ctx, at.app, cur.OperationRevision, nil)
			by = " by Argo CD's automated sync"
		}
	}
	took := roundSeconds(time.Since(start))
	app := markdown.Code(at.app)
	state, now := githubapi.StateAnswered, ""
	switch {
	case err == nil && out.AlreadySynced:
		st.set(githubapi.StateAnswered, 0).write(wctx, fmt.Sprintf("✅ %s is already synced to %s: nothing to do. It is %s.", app, at.t.revision(out.Revision), markdown.Text(orDash(out.Health))))
		return
	case err == nil:
		now = fmt.Sprintf("✅ %s synced to %s%s in %s: %s, %s.", app, at.t.revision(out.Revision), by, took, markdown.Text(out.Sync), markdown.Text(out.Health))
	case errors.Is(err, argoapi.ErrUnhealthy) && (out.OperationPhase == "Failed" || out.OperationPhase == "Error"):
		state, now = githubapi.StateFailed, fmt.Sprintf("❌ Argo CD's sync of %s to %s ended %s after %s: %s", app, at.t.revision(out.OperationRevision), markdown.Text(out.OperationPhase), took, markdown.Text(out.Message))
	case errors.Is(err, argoapi.ErrUnhealthy):
		state, now = githubapi.StateFailed, fmt.Sprintf("💔 %s synced to %s%s, but it is %s after %s.\n\n%s", app, at.t.revision(out.Revision), by, markdown.Text(orDash(out.Health)), took, unhealthyList(out.State))
	case errors.Is(err, argoapi.ErrPermanent) || errors.Is(err, argoapi.ErrOperationInProgress):
		argoProblem(wctx, st, at.app, err)
		return // Argo CD did not sync
	case r.lifetime().Err() != nil:
		state, now = githubapi.StateFailed, fmt.Sprintf("❌ daytwo stopped while following the sync of %s; Argo CD carries on with it. %s tells how it ends.", app, markdown.Code(fmt.Sprintf("/status --service %s --env %s", at.cmd.Service, at.cmd.Env)))
	case ctx.Err() != nil:
		state, now = githubapi.StateFailed, fmt.Sprintf("⌛ %s did not finish syncing within %s (last seen: %s, %s, operation %s). The sync goes on in Argo CD: check the app there.", app, at.env.ArgoCD.Timeout, markdown.Text(orDash(out.Sync)), markdown.Text(orDash(out.Health)), markdown.Text(orDash(out.OperationPhase)))
	default:
		argoProblem(wctx, st, at.app, err)
		return
	}
	log.Info().Err(err).Str("revision", out.Revision).Msg("sync followed")
	if frozen {
		r.breakGlassSync(wctx, at, st)
	}
	st.set(state, 0).write(wctx, now)
}

// breakGlassSync opens the follow-up review issue of a sync through a freeze, as a change
// through one gets, and adds it to the status's steps.
func (r *Runner) breakGlassSync(ctx context.Context, at argoTarget, st *statusComment) {
	freeze, _ := at.t.cfg.Frozen(at.cmd.Env)
	body := fmt.Sprintf("@%s used `--break-glass` for %s (%s in %s) while %s.\n\nAsked in: %s\n\nReview the sync after the fact and close this issue when done.",
		at.req.Author, markdown.Code(at.cmd.Line), at.cmd.Service, at.cmd.Env, markdown.Text(plan.FreezeText(at.cmd.Env, freeze)), at.req.URL)
	n, url, err := at.t.repo.OpenIssue(ctx, "Break-glass review: sync "+at.app, body, []string{"daytwo", "break-glass", "env/" + at.cmd.Env})
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("cannot open the break-glass review issue")
		st.steps = append(st.steps, "⚠️ The break-glass review issue was not opened: "+gitHubSaid(githubapi.RefusalOf(githubapi.StepIssue, nil, err))+" Review the sync after the fact all the same.")
		return
	}
	st.steps = append(st.steps, fmt.Sprintf("🧯 Break-glass review: [#%d](%s)", n, url))
}

// syncDryRun says what the app runs and what a sync would deploy, asking Argo CD for the
// app's state only: a refresh could start an automated sync.
func (r *Runner) syncDryRun(ctx context.Context, at argoTarget, st *statusComment) {
	cur, err := r.ArgoCD.Get(ctx, at.app)
	if err != nil {
		argoProblem(ctx, st, at.app, err)
		return
	}
	t := at.t
	var b strings.Builder
	b.WriteString("🧪 Dry run — Argo CD was asked for the app's state only.\n\n")
	fmt.Fprintf(&b, "- Now: %s, %s.", markdown.Code(at.app), t.describeApp(cur))
	if cur.AutoSync {
		b.WriteString(" It has automated sync.")
	}
	b.WriteString("\n")
	head := cur.Target == "" || cur.Target == "HEAD" || cur.Target == t.head.Branch
	switch {
	case head && cur.Sync == "Synced" && cur.Revision == t.head.Commit:
		fmt.Fprintf(&b, "- %s is at %s, which it is synced to: `/sync` would do nothing.\n", markdown.Code(t.head.Branch), t.revision(t.head.Commit))
	case head:
		fmt.Fprintf(&b, "- Target: %s, at %s now. Without `--dry-run`, daytwo asks Argo CD to refresh the app and sync it to that, and follows the sync to its end.\n", markdown.Code(t.head.Branch), t.revision(t.head.Commit))
	default:
		fmt.Fprintf(&b, "- Target: %s. Without `--dry-run`, daytwo asks Argo CD to refresh the app and sync it to what %s holds then, and follows the sync to its end.\n", markdown.Code(cur.Target), markdown.Code(cur.Target))
	}
	st.set(githubapi.StateDryRun, 0).write(ctx, strings.TrimSuffix(b.String(), "\n"))
}

// argoProblem answers with what Argo CD refused, in its words (the app unknown to it or
// not readable, a permission it lacks, a sync window, automated sync, another operation),
// or says it did not answer; the details of that go to the log.
func argoProblem(ctx context.Context, st *statusComment, app string, err error) {
	if errors.Is(err, argoapi.ErrPermanent) || errors.Is(err, argoapi.ErrOperationInProgress) {
		msg := err.Error()
		for _, e := range []error{argoapi.ErrPermanent, argoapi.ErrOperationInProgress} {
			msg = strings.TrimPrefix(msg, e.Error()+": ")
		}
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		st.fail(ctx, githubapi.StateRefused, markdown.Text(upperFirst(msg)))
		return
	}
	zerolog.Ctx(ctx).Warn().Err(err).Str("app", app).Msg("Argo CD did not answer")
	st.fail(ctx, githubapi.StateFailed, fmt.Sprintf("Argo CD did not answer about %s (logged). Ask again in a moment; tell the platform team if it persists.", markdown.Code(app)))
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// revision shows a Git revision of the GitOps repository: a commit as its short SHA
// linking to it.
func (t *target) revision(rev string) string {
	switch {
	case rev == "":
		return "an unknown revision"
	case commitRE.MatchString(rev) && t.repoURL() != "":
		return fmt.Sprintf("[%s](%s/commit/%s)", markdown.Code(clip.SHA(rev)), t.repoURL(), rev)
	}
	return markdown.Code(rev)
}

// describeApp is the app's sync status, with the revision Argo CD compared it with, and
// its health: "Synced to `abc1234`, Healthy".
func (t *target) describeApp(s argoapi.State) string {
	health := markdown.Text(orDash(s.Health))
	switch s.Sync {
	case "Synced":
		return fmt.Sprintf("Synced to %s, %s", t.revision(s.Revision), health)
	case "OutOfSync":
		return fmt.Sprintf("OutOfSync with %s, %s", t.revision(s.Revision), health)
	}
	return fmt.Sprintf("sync status %s, %s", markdown.Text(orDash(s.Sync)), health)
}

// operationBy says who started the app's operation: " (by alice)", "" when unknown.
func operationBy(s argoapi.State) string {
	switch s.OperationBy {
	case "":
		return ""
	case "automated":
		return " (its automated sync)"
	}
	return " (asked by " + markdown.Code(s.OperationBy) + ")"
}

// unhealthyList lists the app's unhealthy resources, worst first.
func unhealthyList(s argoapi.State) string {
	var b strings.Builder
	b.WriteString("Unhealthy resources:\n\n")
	if len(s.Unhealthy) == 0 {
		fmt.Fprintf(&b, "- (none named) %s\n", markdown.Text(strings.TrimSpace(s.Message+" "+s.HealthMessage)))
	}
	for i, res := range s.Unhealthy {
		if i == 20 {
			fmt.Fprintf(&b, "- … and %d more\n", len(s.Unhealthy)-i)
			break
		}
		name := res.Kind + "/" + res.Name
		if res.Namespace != "" {
			name = res.Namespace + "/" + name
		}
		fmt.Fprintf(&b, "- %s %s: %s\n", markdown.Code(name), markdown.Text(res.Health), markdown.Text(res.Message))
	}
	return strings.TrimSuffix(b.String(), "\n")
}
