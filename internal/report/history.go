package report

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Action is one day-2 action found in Git history.
type Action struct {
	When                                             time.Time
	SHA                                              string
	Action, Command, Service, Env, Requester, Origin string
	PR                                               int // the pull request that merged it, 0 when unknown
	Subject                                          string
}

var prSuffix = regexp.MustCompile(`\(#(\d+)\)\s*$`)

// History lists the day-2 actions (commits carrying daytwo's trailers) on the overlays of
// service in env, newest first; "" selects every service or environment of the config.
func History(ctx context.Context, hist plan.History, cfg *repoconfig.Config, service, env string, limit int) ([]Action, error) {
	if limit <= 0 {
		limit = command.DefaultHistoryLimit
	}
	limit = min(limit, command.MaxHistoryLimit)
	var paths []string
	for _, svc := range cfg.Services {
		if service != "" && svc.Name != service {
			continue
		}
		for _, e := range cfg.EnvNames() {
			if (env == "" || e == env) && svc.Deploys(e) {
				paths = append(paths, svc.OverlayPath(e))
			}
		}
	}
	paths = append(paths, repoconfig.Path) // freezes
	// Other commits touch the same paths: read more than asked, then keep daytwo's.
	commits, err := hist.Log(ctx, paths, limit*5)
	if err != nil {
		return nil, err
	}
	var out []Action
	for _, c := range commits {
		t := c.Trailers
		if t[plan.TrailerAction] == "" {
			continue
		}
		a := Action{
			When: c.Time, SHA: c.SHA, Action: t[plan.TrailerAction], Command: t[plan.TrailerCommand],
			Service: t[plan.TrailerService], Env: t[plan.TrailerEnv], Requester: t[plan.TrailerRequester], Origin: t[plan.TrailerOrigin],
		}
		a.Subject, _, _ = strings.Cut(c.Message, "\n")
		if m := prSuffix.FindStringSubmatch(a.Subject); m != nil {
			a.PR, _ = strconv.Atoi(m[1])
		}
		if service != "" && a.Service != "" && a.Service != service || env != "" && a.Env != env {
			continue
		}
		out = append(out, a)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}
