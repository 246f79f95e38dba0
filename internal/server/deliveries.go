package server

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/metrics"
)

// deliveries remembers recent X-GitHub-Delivery ids so a replayed or redelivered delivery
// is acted on once. A delivery whose handling failed is forgotten, so a manual
// redelivery from GitHub's settings can retry it. Memory is bounded by the LRU capacity.
type deliveries struct {
	mu   sync.Mutex
	seen *lru.Cache // delivery id → struct{}
}

func newDeliveries(capacity int) (*deliveries, error) {
	c, err := lru.New(capacity)
	if err != nil {
		return nil, fmt.Errorf("delivery cache: %w", err)
	}
	return &deliveries{seen: c}, nil
}

// claim reports whether id is new, and records it.
func (d *deliveries) claim(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen.Contains(id) {
		return false
	}
	d.seen.Add(id, struct{}{})
	return true
}

func (d *deliveries) forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen.Remove(id)
}

// instrumented wraps an event handler with the once-per-delivery rule, panic recovery,
// outcome counting and latency measurement.
type instrumented struct {
	githubapp.EventHandler
	seen    *deliveries
	metrics *metrics.Metrics
}

func (h instrumented) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) (err error) {
	log := zerolog.Ctx(ctx)
	if !h.seen.claim(deliveryID) {
		h.metrics.Deliveries.WithLabelValues(eventLabel(eventType), metrics.OutcomeDuplicate).Inc()
		log.Info().Msg("delivery already handled; ignoring the replay")
		return nil
	}
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v\n%s", r, debug.Stack())
		}
		h.metrics.HandlerDuration.WithLabelValues(eventLabel(eventType)).Observe(time.Since(start).Seconds())
		outcome := metrics.OutcomeHandled
		if err != nil {
			outcome = metrics.OutcomeFailed
			h.seen.forget(deliveryID)
		}
		h.metrics.Deliveries.WithLabelValues(eventLabel(eventType), outcome).Inc()
	}()
	return h.EventHandler.Handle(ctx, eventType, deliveryID, payload)
}
