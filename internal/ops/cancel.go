package ops

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/handler"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// Specs are the commands ops adds to the registry.
func (r *Runner) Specs() []command.Spec {
	return append(viewSpecs(), command.Spec{
		Name:    "cancel",
		Summary: "Close the open change PR of this thread and delete its branch",
		Description: "On a daytwo pull request, closes it; on the issue or PR that asked for a change, closes the open " +
			"change PRs it led to. The branch is deleted; nothing reaches the cluster. The requester of the change, " +
			"or whoever the environment's policy allows to cancel, may use it.",
		Examples: []command.Example{{Line: "/cancel", Text: "drop the pending change asked for here"}},
	})
}

func (r *Runner) cancel(ctx context.Context, client *gh.Client, req handler.Request, st *status) {
	t, err := r.target(ctx, client, r.graphql(client), req.Owner, req.Repo)
	if err != nil {
		st.fail(ctx, userMessage(ctx, err))
		return
	}
	open, err := t.repo.OpenChanges(ctx, t.head.Branch, "daytwo/")
	if err != nil {
		st.fail(ctx, userMessage(ctx, err))
		return
	}
	key := fmt.Sprintf("%s#%d", req.FullRepo(), req.Number)
	var closed []string
	for _, pr := range open {
		m, ok := plan.ParseMetadata(pr.Body)
		onThisPR := req.IsPR && pr.Number == req.Number && strings.EqualFold(req.FullRepo(), t.repo.FullName())
		if !ok || !(onThisPR || m["originKey"] == key) {
			continue
		}
		if !strings.EqualFold(m["requester"], req.Author) {
			env, _ := t.cfg.Env(m["env"])
			if env == nil {
				continue
			}
			ok, _, err := qualifies(ctx, t.repo, req.Author, env.Allowed("cancel"))
			if err != nil {
				st.fail(ctx, userMessage(ctx, err))
				return
			}
			if !ok {
				st.fail(ctx, fmt.Sprintf("@%s, only @%s (who asked) or people with %s may cancel #%d.", req.Author, m["requester"], env.Allowed("cancel"), pr.Number))
				return
			}
		}
		if err := t.repo.CloseChange(ctx, pr, fmt.Sprintf("Cancelled by @%s.", req.Author)); err != nil {
			st.fail(ctx, userMessage(ctx, err))
			return
		}
		if other := r.statusOf(ctx, t.repo, pr.Body); other != nil && other.id != st.id {
			other.step(ctx, "", fmt.Sprintf("🗑️ Cancelled by @%s: #%d closed and its branch deleted.", req.Author, pr.Number))
		}
		closed = append(closed, fmt.Sprintf("#%d", pr.Number))
	}
	if len(closed) == 0 {
		st.fail(ctx, "There is no open daytwo change from this thread to cancel.")
		return
	}
	st.step(ctx, "", fmt.Sprintf("🗑️ Cancelled %s: closed, branch deleted; nothing changed.", strings.Join(closed, ", ")))
}
