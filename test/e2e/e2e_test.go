//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

var clock = func() time.Time { return time.Now() }

// world is the stack, daytwo against the test GitHub, and a mirror of the GitOps
// repository's default branch into the git daemon Argo CD reads.
type world struct {
	*Stack
	app  *apptest.App
	repo *githubtest.Repo
}

func newWorld(t *testing.T) *world { return newWorldWith(t, nil) }

// newWorldWith is newWorld with more environment variables for daytwo.
func newWorldWith(t *testing.T, env map[string]string) *world {
	s := StartStack(t)
	vars := map[string]string{
		"DAYTWO_ARGOCD_SERVER": s.ArgoCDAddr, "DAYTWO_ARGOCD_TOKEN": s.ArgoCDToken, "DAYTWO_ARGOCD_PLAINTEXT": "true",
	}
	for k, v := range env {
		vars[k] = v
	}
	a := apptest.StartWithEnv(t, clock, vars)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daytwo's log:\n%s", a.Logs.String())
		}
	})
	repo := a.GH.CreateRepo("acme", "gitops")
	repo.SeedDir(repo.DefaultBranch(), "../../examples/gitops")
	// A rollout that cannot become ready is declared failed after 10 s instead of 10 min.
	base, _ := repo.File("main", "apps/checkout/base/deployment.yaml")
	repo.Commit("main", "checkout: short progress deadline", map[string]string{
		"apps/checkout/base/deployment.yaml": strings.Replace(base, "\nspec:\n", "\nspec:\n  progressDeadlineSeconds: 10\n", 1),
	})
	cfg, _ := repo.File("main", ".github/daytwo.yml")
	repo.Commit("main", "dev: up to 5 replicas", map[string]string{".github/daytwo.yml": strings.Replace(cfg, "replicas: {min: 0, max: 3}", "replicas: {min: 0, max: 5}", 1)})
	a.GH.Install("acme")
	repo.SetPermission("alice", githubtest.RoleWrite)
	w := &world{Stack: s, app: a, repo: repo}
	w.mirror(t)
	return w
}

// mirror pushes the default branch to the git daemon whenever it moves, as GitHub would
// serve it to Argo CD.
func (w *world) mirror(t *testing.T) {
	push := func() string {
		sha, _ := w.repo.BranchSHA("main")
		if err := w.repo.PushTo(w.GitDir, "main"); err != nil {
			t.Errorf("mirror: %v", err)
		}
		return sha
	}
	last := push()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if sha, _ := w.repo.BranchSHA("main"); sha != last {
				last = push()
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
}

// application creates the Argo CD Application of a service's overlay.
func (w *world) application(t *testing.T, svc, env string, auto bool) {
	t.Helper()
	spec := map[string]any{
		"project":     "default",
		"source":      map[string]any{"repoURL": w.GitURL, "targetRevision": "main", "path": "apps/" + svc + "/overlays/" + env},
		"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": svc + "-" + env},
		"syncPolicy":  map[string]any{"syncOptions": []any{"CreateNamespace=true"}},
	}
	if auto {
		spec["syncPolicy"].(map[string]any)["automated"] = map[string]any{"prune": true, "selfHeal": true}
	}
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": svc + "-" + env, "namespace": "argocd"},
		"spec":     spec,
	}}
	if _, err := w.dyn.Resource(appGVR).Namespace("argocd").Create(context.Background(), app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// deployment waits for the Deployment to exist and be rolled out, and returns it.
func (w *world) deployment(t *testing.T, ns, name string, ok func(*appsv1.Deployment) bool) *appsv1.Deployment {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		d, err := w.kube.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && ok(d) {
			return d
		}
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s/%s: not as expected after 2 minutes (last: %+v, %v); pods:\n%s", ns, name, deploySummary(d), err, w.pods(ns))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pods describes the pods of a namespace, for failure messages.
func (w *world) pods(ns string) string {
	list, err := w.kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, p := range list.Items {
		fmt.Fprintf(&b, "%s phase=%s node=%q ip=%q conditions=%v\n", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP, p.Status.Conditions)
	}
	if b.Len() == 0 {
		return "(none)"
	}
	return b.String()
}

func deploySummary(d *appsv1.Deployment) string {
	if d == nil {
		return "none"
	}
	r := int32(0)
	if d.Spec.Replicas != nil {
		r = *d.Spec.Replicas
	}
	return fmt.Sprintf("replicas %d ready %d image %s", r, d.Status.ReadyReplicas, d.Spec.Template.Spec.Containers[0].Image)
}

// ask writes a command in a new issue, delivers it, and waits until daytwo has answered
// and finished following the rollout; it returns the status comment.
func (w *world) ask(t *testing.T, line string) (int, string) {
	t.Helper()
	n := w.repo.CreateIssue("alice", "day-2", "")
	id := w.repo.AddComment(n, "alice", line)
	w.app.Send(t, "issue_comment", w.repo.IssueCommentPayload(id))
	w.app.Quiet(t)
	w.app.Runner.WaitRollouts()
	return n, w.status(n)
}

func (w *world) status(n int) string {
	for _, c := range w.repo.Comments(n) {
		if c.User == w.app.GH.BotLogin() {
			return c.Body
		}
	}
	return ""
}

func ready(replicas int32) func(*appsv1.Deployment) bool {
	return func(d *appsv1.Deployment) bool {
		return d.Spec.Replicas != nil && *d.Spec.Replicas == replicas && d.Status.ReadyReplicas == replicas && d.Status.UpdatedReplicas == replicas
	}
}

func TestCommentToCluster(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.application(t, "checkout", "dev", true)
	w.application(t, "catalog", "dev", true)
	w.application(t, "checkout", "staging", true)
	w.deployment(t, "checkout-dev", "checkout", ready(1))
	catalogBefore := w.deployment(t, "catalog-dev", "catalog", ready(1))
	var timings []string

	// daytwo's Argo CD client over gRPC-web (argocd.grpc_web, for ingresses that pass
	// HTTP/1.1 only), against argocd-server itself.
	t.Run("gRPC-web", func(t *testing.T) {
		c, err := argoapi.New(argoapi.Options{Server: w.ArgoCDAddr, Token: w.ArgoCDToken, PlainText: true, GRPCWeb: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		st, err := c.Refresh(ctx, "catalog-dev")
		if err != nil || st.App != "catalog-dev" || st.Sync != "Synced" || st.Health != "Healthy" || len(st.Revision) != 40 {
			t.Fatalf("refresh over gRPC-web: %+v %v", st, err)
		}
		// Waiting for the revision it runs ends at once; an error travels in the trailers.
		if _, err := c.Wait(ctx, "catalog-dev", st.Revision, nil); err != nil {
			t.Errorf("wait over gRPC-web: %v", err)
		}
		if _, err := c.Get(ctx, "no-such-app"); !errors.Is(err, argoapi.ErrPermanent) {
			t.Errorf("a missing app over gRPC-web: %v", err)
		}
	})

	t.Run("scale", func(t *testing.T) {
		start := time.Now()
		_, st := w.ask(t, "/scale 5 --service checkout --env dev")
		w.deployment(t, "checkout-dev", "checkout", ready(5))
		timings = append(timings, fmt.Sprintf("| comment → Deployment changed (/scale 5 in dev, auto-merged) | %s |", time.Since(start).Round(100*time.Millisecond)))
		if !strings.Contains(st, "checkout-dev is Healthy") {
			t.Errorf("status:\n%s", st)
		}
	})
	t.Run("set-image", func(t *testing.T) {
		_, st := w.ask(t, "/set-image 1.9.0 --service checkout --env dev")
		w.deployment(t, "checkout-dev", "checkout", func(d *appsv1.Deployment) bool {
			return d.Spec.Template.Spec.Containers[0].Image == "ghcr.io/acme/checkout:1.9.0" && d.Status.UpdatedReplicas == *d.Spec.Replicas
		})
		if !strings.Contains(st, "checkout-dev is Healthy") {
			t.Errorf("status:\n%s", st)
		}
	})
	t.Run("restart", func(t *testing.T) {
		_, st := w.ask(t, "/restart --service checkout --env dev")
		d := w.deployment(t, "checkout-dev", "checkout", func(d *appsv1.Deployment) bool {
			return d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] != ""
		})
		if !strings.Contains(st, "checkout-dev is Healthy") {
			t.Errorf("status:\n%s\ndeployment %s", st, deploySummary(d))
		}
		other, err := w.kube.AppsV1().Deployments("catalog-dev").Get(ctx, "catalog", metav1.GetOptions{})
		if err != nil || other.Generation != catalogBefore.Generation {
			t.Errorf("another service's workload changed: generation %d → %d (%v)", catalogBefore.Generation, other.Generation, err)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		_, st := w.ask(t, "/rollback --service checkout --env dev")
		w.deployment(t, "checkout-dev", "checkout", func(d *appsv1.Deployment) bool {
			return d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == ""
		})
		if !strings.Contains(st, "checkout-dev is Healthy") {
			t.Errorf("status:\n%s", st)
		}
	})
	t.Run("degraded then rollback", func(t *testing.T) {
		n, st := w.ask(t, "/set-image broken --service checkout --env dev")
		if !strings.Contains(st, "checkout-dev is Degraded") || !strings.Contains(st, "/rollback --service checkout --env dev") {
			t.Fatalf("a rollout that never becomes ready must be reported Degraded with the rollback to reply:\n%s", st)
		}
		id := w.repo.AddComment(n, "alice", "/rollback --service checkout --env dev")
		w.app.Send(t, "issue_comment", w.repo.IssueCommentPayload(id))
		w.app.Quiet(t)
		w.app.Runner.WaitRollouts()
		w.deployment(t, "checkout-dev", "checkout", func(d *appsv1.Deployment) bool {
			return d.Spec.Template.Spec.Containers[0].Image == "ghcr.io/acme/checkout:1.9.0" && d.Status.ReadyReplicas == *d.Spec.Replicas
		})
	})
	t.Run("promote", func(t *testing.T) {
		dev := w.deployment(t, "checkout-dev", "checkout", func(d *appsv1.Deployment) bool { return true })
		n, _ := w.ask(t, "/promote staging --service checkout")
		var pr githubtest.Pull
		for _, p := range w.repo.Pulls() {
			if p.State == "open" && strings.HasPrefix(p.Head, "daytwo/staging/checkout/promote-") {
				pr = p
			}
		}
		if pr.Number == 0 {
			t.Fatalf("staging needs approval: want an open PR:\n%s", w.status(n))
		}
		// A reviewer merges; GitHub tells daytwo, which asks Argo CD to refresh.
		w.repo.Merge(pr.Number, "squash")
		start := time.Now()
		w.app.Send(t, "pull_request", w.repo.PullClosedPayload(pr.Number))
		want := dev.Spec.Template.Spec.Containers[0].Image
		w.deployment(t, "checkout-staging", "checkout", func(d *appsv1.Deployment) bool {
			return d.Spec.Template.Spec.Containers[0].Image == want
		})
		timings = append(timings, fmt.Sprintf("| merge → Deployment changed, daytwo asks Argo CD to refresh | %s |", time.Since(start).Round(100*time.Millisecond)))
		w.app.Quiet(t)
		w.app.Runner.WaitRollouts()
		if st := w.status(n); !strings.Contains(st, "checkout-staging is Healthy") {
			t.Errorf("status:\n%s", st)
		}
	})
	t.Run("without daytwo, Argo CD's poll", func(t *testing.T) {
		kust, _ := w.repo.File("main", "apps/catalog/overlays/dev/kustomization.yaml")
		changed := strings.Replace(kust, "count: 1", "count: 2", 1)
		if changed == kust {
			t.Fatalf("catalog's dev overlay has no replica count of 1:\n%s", kust)
		}
		start := time.Now()
		w.repo.Commit("main", "scale catalog by hand", map[string]string{"apps/catalog/overlays/dev/kustomization.yaml": changed})
		w.deployment(t, "catalog-dev", "catalog", ready(2))
		timings = append(timings, fmt.Sprintf("| push → Deployment changed, Argo CD polling (app-resync 10 s) | %s |", time.Since(start).Round(100*time.Millisecond)))
	})
	fmt.Fprintf(os.Stdout, "\n| path | time |\n| --- | --- |\n%s\n", strings.Join(timings, "\n"))
}
