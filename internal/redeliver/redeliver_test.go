package redeliver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/redeliver"
)

// outcome is how the stand-in answers one attempt.
type outcome int

const (
	ok    outcome = iota // 200: handled
	fail                 // 500 before handling
	hang                 // no answer until GitHub gives up
	block                // wait for release, then 200
)

// daytwo stands in for the app: it checks each delivery's HMAC signature, answers as
// script says for the n-th attempt of a guid, and counts by guid.
type daytwo struct {
	srv     *httptest.Server
	release chan struct{}

	mu       sync.Mutex
	script   map[string][]outcome // guid → outcome of attempt 1, 2, …; later attempts ok
	attempts map[string]int
	handled  map[string]int // guid → attempts answered 200
	badSig   int
}

func newDaytwo(t *testing.T, secret string) *daytwo {
	d := &daytwo{release: make(chan struct{}), script: map[string][]outcome{}, attempts: map[string]int{}, handled: map[string]int{}}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := github.ValidatePayloadFromBody("application/json", bytes.NewReader(body), r.Header.Get("X-Hub-Signature-256"), []byte(secret)); err != nil {
			d.mu.Lock()
			d.badSig++
			d.mu.Unlock()
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		guid := r.Header.Get("X-GitHub-Delivery")
		d.mu.Lock()
		d.attempts[guid]++
		o := ok
		if n := d.attempts[guid]; n <= len(d.script[guid]) {
			o = d.script[guid][n-1]
		}
		d.mu.Unlock()
		switch o {
		case fail:
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		case hang:
			<-r.Context().Done()
			return
		case block:
			select {
			case <-d.release:
			case <-r.Context().Done():
				return
			}
		}
		d.mu.Lock()
		d.handled[guid]++
		d.mu.Unlock()
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *daytwo) counts(guid string) (attempts, handled int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.attempts[guid], d.handled[guid]
}

type fixture struct {
	t       *testing.T
	gh      *githubtest.Server
	app     *daytwo
	sweeper *redeliver.Sweeper
	logs    *bytes.Buffer
	ctx     context.Context

	mu     sync.Mutex
	offset time.Duration // the sweeper's clock runs this far ahead
	counts []string      // event/guid of every OnRedeliver
}

func newFixture(t *testing.T) *fixture {
	gh := githubtest.New(t, githubtest.WithDeliveryTimeout(300*time.Millisecond))
	f := &fixture{t: t, gh: gh, app: newDaytwo(t, gh.WebhookSecret()), logs: &bytes.Buffer{}}
	f.ctx = zerolog.New(f.logs).WithContext(context.Background())
	gh.SetDeliveryClock(f.clock)
	f.sweeper = &redeliver.Sweeper{
		// Real JWT app auth, as daytwo's client creator does it.
		Clients: githubapp.NewClientCreator(gh.V3URL(), gh.V4URL(), gh.AppID(), gh.PrivateKeyPEM()),
		Events:  []string{"issue_comment", "issues", "pull_request", "pull_request_review"},
		Every:   time.Minute,
		Now:     f.clock,
		OnRedeliver: func(guid, event string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.counts = append(f.counts, event+"/"+guid)
		},
	}
	return f
}

// clock is the time for GitHub and daytwo alike: now, moved forward by advance.
func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Add(f.offset)
}

// shifted makes GitHub's delivery clock run d off the shared clock.
func (f *fixture) shifted(d time.Duration) func() time.Time {
	return func() time.Time { return f.clock().Add(d) }
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offset += d
}

// send delivers event with a fresh guid, the stand-in answering attempts as script says.
func (f *fixture) send(event, payload string, script ...outcome) string {
	f.t.Helper()
	guid := githubtest.NewDeliveryID()
	f.app.mu.Lock()
	f.app.script[guid] = script
	f.app.mu.Unlock()
	res, err := f.gh.SendWebhookWithDelivery(f.app.srv.URL, event, guid, githubtest.Payload(payload))
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	return guid
}

func (f *fixture) sweep() []string {
	f.t.Helper()
	got, err := f.sweeper.SweepOnce(f.ctx)
	if err != nil {
		f.t.Fatalf("SweepOnce: %v", err)
	}
	f.gh.WaitRedeliveries()
	return got
}

func (f *fixture) expectSweep(want ...string) {
	f.t.Helper()
	if got := f.sweep(); !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
		f.t.Fatalf("redelivered %v, want %v", got, want)
	}
}

// TestFailedDeliveriesAreRedeliveredAndHandledOnce: a 5xx and a timeout are redelivered
// once, with the same guid, and the app handles each event exactly once; a success, an
// event daytwo does not handle and a delivery older than the window are left alone.
func TestFailedDeliveriesAreRedeliveredAndHandledOnce(t *testing.T) {
	f := newFixture(t)
	f.gh.SetDeliveryClock(f.shifted(-80 * time.Hour))
	tooOld := f.send("issue_comment", "issue_comment.created", fail)
	f.gh.SetDeliveryClock(f.clock)
	failed := f.send("issue_comment", "issue_comment.created", fail)
	timedOut := f.send("issues", "issues.opened", hang)
	// Failed twice, the second time on a redelivery asked for by hand, then succeeded.
	succeeded := f.send("pull_request_review", "pull_request_review.submitted", fail, fail)
	gh, err := f.sweeper.Clients.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		ds := f.gh.Deliveries()
		var accepted *github.AcceptedError
		if _, _, err := gh.Apps.RedeliverHookDelivery(f.ctx, ds[len(ds)-1].ID); !errors.As(err, &accepted) {
			t.Fatal(err)
		}
		f.gh.WaitRedeliveries()
	}
	ignored := f.send("installation", "installation.created", fail)
	if a, h := f.app.counts(succeeded); a != 3 || h != 1 {
		t.Fatalf("setup: %d attempts, %d handled", a, h)
	}

	f.expectSweep(failed, timedOut)
	for _, g := range []string{failed, timedOut} {
		if a, h := f.app.counts(g); a != 2 || h != 1 {
			t.Errorf("%s: %d attempts, %d handled; want 2 and 1", g, a, h)
		}
	}
	for g, want := range map[string]int{tooOld: 1, succeeded: 3, ignored: 1} {
		if a, _ := f.app.counts(g); a != want {
			t.Errorf("%s: %d attempts, want %d", g, a, want)
		}
	}
	f.advance(time.Hour)
	f.expectSweep() // nothing left to do
	if a, h := f.app.counts(failed); a != 2 || h != 1 {
		t.Errorf("after a second sweep: %d attempts, %d handled", a, h)
	}

	// Redeliveries are the failed attempts' own, carry the same guid and are counted.
	var again []githubtest.Delivery
	for _, d := range f.gh.Deliveries() {
		if d.Redelivery && d.GUID != succeeded {
			again = append(again, d)
		}
	}
	if len(again) != 2 || again[0].GUID != failed || again[1].GUID != timedOut || again[0].StatusCode != 200 || again[1].StatusCode != 200 {
		t.Fatalf("redeliveries %+v", again)
	}
	if want := []string{"issue_comment/" + failed, "issues/" + timedOut}; !reflect.DeepEqual(f.counts, want) {
		t.Errorf("OnRedeliver %v, want %v", f.counts, want)
	}
	f.app.mu.Lock()
	if f.app.badSig != 0 {
		t.Errorf("%d deliveries with a bad signature", f.app.badSig)
	}
	f.app.mu.Unlock()
	for _, r := range f.gh.Requests() {
		if strings.HasPrefix(r.Path, "/app/hook/") && (strings.HasPrefix(r.Token, "ghs_") || r.Status >= 300) {
			t.Errorf("%s %s answered %d with token %.8s…", r.Method, r.Path, r.Status, r.Token)
		}
	}
	if !strings.Contains(f.logs.String(), `"guid":"`+failed+`"`) || !strings.Contains(f.logs.String(), `"event":"issue_comment"`) {
		t.Errorf("logs lack the redelivery: %s", f.logs)
	}
}

// TestAFailingRedeliveryIsRetriedUpToTheCap: a redelivery that fails again is retried a
// period later, not in the same period, until five attempts are listed.
func TestAFailingRedeliveryIsRetriedUpToTheCap(t *testing.T) {
	f := newFixture(t)
	g := f.send("issue_comment", "issue_comment.created", fail, fail, fail, fail, fail, fail, fail)
	f.expectSweep(g)
	for attempt := 2; attempt < 5; attempt++ {
		f.expectSweep() // the redelivery just failed: not again in this period
		f.advance(time.Minute)
		f.expectSweep(g)
		ds := f.gh.Deliveries()
		if last := ds[len(ds)-1]; !last.Redelivery || last.GUID != g {
			t.Fatalf("attempt %d: %+v", attempt+1, last)
		}
		// The newest failed attempt is the one asked for again.
		var posted []string
		for _, r := range f.gh.Requests() {
			if r.Method == "POST" {
				posted = append(posted, r.Path)
			}
		}
		if want := fmt.Sprintf("/app/hook/deliveries/%d/attempts", ds[len(ds)-2].ID); posted[len(posted)-1] != want {
			t.Fatalf("posted %s, want %s", posted[len(posted)-1], want)
		}
	}
	f.advance(time.Hour)
	f.expectSweep()
	if a, h := f.app.counts(g); a != 5 || h != 0 {
		t.Fatalf("%d attempts, %d handled; want the cap of 5", a, h)
	}
}

// TestARedeliveryInFlightIsNotAskedForAgain: until GitHub lists the redelivery, a second
// sweep does not ask again.
func TestARedeliveryInFlightIsNotAskedForAgain(t *testing.T) {
	f := newFixture(t)
	f.gh.SetDeliveryTimeout(5 * time.Second)
	g := f.send("issue_comment", "issue_comment.created", fail, block)
	if got, err := f.sweeper.SweepOnce(f.ctx); err != nil || !reflect.DeepEqual(got, []string{g}) {
		t.Fatalf("first sweep %v %v", got, err)
	}
	for a, _ := f.app.counts(g); a < 2; a, _ = f.app.counts(g) {
		time.Sleep(5 * time.Millisecond) // the redelivery reached the app, which holds it
	}
	f.advance(50 * time.Second)
	if got, err := f.sweeper.SweepOnce(f.ctx); err != nil || len(got) != 0 {
		t.Fatalf("sweep while in flight: %v %v", got, err)
	}
	close(f.app.release)
	f.gh.WaitRedeliveries()
	f.advance(time.Hour)
	f.expectSweep()
	if a, h := f.app.counts(g); a != 2 || h != 1 {
		t.Fatalf("%d attempts, %d handled", a, h)
	}
}

// TestSweepPagesPastTheFirstHundred: the failed deliveries are the oldest of 150, on the
// second page.
func TestSweepPagesPastTheFirstHundred(t *testing.T) {
	f := newFixture(t)
	var failed []string
	for range 3 {
		failed = append(failed, f.send("issues", "issues.opened", fail))
	}
	for range 147 {
		f.send("issue_comment", "issue_comment.created")
	}
	f.expectSweep(failed...)
	if n := f.gh.CountRequests("GET", "/app/hook/deliveries"); n != 2 {
		t.Fatalf("%d list requests, want 2 pages", n)
	}
	for _, g := range failed {
		if _, h := f.app.counts(g); h != 1 {
			t.Errorf("%s handled %d times", g, h)
		}
	}
}

// TestWindowIsCappedBelowGitHubsThreeDays: a Window past three days is cut to MaxWindow, so
// a 75 h old delivery is not even asked for.
func TestWindowIsCappedBelowGitHubsThreeDays(t *testing.T) {
	f := newFixture(t)
	f.sweeper.Window = 100 * time.Hour
	f.gh.SetDeliveryClock(f.shifted(-75 * time.Hour))
	old := f.send("issues", "issues.opened", fail)
	f.gh.SetDeliveryClock(f.clock)
	f.expectSweep()
	if n := f.gh.CountRequests("POST", "/app/hook/deliveries/"); n != 0 {
		t.Fatalf("%d redelivery requests for a delivery past the window", n)
	}
	if a, _ := f.app.counts(old); a != 1 {
		t.Fatalf("%d attempts", a)
	}
}

// TestGitHubsRefusalIsSkipped: a delivery GitHub finds too old (422; here the clocks
// disagree by two hours) is logged and skipped, and the sweep goes on.
func TestGitHubsRefusalIsSkipped(t *testing.T) {
	f := newFixture(t)
	f.gh.SetDeliveryClock(f.shifted(-70*time.Hour - 30*time.Minute))
	old := f.send("issues", "issues.opened", fail)
	f.gh.SetDeliveryClock(f.shifted(2 * time.Hour))
	recent := f.send("issue_comment", "issue_comment.created", fail)
	f.expectSweep(recent)
	if a, _ := f.app.counts(old); a != 1 {
		t.Errorf("old delivery attempted %d times", a)
	}
	if _, h := f.app.counts(recent); h != 1 {
		t.Errorf("recent delivery handled %d times", h)
	}
	if !strings.Contains(f.logs.String(), "GitHub refused to redeliver") || !strings.Contains(f.logs.String(), old) {
		t.Errorf("the refusal is not logged: %s", f.logs)
	}
}

// TestOtherErrorsEndTheSweep: a 502 from GitHub ends the sweep with the error; the next
// sweep picks the deliveries up.
func TestOtherErrorsEndTheSweep(t *testing.T) {
	f := newFixture(t)
	a := f.send("issues", "issues.opened", fail)
	b := f.send("issues", "issues.opened", fail)
	f.gh.Fault("POST", "/app/hook/deliveries/*/attempts", githubtest.Fault{Status: http.StatusBadGateway, Times: 1})
	got, err := f.sweeper.SweepOnce(f.ctx)
	if err == nil || len(got) != 0 || !strings.Contains(err.Error(), "502") {
		t.Fatalf("SweepOnce = %v, %v; want the 502", got, err)
	}
	f.gh.Fault("GET", "/app/hook/deliveries", githubtest.Fault{Status: http.StatusInternalServerError, Times: 1})
	if _, err := f.sweeper.SweepOnce(f.ctx); err == nil {
		t.Fatal("a failed listing is no error")
	}
	f.expectSweep(a, b)
}

// TestMaxPerSweep: the oldest go first; the rest wait for the next sweep.
func TestMaxPerSweep(t *testing.T) {
	f := newFixture(t)
	f.sweeper.MaxPerSweep = 2
	a := f.send("issues", "issues.opened", fail)
	b := f.send("pull_request", "pull_request.closed", hang)
	c := f.send("issue_comment", "issue_comment.created", fail)
	f.expectSweep(a, b)
	f.expectSweep(c)
}

// TestRunSweepsUntilCancelled: Run sweeps at once and then every period, and returns when
// its context ends.
func TestRunSweepsUntilCancelled(t *testing.T) {
	f := newFixture(t)
	f.sweeper.Every = 100 * time.Millisecond
	g := f.send("issues", "issues.opened", fail, fail)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() {
		f.sweeper.Run(ctx)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for _, h := f.app.counts(g); h == 0; _, h = f.app.counts(g) {
		if time.Now().After(deadline) {
			t.Fatal("never handled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	f.gh.WaitRedeliveries()
	if a, h := f.app.counts(g); a != 3 || h != 1 {
		t.Fatalf("%d attempts, %d handled", a, h)
	}
}
