//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// TestSyncAndRefreshWithoutAutomatedSync drives daytwo's /sync and /refresh client
// (argoapi.SyncApp, RefreshApp) against the real argocd-server, for prod, whose
// Applications have no automated sync: a person's push leaves checkout-prod OutOfSync
// until it is synced. Then /sync and /refresh are asked in comments, through daytwo,
// and answered on the status comment. It also checks that Argo CD's refusals read as the
// fake (argoapitest) says they do.
func TestSyncAndRefreshWithoutAutomatedSync(t *testing.T) {
	w := newWorld(t)
	w.application(t, "checkout", "prod", false)
	c := argoClient(t, w.ArgoCDAddr, w.ArgoCDToken)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const app = "checkout-prod"
	var timings []string

	t.Run("first sync", func(t *testing.T) {
		head, _ := w.repo.BranchSHA("main")
		out, err := c.RefreshApp(ctx, app, false)
		if err != nil || out.Sync != "OutOfSync" || out.Revision != head || out.AutoSync {
			t.Fatalf("a new app without automated sync: %+v %v", out, err)
		}
		start := time.Now()
		out, err = c.SyncApp(ctx, app, "")
		if err != nil || out.AlreadySynced || !out.SyncedTo(head) || out.Health != "Healthy" || out.OperationPhase != "Succeeded" {
			t.Fatalf("SyncApp: %+v %v", out, err)
		}
		timings = append(timings, fmt.Sprintf("| /sync of a new app (3 replicas) → Synced and Healthy | %s |", time.Since(start).Round(100*time.Millisecond)))
		if out.OperationBy != "daytwo" || !strings.HasPrefix(out.OperationInfo["daytwo"], "sync-") {
			t.Errorf("the operation's initiator %q and info %v", out.OperationBy, out.OperationInfo)
		}
		w.deployment(t, app, "checkout", ready(3))
	})

	var rev string
	t.Run("a person's push, then sync", func(t *testing.T) {
		kust, _ := w.repo.File("main", "apps/checkout/overlays/prod/kustomization.yaml")
		changed := strings.Replace(kust, "count: 3", "count: 2", 1)
		if changed == kust {
			t.Fatalf("checkout's prod overlay has no replica count of 3:\n%s", kust)
		}
		rev = w.repo.Commit("main", "checkout prod: 2 replicas, by hand", map[string]string{"apps/checkout/overlays/prod/kustomization.yaml": changed})
		w.served(t, rev)

		// A hard refresh sees the new commit at once (no revision cache); nothing syncs it.
		out, err := c.RefreshApp(ctx, app, true)
		if err != nil || out.Sync != "OutOfSync" || out.Revision != rev || out.Health != "Healthy" {
			t.Fatalf("hard refresh after the push: %+v %v", out, err)
		}
		time.Sleep(2 * time.Second)
		w.deployment(t, app, "checkout", ready(3))

		start := time.Now()
		out, err = c.SyncApp(ctx, app, "")
		if err != nil || out.AlreadySynced || !out.SyncedTo(rev) || out.Revision != rev || out.Health != "Healthy" || out.OperationPhase != "Succeeded" || out.OperationRevision != rev {
			t.Fatalf("SyncApp: %+v %v", out, err)
		}
		timings = append(timings, fmt.Sprintf("| /sync after a push (3 → 2 replicas) → Synced and Healthy | %s |", time.Since(start).Round(100*time.Millisecond)))
		w.deployment(t, app, "checkout", ready(2))
	})

	t.Run("already synced", func(t *testing.T) {
		before := w.operation(t, app)
		out, err := c.SyncApp(ctx, app, "")
		if err != nil || !out.AlreadySynced || out.Revision != rev || out.Sync != "Synced" || out.Health != "Healthy" {
			t.Fatalf("SyncApp: %+v %v", out, err)
		}
		if after := w.operation(t, app); after != before {
			t.Errorf("a sync was sent: operation %s, then %s", before, after)
		}
	})

	t.Run("refresh", func(t *testing.T) {
		for _, hard := range []bool{false, true} {
			asked := time.Now().Truncate(time.Second)
			out, err := c.RefreshApp(ctx, app, hard)
			if err != nil || out.Sync != "Synced" || out.Revision != rev || out.Health != "Healthy" || out.ReconciledAt.Before(asked) {
				t.Errorf("refresh (hard %v): %+v %v", hard, out, err)
			}
		}
	})

	t.Run("/sync and /refresh as comments", func(t *testing.T) {
		// prod's requesters: maintain permission for anything but scale and rollback.
		w.repo.SetPermission("mo", githubtest.RoleMaintain)
		kust, _ := w.repo.File("main", "apps/checkout/overlays/prod/kustomization.yaml")
		changed := strings.Replace(kust, "count: 2", "count: 4", 1)
		if changed == kust {
			t.Fatalf("checkout's prod overlay has no replica count of 2:\n%s", kust)
		}
		rev = w.repo.Commit("main", "checkout prod: 4 replicas, by hand", map[string]string{"apps/checkout/overlays/prod/kustomization.yaml": changed})
		w.served(t, rev)
		link := "[`" + rev[:7] + "`](" + w.app.GH.URL() + "/acme/gitops/commit/" + rev + ")"

		before := w.operation(t, app)
		n, st := w.askAs(t, "mo", "/sync --service checkout --env prod --dry-run")
		if want := "- Target: `main`, at " + link + " now. Without `--dry-run`"; !strings.Contains(st, want) || w.mark(t, n) != "dry-run" {
			t.Errorf("dry run: want %q:\n%s", want, st)
		}
		if after := w.operation(t, app); after != before {
			t.Errorf("the dry run synced: operation %s, then %s", before, after)
		}

		start := time.Now()
		n, st = w.askAs(t, "mo", "/sync --service checkout --env prod")
		for _, want := range []string{"✅ `checkout-prod` synced to " + link + " in ", ": Synced, Healthy."} {
			if !strings.Contains(st, want) {
				t.Errorf("status lacks %q:\n%s", want, st)
			}
		}
		if m := w.mark(t, n); m != "answered" {
			t.Errorf("state %s", m)
		}
		timings = append(timings, fmt.Sprintf("| /sync as a comment (2 → 4 replicas) → the status comment says Synced and Healthy | %s |", time.Since(start).Round(100*time.Millisecond)))
		w.deployment(t, app, "checkout", ready(4))

		before = w.operation(t, app)
		_, st = w.askAs(t, "mo", "/sync --service checkout --env prod")
		if want := "✅ `checkout-prod` is already synced to " + link + ": nothing to do. It is Healthy."; !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
		if after := w.operation(t, app); after != before {
			t.Errorf("a sync was sent: operation %s, then %s", before, after)
		}

		_, st = w.askAs(t, "mo", "/refresh --hard --service checkout --env prod")
		if want := "🔄 Argo CD refreshed `checkout-prod` (hard: the manifests regenerated, not read from its cache): Synced to " + link + ", Healthy."; !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}

		// alice has write permission: prod's policy refuses her, and Argo CD is not asked.
		n, st = w.askAs(t, "alice", "/sync --service checkout --env prod")
		if !strings.Contains(st, "may be requested by people with maintain permission") || w.mark(t, n) != "refused" {
			t.Errorf("alice's /sync in prod:\n%s", st)
		}
	})

	// Argo CD's refusals, as the client explains them and as argocd-server words them.
	raw := func(t *testing.T, token string) application.ApplicationServiceClient {
		cl, err := apiclient.NewClient(&apiclient.ClientOptions{ServerAddr: w.ArgoCDAddr, PlainText: true, AuthToken: token, ConfigPath: w.path("home", "argocd-config")})
		if err != nil {
			t.Fatal(err)
		}
		closer, apps, err := cl.NewApplicationClient()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closer.Close() })
		return apps
	}
	t.Run("RBAC", func(t *testing.T) {
		viewer := argoClient(t, w.ArgoCDAddr, w.ArgoCDViewerToken)
		if out, err := viewer.RefreshApp(ctx, app, false); err != nil || out.Sync != "Synced" {
			t.Errorf("viewer may get and refresh: %+v %v", out, err)
		}
		// Out of sync, so that the client asks.
		kust, _ := w.repo.File("main", "apps/checkout/overlays/prod/kustomization.yaml")
		w.served(t, w.repo.Commit("main", "checkout prod: 3 replicas again", map[string]string{
			"apps/checkout/overlays/prod/kustomization.yaml": strings.Replace(kust, "count: 4", "count: 3", 1)}))
		_, err := viewer.SyncApp(ctx, app, "")
		if !errors.Is(err, argoapi.ErrPermanent) || !strings.Contains(err.Error(), "permission denied: applications, sync, default/checkout-prod, sub: viewer, iat: ") ||
			!strings.Contains(err.Error(), `"p, viewer, applications, sync, default/checkout-prod, allow"`) {
			t.Errorf("viewer's sync: %v", err)
		}
		_, err = raw(t, w.ArgoCDViewerToken).Sync(ctx, &application.ApplicationSyncRequest{Name: ptr(app)})
		if st := status.Convert(err); st.Code() != codes.PermissionDenied ||
			!regexp.MustCompile(`^permission denied: applications, sync, default/checkout-prod, sub: viewer, iat: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(st.Message()) {
			t.Errorf("argocd-server's answer to viewer's sync: %v %q", st.Code(), st.Message())
		}
		// A missing app and one the account may not get are the same answer.
		_, err = raw(t, w.ArgoCDToken).Get(ctx, &application.ApplicationQuery{Name: ptr("no-such-app")})
		if st := status.Convert(err); st.Code() != codes.PermissionDenied || st.Message() != "permission denied" {
			t.Errorf("argocd-server's answer for a missing app: %v %q", st.Code(), st.Message())
		}
		if _, err := c.SyncApp(ctx, "no-such-app", ""); !errors.Is(err, argoapi.ErrPermanent) || !strings.Contains(err.Error(), `application "no-such-app" not found`) || !strings.Contains(err.Error(), "argocdApp") {
			t.Errorf("a missing app: %v", err)
		}
	})

	t.Run("another operation in progress", func(t *testing.T) {
		// busy's PreSync hook is a Job whose pod runs and never ends (kwok), so its sync
		// stays Running.
		w.repo.Commit("main", "busy: a sync that never ends", map[string]string{
			"e2e/busy/kustomization.yaml": "resources: [configmap.yaml, hook.yaml]\n",
			"e2e/busy/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: busy}\ndata: {k: v}\n",
			"e2e/busy/hook.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: busy-presync
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: wait, image: busybox, command: [sleep, "3600"]}]
`,
		})
		head, _ := w.repo.BranchSHA("main")
		w.served(t, head)
		w.createApp(t, "busy", "e2e/busy", "default")
		if err := c.Sync(ctx, "busy", ""); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for st, _ := c.Get(ctx, "busy"); st.OperationPhase != "Running" || !strings.Contains(st.Message, "busy-presync"); st, _ = c.Get(ctx, "busy") {
			if time.Now().After(deadline) {
				t.Fatalf("busy's sync is not waiting for its hook: %+v", st)
			}
			time.Sleep(200 * time.Millisecond)
		}
		out, err := c.SyncApp(ctx, "busy", "")
		if !errors.Is(err, argoapi.ErrOperationInProgress) || !strings.Contains(err.Error(), "a sync to "+head[:7]+" by daytwo, started ") {
			t.Errorf("SyncApp during another sync: %v (%+v)", err, out)
		}
		_, err = raw(t, w.ArgoCDToken).Sync(ctx, &application.ApplicationSyncRequest{Name: ptr("busy")})
		if st := status.Convert(err); st.Code() != codes.FailedPrecondition || st.Message() != "another operation is already in progress" {
			t.Errorf("argocd-server's answer: %v %q", st.Code(), st.Message())
		}
	})
	fmt.Fprintf(os.Stdout, "\n| /sync on the real Argo CD | time |\n| --- | --- |\n%s\n", strings.Join(timings, "\n"))
}

// askAs writes a command as author in a new issue, delivers it, and waits until daytwo has
// answered and followed what it asked of Argo CD; it returns the issue and the status.
func (w *world) askAs(t *testing.T, author, line string) (int, string) {
	t.Helper()
	n := w.repo.CreateIssue(author, "day-2", "")
	id := w.repo.AddComment(n, author, line)
	w.app.Send(t, "issue_comment", w.repo.IssueCommentPayload(id))
	w.app.Quiet(t)
	w.app.Runner.WaitRollouts()
	return n, w.status(n)
}

// mark is the state the status comment on issue n gives its request.
func (w *world) mark(t *testing.T, n int) string {
	t.Helper()
	m, ok := githubapi.ParseStatusMark(w.status(n))
	if !ok {
		t.Fatalf("no status on #%d", n)
	}
	return m.State
}

func argoClient(t *testing.T, addr, token string) *argoapi.Client {
	t.Helper()
	c, err := argoapi.New(argoapi.Options{Server: addr, Token: token, PlainText: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ptr[T any](v T) *T { return &v }

// served waits until the git daemon serves rev on main: the mirror pushes within
// milliseconds of a commit.
func (w *world) served(t *testing.T, rev string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("git", "--git-dir", w.GitDir, "rev-parse", "main").Output()
		if strings.TrimSpace(string(out)) == rev {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the git daemon does not serve %s on main (it has %s)", rev, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// operation identifies the app's last operation and how many syncs its history holds,
// read from the API server rather than through Argo CD.
func (w *world) operation(t *testing.T, app string) string {
	t.Helper()
	u, err := w.dyn.Resource(appGVR).Namespace("argocd").Get(context.Background(), app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	started, _, _ := unstructured.NestedString(u.Object, "status", "operationState", "startedAt")
	history, _, _ := unstructured.NestedSlice(u.Object, "status", "history")
	return fmt.Sprintf("started %s, %d in history", started, len(history))
}

// createApp creates an Application without automated sync of path, into namespace.
func (w *world) createApp(t *testing.T, name, path, namespace string) {
	t.Helper()
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": name, "namespace": "argocd"},
		"spec": map[string]any{
			"project":     "default",
			"source":      map[string]any{"repoURL": w.GitURL, "targetRevision": "main", "path": path},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": namespace},
		},
	}}
	if _, err := w.dyn.Resource(appGVR).Namespace("argocd").Create(context.Background(), app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
