// Package apptest runs the whole daytwo server, wired as `daytwo serve` wires it, against
// the test GitHub, for end-to-end tests.
package apptest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/ops"
	"github.com/daytwo-dev/daytwo/internal/server"
)

// Secret is the webhook secret shared by the app and the test GitHub.
const Secret = "apptest-secret"

// App is a running daytwo and the test GitHub it talks to.
type App struct {
	GH     *githubtest.Server
	Server *server.Server
	Runner *ops.Runner
	Base   string // http://127.0.0.1:port
	Logs   *SyncBuffer

	now  func() time.Time
	env  map[string]string
	name string // tags the log lines of a replica
	stop func()
	// expireEvery paces the leader's Runner.Expire (0: the server's default).
	expireEvery time.Duration

	daytwo *server.Daytwo
}

// Option tunes the test GitHub before the app starts.
type Option = githubtest.Option

// Start runs daytwo configured through the environment variables an operator sets.
func Start(t testing.TB, now func() time.Time, opts ...Option) *App {
	t.Helper()
	return StartWithEnv(t, now, nil, opts...)
}

// StartWithEnv is Start with more environment variables, e.g. DAYTWO_ARGOCD_SERVER.
func StartWithEnv(t testing.TB, now func() time.Time, extra map[string]string, opts ...Option) *App {
	t.Helper()
	return start(t, now, extra, 0, opts...)
}

// StartExpiring is Start with the leader looking for time-boxed changes whose time is up
// every expireEvery instead of every minute.
func StartExpiring(t testing.TB, now func() time.Time, expireEvery time.Duration, opts ...Option) *App {
	t.Helper()
	return start(t, now, nil, expireEvery, opts...)
}

func start(t testing.TB, now func() time.Time, extra map[string]string, expireEvery time.Duration, opts ...Option) *App {
	t.Helper()
	gh := githubtest.New(t, append([]githubtest.Option{githubtest.WithWebhookSecret(Secret)}, opts...)...)
	env := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_WEBHOOK_SECRET": Secret,
		"GITHUB_APP_PRIVATE_KEY":    string(gh.PrivateKeyPEM()),
		"GITHUB_V3_API_URL":         gh.V3URL(),
		"GITHUB_V4_API_URL":         gh.V4URL(),
		"DAYTWO_ADDR":               "127.0.0.1:0",
	}
	for k, v := range extra {
		env[k] = v
	}
	a := &App{GH: gh, now: now, env: env, Logs: &SyncBuffer{}, expireEvery: expireEvery}
	a.boot(t)
	t.Cleanup(func() { a.stop() })
	return a
}

// boot starts a daytwo process's worth of server and runner.
func (a *App) boot(t testing.TB) {
	t.Helper()
	cfg, err := config.Load("", func(k string) (string, bool) { v, ok := a.env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	d, err := server.Build(context.Background(), cfg, a.logger().Level(zerolog.DebugLevel), a.now)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.Serve(l) }()
	d.ExpireEvery = a.expireEvery
	d.Lead()
	a.Server, a.Runner, a.Base, a.daytwo = d.Server, d.Runner, "http://"+l.Addr().String(), d
	a.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	}
}

// Restart stops daytwo, as a crash or a deploy would, and starts a new one against the
// same GitHub; it resumes what the old one was following, as `daytwo serve` does.
func (a *App) Restart(t testing.TB) {
	t.Helper()
	a.stop()
	a.boot(t)
	ctx := a.logger().WithContext(context.Background())
	if err := a.Runner.Resume(ctx); err != nil {
		t.Fatalf("resume: %v", err)
	}
}

// Replica starts another daytwo on the same GitHub with the same settings, as a deployment
// with two replicas runs. It logs into the same buffer, tagged "instance", and stops at
// cleanup.
func (a *App) Replica(t testing.TB) *App {
	t.Helper()
	r := &App{GH: a.GH, now: a.now, env: a.env, Logs: a.Logs, name: "replica", expireEvery: a.expireEvery}
	r.boot(t)
	t.Cleanup(func() { r.stop() })
	return r
}

func (a *App) logger() zerolog.Logger {
	l := zerolog.New(a.Logs)
	if a.name != "" {
		l = l.With().Str("instance", a.name).Logger()
	}
	return l
}

// Hook is the webhook URL.
func (a *App) Hook() string { return a.Base + githubapp.DefaultWebhookRoute }

// Send delivers a signed webhook and requires it to be accepted.
func (a *App) Send(t testing.TB, event string, payload []byte) {
	t.Helper()
	a.SendWithDelivery(t, event, githubtest.NewDeliveryID(), payload)
}

// SendWithDelivery delivers with a given X-GitHub-Delivery, to replay one.
func (a *App) SendWithDelivery(t testing.TB, event, delivery string, payload []byte) {
	t.Helper()
	res, err := a.GH.SendWebhookWithDelivery(a.Hook(), event, delivery, payload)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhook %s answered %d", event, res.StatusCode)
	}
}

// Metrics returns the /metrics text.
func (a *App) Metrics(t testing.TB) string {
	t.Helper()
	res, err := http.Get(a.Base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// Eventually polls cond until it holds or 10 s pass.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Quiet waits until the app has no delivery queued or running.
func (a *App) Quiet(t testing.TB) {
	t.Helper()
	Eventually(t, "the queue to empty", func() bool {
		idle, err := a.daytwo.Idle(context.Background())
		return err == nil && idle
	})
}

// SyncBuffer is a bytes.Buffer safe for the logger and the test to share.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
