package inspect

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Action is one day-2 action recorded in Git: a commit carrying daytwo's trailers.
type Action struct {
	When      time.Time // commit time
	Commit    string    // full sha
	Action    string    // "scale", "promote", "freeze", ...
	Command   string    // the command as written, e.g. "/scale 5 --env prod"
	Service   string    // "" for actions on a whole environment (freeze, unfreeze)
	Env       string
	Requester string // GitHub login of who asked
	Origin    string // URL of the comment or issue that asked
	PR        int    // pull request that merged it, from the commit subject; 0 when unknown
	Summary   string // commit subject without the "(#123)" a squash merge appends
}

// Bounds of History's limit.
const (
	DefaultHistoryLimit = 10
	MaxHistoryLimit     = 100
)

// maxHistoryScan bounds how many commits History reads to find its actions: hand edits
// and other tools' commits touch the same overlays.
const maxHistoryScan = 2000

var (
	squashPR = regexp.MustCompile(`\s*\(#([0-9]{1,9})\)\s*$`)
	mergePR  = regexp.MustCompile(`^Merge pull request #([0-9]{1,9}) `)
)

// History lists the day-2 actions on service in env recorded in Git history, newest
// first: the commits with a Daytwo-Action trailer that touch the service's overlay there,
// and freezes and unfreezes of env (commits to the config file). An empty service or env
// selects every service or environment the config names; limit 0 means
// DefaultHistoryLimit. Errors are *plan.Error.
func History(ctx context.Context, hist plan.History, cfg *repoconfig.Config, service, env string, limit int) ([]Action, error) {
	if hist == nil || cfg == nil {
		return nil, plan.Errorf(plan.Internal, "reading history needs the repository history and config")
	}
	switch {
	case limit == 0:
		limit = DefaultHistoryLimit
	case limit < 0 || limit > MaxHistoryLimit:
		return nil, plan.Errorf(plan.Invalid, "the history limit is a number from 1 to %d, not %d", MaxHistoryLimit, limit)
	}
	var services []*repoconfig.Service
	if service != "" {
		svc, err := lookupService(cfg, service)
		if err != nil {
			return nil, err
		}
		services = []*repoconfig.Service{svc}
	} else {
		for i := range cfg.Services {
			services = append(services, &cfg.Services[i])
		}
	}
	envs := cfg.EnvNames()
	if env != "" {
		if err := checkEnv(cfg, env); err != nil {
			return nil, err
		}
		envs = []string{env}
	}

	var paths []string
	seen := map[string]bool{}
	for _, svc := range services {
		for _, e := range envs {
			if p := svc.OverlayPath(e); svc.Deploys(e) && !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
		}
	}
	paths = append(paths, repoconfig.Path)

	wanted := func(a Action) bool {
		if a.Env != "" {
			if _, ok := cfg.Env(a.Env); !ok || env != "" && a.Env != env {
				return false
			}
		} else if env != "" {
			return false
		}
		if a.Service == "" {
			// A freeze holds for every service deployed to the environment.
			for _, svc := range services {
				if a.Env == "" || svc.Deploys(a.Env) {
					return true
				}
			}
			return false
		}
		for _, svc := range services {
			if svc.Name == a.Service {
				return a.Env == "" || svc.Deploys(a.Env)
			}
		}
		return false
	}

	// Read a window of commits; when too few of them are daytwo's, read a larger one.
	scan := min(max(limit*4, 50), maxHistoryScan)
	for {
		commits, err := hist.Log(ctx, paths, scan)
		if err != nil {
			return nil, &plan.Error{Code: plan.Internal, Msg: "reading the repository history failed", Err: err}
		}
		var out []Action
		for _, c := range commits {
			a, ok := actionOf(c)
			if !ok || !wanted(a) {
				continue
			}
			out = append(out, a)
			if len(out) == limit {
				return out, nil
			}
		}
		if len(commits) < scan || scan >= maxHistoryScan {
			return out, nil
		}
		scan = min(scan*4, maxHistoryScan)
	}
}

// actionOf reads daytwo's trailers of a commit; false when it has none.
func actionOf(c plan.CommitInfo) (Action, bool) {
	tr := c.Trailers
	if tr == nil {
		tr = plan.ParseTrailers(c.Message)
	}
	a := Action{
		When:      c.Time,
		Commit:    c.SHA,
		Action:    trailer(tr, plan.TrailerAction),
		Command:   trailer(tr, plan.TrailerCommand),
		Service:   trailer(tr, plan.TrailerService),
		Env:       trailer(tr, plan.TrailerEnv),
		Requester: trailer(tr, plan.TrailerRequester),
		Origin:    trailer(tr, plan.TrailerOrigin),
	}
	if a.Action == "" {
		return Action{}, false
	}
	subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	subject = strings.TrimSpace(subject)
	if m := squashPR.FindStringSubmatchIndex(subject); m != nil {
		a.PR, _ = strconv.Atoi(subject[m[2]:m[3]])
		subject = subject[:m[0]]
	} else if m := mergePR.FindStringSubmatch(subject); m != nil {
		a.PR, _ = strconv.Atoi(m[1])
	}
	a.Summary = subject
	return a, true
}

// trailer looks a key up case-insensitively, as git treats trailer keys.
func trailer(tr map[string]string, key string) string {
	if v, ok := tr[key]; ok {
		return strings.TrimSpace(v)
	}
	for k, v := range tr {
		if strings.EqualFold(k, key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
