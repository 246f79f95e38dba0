package ops_test

import (
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

// Every reply daytwo writes in a thread or a pull request while carrying out commands is
// safe Markdown, whatever the people asking wrote: rendered by a CommonMark + GFM
// renderer, it holds no raw HTML and mentions no one but the askers and code owners.
func TestRepliesWithHostileInputAreSafeMarkdown(t *testing.T) {
	w := newWorld(t)
	cases := []struct{ who, cmd, hostile string }{
		{"alice", "/config set NOTE=<img/src=x/onerror=alert(1)> --service checkout --env staging", "<img/src=x/onerror=alert(1)>"},
		{"sam", "/config set WHO=@acme/everyone --service checkout --env staging", "@acme/everyone"},
		{"alice", "/config set NOTE=<!--x--> --service checkout --env staging", "<!--x-->"}, // overrides the first
		{"alice", "/config set FENCE=```x --service checkout --env staging --dry-run", "```x"},
		{"alice", "/config set LINK=[x](javascript:alert(1)) --service checkout --env dev", "[x](javascript:alert(1))"}, // merged
		{"rita", "/config set NO=<script>alert(1)</script> --service checkout --env staging", "<script>alert(1)</script>"},
		{"alice", "/config set BAD --service <b>x</b>", "<b>x</b>"}, // a usage error
	}
	issues := make([]int, len(cases))
	for i, c := range cases {
		issues[i] = w.ask(t, c.who, c.cmd)
	}
	policy := mdtest.Policy{
		Mentions: []string{"alice", "sam", "rita", "acme/checkout-team", "acme/platform"},
		Elements: []string{"details", "summary"},
		Comments: true, // the status mark and the PR's hidden metadata
	}
	states := map[string]int{}
	for i, n := range issues {
		for _, c := range w.repo.Comments(n) {
			if c.User != w.GH.BotLogin() {
				continue
			}
			m, _ := githubapi.ParseStatusMark(c.Body)
			states[m.State]++
			// What a person wrote shows as written, inside code.
			inCode := policy
			inCode.InCode = true
			for _, p := range inCode.Check(c.Body, cases[i].hostile) {
				t.Errorf("status on #%d: %s\n%s", n, p, c.Body)
			}
		}
	}
	for _, want := range []string{"open", "overridden", "dry-run", "merged", "refused"} {
		if states[want] == 0 {
			t.Errorf("no status in state %s: %v", want, states)
		}
	}
	for _, p := range w.repo.Pulls() {
		for _, prob := range policy.Check(p.Body) {
			t.Errorf("PR #%d body: %s\n%s", p.Number, prob, p.Body)
		}
		for _, r := range w.repo.CheckRuns(p.HeadSHA) {
			for _, prob := range policy.Check(r.Summary) {
				t.Errorf("check on #%d: %s\n%s", p.Number, prob, r.Summary)
			}
		}
	}
}
