package ops_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

var clock = func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

type world struct {
	*apptest.App
	repo *githubtest.Repo
}

// newWorld is the example GitOps repo on the test GitHub with daytwo installed, and people:
// alice (write), mo (maintain), sam (write, member of acme/sre), rita (read).
func newWorld(t *testing.T, opts ...apptest.Option) *world {
	t.Helper()
	a := apptest.Start(t, clock, opts...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daytwo's log:\n%s", a.Logs.String())
		}
	})
	repo := a.GH.CreateRepo("acme", "gitops")
	repo.SeedDir(repo.DefaultBranch(), "../../examples/gitops")
	a.GH.Install("acme")
	repo.SetPermission("alice", githubtest.RoleWrite)
	repo.SetPermission("mo", githubtest.RoleMaintain)
	repo.SetPermission("sam", githubtest.RoleWrite)
	repo.SetPermission("rita", githubtest.RoleRead)
	a.GH.AddTeamMember("acme", "sre", "sam", "member", "active")
	for _, team := range []string{"platform", "checkout-team", "catalog-team", "payments-team"} {
		a.GH.AddTeamMember("acme", team, team+"-lead", "maintainer", "active")
	}
	return &world{App: a, repo: repo}
}

// ask writes body as a comment of author on a new issue, delivers it, and waits until
// daytwo has finished with it. It returns the issue number.
func (w *world) ask(t *testing.T, author, body string) int {
	t.Helper()
	n := w.repo.CreateIssue(author, "day-2 request", "")
	w.comment(t, n, author, body)
	return n
}

func (w *world) comment(t *testing.T, n int, author, body string) int64 {
	t.Helper()
	id := w.repo.AddComment(n, author, body)
	w.Send(t, "issue_comment", w.repo.IssueCommentPayload(id))
	w.Quiet(t)
	return id
}

// status is daytwo's status comment on issue n (the one bot comment there).
func (w *world) status(t *testing.T, n int) string {
	t.Helper()
	var bodies []string
	for _, c := range w.repo.Comments(n) {
		if c.User == w.GH.BotLogin() {
			bodies = append(bodies, c.Body)
		}
	}
	if len(bodies) != 1 {
		t.Fatalf("want one status comment on #%d, got %d: %q", n, len(bodies), bodies)
	}
	return bodies[0]
}

func (w *world) daytwoBranches() []string {
	var out []string
	for _, b := range w.repo.Branches() {
		if strings.HasPrefix(b, "daytwo/") {
			out = append(out, b)
		}
	}
	return out
}

func (w *world) openPulls() []githubtest.Pull {
	var out []githubtest.Pull
	for _, p := range w.repo.Pulls() {
		if p.State == "open" {
			out = append(out, p)
		}
	}
	return out
}

func TestScaleFromIssueCommentOpensReviewedPR(t *testing.T) {
	w := newWorld(t)
	n := w.ask(t, "alice", "Black Friday is coming.\n\n/scale 5 --service checkout --env staging\n")

	pulls := w.openPulls()
	if len(pulls) != 1 {
		t.Fatalf("want one open PR, got %+v", pulls)
	}
	pr := pulls[0]
	if pr.Title != "checkout/staging: scale to 5 replicas" || !strings.HasPrefix(pr.Head, "daytwo/staging/checkout/scale-") || pr.Base != "main" {
		t.Fatalf("PR %q from %s into %s", pr.Title, pr.Head, pr.Base)
	}
	for _, want := range []string{"@alice", "/scale 5 --service checkout --env staging", "<!-- daytwo: "} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("PR body lacks %q", want)
		}
	}
	if got := strings.Join(pr.Labels, ","); got != "daytwo,env/staging,action/scale" {
		t.Errorf("labels %s", got)
	}
	if got := strings.Join(pr.RequestedTeams, ","); got != "checkout-team" {
		t.Errorf("requested teams %q, want the code owners of apps/checkout/", got)
	}
	kust, _ := w.repo.File(pr.Head, "apps/checkout/overlays/staging/kustomization.yaml")
	if !strings.Contains(kust, "count: 5") {
		t.Fatalf("branch kustomization:\n%s", kust)
	}
	files := w.repo.Files(pr.Head)
	base := w.repo.Files("main")
	for p, c := range base {
		if p != "apps/checkout/overlays/staging/kustomization.yaml" && files[p] != c {
			t.Errorf("%s changed on the branch", p)
		}
	}
	if runs := w.repo.CheckRuns(pr.HeadSHA); len(runs) != 1 || runs[0].Name != "daytwo/render" || runs[0].Conclusion != "success" {
		t.Errorf("check runs on head: %+v", runs)
	}
	st := w.status(t, n)
	if !strings.Contains(st, "/pull/"+strconv.Itoa(pr.Number)) || !strings.Contains(st, "waiting for approval from @acme/checkout-team") {
		t.Errorf("status comment:\n%s", st)
	}
	if rs := w.repo.Comments(n)[0].Reactions; len(rs) != 1 || rs[0].Content != "eyes" {
		t.Errorf("reactions %+v", rs)
	}
	if pr.Merged {
		t.Error("staging requires approval; the PR must wait")
	}
}

func TestDevAutoMerges(t *testing.T) {
	w := newWorld(t)
	n := w.ask(t, "alice", "/set-image 1.9.0 --service checkout --env dev")
	pulls := w.repo.Pulls()
	if len(pulls) != 1 || !pulls[0].Merged {
		t.Fatalf("want one merged PR, got %+v", pulls)
	}
	kust, _ := w.repo.File("main", "apps/checkout/overlays/dev/kustomization.yaml")
	if !strings.Contains(kust, "newTag: 1.9.0") {
		t.Fatalf("main after merge:\n%s", kust)
	}
	if st := w.status(t, n); !strings.Contains(st, "merged by daytwo") {
		t.Fatalf("status:\n%s", st)
	}
}

func TestPolicyRefusals(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		who, cmd, want string
	}{
		{"alice", "/restart --service checkout --env prod", "maintain permission"},
		{"rita", "/scale 2 --service checkout --env staging", "write permission on acme/gitops; you have read permission"},
		{"mo", "/scale 3 --service checkout --env prod", "membership of @acme/sre"},
		{"stranger", "/restart --service checkout --env dev", "you have no access"},
		{"mo", "/restart --service checkout --env prod --break-glass", "`--break-glass` in prod is for people with membership of @acme/sre"},
	}
	for _, tc := range cases {
		n := w.ask(t, tc.who, tc.cmd)
		if st := w.status(t, n); !strings.Contains(st, tc.want) || !strings.Contains(st, "❌") {
			t.Errorf("%s %q: status\n%s\nwant %q", tc.who, tc.cmd, st, tc.want)
		}
	}
	if b := w.daytwoBranches(); len(b) != 0 || len(w.repo.Pulls()) != 0 {
		t.Fatalf("refused requests left branches %v or PRs", b)
	}
	// Those who qualify get their PR.
	w.ask(t, "mo", "/restart --service checkout --env prod")
	w.ask(t, "sam", "/scale 3 --service catalog --env prod")
	if got := len(w.openPulls()); got != 2 {
		t.Fatalf("want 2 PRs for qualified requesters, got %d", got)
	}
}

func TestDryRunRepliesWithPlanOnly(t *testing.T) {
	w := newWorld(t)
	n := w.ask(t, "alice", "/scale 4 --service checkout --env staging --dry-run")
	st := w.status(t, n)
	for _, want := range []string{"Dry run", "checkout/staging: scale to 4 replicas", "count: 4", "Rendered"} {
		if !strings.Contains(st, want) {
			t.Errorf("dry-run status lacks %q:\n%s", want, st)
		}
	}
	if len(w.daytwoBranches()) != 0 || len(w.repo.Pulls()) != 0 {
		t.Fatal("a dry run wrote a branch or a PR")
	}
}

func TestRedeliveryAndRepeatMakeOnePR(t *testing.T) {
	w := newWorld(t)
	n := w.repo.CreateIssue("alice", "scale", "")
	id := w.repo.AddComment(n, "alice", "/scale 4 --service checkout --env staging")
	payload := w.repo.IssueCommentPayload(id)
	w.SendWithDelivery(t, "issue_comment", "delivery-1", payload)
	w.SendWithDelivery(t, "issue_comment", "delivery-1", payload) // replay
	w.Quiet(t)
	w.Send(t, "issue_comment", payload) // a redelivery under a new id
	w.Quiet(t)
	w.comment(t, n, "alice", "/scale 4 --service checkout --env staging") // asked again
	if got := len(w.repo.Pulls()); got != 1 {
		t.Fatalf("want one PR, got %d", got)
	}
	if b := w.daytwoBranches(); len(b) != 1 {
		t.Fatalf("branches %v", b)
	}
	if pr := w.repo.Pulls()[0]; len(w.repo.History(pr.Head)) != len(w.repo.History("main"))+1 {
		t.Fatal("the branch must hold one commit on top of main")
	}
}

func TestSecondRequestStacksOnOpenPR(t *testing.T) {
	w := newWorld(t)
	first := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	second := w.ask(t, "alice", "/set-image 1.8.0 --service checkout --env staging")
	open := w.openPulls()
	if len(open) != 1 {
		t.Fatalf("want one open PR per target, got %d", len(open))
	}
	kust, _ := w.repo.File(open[0].Head, "apps/checkout/overlays/staging/kustomization.yaml")
	if !strings.Contains(kust, "count: 4") || !strings.Contains(kust, "newTag: 1.8.0") {
		t.Fatalf("the stacked PR must carry both changes:\n%s", kust)
	}
	if st := w.status(t, first); !strings.Contains(st, "Superseded by") {
		t.Fatalf("first status:\n%s", st)
	}
	if st := w.status(t, second); !strings.Contains(st, "/pull/"+strconv.Itoa(open[0].Number)) {
		t.Fatalf("second status:\n%s", st)
	}
	if b := w.daytwoBranches(); len(b) != 1 {
		t.Fatalf("the superseded branch must be deleted: %v", b)
	}
}

func TestCancelClosesPRAndDeletesBranch(t *testing.T) {
	w := newWorld(t)
	n := w.ask(t, "alice", "/restart --service catalog --env staging")
	if len(w.openPulls()) != 1 {
		t.Fatal("no PR to cancel")
	}
	w.comment(t, n, "rita", "/cancel")
	if len(w.openPulls()) != 1 {
		t.Fatal("someone who may not cancel closed the PR")
	}
	w.comment(t, n, "alice", "/cancel")
	if len(w.openPulls()) != 0 || len(w.daytwoBranches()) != 0 {
		t.Fatalf("after /cancel: open %d, branches %v", len(w.openPulls()), w.daytwoBranches())
	}
	var cancelled bool
	for _, c := range w.repo.Comments(n) {
		if c.User == w.GH.BotLogin() && strings.Contains(c.Body, "Cancelled #") {
			cancelled = true
		}
	}
	if !cancelled {
		t.Fatal("no status comment reports the cancellation")
	}
}

func TestMergedAndClosedPRsAreReported(t *testing.T) {
	w := newWorld(t)
	merged := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	closed := w.ask(t, "alice", "/restart --service catalog --env staging")
	var mergedPR, closedPR githubtest.Pull
	for _, p := range w.openPulls() {
		if strings.Contains(p.Head, "/checkout/") {
			mergedPR = p
		} else {
			closedPR = p
		}
	}
	w.repo.SubmitReview(mergedPR.Number, "checkout-team-lead", "APPROVED", "ok")
	w.repo.Merge(mergedPR.Number, "squash")
	w.Send(t, "pull_request", w.repo.PullClosedPayload(mergedPR.Number))
	w.Quiet(t)
	if st := w.status(t, merged); !strings.Contains(st, "merged by @") || !strings.Contains(st, "Argo CD") {
		t.Fatalf("merged status:\n%s", st)
	}
	w.repo.ClosePull(closedPR.Number, "catalog-team-lead")
	w.Send(t, "pull_request", w.repo.PullClosedPayload(closedPR.Number))
	w.Quiet(t)
	if st := w.status(t, closed); !strings.Contains(st, "closed without merging") {
		t.Fatalf("closed status:\n%s", st)
	}
	if is, _ := w.repo.Issue(closed); is.State != "open" {
		t.Fatal("the asking issue must stay open when its PR is closed unmerged")
	}
}
