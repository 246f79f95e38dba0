package ops_test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

var clock = func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

type world struct {
	*apptest.App
	repo *githubtest.Repo
}

// newWorld is the example GitOps repo on the test GitHub with daytwo installed, and people:
// alice (write), mo (maintain), sam (write, member of acme/sre), rita (read).
func newWorld(t testing.TB, opts ...apptest.Option) *world {
	t.Helper()
	return seedWorld(t, apptest.Start(t, clock, opts...))
}

// seedWorld puts the example GitOps repository and its people on a started app's GitHub.
func seedWorld(t testing.TB, a *apptest.App) *world {
	t.Helper()
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
	// The code owners' teams can review: GitHub asks only teams with access to the repository.
	for _, team := range []string{"platform", "sre", "checkout-team", "catalog-team", "payments-team"} {
		repo.SetTeamPermission(team, githubtest.RoleWrite)
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

// mark is the state of the request on issue n, from its status comment's hidden mark.
func (w *world) mark(t *testing.T, n int) githubapi.StatusMark {
	t.Helper()
	m, ok := githubapi.ParseStatusMark(w.status(t, n))
	if !ok {
		t.Fatalf("the status comment on #%d has no mark:\n%s", n, w.status(t, n))
	}
	return m
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

	if c, ok := w.repo.GetCommit(pr.HeadSHA); !ok || c.Author.Name != w.GH.BotLogin() || c.Committer.Name != "GitHub" || len(c.Parents) != 1 {
		t.Errorf("the change must be one commit by the app, signed by GitHub: %+v", c)
	}

	// The requests of a mutating command. The labels did not exist yet, so GitHub's REST
	// endpoint, which creates them, was used for them this once.
	want := []string{
		"POST /api/graphql daytwoAck", "POST /api/graphql daytwoDefaultBranch",
		"GET /repos/acme/gitops/collaborators/alice/permission", "POST /api/graphql daytwoPrefetch",
		"POST /api/graphql daytwoChange", "POST /api/graphql daytwoFinish", "POST /repos/acme/gitops/issues/2/labels",
	}
	assertRequests(t, w, want)

	// With the labels in place a command costs six requests.
	for _, p := range w.openPulls() {
		w.repo.ClosePull(p.Number, "alice")
	}
	w.GH.ResetLog()
	w.ask(t, "alice", "/scale 6 --service checkout --env staging")
	assertRequests(t, w, want[:6])
}

// assertRequests compares the logged requests (without token exchanges) with want, in any order.
func assertRequests(t *testing.T, w *world, want []string) {
	t.Helper()
	var got []string
	// The fake logs a request just after answering it: wait for the log to catch up.
	apptest.Eventually(t, "the request log", func() bool {
		got = got[:0]
		for _, r := range w.GH.Requests() {
			if strings.HasSuffix(r.Path, "/access_tokens") {
				continue
			}
			line := r.Method + " " + r.Path
			if r.Operation != "" {
				line += " " + r.Operation
			}
			got = append(got, line)
		}
		return len(got) >= len(want)
	})
	sort.Strings(got)
	w2 := append([]string(nil), want...)
	sort.Strings(w2)
	if strings.Join(got, "\n") != strings.Join(w2, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(w2, "\n"))
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
	if st := w.status(t, n); !strings.Contains(st, "merged by daytwo") || !strings.Contains(st, "(the environment auto-merges)") {
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
	// Both requests are in the one PR, and each asker is told so.
	for _, n := range []int{first, second} {
		if m := w.mark(t, n); m.State != "open" || m.PR != open[0].Number {
			t.Errorf("status of #%d: %+v\n%s", n, m, w.status(t, n))
		}
	}
	if st := w.status(t, second); !strings.Contains(st, "Added to") {
		t.Fatalf("second status:\n%s", st)
	}
	if b := w.daytwoBranches(); len(b) != 1 || b[0] != open[0].Head {
		t.Fatalf("one branch, the PR's: %v", b)
	}
	if !strings.Contains(open[0].Title, "2 changes") || !strings.Contains(open[0].Body, "/set-image 1.8.0") || !strings.Contains(open[0].Body, "/scale 4") {
		t.Fatalf("the PR must say it carries both requests: %q\n%s", open[0].Title, open[0].Body)
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

func TestFrozenEnvAndBreakGlass(t *testing.T) {
	w := newWorld(t)
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	frozen, err := repoconfig.SetFreeze([]byte(cfg), "prod", &repoconfig.Freeze{Reason: "release week", By: "mo", Since: clock()})
	if err != nil {
		t.Fatal(err)
	}
	w.repo.Commit("main", "freeze prod", map[string]string{".github/daytwo.yml": string(frozen)})

	n := w.ask(t, "mo", "/restart --service checkout --env prod")
	if st := w.status(t, n); !strings.Contains(st, "prod is frozen") || !strings.Contains(st, "release week") {
		t.Fatalf("frozen status:\n%s", st)
	}
	if len(w.repo.Pulls()) != 0 {
		t.Fatal("a frozen environment got a PR")
	}

	n = w.ask(t, "sam", "/restart --service checkout --env prod --break-glass")
	pulls := w.repo.Pulls()
	if len(pulls) != 1 {
		t.Fatalf("break-glass: want one PR, got %d:\n%s", len(pulls), w.status(t, n))
	}
	var review *githubtest.Issue
	for i := 1; i < 100; i++ {
		if is, ok := w.repo.Issue(i); ok && strings.HasPrefix(is.Title, "Break-glass review:") {
			review = &is
		}
	}
	if review == nil || !strings.Contains(review.Body, "@sam used `--break-glass`") || !strings.Contains(strings.Join(review.Labels, ","), "break-glass") {
		t.Fatalf("follow-up review issue: %+v", review)
	}
	if !strings.Contains(pulls[0].Body, "break") {
		t.Errorf("the PR does not say it broke glass:\n%s", pulls[0].Body)
	}
}

func TestIssueFormOpensPR(t *testing.T) {
	w := newWorld(t)
	body := "### Service\n\ncatalog\n\n### Environment\n\nstaging\n\n### Replicas\n\n4\n\n### Reason\n\nsale traffic\n\n### Dry run\n\n- [ ] Only show the change; do not open a pull request\n"
	n := w.repo.CreateIssue("alice", "[daytwo] scale: catalog", strings.ReplaceAll(body, "\n", "\r\n"), "daytwo", "action/scale")
	w.Send(t, "issues", w.repo.IssuesOpenedPayload(n))
	w.Quiet(t)
	pulls := w.openPulls()
	if len(pulls) != 1 || pulls[0].Title != "catalog/staging: scale to 4 replicas" {
		t.Fatalf("PRs %+v\nstatus:\n%s", pulls, w.status(t, n))
	}
	if !strings.Contains(pulls[0].Body, "sale traffic") {
		t.Error("the form's reason is not in the PR")
	}
	if is, _ := w.repo.Issue(n); is.State != "open" {
		t.Error("the request issue must stay open until the change is done")
	}

	bad := w.repo.CreateIssue("alice", "[daytwo] scale: catalog", strings.Replace(body, "\n4\n", "\nfour\n", 1), "daytwo", "action/scale")
	w.Send(t, "issues", w.repo.IssuesOpenedPayload(bad))
	w.Quiet(t)
	var reply string
	for _, c := range w.repo.Comments(bad) {
		reply += c.Body
	}
	if !strings.Contains(reply, "Replicas") || !strings.Contains(reply, "four") {
		t.Fatalf("an invalid form must be answered naming the field: %q", reply)
	}
}

func TestCommentOnPullRequest(t *testing.T) {
	w := newWorld(t)
	w.repo.Commit("feature", "docs", map[string]string{"README.md": "more\n"})
	pr := w.repo.OpenPull("alice", "feature", "main", "Docs", "")
	w.comment(t, pr, "alice", "/restart --service catalog --env dev")
	var merged bool
	for _, p := range w.repo.Pulls() {
		if strings.HasPrefix(p.Head, "daytwo/dev/catalog/restart-") && p.Merged {
			merged = true
		}
	}
	if !merged {
		t.Fatalf("a command on a PR conversation must work like one on an issue:\n%s", w.status(t, pr))
	}
}

func TestGitHubFaults(t *testing.T) {
	t.Run("5xx once is retried", func(t *testing.T) {
		w := newWorld(t)
		w.GH.Fault("POST", "/api/graphql/daytwoChange", githubtest.Fault{Status: 502, Times: 1})
		w.ask(t, "alice", "/scale 4 --service checkout --env staging")
		if len(w.openPulls()) != 1 {
			t.Fatal("a single 502 must not lose the command")
		}
	})
	t.Run("secondary rate limit is waited out", func(t *testing.T) {
		w := newWorld(t)
		w.GH.Fault("POST", "/api/graphql/daytwoChange", githubtest.SecondaryRateLimit(time.Second, 1))
		start := time.Now()
		w.ask(t, "alice", "/scale 4 --service checkout --env staging")
		if len(w.openPulls()) != 1 || time.Since(start) < time.Second {
			t.Fatal("the PR must be opened after waiting for retry-after")
		}
	})
	t.Run("primary rate limit (429) is waited out", func(t *testing.T) {
		w := newWorld(t)
		w.GH.Fault("POST", "/api/graphql/daytwoPrefetch", githubtest.Fault{Status: 429, Times: 1, Headers: map[string]string{"Retry-After": "1"}})
		start := time.Now()
		w.ask(t, "alice", "/scale 4 --service checkout --env staging")
		if len(w.openPulls()) != 1 || time.Since(start) < time.Second {
			t.Fatal("the PR must be opened after waiting for retry-after")
		}
	})
	t.Run("ref conflict is planned again", func(t *testing.T) {
		w := newWorld(t)
		w.GH.FailGraphQLField("createCommitOnBranch", "STALE_DATA", `Expected branch to point to "0000000" but it did not. Pull and try again.`, 1)
		n := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
		if open := w.openPulls(); len(open) != 1 || len(w.daytwoBranches()) != 1 {
			t.Fatalf("want one PR after planning again, got %+v:\n%s", open, w.status(t, n))
		}
		var changes int
		for _, r := range w.GH.Requests() {
			if r.Operation == "daytwoChange" {
				changes++
			}
		}
		if changes != 2 {
			t.Errorf("the change was written %d times, want 2 (conflict, then success)", changes)
		}
		if st := w.status(t, n); strings.Contains(st, "❌") || !strings.Contains(st, "/pull/") {
			t.Errorf("status:\n%s", st)
		}
	})
	t.Run("persistent failure leaves no branch", func(t *testing.T) {
		w := newWorld(t)
		w.GH.Fault("POST", "/api/graphql/daytwoChange", githubtest.Fault{Status: 500})
		n := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
		if b := w.daytwoBranches(); len(b) != 0 || len(w.repo.Pulls()) != 0 {
			t.Fatalf("stray branches %v", b)
		}
		// GitHub never answered: daytwo says so, and that it could not confirm the write.
		if st := w.status(t, n); !strings.Contains(st, "❌") || !strings.Contains(st, "could not confirm") {
			t.Fatalf("status after failure:\n%s", st)
		}
	})
	t.Run("pull request refused after the branch was made", func(t *testing.T) {
		w := newWorld(t)
		w.GH.FailGraphQLField("createPullRequest", "UNPROCESSABLE", "Base branch was modified. Review and try the merge again.", 0)
		n := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
		if b := w.daytwoBranches(); len(b) != 0 || len(w.repo.Pulls()) != 0 {
			t.Fatalf("the half-made branch stayed: %v", b)
		}
		if st := w.status(t, n); !strings.Contains(st, "❌") {
			t.Fatalf("status after failure:\n%s", st)
		}
	})
	t.Run("labels refused: the pull request is withdrawn", func(t *testing.T) {
		w := newWorld(t)
		w.ask(t, "alice", "/scale 4 --service checkout --env staging") // creates the labels
		for _, p := range w.openPulls() {
			w.repo.ClosePull(p.Number, "alice")
		}
		w.GH.FailGraphQLField("addLabelsToLabelable", "FORBIDDEN", "Resource not accessible by integration", 0)
		n := w.ask(t, "alice", "/scale 5 --service checkout --env staging")
		if len(w.openPulls()) != 0 {
			t.Fatal("a PR without its labels must not stay open")
		}
		if st := w.status(t, n); !strings.Contains(st, "❌") {
			t.Fatalf("status after failure:\n%s", st)
		}
	})
}

func TestConcurrentCommandsOnOneTarget(t *testing.T) {
	w := newWorld(t)
	a := w.repo.CreateIssue("alice", "a", "")
	b := w.repo.CreateIssue("alice", "b", "")
	ida := w.repo.AddComment(a, "alice", "/scale 4 --service checkout --env staging")
	idb := w.repo.AddComment(b, "alice", "/set-image 1.8.0 --service checkout --env staging")
	pa, pb := w.repo.IssueCommentPayload(ida), w.repo.IssueCommentPayload(idb)
	done := make(chan struct{})
	go func() { w.Send(t, "issue_comment", pa); close(done) }()
	w.Send(t, "issue_comment", pb)
	<-done
	w.Quiet(t)
	open := w.openPulls()
	if len(open) != 1 {
		t.Fatalf("want one open PR for the target, got %d", len(open))
	}
	kust, _ := w.repo.File(open[0].Head, "apps/checkout/overlays/staging/kustomization.yaml")
	if !strings.Contains(kust, "count: 4") || !strings.Contains(kust, "newTag: 1.8.0") {
		t.Fatalf("an update was lost:\n%s", kust)
	}
}

func TestApprovalThenAutoMerge(t *testing.T) {
	w := newWorld(t)
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	// staging auto-merges, but only once approved; main requires one approval and the render check.
	cfg = strings.Replace(cfg, "    promoteConfig: true", "    promoteConfig: true\n    autoMerge: true\n    requireApproval: true", 1)
	w.repo.Commit("main", "staging auto-merges after approval", map[string]string{".github/daytwo.yml": cfg})
	w.repo.Protect("main", githubtest.Protection{RequiredApprovals: 1, RequiredChecks: []string{"daytwo/render"}})
	w.repo.SetPermission("checkout-team-lead", githubtest.RoleWrite)

	n := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	open := w.openPulls()
	if len(open) != 1 {
		t.Fatalf("want one open PR:\n%s", w.status(t, n))
	}
	if !strings.Contains(w.status(t, n), "waiting for approval from @acme/checkout-team") {
		t.Fatalf("status before approval:\n%s", w.status(t, n))
	}
	review := w.repo.SubmitReview(open[0].Number, "checkout-team-lead", "APPROVED", "lgtm")
	w.Send(t, "pull_request_review", w.repo.ReviewSubmittedPayload(open[0].Number, review))
	w.Quiet(t)
	pr, _ := w.repo.Pull(open[0].Number)
	if !pr.Merged {
		t.Fatalf("an approved, green PR in an auto-merging environment must merge:\n%s", w.status(t, n))
	}
	st := w.status(t, n)
	if !strings.Contains(st, "Approved by @checkout-team-lead") || !strings.Contains(st, "merged by daytwo as `") || !strings.Contains(st, "(the environment auto-merges once approved)") {
		t.Fatalf("status after approval:\n%s", st)
	}
}

func TestCrossRepoRequest(t *testing.T) {
	w := newWorld(t)
	svc := w.GH.CreateRepo("acme", "checkout")
	svc.Commit("main", "point at the GitOps repo", map[string]string{".github/daytwo.yml": "gitops: acme/gitops\n"})
	svc.SetPermission("alice", githubtest.RoleWrite)
	other := w.GH.CreateRepo("acme", "unlisted")
	other.Commit("main", "point", map[string]string{".github/daytwo.yml": "gitops: acme/gitops\n"})

	// The service is implied by the asking repository; the env is named.
	n := svc.CreateIssue("alice", "slow checkout", "")
	id := svc.AddComment(n, "alice", "/scale 4 --env staging")
	w.Send(t, "issue_comment", svc.IssueCommentPayload(id))
	w.Quiet(t)
	open := w.openPulls()
	if len(open) != 1 || open[0].Title != "checkout/staging: scale to 4 replicas" {
		t.Fatalf("PRs in the GitOps repo: %+v", open)
	}
	if !strings.Contains(open[0].Body, "acme/checkout") {
		t.Error("the PR must link back to the asking repository")
	}
	var st string
	for _, c := range svc.Comments(n) {
		if c.User == w.GH.BotLogin() {
			st = c.Body
		}
	}
	if !strings.Contains(st, "acme/gitops/pull/"+strconv.Itoa(open[0].Number)) {
		t.Fatalf("status in the service repo:\n%s", st)
	}

	// Merging in the GitOps repo reports back in the service repository.
	w.repo.Merge(open[0].Number, "squash")
	w.Send(t, "pull_request", w.repo.PullClosedPayload(open[0].Number))
	w.Quiet(t)
	for _, c := range svc.Comments(n) {
		if c.User == w.GH.BotLogin() {
			st = c.Body
		}
	}
	if !strings.Contains(st, "merged by @") {
		t.Fatalf("merge not reported across repositories:\n%s", st)
	}

	// A repository the GitOps config does not list is refused.
	m := other.CreateIssue("alice", "x", "")
	id = other.AddComment(m, "alice", "/restart --service checkout --env dev")
	w.Send(t, "issue_comment", other.IssueCommentPayload(id))
	w.Quiet(t)
	var refusal string
	for _, c := range other.Comments(m) {
		refusal += c.Body
	}
	if !strings.Contains(refusal, "does not list acme/unlisted") {
		t.Fatalf("unlisted repo: %q", refusal)
	}
}

// A delivery killed after posting its status comment, before it could find the earlier
// one and delete its own, leaves a duplicate: the next delivery of the request removes it
// with its own, and the request keeps its first status comment only.
func TestRedeliveryRemovesADuplicateStatusLeftByAKilledDelivery(t *testing.T) {
	w := newWorld(t)
	n := w.repo.CreateIssue("alice", "scale", "")
	id := w.repo.AddComment(n, "alice", "/scale 4 --service checkout --env staging")
	req := fmt.Sprintf("acme/gitops#%d/comment-%d/1", n, id)
	mark := func(state, attempt string) string {
		return "@alice asked for `/scale 4 --service checkout --env staging`\n\n" +
			githubapi.StatusMark{Request: req, State: state, Attempt: attempt}.String()
	}
	first := w.repo.AddComment(n, w.GH.BotLogin(), mark("refused", "first"))
	w.repo.AddComment(n, w.GH.BotLogin(), mark(githubapi.StateWorking, "killed"))
	w.Send(t, "issue_comment", w.repo.IssueCommentPayload(id))
	w.Quiet(t)
	var left []int64
	for _, c := range w.repo.Comments(n) {
		if c.User == w.GH.BotLogin() {
			left = append(left, c.ID)
		}
	}
	if len(left) != 1 || left[0] != first {
		t.Fatalf("status comments %v, want only the first, %d", left, first)
	}
}
