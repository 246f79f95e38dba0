package ops_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// openFor is the one open PR whose branch starts with prefix; it fails on none or several.
func (w *world) openFor(t *testing.T, prefix string) githubtest.Pull {
	t.Helper()
	var found []githubtest.Pull
	for _, p := range w.openPulls() {
		if strings.HasPrefix(p.Head, prefix) {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one open PR for %s, got %+v", prefix, found)
	}
	return found[0]
}

func (w *world) noRefForced(t *testing.T) {
	t.Helper()
	for _, r := range w.GH.Requests() {
		if r.Method == "PATCH" && strings.Contains(r.Path, "/git/refs/") {
			t.Errorf("a branch was moved without compare-and-swap: %s %s", r.Method, r.Path)
		}
	}
}

// The reproduction from the issue: a second command from the same thread used to be
// planned on the default branch and force-pushed over the stack, losing the first thread's
// change while its asker was still told it was in the PR.
func TestRepeatFromSameThreadKeepsTheStack(t *testing.T) {
	w := newWorld(t)
	a := w.ask(t, "alice", "/config set A=1 --service catalog --env staging")
	pr := w.openFor(t, "daytwo/staging/catalog/")
	b := w.ask(t, "alice", "/set-image 9.9.1 --service catalog --env staging")
	if again := w.openFor(t, "daytwo/staging/catalog/"); again.Number != pr.Number {
		t.Fatalf("the second request opened #%d instead of adding to #%d", again.Number, pr.Number)
	}
	second := w.repo.AddComment(b, "alice", "/set-image 9.9.2 --service catalog --env staging")
	w.Send(t, "issue_comment", w.repo.IssueCommentPayload(second))
	w.Quiet(t)

	pr = w.openFor(t, "daytwo/staging/catalog/")
	kust, _ := w.repo.File(pr.Head, "apps/catalog/overlays/staging/kustomization.yaml")
	if !strings.Contains(kust, "A=1") || !strings.Contains(kust, "newTag: 9.9.2") {
		t.Fatalf("the PR lost a change:\n%s", kust)
	}
	// Three commits, each on the one before: every move was planned on the branch's head.
	hist := w.repo.History(pr.Head)
	if n := len(hist) - len(w.repo.History("main")); n != 3 {
		t.Fatalf("want 3 commits on the branch, got %d", n)
	}
	w.noRefForced(t)

	if m := w.mark(t, a); m.State != "open" || m.PR != pr.Number {
		t.Errorf("A=1 asker: %+v", m)
	}
	// Issue b has two requests, hence two status comments: 9.9.1 was overridden by 9.9.2.
	var marks []githubapi.StatusMark
	for _, c := range w.repo.Comments(b) {
		if m, ok := githubapi.ParseStatusMark(c.Body); ok && c.User == w.GH.BotLogin() {
			marks = append(marks, m)
			if m.State == "overridden" && !strings.Contains(c.Body, "Overridden") {
				t.Errorf("an overridden request must be told so:\n%s", c.Body)
			}
		}
	}
	if len(marks) != 2 || marks[0].State != "overridden" || marks[0].PR != pr.Number || !strings.Contains(marks[0].By, "/comment-") ||
		marks[1].State != "open" || marks[1].PR != pr.Number {
		t.Fatalf("status marks on #%d: %+v", b, marks)
	}
	if !strings.Contains(pr.Body, "overridden by") || !strings.Contains(pr.Title, "3 changes") {
		t.Errorf("the PR must list its requests, the overridden one marked: %q\n%s", pr.Title, pr.Body)
	}
}

// Three threads take turns on one target: every change ends in the one PR.
func TestInterleavedThreadsShareOneStack(t *testing.T) {
	w := newWorld(t)
	threads := []int{
		w.repo.CreateIssue("alice", "a", ""),
		w.repo.CreateIssue("sam", "b", ""),
		w.repo.CreateIssue("alice", "c", ""),
	}
	keys := []string{"K1", "K2", "K3", "K4", "K5", "K6"}
	for i, k := range keys {
		who := "alice"
		if i%3 == 1 {
			who = "sam"
		}
		w.comment(t, threads[i%3], who, "/config set "+k+"=v --service checkout --env staging")
	}
	w.comment(t, threads[0], "alice", "/scale 3 --service checkout --env staging")
	pr := w.openFor(t, "daytwo/staging/checkout/")
	kust, _ := w.repo.File(pr.Head, "apps/checkout/overlays/staging/kustomization.yaml")
	for _, k := range keys {
		if !strings.Contains(kust, k+"=v") {
			t.Errorf("%s is missing from the PR", k)
		}
	}
	if !strings.Contains(kust, "count: 3") {
		t.Errorf("the scale is missing:\n%s", kust)
	}
	for _, n := range threads {
		for _, c := range w.repo.Comments(n) {
			if m, ok := githubapi.ParseStatusMark(c.Body); ok && (m.State != "open" || m.PR != pr.Number) {
				t.Errorf("#%d: %+v", n, m)
			}
		}
	}
	if len(w.daytwoBranches()) != 1 {
		t.Errorf("branches %v", w.daytwoBranches())
	}
	w.noRefForced(t)
}

// The same comment arriving at once under different delivery ids is one request: one
// status comment and one commit.
func TestSimultaneousDeliveriesOfOneComment(t *testing.T) {
	w := newWorld(t)
	w.ask(t, "alice", "/scale 4 --service checkout --env staging") // a stack to add to
	n := w.repo.CreateIssue("alice", "b", "")
	id := w.repo.AddComment(n, "alice", "/config set LOG=debug --service checkout --env staging")
	payload := w.repo.IssueCommentPayload(id)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); w.Send(t, "issue_comment", payload) }()
	}
	wg.Wait()
	w.Quiet(t)
	if m := w.mark(t, n); m.State != "open" { // w.mark requires exactly one status comment
		t.Fatalf("status: %+v", m)
	}
	pr := w.openFor(t, "daytwo/staging/checkout/")
	if got := len(w.repo.History(pr.Head)) - len(w.repo.History("main")); got != 2 {
		t.Fatalf("want 2 commits (scale, config) on the branch, got %d", got)
	}
}

// Merging or closing a stack tells every asker.
func TestStackMergedOrClosedTellsEveryAsker(t *testing.T) {
	w := newWorld(t)
	a := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	b := w.ask(t, "sam", "/config set X=1 --service checkout --env staging")
	pr := w.openFor(t, "daytwo/staging/checkout/")
	w.repo.Merge(pr.Number, "squash")
	w.Send(t, "pull_request", w.repo.PullClosedPayload(pr.Number))
	w.Quiet(t)
	for _, n := range []int{a, b} {
		if m := w.mark(t, n); m.State != "merged" || m.PR != pr.Number {
			t.Errorf("#%d after the merge: %+v\n%s", n, m, w.status(t, n))
		}
	}
	if len(w.daytwoBranches()) != 0 {
		t.Errorf("the merged branch stayed: %v", w.daytwoBranches())
	}

	c := w.ask(t, "alice", "/restart --service catalog --env staging")
	d := w.ask(t, "sam", "/scale 3 --service catalog --env staging")
	pr = w.openFor(t, "daytwo/staging/catalog/")
	w.repo.ClosePull(pr.Number, "catalog-team-lead")
	w.Send(t, "pull_request", w.repo.PullClosedPayload(pr.Number))
	w.Quiet(t)
	for _, n := range []int{c, d} {
		if m := w.mark(t, n); m.State != "closed" || !strings.Contains(w.status(t, n), "closed without merging") {
			t.Errorf("#%d after closing: %+v", n, m)
		}
	}
	if len(w.daytwoBranches()) != 0 {
		t.Errorf("the closed PR's branch stayed: %v", w.daytwoBranches())
	}
}

// /cancel of a stack that also carries someone else's request takes the cancel rule;
// once cancelled, every asker is told.
func TestCancelStackTellsEveryAsker(t *testing.T) {
	w := newWorld(t)
	a := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	b := w.ask(t, "sam", "/config set X=1 --service checkout --env staging")
	w.comment(t, a, "rita", "/cancel")
	if len(w.openPulls()) != 1 {
		t.Fatal("rita (read) cancelled the stack")
	}
	w.comment(t, a, "alice", "/cancel") // staging's cancel rule is write permission
	if len(w.openPulls()) != 0 || len(w.daytwoBranches()) != 0 {
		t.Fatalf("after /cancel: %d open, branches %v", len(w.openPulls()), w.daytwoBranches())
	}
	for _, n := range []int{a, b} {
		for _, c := range w.repo.Comments(n) {
			m, ok := githubapi.ParseStatusMark(c.Body)
			if ok && strings.Contains(m.Request, "/1") && !strings.Contains(c.Body, "/cancel") && m.State != "closed" {
				t.Errorf("#%d: %+v\n%s", n, m, c.Body)
			}
		}
	}
}

// A code owner GitHub will not ask to review (not a collaborator) is not named as the one
// the change waits for.
func TestStatusNamesOnlyReviewersGitHubAsked(t *testing.T) {
	w := newWorld(t)
	owners, _ := w.repo.File("main", ".github/CODEOWNERS")
	w.repo.Commit("main", "a stranger owns staging", map[string]string{".github/CODEOWNERS": owners + "/apps/checkout/overlays/staging/ @ghost @acme/checkout-team\n"})
	n := w.ask(t, "alice", "/scale 4 --service checkout --env staging")
	st := w.status(t, n)
	if strings.Contains(st, "approval from @ghost") || !strings.Contains(st, "approval from @acme/checkout-team") || !strings.Contains(st, "No review was requested from `ghost`") {
		t.Fatalf("status:\n%s", st)
	}
	pr := w.openFor(t, "daytwo/staging/checkout/")
	if strings.Join(pr.RequestedTeams, ",") != "checkout-team" || len(pr.RequestedReviewers) != 0 {
		t.Errorf("requested %v %v", pr.RequestedReviewers, pr.RequestedTeams)
	}
}

// A write whose answer is lost (GitHub did it, the answer never came) is found on the next
// read, completed, and reported once, as neither an error nor a second change.
func TestLostAnswersAreFoundAndCompleted(t *testing.T) {
	for _, op := range []string{"daytwoChange", "daytwoStack"} {
		t.Run(op, func(t *testing.T) {
			w := newWorld(t)
			if op == "daytwoStack" {
				w.ask(t, "alice", "/scale 4 --service checkout --env staging")
			}
			w.GH.Fault("POST", "/api/graphql/"+op, githubtest.Fault{Status: 502, Times: 1, Lost: true})
			n := w.ask(t, "sam", "/set-image 1.8.0 --service checkout --env staging")
			pr := w.openFor(t, "daytwo/staging/checkout/")
			if m := w.mark(t, n); m.State != "open" || m.PR != pr.Number {
				t.Fatalf("status %+v:\n%s", m, w.status(t, n))
			}
			commits := len(w.repo.History(pr.Head)) - len(w.repo.History("main"))
			if want := map[string]int{"daytwoChange": 1, "daytwoStack": 2}[op]; commits != want {
				t.Errorf("%d commits on the branch, want %d", commits, want)
			}
			if got := strings.Join(pr.Labels, ","); !strings.Contains(got, "action/set-image") || !strings.Contains(got, "daytwo") {
				t.Errorf("labels %s", got)
			}
			if len(w.daytwoBranches()) != 1 {
				t.Errorf("branches %v", w.daytwoBranches())
			}
		})
	}
}

// A request whose stacking answer was lost, and which is found carried on the next look,
// still tells the earlier request it overrides: the PR no longer holds that one's value.
func TestLostStackAnswerStillTellsTheOverridden(t *testing.T) {
	w := newWorld(t)
	first := w.ask(t, "alice", "/set-image 1.8.0 --service checkout --env staging")
	w.GH.Fault("POST", "/api/graphql/daytwoStack", githubtest.Fault{Status: 502, Times: 1, Lost: true})
	second := w.ask(t, "sam", "/set-image 1.9.0 --service checkout --env staging")
	pr := w.openFor(t, "daytwo/staging/checkout/")
	if m := w.mark(t, second); m.State != "open" || m.PR != pr.Number {
		t.Fatalf("second %+v:\n%s", m, w.status(t, second))
	}
	if m := w.mark(t, first); m.State != "overridden" || m.PR != pr.Number {
		t.Fatalf("first %+v, but #%d now carries 1.9.0:\n%s", m, pr.Number, w.status(t, first))
	}
}
