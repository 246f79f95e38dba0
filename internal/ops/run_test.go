package ops

import (
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
)

// What a status says of a run at each step, with the run's duration as GitHub's times give it.
func TestRunNews(t *testing.T) {
	start := time.Date(2026, 11, 23, 12, 0, 5, 0, time.UTC)
	run := githubapi.Run{Number: 7, URL: "https://github.com/acme/gitops/actions/runs/42", StartedAt: start, UpdatedAt: start.Add(3*time.Minute + 25*time.Second)}
	for _, tc := range []struct {
		status, conclusion string
		done, now          string
	}{
		{"in_progress", "", "", "🏃 [Run #7](https://github.com/acme/gitops/actions/runs/42) in progress since 12:00:05 UTC; this comment follows it to its end."},
		{"completed", "success", "✅ [Run #7](https://github.com/acme/gitops/actions/runs/42) of `e2e` succeeded in 3m25s.", ""},
		{"completed", "timed_out", "❌ [Run #7](https://github.com/acme/gitops/actions/runs/42) of `e2e` ended `timed_out` after 3m25s: its logs say why.", ""},
		{"completed", "cancelled", "⚠️ [Run #7](https://github.com/acme/gitops/actions/runs/42) of `e2e` ended `cancelled` after 3m25s.", ""},
	} {
		run.Status, run.Conclusion = tc.status, tc.conclusion
		if done, now := runNews("e2e", run); done != tc.done || now != tc.now {
			t.Errorf("%s %s:\n got %q, %q\nwant %q, %q", tc.status, tc.conclusion, done, now, tc.done, tc.now)
		}
	}
}

// A webhook never moves a status back: late or repeated news is not news.
func TestRunRank(t *testing.T) {
	order := []string{"", "queued", "in_progress", "completed"}
	for i := 1; i < len(order); i++ {
		if runRank(order[i]) <= runRank(order[i-1]) {
			t.Errorf("%q does not come after %q", order[i], order[i-1])
		}
	}
	for _, s := range []string{"requested", "waiting", "pending"} {
		if runRank(s) != runRank("queued") {
			t.Errorf("%s ranks as %d, queued as %d", s, runRank(s), runRank("queued"))
		}
	}
}
