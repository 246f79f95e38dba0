package ops

import (
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// When a time-boxed change expires and how its status says so, on the runner's clock.
func TestExpiryTimes(t *testing.T) {
	merged := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	now := merged
	r := &Runner{Now: func() time.Time { return now }}
	c := carried{trailers: map[string]string{plan.TrailerRequest: "acme/checkout#12/comment-7/2"}}
	e := &expiry{repo: githubapi.Repo{Owner: "acme", Name: "gitops"}, number: 40, change: c, base: 2 * time.Hour}
	if got := r.expiresText(e); got != "expires 2h after merge" {
		t.Errorf("before merge: %q", got)
	}
	e.extra = 30 * time.Minute
	if got := r.expiresText(e); got != "expires 2h30m after merge" {
		t.Errorf("extended before merge: %q", got)
	}
	e.merged = &githubapi.Merged{MergedAt: merged}
	if got, want := e.due(), merged.Add(150*time.Minute); !got.Equal(want) {
		t.Errorf("due %v, want %v", got, want)
	}
	if got := r.expiresText(e); got != "expires at 2026-11-23 14:30 UTC (in 2h30m)" {
		t.Errorf("after merge: %q", got)
	}
	now = merged.Add(150*time.Minute - 20*time.Second)
	if got := r.expiresText(e); got != "expires at 2026-11-23 14:30 UTC (now)" {
		t.Errorf("at expiry: %q", got)
	}
	now = merged.Add(26 * time.Hour)
	e.base = 3 * 24 * time.Hour
	if got := r.expiresText(e); got != "expires at 2026-11-26 12:30 UTC (in 1d22h30m)" {
		t.Errorf("days: %q", got)
	}
	if e.ref() != "acme/gitops#40" || e.thread() != "acme/checkout#12/" || restoreKey(e, 1) != "acme/checkout#12/expiry-40/1" {
		t.Errorf("ref %q thread %q key %q", e.ref(), e.thread(), restoreKey(e, 1))
	}
	if got := expiryNote(command.Command{Name: "scale", For: 90 * time.Minute}); got != " ⏳ Time-boxed: expires 1h30m after merge." {
		t.Errorf("note %q", got)
	}
	if expiryNote(command.Command{Name: "scale"}) != "" {
		t.Error("a note for a change that is not time-boxed")
	}
}
