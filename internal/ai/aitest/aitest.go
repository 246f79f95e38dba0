// Package aitest is a local fake of an OpenAI-compatible chat-completions API, over real
// HTTP, for tests. It checks each request — method, path, model, authentication header,
// that the messages carry the facts a test requires and nothing secret — failing the test
// otherwise, and serves the canned answer the test chose.
package aitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options describe the endpoint a client is configured for.
type Options struct {
	Model string
	Token string // expected as "Authorization: Bearer <token>", or api-key on Azure; "" for none
	// APIVersion makes the fake Azure OpenAI: /openai/deployments/<model>/chat/completions?api-version=<v>.
	APIVersion string
}

// Reply is one canned answer.
type Reply struct {
	Status       int           // HTTP status; 0 is 200
	Delay        time.Duration // wait before answering (ends early when the client gives up)
	Content      string        // the message's content
	Refusal      string        // the message's refusal
	FinishReason string        // "" is "stop"
}

// JSON is the answer asked for: {"text": text, "commands": commands}.
func JSON(text string, commands ...string) Reply {
	b, _ := json.Marshal(map[string]any{"text": text, "commands": append([]string{}, commands...)})
	return Reply{Content: string(b)}
}

// Plain is a model ignoring response_format.
func Plain(text string) Reply { return Reply{Content: text} }

// Malformed is JSON cut short.
func Malformed() Reply { return Reply{Content: `{"text": "checkout is slow because`} }

// Refusal is a model declining (the refusal field).
func Refusal() Reply { return Reply{Refusal: "I'm sorry, I can't help with that."} }

// Filtered is an answer stopped by a content filter.
func Filtered() Reply { return Reply{FinishReason: "content_filter"} }

// Slow is r, after d.
func Slow(d time.Duration, r Reply) Reply { r.Delay = d; return r }

// Status is an HTTP error answer in the API's error shape: 429 is a rate limit.
func Status(code int) Reply { return Reply{Status: code} }

// Request is one request the fake received and accepted.
type Request struct {
	Path     string
	Header   http.Header
	Model    string
	Messages []Message
	// JSONMode says response_format asked for a json_object.
	JSONMode bool
	// MaxTokens and MaxCompletionTokens are the limits asked for; 0 when absent.
	MaxTokens, MaxCompletionTokens int
	// Temperature is nil when the request leaves it to the model.
	Temperature *float64
}

// Message is one chat message of a request.
type Message struct{ Role, Content string }

// Text is every message's content, joined.
func (r Request) Text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Content + "\n")
	}
	return b.String()
}

// Server is the fake.
type Server struct {
	URL string // the base URL a client is configured with (…/v1, or the Azure resource)

	t    testing.TB
	opts Options
	srv  *httptest.Server

	mu        sync.Mutex
	replies   []Reply // served in turn; the last one repeats
	requests  []Request
	require   []string
	forbidden []string
}

// secretRE matches what must never reach a model, whatever a test forbids in addition.
var secretRE = regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}|-----BEGIN [A-Z ]*PRIVATE KEY|(?i)bearer [A-Za-z0-9._~+/-]{6,}|(?i)password\s*[:=]\s*[^\s\[]`)

// New starts the fake, answering JSON("…") until told otherwise; it stops at cleanup.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, opts: opts, replies: []Reply{JSON("The facts show nothing wrong.")}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + "/v1"
	if opts.APIVersion != "" {
		s.URL = s.srv.URL
	}
	return s
}

// Serve sets the answers, one per request in turn; the last repeats.
func (s *Server) Serve(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = replies
}

// Require fails the test unless every request's messages hold each of facts.
func (s *Server) Require(facts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.require = append(s.require, facts...)
}

// Forbid fails the test when a request holds any of secrets, beyond the built-in patterns.
func (s *Server) Forbid(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidden = append(s.forbidden, secrets...)
}

// Requests are the requests received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// chatRequest is the part of a chat-completions request the fake reads.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	MaxTokens           int      `json:"max_tokens"`
	MaxCompletionTokens int      `json:"max_completion_tokens"`
	Temperature         *float64 `json:"temperature"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		s.t.Errorf("aitest: %s %s: %s", r.Method, r.URL, msg)
		writeError(w, status, msg, "invalid_request_error")
	}
	wantPath, wantQuery := "/v1/chat/completions", ""
	if s.opts.APIVersion != "" {
		wantPath, wantQuery = "/openai/deployments/"+s.opts.Model+"/chat/completions", "api-version="+s.opts.APIVersion
	}
	if r.Method != http.MethodPost || r.URL.Path != wantPath || r.URL.RawQuery != wantQuery {
		fail(http.StatusNotFound, "want POST %s?%s", wantPath, wantQuery)
		return
	}
	switch {
	case s.opts.APIVersion != "" && (r.Header.Get("api-key") != s.opts.Token || r.Header.Get("Authorization") != ""):
		fail(http.StatusUnauthorized, "Azure wants the api-key header and no Authorization")
		return
	case s.opts.APIVersion == "" && s.opts.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.Token:
		fail(http.StatusUnauthorized, "want Authorization: Bearer <token>")
		return
	case s.opts.APIVersion == "" && s.opts.Token == "" && r.Header.Get("Authorization") != "":
		fail(http.StatusBadRequest, "no token is configured, yet an Authorization header came")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail(http.StatusBadRequest, "Content-Type %q", ct)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(http.StatusBadRequest, "read: %v", err)
		return
	}
	var cr chatRequest
	if err := json.Unmarshal(body, &cr); err != nil {
		fail(http.StatusBadRequest, "body is not JSON: %v", err)
		return
	}
	req := Request{
		Path: r.URL.Path, Header: r.Header.Clone(), Model: cr.Model, JSONMode: cr.ResponseFormat != nil && cr.ResponseFormat.Type == "json_object",
		MaxTokens: cr.MaxTokens, MaxCompletionTokens: cr.MaxCompletionTokens, Temperature: cr.Temperature,
	}
	for _, m := range cr.Messages {
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: m.Content})
	}
	if cr.Model != s.opts.Model {
		fail(http.StatusNotFound, "model %q, want %q", cr.Model, s.opts.Model)
		return
	}
	if len(req.Messages) < 2 || req.Messages[0].Role != "system" || req.Messages[len(req.Messages)-1].Role != "user" {
		fail(http.StatusBadRequest, "want a system message, then the user's")
		return
	}
	s.mu.Lock()
	require, forbidden := s.require, s.forbidden
	s.requests = append(s.requests, req)
	reply := s.replies[0]
	if len(s.replies) > 1 {
		s.replies = s.replies[1:]
	}
	s.mu.Unlock()
	text := string(body) // secrets are looked for in the whole request, JSON-escaped or not
	for _, f := range require {
		if !strings.Contains(req.Text(), f) {
			s.t.Errorf("aitest: the prompt lacks the fact %q:\n%s", f, req.Text())
		}
	}
	for _, f := range forbidden {
		if strings.Contains(text, f) || strings.Contains(req.Text(), f) {
			s.t.Errorf("aitest: the prompt holds the secret %q", f)
		}
	}
	if m := secretRE.FindString(req.Text()); m != "" {
		s.t.Errorf("aitest: the prompt holds something secret: %q", m)
	}

	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		kind := "server_error"
		if reply.Status == http.StatusTooManyRequests {
			kind = "requests"
		}
		writeError(w, reply.Status, http.StatusText(reply.Status), kind)
		return
	}
	finish := reply.FinishReason
	if finish == "" {
		finish = "stop"
	}
	msg := map[string]any{"role": "assistant", "content": reply.Content}
	if reply.Refusal != "" {
		msg["content"], msg["refusal"] = nil, reply.Refusal
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-aitest", "object": "chat.completion", "created": time.Now().Unix(), "model": cr.Model,
		"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": finish}},
		"usage":   map[string]int{"prompt_tokens": len(body) / 4, "completion_tokens": len(reply.Content) / 4, "total_tokens": (len(body) + len(reply.Content)) / 4},
	})
}

// writeError answers in the API's error shape.
func writeError(w http.ResponseWriter, status int, msg, kind string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": kind, "param": nil, "code": nil}})
}
