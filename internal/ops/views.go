package ops

import (
	"context"
	"fmt"
	"strings"
	"sync"

	gh "github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// view answers a read-only command on the status comment.
func (r *Runner) view(ctx context.Context, client *gh.Client, req Request, cmd command.Command, st *statusComment) {
	t, resolved, ok := r.readable(ctx, client, req, cmd, nil, st)
	if !ok {
		return
	}
	v, err := r.readView(ctx, t, resolved)
	if err != nil {
		st.failWith(ctx, err)
		return
	}
	st.set(githubapi.StateAnswered, 0).step(ctx, "", v.Markdown())
}

// readable reads the target of a read-only command, resolves its service and environment
// (after narrow, when given, picked them from the config) and checks that req's author may
// read them; when not, or when a read fails, it says why on st.
func (r *Runner) readable(ctx context.Context, client *gh.Client, req Request, cmd command.Command, narrow func(*repoconfig.Config, command.Command) command.Command, st *statusComment) (*target, command.Command, bool) {
	t, err := r.target(ctx, client, r.graphql(client), req.Owner, req.Repo)
	if err != nil {
		st.failWith(ctx, err)
		return nil, cmd, false
	}
	if narrow != nil {
		cmd = narrow(t.cfg, cmd)
	}
	preq := plan.Input{Command: cmd, Requester: req.Author, Labels: req.Labels, Repo: req.FullRepo()}
	resolved, err := report.Resolve(r.Planner, t.cfg, preq)
	if err != nil {
		st.failWith(ctx, err)
		return nil, cmd, false
	}
	if !r.mayRead(ctx, t, req, cmd.Name, report.Envs(t.cfg, resolved), st) {
		return nil, cmd, false
	}
	return t, resolved, true
}

// mayRead checks that req's author may run the read-only command verb in envs: whoever
// each environment's policy names for it, and anyone with read access where it names
// nobody. When not, it says so on st.
func (r *Runner) mayRead(ctx context.Context, t *target, req Request, verb string, envs []string, st *statusComment) bool {
	for _, e := range envs {
		env, _ := t.cfg.Env(e)
		rule, named := env.Requesters[verb]
		if !named {
			rule = repoconfig.Rule{Permission: "read"}
		}
		ok, have, err := qualifies(ctx, t.repo, req.Author, rule)
		if err != nil {
			st.failWith(ctx, err)
			return false
		}
		if !ok {
			st.fail(ctx, githubapi.StateRefused, fmt.Sprintf("@%s, `/%s` in %s is for people with %s on %s; you have %s.", req.Author, verb, e, rule, t.repo.FullName(), describePermission(have)))
			return false
		}
	}
	return true
}

// readView reads the answer to a resolved read-only command: Git, with Argo CD's live
// state and the open pull requests for /status, and the workflow runs for /history.
func (r *Runner) readView(ctx context.Context, t *target, resolved command.Command) (*report.View, error) {
	envs := report.Envs(t.cfg, resolved)
	// Argo CD is asked while Git is read.
	var live []*report.Live
	var wg sync.WaitGroup
	if svc, ok := t.cfg.Service(resolved.Service); ok && resolved.Name == "status" && r.ArgoCD != nil {
		live = make([]*report.Live, len(envs))
		for i, e := range envs {
			if svc.Deploys(e) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					live[i] = r.liveState(ctx, svc.ArgoCDAppName(e))
				}()
			}
		}
	}
	v, err := report.Read(ctx, t.cfg, t.snap, t.snap.History(), resolved)
	wg.Wait()
	if err != nil {
		return nil, plan.Errorf(plan.Invalid, "%v", err)
	}
	v.RepoURL = t.repoURL()
	if resolved.Name == "history" {
		v.Runs = r.historyRuns(ctx, t, resolved) // run.go
	}
	if v.Status != nil {
		for i := range v.Status.Envs {
			e := &v.Status.Envs[i]
			for _, pr := range openFor(t.read, t.head.Branch, e.Env, resolved.Service) {
				e.OpenPRs = append(e.OpenPRs, report.PRRef{Number: pr.Number, URL: pr.URL})
			}
			if live != nil {
				e.Live = live[i]
			}
		}
	}
	return v, nil
}

// liveState is what Argo CD reports of app; why not, when it cannot say.
func (r *Runner) liveState(ctx context.Context, app string) *report.Live {
	l := &report.Live{App: app}
	st, err := r.ArgoCD.Get(ctx, app)
	if err != nil {
		l.Err = firstLine(err.Error())
	} else {
		l.Sync, l.Health, l.Revision, l.Images, l.LastSynced = st.Sync, st.Health, st.Revision, st.Images, st.LastSynced
	}
	return l
}

// repoURL is the repository's web address, for links.
func (t *target) repoURL() string {
	for _, pr := range t.read.Open {
		if i := strings.Index(pr.URL, "/pull/"); i > 0 {
			return pr.URL[:i]
		}
	}
	if t.repo.Client == nil || t.repo.Client.BaseURL == nil {
		return ""
	}
	u := *t.repo.Client.BaseURL // https://api.github.com/ or https://HOST/api/v3/
	return u.Scheme + "://" + strings.TrimPrefix(u.Host, "api.") + "/" + t.repo.FullName()
}
