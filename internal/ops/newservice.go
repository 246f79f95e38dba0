package ops

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/scaffold"
)

// newServiceBranches is the branch prefix of /new-service's pull requests for one name.
func newServiceBranches(name string) string { return "daytwo/" + name + "/new-service-" }

// newService carries out /new-service: one pull request adding the service, the answer on
// st. A branch that moved under the write is read and written again.
func (r *Runner) newService(ctx context.Context, client *gh.Client, req Request, cmd command.Command, st *statusComment) {
	log := zerolog.Ctx(ctx)
	var err error
	for attempt := 1; ; attempt++ {
		err = r.newServiceOnce(ctx, client, req, cmd, st)
		if plan.ErrorCode(err) != plan.Conflict || attempt == maxAttempts {
			break
		}
		log.Info().Err(err).Int("attempt", attempt).Msg("conflict; reading again")
		time.Sleep(time.Duration(attempt*attempt*20+rand.IntN(100)) * time.Millisecond)
	}
	if err != nil {
		if errors.Is(err, githubapi.ErrNoAnswer) {
			err = &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("GitHub did not answer daytwo's last write, after several tries. If a daytwo pull request adding %s is open, it carries this request; otherwise ask again.", cmd.Service), Err: err}
		}
		st.failWith(ctx, err)
	}
}

func (r *Runner) newServiceOnce(ctx context.Context, client *gh.Client, req Request, cmd command.Command, st *statusComment) error {
	g := r.graphql(client)
	t, err := r.target(ctx, client, g, req.Owner, req.Repo)
	if err != nil {
		return err
	}
	lease, err := r.locks().Lock(ctx, t.repo.FullName()+"|new-service|"+cmd.Service)
	if err != nil {
		return fmt.Errorf("lock /new-service %s in %s: %w", cmd.Service, t.repo.FullName(), err)
	}
	defer lease.Unlock()
	if lease.Waited() || !t.read.OpenComplete {
		if t, _, err = r.readTarget(ctx, t.repo.Client, t.g, t.repo.Owner, t.repo.Name); err != nil {
			return err
		}
	}

	// Who may ask: the new-service rule of every environment the service is added to.
	envs := cmd.Envs
	if len(envs) == 0 {
		envs = t.cfg.EnvNames()
	}
	for _, name := range envs {
		env, ok := t.cfg.Env(name)
		if !ok {
			return plan.Errorf(plan.Invalid, "%s has no environment %q; its environments are %s.", t.repo.FullName(), name, strings.Join(t.cfg.EnvNames(), ", "))
		}
		refusal, err := r.mayRequest(ctx, t.repo, req.Author, cmd, env)
		if err != nil {
			return err
		}
		if refusal != "" {
			return plan.Errorf(plan.Forbidden, "%s", refusal)
		}
	}
	org, slug, _ := strings.Cut(cmd.Owner, "/")
	found, err := t.repo.TeamExists(ctx, org, slug)
	if err != nil {
		return err
	}
	if !found {
		return plan.Errorf(plan.Invalid, "GitHub has no team %s that daytwo can see (it sees the teams of %s, where it is installed). Name the owning team as `--owner <org>/<team>`, with the slug from the team's URL.", markdown.Code(cmd.Owner), t.repo.Owner)
	}

	// One pull request per new name; a repeat of this request finds its own.
	prefix := newServiceBranches(cmd.Service)
	open := t.read.OpenOn(t.head.Branch, prefix)
	for _, pr := range open {
		if _, mine := carries(pr.Commits, req.ID()); mine {
			st.set(githubapi.StateOpen, pr.Number).step(ctx, "", fmt.Sprintf("🔀 In %s — review it and merge it.", pr.URL))
			return nil
		}
	}
	if len(open) > 0 {
		return plan.Errorf(plan.Invalid, "The name %s is taken: %s adds a service %s already. Review that pull request, or choose another name.", cmd.Service, open[0].URL, cmd.Service)
	}

	if _, err := t.snap.ReadTree(ctx, t.g, t.repo); err != nil {
		return err
	}
	preq := plan.Input{
		Command: cmd, Requester: req.Author, Origin: req.URL, OriginKey: req.ID(), ID: req.ID(),
		Status: statusRef(st), Repo: req.FullRepo(), Now: r.now(),
	}
	cs, res, err := scaffold.Plan(ctx, r.Planner, t.cfg, t.cfgFile, t.snap, preq, scaffold.Options{Repo: []string{t.repo.FullName()}})
	if err != nil {
		return err
	}
	if cmd.DryRun {
		st.set(githubapi.StateDryRun, 0).step(ctx, "", newServiceDryRun(cs, res))
		return nil
	}
	owners, err := githubapi.ReadCodeOwners(ctx, t.snap)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot read CODEOWNERS; opening the PR without review requests")
	}
	reviewers := reviewersOf(owners, cs, req.Author)
	labels := []string{"daytwo", "action/" + cmd.Name}
	select {
	case <-lease.Lost():
		return &plan.Error{Code: plan.Conflict, Msg: "the lock of the name expired while planning; plan again"}
	default:
	}
	pr, err := t.repo.CreateChange(ctx, t.g, t.read.RepoID, cs, githubapi.ChangeOptions{Base: t.head, Labels: labels, Reviewers: reviewers, StackPrefix: prefix})
	if err != nil {
		return err
	}
	next := fmt.Sprintf("🔀 Opened %s — review it and merge it; Argo CD deploys %s once it is merged.", pr.URL, cmd.Service)
	if len(reviewers) > 0 {
		next = fmt.Sprintf("🔀 Opened %s — review requested from %s; Argo CD deploys %s once it is merged.", pr.URL, mentions(reviewers), cmd.Service)
	}
	fin := githubapi.Finish{
		Labels: labels, Reviewers: reviewers, RepoID: t.read.RepoID, Check: newServiceCheck(res),
		CommentNodeID: st.nodeID,
		CommentBody:   st.set(githubapi.StateOpen, pr.Number).advance("📝 Planned: "+markdown.Text(cs.Summary), next),
	}
	if pr.NodeID == "" || st.nodeID == "" {
		fin.CommentNodeID = ""
	}
	done, err := t.repo.FinishChange(ctx, t.g, pr, fin)
	if err != nil {
		st.fail(ctx, githubapi.StateFailed, withdrawnText(t.repo.FullName(), prRef{pr.Number, pr.URL}, pr.Branch, err))
		return nil
	}
	if len(done.Refused) > 0 {
		for _, ref := range groupRefusals(done.Refused) {
			st.steps = append(st.steps, refusalText(t.repo.FullName(), prRef{pr.Number, pr.URL}, ref))
		}
		done.Commented = false
	}
	if !done.Commented {
		st.write(ctx, next)
	}
	return nil
}

// newServiceCheck is the daytwo/render check of a new service's pull request: each new
// overlay rendered, and the repository as daytwo validate checks it.
func newServiceCheck(res *scaffold.Result) *githubapi.CheckRun {
	var b strings.Builder
	b.WriteString("Every overlay of the repository at this commit, rendered with kustomize, as `daytwo validate` renders them:\n\n")
	for _, o := range res.Checked {
		mark := "✅"
		if o.Err != nil {
			mark = "❌"
		}
		fmt.Fprintf(&b, "- %s %s in %s: %s — %s\n", mark, o.Service, o.Env, markdown.Code(o.Path), markdown.Text(o.DescribeApps()))
	}
	return &githubapi.CheckRun{Name: "daytwo/render", Conclusion: "success", Title: "Every overlay renders", Summary: b.String()}
}

// newServiceDryRun shows what /new-service would propose.
func newServiceDryRun(cs *plan.ChangeSet, res *scaffold.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🧪 Dry run — nothing was changed. Without `--dry-run` this opens %s:\n\n", markdown.Code(cs.Title))
	for _, a := range res.Apps {
		fmt.Fprintf(&b, "- %s: %s\n", markdown.Text(a.Env), markdown.Text(a.Name+" — "+a.How))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "\n> %s\n", markdown.Text(n))
	}
	fmt.Fprintf(&b, "\n<details><summary>Files</summary>\n\n%s</details>\n", markdown.Fence("diff", clipDiff(cs.FileDiff, 40000)))
	return b.String()
}

// newServiceMerged reports a merged /new-service pull request: nothing to follow until Argo
// CD creates the Applications.
func newServiceMerged(ctx context.Context, sts statusComments, pr *gh.PullRequest, service string) {
	sts.set(githubapi.StateMerged, pr.GetNumber()).step(ctx, fmt.Sprintf("🔀 [PR #%d](%s) merged by @%s as `%s`", pr.GetNumber(), pr.GetHTMLURL(), pr.GetMergedBy().GetLogin(), clip.SHA(pr.GetMergeCommitSHA())),
		fmt.Sprintf("🎉 %s is in the repository: Argo CD deploys it, and day-2 commands (`/status --service %s`) work on it now that `%s` lists it.", service, service, repoconfig.Path))
}
