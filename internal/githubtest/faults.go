package githubtest

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// Fault changes how matching requests are answered.
type Fault struct {
	// Status is the answer's status code; 0 means answer normally (after Delay).
	Status int
	// Times is how many matching requests the fault applies to; 0 means all of them.
	Times int
	// Delay holds the request this long before answering.
	Delay time.Duration
	// Headers are added to the answer, overriding the usual rate-limit headers.
	Headers map[string]string
	// Body is the answer's body; empty means a GitHub-style JSON error for Status.
	Body string
	// Lost carries the request out and then answers Status instead of the real answer, as
	// when a proxy or the connection fails after GitHub did the work: the client cannot
	// tell whether its write happened.
	Lost bool
}

type faultRule struct {
	method  string
	pattern string
	fault   Fault
	left    int // remaining uses when fault.Times > 0
}

// Fault makes requests matching method ("" or "*" for any) and pathPattern answer with f.
// Patterns are matched against the API path without the /api/v3 prefix, with path.Match
// syntax ("*" is one segment), and a pattern ending in "/..." matches everything below it:
// "/repos/acme/gitops/pulls", "/repos/*/*/git/refs", "/repos/acme/gitops/...".
// Rules are tried in the order added; an exhausted rule stops matching.
func (s *Server) Fault(method, pathPattern string, f Fault) {
	if _, err := path.Match(pathPattern, "/"); err != nil {
		s.fatalf("fault pattern %q: %v", pathPattern, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{method: strings.ToUpper(method), pattern: pathPattern, fault: f, left: f.Times})
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.fieldFaults = nil, nil
}

// SecondaryRateLimit is a fault answering 403 with retry-after, as GitHub's secondary limits do.
func SecondaryRateLimit(retryAfter time.Duration, times int) Fault {
	return Fault{
		Status:  http.StatusForbidden,
		Times:   times,
		Headers: map[string]string{"Retry-After": strconv.Itoa(int(retryAfter / time.Second))},
		Body:    `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`,
	}
}

// PrimaryRateLimit is a fault answering 403 with x-ratelimit-remaining 0 until reset.
func PrimaryRateLimit(reset time.Time, times int) Fault {
	return Fault{
		Status: http.StatusForbidden,
		Times:  times,
		Headers: map[string]string{
			"X-RateLimit-Remaining": "0",
			"X-RateLimit-Used":      "5000",
			"X-RateLimit-Limit":     "5000",
			"X-RateLimit-Reset":     strconv.FormatInt(reset.Unix(), 10),
		},
		Body: `{"message":"API rate limit exceeded for installation.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits","status":"403"}`,
	}
}

func faultMatches(rule *faultRule, method, apiPath string) bool {
	if rule.method != "" && rule.method != "*" && rule.method != method {
		return false
	}
	if prefix, ok := strings.CutSuffix(rule.pattern, "/..."); ok {
		n := strings.Count(prefix, "/")
		segs := strings.Split(apiPath, "/")
		if len(segs) < n+1 {
			return false
		}
		ok, _ := path.Match(prefix, strings.Join(segs[:n+1], "/"))
		return ok
	}
	ok, _ := path.Match(rule.pattern, apiPath)
	return ok
}

// takeFault returns the first live rule matching the request, using it up once.
func (s *Server) takeFault(method, apiPath string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rule := range s.faults {
		if rule.fault.Times > 0 && rule.left == 0 {
			continue
		}
		if !faultMatches(rule, method, apiPath) {
			continue
		}
		if rule.fault.Times > 0 {
			rule.left--
		}
		f := rule.fault
		return &f
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	s.mu.Lock()
	s.setRateHeaders(w, "ip", false)
	s.mu.Unlock()
	for k, v := range f.Headers {
		w.Header().Set(k, v)
	}
	body := f.Body
	if body == "" {
		body = fmt.Sprintf(`{"message":%q,"documentation_url":"https://docs.github.com/rest","status":"%d"}`, http.StatusText(f.Status), f.Status)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
}

// Request is one logged request.
type Request struct {
	Method string
	// Path is the API path without the /api/v3 prefix, e.g. /repos/acme/gitops/pulls.
	Path  string
	Query string
	// Status is the status code answered.
	Status int
	// Token is the credential sent in Authorization (installation token or app JWT), or "".
	Token string
	// Installation is the installation a valid token belongs to, or whose token was requested.
	Installation int64
	// Faulted is set when an injected fault answered instead of the API.
	Faulted bool
	// Body is the request body of writes.
	Body []byte
	Time time.Time
	// Operation is a GraphQL request's operation name, e.g. "daytwoChange", and
	// OperationType "query" or "mutation".
	Operation, OperationType string
}

// Write reports whether the request changes something: a REST method other than GET or
// HEAD, or a GraphQL mutation.
func (r Request) Write() bool {
	if r.OperationType != "" {
		return r.OperationType == "mutation"
	}
	return r.Method != http.MethodGet && r.Method != http.MethodHead
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, r)
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// CountRequests counts logged requests with this method ("" for any) whose path starts
// with pathPrefix.
func (s *Server) CountRequests(method, pathPrefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if (method == "" || strings.EqualFold(method, r.Method)) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// ResetLog empties the request log.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// rateWindow is one hour of a rate-limit budget.
type rateWindow struct {
	limit int
	used  int
	reset time.Time
}

func (s *Server) window(key string) *rateWindow {
	now := time.Now()
	w := s.rates[key]
	if w == nil || !now.Before(w.reset) {
		limit := s.rateLimit
		if key == "ip" {
			limit = 60
		}
		w = &rateWindow{limit: limit, reset: now.Add(time.Hour).Truncate(time.Second)}
		s.rates[key] = w
	}
	return w
}

func (s *Server) setRateHeaders(w http.ResponseWriter, key string, spend bool) {
	win := s.window(key)
	if spend {
		win.used++
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(win.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(win.limit-win.used, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(win.used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(win.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// spendRate charges one request to key's budget, answering 403 when it is spent.
func (s *Server) spendRate(c *call, key string) bool {
	win := s.window(key)
	if win.used >= win.limit {
		s.setRateHeaders(c.w, key, false)
		e := errorBody(http.StatusForbidden, "API rate limit exceeded for "+strings.ReplaceAll(key, ":", " ID ")+".",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits")
		c.json(http.StatusForbidden, e)
		return false
	}
	s.setRateHeaders(c.w, key, true)
	return true
}

// FailGraphQLField makes the next times executions of a GraphQL field (a mutation such as
// "createPullRequest", or a query field such as "repository"; 0 times means always) fail
// with a field error of errType (NOT_FOUND, FORBIDDEN, UNPROCESSABLE, …) and message,
// while the rest of the document runs, as on GitHub.
func (s *Server) FailGraphQLField(field, errType, message string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fieldFaults = append(s.fieldFaults, &fieldFault{field: field, err: &resolveError{typ: errType, msg: message}, left: times, limited: times > 0})
}

type fieldFault struct {
	field   string
	err     error
	left    int
	limited bool
}

// fieldFault returns the injected error for a field about to run, if any; the lock is held.
func (s *Server) takeFieldFault(field string) error {
	for _, f := range s.fieldFaults {
		if f.field != field || f.limited && f.left == 0 {
			continue
		}
		if f.limited {
			f.left--
		}
		return f.err
	}
	return nil
}
