package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/metrics"
)

// journalScheduler keeps accepted deliveries in a shared coord.Journal instead of this
// process's memory: a delivery is recorded before GitHub gets its 2xx and removed only once
// handled, so a replica that dies (kill -9, OOM, a lost node) leaves its deliveries to the
// others, which claim them after the journal's claim time. Workers of every replica take
// from the same journal.
type journalScheduler struct {
	j        coord.Journal
	handlers map[string]githubapp.EventHandler // by event type
	workers  int
	// maxAttempts is how often a delivery is tried before it goes to the dead letters, and
	// dead is told so it can say so where it was asked.
	maxAttempts int
	dead        func(ctx context.Context, d coord.Delivery, why string)
	log         zerolog.Logger
	metrics     *metrics.Metrics

	mu      sync.Mutex
	cancel  context.CancelFunc
	running sync.WaitGroup // workers
	busy    sync.WaitGroup // deliveries being handled
	handled atomic.Int64   // deliveries being handled, for Idle
}

// Schedule records d in the journal; it is handled by whichever worker takes it. A
// delivery id recorded before is a replay (on any replica) and is not recorded again.
func (s *journalScheduler) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	added, err := s.j.Add(ctx, coord.Delivery{ID: d.DeliveryID, Event: d.EventType, Payload: d.Payload})
	if err != nil {
		// Not recorded: GitHub is answered with an error and the delivery shows as failed,
		// for a redelivery (the sweeper's, or a person's) to bring again.
		return fmt.Errorf("record the delivery in the journal: %w", err)
	}
	if !added {
		s.metrics.Deliveries.WithLabelValues(eventLabel(d.EventType), metrics.OutcomeDuplicate).Inc()
		zerolog.Ctx(ctx).Info().Msg("delivery recorded before; ignoring the replay")
	}
	return nil
}

// Start runs the workers until Stop.
func (s *journalScheduler) Start() {
	ctx, cancel := context.WithCancel(s.log.WithContext(context.Background()))
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	for range max(s.workers, 1) {
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			s.work(ctx)
		}()
	}
}

func (s *journalScheduler) work(ctx context.Context) {
	for {
		d, err := s.j.Next(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn().Err(err).Msg("cannot read the journal; trying again")
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
			continue
		}
		s.busy.Add(1)
		s.handled.Add(1)
		s.metrics.QueueDepth.Inc()
		s.handle(ctx, d)
		s.metrics.QueueDepth.Dec()
		s.handled.Add(-1)
		s.busy.Done()
	}
}

// handle runs d's handler. Done once it returns without error; a failure stays in the
// journal to be tried again after the claim time, until maxAttempts.
func (s *journalScheduler) handle(ctx context.Context, d coord.Delivery) {
	log := s.log.With().Str(githubapp.LogKeyEventType, d.Event).Str(githubapp.LogKeyDeliveryID, d.ID).Int("attempt", d.Attempts).Logger()
	ctx = coord.WithAttempt(log.WithContext(context.WithoutCancel(ctx)), d.Attempts) // a delivery under way finishes even while stopping
	h, ok := s.handlers[d.Event]
	if !ok {
		log.Warn().Msg("no handler for the journal's event; dropped")
		s.done(ctx, d)
		return
	}
	if d.Attempts > s.maxAttempts {
		why := fmt.Sprintf("failed %d times", d.Attempts-1)
		if err := s.j.Dead(ctx, d, why); err != nil {
			log.Error().Err(err).Msg("cannot move the delivery to the dead letters")
			return
		}
		log.Error().Msg("delivery moved to the dead letters")
		if s.dead != nil {
			s.dead(ctx, d, why)
		}
		return
	}
	if err := h.Handle(ctx, d.Event, d.ID, d.Payload); err != nil {
		log.Error().Err(err).Msg("handling the delivery failed; it stays in the journal for another attempt")
		if err := s.j.Release(ctx, d); err != nil {
			log.Warn().Err(err).Msg("cannot give the failed delivery up for another attempt")
		}
		return
	}
	if d.Attempts > 1 {
		s.metrics.Claims.Inc()
	}
	s.done(ctx, d)
}

func (s *journalScheduler) done(ctx context.Context, d coord.Delivery) {
	if err := s.j.Done(ctx, d); err != nil {
		// Handled but not removed: it is taken again after the claim time, and the
		// request's own identity makes that a no-op.
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot remove the handled delivery from the journal")
	}
}

// Stop takes no more deliveries and waits, within ctx, for those under way. What is
// not finished stays in the journal for another replica: nothing waits for it here.
func (s *journalScheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.running.Wait()
		s.busy.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("deliveries under way when the deadline passed stay in the journal for another replica")
	}
}
