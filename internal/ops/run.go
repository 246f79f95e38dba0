package ops

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/report"
	"github.com/daytwo-dev/daytwo/internal/workflow"
)

// /run dispatches a workflow the config allows (workflow_dispatch) and follows the run
// through its workflow_run webhooks on the request's status comment. A run is not a change
// in Git: its record is the status comment's mark (githubapi.RunMark), which the webhooks and
// /history find it by.

// runIndex is what this process knows of /run: the app's bot login (the actor of the
// runs daytwo starts), and where the status of each run it started is, so that a webhook
// finds it without a search. Another replica, or this one after a restart, searches.
type runIndex struct {
	mu     sync.Mutex
	bot    string
	status map[string]string // "owner/name#run id" (lower case) → statusRef
}

func runKey(repo string, id int64) string { return fmt.Sprintf("%s#%d", strings.ToLower(repo), id) }

func (x *runIndex) remember(repo string, id int64, ref string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.status == nil {
		x.status = map[string]string{}
	}
	x.status[runKey(repo, id)] = ref
}

func (x *runIndex) lookup(repo string, id int64) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	ref, ok := x.status[runKey(repo, id)]
	return ref, ok
}

func (x *runIndex) forget(repo string, id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.status, runKey(repo, id))
}

// botLogin is the login of the app's bot ("<slug>[bot]"), asked of GitHub once.
func (r *Runner) botLogin(ctx context.Context) (string, error) {
	x := &r.workflows
	x.mu.Lock()
	bot := x.bot
	x.mu.Unlock()
	if bot != "" {
		return bot, nil
	}
	app, err := r.Clients.NewAppClient()
	if err != nil {
		return "", err
	}
	a, _, err := app.Apps.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("read the app: %w", err)
	}
	bot = a.GetSlug() + "[bot]"
	x.mu.Lock()
	x.bot = bot
	x.mu.Unlock()
	return bot, nil
}

// searchSlack is how much earlier than a run's creation its status comment may have been
// updated last, for the clocks of GitHub's services to disagree.
const searchSlack = 2 * time.Minute

// Search limits: the comments read per repository looking for status comments.
const (
	webhookSearchComments = 1000
	historySearchComments = 500
)

// runWorkflow carries out /run on st: checks, then the dispatch, or the refusal.
func (r *Runner) runWorkflow(ctx context.Context, client *gh.Client, req Request, cmd command.Command, st *statusComment) {
	if err := r.startRun(ctx, client, req, cmd, st); err != nil {
		st.failWith(ctx, err)
	}
}

func (r *Runner) startRun(ctx context.Context, client *gh.Client, req Request, cmd command.Command, st *statusComment) error {
	t, err := r.target(ctx, client, r.graphql(client), req.Owner, req.Repo)
	if err != nil {
		return err
	}
	resolved, err := r.Planner.Resolve(t.cfg, plan.Input{Command: cmd, Requester: req.Author, Labels: req.Labels, Repo: req.FullRepo()})
	if err != nil {
		return err
	}
	env, _ := t.cfg.Env(resolved.Env)
	allowed, err := t.cfg.FindWorkflow(t.repo.FullName(), resolved.Service, resolved.Env, cmd.Workflow)
	ref := ""
	if err == nil {
		ref, err = allowed.RunRef(cmd.Ref)
	}
	if err != nil {
		var wr *repoconfig.WorkflowRefusal
		if errors.As(err, &wr) {
			return plan.Errorf(plan.Forbidden, "%s.", markdown.Text(upperFirst(wr.Msg)))
		}
		return err
	}

	// Who asked is read while the workflow file is: a refusal comes first all the same.
	var (
		wrepo   githubapi.Repo
		wf      *githubapi.WorkflowFile
		readErr error
		read    = make(chan struct{})
	)
	go func() {
		defer close(read)
		if wrepo, readErr = r.workflowRepo(ctx, t, allowed.Repo); readErr == nil {
			at := ref
			if at == "" && wrepo == t.repo {
				at = t.head.Branch // read already
			}
			wf, readErr = wrepo.ReadWorkflow(ctx, allowed.Workflow.Workflow, at)
		}
	}()
	refusal, err := r.mayRequest(ctx, t.repo, req.Author, resolved, env)
	<-read
	switch {
	case err != nil:
		return err
	case refusal != "":
		return plan.Errorf(plan.Forbidden, "%s", refusal)
	}
	if f, frozen := t.cfg.Frozen(env.Name); frozen && !resolved.BreakGlass {
		return plan.Errorf(plan.Forbidden, "%s; ask for /unfreeze --env %s first, or repeat with --break-glass in an emergency.", markdown.Text(plan.FreezeText(env.Name, f)), env.Name)
	}
	if readErr != nil {
		return readErr
	}

	parsed, err := workflow.Parse(wf.Path, wf.Data)
	if err != nil {
		return plan.Errorf(plan.Invalid, "daytwo cannot read the workflow of %s at %s as GitHub would: %s. Fix the file, then ask again.", wrepo.FullName(), markdown.Code(wf.Ref), markdown.Text(err.Error()))
	}
	opt := workflow.Options{}
	if wf.Enterprise != "" {
		opt.MaxInputs = workflow.MaxInputsGHES
	}
	d, err := parsed.Check(cmd.RunArgs(), opt)
	var (
		nd *workflow.NotDispatchableError
		ie *workflow.InputError
	)
	switch {
	case errors.As(err, &nd):
		return plan.Errorf(plan.Invalid, "%s (in %s at %s) has no `workflow_dispatch` trigger, so it cannot be run by hand: add `workflow_dispatch` to its `on:` events, or list another workflow in %s.",
			markdown.Text(parsed.Name), markdown.Code(wf.Path), markdown.Code(wf.Ref), markdown.Code(repoconfig.Path))
	case errors.As(err, &ie):
		return plan.Errorf(plan.Invalid, "%s", strings.TrimRight(ie.Markdown(markdown.GitHub), "\n"))
	case err != nil:
		return err
	}

	mark := &githubapi.RunMark{
		Repo: wrepo.FullName(), Workflow: allowed.Name, File: allowed.Workflow.Workflow, Ref: wf.Ref, Inputs: markInputs(d.Values),
		Service: resolved.Service, Env: resolved.Env, By: req.Author, Reason: oneLineText(cmd.Reason),
	}
	if resolved.DryRun {
		st.set(githubapi.StateDryRun, 0).step(ctx, "", "🧪 Dry run — nothing was run. Without `--dry-run` this runs "+runWhat(mark, parsed, d)+".")
		return nil
	}
	bot, err := r.botLogin(ctx)
	if err != nil {
		return err
	}
	// One dispatch of a workflow at a ref at a time: on a server that does not name the
	// run it started, the run is told from others by coming next.
	lease, err := r.locks().Lock(ctx, "run|"+strings.ToLower(wrepo.FullName())+"|"+mark.File+"|"+mark.Ref)
	if err != nil {
		return fmt.Errorf("lock the dispatch of %s: %w", mark.File, err)
	}
	disp, err := wrepo.DispatchWorkflow(ctx, mark.File, mark.Ref, d.Inputs, bot)
	lease.Unlock()
	if err != nil {
		return err
	}

	// The run's own lock keeps its webhooks from editing the status meanwhile.
	runLease, err := r.locks().Lock(ctx, runLock(mark.Repo, disp.ID))
	if err != nil {
		return fmt.Errorf("lock run %d: %w", disp.ID, err)
	}
	defer runLease.Unlock()
	mark.ID, mark.Status = disp.ID, "queued"
	st.mark.Run = mark
	r.workflows.remember(mark.Repo, disp.ID, statusRef(st))
	started := fmt.Sprintf("▶️ Started %s: %s", markdown.GitHub.Link("run", disp.URL), runWhat(mark, parsed, d))
	if disp.Listed {
		started += " (found among the workflow's runs: this GitHub does not name the run it starts)"
	}
	st.steps = append(st.steps, started+".")
	if mark.Reason != "" {
		st.steps = append(st.steps, "📝 Reason: "+markdown.Text(mark.Reason))
	}
	if note := r.untraceable(ctx, t, req, wrepo); note != "" {
		st.steps = append(st.steps, note)
	}
	if resolved.BreakGlass {
		if err := r.runBreakGlass(ctx, t, req, mark, disp); err != nil {
			st.steps = append(st.steps, "⚠️ The break-glass review issue was not opened: "+gitHubSaid(githubapi.RefusalOf(githubapi.StepIssue, nil, err))+" Review the run after the fact all the same.")
		}
	}
	st.set(githubapi.StateRunning, 0).write(ctx, "⏳ Queued; this comment follows the run to its end.")
	return nil
}

// workflowRepo is the repository holding the workflow, through its installation.
func (r *Runner) workflowRepo(ctx context.Context, t *target, full string) (githubapi.Repo, error) {
	if strings.EqualFold(full, t.repo.FullName()) {
		return t.repo, nil
	}
	owner, name, _ := strings.Cut(full, "/")
	c, err := r.clientFor(ctx, owner, name)
	if err != nil {
		if notFound(err) {
			return githubapi.Repo{}, plan.Errorf(plan.NotFound, "The workflow is in %s, where daytwo is not installed: install the app on %s too (its installation settings on GitHub), then ask again.", markdown.Text(full), markdown.Text(full))
		}
		return githubapi.Repo{}, err
	}
	return githubapi.Repo{Client: c, Owner: owner, Name: name}, nil
}

// untraceable warns when a webhook of the run, handled by another replica or after a
// restart, cannot lead to the status comment: the repository holding the workflow is
// neither the GitOps repository nor points at it, so its config does not say where the
// status may be. "" when it can.
func (r *Runner) untraceable(ctx context.Context, t *target, req Request, w githubapi.Repo) string {
	if strings.EqualFold(w.FullName(), t.repo.FullName()) || strings.EqualFold(w.FullName(), req.FullRepo()) {
		return "" // the GitOps repository, or a repository that asked through its pointer
	}
	data, err := githubapi.SnapshotAt(w.Client, w.Owner, w.Name, "").ReadFile(ctx, repoconfig.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		zerolog.Ctx(ctx).Warn().Err(err).Str("repo", w.FullName()).Msg("cannot tell whether the workflow's repository points at the GitOps repository")
		return ""
	default:
		if pointer, ok, perr := repoconfig.ParsePointer(data); ok && perr == nil && strings.EqualFold(pointer, t.repo.FullName()) {
			return ""
		}
	}
	return fmt.Sprintf("⚠️ %s does not point at %s (a `%s` holding `gitops: %s`), so only this daytwo process can tell which request a run there belongs to: should it restart, or another replica get the run's news, this comment stops following the run. Add the pointer to follow runs there reliably.",
		markdown.Text(w.FullName()), markdown.Text(t.repo.FullName()), repoconfig.Path, markdown.Text(t.repo.FullName()))
}

// runBreakGlass opens the follow-up review issue of a /run with --break-glass.
func (r *Runner) runBreakGlass(ctx context.Context, t *target, req Request, m *githubapi.RunMark, disp githubapi.Dispatched) error {
	where := m.Env
	if m.Service != "" {
		where = m.Service + " in " + m.Env
	}
	body := fmt.Sprintf("@%s used `--break-glass` to run %s (%s of %s at %s) for %s.\n\nRun: %s\nAsked in: %s\n\nReview the run after the fact and close this issue when done.",
		req.Author, markdown.Code(m.Workflow), markdown.Code(m.File), markdown.Text(m.Repo), markdown.Code(m.Ref), markdown.Text(where), disp.URL, req.URL)
	_, _, err := t.repo.OpenIssue(ctx, fmt.Sprintf("Break-glass review: run %s for %s", m.Workflow, where), body, []string{"daytwo", "break-glass", "env/" + m.Env})
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("cannot open the break-glass review issue")
	}
	return err
}

// runWhat describes a run: the workflow, where it runs from, for what, with which inputs.
func runWhat(m *githubapi.RunMark, w *workflow.Workflow, d *workflow.Dispatch) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, %s of %s at %s)", markdown.Code(m.Workflow), markdown.Text(w.Name), markdown.Code(m.File), markdown.Text(m.Repo), markdown.Code(m.Ref))
	if m.Service != "" {
		fmt.Fprintf(&b, " for %s in %s", markdown.Text(m.Service), markdown.Text(m.Env))
	} else {
		fmt.Fprintf(&b, " for %s", markdown.Text(m.Env))
	}
	var inputs []string
	for _, in := range w.Inputs {
		v, ok := d.Values[in.Name]
		if !ok {
			continue
		}
		s := markdown.Code(in.Name + "=" + clipRunes(v, 100))
		if !slices.Contains(d.Given, in.Name) {
			s += " (default)"
		}
		inputs = append(inputs, s)
	}
	if len(inputs) == 0 {
		b.WriteString(", without inputs")
	} else {
		b.WriteString(", with " + strings.Join(inputs, ", "))
	}
	return b.String()
}

// markInputs are the inputs as the mark keeps them: each value clipped, so that the mark,
// the last line of the comment, is never cut off by GitHub's size limit.
func markInputs(values map[string]string) map[string]string {
	if len(values) == 0 {
		return nil
	}
	out := make(map[string]string, len(values))
	for k, v := range values {
		out[k] = clipRunes(v, 200)
	}
	return out
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func oneLineText(s string) string { return clipRunes(strings.Join(strings.Fields(s), " "), 500) }

func runLock(repo string, id int64) string { return "run|" + runKey(repo, id) }

// notFound reports whether GitHub answered 404.
func notFound(err error) bool {
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}

// WorkflowRun follows a run /run started, from its workflow_run webhook: the request's
// status comment shows it queued, in progress, and how it ended, with its duration.
// Runs others started, and news older than what the comment shows, are ignored.
func (r *Runner) WorkflowRun(ctx context.Context, client *gh.Client, repo *gh.Repository, wr *gh.WorkflowRun) error {
	run := githubapi.RunOf(wr)
	// Queued is what the status says from the start: only later news is looked up.
	if run.Event != "workflow_dispatch" || runRank(run.Status) <= runRank("queued") {
		return nil
	}
	bot, err := r.botLogin(ctx)
	if err != nil {
		return err
	}
	if !strings.EqualFold(run.Actor, bot) {
		return nil
	}
	w := githubapi.Repo{Client: client, Owner: repo.GetOwner().GetLogin(), Name: repo.GetName()}
	log := zerolog.Ctx(ctx).With().Int64("run", run.ID).Str("run_status", run.Status).Logger()
	ctx = log.WithContext(ctx)
	lease, err := r.locks().Lock(ctx, runLock(w.FullName(), run.ID))
	if err != nil {
		return fmt.Errorf("lock run %d: %w", run.ID, err)
	}
	defer lease.Unlock()
	st, err := r.runStatus(ctx, w, run, bot)
	if err != nil {
		return err
	}
	if st == nil {
		log.Info().Msg("no status comment names this run; ignoring it")
		return nil
	}
	r.advanceRun(ctx, st, w.FullName(), run)
	return nil
}

// runStatus finds the status comment of run in w: where this process noted it, else by
// the run in the marks of daytwo's comments in the repositories a request for it can be
// asked in. nil when there is none.
func (r *Runner) runStatus(ctx context.Context, w githubapi.Repo, run githubapi.Run, bot string) (*statusComment, error) {
	if ref, ok := r.workflows.lookup(w.FullName(), run.ID); ok {
		if owner, name, number, id, ok := parseStatusRef(ref); ok {
			client := w.Client
			if !strings.EqualFold(owner+"/"+name, w.FullName()) {
				c, err := r.clientFor(ctx, owner, name)
				if err != nil {
					return nil, err
				}
				client = c
			}
			st, err := resumeStatus(ctx, githubapi.Thread{Client: client, Owner: owner, Repo: name, Number: number}, id)
			if err != nil {
				return nil, err
			}
			if m := st.mark.Run; m != nil && m.ID == run.ID && strings.EqualFold(m.Repo, w.FullName()) {
				return st, nil
			}
		}
	}
	repos := r.runThreadRepos(ctx, w)
	found := r.findRunStatuses(ctx, repos, run.CreatedAt.Add(-searchSlack), bot, webhookSearchComments, true, func(m *githubapi.RunMark) bool {
		return m.ID == run.ID && strings.EqualFold(m.Repo, w.FullName())
	})
	if len(found) == 0 {
		return nil, nil
	}
	return found[0], nil
}

// runThreadRepos are the repositories where a request that ran a workflow of w can have
// been asked: the GitOps repository w is or points at, and the repositories of its
// services. Without a config there, w alone.
func (r *Runner) runThreadRepos(ctx context.Context, w githubapi.Repo) []githubapi.Repo {
	log := zerolog.Ctx(ctx)
	t, pointer, err := r.readTarget(ctx, w.Client, r.graphql(w.Client), w.Owner, w.Name)
	if err == nil && pointer != "" {
		owner, name, _ := strings.Cut(pointer, "/")
		var c *gh.Client
		if c, err = r.clientFor(ctx, owner, name); err == nil {
			t, _, err = r.readTarget(ctx, c, r.graphql(c), owner, name)
		}
	}
	if err != nil {
		log.Info().Err(err).Str("repo", w.FullName()).Msg("no daytwo config says where the status of this run may be; looking in its own repository only")
		return []githubapi.Repo{w}
	}
	out := []githubapi.Repo{t.repo}
	if pointer != "" {
		out = append([]githubapi.Repo{w}, out...)
	}
	for _, s := range t.cfg.Services {
		if s.Repository != "" && !slices.ContainsFunc(out, func(x githubapi.Repo) bool { return strings.EqualFold(x.FullName(), s.Repository) }) {
			owner, name, _ := strings.Cut(s.Repository, "/")
			out = append(out, githubapi.Repo{Owner: owner, Name: name}) // its client is made when it is searched
		}
	}
	return out
}

// findRunStatuses reads at most limit comments updated since since in each of repos, in
// order, and returns the status comments daytwo (bot) wrote whose run mark match accepts;
// with first, only those of the first repository holding one. A repository that cannot be
// read is skipped.
func (r *Runner) findRunStatuses(ctx context.Context, repos []githubapi.Repo, since time.Time, bot string, limit int, first bool, match func(*githubapi.RunMark) bool) []*statusComment {
	log := zerolog.Ctx(ctx)
	var out []*statusComment
	for _, repo := range repos {
		if repo.Client == nil {
			c, err := r.clientFor(ctx, repo.Owner, repo.Name)
			if err != nil {
				log.Info().Err(err).Str("repo", repo.FullName()).Msg("cannot look for run statusComments there")
				continue
			}
			repo.Client = c
		}
		comments, err := repo.CommentsSince(ctx, since, limit)
		if err != nil {
			log.Warn().Err(err).Str("repo", repo.FullName()).Msg("cannot list comments looking for run statusComments")
		}
		for _, c := range comments {
			if !strings.EqualFold(c.Author, bot) {
				continue
			}
			if m, ok := githubapi.ParseStatusMark(c.Body); ok && m.Run != nil && match(m.Run) {
				out = append(out, parseStatus(githubapi.Thread{Client: repo.Client, Owner: repo.Owner, Repo: repo.Name, Number: c.Number}, c.ID, c.Body))
			}
		}
		if len(out) > 0 && first {
			break
		}
	}
	return out
}

// runRank orders a run's statusComments: a webhook never moves the status back.
func runRank(status string) int {
	switch status {
	case "completed":
		return 3
	case "in_progress":
		return 2
	case "":
		return 0
	}
	return 1 // requested, queued, waiting, pending
}

// advanceRun shows what run's webhook says on st, when it is news.
func (r *Runner) advanceRun(ctx context.Context, st *statusComment, repo string, run githubapi.Run) {
	m := st.mark.Run
	if runRank(run.Status) <= runRank(m.Status) {
		zerolog.Ctx(ctx).Debug().Str("shown", m.Status).Msg("the status shows this or later news already")
		return
	}
	m.Status, m.Conclusion = run.Status, run.Conclusion
	done, now := runNews(m.Workflow, run)
	if run.Status == "completed" {
		r.workflows.forget(repo, run.ID)
		st.set(githubapi.StateCompleted, 0).step(ctx, done, now)
		return
	}
	st.write(ctx, now)
}

// runNews is what a status says of a run of workflow (the name the config lists), in
// progress or completed: the line it adds once the run completed, and what it shows now.
func runNews(workflow string, run githubapi.Run) (done, now string) {
	link := markdown.GitHub.Link(fmt.Sprintf("Run #%d", run.Number), run.URL)
	took := roundSeconds(run.UpdatedAt.Sub(run.StartedAt))
	switch {
	case run.Status == "completed" && run.Conclusion == "success":
		return fmt.Sprintf("✅ %s of %s succeeded in %s.", link, markdown.Code(workflow), took), ""
	case run.Status == "completed" && slices.Contains([]string{"failure", "timed_out", "startup_failure"}, run.Conclusion):
		return fmt.Sprintf("❌ %s of %s ended %s after %s: its logs say why.", link, markdown.Code(workflow), markdown.Code(run.Conclusion), took), ""
	case run.Status == "completed":
		return fmt.Sprintf("⚠️ %s of %s ended %s after %s.", link, markdown.Code(workflow), markdown.Code(run.Conclusion), took), ""
	}
	return "", fmt.Sprintf("🏃 %s in progress since %s UTC; this comment follows it to its end.", link, run.StartedAt.UTC().Format("15:04:05"))
}

// historyRuns are the runs /run started of the workflows the config lists for the
// selection of a /history: listed from GitHub Actions (daytwo's bot's dispatches), and
// who asked from the status comments that record them. nil when the selection lists no
// workflow.
func (r *Runner) historyRuns(ctx context.Context, t *target, cmd command.Command) *report.Runs {
	type key struct{ repo, file string }
	names := map[key]string{}
	var keys []key
	services := []string{cmd.Service}
	if cmd.Service == "" {
		services = append(t.cfg.ServiceNames(), "")
	}
	for _, env := range report.Envs(t.cfg, cmd) {
		for _, svc := range services {
			for _, wf := range t.cfg.Workflows(svc, env) {
				aw, err := t.cfg.FindWorkflow(t.repo.FullName(), svc, env, wf.Name)
				if err != nil {
					continue
				}
				k := key{strings.ToLower(aw.Repo), aw.Workflow.Workflow}
				if _, seen := names[k]; !seen {
					names[k] = wf.Name
					keys = append(keys, k)
				}
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	out := &report.Runs{}
	bot, err := r.botLogin(ctx)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot tell the app's runs")
		out.Notes = append(out.Notes, "The workflow runs could not be read (logged).")
		return out
	}
	limit := cmd.Limit
	if limit <= 0 {
		limit = command.DefaultHistoryLimit
	}
	clients := map[string]githubapi.Repo{strings.ToLower(t.repo.FullName()): t.repo}
	for _, k := range keys {
		repo, ok := clients[k.repo]
		if !ok {
			var err error
			if repo, err = r.workflowRepo(ctx, t, k.repo); err != nil {
				out.Notes = append(out.Notes, fmt.Sprintf("The runs of %s in %s are not shown: daytwo cannot read them (%s).", names[k], k.repo, firstLine(userMessage(ctx, err))))
				continue
			}
			clients[k.repo] = repo
		}
		runs, err := repo.DispatchedRuns(ctx, k.file, bot, limit)
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot list workflow runs")
			out.Notes = append(out.Notes, fmt.Sprintf("The runs of %s in %s are not shown: GitHub did not list them (logged).", names[k], repo.FullName()))
			continue
		}
		for _, run := range runs {
			out.Runs = append(out.Runs, report.Run{When: run.CreatedAt, Workflow: names[k], Repo: repo.FullName(), Number: run.Number, URL: run.URL, Status: run.Status, Conclusion: run.Conclusion, ID: run.ID})
		}
	}
	// Newest first; GitHub's run ids grow with time, finer than its timestamps.
	slices.SortFunc(out.Runs, func(a, b report.Run) int {
		if c := b.When.Compare(a.When); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	out.Runs = out.Runs[:min(len(out.Runs), limit)]
	if len(out.Runs) == 0 {
		return out
	}

	// Who asked is in the status comments: in the GitOps repository or a service's.
	repos := []githubapi.Repo{t.repo}
	for _, s := range t.cfg.Services {
		if (cmd.Service == "" || s.Name == cmd.Service) && s.Repository != "" && !strings.EqualFold(s.Repository, t.repo.FullName()) {
			owner, name, _ := strings.Cut(s.Repository, "/")
			repos = append(repos, githubapi.Repo{Owner: owner, Name: name})
		}
	}
	oldest := out.Runs[len(out.Runs)-1].When
	marks := map[string]*githubapi.RunMark{}
	for _, st := range r.findRunStatuses(ctx, repos, oldest.Add(-searchSlack), bot, historySearchComments, false, func(*githubapi.RunMark) bool { return true }) {
		marks[runKey(st.mark.Run.Repo, st.mark.Run.ID)] = st.mark.Run
	}
	kept := out.Runs[:0]
	for _, run := range out.Runs {
		m := marks[runKey(run.Repo, run.ID)]
		if m != nil {
			if cmd.Service != "" && m.Service != "" && m.Service != cmd.Service || cmd.Env != "" && m.Env != cmd.Env {
				continue // the same workflow, run for another selection
			}
			run.Workflow, run.Service, run.Env, run.Requester = m.Workflow, m.Service, m.Env, m.By
		}
		kept = append(kept, run)
	}
	out.Runs = kept
	return out
}
