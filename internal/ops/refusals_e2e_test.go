package ops_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

var (
	attemptRE = regexp.MustCompile(`"(request|attempt)":"[^"]*"`)
	shaRE     = regexp.MustCompile("`[0-9a-f]{7}`")
)

// shown is the status comment on issue n as a golden file holds it: the test server's
// address, the merge commit and the ids that change from run to run replaced.
func (w *world) shown(t *testing.T, n int) string {
	t.Helper()
	st := w.status(t, n)
	st = strings.ReplaceAll(st, w.GH.URL(), "https://github.test")
	st = attemptRE.ReplaceAllString(st, `"$1":"…"`)
	return shaRE.ReplaceAllString(st, "`<sha>`")
}

// golden compares the status comment on issue n with testdata/status/<name>.md, and
// checks it is safe Markdown that mentions no one but mentions.
func (w *world) golden(t *testing.T, name string, n int, mentions ...string) {
	t.Helper()
	st := w.shown(t, n)
	mdtest.Golden(t, filepath.Join("testdata", "status", name+".md"), st, *update)
	mdtest.Policy{Mentions: mentions, Comments: true}.AssertSafe(t, st)
}

// A code owner team without access to the GitOps repository: GitHub refuses to ask it to
// review (422). The pull request stays open, the status says the review was not requested,
// why and what to do, and waits for approval without naming, or mentioning, the team.
func TestStatusWhenGitHubRefusesTheReviewRequest(t *testing.T) {
	w := newWorld(t)
	w.repo.SetTeamPermission("catalog-team", "")
	n := w.ask(t, "alice", "/scale 3 --service catalog --env staging")
	pr := w.openFor(t, "daytwo/staging/catalog/")
	if len(pr.RequestedTeams)+len(pr.RequestedReviewers) != 0 {
		t.Errorf("requested %v %v", pr.RequestedReviewers, pr.RequestedTeams)
	}
	if m := w.mark(t, n); m.State != githubapi.StateOpen || m.PR != pr.Number {
		t.Errorf("mark %+v", m)
	}
	w.golden(t, "review-refused", n, "alice")

	// In prod the SRE team reviews too: the status waits for it, and says who was not asked.
	n = w.ask(t, "sam", "/scale 3 --service catalog --env prod")
	pr = w.openFor(t, "daytwo/prod/catalog/")
	if strings.Join(pr.RequestedTeams, ",") != "sre" {
		t.Errorf("requested teams %v", pr.RequestedTeams)
	}
	w.golden(t, "review-partly-refused", n, "sam", "acme/sre")
	for _, p := range w.repo.Pulls() {
		if strings.Contains(p.Body, "catalog-team") {
			t.Errorf("PR #%d claims the team:\n%s", p.Number, p.Body)
		}
	}
}

// GitHub refuses the labels of a new pull request (a label name is at most 50 characters,
// and this environment's name is longer): the pull request is withdrawn, and the status
// says so, why, and what to do.
func TestStatusWhenGitHubRefusesTheLabels(t *testing.T) {
	w := newWorld(t)
	const env = "performance-testing-for-black-friday-in-eu-west-1"
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	cfg = strings.Replace(cfg, "  - name: staging\n", "  - name: "+env+"\n    autoMerge: true\n\n  - name: staging\n", 1)
	kust, _ := w.repo.File("main", "apps/checkout/overlays/dev/kustomization.yaml")
	w.repo.Commit("main", "an environment for load tests", map[string]string{
		".github/daytwo.yml": cfg, "apps/checkout/overlays/" + env + "/kustomization.yaml": kust,
	})
	n := w.ask(t, "alice", "/restart --service checkout --env "+env)
	if len(w.openPulls()) != 0 || len(w.daytwoBranches()) != 0 {
		t.Fatalf("a pull request without its labels stayed: %v", w.daytwoBranches())
	}
	if m := w.mark(t, n); m.State != githubapi.StateFailed {
		t.Errorf("mark %+v", m)
	}
	w.golden(t, "labels-refused", n, "alice")

	// Labels refused on a pull request that carries other requests: it stays, and the
	// status says which label is missing.
	w.ask(t, "alice", "/set-image 1.9.0 --service catalog --env dev") // the label action/set-image exists now
	w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	w.GH.FailGraphQLField("addLabelsToLabelable", "FORBIDDEN", "Resource not accessible by integration", 0)
	n = w.ask(t, "sam", "/set-image 1.8.0 --service checkout --env staging")
	if pr := w.openFor(t, "daytwo/staging/checkout/"); strings.Contains(strings.Join(pr.Labels, ","), "action/set-image") {
		t.Errorf("labels %v", pr.Labels)
	}
	w.golden(t, "labels-refused-stack", n, "sam", "acme/checkout-team")
}

// The installation was not granted checks (write): the render check is refused (403). The
// pull request stays open; the status says the check is missing and who can grant it.
func TestStatusWhenGitHubRefusesTheCheckRun(t *testing.T) {
	w := newWorld(t)
	w.GH.SetInstallationPermission("acme", "checks", "none")
	n := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	pr := w.openFor(t, "daytwo/staging/checkout/")
	if runs := w.repo.CheckRuns(pr.HeadSHA); len(runs) != 0 {
		t.Errorf("check runs %+v", runs)
	}
	w.golden(t, "check-refused", n, "alice", "acme/checkout-team")
}

// The repository allows no squash merges: daytwo's merge in an auto-merging environment is
// refused (405), and the status says so and what to do, never that it merged.
func TestStatusWhenGitHubRefusesTheMerge(t *testing.T) {
	w := newWorld(t)
	w.repo.AllowMergeMethods("merge", "rebase")
	n := w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev")
	if pr := w.openFor(t, "daytwo/dev/checkout/"); pr.Merged {
		t.Fatal("merged")
	}
	if m := w.mark(t, n); m.State != githubapi.StateOpen {
		t.Errorf("mark %+v", m)
	}
	w.golden(t, "merge-refused", n, "alice")
}

// Why a change was merged is said as it is: --break-glass in a frozen prod that does not
// auto-merge; a person's merge; the environment's auto-merge after approval.
func TestStatusSaysWhyTheChangeWasMerged(t *testing.T) {
	w := newWorld(t)
	freezeProd(t, w)
	n := w.ask(t, "sam", "/restart --service checkout --env prod --break-glass")
	if p := w.repo.Pulls(); len(p) != 1 || !p[0].Merged {
		t.Fatalf("pulls %+v", p)
	}
	w.golden(t, "merged-break-glass", n, "sam", "acme/checkout-team", "acme/sre")

	// A person approves and merges a change of staging, which does not auto-merge.
	n = w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	pr := w.openFor(t, "daytwo/staging/checkout/")
	review := w.repo.SubmitReview(pr.Number, "checkout-team-lead", "APPROVED", "ok")
	w.Send(t, "pull_request_review", w.repo.ReviewSubmittedPayload(pr.Number, review))
	w.Quiet(t)
	if p, _ := w.repo.Pull(pr.Number); p.Merged {
		t.Fatal("staging does not auto-merge")
	}
	if st := w.status(t, n); !strings.Contains(st, "— waiting for someone to merge it.") {
		t.Errorf("after the approval:\n%s", st)
	}
	w.repo.MergeAs(pr.Number, "squash", "checkout-team-lead")
	w.Send(t, "pull_request", w.repo.PullClosedPayload(pr.Number))
	w.Quiet(t)
	w.golden(t, "merged-by-a-person", n, "alice", "acme/checkout-team", "checkout-team-lead")
}

// Issues are off in the GitOps repository: the break-glass review issue is refused (410).
// The change is merged all the same; the status says the issue is missing.
func TestStatusWhenTheBreakGlassIssueIsRefused(t *testing.T) {
	w := newWorld(t)
	freezeProd(t, w)
	w.repo.DisableIssues()
	w.repo.Commit("hotfix", "notes", map[string]string{"NOTES.md": "incident\n"})
	n := w.repo.OpenPull("sam", "hotfix", "main", "Incident notes", "")
	w.comment(t, n, "sam", "/restart --service checkout --env prod --break-glass")
	var merged bool
	for _, p := range w.repo.Pulls() {
		merged = merged || strings.HasPrefix(p.Head, "daytwo/prod/checkout/") && p.Merged
	}
	if !merged {
		t.Fatalf("not merged:\n%s", w.status(t, n))
	}
	w.golden(t, "break-glass-issue-refused", n, "sam", "acme/checkout-team", "acme/sre")
}

func freezeProd(t *testing.T, w *world) {
	t.Helper()
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	frozen, err := repoconfig.SetFreeze([]byte(cfg), "prod", &repoconfig.Freeze{Reason: "release week", By: "mo", Since: clock()})
	if err != nil {
		t.Fatal(err)
	}
	w.repo.Commit("main", "freeze prod", map[string]string{".github/daytwo.yml": string(frozen)})
}

// Without checks (write), the rollout's check on the merge commit is refused too: the
// rollout's report says it is missing, after what it says of the rollout.
func TestRolloutReportSaysTheCheckIsMissing(t *testing.T) {
	w := newArgoWorld(t)
	w.GH.SetInstallationPermission("acme", "checks", "none")
	n := w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev")
	st := w.rolloutStatus(t, n)
	healthy := strings.Index(st, "checkout-dev is Healthy")
	missing := strings.Index(st, "⚠️ The `daytwo/rollout` check was not published on the merge commit: GitHub answered “Resource not accessible by integration”. For it, an owner of acme must grant daytwo the Checks (write) permission")
	if healthy < 0 || missing < healthy || !strings.Contains(st, "⚠️ The `daytwo/render` check was not published") || !strings.Contains(st, "Rolled out.") {
		t.Fatalf("status:\n%s", st)
	}
	if runs := w.rolloutChecks(w.mergedPull(t).MergeCommitSHA); len(runs) != 0 {
		t.Errorf("checks %+v", runs)
	}
	mdtest.Policy{Mentions: []string{"alice"}, Comments: true}.AssertSafe(t, st)
}
