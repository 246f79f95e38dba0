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
		return roundTripper(func(r *http.Request) (*http.Response, error) {
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

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
