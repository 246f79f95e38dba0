package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/metrics"
)

// verifyWebhook is the gate in front of go-githubapp's dispatcher. go-github's
// ValidatePayload falls back to the SHA-1 X-Hub-Signature header; daytwo accepts only a
// valid X-Hub-Signature-256, a bounded JSON body and the delivery headers it relies on.
func verifyWebhook(secrets []string, maxBody int64, m *metrics.Metrics, log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event := r.Header.Get("X-GitHub-Event")
		delivery := r.Header.Get("X-GitHub-Delivery")
		l := log.With().Str(githubapp.LogKeyEventType, event).Str(githubapp.LogKeyDeliveryID, delivery).Logger()
		reject := func(status int, outcome, msg string) {
			l.Warn().Int("status", status).Msg("webhook rejected: " + msg)
			m.Deliveries.WithLabelValues(eventLabel(event), outcome).Inc()
			http.Error(w, msg, status)
		}

		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			reject(http.StatusMethodNotAllowed, metrics.OutcomeRejected, "webhooks are POST requests")
			return
		}
		if event == "" || delivery == "" {
			reject(http.StatusBadRequest, metrics.OutcomeRejected, "missing X-GitHub-Event or X-GitHub-Delivery header")
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			reject(http.StatusUnsupportedMediaType, metrics.OutcomeRejected, "content type must be application/json (set it in the app's webhook settings)")
			return
		}
		sig := r.Header.Get("X-Hub-Signature-256")
		if sig == "" {
			reject(http.StatusUnauthorized, metrics.OutcomeRejected, "missing X-Hub-Signature-256 header")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				reject(http.StatusRequestEntityTooLarge, metrics.OutcomeTooLarge, "payload larger than the configured limit")
				return
			}
			reject(http.StatusBadRequest, metrics.OutcomeRejected, "cannot read body")
			return
		}
		if !slices.ContainsFunc(secrets, func(s string) bool { return validSignature([]byte(s), sig, body) }) {
			reject(http.StatusUnauthorized, metrics.OutcomeRejected, "X-Hub-Signature-256 does not match the payload")
			return
		}
		// Checked here against every configured secret: the dispatcher, which knows one,
		// sees no signature and checks none.
		r.Header.Del("X-Hub-Signature-256")
		r.Header.Del("X-Hub-Signature")
		if !json.Valid(body) {
			reject(http.StatusBadRequest, metrics.OutcomeRejected, "payload is not valid JSON")
			return
		}

		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		// The dispatcher adds the event and delivery to the logger itself; adding them here
		// too would repeat the keys in every line.
		r = r.WithContext(log.WithContext(r.Context()))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		switch sw.status {
		case http.StatusOK:
			m.Deliveries.WithLabelValues(eventLabel(event), metrics.OutcomeQueued).Inc()
		case http.StatusAccepted:
			m.Deliveries.WithLabelValues(eventLabel(event), metrics.OutcomeUnhandled).Inc()
		case http.StatusServiceUnavailable:
			m.Deliveries.WithLabelValues(eventLabel(event), metrics.OutcomeQueueFull).Inc()
		default:
			m.Deliveries.WithLabelValues(eventLabel(event), metrics.OutcomeRejected).Inc()
		}
	})
}

// validSignature checks "sha256=<hex HMAC-SHA256 of body>" in constant time.
func validSignature(secret []byte, header string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// eventLabel bounds the label's values: an unsigned request can carry any header.
func eventLabel(event string) string {
	switch event {
	case "issue_comment", "issues", "pull_request", "pull_request_review", "ping", "installation", "installation_repositories":
		return event
	}
	return "other"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
