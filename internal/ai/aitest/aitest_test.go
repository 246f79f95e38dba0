package aitest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/ai/aitest"
)

// recorder keeps the failures the fake reports instead of failing the test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func post(t *testing.T, url, auth, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestFakeFailsBadRequests(t *testing.T) {
	good := `{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"Facts: checkout Degraded"}]}`
	for _, tc := range []struct {
		name, path, auth, body, want string
		status                       int
	}{
		{"good", "/v1/chat/completions", "Bearer tok", good, "", 200},
		{"wrong path", "/v1/completions", "Bearer tok", good, "want POST", 404},
		{"wrong token", "/v1/chat/completions", "Bearer nope", good, "Authorization", 401},
		{"wrong model", "/v1/chat/completions", "Bearer tok", strings.Replace(good, `"m"`, `"x"`, 1), "model", 404},
		{"no system message", "/v1/chat/completions", "Bearer tok", `{"model":"m","messages":[{"role":"user","content":"checkout Degraded"}]}`, "system message", 400},
		{"a secret", "/v1/chat/completions", "Bearer tok", strings.Replace(good, "Degraded", "Degraded ghp_"+strings.Repeat("a", 36), 1), "something secret", 200},
		{"a forbidden value", "/v1/chat/completions", "Bearer tok", strings.Replace(good, "Degraded", "Degraded hunter2", 1), "the secret", 200},
		{"a missing fact", "/v1/chat/completions", "Bearer tok", strings.Replace(good, "checkout ", "", 1), "lacks the fact", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			f := aitest.New(rec, aitest.Options{Model: "m", Token: "tok"})
			f.Require("checkout")
			f.Forbid("hunter2")
			if got := post(t, strings.TrimSuffix(f.URL, "/v1")+tc.path, tc.auth, tc.body); got != tc.status {
				t.Errorf("status %d, want %d", got, tc.status)
			}
			joined := strings.Join(rec.errs, "\n")
			if (tc.want == "") != (joined == "") || !strings.Contains(joined, tc.want) {
				t.Errorf("fake reported %q, want %q", joined, tc.want)
			}
		})
	}
}
