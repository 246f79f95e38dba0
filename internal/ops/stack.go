package ops

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// A target's open change is one pull request, its stack: every request for the target
// while it is open is one more commit on its branch, each commit carrying its request's
// trailers (who asked, the command, where the status comment is, what it sets). The
// commits are the record of what the pull request carries; its title and description
// are written from them.

// carried is one request of a stack, read from its commit.
type carried struct {
	githubapi.Commit
	trailers map[string]string
}

func (c carried) request() string { return c.trailers[plan.TrailerRequest] }

func (c carried) sets() []string { return strings.Fields(c.trailers[plan.TrailerSets]) }

func requestsOf(commits []githubapi.Commit) []carried {
	var out []carried
	for _, c := range commits {
		t := plan.ParseTrailers(c.Message)
		if t[plan.TrailerAction] != "" {
			out = append(out, carried{c, t})
		}
	}
	return out
}

// targetOf is what a pull request's requests act on, from their commits' trailers: the
// action of the first, and the service and environment they share (a pull request is the
// change of one target). ok is false when no commit carries a request: not daytwo's.
func targetOf(commits []githubapi.Commit) (action, service, env string, ok bool) {
	reqs := requestsOf(commits)
	if len(reqs) == 0 {
		return "", "", "", false
	}
	t := reqs[0].trailers
	return t[plan.TrailerAction], t[plan.TrailerService], t[plan.TrailerEnv], true
}

// carries finds the commit of request id among a stack's commits.
func carries(commits []githubapi.Commit, id string) (githubapi.Commit, bool) {
	for _, c := range requestsOf(commits) {
		if c.request() == id {
			return c.Commit, true
		}
	}
	return githubapi.Commit{}, false
}

// overriddenBy is, for each request of a stack, the later request that set what it set.
func overriddenBy(reqs []carried) map[int]carried {
	out := map[int]carried{}
	for i, c := range reqs {
		for _, later := range reqs[i+1:] {
			if plan.Overlaps(c.sets(), later.sets()) {
				out[i] = later
			}
		}
	}
	return out
}

const (
	stackOpen  = "<!-- daytwo-stack -->"
	stackClose = "<!-- /daytwo-stack -->"
)

// stackText is the title and description of a stack: the first request's description
// stays, followed by the list of the requests it carries.
func stackText(body, service, env string, commits []githubapi.Commit) (title, text string) {
	reqs := requestsOf(commits)
	if i := strings.Index(body, stackOpen); i >= 0 {
		if j := strings.Index(body, stackClose); j > i {
			body = body[:i] + strings.TrimLeft(body[j+len(stackClose):], "\n")
		}
	}
	var subjects []string
	var b strings.Builder
	b.WriteString(stackOpen + "\n## Requests in this pull request\n\n")
	over := overriddenBy(reqs)
	for i, c := range reqs {
		subject := firstLine(c.Message)
		subjects = append(subjects, strings.TrimPrefix(subject, service+"/"+env+": "))
		fmt.Fprintf(&b, "%d. %s by %s", i+1, markdown.Code(c.trailers[plan.TrailerCommand]), mention(c.trailers[plan.TrailerRequester]))
		if o := c.trailers[plan.TrailerOrigin]; strings.HasPrefix(o, "https://") || strings.HasPrefix(o, "http://") {
			fmt.Fprintf(&b, " ([asked here](<%s>))", strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20").Replace(o))
		}
		fmt.Fprintf(&b, ": %s", markdown.Text(subject))
		if later, ok := over[i]; ok {
			fmt.Fprintf(&b, " — overridden by %s", markdown.Code(later.trailers[plan.TrailerCommand]))
		}
		b.WriteString("\n")
	}
	b.WriteString(stackClose + "\n\n")
	text = b.String() + body
	if len(reqs) == 1 {
		return firstLine(reqs[0].Message), text
	}
	title = fmt.Sprintf("%s/%s: %d changes — %s", service, env, len(reqs), strings.Join(subjects, "; "))
	title = clip.Runes(title, plan.MaxTitleLen)
	return title, text
}

// retitle writes a stack's title and description again from its commits until the head
// is the one they were written for: a request added meanwhile may have written its text
// before this one's stale text landed.
func (r *Runner) retitle(ctx context.Context, repo githubapi.Repo, pr githubapi.PR, service, env string) {
	log := zerolog.Ctx(ctx)
	for range 5 {
		commits, err := repo.PullCommits(ctx, pr.Number)
		if err != nil || len(commits) == 0 {
			log.Warn().Err(err).Int("pr", pr.Number).Msg("cannot read the stack's commits")
			return
		}
		body, err := repo.PullBody(ctx, pr.Number)
		if err != nil {
			log.Warn().Err(err).Int("pr", pr.Number).Msg("cannot read the stack's description")
			return
		}
		title, text := stackText(body, service, env, commits)
		head, err := repo.EditChange(ctx, pr.Number, title, text)
		if err != nil {
			log.Warn().Err(err).Int("pr", pr.Number).Msg("cannot update the stack's description")
			return
		}
		if head == commits[len(commits)-1].SHA {
			return
		}
	}
}

// noteOverridden tells the askers of earlier requests in pr that the newest one (cs, just
// added) sets what they set: the pull request carries the newest value.
func (r *Runner) noteOverridden(ctx context.Context, repo githubapi.Repo, pr *githubapi.PR, cs *plan.ChangeSet, req Request) {
	reqs := requestsOf(pr.Commits)
	if len(reqs) < 2 {
		return
	}
	newest := reqs[len(reqs)-1]
	for _, c := range reqs[:len(reqs)-1] {
		if c.request() == req.ID() || !plan.Overlaps(c.sets(), newest.sets()) {
			continue
		}
		st := r.statusAt(ctx, repo, c.trailers[plan.TrailerStatus])
		if st == nil || st.mark.State != githubapi.StateOpen && st.mark.State != githubapi.StateWorking {
			continue // told already, or its own news is on the way: it checks the PR after writing it
		}
		st.set(githubapi.StateOverridden, pr.Number).mark.By = req.ID()
		st.step(ctx, "", fmt.Sprintf("⚠️ Overridden: @%s's %s, asked later, sets the same thing, and %s now carries that instead (%s).",
			req.Author, markdown.Code(c.trailers[plan.TrailerCommand]+" → "+newest.trailers[plan.TrailerCommand]), pr.URL, markdown.Text(cs.Summary)))
	}
}

// statusAt resumes the status comment a Daytwo-Status trailer names; nil when it cannot.
func (r *Runner) statusAt(ctx context.Context, repo githubapi.Repo, ref string) *statusComment {
	owner, name, number, id, ok := parseStatusRef(ref)
	if !ok {
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
	st, err := resumeStatus(ctx, githubapi.Thread{Client: client, Owner: owner, Repo: name, Number: number}, id)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot read the status comment")
		return nil
	}
	return st
}

// statusesOf are the status comments of the requests pull request number carries (from
// its commits), without those a later request in it overrode; those are told so here if
// they were not yet.
func (r *Runner) statusesOf(ctx context.Context, repo githubapi.Repo, number int) statusComments {
	commits, err := repo.PullCommits(ctx, number)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Int("pr", number).Msg("cannot read the pull request's requests")
		return nil
	}
	return r.statusesFrom(ctx, repo, number, commits)
}

// statusesFrom is statusesOf for commits already read.
func (r *Runner) statusesFrom(ctx context.Context, repo githubapi.Repo, number int, commits []githubapi.Commit) statusComments {
	reqs := requestsOf(commits)
	over := overriddenBy(reqs)
	var out statusComments
	seen := map[string]bool{}
	for i, c := range reqs {
		ref := c.trailers[plan.TrailerStatus]
		if ref == "" || seen[ref] {
			continue
		}
		seen[ref] = true
		st := r.statusAt(ctx, repo, ref)
		if st == nil {
			continue
		}
		if later, ok := over[i]; ok {
			if st.mark.State != githubapi.StateOverridden {
				st.set(githubapi.StateOverridden, number).mark.By = later.request()
				st.step(ctx, "", overriddenText(c, later, number))
			}
			continue
		}
		out = append(out, st)
	}
	return out
}

func overriddenText(c, later carried, number int) string {
	return fmt.Sprintf("⚠️ Overridden: %s, asked later by %s, sets the same thing, and #%d carries that instead.",
		markdown.Code(later.trailers[plan.TrailerCommand]), mention(later.trailers[plan.TrailerRequester]), number)
}

// reconcile brings own, the status of the newest request known to be in pr, up to what
// GitHub shows after it was written: overridden by a later request in pr, or merged or
// closed with it. Whoever writes a status last reads the PR after writing, so the last
// word is right.
func (r *Runner) reconcile(ctx context.Context, repo githubapi.Repo, pr *githubapi.PR, state string, own *statusComment) {
	commits, err := repo.PullCommits(ctx, pr.Number)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Int("pr", pr.Number).Msg("cannot read the pull request's requests")
		return
	}
	reqs := requestsOf(commits)
	for i, c := range reqs {
		if c.request() != own.mark.Request {
			continue
		}
		if later, ok := overriddenBy(reqs)[i]; ok {
			own.set(githubapi.StateOverridden, pr.Number).mark.By = later.request()
			own.step(ctx, "", overriddenText(c, later, pr.Number))
			return
		}
	}
	switch state {
	case "MERGED":
		own.set(githubapi.StateMerged, pr.Number).step(ctx, fmt.Sprintf("🔀 [PR #%d](%s) merged together with requests added after this one", pr.Number, pr.URL), r.afterMerge())
	case "CLOSED":
		own.set(githubapi.StateClosed, pr.Number).step(ctx, "", fmt.Sprintf("🚫 PR #%d was closed without merging; nothing changed. Ask again to open a new one.", pr.Number))
	}
}

// finishCarried completes a pull request that carries the request already but lacks its
// labels: an earlier attempt wrote the commit and was cut off before labelling it and
// asking for reviews (a lost answer, a crash). Without them it could merge unnoticed. It
// returns what GitHub refused.
func (r *Runner) finishCarried(ctx context.Context, t *target, pr *githubapi.PR, labels, reviewers []string) []*githubapi.Refusal {
	missing := missingLabels(labels, pr.Labels)
	if len(missing) == 0 {
		return nil
	}
	done, err := t.repo.FinishChange(ctx, t.g, pr, githubapi.Finish{Labels: missing, Reviewers: reviewers, RepoID: t.read.RepoID})
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Int("pr", pr.Number).Msg("cannot complete the labels and reviews of a pull request an earlier attempt left")
	}
	return done.Refused
}

// missingLabels are the labels of want that have lacks.
func missingLabels(want, have []string) []string {
	var out []string
	for _, l := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, l) }) {
			out = append(out, l)
		}
	}
	return out
}

// loginRE is what GitHub allows in a login.
var loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

// mention is @login for a GitHub login, and anything else shown as code: a trailer is
// text anyone with push access could have written.
func mention(login string) string {
	if loginRE.MatchString(login) {
		return "@" + login
	}
	return markdown.Code(login)
}

// mergedBefore finds the commit of the default branch that carries request id (daytwo's
// squash merges keep every request's trailers) among the latest changes of the overlay,
// and the pull request it merged (0 when its subject does not say).
func mergedBefore(ctx context.Context, snap *githubapi.Snapshot, svc *repoconfig.Service, env, id string) (string, int) {
	p := repoconfig.Path
	if svc != nil {
		p = svc.OverlayPath(env)
	}
	log, err := snap.History().Log(ctx, []string{p}, 20)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot read the overlay's history")
		return "", 0
	}
	for _, c := range log {
		for _, line := range strings.Split(c.Message, "\n") {
			if strings.TrimSpace(line) == plan.TrailerRequest+": "+id {
				return c.SHA, mergedPR(c.Message)
			}
		}
	}
	return "", 0
}

// squashRE is the "(#N)" GitHub ends a squash merge's subject with.
var squashRE = regexp.MustCompile(`\(#([0-9]+)\)$`)

func mergedPR(message string) int {
	m := squashRE.FindStringSubmatch(firstLine(message))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// endedBefore reports whether an earlier attempt of the request opened its own PR that has
// ended since (merged, or closed: cancelled, closed by a person): that is the request's
// answer, and st says so.
func (r *Runner) endedBefore(ctx context.Context, repo githubapi.Repo, branch string, withdrawn map[int]bool, st *statusComment) (bool, error) {
	merged, all, err := repo.EndedPulls(ctx, branch)
	if err != nil {
		return false, err
	}
	var closed []githubapi.PR
	for _, pr := range all {
		if !withdrawn[pr.Number] {
			closed = append(closed, pr)
		}
	}
	switch {
	case len(merged) > 0:
		r.answerEnded(ctx, repo, merged[0].Number, true, st)
		return true, nil
	case len(closed) > 0:
		r.answerEnded(ctx, repo, closed[0].Number, false, st)
		return true, nil
	}
	return false, nil
}

// answerEnded says on st what became of its request in pull request number, which ended:
// overridden by a later request in it, or merged or closed with it.
func (r *Runner) answerEnded(ctx context.Context, repo githubapi.Repo, number int, merged bool, st *statusComment) {
	link := fmt.Sprintf("#%d", number)
	if ms, err := repo.MergeState(ctx, number); err == nil && ms.URL != "" {
		link = fmt.Sprintf("[PR #%d](%s)", number, ms.URL)
	}
	if number > 0 {
		if commits, err := repo.PullCommits(ctx, number); err == nil {
			reqs := requestsOf(commits)
			for i, c := range reqs {
				if later, ok := overriddenBy(reqs)[i]; ok && c.request() == st.mark.Request {
					st.set(githubapi.StateOverridden, number).mark.By = later.request()
					st.step(ctx, "", overriddenText(c, later, number))
					return
				}
			}
		}
	}
	if merged {
		st.set(githubapi.StateMerged, number).step(ctx, fmt.Sprintf("🔀 %s, which carried this request, was merged", link), r.afterMerge())
		return
	}
	st.set(githubapi.StateClosed, number).step(ctx, "", fmt.Sprintf("🚫 %s, which carried this request, was closed without merging; nothing changed. Ask again to open a new one.", link))
}

// settleOpen finishes what a request's status says is open when its PR has ended: merged
// (statuses, branch, rollout, as a merge event would) or closed.
func (r *Runner) settleOpen(ctx context.Context, repo githubapi.Repo, st *statusComment) {
	ms, err := repo.MergeState(ctx, st.mark.PR)
	if err != nil || ms.Open {
		return
	}
	commits, err := repo.PullCommits(ctx, st.mark.PR)
	if err != nil {
		return
	}
	sts := r.statusesFrom(ctx, repo, st.mark.PR, commits)
	n := st.mark.PR
	if ms.Merged {
		sts.set(githubapi.StateMerged, n).step(ctx, fmt.Sprintf("🔀 [PR #%d](%s) merged as `%s`", n, ms.URL, clip.SHA(ms.MergeCommit)), r.afterMerge())
	} else {
		sts.set(githubapi.StateClosed, n).step(ctx, "", fmt.Sprintf("🚫 [PR #%d](%s) was closed without merging; nothing changed. Ask again to open a new one.", n, ms.URL))
	}
	if strings.HasPrefix(ms.Branch, "daytwo/") {
		if err := repo.DeleteBranch(ctx, ms.Branch); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot delete the ended change's branch")
		}
	}
}
