package ops_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// TestEveryMutatingCommand asks each command that changes something, in an issue and in a
// pull request conversation, and checks the whole result: the PR (title, files, labels,
// reviewers, check), the one status comment, the 👀 reaction and no stray branch.
func TestEveryMutatingCommand(t *testing.T) {
	type tc struct {
		name, who, line string
		setup           []string // commands asked (and merged, in dev) first
		title           string
		files           []string // every file the change writes
		want            map[string]string
		reviewers       string // teams asked to review, sorted
		merged          bool   // dev merges at once
	}
	const kust = "apps/checkout/overlays/staging/kustomization.yaml"
	cases := []tc{
		{name: "scale", who: "alice", line: "/scale 5 --service checkout --env staging",
			title: "checkout/staging: scale to 5 replicas", files: []string{kust}, want: map[string]string{kust: "count: 5"}, reviewers: "checkout-team"},
		{name: "set-image", who: "alice", line: "/set-image 1.8.0 --service checkout --env staging",
			title: "checkout/staging: ", files: []string{kust}, want: map[string]string{kust: "newTag: 1.8.0"}, reviewers: "checkout-team"},
		{name: "promote", who: "alice", line: "/promote staging --service checkout",
			title: "checkout/staging: promote", files: []string{kust}, want: map[string]string{kust: "newTag:"}, reviewers: "checkout-team"},
		{name: "config", who: "alice", line: "/config set FEATURE_FLAGS=fast --service checkout --env staging",
			title: "checkout/staging: ", files: []string{kust}, want: map[string]string{kust: "FEATURE_FLAGS=fast"}, reviewers: "checkout-team"},
		{name: "restart", who: "alice", line: "/restart --service checkout --env staging",
			title: "checkout/staging: restart", want: map[string]string{}, reviewers: "checkout-team"},
		{name: "redeploy", who: "alice", line: "/redeploy --service checkout --env staging",
			title: "checkout/staging: redeploy", want: map[string]string{}, reviewers: "checkout-team"},
		{name: "suspend", who: "alice", line: "/suspend --service catalog --env dev",
			title: "catalog/dev: suspend", want: map[string]string{"apps/catalog/overlays/dev/kustomization.yaml": "count: 0"}, merged: true, reviewers: "catalog-team"},
		{name: "resume", who: "alice", line: "/resume --service catalog --env dev", setup: []string{"/suspend --service catalog --env dev"},
			title: "catalog/dev: resume", want: map[string]string{}, merged: true, reviewers: "catalog-team"},
		{name: "rollback", who: "alice", line: "/rollback --service checkout --env dev", setup: []string{"/scale 3 --service checkout --env dev"},
			title: "checkout/dev: roll", want: map[string]string{}, merged: true, reviewers: "checkout-team"},
		{name: "freeze", who: "mo", line: "/freeze --env staging --reason launch",
			title: "staging", files: []string{".github/daytwo.yml"}, want: map[string]string{".github/daytwo.yml": "launch"}, reviewers: "platform,sre"},
		{name: "unfreeze", who: "mo", line: "/unfreeze --env staging", setup: []string{"/freeze --env staging --reason launch"},
			title: "staging", files: []string{".github/daytwo.yml"}, want: map[string]string{}, reviewers: "platform,sre"},
	}
	for _, where := range []string{"issue", "pull request"} {
		for _, c := range cases {
			t.Run(where+"/"+c.name, func(t *testing.T) {
				w := newWorld(t)
				for _, s := range c.setup {
					n := w.ask(t, c.who, s)
					for _, p := range w.openPulls() { // merge what needs approval, as reviewers would
						w.repo.Merge(p.Number, "squash")
						w.Send(t, "pull_request", w.repo.PullClosedPayload(p.Number))
						w.Quiet(t)
					}
					if len(w.openPulls()) != 0 || !strings.Contains(w.status(t, n), "merged") {
						t.Fatalf("setup %q did not merge:\n%s", s, w.status(t, n))
					}
				}
				before := map[int]bool{}
				for _, p := range w.repo.Pulls() {
					before[p.Number] = true
				}
				var n int
				if where == "issue" {
					n = w.repo.CreateIssue(c.who, "day-2 request", "")
				} else {
					w.repo.Commit("docs", "docs", map[string]string{"README.md": "more\n"})
					n = w.repo.OpenPull(c.who, "docs", "main", "Docs", "")
				}
				id := w.comment(t, n, c.who, "Please.\n\n"+c.line+"\n")

				var mine []int
				for _, p := range w.repo.Pulls() {
					if !before[p.Number] && p.Number != n {
						mine = append(mine, p.Number)
					}
				}
				if len(mine) != 1 {
					t.Fatalf("want one new PR, got %v:\n%s", mine, w.status(t, n))
				}
				pr, _ := w.repo.Pull(mine[0])
				if !strings.HasPrefix(pr.Title, c.title) && !strings.Contains(pr.Title, c.title) {
					t.Errorf("title %q, want it to contain %q", pr.Title, c.title)
				}
				labels := append([]string(nil), pr.Labels...)
				sort.Strings(labels)
				if got := strings.Join(labels, ","); got != "action/"+c.name+",daytwo,env/"+envOf(c.line) {
					t.Errorf("labels %s", got)
				}
				teams := append([]string(nil), pr.RequestedTeams...)
				sort.Strings(teams)
				if got := strings.Join(teams, ","); got != c.reviewers || len(pr.RequestedReviewers) != 0 {
					t.Errorf("reviewers: teams %q users %q, want teams %q", got, pr.RequestedReviewers, c.reviewers)
				}
				if !strings.Contains(pr.Body, c.line) || !strings.Contains(pr.Body, "@"+c.who) {
					t.Errorf("the PR body must say what was asked and by whom:\n%s", pr.Body)
				}
				ref := pr.Head
				if c.merged {
					if !pr.Merged {
						t.Fatalf("dev merges at once:\n%s", w.status(t, n))
					}
					ref = pr.MergeCommitSHA
				} else if pr.Merged {
					t.Error("a change needing approval was merged")
				}
				changed := w.changedFiles(t, pr)
				if c.files != nil && strings.Join(changed, ",") != strings.Join(c.files, ",") {
					t.Errorf("changed %v, want %v", changed, c.files)
				}
				for _, f := range changed {
					if !strings.HasPrefix(f, "apps/"+serviceOf(c.line)+"/overlays/"+envOf(c.line)+"/") && f != ".github/daytwo.yml" {
						t.Errorf("%s changed outside the overlay", f)
					}
				}
				for f, s := range c.want {
					if body, _ := w.repo.File(ref, f); !strings.Contains(body, s) {
						t.Errorf("%s lacks %q:\n%s", f, s, body)
					}
				}
				if runs := w.repo.CheckRuns(pr.HeadSHA); len(runs) != 1 || runs[0].Name != "daytwo/render" || runs[0].Conclusion != "success" {
					t.Errorf("check runs %+v", runs)
				}
				st := w.status(t, n)
				if !strings.HasPrefix(st, "@"+c.who+" asked for `"+c.line+"`") || !strings.Contains(st, fmt.Sprintf("/pull/%d", pr.Number)) {
					t.Errorf("status comment:\n%s", st)
				}
				var eyes int
				for _, cm := range w.repo.Comments(n) {
					if cm.ID == id {
						for _, r := range cm.Reactions {
							if r.Content == "eyes" {
								eyes++
							}
						}
					}
				}
				if eyes != 1 {
					t.Errorf("want one 👀 on the asking comment, got %d", eyes)
				}
				want := 0
				if !c.merged {
					want = 1
				}
				if b := w.daytwoBranches(); len(b) != want {
					t.Errorf("daytwo branches %v, want %d", b, want)
				}
			})
		}
	}
}

func envOf(line string) string     { return flagOf(line, "--env", "staging") }
func serviceOf(line string) string { return flagOf(line, "--service", "") }

func flagOf(line, flag, def string) string {
	f := strings.Fields(line)
	for i := range f {
		if f[i] == flag && i+1 < len(f) {
			return f[i+1]
		}
	}
	if flag == "--env" && strings.HasPrefix(line, "/promote ") {
		return f[1]
	}
	return def
}

// changedFiles lists the files the PR's one commit changes, sorted.
func (w *world) changedFiles(t *testing.T, pr githubtest.Pull) []string {
	t.Helper()
	c, ok := w.repo.GetCommit(pr.HeadSHA)
	if !ok || len(c.Parents) != 1 {
		t.Fatalf("the PR head must be one commit: %+v", c)
	}
	before, after := w.repo.Files(c.Parents[0]), w.repo.Files(pr.HeadSHA)
	var out []string
	for p, body := range after {
		if before[p] != body {
			out = append(out, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
