package plan

import (
	"context"
	"fmt"
	"time"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// planFreeze edits the freeze of an environment in .github/daytwo.yml, comments kept.
// Nothing renders: the change is to daytwo's own policy.
func (p *Planner) planFreeze(ctx context.Context, j *job, configFile []byte) (*ChangeSet, error) {
	env := j.cmd.Env
	if configFile == nil {
		b, err := j.snap.ReadFile(ctx, repoconfig.Path)
		if err != nil {
			return nil, &Error{Code: NotFound, Msg: fmt.Sprintf("cannot read %s", repoconfig.Path), Err: err}
		}
		configFile = b
	}
	current, frozen := j.cfg.Frozen(env)
	freeze := j.cmd.Name == "freeze"

	var next *repoconfig.Freeze
	e := &edit{}
	if freeze {
		if frozen {
			return nil, Errorf(NoChange, "%s", freezeText(env, current))
		}
		next = &repoconfig.Freeze{Reason: j.cmd.Reason, By: j.req.Requester, Since: j.req.Now.UTC().Truncate(time.Second)}
		e.what = "freeze"
		e.summary = fmt.Sprintf("freeze %s: daytwo refuses changes to it until /unfreeze", env)
		e.details = []string{markdown.Text(freezeText(env, next))}
		e.risk = RiskLow
	} else {
		if !frozen {
			return nil, Errorf(NoChange, "%s is not frozen", env)
		}
		e.what = "unfreeze"
		e.summary = fmt.Sprintf("unfreeze %s: daytwo accepts changes to it again", env)
		e.details = []string{"lifts: " + markdown.Text(freezeText(env, current))}
	}

	out, err := repoconfig.SetFreeze(configFile, env, next)
	if err != nil {
		return nil, &Error{Code: Broken, Msg: fmt.Sprintf("cannot edit %s: %s", repoconfig.Path, clipMessage(err.Error())), Err: err}
	}
	// The edited file must still load and say what was asked.
	cfg, err := repoconfig.Load(out, commands)
	if err != nil {
		return nil, &Error{Code: Internal, Msg: fmt.Sprintf("editing %s would make it invalid", repoconfig.Path), Err: err}
	}
	if _, now := cfg.Frozen(env); now != freeze {
		return nil, Errorf(Internal, "editing %s did not %s %s", repoconfig.Path, e.what, env)
	}
	files := []FileChange{{Path: repoconfig.Path, Content: out, Before: configFile}}
	return p.finish(j, e, files, "")
}

// freezeText describes a freeze: "prod is frozen since 2026-11-20 10:00 UTC by @alice: release week".
func freezeText(env string, f *repoconfig.Freeze) string {
	s := env + " is frozen"
	if f == nil {
		return s
	}
	if !f.Since.IsZero() {
		s += " since " + f.Since.UTC().Format("2006-01-02 15:04 UTC")
	}
	if f.By != "" {
		s += " by @" + f.By
	}
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}
