package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/handler"
	"github.com/daytwo-dev/daytwo/internal/metrics"
	"github.com/daytwo-dev/daytwo/internal/ops"
	"github.com/daytwo-dev/daytwo/internal/redeliver"
)

// resumeEvery paces the leader's look for rollouts nobody follows (their follower died).
const resumeEvery = 2 * time.Minute

// DefaultExpireEvery paces the leader's look for time-boxed changes whose time is up.
const DefaultExpireEvery = time.Minute

// Daytwo is one daytwo process, built the one way `daytwo serve` and the tests build it:
// the HTTP server, the runner, and how it coordinates with other replicas (in-process
// without Redis; the shared journal, locks and leader with it).
type Daytwo struct {
	*Server
	Runner *ops.Runner
	// ExpireEvery paces Runner.Expire on the leader (0: DefaultExpireEvery); set it
	// before Lead.
	ExpireEvery time.Duration

	log     zerolog.Logger
	redis   *coord.Redis // nil without Redis
	elector coord.Elector
	lead    context.CancelFunc
	leading chan struct{}
	// incidents: the leader watches Argo CD's applications for incidents.
	incidents bool
}

// Build wires a daytwo process from cfg; now is the clock (nil: the real one). With
// cfg.Redis it connects to Redis first and refuses to start without it.
func Build(ctx context.Context, cfg *config.Config, log zerolog.Logger, now func() time.Time) (*Daytwo, error) {
	d := &Daytwo{log: log, incidents: cfg.IncidentsOn()}
	m := metrics.New()
	var locker coord.Locker
	var opts []Option
	if cfg.Redis.Enabled() {
		r, err := coord.Open(ctx, cfg.Redis, coord.ConsumerName(), coord.Timing{})
		if err != nil {
			return nil, err
		}
		d.redis, d.elector, locker = r, r, r
		opts = append(opts, WithJournal(r))
		log.Info().Str("redis", cfg.Redis.String()).Msg("coordinating with other replicas through Redis")
	} else {
		e := &coord.Embedded{}
		d.elector, locker = e, e
	}
	locker = countingLocker{Locker: locker, m: m}
	// The one list of commands: the handlers parse with it, the runner checks configs by it.
	commands := command.All()
	srv, err := New(cfg, log, func(c githubapp.ClientCreator) ([]githubapp.EventHandler, error) {
		var rerr error
		if d.Runner, rerr = ops.New(cfg, c, commands, now); rerr != nil {
			return nil, rerr
		}
		d.Runner.Locks = locker
		return handler.New(c, commands, d.Runner)
	}, append(opts, WithMetrics(m))...)
	if err != nil {
		d.closeRedis()
		return nil, err
	}
	d.Server = srv
	return d, nil
}

// Lead runs, on whichever replica leads, the loops that must run once: following again
// the rollouts nobody follows (at once, then every few minutes), asking GitHub to
// redeliver the deliveries that failed (GitHub never does so on its own), restoring the
// time-boxed changes whose time is up (every ExpireEvery), and, with incidents on,
// watching Argo CD's applications for incidents.
func (d *Daytwo) Lead() {
	ctx, cancel := context.WithCancel(d.log.WithContext(context.Background()))
	d.lead, d.leading = cancel, make(chan struct{})
	go func() {
		defer close(d.leading)
		d.elector.Lead(ctx, func(lctx context.Context) {
			d.Metrics.Leader.Set(1)
			d.Metrics.LeaderChanges.Inc()
			defer d.Metrics.Leader.Set(0)
			d.log.Info().Msg("leading: resuming rollouts nobody follows, redelivering failed deliveries")
			sweeper := &redeliver.Sweeper{Clients: d.Clients, OnRedeliver: func(_, event string) {
				d.Metrics.Redeliveries.WithLabelValues(event).Inc()
			}}
			go d.expireLoop(lctx)
			go func() {
				// The first sweep waits a period: a delivery failing now is still being
				// answered, and a process that just started has nothing to catch up on.
				select {
				case <-lctx.Done():
					return
				case <-time.After(redeliver.DefaultEvery):
				}
				sweeper.Run(lctx)
			}()
			if d.incidents {
				go func() {
					if err := d.Runner.WatchIncidents(lctx); err != nil {
						d.log.Warn().Err(err).Msg("cannot watch for incidents")
					}
				}()
			}
			for {
				if err := d.Runner.Resume(lctx); err != nil && lctx.Err() == nil {
					d.log.Warn().Err(err).Msg("cannot resume the rollouts being followed")
				}
				select {
				case <-lctx.Done():
					return
				case <-time.After(resumeEvery):
				}
			}
		})
	}()
	if d.redis != nil {
		go d.journalFigures(ctx)
	}
}

// expireLoop restores the time-boxed changes whose time is up, every ExpireEvery for as
// long as this replica leads. The first look waits a period too: an expiry is due
// minutes or days after its merge, never at the moment a process starts.
func (d *Daytwo) expireLoop(ctx context.Context) {
	every := d.ExpireEvery
	if every <= 0 {
		every = DefaultExpireEvery
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		if err := d.Runner.Expire(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn().Err(err).Msg("cannot restore the time-boxed changes whose time is up")
		}
	}
}

// journalFigures keeps the journal's gauges current.
func (d *Daytwo) journalFigures(ctx context.Context) {
	for {
		if st, err := d.redis.Stats(ctx); err == nil {
			d.Metrics.JournalLength.Set(float64(st.Length))
			d.Metrics.JournalLag.Set(float64(st.Lag))
			d.Metrics.DeadLetters.Set(float64(st.DeadLetters))
			d.Metrics.JournalPending.Reset()
			for c, n := range st.Pending {
				d.Metrics.JournalPending.WithLabelValues(c).Set(float64(n))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

// Idle reports whether no delivery waits or runs: in this process's queue, or with Redis in
// the shared journal and this replica's workers.
func (d *Daytwo) Idle(ctx context.Context) (bool, error) {
	if d.journal == nil {
		return d.sched.waiting() == 0, nil
	}
	st, err := d.redis.Stats(ctx)
	if err != nil {
		return false, err
	}
	return st.Length == 0 && d.journal.handled.Load() == 0, nil
}

// Stop ends leading, stops taking deliveries and waits within ctx for those under way,
// stops following rollouts (they stay marked for the next leader) and disconnects.
func (d *Daytwo) Stop(ctx context.Context) error {
	if d.lead != nil {
		d.lead()
		<-d.leading
	}
	err := d.Shutdown(ctx)
	d.Runner.Close()
	return errors.Join(err, d.closeRedis())
}

func (d *Daytwo) closeRedis() error {
	if d.redis == nil {
		return nil
	}
	return d.redis.Close()
}

// countingLocker counts lock waits and losses.
type countingLocker struct {
	coord.Locker
	m *metrics.Metrics
}

func (c countingLocker) Lock(ctx context.Context, key string) (coord.Lease, error) {
	l, err := c.Locker.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	if l.Waited() {
		c.m.LockWaits.Inc()
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-l.Lost():
			c.m.LockLosses.Inc()
		case <-done:
		}
	}()
	return &countedLease{Lease: l, done: done}, nil
}

type countedLease struct {
	coord.Lease
	done chan struct{}
	once sync.Once
}

func (l *countedLease) Unlock() {
	l.Lease.Unlock()
	l.once.Do(func() { close(l.done) })
}
