package server

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
)

// drainScheduler wraps go-githubapp's bounded queue scheduler, which has no way to stop:
// it counts accepted deliveries so shutdown can refuse new ones (503, GitHub may be asked
// to redeliver) and wait for the queue to empty.
type drainScheduler struct {
	inner githubapp.Scheduler
	depth prometheus.Gauge

	mu      sync.RWMutex
	closed  bool
	pending sync.WaitGroup
	count   atomic.Int64 // accepted and not finished
}

func (s *drainScheduler) waiting() int64 { return s.count.Load() }

func newDrainScheduler(inner githubapp.Scheduler, depth prometheus.Gauge) *drainScheduler {
	return &drainScheduler{inner: inner, depth: depth}
}

func (s *drainScheduler) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return githubapp.ErrCapacityExceeded
	}
	s.pending.Add(1)
	s.count.Add(1)
	s.depth.Inc()
	handler := d.Handler
	d.Handler = finishing{EventHandler: handler, done: func() {
		s.depth.Dec()
		s.count.Add(-1)
		s.pending.Done()
	}}
	if err := s.inner.Schedule(ctx, d); err != nil {
		s.depth.Dec()
		s.count.Add(-1)
		s.pending.Done()
		return err
	}
	return nil
}

// Drain refuses new deliveries and waits until every accepted one has been handled or
// ctx ends; it reports whether the queue emptied.
func (s *drainScheduler) Drain(ctx context.Context) bool {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

type finishing struct {
	githubapp.EventHandler
	done func()
}

func (f finishing) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	defer f.done()
	return f.EventHandler.Handle(ctx, eventType, deliveryID, payload)
}
