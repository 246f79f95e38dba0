package argoapi_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
)

// events collects WatchApps' events for a test to wait on.
type events struct {
	mu   sync.Mutex
	list []argoapi.AppEvent
	more chan struct{}
}

func newEvents() *events { return &events{more: make(chan struct{}, 1000)} }

func (e *events) add(ev argoapi.AppEvent) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
	e.more <- struct{}{}
}

// waitFor waits until an event satisfies cond.
func (e *events) waitFor(t *testing.T, what string, cond func(argoapi.AppEvent) bool) argoapi.AppEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		e.mu.Lock()
		for _, ev := range e.list {
			if cond(ev) {
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		select {
		case <-e.more:
		case <-deadline:
			t.Fatalf("no event: %s; got %+v", what, e.list)
		}
	}
}

func (e *events) reset() {
	e.mu.Lock()
	e.list = nil
	e.mu.Unlock()
}

func TestWatchAppsStreamsEveryKeptAppAndItsChanges(t *testing.T) {
	fake, _, c := setup(t)
	fake.AddApp("checkout-prod", false)
	fake.AddApp("catalog-prod", false)
	fake.AddApp("someone-elses", false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := newEvents()
	done := make(chan error, 1)
	go func() {
		done <- c.WatchApps(ctx, argoapi.WatchOptions{Keep: func(app string) bool { return app != "someone-elses" }}, got.add)
	}()
	got.waitFor(t, "checkout-prod at first", func(e argoapi.AppEvent) bool { return e.App == "checkout-prod" && e.Health == "Healthy" })
	got.waitFor(t, "catalog-prod at first", func(e argoapi.AppEvent) bool { return e.App == "catalog-prod" })

	fake.SetLive("checkout-prod", "Degraded", argoapitest.Resource{Kind: "Deployment", Namespace: "shop", Name: "checkout", Health: "Degraded", Message: "progress deadline exceeded"})
	ev := got.waitFor(t, "checkout-prod Degraded", func(e argoapi.AppEvent) bool { return e.App == "checkout-prod" && e.Health == "Degraded" })
	if len(ev.Unhealthy) != 1 || ev.Unhealthy[0].Message != "progress deadline exceeded" || ev.HealthSince.IsZero() {
		t.Errorf("the event carries the resources and the health's time: %+v", ev.State)
	}
	fake.RemoveApp("catalog-prod")
	got.waitFor(t, "catalog-prod deleted", func(e argoapi.AppEvent) bool { return e.App == "catalog-prod" && e.Deleted })

	got.mu.Lock()
	for _, e := range got.list {
		if e.App == "someone-elses" {
			t.Errorf("an app not kept was passed on: %+v", e)
		}
	}
	got.mu.Unlock()
	var watches int
	for _, call := range fake.Calls() {
		if call.Method == "Watch" && call.App == "" {
			watches++
		}
	}
	if watches != 1 {
		t.Errorf("one stream for all apps, got %d", watches)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ended by its context: %v", err)
	}
}

func TestWatchAppsReconnects(t *testing.T) {
	fake, _, c := setup(t)
	fake.AddApp("checkout-prod", false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := newEvents()
	reconnected := make(chan error, 10)
	go func() {
		_ = c.WatchApps(ctx, argoapi.WatchOptions{Reconnected: func(err error) { reconnected <- err }}, got.add)
	}()
	got.waitFor(t, "the app at first", func(e argoapi.AppEvent) bool { return e.App == "checkout-prod" })

	fake.Down() // Argo CD restarts; the app breaks meanwhile
	fake.SetLive("checkout-prod", "Degraded")
	got.reset()
	fake.Up()
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream was not opened again")
	}
	got.waitFor(t, "the change made while the stream was down", func(e argoapi.AppEvent) bool { return e.App == "checkout-prod" && e.Health == "Degraded" })
}

func TestWatchAppsRefusedTokenIsPermanent(t *testing.T) {
	fake, _, _ := setup(t)
	c, err := argoapi.New(argoapi.Options{Server: fake.Addr(), Token: "wrong", PlainText: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.WatchApps(ctx, argoapi.WatchOptions{}, func(argoapi.AppEvent) {})
	if !errors.Is(err, argoapi.ErrPermanent) || ctx.Err() != nil {
		t.Fatalf("want a permanent error at once, got %v", err)
	}
}
