package ops_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// BenchmarkCommandToPR measures one /scale from the webhook to the status comment linking
// the PR, with the test GitHub answering every request after 150 ms, and counts the GitHub
// requests a mutating command makes (all, and writes only). One command runs first, untimed:
// an installation's first command also exchanges a token and creates daytwo's labels.
func BenchmarkCommandToPR(b *testing.B) {
	w := newWorld(b, githubtest.WithLatency(150*time.Millisecond))
	first := w.repo.CreateIssue("alice", "warm up", "")
	w.Send(b, "issue_comment", w.repo.IssueCommentPayload(w.repo.AddComment(first, "alice", "/scale 3 --service checkout --env staging")))
	w.Quiet(b)
	var times []time.Duration
	var total, writes int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		n := w.repo.CreateIssue("alice", "scale", "")
		id := w.repo.AddComment(n, "alice", fmt.Sprintf("/scale %d --service checkout --env staging", 4+i%2))
		payload := w.repo.IssueCommentPayload(id)
		// Close the previous PR so every iteration opens a new one.
		for _, p := range w.openPulls() {
			w.repo.ClosePull(p.Number, "alice")
		}
		w.GH.ResetLog()
		b.StartTimer()
		start := time.Now()
		w.Send(b, "issue_comment", payload)
		deadline := time.Now().Add(time.Minute)
		for {
			if time.Now().After(deadline) {
				b.Fatalf("no PR link after a minute; the log:\n%s", w.Logs.String())
			}
			var linked bool
			for _, c := range w.repo.Comments(n) {
				if c.User == w.GH.BotLogin() && strings.Contains(c.Body, "/pull/") {
					linked = true
				}
			}
			if linked {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		times = append(times, time.Since(start))
		b.StopTimer()
		w.Quiet(b)
		for _, r := range w.GH.Requests() {
			total++
			if r.Write() {
				writes++
			}
		}
		b.StartTimer()
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Milliseconds()), "ms-to-PR-median")
	b.ReportMetric(float64(total)/float64(b.N), "requests/command")
	b.ReportMetric(float64(writes)/float64(b.N), "writes/command")
}

// BenchmarkMergeToRefresh measures the time from the webhook of a merged change PR to
// Argo CD receiving the refresh request, with the test GitHub answering every request after
// 150 ms (Argo CD's own poll would take up to 180 s).
func BenchmarkMergeToRefresh(b *testing.B) {
	w := newArgoWorld(b, githubtest.WithLatency(150*time.Millisecond))
	var times []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		n := w.repo.CreateIssue("alice", "scale", "")
		w.Send(b, "issue_comment", w.repo.IssueCommentPayload(w.repo.AddComment(n, "alice", fmt.Sprintf("/scale %d --service checkout --env staging", 3+i%3))))
		w.Quiet(b)
		open := w.openPulls()
		if len(open) != 1 {
			b.Fatalf("want one open PR, got %d", len(open))
		}
		w.repo.Merge(open[0].Number, "squash")
		payload := w.repo.PullClosedPayload(open[0].Number)
		before := refreshes(w.argo, "checkout-staging")
		b.StartTimer()
		start := time.Now()
		w.Send(b, "pull_request", payload)
		deadline := time.Now().Add(time.Minute)
		for refreshes(w.argo, "checkout-staging") == before {
			if time.Now().After(deadline) {
				b.Fatalf("no refresh reached Argo CD within a minute; the log:\n%s", w.Logs.String())
			}
			time.Sleep(2 * time.Millisecond)
		}
		times = append(times, time.Since(start))
		b.StopTimer()
		w.Quiet(b)
		w.Runner.WaitRollouts()
		b.StartTimer()
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Milliseconds()), "ms-merge-to-refresh-median")
}

func refreshes(argo *argoapitest.Server, app string) int {
	n := 0
	for _, c := range argo.Calls() {
		if c.Method == "Refresh" && c.App == app {
			n++
		}
	}
	return n
}
