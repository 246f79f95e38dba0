package ops_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// withoutDescription is a pull_request or pull_request_review payload whose pull request
// description a person replaced: nothing of daytwo's is left in it.
func withoutDescription(t *testing.T, payload []byte) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	ev["pull_request"].(map[string]any)["body"] = "Rewritten by a person."
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// What a pull request carries, where its askers wait and which environment it changes
// are read from its commits' trailers, never from its description: a review and a merge
// of a pull request whose description was rewritten are followed as any other.
func TestPullRequestEventsReadTheCommits(t *testing.T) {
	w := newWorld(t)
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	cfg = strings.Replace(cfg, "    promoteConfig: true", "    promoteConfig: true\n    autoMerge: true\n    requireApproval: true", 1)
	w.repo.Commit("main", "staging auto-merges after approval", map[string]string{".github/daytwo.yml": cfg})
	w.repo.Protect("main", githubtest.Protection{RequiredApprovals: 1, RequiredChecks: []string{"daytwo/render"}})
	w.repo.SetPermission("checkout-team-lead", githubtest.RoleWrite)

	a := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	b := w.ask(t, "sam", "/config set X=1 --service checkout --env staging")
	pr := w.openFor(t, "daytwo/staging/checkout/")
	review := w.repo.SubmitReview(pr.Number, "checkout-team-lead", "APPROVED", "lgtm")
	w.Send(t, "pull_request_review", withoutDescription(t, w.repo.ReviewSubmittedPayload(pr.Number, review)))
	w.Quiet(t)
	if merged, _ := w.repo.Pull(pr.Number); !merged.Merged {
		t.Fatalf("the approved PR in an auto-merging environment did not merge:\n%s", w.status(t, a))
	}
	for _, n := range []int{a, b} {
		if m := w.mark(t, n); m.State != "merged" || !strings.Contains(w.status(t, n), "Approved by @checkout-team-lead") {
			t.Errorf("#%d after the approval: %+v\n%s", n, m, w.status(t, n))
		}
	}

	// A person merges the next one, and its description says nothing of daytwo's either.
	c := w.ask(t, "alice", "/restart --service catalog --env staging")
	d := w.ask(t, "sam", "/scale 3 --service catalog --env staging")
	pr = w.openFor(t, "daytwo/staging/catalog/")
	w.repo.SetPermission("catalog-team-lead", githubtest.RoleWrite)
	w.repo.SubmitReview(pr.Number, "catalog-team-lead", "APPROVED", "") // not delivered: daytwo does not merge it
	w.repo.MergeAs(pr.Number, "squash", "catalog-team-lead")
	w.Send(t, "pull_request", withoutDescription(t, w.repo.PullClosedPayload(pr.Number)))
	w.Quiet(t)
	for _, n := range []int{c, d} {
		if m := w.mark(t, n); m.State != "merged" || m.PR != pr.Number {
			t.Errorf("#%d after the merge: %+v\n%s", n, m, w.status(t, n))
		}
	}
	if len(w.daytwoBranches()) != 0 {
		t.Errorf("the merged branches stayed: %v", w.daytwoBranches())
	}
}
