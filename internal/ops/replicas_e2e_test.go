package ops_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/coord/redistest"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// Two replicas on one Redis: the same comment delivered to both, under one delivery id and
// under new ones, at once, is one request (one status, one commit); requests for one
// target from both replicas end in one PR.
func TestTwoReplicasOnRedis(t *testing.T) {
	rs := redistest.Start(t)
	w := seedWorld(t, apptest.StartWithEnv(t, clock, map[string]string{"DAYTWO_REDIS_URL": rs.URL()}))
	other := w.Replica(t)
	apps := []*apptest.App{w.App, other}

	n := w.repo.CreateIssue("alice", "x", "")
	id := w.repo.AddComment(n, "alice", "/scale 4 --service checkout --env staging")
	payload := w.repo.IssueCommentPayload(id)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			delivery := "same-delivery"
			if i%2 == 0 {
				delivery = githubtest.NewDeliveryID()
			}
			apps[i%2].SendWithDelivery(t, "issue_comment", delivery, payload)
		}()
	}
	// Requests for the same target from other threads, through both replicas.
	var asks []int
	for i, cmd := range []string{"/config set A=1", "/config set B=2", "/set-image 1.8.0"} {
		m := w.repo.CreateIssue("sam", "y", "")
		asks = append(asks, m)
		c := w.repo.AddComment(m, "sam", cmd+" --service checkout --env staging")
		wg.Add(1)
		go func() { defer wg.Done(); apps[i%2].Send(t, "issue_comment", w.repo.IssueCommentPayload(c)) }()
	}
	wg.Wait()
	w.Quiet(t)
	other.Quiet(t)

	if m := w.mark(t, n); m.State != "open" { // w.mark requires exactly one status comment
		t.Fatalf("status %+v", m)
	}
	pr := w.openFor(t, "daytwo/staging/checkout/")
	kust, _ := w.repo.File(pr.Head, "apps/checkout/overlays/staging/kustomization.yaml")
	for _, want := range []string{"count: 4", "A=1", "B=2", "newTag: 1.8.0"} {
		if !strings.Contains(kust, want) {
			t.Errorf("the PR lacks %q:\n%s", want, kust)
		}
	}
	if got := len(w.repo.History(pr.Head)) - len(w.repo.History("main")); got != 4 {
		t.Errorf("%d commits on the branch, want 4 (one per request)", got)
	}
	for _, m := range asks {
		if st := w.mark(t, m); st.State != githubapi.StateOpen || st.PR != pr.Number {
			t.Errorf("#%d: %+v", m, st)
		}
	}
}
