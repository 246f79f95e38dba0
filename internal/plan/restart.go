package plan

import (
	"context"
	"fmt"
	"time"

	"github.com/daytwo-dev/daytwo/internal/overlay"
)

// buildRestart sets the pod-template annotation `kubectl rollout restart` sets, on the
// service's configured workload only, in the daytwo patch file: Argo CD rolls the pods
// and Git stays the source of truth.
func buildRestart(ctx context.Context, j *job) (*edit, error) {
	w, err := j.workload()
	if err != nil {
		return nil, err
	}
	ts := j.req.Now.UTC().Format(time.RFC3339)
	files, err := j.patchedFiles(ctx, func(patch []byte) ([]byte, error) {
		patch, err := j.startPatchDoc(patch, w)
		if err != nil {
			return nil, err
		}
		return overlay.SetPodTemplateAnnotation(patch, w.APIVersion, w.Kind, j.info.patchName(w.Name), RestartedAtAnnotation, ts)
	})
	if err != nil {
		return nil, err
	}
	return &edit{
		files:    files,
		what:     "restart " + w.ID(),
		summary:  fmt.Sprintf("restart %s in %s: %s", j.svc.Name, j.cmd.Env, w.ID()),
		details:  []string{fmt.Sprintf("`%s`: pod template annotation `%s: %s`", w.ID(), RestartedAtAnnotation, ts)},
		noChange: fmt.Sprintf("%s in %s was already restarted at %s", w.ID(), j.cmd.Env, ts),
		verify: func(after *overlay.Rendered) error {
			if err := j.checkRestarted(after, []overlay.Resource{w}, ts); err != nil {
				return err
			}
			return j.checkOthersUnchanged(after, w)
		},
	}, nil
}

// buildRedeploy restarts every workload the service's overlay renders.
func buildRedeploy(ctx context.Context, j *job) (*edit, error) {
	ws := j.before.Workloads()
	if len(ws) == 0 {
		return nil, Errorf(Invalid, "%s renders no workloads; there is nothing to redeploy", j.where())
	}
	ts := j.req.Now.UTC().Format(time.RFC3339)
	files, err := j.patchedFiles(ctx, func(patch []byte) ([]byte, error) {
		var err error
		for _, w := range ws {
			if patch, err = j.startPatchDoc(patch, w); err != nil {
				return nil, err
			}
			if patch, err = overlay.SetPodTemplateAnnotation(patch, w.APIVersion, w.Kind, j.info.patchName(w.Name), RestartedAtAnnotation, ts); err != nil {
				return nil, err
			}
		}
		return patch, nil
	})
	if err != nil {
		return nil, err
	}
	details := make([]string, 0, len(ws))
	for _, w := range ws {
		details = append(details, fmt.Sprintf("`%s`: pod template annotation `%s: %s`", w.ID(), RestartedAtAnnotation, ts))
	}
	n := plural(len(ws), "workload", "workloads")
	return &edit{
		files:    files,
		what:     "redeploy " + n,
		summary:  fmt.Sprintf("redeploy %s in %s: restart %s", j.svc.Name, j.cmd.Env, n),
		details:  details,
		noChange: fmt.Sprintf("every workload of %s in %s was already restarted at %s", j.svc.Name, j.cmd.Env, ts),
		verify:   func(after *overlay.Rendered) error { return j.checkRestarted(after, ws, ts) },
	}, nil
}

func (j *job) checkRestarted(after *overlay.Rendered, ws []overlay.Resource, ts string) error {
	for _, w := range ws {
		got, ok := after.Find(w.Kind, w.Name)
		if !ok {
			return Errorf(Conflict, "%s disappeared from the render of %s after adding the restart annotation", w.ID(), j.where())
		}
		if v, _ := podAnnotation(got, RestartedAtAnnotation); v != ts {
			return Errorf(Conflict, "the restart annotation did not reach %s in %s (%s)", w.ID(), j.where(), j.suspects(RestartedAtAnnotation))
		}
	}
	return nil
}

// checkOthersUnchanged proves a restart of one workload leaves the others alone.
func (j *job) checkOthersUnchanged(after *overlay.Rendered, target overlay.Resource) error {
	for _, w := range j.before.Workloads() {
		if w.ID() == target.ID() {
			continue
		}
		got, ok := after.Find(w.Kind, w.Name)
		if !ok || got.Node.MustString() != w.Node.MustString() {
			return Errorf(Conflict, "restarting %s would also change %s in %s; refusing to restart more than asked", target.ID(), w.ID(), j.where())
		}
	}
	return nil
}
