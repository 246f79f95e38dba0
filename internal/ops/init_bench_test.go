package ops_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// BenchmarkInitToPR measures /init on the gitops example without its config, from the
// webhook to the status comment linking the pull request, with the test GitHub answering
// every request after 150 ms, and counts its GitHub requests (all, and writes only).
func BenchmarkInitToPR(b *testing.B) {
	w := newWorld(b, githubtest.WithLatency(150*time.Millisecond))
	w.repo.Commit("main", "before daytwo", nil, repoconfig.Path)
	var times []time.Duration
	var total, writes int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, p := range w.openPulls() {
			w.repo.ClosePull(p.Number, "mo")
		}
		n := w.repo.CreateIssue("mo", "onboard", "")
		payload := w.repo.IssueCommentPayload(w.repo.AddComment(n, "mo", "/init"))
		w.GH.ResetLog()
		b.StartTimer()
		start := time.Now()
		w.Send(b, "issue_comment", payload)
		deadline := time.Now().Add(time.Minute)
		for linked := false; !linked; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("no PR link after a minute; the log:\n%s", w.Logs.String())
			}
			for _, c := range w.repo.Comments(n) {
				linked = linked || c.User == w.GH.BotLogin() && strings.Contains(c.Body, "/pull/")
			}
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
	b.ReportMetric(float64(total)/float64(b.N), "requests/init")
	b.ReportMetric(float64(writes)/float64(b.N), "writes/init")
}
