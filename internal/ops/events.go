package ops

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// PullRequestClosed reports a merged or closed change PR on its status comment. Closing
// by daytwo itself (supersede, cancel) is reported where it happens.
func (r *Runner) PullRequestClosed(ctx context.Context, client *gh.Client, repo *gh.Repository, pr *gh.PullRequest, sender *gh.User) error {
	if sender.GetType() == "Bot" {
		return nil
	}
	gr := ghapi.Repo{Client: client, Owner: repo.GetOwner().GetLogin(), Name: repo.GetName()}
	st := r.statusOf(ctx, gr, pr.GetBody())
	if st == nil {
		return nil
	}
	if pr.GetMerged() {
		if b := pr.GetHead().GetRef(); strings.HasPrefix(b, "daytwo/") && strings.EqualFold(pr.GetHead().GetRepo().GetFullName(), gr.FullName()) {
			if err := gr.DeleteBranch(ctx, b); err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot delete the merged branch")
			}
		}
		st.step(ctx, fmt.Sprintf("🔀 [PR #%d](%s) merged by @%s as `%s`", pr.GetNumber(), pr.GetHTMLURL(), pr.GetMergedBy().GetLogin(), short(pr.GetMergeCommitSHA())), r.afterMerge())
		if meta, ok := plan.ParseMetadata(pr.GetBody()); ok {
			m := ghapi.Merged{PR: ghapi.PR{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Branch: pr.GetHead().GetRef(), HeadSHA: pr.GetHead().GetSHA(), Body: pr.GetBody()},
				MergeCommit: pr.GetMergeCommitSHA(), MergedBy: pr.GetMergedBy().GetLogin()}
			r.startRollout(ctx, rollout{repo: gr, pr: m, service: meta["service"], env: meta["env"], st: st})
		}
		return nil
	}
	st.step(ctx, "", fmt.Sprintf("🚫 PR #%d was closed without merging by @%s; nothing changed. Ask again to open a new one.", pr.GetNumber(), sender.GetLogin()))
	return nil
}

// ReviewSubmitted reports reviews of a change PR, and merges it where the environment
// auto-merges once GitHub reports it mergeable.
func (r *Runner) ReviewSubmitted(ctx context.Context, client *gh.Client, repo *gh.Repository, pr *gh.PullRequest, review *gh.PullRequestReview) error {
	meta, ok := plan.ParseMetadata(pr.GetBody())
	if !ok || pr.GetState() != "open" {
		return nil
	}
	gr := ghapi.Repo{Client: client, Owner: repo.GetOwner().GetLogin(), Name: repo.GetName()}
	st := r.statusOf(ctx, gr, pr.GetBody())
	who := review.GetUser().GetLogin()
	switch review.GetState() {
	case "approved":
		if st != nil {
			st.step(ctx, fmt.Sprintf("👍 Approved by @%s", who), fmt.Sprintf("🔀 %s — merging once GitHub reports it mergeable.", pr.GetHTMLURL()))
		}
	case "changes_requested":
		if st != nil {
			st.step(ctx, fmt.Sprintf("✋ Changes requested by @%s", who), fmt.Sprintf("🔀 %s — waiting for the requester or the reviewers.", pr.GetHTMLURL()))
		}
		return nil
	default:
		return nil
	}
	// Auto-merge only where the environment allows it; GitHub decides whether the approvals
	// and checks suffice.
	t, err := r.target(ctx, client, r.graphql(client), gr.Owner, gr.Name)
	if err != nil {
		return nil
	}
	if env, ok := t.cfg.Env(meta["env"]); ok && env.AutoMerge {
		r.tryMerge(ctx, gr, ghapi.PR{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Branch: pr.GetHead().GetRef(), HeadSHA: pr.GetHead().GetSHA()}, "", st)
	}
	return nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
