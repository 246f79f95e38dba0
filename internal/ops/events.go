package ops

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// PullRequestClosed reports a merged or closed change PR on the status comments of every
// request it carries, and deletes its branch. Closing by daytwo itself (cancel, a PR that
// gave way) is reported where it happens.
func (r *Runner) PullRequestClosed(ctx context.Context, client *gh.Client, repo *gh.Repository, pr *gh.PullRequest, sender *gh.User) error {
	gr := githubapi.Repo{Client: client, Owner: repo.GetOwner().GetLogin(), Name: repo.GetName()}
	r.dashboardSoon(ctx, gr) // whoever closed it: the dashboard shows open pull requests
	if sender.GetType() == "Bot" {
		return nil
	}
	branch := pr.GetHead().GetRef()
	if !strings.HasPrefix(branch, "daytwo/") || !strings.EqualFold(pr.GetHead().GetRepo().GetFullName(), gr.FullName()) {
		return nil
	}
	// Its commits' trailers say what it carried and where each asker waits.
	commits, err := gr.PullCommits(ctx, pr.GetNumber())
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Int("pr", pr.GetNumber()).Msg("cannot read the pull request's requests")
	}
	sts := r.statusesFrom(ctx, gr, pr.GetNumber(), commits)
	action, service, env, carries := targetOf(commits)
	// The branch goes either way: no daytwo branch outlives its pull request.
	if err := gr.DeleteBranch(ctx, branch); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot delete the closed change's branch")
	}
	if pr.GetMerged() && action == "init" {
		// Nothing to roll out: from now on daytwo reads the config it merged.
		sts.set(githubapi.StateMerged, pr.GetNumber()).step(ctx, fmt.Sprintf("🔀 [PR #%d](%s) merged by @%s as `%s`", pr.GetNumber(), pr.GetHTMLURL(), pr.GetMergedBy().GetLogin(), clip.SHA(pr.GetMergeCommitSHA())),
			fmt.Sprintf("🎉 daytwo reads `%s` from now on: `/help` lists the commands.", repoconfig.Path))
		return nil
	}
	if pr.GetMerged() && action == "new-service" {
		newServiceMerged(ctx, sts, pr, service)
		return nil
	}
	if pr.GetMerged() {
		merged := &githubapi.Merged{PR: githubapi.PR{Number: pr.GetNumber(), URL: pr.GetHTMLURL()}, MergeCommit: pr.GetMergeCommitSHA(), MergedAt: pr.GetMergedAt().Time}
		r.noteRestored(ctx, gr, merged, commits)
		sts.set(githubapi.StateMerged, pr.GetNumber())
		for _, s := range sts {
			s.steps = append(s.steps, fmt.Sprintf("🔀 [PR #%d](%s) merged by @%s as `%s`", pr.GetNumber(), pr.GetHTMLURL(), pr.GetMergedBy().GetLogin(), clip.SHA(pr.GetMergeCommitSHA())))
		}
		sts.step(ctx, r.expiryStep(ctx, gr, merged, commits), r.afterMerge())
		if carries && len(sts) > 0 {
			m := githubapi.Merged{PR: githubapi.PR{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Branch: branch, HeadSHA: pr.GetHead().GetSHA(), Body: pr.GetBody()},
				MergeCommit: pr.GetMergeCommitSHA(), MergedBy: pr.GetMergedBy().GetLogin()}
			r.startRollout(ctx, rollout{repo: gr, pr: m, service: service, env: env, st: sts})
		}
		return nil
	}
	if strings.HasPrefix(branch, plan.TimeboxedBranches) {
		// Never merged, it never expires.
		if err := gr.RemoveLabel(ctx, pr.GetNumber(), expiresLabel); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot remove the expiry label")
		}
	}
	sts.set(githubapi.StateClosed, pr.GetNumber()).step(ctx, "", fmt.Sprintf("🚫 PR #%d was closed without merging by @%s; nothing changed. Ask again to open a new one.", pr.GetNumber(), sender.GetLogin()))
	return nil
}

// ReviewSubmitted reports reviews of a change PR, and merges it where the environment
// auto-merges once GitHub reports it mergeable.
func (r *Runner) ReviewSubmitted(ctx context.Context, client *gh.Client, repo *gh.Repository, pr *gh.PullRequest, review *gh.PullRequestReview) error {
	gr := githubapi.Repo{Client: client, Owner: repo.GetOwner().GetLogin(), Name: repo.GetName()}
	state := review.GetState()
	if pr.GetState() != "open" || state != "approved" && state != "changes_requested" ||
		!strings.HasPrefix(pr.GetHead().GetRef(), "daytwo/") || !strings.EqualFold(pr.GetHead().GetRepo().GetFullName(), gr.FullName()) {
		return nil
	}
	// Its commits' trailers say what it carries and where each asker waits.
	commits, err := gr.PullCommits(ctx, pr.GetNumber())
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Int("pr", pr.GetNumber()).Msg("cannot read the pull request's requests")
		return nil
	}
	_, _, envName, ok := targetOf(commits)
	if !ok {
		return nil
	}
	who := review.GetUser().GetLogin()
	if state == "changes_requested" {
		r.statusesFrom(ctx, gr, pr.GetNumber(), commits).step(ctx, fmt.Sprintf("✋ Changes requested by @%s", who), fmt.Sprintf("🔀 %s — waiting for the requester or the reviewers.", pr.GetHTMLURL()))
		return nil
	}
	// Auto-merge only where the environment allows it; GitHub decides whether the approvals
	// and checks suffice. The status says which of the two follows.
	var env *repoconfig.Environment
	if t, err := r.target(ctx, client, r.graphql(client), gr.Owner, gr.Name); err == nil {
		if e, ok := t.cfg.Env(envName); ok && e.AutoMerge {
			env = e
		}
	}
	next := "waiting for someone to merge it."
	if env != nil {
		next = "merging once GitHub reports it mergeable."
	}
	r.statusesFrom(ctx, gr, pr.GetNumber(), commits).step(ctx, fmt.Sprintf("👍 Approved by @%s", who), fmt.Sprintf("🔀 %s — %s", pr.GetHTMLURL(), next))
	if env != nil {
		why := "the environment auto-merges"
		if env.ApprovalRequired() {
			why = "the environment auto-merges once approved"
		}
		r.tryMerge(ctx, gr, githubapi.PR{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Branch: pr.GetHead().GetRef(), HeadSHA: pr.GetHead().GetSHA(), Body: pr.GetBody()}, nil, why)
	}
	return nil
}
