package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/coord/redistest"
)

// startJournaled is start for a replica sharing rs's journal, named consumer.
func startJournaled(t *testing.T, rs *redistest.Server, consumer string, rec *recorder, claim time.Duration) (*harness, *coord.Redis) {
	t.Helper()
	rcfg := config.Redis{URL: rs.URL()}
	r, err := coord.Open(context.Background(), rcfg, consumer, coord.Timing{ClaimIdle: claim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() }) // after the server's own cleanup, which runs first
	return start(t, rec, nil, WithJournal(r)), r
}

// A delivery replayed to another replica is handled once: the journal remembers its id.
func TestJournalReplayToAnotherReplicaActedOnOnce(t *testing.T) {
	rs := redistest.Start(t)
	a, _ := startJournaled(t, rs, "a", &recorder{}, time.Minute)
	b, _ := startJournaled(t, rs, "b", &recorder{}, time.Minute)
	body := []byte(`{"action":"created"}`)
	for _, h := range []*harness{a, b, a, b} {
		if res := h.post(t, "d-1", body, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	waitFor(t, "the delivery", func() bool { return len(a.rec.deliveries())+len(b.rec.deliveries()) == 1 })
	time.Sleep(100 * time.Millisecond)
	if n := len(a.rec.deliveries()) + len(b.rec.deliveries()); n != 1 {
		t.Fatalf("handled %d times", n)
	}
}

// A delivery is in the journal before GitHub gets its answer: with Redis gone the webhook
// is not answered 2xx, so GitHub shows it failed and a redelivery brings it back.
func TestJournalUnreachableIsNotAnswered2xx(t *testing.T) {
	rs := redistest.Start(t)
	a, _ := startJournaled(t, rs, "a", &recorder{}, time.Minute)
	rs.Kill()
	res := a.post(t, "d-down", []byte(`{"action":"created"}`), nil)
	if res.StatusCode < 500 {
		t.Fatalf("answered %d with the journal unreachable", res.StatusCode)
	}
}

// A replica that took a delivery and stopped before finishing it leaves it in the journal;
// another replica takes it over after the claim time and handles it.
func TestJournalDeliveryOfADeadReplicaIsTakenOver(t *testing.T) {
	rs := redistest.Start(t)
	stuck := &recorder{block: make(chan struct{}), started: make(chan string, 1)}
	a, ra := startJournaled(t, rs, "a", stuck, time.Second)
	if res := a.post(t, "d-orphan", []byte(`{"action":"created"}`), nil); res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	<-stuck.started
	// a dies holding it: its connection to Redis is gone and its handler never returns.
	ra.Close()
	b, _ := startJournaled(t, rs, "b", &recorder{}, time.Second)
	waitForLong(t, "the other replica to take it over", 15*time.Second, func() bool { return len(b.rec.deliveries()) == 1 })
	if got := b.rec.deliveries(); got[0] != "d-orphan" {
		t.Fatalf("b handled %v", got)
	}
	if m := b.metrics(t); !strings.Contains(m, "daytwo_webhook_deliveries_total") {
		t.Fatal("no delivery metrics")
	}
	close(stuck.block)
}

// A delivery that keeps failing is set aside after maxAttempts, not retried forever.
func TestJournalDeadLetterAfterRepeatedFailures(t *testing.T) {
	rs := redistest.Start(t)
	rec := &recorder{}
	rec.fail.Store(true)
	a, ra := startJournaled(t, rs, "a", rec, time.Second)
	a.post(t, "d-bad", []byte(`{"action":"created"}`), nil)
	waitForLong(t, "the dead letter", 30*time.Second, func() bool {
		st, err := ra.Stats(context.Background())
		return err == nil && st.DeadLetters == 1 && st.Length == 0
	})
	if n := len(rec.deliveries()); n != maxAttempts {
		t.Fatalf("tried %d times, want %d", n, maxAttempts)
	}
}

func waitForLong(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
