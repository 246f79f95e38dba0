package plan

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// genRepo builds a GitOps repository of n services in the apps/<svc>/{base,overlays}
// layout, each with a Deployment, a Service and a generated ConfigMap.
func genRepo(n int) map[string][]byte {
	files := map[string][]byte{}
	var cfg strings.Builder
	cfg.WriteString("version: 1\nenvironments:\n  - name: dev\n  - name: staging\n  - name: prod\n    replicas:\n      min: 1\n      max: 50\nservices:\n")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc-%04d", i)
		fmt.Fprintf(&cfg, "  - name: %s\n    image: ghcr.io/acme/%s\n    configMap: %s-config\n", name, name, name)
		dir := "apps/" + name
		files[dir+"/base/kustomization.yaml"] = []byte(fmt.Sprintf(`resources:
  - deployment.yaml
  - service.yaml
configMapGenerator:
  - name: %s-config
    literals:
      - LOG_LEVEL=info
`, name))
		files[dir+"/base/deployment.yaml"] = []byte(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/%[1]s:1.0.0
          envFrom:
            - configMapRef:
                name: %[1]s-config
`, name))
		files[dir+"/base/service.yaml"] = []byte(fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %[1]s\nspec:\n  selector:\n    app: %[1]s\n  ports:\n    - port: 80\n", name))
		for j, env := range []string{"dev", "staging", "prod"} {
			files[dir+"/overlays/"+env+"/kustomization.yaml"] = []byte(fmt.Sprintf(`resources:
  - ../../base
images:
  - name: ghcr.io/acme/%s
    newTag: 1.%d.0 # %s
replicas:
  - name: %s
    count: 2
`, name, 3-j, env, name))
		}
	}
	files[repoconfig.Path] = []byte(cfg.String())
	return files
}

// Planning reads the overlay it changes (and, for /promote, the source overlay) and what
// they reference: nothing of any other service, whatever the size of the repository.
func TestPlanReadsOnlyTheServicesOverlay(t *testing.T) {
	files := genRepo(300)
	cfg := loadConfig(t, files)
	for _, r := range []Input{
		scaleOf("svc-0150", 7),
		request("/promote prod", cmd("promote", "svc-0150", "prod")),
		request("/redeploy", cmd("redeploy", "svc-0150", "prod")),
	} {
		snap := &countingSnapshot{Snapshot: newMemSnapshot(baseSHA, files)}
		if _, err := New().Plan(context.Background(), cfg, files[repoconfig.Path], snap, nil, r); err != nil {
			t.Fatalf("%s: %v", r.Command.Name, err)
		}
		if len(snap.reads) == 0 {
			t.Fatalf("%s read nothing", r.Command.Name)
		}
		for _, p := range snap.reads {
			if !strings.HasPrefix(p, "apps/svc-0150/") {
				t.Errorf("%s read %s", r.Command.Name, p)
			}
		}
		if len(snap.reads) > 20 {
			t.Errorf("%s made %d reads: %v", r.Command.Name, len(snap.reads), snap.reads)
		}
	}
}

func scaleOf(service string, n int) Input {
	c := cmd("scale", service, "prod")
	c.Replicas = n
	return request("/scale", c)
}

// BenchmarkPlanRepoSize plans one /scale in repositories of 10 and 1,000 services: the
// time per plan must not grow with the repository (compare the two ns/op).
func BenchmarkPlanRepoSize(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			files := genRepo(n)
			cfg := loadConfig(b, files)
			snap := newMemSnapshot(baseSHA, files)
			r := scaleOf("svc-0005", 7)
			p := New()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Plan(context.Background(), cfg, files[repoconfig.Path], snap, nil, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlan plans each command on the examples/gitops repository.
func BenchmarkPlan(b *testing.B) {
	ex := loadExample(b, "gitops")
	for _, c := range ex.commands(b) {
		b.Run(c.name, func(b *testing.B) {
			p := New()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Plan(context.Background(), c.cfg, c.files[repoconfig.Path], c.snap, c.hist, c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// example is one repository of examples/, loaded into memory.
type example struct {
	name  string
	files map[string][]byte
	cfg   *repoconfig.Config
}

func loadExample(t testing.TB, name string) example {
	t.Helper()
	files := readTree(t, "../../examples/"+name)
	return example{name: name, files: files, cfg: loadConfig(t, files)}
}

// exampleCase is a request that must plan on an example repository, in the state it needs.
type exampleCase struct {
	name  string
	req   Input
	files map[string][]byte
	cfg   *repoconfig.Config
	snap  Snapshot
	hist  History
}

// commands makes one request per command for the example's first service in its last
// environment, preparing the state some need (a suspended workload, a frozen
// environment, a history with a daytwo change).
func (ex example) commands(t testing.TB) []exampleCase {
	t.Helper()
	ctx := context.Background()
	envs := ex.cfg.EnvNames()
	env := envs[len(envs)-1]
	svc := ex.cfg.Services[0]
	for _, s := range ex.cfg.Services {
		if s.ConfigMap != "" {
			svc = s
			break
		}
	}
	plain := func(name string, r Input) exampleCase {
		return exampleCase{name: name, req: r, files: ex.files, cfg: ex.cfg, snap: newMemSnapshot(baseSHA, ex.files)}
	}
	// after plans r on the example and returns the repository with its change applied.
	after := func(r Input) map[string][]byte {
		cs, err := New().Plan(ctx, ex.cfg, ex.files[repoconfig.Path], newMemSnapshot(baseSHA, ex.files), nil, r)
		if err != nil {
			t.Fatalf("preparing %s: %v", r.Command.Line, err)
		}
		return apply(t, ex.files, cs)
	}
	scale := cmd("scale", svc.Name, env)
	scale.Replicas = ex.freeReplicas(t, svc.Name, env)
	setImage := cmd("set-image", svc.Name, env)
	setImage.Image = command.ImageRef{Tag: "9.9.9"}
	freeze := cmd("freeze", "", env)
	freeze.Reason = "benchmark"

	cases := []exampleCase{
		plain("restart", request("/restart", cmd("restart", svc.Name, env))),
		plain("redeploy", request("/redeploy", cmd("redeploy", svc.Name, env))),
		plain("scale", request("/scale", scale)),
		plain("set-image", request("/set-image 9.9.9", setImage)),
		plain("suspend", request("/suspend", cmd("suspend", svc.Name, env))),
		plain("freeze", request("/freeze", freeze)),
	}
	if from := ex.cfg.Previous(env); from != "" {
		// Make the target differ from its source, so the promotion has work to do.
		img := cmd("set-image", svc.Name, from)
		img.Image = command.ImageRef{Tag: "8.8.8"}
		files := after(request("/set-image 8.8.8", img))
		cases = append(cases, exampleCase{name: "promote", req: request("/promote", cmd("promote", svc.Name, env)), files: files, cfg: ex.cfg, snap: newMemSnapshot(baseSHA, files)})
	}
	if svc.ConfigMap != "" {
		c := cmd("config", svc.Name, env)
		c.Set = []command.KeyValue{{Key: "DAYTWO_BENCH", Value: "1"}}
		cases = append(cases, plain("config", request("/config set DAYTWO_BENCH=1", c)))
	}
	suspended := after(request("/suspend", cmd("suspend", svc.Name, env)))
	cases = append(cases, exampleCase{name: "resume", req: request("/resume", cmd("resume", svc.Name, env)), files: suspended, cfg: ex.cfg, snap: newMemSnapshot(baseSHA, suspended)})

	frozen := after(request("/freeze", freeze))
	frozenCfg := loadConfig(t, frozen)
	cases = append(cases, exampleCase{name: "unfreeze", req: request("/unfreeze", cmd("unfreeze", "", env)), files: frozen, cfg: frozenCfg, snap: newMemSnapshot(baseSHA, frozen)})

	h := &memHistory{}
	h.commit("Initial import", ex.files)
	cs, err := New().Plan(ctx, ex.cfg, nil, newMemSnapshot(baseSHA, ex.files), nil, request("/scale", scale))
	if err != nil {
		t.Fatalf("preparing rollback: %v", err)
	}
	scaled := apply(t, ex.files, cs)
	head := h.commit(cs.CommitMessage, scaled)
	cases = append(cases, exampleCase{name: "rollback", req: request("/rollback", cmd("rollback", svc.Name, env)), files: scaled, cfg: ex.cfg, snap: head, hist: h})
	return cases
}

// freeReplicas is a replica count within the env's bounds that the workload does not have.
func (ex example) freeReplicas(t testing.TB, service, env string) int {
	t.Helper()
	e, _ := ex.cfg.Env(env)
	for n := max(e.Replicas.Min, 1); e.Replicas.Max == 0 || n <= e.Replicas.Max; n++ {
		c := cmd("scale", service, env)
		c.Replicas = n
		_, err := New().Plan(context.Background(), ex.cfg, nil, newMemSnapshot(baseSHA, ex.files), nil, request("/scale", c))
		if err == nil {
			return n
		}
		if ErrorCode(err) != NoChange {
			t.Fatalf("scaling %s in %s: %v", service, env, err)
		}
	}
	t.Fatalf("no replica count to scale %s in %s to", service, env)
	return 0
}
