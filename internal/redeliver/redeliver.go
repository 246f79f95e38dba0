// Package redeliver asks GitHub to deliver again the webhooks daytwo did not take. GitHub
// never redelivers on its own: a delivery that got a 5xx, timed out or found daytwo down is
// lost unless the app lists its deliveries (GET /app/hook/deliveries) and asks for another
// attempt (POST /app/hook/deliveries/{id}/attempts). A redelivery carries the same
// X-GitHub-Delivery guid, so daytwo's duplicate check still holds; it is listed as a new
// delivery with redelivery: true. GitHub refuses deliveries older than three days (422).
package redeliver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

const (
	// DefaultEvery is the time between two sweeps.
	DefaultEvery = 5 * time.Minute
	// MaxWindow is the furthest back a sweep looks: GitHub redelivers for three days, less
	// an hour so that a delivery does not age out between listing and asking, or because
	// daytwo's clock and GitHub's disagree.
	MaxWindow = 72*time.Hour - time.Hour
	// DefaultMaxAttempts is how many attempts of one delivery (the first included) GitHub
	// may have listed before the sweeper stops asking for more.
	DefaultMaxAttempts = 5
	// DefaultMaxPerSweep bounds the redeliveries asked for in one sweep, so that an app
	// coming back from an outage is not flooded; the rest wait for the next sweep.
	DefaultMaxPerSweep = 100
)

// DefaultEvents are the events daytwo handles, redelivered when Events is empty.
var DefaultEvents = []string{"issue_comment", "issues", "pull_request", "pull_request_review", "workflow_run"}

// Sweeper finds failed deliveries of the app's webhook and asks GitHub to redeliver them.
// The zero values of its fields are the defaults. Start Run once the webhook endpoint
// serves: a redelivery that finds it closed counts as one more failed attempt.
//
// A sweeper remembers the redeliveries it asked for, not those of other replicas: two
// replicas sweeping at once may ask for the same one twice, and the app's duplicate check
// by X-GitHub-Delivery absorbs the second. Run it on one replica to avoid the extra call.
type Sweeper struct {
	// Clients makes the app (JWT) client the deliveries API needs.
	Clients githubapp.ClientCreator
	// Events are redelivered; deliveries of other events are left alone.
	Events []string
	// Every is the time between sweeps (DefaultEvery). A redelivery listed as failed is
	// retried once it is half a period old.
	Every time.Duration
	// Window is how far back a sweep looks (and at most MaxWindow, the default).
	Window time.Duration
	// MaxAttempts caps the attempts of one delivery (DefaultMaxAttempts).
	MaxAttempts int
	// MaxPerSweep caps the redeliveries asked for in one sweep (DefaultMaxPerSweep).
	MaxPerSweep int
	// Now is the clock (time.Now).
	Now func() time.Time
	// OnRedeliver, when set, is called for every redelivery asked for, e.g. to count it.
	OnRedeliver func(guid, event string)

	sweeping sync.Mutex           // one sweep at a time
	asked    map[string]time.Time // guid → when this sweeper last asked GitHub to redeliver it
}

// Run sweeps now and then every period until ctx ends, logging errors through the
// zerolog logger in ctx.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.every())
	defer t.Stop()
	for {
		if _, err := s.SweepOnce(ctx); err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("webhook redelivery sweep failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOnce lists the deliveries of the window and asks for a redelivery of every event
// none of whose attempts the app answered 2xx (no answer at all, status_code 0, is a
// failure too). It skips events not in Events, deliveries with MaxAttempts attempts
// listed, a redelivery it asked for that GitHub has not listed yet (in flight), and a
// failed redelivery younger than half a period. It returns the guids redelivered, oldest
// event first. GitHub's 422 (too old) for one delivery is logged and skipped; any other
// error ends the sweep.
func (s *Sweeper) SweepOnce(ctx context.Context) (redelivered []string, err error) {
	s.sweeping.Lock()
	defer s.sweeping.Unlock()
	logger := zerolog.Ctx(ctx)
	client, err := s.Clients.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("redeliver: app client: %w", err)
	}
	now := s.now()
	list, err := listSince(ctx, client, now.Add(-s.window()))
	if err != nil {
		return nil, err
	}
	for _, f := range s.failed(list, now) {
		if len(redelivered) >= s.maxPerSweep() {
			logger.Info().Int("redelivered", len(redelivered)).Msg("webhook redeliveries capped for this sweep; the rest wait for the next")
			break
		}
		_, _, err := client.Apps.RedeliverHookDelivery(ctx, f.newest.GetID())
		var accepted *github.AcceptedError
		var refused *github.ErrorResponse
		switch {
		case err == nil || errors.As(err, &accepted):
		case errors.As(err, &refused) && refused.Response != nil && refused.Response.StatusCode == http.StatusUnprocessableEntity:
			logger.Warn().Err(err).Str("guid", f.guid).Str("event", f.event).Int64("delivery_id", f.newest.GetID()).
				Msg("GitHub refused to redeliver a webhook delivery")
			continue
		default:
			return redelivered, fmt.Errorf("redeliver %s delivery %s (id %d): %w", f.event, f.guid, f.newest.GetID(), err)
		}
		s.remember(f.guid, now)
		redelivered = append(redelivered, f.guid)
		logger.Info().Str("guid", f.guid).Str("event", f.event).Str("action", f.newest.GetAction()).Int64("delivery_id", f.newest.GetID()).
			Int("attempts", f.attempts).Int("status_code", f.newest.GetStatusCode()).Str("status", f.newest.GetStatus()).
			Msg("asked GitHub to redeliver a failed webhook delivery")
		if s.OnRedeliver != nil {
			s.OnRedeliver(f.guid, f.event)
		}
	}
	s.forget(now.Add(-s.window()))
	return redelivered, nil
}

// listSince lists deliveries newest first, page by page, down to the first older than since.
func listSince(ctx context.Context, client *github.Client, since time.Time) ([]*github.HookDelivery, error) {
	var out []*github.HookDelivery
	opts := &github.ListCursorOptions{PerPage: 100}
	for {
		page, resp, err := client.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list webhook deliveries: %w", err)
		}
		for _, d := range page {
			if d.GetDeliveredAt().Time.Before(since) {
				return out, nil
			}
			out = append(out, d)
		}
		if resp.Cursor == "" || resp.Cursor == opts.Cursor || len(page) == 0 {
			return out, nil
		}
		opts.Cursor = resp.Cursor
	}
}

// failure is one event whose every listed attempt failed.
type failure struct {
	guid, event string
	newest      *github.HookDelivery // the attempt to redeliver
	oldest      *github.HookDelivery
	attempts    int
}

// failed groups the attempts by guid and keeps the events to redeliver, oldest first.
func (s *Sweeper) failed(list []*github.HookDelivery, now time.Time) []failure {
	byGUID := map[string]*failure{}
	var order []*failure
	ok := map[string]bool{}
	for _, d := range list { // newest first
		g := d.GetGUID()
		if code := d.GetStatusCode(); code >= 200 && code < 300 {
			ok[g] = true
		}
		f := byGUID[g]
		if f == nil {
			f = &failure{guid: g, event: d.GetEvent(), newest: d}
			byGUID[g] = f
			order = append(order, f)
		}
		f.oldest = d
		f.attempts++
	}
	events := s.Events
	if len(events) == 0 {
		events = DefaultEvents
	}
	var out []failure
	for _, f := range order {
		switch {
		case ok[f.guid], !slices.Contains(events, f.event), f.attempts >= s.maxAttempts():
			continue
		case f.newest.GetRedelivery() && now.Sub(f.newest.GetDeliveredAt().Time) < s.every()/2:
			continue // a redelivery just failed: give the app until the next sweep
		}
		if at, asked := s.asked[f.guid]; asked && now.Sub(at) < s.every() &&
			!(f.newest.GetRedelivery() && !f.newest.GetDeliveredAt().Time.Before(at.Truncate(time.Second))) {
			continue // asked for and not listed yet: in flight
		}
		out = append(out, *f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		ti, tj := out[i].oldest.GetDeliveredAt().Time, out[j].oldest.GetDeliveredAt().Time
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return out[i].oldest.GetID() < out[j].oldest.GetID()
	})
	return out
}

func (s *Sweeper) remember(guid string, at time.Time) {
	if s.asked == nil {
		s.asked = map[string]time.Time{}
	}
	s.asked[guid] = at
}

func (s *Sweeper) forget(before time.Time) {
	for g, at := range s.asked {
		if at.Before(before) {
			delete(s.asked, g)
		}
	}
}

func (s *Sweeper) every() time.Duration {
	if s.Every <= 0 {
		return DefaultEvery
	}
	return s.Every
}

func (s *Sweeper) window() time.Duration {
	if s.Window <= 0 || s.Window > MaxWindow {
		return MaxWindow
	}
	return s.Window
}

func (s *Sweeper) maxAttempts() int {
	if s.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return s.MaxAttempts
}

func (s *Sweeper) maxPerSweep() int {
	if s.MaxPerSweep <= 0 {
		return DefaultMaxPerSweep
	}
	return s.MaxPerSweep
}

func (s *Sweeper) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
