package plan

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// TestExamples plans every command on the example repositories of both layouts and proves
// each effect in the render of the result.
func TestExamples(t *testing.T) {
	for _, layout := range []string{"gitops", "envs-layout"} {
		t.Run(layout, func(t *testing.T) {
			ex := loadExample(t, layout)
			for _, c := range ex.commands(t) {
				t.Run(c.name, func(t *testing.T) {
					cs, err := New().Plan(context.Background(), c.cfg, c.files[repoconfig.Path], c.snap, c.hist, c.req)
					if err != nil {
						t.Fatal(err)
					}
					checkChangeSet(t, cs, c.req)
					out := apply(t, c.files, cs)
					checkExampleEffect(t, c, cs, out)
				})
			}
			// Every service restarts its one workload, and redeploys all of them, in every
			// environment it deploys to.
			for _, s := range ex.cfg.Services {
				for _, env := range ex.cfg.EnvNames() {
					if !s.Deploys(env) {
						continue
					}
					r := request("/restart", cmd("restart", s.Name, env))
					cs, err := New().Plan(context.Background(), ex.cfg, nil, newMemSnapshot(baseSHA, ex.files), nil, r)
					if err != nil {
						t.Errorf("restart %s in %s: %v", s.Name, env, err)
						continue
					}
					after := renderAt(t, apply(t, ex.files, cs), s.OverlayPath(env))
					n := 0
					for _, w := range after.Workloads() {
						if v, _ := podAnnotation(w, RestartedAtAnnotation); v == "2026-11-24T09:30:00Z" {
							n++
						}
					}
					if n != 1 {
						t.Errorf("restart %s in %s annotated %d workloads, want 1", s.Name, env, n)
					}
					r = request("/redeploy", cmd("redeploy", s.Name, env))
					if cs, err = New().Plan(context.Background(), ex.cfg, nil, newMemSnapshot(baseSHA, ex.files), nil, r); err != nil {
						t.Errorf("redeploy %s in %s: %v", s.Name, env, err)
						continue
					}
					after = renderAt(t, apply(t, ex.files, cs), s.OverlayPath(env))
					for _, w := range after.Workloads() {
						if v, _ := podAnnotation(w, RestartedAtAnnotation); v != "2026-11-24T09:30:00Z" {
							t.Errorf("redeploy %s in %s left %s alone", s.Name, env, w.ID())
						}
					}
				}
			}
		})
	}
}

func checkExampleEffect(t *testing.T, c exampleCase, cs *ChangeSet, out map[string][]byte) {
	t.Helper()
	cmd := c.req.Command
	if cmd.Name == "freeze" || cmd.Name == "unfreeze" {
		_, frozen := loadConfig(t, out).Frozen(cmd.Env)
		if frozen != (cmd.Name == "freeze") {
			t.Errorf("%s: frozen = %v afterwards", cmd.Name, frozen)
		}
		return
	}
	svc, _ := c.cfg.Service(cmd.Service)
	dir := svc.OverlayPath(cmd.Env)
	before, after := renderAt(t, c.files, dir), renderAt(t, out, dir)
	kind, name := svc.Workload.Kind, svc.Workload.Name
	if kind == "" {
		kind = "Deployment"
	}
	if name == "" {
		name = svc.Name
	}
	tree, err := overlay.Load(context.Background(), newMemSnapshot("x", out), dir)
	if err != nil {
		t.Fatal(err)
	}
	kp, _ := tree.KustomizationPath(dir)
	kb, _ := tree.File(kp)
	info, err := readKust(kp, kb)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := findWorkload(after, info, kind, name)
	if !ok {
		t.Fatalf("%s/%s not in the render", kind, name)
	}
	replicas := field(t, w, "spec", "replicas")
	images := func(r *overlay.Rendered) string {
		var all []string
		for _, x := range r.Workloads() {
			for _, ct := range containersOf(x) {
				all = append(all, ct.Image)
			}
		}
		return strings.Join(all, " ")
	}
	switch cmd.Name {
	case "restart":
		if v, _ := podAnnotation(w, RestartedAtAnnotation); v != "2026-11-24T09:30:00Z" {
			t.Errorf("restartedAt = %q", v)
		}
	case "redeploy":
		for _, x := range after.Workloads() {
			if v, _ := podAnnotation(x, RestartedAtAnnotation); v != "2026-11-24T09:30:00Z" {
				t.Errorf("%s restartedAt = %q", x.ID(), v)
			}
		}
	case "scale":
		if replicas != strconv.Itoa(cmd.Replicas) {
			t.Errorf("replicas = %s, want %d", replicas, cmd.Replicas)
		}
	case "suspend":
		if replicas != "0" {
			t.Errorf("replicas = %s, want 0", replicas)
		}
	case "resume":
		bw, _ := findWorkload(before, info, kind, name)
		if was, _ := workloadAnnotation(bw, SuspendedReplicasAnnotation); replicas != was || was == "" {
			t.Errorf("replicas = %s, want %s", replicas, was)
		}
	case "set-image":
		if !strings.Contains(images(after), ":9.9.9") {
			t.Errorf("no container runs 9.9.9: %s", images(after))
		}
	case "promote":
		if !strings.Contains(images(after), ":8.8.8") {
			t.Errorf("no container runs the promoted 8.8.8: %s", images(after))
		}
	case "config":
		cm, ok := findConfigMap(after, info, svc.ConfigMap)
		if !ok || cm.Node.GetDataMap()["DAYTWO_BENCH"] != "1" {
			t.Errorf("ConfigMap %s lacks DAYTWO_BENCH=1", svc.ConfigMap)
		}
	case "rollback":
		// The scale is undone: the overlay is back to the first commit's files.
		h := c.hist.(*memHistory)
		first := h.commits[0].snap.files
		for _, f := range cs.Files {
			if string(out[f.Path]) != string(first[f.Path]) {
				t.Errorf("%s not restored", f.Path)
			}
		}
	default:
		t.Fatalf("no effect check for %s", cmd.Name)
	}
}
