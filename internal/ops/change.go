package ops

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/codeowners"
	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/handler"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Keys daytwo adds to a change PR's hidden metadata to find its way back to the asker.
const (
	metaStatusRepo    = "statusRepo"    // owner/name of the thread holding the status comment
	metaStatusNumber  = "statusNumber"  // its issue or PR number
	metaStatusComment = "statusComment" // the status comment's id
)

// statusMetadata appends a metadata comment that extends the planner's with where the
// status comment is; plan.ParseMetadata reads the last one.
func statusMetadata(cs *plan.ChangeSet, req handler.Request, commentID int64) string {
	m := map[string]string{}
	for k, v := range cs.Metadata {
		m[k] = v
	}
	m[metaStatusRepo] = req.FullRepo()
	m[metaStatusNumber] = strconv.Itoa(req.Number)
	m[metaStatusComment] = strconv.FormatInt(commentID, 10)
	return "\n" + plan.FormatMetadata(m)
}

// reviewers are the code owners of the changed files (from the default branch's
// CODEOWNERS), without the requester: GitHub does not let authors review their own asks.
func reviewersOf(owners *codeowners.Owners, cs *plan.ChangeSet, requester string) []string {
	if owners == nil {
		return nil
	}
	paths := make([]string, len(cs.Files))
	for i, f := range cs.Files {
		paths[i] = f.Path
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
	fmt.Fprintf(&b, "🧪 Dry run — nothing was changed. Without `--dry-run` this opens **%s** (risk: %s):\n\n%s\n\n", cs.Title, cs.Risk, cs.Summary)
	fmt.Fprintf(&b, "<details><summary>Files</summary>\n\n```diff\n%s```\n</details>\n\n", clip(cs.FileDiff, 20000))
	if cs.RenderedDiff != "" {
		fmt.Fprintf(&b, "<details><summary>Rendered</summary>\n\n```diff\n%s```\n</details>\n", clip(cs.RenderedDiff, 30000))
	}
	return b.String()
}

func renderSummary(cs *plan.ChangeSet) string {
	return fmt.Sprintf("The overlay renders with this change (kustomize, in memory) and the intended effect was verified.\n\n%s\n\n```diff\n%s```\n",
		cs.Summary, clip(cs.RenderedDiff, 60000))
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
// squash commit carries the change's own message, trailers included: Git history is the
// audit log. The branch is deleted once merged.
func (r *Runner) tryMerge(ctx context.Context, repo ghapi.Repo, pr ghapi.PR, message string, st *status) {
	log := zerolog.Ctx(ctx)
	ms, err := repo.MergeState(ctx, pr.Number)
	if err != nil {
		log.Warn().Err(err).Msg("cannot read mergeability")
		return
	}
	if ms.Merged || ms.Mergeable == nil || !*ms.Mergeable || ms.State != "clean" {
		log.Info().Str("mergeable_state", ms.State).Msg("not merging yet")
		return
	}
	if message == "" || ms.HeadSHA != pr.HeadSHA {
		if message, err = repo.HeadMessage(ctx, ms.HeadSHA); err != nil {
			log.Warn().Err(err).Msg("cannot read the change's commit message")
		}
	}
	title, body, _ := strings.Cut(message, "\n")
	if title != "" {
		title = fmt.Sprintf("%s (#%d)", title, pr.Number)
	}
	sha, err := repo.Merge(ctx, pr.Number, ms.HeadSHA, "squash", title, strings.TrimLeft(body, "\n"))
	if err != nil {
		log.Warn().Err(err).Msg("merge refused")
		if st != nil {
			st.step(ctx, "", "⚠️ Could not merge automatically: "+userMessage(ctx, err)+" Merge it by hand once it is ready.")
		}
		return
	}
	log.Info().Str("merge_commit", sha).Msg("merged")
	if pr.Branch != "" {
		if err := repo.DeleteBranch(ctx, pr.Branch); err != nil {
			log.Warn().Err(err).Msg("cannot delete the merged branch")
		}
	}
	if st != nil {
		st.step(ctx, fmt.Sprintf("🔀 [PR #%d](%s) merged by daytwo as `%s` (the environment auto-merges)", pr.Number, pr.URL, short(sha)), r.afterMerge())
	}
	if meta, ok := plan.ParseMetadata(pr.Body); ok {
		r.startRollout(ctx, rollout{repo: repo, pr: ghapi.Merged{PR: pr, MergeCommit: sha}, service: meta["service"], env: meta["env"], st: st})
	}
}

// afterMerge says what happens once a change is merged.
func (r *Runner) afterMerge() string {
	if r.ArgoCD == nil {
		return "🚀 Merged; Argo CD rolls it out on its next sync."
	}
	return "🚀 Merged; asking Argo CD to roll it out…"
}

// breakGlass opens the mandatory follow-up review issue of an emergency change.
func (r *Runner) breakGlass(ctx context.Context, t *target, cs *plan.ChangeSet, pr *ghapi.PR, req handler.Request) {
	body := fmt.Sprintf("@%s used `--break-glass` for `%s` (%s in %s), %s.\n\nPR: %s\nAsked in: %s\n\n"+
		"Review the change after the fact and close this issue when done.",
		req.Author, cs.Metadata["command"], cs.Service, cs.Env, cs.Summary, pr.URL, req.URL)
	if _, _, err := t.repo.OpenIssue(ctx, "Break-glass review: "+cs.Title, body, []string{"daytwo", "break-glass", "env/" + cs.Env}); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("cannot open the break-glass review issue")
	}
}

// noteOnOrigin shows line as the current state on the status comment of a change PR.
func (r *Runner) noteOnOrigin(ctx context.Context, repo ghapi.Repo, pr ghapi.PR, line string) {
	if st := r.statusOf(ctx, repo, pr.Body); st != nil {
		st.step(ctx, "", line)
	}
}

// statusOf finds the status comment a change PR reports to, through its metadata; nil
// when the PR is not daytwo's or the comment is gone.
func (r *Runner) statusOf(ctx context.Context, repo ghapi.Repo, body string) *status {
	m, ok := plan.ParseMetadata(body)
	if !ok {
		return nil
	}
	owner, name, _ := strings.Cut(m[metaStatusRepo], "/")
	number, err1 := strconv.Atoi(m[metaStatusNumber])
	id, err2 := strconv.ParseInt(m[metaStatusComment], 10, 64)
	if owner == "" || name == "" || err1 != nil || err2 != nil {
		return nil
	}
	client := repo.Client
	if !strings.EqualFold(owner+"/"+name, repo.FullName()) {
		c, err := r.clientFor(ctx, owner, name)
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("repo", owner+"/"+name).Msg("cannot reach the asking repository")
			return nil
		}
		client = c
	}
	st, err := resumeStatus(ctx, ghapi.Thread{Client: client, Owner: owner, Repo: name, Number: number}, id)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot read the status comment")
		return nil
	}
	return st
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

func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := strings.LastIndexByte(s[:max], '\n')
	if i < 0 {
		i = max
	}
	return s[:i+1] + "… (truncated; the PR has the whole diff)\n"
}
