package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/config"
)

type nopHandler struct{}

func (nopHandler) Handles() []string { return []string{"issue_comment"} }
func (nopHandler) Handle(context.Context, string, string, []byte) error {
	return nil
}

// BenchmarkWebhookAck measures the synchronous part of a delivery: signature check, body
// read, dispatch and enqueue, up to the 200 answer (handling happens on the workers).
func BenchmarkWebhookAck(b *testing.B) {
	key := testKeyPEM(&testing.T{})
	env := map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": secret, "GITHUB_APP_PRIVATE_KEY": key}
	cfg, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		b.Fatal(err)
	}
	cfg.Webhook.QueueSize = 1 << 16
	cfg.Webhook.DedupeCapacity = 1 << 16
	srv, err := New(cfg, zerolog.New(io.Discard), func(githubapp.ClientCreator) ([]githubapp.EventHandler, error) {
		return []githubapp.EventHandler{nopHandler{}}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// A realistic issue_comment payload is ~10 KB.
	body := []byte(fmt.Sprintf(`{"action":"created","comment":{"body":"/help","user":{"login":"octocat","type":"User"}},"pad":%q}`, bytes.Repeat([]byte("x"), 10<<10)))
	sig := sign(body)
	h := srv.Handler()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, githubapp.DefaultWebhookRoute, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "issue_comment")
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", i))
		req.Header.Set("X-Hub-Signature-256", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
