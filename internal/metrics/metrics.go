// Package metrics holds daytwo's Prometheus metrics and the GitHub client middleware
// that feeds the request and rate-limit ones.
package metrics

import (
	"net/http"
	"strconv"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcomes of a webhook delivery, the values of the "outcome" label.
const (
	OutcomeQueued    = "queued"     // accepted and queued for a worker
	OutcomeUnhandled = "unhandled"  // an event daytwo does not subscribe to (202)
	OutcomeRejected  = "rejected"   // bad or missing signature, malformed request (400)
	OutcomeTooLarge  = "too_large"  // body over the limit (413)
	OutcomeQueueFull = "queue_full" // no capacity (503)
	OutcomeHandled   = "handled"    // a worker finished it without error
	OutcomeFailed    = "failed"     // a worker finished it with an error or panic
	OutcomeDuplicate = "duplicate"  // a delivery id already acted on
)

// Metrics is one registry and the collectors daytwo records into.
type Metrics struct {
	Registry        *prometheus.Registry
	Deliveries      *prometheus.CounterVec   // event, outcome
	QueueDepth      prometheus.Gauge         // deliveries accepted but not started
	HandlerDuration *prometheus.HistogramVec // event
	GitHubRequests  *prometheus.CounterVec   // status
	RateRemaining   *prometheus.GaugeVec     // resource

	// With several replicas (Redis): the shared journal, locks and leadership.
	JournalLength  prometheus.Gauge
	JournalLag     prometheus.Gauge
	JournalPending *prometheus.GaugeVec // consumer
	DeadLetters    prometheus.Gauge
	Claims         prometheus.Counter // deliveries taken again after their consumer stopped
	LockWaits      prometheus.Counter
	LockLosses     prometheus.Counter
	Leader         prometheus.Gauge       // 1 while this replica leads
	LeaderChanges  prometheus.Counter     // times this replica became leader
	Redeliveries   *prometheus.CounterVec // event
}

// New registers daytwo's collectors plus the Go and process ones on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "daytwo_webhook_deliveries_total",
			Help: "Webhook deliveries by event and outcome.",
		}, []string{"event", "outcome"}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "daytwo_webhook_queue_depth",
			Help: "Deliveries accepted and waiting for or running in a worker.",
		}),
		HandlerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "daytwo_handler_duration_seconds",
			Help:    "Time a worker spent handling one delivery.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, []string{"event"}),
		GitHubRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "daytwo_github_requests_total",
			Help: "Requests to the GitHub API by response status (\"error\" when no response).",
		}, []string{"status"}),
		RateRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "daytwo_github_rate_limit_remaining",
			Help: "x-ratelimit-remaining of the latest GitHub response, by rate-limit resource.",
		}, []string{"resource"}),
	}
	m.JournalLength = prometheus.NewGauge(prometheus.GaugeOpts{Name: "daytwo_journal_length", Help: "Deliveries kept in the shared journal."})
	m.JournalLag = prometheus.NewGauge(prometheus.GaugeOpts{Name: "daytwo_journal_lag", Help: "Deliveries in the journal no replica has taken yet."})
	m.JournalPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "daytwo_journal_pending", Help: "Deliveries taken and not finished, by consumer (replica)."}, []string{"consumer"})
	m.DeadLetters = prometheus.NewGauge(prometheus.GaugeOpts{Name: "daytwo_journal_dead_letters", Help: "Deliveries given up on after too many attempts."})
	m.Claims = prometheus.NewCounter(prometheus.CounterOpts{Name: "daytwo_journal_claims_total", Help: "Deliveries taken again after the replica holding them stopped or failed them."})
	m.LockWaits = prometheus.NewCounter(prometheus.CounterOpts{Name: "daytwo_lock_waits_total", Help: "Target locks that were held by another command when asked for."})
	m.LockLosses = prometheus.NewCounter(prometheus.CounterOpts{Name: "daytwo_lock_losses_total", Help: "Target locks lost before the command wrote (it planned again)."})
	m.Leader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "daytwo_leader", Help: "1 while this replica runs the loops that run once (rollout resumption, redelivery)."})
	m.LeaderChanges = prometheus.NewCounter(prometheus.CounterOpts{Name: "daytwo_leader_changes_total", Help: "Times this replica became the leader."})
	m.Redeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "daytwo_redeliveries_total", Help: "Failed deliveries GitHub was asked to deliver again, by event."}, []string{"event"})
	m.Registry.MustRegister(m.JournalLength, m.JournalLag, m.JournalPending, m.DeadLetters, m.Claims,
		m.LockWaits, m.LockLosses, m.Leader, m.LeaderChanges, m.Redeliveries)
	m.Registry.MustRegister(m.Deliveries, m.QueueDepth, m.HandlerDuration, m.GitHubRequests, m.RateRemaining,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ClientMiddleware counts GitHub API responses and records the remaining rate limit.
func (m *Metrics) ClientMiddleware() githubapp.ClientMiddleware {
	return func(next http.RoundTripper) http.RoundTripper {
		return promhttp.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
			res, err := next.RoundTrip(r)
			if err != nil {
				m.GitHubRequests.WithLabelValues("error").Inc()
				return res, err
			}
			m.GitHubRequests.WithLabelValues(strconv.Itoa(res.StatusCode)).Inc()
			if v := res.Header.Get("X-RateLimit-Remaining"); v != "" {
				if n, err := strconv.ParseFloat(v, 64); err == nil {
					resource := res.Header.Get("X-RateLimit-Resource")
					if resource == "" {
						resource = "core"
					}
					m.RateRemaining.WithLabelValues(resource).Set(n)
				}
			}
			return res, nil
		})
	}
}
