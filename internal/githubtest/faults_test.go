package githubtest_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

func TestFaultTwice502ThenNormal(t *testing.T) {
	s, repo, gh := setup(t)
	ctx := context.Background()
	n := repo.CreateIssue("alice", "restart", "/restart web")
	s.Fault("POST", "/repos/acme/gitops/issues/*/comments", githubtest.Fault{Status: http.StatusBadGateway, Times: 2})
	s.ResetLog()
	succeeded := 0
	for attempt := 1; attempt <= 3 && succeeded == 0; attempt++ {
		_, _, err := gh.Issues.CreateComment(ctx, "acme", "gitops", n, &github.IssueComment{Body: github.String("hi")})
		switch {
		case err == nil:
			succeeded = attempt
		case statusOf(err) != http.StatusBadGateway:
			t.Fatalf("attempt %d: err = %v, want 502", attempt, err)
		}
	}
	if succeeded != 3 {
		t.Fatalf("succeeded on attempt %d, want 3 (two 502s first)", succeeded)
	}
	if got := repo.Comments(n); len(got) != 1 {
		t.Fatalf("comments = %+v, want exactly the one that got through", got)
	}
	var statuses []int
	var faulted []bool
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/comments") {
			statuses = append(statuses, r.Status)
			faulted = append(faulted, r.Faulted)
		}
	}
	if len(statuses) != 3 || statuses[0] != 502 || statuses[1] != 502 || statuses[2] != 201 || !faulted[0] || faulted[2] {
		t.Fatalf("logged statuses %v faulted %v", statuses, faulted)
	}
}

func TestRateLimitFaultsReachGoGitHubErrors(t *testing.T) {
	s, _, gh := setup(t)
	ctx := context.Background()

	s.Fault("GET", "/repos/acme/gitops/...", githubtest.SecondaryRateLimit(7*time.Second, 1))
	_, res, err := gh.Repositories.GetBranch(ctx, "acme", "gitops", "main", 0)
	if res != nil && res.Header.Get("Retry-After") != "7" {
		t.Fatalf("retry-after = %q", res.Header.Get("Retry-After"))
	}
	if err == nil {
		t.Fatal("secondary rate limit not reported")
	}
	// GetBranch reports a bare status error; the typed error comes from other calls.
	s.Fault("GET", "/repos/*/gitops", githubtest.SecondaryRateLimit(7*time.Second, 1))
	_, res, err = gh.Repositories.Get(ctx, "acme", "gitops")
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.RetryAfter == nil || *abuse.RetryAfter != 7*time.Second || res.Header.Get("Retry-After") != "7" {
		t.Fatalf("err = %v (%T), want AbuseRateLimitError with RetryAfter 7s", err, err)
	}

	// A fresh client: go-github remembers rate limits and would refuse locally.
	gh2 := installationClient(t, s, s.Install("acme", "gitops"))
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	s.Fault("", "/repos/acme/gitops/pulls", githubtest.PrimaryRateLimit(reset, 1))
	_, _, err = gh2.PullRequests.List(ctx, "acme", "gitops", nil)
	var rle *github.RateLimitError
	if !errors.As(err, &rle) || rle.Rate.Remaining != 0 || !rle.Rate.Reset.Time.Equal(reset) {
		t.Fatalf("err = %v (%T), want RateLimitError resetting at %v", err, err, reset)
	}

	gh3 := installationClient(t, s, s.Install("acme", "gitops"))
	s.Fault("GET", "/repos/acme/gitops/issues", githubtest.Fault{Status: http.StatusTooManyRequests, Times: 1, Headers: map[string]string{"Retry-After": "2"}})
	_, res, err = gh3.Issues.ListByRepo(ctx, "acme", "gitops", nil)
	if statusOf(err) != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "2" {
		t.Fatalf("429 fault: err = %v", err)
	}
	if _, _, err := gh3.Issues.ListByRepo(ctx, "acme", "gitops", nil); err != nil {
		t.Fatalf("after the 429 fault is used up: %v", err)
	}
}

func TestRateLimitHeadersAndBudget(t *testing.T) {
	s, _, gh := setup(t, githubtest.WithRateLimit(3))
	ctx := context.Background()
	var remaining []string
	for range 3 {
		_, res, err := gh.Repositories.Get(ctx, "acme", "gitops")
		if err != nil {
			t.Fatal(err)
		}
		h := res.Header
		if h.Get("X-GitHub-Request-Id") == "" || h.Get("X-RateLimit-Resource") != "core" || h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Used") == "" {
			t.Fatalf("headers = %v", h)
		}
		if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err != nil || time.Until(time.Unix(reset, 0)) < 50*time.Minute {
			t.Fatalf("x-ratelimit-reset = %q", h.Get("X-RateLimit-Reset"))
		}
		remaining = append(remaining, h.Get("X-RateLimit-Remaining"))
	}
	if remaining[0] != "2" || remaining[1] != "1" || remaining[2] != "0" {
		t.Fatalf("remaining = %v", remaining)
	}
	// go-github now refuses locally until the reset; the server refuses too.
	_, _, err := gh.Repositories.Get(ctx, "acme", "gitops")
	var rle *github.RateLimitError
	if !errors.As(err, &rle) {
		t.Fatalf("over budget: err = %v (%T), want RateLimitError", err, err)
	}
	reqs := s.Requests()
	code, body := do(t, "GET", s.URL()+"/repos/acme/gitops", "token "+s.IssueToken(reqs[len(reqs)-1].Installation))
	if code != http.StatusForbidden || !strings.Contains(body, "API rate limit exceeded") {
		t.Fatalf("over budget on the server: %d %s", code, body)
	}
}

func TestLatencyAndDelayFaults(t *testing.T) {
	s, _, gh := setup(t, githubtest.WithLatency(150*time.Millisecond))
	ctx := context.Background()
	if _, _, err := gh.Repositories.Get(ctx, "acme", "gitops"); err != nil { // token exchange + call
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := gh.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("request took %v with 150ms latency", d)
	}
	s.SetLatency(0)
	s.Fault("GET", "/repos/acme/gitops", githubtest.Fault{Delay: 200 * time.Millisecond, Times: 1})
	start = time.Now()
	if _, _, err := gh.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("delayed request took %v", d)
	}
	start = time.Now()
	if _, _, err := gh.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Fatalf("request after the delay fault took %v", d)
	}
	s.ClearFaults()
	s.ResetLog()
	if len(s.Requests()) != 0 {
		t.Fatal("ResetLog left entries")
	}
}
