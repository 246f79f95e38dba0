// Package github is daytwo's adapter to the GitHub API (go-github v60 clients made by
// go-githubapp): reading a repository at a commit, writing a change as a branch, commit and
// pull request, and talking in issue threads.
package githubapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// RetryPolicy bounds how the client waits out transient failures and rate limits.
type RetryPolicy struct {
	Attempts int           // total tries per request, including the first
	Base     time.Duration // first backoff; doubles each try, with jitter
	MaxWait  time.Duration // longest wait for a rate-limit reset; longer fails at once
}

// DefaultRetryPolicy retries a few times within seconds, and waits up to a minute for a
// secondary rate limit's retry-after.
var DefaultRetryPolicy = RetryPolicy{Attempts: 4, Base: 250 * time.Millisecond, MaxWait: time.Minute}

// RateLimitedError is returned when GitHub asks to wait longer than the policy allows.
type RateLimitedError struct{ Until time.Time }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("GitHub rate limit reached; it resets at %s", e.Until.UTC().Format(time.RFC3339))
}

// Retry is a go-githubapp client middleware: 5xx answers and transport errors are retried
// with exponential backoff for requests that are safe to repeat, and 403/429 rate-limit
// answers wait for retry-after or the reset time. Creating a comment or a check run is not
// repeated (a 502 may hide a success); git objects, refs, labels, reactions and reviewers are
// idempotent or guarded by the ref's compare-and-swap, so they are; a GraphQL request only
// when its sender marked it so.
func Retry(p RetryPolicy) githubapp.ClientMiddleware {
	return func(next http.RoundTripper) http.RoundTripper {
		return promhttp.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
			var (
				res *http.Response
				err error
			)
			for attempt := 1; ; attempt++ {
				if attempt > 1 && r.Body != nil {
					if r.GetBody == nil {
						return res, err
					}
					body, gerr := r.GetBody()
					if gerr != nil {
						return nil, gerr
					}
					r.Body = body
				}
				res, err = next.RoundTrip(r)
				wait, retry := p.decide(r, res, err, attempt)
				if !retry {
					return res, err
				}
				if wait > p.MaxWait {
					drain(res)
					return nil, &RateLimitedError{Until: time.Now().Add(wait)}
				}
				zerolog.Ctx(r.Context()).Warn().Str("method", r.Method).Str("path", r.URL.Path).
					Int("attempt", attempt).Dur("wait", wait).Msg(describe(res, err) + "; retrying")
				drain(res)
				if err := sleep(r.Context(), wait); err != nil {
					return nil, err
				}
			}
		})
	}
}

func (p RetryPolicy) decide(r *http.Request, res *http.Response, err error, attempt int) (time.Duration, bool) {
	if attempt >= p.Attempts {
		return 0, false
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && r.Context().Err() != nil {
			return 0, false
		}
		return p.backoff(attempt), repeatable(r)
	}
	switch {
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusForbidden:
		if ra := res.Header.Get("Retry-After"); ra != "" {
			if s, perr := strconv.Atoi(ra); perr == nil {
				return time.Duration(s) * time.Second, true
			}
		}
		if res.Header.Get("X-RateLimit-Remaining") == "0" {
			if reset, perr := strconv.ParseInt(res.Header.Get("X-RateLimit-Reset"), 10, 64); perr == nil {
				return max(time.Until(time.Unix(reset, 0)), time.Second), true
			}
		}
		if res.StatusCode == http.StatusTooManyRequests {
			return p.backoff(attempt), true
		}
		return 0, false // a plain 403 is a permission problem
	case res.StatusCode >= 500 && res.StatusCode != http.StatusNotImplemented:
		return p.backoff(attempt), repeatable(r)
	}
	return 0, false
}

func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.Base << (attempt - 1)
	return d/2 + rand.N(d/2+1)
}

// repeatable says whether sending r twice cannot do harm.
func repeatable(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return true
	}
	if ok, _ := r.Context().Value(repeatableKey{}).(bool); ok {
		return true // a GraphQL query, or a mutation guarded by a ref's compare-and-swap
	}
	p := r.URL.Path
	for _, safe := range []string{"/git/blobs", "/git/trees", "/git/commits", "/git/refs", "/labels", "/reactions", "/requested_reviewers", "/access_tokens"} {
		if strings.HasSuffix(p, safe) {
			return true
		}
	}
	return false
}

func describe(res *http.Response, err error) string {
	if err != nil {
		return "GitHub request failed: " + err.Error()
	}
	return "GitHub answered " + res.Status
}

func drain(res *http.Response) {
	if res != nil && res.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
