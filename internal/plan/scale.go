package plan

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strconv"

	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// scalable returns the configured workload, its replica count and the name the overlay's
// `replicas:` field uses for it.
func (j *job) scalable() (overlay.Resource, int, string, error) {
	w, err := j.workload()
	if err != nil {
		return w, 0, "", err
	}
	if !replicaKinds[w.Kind] {
		return w, 0, "", Errorf(Invalid, "cannot scale %s: the kustomization replicas field only scales Deployment, StatefulSet, ReplicaSet and ReplicationController", w.ID())
	}
	cur, err := replicasOf(w)
	if err != nil {
		return w, 0, "", &Error{Code: Broken, Msg: fmt.Sprintf("%s renders %s", j.where(), err), Err: err}
	}
	return w, cur, j.info.patchName(w.Name), nil
}

func buildScale(_ context.Context, j *job) (*edit, error) {
	n := j.cmd.Replicas
	if n < 0 {
		return nil, Errorf(Invalid, "replicas must be 0 or more, not %d", n)
	}
	if b := j.env.Replicas; n < b.Min || (b.Max > 0 && n > b.Max) {
		return nil, Errorf(Invalid, "%s allows %s; %d is out of bounds", j.cmd.Env, boundsText(b), n)
	}
	w, cur, name, err := j.scalable()
	if err != nil {
		return nil, err
	}
	noChange := fmt.Sprintf("%s in %s already has %s", j.svc.Name, j.cmd.Env, plural(n, "replica", "replicas"))
	if cur == n {
		return nil, Errorf(NoChange, "%s", noChange)
	}
	kust, err := j.editKust(j.kust, "set replicas", func(b []byte) ([]byte, error) { return overlay.SetReplicas(b, name, n) })
	if err != nil {
		return nil, err
	}
	e := &edit{
		files:    map[string][]byte{j.kustPath: kust},
		what:     "scale to " + plural(n, "replica", "replicas"),
		summary:  fmt.Sprintf("scale %s in %s: %d → %d replicas", j.svc.Name, j.cmd.Env, cur, n),
		details:  []string{fmt.Sprintf("`%s`: replicas %d → %d", w.ID(), cur, n)},
		noChange: noChange,
		verify:   func(after *overlay.Rendered) error { return j.checkReplicas(after, w, name, n) },
		sets:     replicasField(w),
	}
	if n == 0 && j.isLastEnv() {
		e.risk = RiskHigh
	}
	return e, nil
}

func buildSuspend(ctx context.Context, j *job) (*edit, error) {
	w, cur, name, err := j.scalable()
	if err != nil {
		return nil, err
	}
	if was, ok := workloadAnnotation(w, SuspendedReplicasAnnotation); ok {
		return nil, Errorf(NoChange, "%s in %s is already suspended (it had %s replicas)", j.svc.Name, j.cmd.Env, was)
	}
	if cur == 0 {
		return nil, Errorf(NoChange, "%s in %s already has 0 replicas", j.svc.Name, j.cmd.Env)
	}
	files, err := j.patchedFiles(ctx, func(patch []byte) ([]byte, error) {
		patch, err := j.startPatchDoc(patch, w)
		if err != nil {
			return nil, err
		}
		return overlay.SetWorkloadAnnotation(patch, w.APIVersion, w.Kind, name, SuspendedReplicasAnnotation, strconv.Itoa(cur))
	})
	if err != nil {
		return nil, err
	}
	if files[j.kustPath], err = j.editKust(files[j.kustPath], "set replicas", func(b []byte) ([]byte, error) { return overlay.SetReplicas(b, name, 0) }); err != nil {
		return nil, err
	}
	return &edit{
		files:   files,
		what:    fmt.Sprintf("suspend (%d → 0 replicas)", cur),
		summary: fmt.Sprintf("suspend %s in %s: %d → 0 replicas", j.svc.Name, j.cmd.Env, cur),
		details: []string{
			fmt.Sprintf("`%s`: replicas %d → 0", w.ID(), cur),
			fmt.Sprintf("`%s`: annotation `%s: \"%d\"` keeps the count for /resume", w.ID(), SuspendedReplicasAnnotation, cur),
		},
		noChange: fmt.Sprintf("%s in %s is already suspended", j.svc.Name, j.cmd.Env),
		risk:     RiskHigh,
		sets:     replicasField(w),
		verify: func(after *overlay.Rendered) error {
			if err := j.checkReplicas(after, w, name, 0); err != nil {
				return err
			}
			return j.checkAnnotation(after, w, strconv.Itoa(cur), true)
		},
	}, nil
}

func buildResume(ctx context.Context, j *job) (*edit, error) {
	w, cur, name, err := j.scalable()
	if err != nil {
		return nil, err
	}
	was, ok := workloadAnnotation(w, SuspendedReplicasAnnotation)
	if !ok {
		return nil, Errorf(Invalid, "%s in %s is not suspended (%s has no %s annotation); use /scale <n> to set replicas", j.svc.Name, j.cmd.Env, w.ID(), SuspendedReplicasAnnotation)
	}
	n, err := strconv.Atoi(was)
	if err != nil || n < 0 {
		return nil, Errorf(Broken, "%s has %s: %q, which is not a replica count; fix or remove it by hand", w.ID(), SuspendedReplicasAnnotation, was)
	}
	patchPath := path.Join(j.dir, PatchFile)
	if b, _ := j.tree.File(patchPath); !bytes.Contains(b, []byte(SuspendedReplicasAnnotation)) {
		return nil, Errorf(Conflict, "the %s annotation of %s is not set in %s (%s); remove it by hand",
			SuspendedReplicasAnnotation, w.ID(), patchPath, j.suspects(SuspendedReplicasAnnotation))
	}
	files, err := j.patchedFiles(ctx, func(patch []byte) ([]byte, error) {
		return overlay.RemoveWorkloadAnnotation(patch, w.APIVersion, w.Kind, name, SuspendedReplicasAnnotation)
	})
	if err != nil {
		return nil, err
	}
	if files[j.kustPath], err = j.editKust(files[j.kustPath], "set replicas", func(b []byte) ([]byte, error) { return overlay.SetReplicas(b, name, n) }); err != nil {
		return nil, err
	}
	return &edit{
		files:   files,
		what:    fmt.Sprintf("resume (%d → %d replicas)", cur, n),
		summary: fmt.Sprintf("resume %s in %s: %d → %d replicas", j.svc.Name, j.cmd.Env, cur, n),
		details: []string{
			fmt.Sprintf("`%s`: replicas %d → %d, the count before /suspend", w.ID(), cur, n),
			fmt.Sprintf("`%s`: annotation `%s` removed", w.ID(), SuspendedReplicasAnnotation),
		},
		noChange: fmt.Sprintf("%s in %s already runs %s", j.svc.Name, j.cmd.Env, plural(n, "replica", "replicas")),
		sets:     replicasField(w),
		verify: func(after *overlay.Rendered) error {
			if err := j.checkReplicas(after, w, name, n); err != nil {
				return err
			}
			return j.checkAnnotation(after, w, "", false)
		},
	}, nil
}

// replicasField is what a change of w's replicas sets (see Fields).
func replicasField(w overlay.Resource) []string { return []string{"replicas:" + w.Kind + "/" + w.Name} }

// checkReplicas proves the AFTER render scales the workload to n: a patch applied after
// the kustomization's replicas field would otherwise make the PR a no-op.
func (j *job) checkReplicas(after *overlay.Rendered, w overlay.Resource, name string, n int) error {
	got, ok := after.Find(w.Kind, w.Name)
	if !ok {
		return Errorf(Conflict, "%s disappeared from the render of %s after setting its replicas", w.ID(), j.where())
	}
	have, err := replicasOf(got)
	if err != nil {
		return &Error{Code: Broken, Msg: fmt.Sprintf("%s renders %s", j.where(), err), Err: err}
	}
	if have != n {
		return Errorf(Conflict, "%s in %s would still have %d replicas after setting replicas to %d in %s: %s",
			w.ID(), j.cmd.Env, have, n, j.kustPath, j.suspects(name, "replicas"))
	}
	return nil
}

func (j *job) checkAnnotation(after *overlay.Rendered, w overlay.Resource, value string, present bool) error {
	got, ok := after.Find(w.Kind, w.Name)
	if !ok {
		return Errorf(Conflict, "%s disappeared from the render of %s", w.ID(), j.where())
	}
	v, has := workloadAnnotation(got, SuspendedReplicasAnnotation)
	if has != present || v != value {
		return Errorf(Conflict, "the %s annotation of %s did not come out as intended (%s)", SuspendedReplicasAnnotation, w.ID(), j.suspects(SuspendedReplicasAnnotation))
	}
	return nil
}

func (j *job) isLastEnv() bool {
	names := j.cfg.EnvNames()
	return len(names) > 0 && names[len(names)-1] == j.cmd.Env
}

func boundsText(b repoconfig.Bounds) string {
	if b.Max > 0 {
		return fmt.Sprintf("%d to %d replicas", b.Min, b.Max)
	}
	return fmt.Sprintf("at least %s", plural(b.Min, "replica", "replicas"))
}
