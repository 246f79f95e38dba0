package ops_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
	"github.com/daytwo-dev/daytwo/internal/coord/redistest"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
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

// BenchmarkCommandsPerMinute measures throughput: a burst of commands on six targets from
// six issues, sent round-robin to 1 replica (no Redis) or 3 (one Redis), with the test
// GitHub answering every request after 150 ms, until every status comment is final.
func BenchmarkCommandsPerMinute(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			env := map[string]string{}
			if replicas > 1 {
				env["DAYTWO_REDIS_URL"] = redistest.StartTCP(b).URL()
			}
			w := seedWorld(b, apptest.StartWithEnv(b, clock, env, githubtest.WithLatency(150*time.Millisecond)))
			apps := []*apptest.App{w.App}
			for len(apps) < replicas {
				apps = append(apps, w.Replica(b))
			}
			const burst = 24
			targets := [][2]string{{"checkout", "staging"}, {"catalog", "staging"}, {"payments", "staging"},
				{"checkout", "dev"}, {"catalog", "dev"}, {"payments", "dev"}}
			var issues []int
			for range targets {
				issues = append(issues, w.repo.CreateIssue("alice", "burst", ""))
			}
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				var comments []int64
				start := time.Now()
				for k := range burst {
					tg := targets[k%len(targets)]
					id := w.repo.AddComment(issues[k%len(issues)], "alice", fmt.Sprintf("/config set B%d_%d=v --service %s --env %s", i, k, tg[0], tg[1]))
					comments = append(comments, id)
					apps[k%len(apps)].Send(b, "issue_comment", w.repo.IssueCommentPayload(id))
				}
				deadline := time.Now().Add(5 * time.Minute)
				for !allFinal(w, issues, len(comments)*(i+1)) {
					if time.Now().After(deadline) {
						b.Fatalf("the burst did not finish in 5 minutes")
					}
					time.Sleep(20 * time.Millisecond)
				}
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(burst*b.N)/elapsed.Minutes(), "commands/min")
		})
	}
}

// allFinal reports whether want status comments on issues have all reached their end.
func allFinal(w *world, issues []int, want int) bool {
	n := 0
	for _, is := range issues {
		for _, c := range w.repo.Comments(is) {
			if m, ok := githubapi.ParseStatusMark(c.Body); ok && c.User == w.GH.BotLogin() {
				if !m.Final() {
					return false
				}
				n++
			}
		}
	}
	return n >= want
}
