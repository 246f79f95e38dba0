package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/coord/redistest"
)

const secret = "It's a Secret to Everybody"

// The test vector from GitHub's webhook documentation.
func TestValidSignatureGitHubVector(t *testing.T) {
	if !validSignature([]byte(secret), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", []byte("Hello, World!")) {
		t.Fatal("GitHub's documented signature was not accepted")
	}
	if validSignature([]byte(secret), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18", []byte("Hello, World!")) {
		t.Fatal("a wrong signature was accepted")
	}
	if validSignature([]byte(secret), "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59", []byte("Hello, World!")) {
		t.Fatal("a SHA-1 signature was accepted")
	}
}

// recorder is an event handler that counts what reaches it, optionally blocking.
type recorder struct {
	mu      sync.Mutex
	got     []string // delivery ids
	block   chan struct{}
	started chan string
	fail    atomic.Bool
	log     io.Writer // the server's log, when a test reads it
}

func (r *recorder) Handles() []string { return []string{"issue_comment", "ping"} }

func (r *recorder) Handle(ctx context.Context, event, delivery string, payload []byte) error {
	if r.started != nil {
		r.started <- delivery
	}
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	r.got = append(r.got, delivery)
	r.mu.Unlock()
	zerolog.Ctx(ctx).Info().Msg("handled")
	if r.fail.Load() {
		return fmt.Errorf("handler failed")
	}
	return nil
}

func (r *recorder) deliveries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func testKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

type harness struct {
	srv *Server
	url string
	rec *recorder
}

func start(t *testing.T, rec *recorder, tune func(*config.Config), opts ...Option) *harness {
	t.Helper()
	env := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": "1",
		"GITHUB_APP_WEBHOOK_SECRET": secret,
		"GITHUB_APP_PRIVATE_KEY":    testKeyPEM(t),
		"GITHUB_V3_API_URL":         "http://127.0.0.1:1/api/v3/",
	}
	cfg, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Webhook.MaxBodyBytes = 64 << 10
	if tune != nil {
		tune(cfg)
	}
	logTo := io.Writer(io.Discard)
	if rec.log != nil {
		logTo = rec.log
	}
	srv, err := New(cfg, zerolog.New(logTo), func(githubapp.ClientCreator) ([]githubapp.EventHandler, error) {
		return []githubapp.EventHandler{rec}, nil
	}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &harness{srv: srv, url: "http://" + l.Addr().String(), rec: rec}
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (h *harness) post(t *testing.T, delivery string, body []byte, headers map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.url+githubapp.DefaultWebhookRoute, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", sign(body))
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func (h *harness) metrics(t *testing.T) string {
	t.Helper()
	res, err := http.Get(h.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWebhookRejections(t *testing.T) {
	h := start(t, &recorder{}, nil)
	body := []byte(`{"action":"created"}`)
	sha1sig := func(b []byte) string {
		m := hmac.New(sha1.New, []byte(secret))
		m.Write(b)
		return "sha1=" + hex.EncodeToString(m.Sum(nil))
	}
	cases := []struct {
		name    string
		body    []byte
		headers map[string]string
		status  int
	}{
		{"wrong signature", body, map[string]string{"X-Hub-Signature-256": sign([]byte("other"))}, http.StatusUnauthorized},
		{"SHA-1 only", body, map[string]string{"X-Hub-Signature-256": "", "X-Hub-Signature": sha1sig(body)}, http.StatusUnauthorized},
		{"missing signature", body, map[string]string{"X-Hub-Signature-256": ""}, http.StatusUnauthorized},
		{"signature not hex", body, map[string]string{"X-Hub-Signature-256": "sha256=zz"}, http.StatusUnauthorized},
		{"oversized body", append(append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), 70<<10)...), '"', '}'), nil, http.StatusRequestEntityTooLarge},
		{"malformed JSON", []byte(`{"action":`), nil, http.StatusBadRequest},
		{"missing event", body, map[string]string{"X-GitHub-Event": ""}, http.StatusBadRequest},
		{"missing delivery", body, map[string]string{"X-GitHub-Delivery": ""}, http.StatusBadRequest},
		{"form encoded", body, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := h.post(t, fmt.Sprintf("reject-%d", i), tc.body, tc.headers)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
		})
	}
	res, err := http.Get(h.url + githubapp.DefaultWebhookRoute)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET status %d, want 405", res.StatusCode)
	}
	time.Sleep(50 * time.Millisecond)
	if got := h.rec.deliveries(); len(got) != 0 {
		t.Fatalf("rejected deliveries reached the handler: %v", got)
	}
	m := h.metrics(t)
	if !strings.Contains(m, `daytwo_webhook_deliveries_total{event="issue_comment",outcome="rejected"} 7`) ||
		!strings.Contains(m, `daytwo_webhook_deliveries_total{event="other",outcome="rejected"} 2`) ||
		!strings.Contains(m, `daytwo_webhook_deliveries_total{event="issue_comment",outcome="too_large"} 1`) {
		t.Fatalf("rejections not counted:\n%s", grep(m, "deliveries_total"))
	}
}

func TestReplayedDeliveryActedOnOnce(t *testing.T) {
	h := start(t, &recorder{}, nil)
	body := []byte(`{"action":"created"}`)
	for i := 0; i < 3; i++ {
		if res := h.post(t, "d-1", body, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	h.post(t, "d-2", body, nil)
	waitFor(t, "two deliveries", func() bool { return len(h.rec.deliveries()) == 2 })
	time.Sleep(50 * time.Millisecond)
	if got := h.rec.deliveries(); len(got) != 2 {
		t.Fatalf("handled %v, want d-1 and d-2 once each", got)
	}
	if m := h.metrics(t); !strings.Contains(m, `daytwo_webhook_deliveries_total{event="issue_comment",outcome="duplicate"} 2`) {
		t.Fatalf("duplicates not counted:\n%s", grep(m, "deliveries_total"))
	}
}

func TestFailedDeliveryCanBeRedelivered(t *testing.T) {
	rec := &recorder{}
	rec.fail.Store(true)
	h := start(t, rec, nil)
	body := []byte(`{"action":"created"}`)
	h.post(t, "d-f", body, nil)
	waitFor(t, "first attempt", func() bool { return len(rec.deliveries()) == 1 })
	rec.fail.Store(false)
	waitFor(t, "failure recorded", func() bool {
		return strings.Contains(h.metrics(t), `outcome="failed"} 1`)
	})
	h.post(t, "d-f", body, nil)
	waitFor(t, "redelivery", func() bool { return len(rec.deliveries()) == 2 })
}

func TestFullQueueAnswers503(t *testing.T) {
	rec := &recorder{block: make(chan struct{}), started: make(chan string, 10)}
	h := start(t, rec, func(c *config.Config) { c.Webhook.Workers = 1; c.Webhook.QueueSize = 1 })
	body := []byte(`{"action":"created"}`)
	if res := h.post(t, "q-1", body, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("first: %d", res.StatusCode)
	}
	<-rec.started // the worker holds q-1
	if res := h.post(t, "q-2", body, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("second (queued): %d", res.StatusCode)
	}
	if res := h.post(t, "q-3", body, nil); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third: %d, want 503", res.StatusCode)
	}
	m := h.metrics(t)
	if !strings.Contains(m, `outcome="queue_full"} 1`) || !strings.Contains(m, "daytwo_webhook_queue_depth 2") {
		t.Fatalf("queue metrics wrong:\n%s", grep(m, "daytwo_webhook"))
	}
	close(rec.block)
	waitFor(t, "queue drained", func() bool { return len(rec.deliveries()) == 2 })
}

func TestShutdownDrainsQueue(t *testing.T) {
	rec := &recorder{block: make(chan struct{}), started: make(chan string, 10)}
	h := start(t, rec, func(c *config.Config) { c.Webhook.Workers = 1 })
	body := []byte(`{"action":"created"}`)
	h.post(t, "s-1", body, nil)
	h.post(t, "s-2", body, nil)
	<-rec.started

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- h.srv.Shutdown(ctx)
	}()
	waitFor(t, "not ready", func() bool { return !h.srv.ready.Load() })
	// Accepted deliveries are finished before Shutdown returns.
	time.Sleep(20 * time.Millisecond)
	close(rec.block)
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if got := rec.deliveries(); len(got) != 2 {
		t.Fatalf("drained %v, want both deliveries", got)
	}
}

func TestShutdownDeadline(t *testing.T) {
	rec := &recorder{block: make(chan struct{}), started: make(chan string, 10)}
	h := start(t, rec, nil)
	h.post(t, "x-1", []byte(`{}`), nil)
	<-rec.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err == nil || !strings.Contains(err.Error(), "not drained") {
		t.Fatalf("shutdown with a stuck handler returned %v", err)
	}
	close(rec.block)
}

func TestHealthAndReadiness(t *testing.T) {
	h := start(t, &recorder{}, nil)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/nope": 404} {
		res, err := http.Get(h.url + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, want)
		}
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

type panicker struct{}

func (panicker) Handles() []string { return []string{"issue_comment"} }
func (panicker) Handle(context.Context, string, string, []byte) error {
	panic("handler bug")
}

func TestHandlerPanicDoesNotKillTheServer(t *testing.T) {
	env := map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": secret, "GITHUB_APP_PRIVATE_KEY": testKeyPEM(t)}
	cfg, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, zerolog.New(io.Discard), func(githubapp.ClientCreator) ([]githubapp.EventHandler, error) {
		return []githubapp.EventHandler{panicker{}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	defer srv.Shutdown(context.Background())
	h := &harness{srv: srv, url: "http://" + l.Addr().String()}
	for i := 0; i < 3; i++ {
		if res := h.post(t, fmt.Sprintf("p-%d", i), []byte(`{}`), nil); res.StatusCode != http.StatusOK {
			t.Fatalf("delivery %d after a panic: %d", i, res.StatusCode)
		}
	}
	waitFor(t, "three failures", func() bool {
		return strings.Contains(h.metrics(t), `daytwo_webhook_deliveries_total{event="issue_comment",outcome="failed"} 3`)
	})
}

// During a rotation GitHub signs with the new secret once the app's setting is saved, and
// deliveries already queued or redelivered still carry the old one: both reach the handler.
func TestWebhookSecretRotationAcceptsNewAndOld(t *testing.T) {
	const newSecret = "the new secret"
	h := start(t, &recorder{}, func(c *config.Config) {
		c.GitHub.App.WebhookSecret = newSecret
		c.PreviousWebhookSecret = secret
	})
	body := []byte(`{"action":"created"}`)
	signWith := func(key string) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(body)
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	for delivery, key := range map[string]string{"signed-new": newSecret, "signed-old": secret} {
		if res := h.post(t, delivery, body, map[string]string{"X-Hub-Signature-256": signWith(key)}); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", delivery, res.StatusCode)
		}
	}
	if res := h.post(t, "signed-other", body, map[string]string{"X-Hub-Signature-256": signWith("neither")}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a third secret: status %d, want 401", res.StatusCode)
	}
	waitFor(t, "both deliveries handled", func() bool { return len(h.rec.deliveries()) == 2 })

	// The rotation is over: the old secret is refused again.
	after := start(t, &recorder{}, func(c *config.Config) { c.GitHub.App.WebhookSecret = newSecret })
	if res := after.post(t, "old-after", body, nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old secret after the rotation: status %d, want 401", res.StatusCode)
	}
}

// Some log pipelines reject a JSON object with a repeated key.
func TestLogLinesHaveNoDuplicateKeys(t *testing.T) {
	t.Run("queue", func(t *testing.T) {
		var buf syncBuffer
		checkLogKeys(t, start(t, &recorder{log: &buf}, nil), &buf)
	})
	t.Run("journal", func(t *testing.T) {
		var buf syncBuffer
		h, _ := startJournaled(t, redistest.Start(t), "a", &recorder{log: &buf}, time.Minute)
		checkLogKeys(t, h, &buf)
	})
}

func checkLogKeys(t *testing.T, h *harness, buf *syncBuffer) {
	body := []byte(`{"action":"created"}`)
	h.post(t, "dup-1", body, nil)
	h.post(t, "dup-2", body, map[string]string{"X-Hub-Signature-256": sign([]byte("other"))})
	waitFor(t, "the handler's log line", func() bool { return strings.Contains(buf.String(), `"handled"`) })
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for _, line := range lines {
		if key := duplicateKey(t, line); key != "" {
			t.Errorf("key %q appears twice in %s", key, line)
		}
	}
	if !strings.Contains(buf.String(), `"github_delivery_id":"dup-1"`) || !strings.Contains(buf.String(), `"github_delivery_id":"dup-2"`) {
		t.Fatalf("the delivery ids are not logged:\n%s", buf.String())
	}
}

// duplicateKey returns a key repeated in the top level of the JSON object line.
func duplicateKey(t *testing.T, line string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v in %s", err, line)
		}
		key := tok.(string)
		if seen[key] {
			return key
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%v in %s", err, line)
		}
	}
	return ""
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
