//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/incident"
)

// TestIncidentFromAPersonsMerge: a broken image pushed to the GitOps repository's default
// branch by a person, not through daytwo, on an app with automated sync. Argo CD deploys
// it, the pods never become ready, the Deployment's progress deadline passes and Argo CD
// reports the app Degraded; daytwo's leader opens the incident issue. A /rollback replied
// in the issue (no --service or --env: its labels name the target) is merged, the cluster
// is healthy again, and the issue gets the duration and is closed.
func TestIncidentFromAPersonsMerge(t *testing.T) {
	w := newWorldWith(t, map[string]string{"DAYTWO_INCIDENTS_GRACE": "5s", "DAYTWO_INCIDENTS_SETTLE": "5s"})
	w.application(t, "checkout", "dev", true)
	w.deployment(t, "checkout-dev", "checkout", ready(1))
	var timings []string

	// A day-2 change daytwo made, which a rollback undoes.
	if _, st := w.ask(t, "/set-image 1.9.0 --service checkout --env dev"); !strings.Contains(st, "checkout-dev is Healthy") {
		t.Fatalf("status:\n%s", st)
	}

	// A person pushes a broken image to main.
	kust, _ := w.repo.File("main", "apps/checkout/overlays/dev/kustomization.yaml")
	broken := strings.Replace(kust, "newTag: 1.9.0", "newTag: broken", 1)
	if broken == kust {
		t.Fatalf("checkout's dev overlay does not run 1.9.0:\n%s", kust)
	}
	start := time.Now()
	w.repo.CommitAt(time.Now(), "main", "checkout dev: try the broken build", map[string]string{"apps/checkout/overlays/dev/kustomization.yaml": broken})
	w.deployment(t, "checkout-dev", "checkout", func(d *appsv1.Deployment) bool {
		return d.Spec.Template.Spec.Containers[0].Image == BrokenImage
	})

	// Argo CD reports Degraded once the progress deadline (10 s) has passed.
	var is githubtest.Issue
	waitUntil(t, "the incident issue saying Degraded", 4*time.Minute, func() bool {
		for n := 1; n < 100; n++ {
			if got, ok := w.repo.Issue(n); ok && got.State == "open" && strings.Contains(strings.Join(got.Labels, ","), "incident") && strings.Contains(got.Body, "health **Degraded**") {
				is = got
				return true
			}
		}
		return false
	})
	timings = append(timings, fmt.Sprintf("| a person's broken push → incident issue (grace 5s) | %s |", time.Since(start).Round(time.Second)))
	if got := strings.Join(is.Labels, ","); got != "daytwo,incident,service/checkout,env/dev" {
		t.Errorf("labels %q", got)
	}
	for _, want := range []string{"`checkout-dev/Deployment/checkout`", "progress deadline", "checkout dev: try the broken build — **likely cause**",
		"`/set-image 1.9.0 --service checkout --env dev` by `alice`", "`/rollback`", incident.Mark("checkout", "dev", "checkout-dev")} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("the issue lacks %q:\n%s", want, is.Body)
		}
	}

	// /rollback replied in the issue.
	start = time.Now()
	id := w.repo.AddComment(is.Number, "alice", "/rollback")
	w.app.Send(t, "issue_comment", w.repo.IssueCommentPayload(id))
	w.app.Quiet(t)
	w.app.Runner.WaitRollouts()
	w.deployment(t, "checkout-dev", "checkout", func(d *appsv1.Deployment) bool {
		return d.Spec.Template.Spec.Containers[0].Image == "ghcr.io/acme/checkout:1.8.0" && d.Status.ReadyReplicas == *d.Spec.Replicas && d.Status.UpdatedReplicas == *d.Spec.Replicas
	})
	var merged bool
	for _, p := range w.repo.Pulls() {
		merged = merged || p.Merged && strings.HasPrefix(p.Head, "daytwo/dev/checkout/rollback-")
	}
	if !merged {
		t.Errorf("no merged rollback PR for checkout in dev:\n%s", w.status(is.Number))
	}
	waitUntil(t, "the incident over", 2*time.Minute, func() bool {
		got, _ := w.repo.Issue(is.Number)
		if got.State != "closed" {
			return false
		}
		for _, c := range w.repo.Comments(is.Number) {
			if c.User == w.app.GH.BotLogin() && strings.Contains(c.Body, "The incident lasted") {
				return true
			}
		}
		return false
	})
	timings = append(timings, fmt.Sprintf("| /rollback in the issue → healthy → issue closed with the duration (settle 5s) | %s |", time.Since(start).Round(time.Second)))
	fmt.Fprintf(os.Stdout, "\n| path | time |\n| --- | --- |\n%s\n", strings.Join(timings, "\n"))
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
