package ops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// cancel closes the open changes this thread asked for (or the change PR it is written on).
// A stack carrying other people's requests too is closed whole, with every asker told; so
// cancelling one takes the requester of each request in it, or the policy's cancel rule.
func (r *Runner) cancel(ctx context.Context, client *gh.Client, req Request, st *statusComment) {
	t, err := r.target(ctx, client, r.graphql(client), req.Owner, req.Repo)
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	thread := fmt.Sprintf("%s#%d/", req.FullRepo(), req.Number)
	var closed []string
	for _, pr := range t.read.OpenOn(t.head.Branch, "daytwo/") {
		reqs := requestsOf(pr.Commits)
		onThisPR := req.IsPR && pr.Number == req.Number && strings.EqualFold(req.FullRepo(), t.repo.FullName())
		fromHere := slices.ContainsFunc(reqs, func(c carried) bool { return strings.HasPrefix(c.request(), thread) })
		if !onThisPR && !fromHere {
			continue
		}
		var others []string
		for _, c := range reqs {
			if who := c.trailers[plan.TrailerRequester]; !strings.EqualFold(who, req.Author) && !slices.Contains(others, who) {
				others = append(others, who)
			}
		}
		if len(others) > 0 {
			_, _, envName, _ := targetOf(pr.Commits)
			env, _ := t.cfg.Env(envName)
			if env == nil {
				continue
			}
			ok, _, err := qualifies(ctx, t.repo, req.Author, env.Allowed("cancel"))
			if err != nil {
				st.failWith(ctx, err)
				return
			}
			if !ok {
				st.fail(ctx, githubapi.StateRefused, fmt.Sprintf("#%d also carries requests of @%s; only they (who asked) or people with %s may cancel it.", pr.Number, strings.Join(others, ", @"), env.Allowed("cancel")))
				return
			}
		}
		if err := t.repo.CloseChange(ctx, pr, fmt.Sprintf("Cancelled by @%s.", req.Author)); err != nil {
			st.failWith(ctx, err)
			return
		}
		if strings.HasPrefix(pr.Branch, plan.TimeboxedBranches) {
			if err := t.repo.RemoveLabel(ctx, pr.Number, expiresLabel); err != nil {
				st.failWith(ctx, err)
				return
			}
		}
		// Closing a merged PR changes nothing: a merge that came first is what happened.
		if ms, err := t.repo.MergeState(ctx, pr.Number); err == nil && ms.Merged {
			st.fail(ctx, githubapi.StateRefused, fmt.Sprintf("#%d was merged before it could be cancelled; to undo it, ask for `/rollback`.", pr.Number))
			return
		}
		// Read after closing: a request added until the close is among them, and one
		// added later finds the PR closed and is planned again.
		askers := r.statusesOf(ctx, t.repo, pr.Number)
		for _, other := range askers {
			if other.id != st.id {
				other.set(githubapi.StateClosed, pr.Number).step(ctx, "", fmt.Sprintf("🗑️ Cancelled by @%s: #%d closed and its branch deleted; nothing changed.", req.Author, pr.Number))
			}
		}
		closed = append(closed, fmt.Sprintf("#%d", pr.Number))
	}
	if len(closed) == 0 && r.cancelExpiry(ctx, t, req, st) {
		return
	}
	if len(closed) == 0 {
		st.fail(ctx, githubapi.StateRefused, "There is no open daytwo change, nor a pending expiry of a time-boxed one, from this thread to cancel.")
		return
	}
	st.set(githubapi.StateAnswered, 0).step(ctx, "", fmt.Sprintf("🗑️ Cancelled %s: closed, branch deleted; nothing changed.", strings.Join(closed, ", ")))
}
