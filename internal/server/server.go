// Package server is daytwo's composition root: GitHub clients, the webhook dispatcher and
// its worker queue, metrics, health endpoints and graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/metrics"
)

// Version is stamped at build time (-ldflags -X).
var Version = "dev"

// HandlerFactory builds the event handlers once the GitHub client creator exists.
type HandlerFactory func(githubapp.ClientCreator) ([]githubapp.EventHandler, error)

// Server is a running daytwo.
type Server struct {
	cfg     *config.Config
	log     zerolog.Logger
	Metrics *metrics.Metrics
	Clients githubapp.ClientCreator

	sched   *drainScheduler
	journal *journalScheduler // with a shared journal (Redis) instead of sched
	handler http.Handler
	http    *http.Server
	ready   atomic.Bool
}

// Option tunes New.
type Option func(*options)

type options struct {
	journal coord.Journal
	metrics *metrics.Metrics
}

// WithJournal keeps accepted deliveries in j, shared with other replicas, instead of in
// this process's queue.
func WithJournal(j coord.Journal) Option { return func(o *options) { o.journal = j } }

// WithMetrics records into m instead of a registry of the server's own.
func WithMetrics(m *metrics.Metrics) Option { return func(o *options) { o.metrics = m } }

// New wires the server; it does not listen yet.
func New(cfg *config.Config, log zerolog.Logger, handlers HandlerFactory, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.metrics == nil {
		o.metrics = metrics.New()
	}
	s := &Server{cfg: cfg, log: log, Metrics: o.metrics}

	clients, err := githubapp.NewDefaultCachingClientCreator(cfg.GitHub,
		githubapp.WithClientUserAgent("daytwo/"+Version),
		githubapp.WithClientTimeout(30*time.Second),
		// Revalidate every cached response (a 304 costs no rate limit): GitHub's max-age=60
		// would otherwise serve a minute-old list of open PRs or a stale branch head.
		githubapp.WithClientCaching(true, func() httpcache.Cache { return newResponseCache(responseCacheEntries) }),
		githubapp.WithClientMiddleware(
			githubapp.ClientLogging(zerolog.DebugLevel),
			githubapi.Retry(githubapi.DefaultRetryPolicy),
			s.Metrics.ClientMiddleware(),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("github clients: %w", err)
	}
	s.Clients = clients

	seen, err := newDeliveries(cfg.Webhook.DedupeCapacity)
	if err != nil {
		return nil, err
	}
	hs, err := handlers(clients)
	if err != nil {
		return nil, err
	}
	var wrapped []githubapp.EventHandler
	for _, h := range hs {
		wrapped = append(wrapped, instrumented{EventHandler: h, seen: seen, metrics: s.Metrics})
	}

	var sched githubapp.Scheduler
	if o.journal != nil {
		byEvent := map[string]githubapp.EventHandler{}
		for _, h := range wrapped {
			for _, e := range h.Handles() {
				byEvent[e] = h
			}
		}
		s.journal = &journalScheduler{j: o.journal, handlers: byEvent, workers: cfg.Webhook.Workers,
			maxAttempts: maxAttempts, dead: s.reportDead, log: log, metrics: s.Metrics}
		sched = s.journal
	} else {
		queue := githubapp.QueueAsyncScheduler(cfg.Webhook.QueueSize, cfg.Webhook.Workers,
			githubapp.WithAsyncErrorCallback(func(ctx context.Context, d githubapp.Dispatch, err error) {
				zerolog.Ctx(ctx).Error().Err(err).Msg("handling the delivery failed")
			}))
		s.sched = newDrainScheduler(queue, s.Metrics.QueueDepth)
		sched = s.sched
	}
	dispatcher := githubapp.NewEventDispatcher(wrapped, "", githubapp.WithScheduler(sched))

	mux := http.NewServeMux()
	mux.Handle(githubapp.DefaultWebhookRoute, verifyWebhook(cfg.WebhookSecrets(),
		cfg.Webhook.MaxBodyBytes, s.Metrics, log, dispatcher))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", s.Metrics.Handler())
	s.handler = mux
	return s, nil
}

// Handler is the server's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return s.log.WithContext(context.Background()) },
	}
	if s.journal != nil {
		s.journal.Start()
	}
	s.ready.Store(true)
	s.log.Info().Str("address", l.Addr().String()).Str("version", Version).Msg("daytwo listening")
	if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ListenAndServe listens on the configured address.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.cfg.Address)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Address, err)
	}
	return s.Serve(l)
}

// Shutdown stops accepting connections and deliveries, then waits for queued deliveries
// to finish, all within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	var err error
	if s.http != nil {
		err = s.http.Shutdown(ctx)
	}
	if s.journal != nil {
		// What is under way finishes; the rest stays in the journal for the other replicas.
		if jerr := s.journal.Stop(ctx); jerr != nil {
			s.log.Warn().Err(jerr).Msg("stopped with deliveries under way")
			return errors.Join(err, jerr)
		}
		s.log.Info().Msg("stopped; the journal keeps what is left")
		return err
	}
	if !s.sched.Drain(ctx) {
		s.log.Warn().Msg("shutdown deadline passed with deliveries still queued; they are lost unless redelivered")
		return errors.Join(err, errors.New("queue not drained before the deadline"))
	}
	s.log.Info().Msg("queue drained; stopped")
	return err
}
