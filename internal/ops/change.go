package ops

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/codeowners"
	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/handler"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

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
func (r *Runner) tryMerge(ctx context.Context, repo ghapi.Repo, pr ghapi.PR, own *status, why string) {
	log := zerolog.Ctx(ctx)
	ms, err := repo.MergeState(ctx, pr.Number)
	if err != nil {
		log.Warn().Err(err).Msg("cannot read mergeability")
		return
	}
	if ms.Merged && own != nil && own.mark.State == ghapi.StateOpen {
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
		if plan.ErrorCode(err) != plan.Conflict { // a moved head merges on its next event
			r.statusesFrom(ctx, repo, pr.Number, commits).step(ctx, "", refusalText(repo.FullName(), prRef{pr.Number, pr.URL}, ghapi.RefusalOf(ghapi.StepMerge, nil, err)))
		}
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
	sts.set(ghapi.StateMerged, pr.Number).step(ctx, fmt.Sprintf("🔀 [PR #%d](%s) merged by daytwo as `%s` (%s)", pr.Number, pr.URL, clip.SHA(sha), why), r.afterMerge())
	if meta, ok := plan.ParseMetadata(pr.Body); ok {
		r.startRollout(ctx, rollout{repo: repo, pr: ghapi.Merged{PR: pr, MergeCommit: sha}, service: meta["service"], env: meta["env"], st: sts})
	}
}

// mergeMessage is the squash commit of a change PR: one request keeps its own message; a
// stack lists its requests, and its trailers are every request's, newest last.
func mergeMessage(commits []ghapi.Commit) (title, body string) {
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
func (r *Runner) breakGlass(ctx context.Context, t *target, cs *plan.ChangeSet, pr *ghapi.PR, req handler.Request) error {
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
