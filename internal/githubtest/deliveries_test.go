package githubtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// hookApp stands in for the app behind the webhook URL: it checks each delivery's
// signature and answers what answer says for the n-th attempt of a guid.
type hookApp struct {
	t      *testing.T
	secret string
	answer func(guid string, n int, w http.ResponseWriter, r *http.Request)
	srv    *httptest.Server

	mu   sync.Mutex
	hits []hookHit
}

type hookHit struct {
	guid, event string
	body        []byte
	sigErr      error
}

func newHookApp(t *testing.T, secret string, answer func(guid string, n int, w http.ResponseWriter, r *http.Request)) *hookApp {
	a := &hookApp{t: t, secret: secret, answer: answer}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, err := github.ValidatePayloadFromBody("application/json", strings.NewReader(string(body)), r.Header.Get("X-Hub-Signature-256"), []byte(a.secret))
		guid := r.Header.Get("X-GitHub-Delivery")
		a.mu.Lock()
		a.hits = append(a.hits, hookHit{guid: guid, event: r.Header.Get("X-GitHub-Event"), body: body, sigErr: err})
		n := 0
		for _, h := range a.hits {
			if h.guid == guid {
				n++
			}
		}
		a.mu.Unlock()
		a.answer(guid, n, w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *hookApp) received() []hookHit {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]hookHit(nil), a.hits...)
}

func appClient(t *testing.T, s *githubtest.Server) *github.Client {
	t.Helper()
	cc := githubapp.NewClientCreator(s.V3URL(), s.V4URL(), s.AppID(), s.PrivateKeyPEM())
	c, err := cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func appJWT(t *testing.T, s *githubtest.Server) string {
	return "Bearer " + signJWT(t, s.PrivateKeyPEM(), map[string]any{"iss": s.AppID(), "iat": nowUnix() - 30, "exp": nowUnix() + 60})
}

func send(t *testing.T, s *githubtest.Server, url, event string, payload []byte) (*http.Response, error) {
	t.Helper()
	res, err := s.SendWebhook(url, event, payload)
	if err == nil {
		defer res.Body.Close()
		_, _ = io.ReadAll(res.Body)
	}
	return res, err
}

// TestDeliveriesRecordTheAppsAnswer sends deliveries the app answers 200, 503, 302, too late
// and not at all, and reads them back from Go and through go-github's app client.
func TestDeliveriesRecordTheAppsAnswer(t *testing.T) {
	s, repo, _ := setup(t, githubtest.WithDeliveryTimeout(200*time.Millisecond))
	issue := repo.CreateIssue("alice", "Restart", "/restart web", "")
	opened := repo.IssuesOpenedPayload(issue)
	app := newHookApp(t, s.WebhookSecret(), func(_ string, _ int, w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-GitHub-Event") {
		case "issues":
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "queued")
		case "issue_comment":
			http.Error(w, "queue full", http.StatusServiceUnavailable)
		case "pull_request":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "ping":
			<-r.Context().Done() // GitHub hangs up first
		}
	})
	if res, err := send(t, s, app.srv.URL, "issues", opened); err != nil || res.StatusCode != 200 {
		t.Fatalf("issues: %v %v", res, err)
	}
	if res, err := send(t, s, app.srv.URL, "issue_comment", githubtest.Payload("issue_comment.created")); err != nil || res.StatusCode != 503 {
		t.Fatalf("issue_comment: %v %v", res, err)
	}
	if res, err := send(t, s, app.srv.URL, "pull_request", githubtest.Payload("pull_request.closed")); err != nil || res.StatusCode != 302 {
		t.Fatalf("pull_request: %v %v (redirects are not followed)", res, err)
	}
	if _, err := send(t, s, app.srv.URL, "ping", githubtest.Payload("ping")); err == nil {
		t.Fatal("ping: a delivery that timed out returned no error")
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, err := send(t, s, closed.URL, "issues", opened); err == nil {
		t.Fatal("a delivery to a closed port returned no error")
	}

	ds := s.Deliveries()
	if len(ds) != 5 {
		t.Fatalf("%d deliveries recorded, want 5", len(ds))
	}
	var repoID, instID int64
	var meta struct {
		Repository   struct{ ID int64 }
		Installation struct{ ID int64 }
	}
	_ = json.Unmarshal(opened, &meta)
	repoID, instID = meta.Repository.ID, meta.Installation.ID
	want := []struct {
		event, action, status string
		code                  int
	}{
		{"issues", "opened", "OK", 200},
		{"issue_comment", "created", "Invalid HTTP Response: 503", 503},
		{"pull_request", "closed", "Invalid HTTP Response: 302", 302},
		{"ping", "", "timed out", 0},
		{"issues", "opened", "failed to connect", 0},
	}
	for i, w := range want {
		d := ds[i]
		if d.Event != w.event || d.Action != w.action || d.Status != w.status || d.StatusCode != w.code || d.Redelivery || len(d.GUID) != 36 {
			t.Errorf("delivery %d = %s/%s %d %q redelivery %v guid %q, want %+v", i, d.Event, d.Action, d.StatusCode, d.Status, d.Redelivery, d.GUID, w)
		}
		if i > 0 && d.ID <= ds[i-1].ID {
			t.Errorf("ids do not increase: %d after %d", d.ID, ds[i-1].ID)
		}
		if time.Since(d.DeliveredAt) > time.Minute {
			t.Errorf("delivered_at %v", d.DeliveredAt)
		}
	}
	if ds[0].InstallationID != instID || ds[0].RepositoryID != repoID || instID == 0 || repoID == 0 {
		t.Errorf("installation %d repository %d, want %d %d", ds[0].InstallationID, ds[0].RepositoryID, instID, repoID)
	}
	if ds[3].Duration < 200*time.Millisecond || ds[3].ResponseHeaders != nil {
		t.Errorf("timed out delivery: duration %v, response headers %v", ds[3].Duration, ds[3].ResponseHeaders)
	}
	if ds[0].ResponseBody != "queued" || ds[0].ResponseHeaders["Content-Type"] != "text/plain" || string(ds[0].Payload) != string(opened) {
		t.Errorf("response %q %v", ds[0].ResponseBody, ds[0].ResponseHeaders)
	}
	if got := app.received(); len(got) != 4 || got[0].sigErr != nil {
		t.Fatalf("the app received %d deliveries (signature: %v)", len(got), got[0].sigErr)
	}

	// The API shows the same, newest first, in go-github's types.
	gh := appClient(t, s)
	ctx := context.Background()
	list, _, err := gh.Apps.ListHookDeliveries(ctx, nil)
	if err != nil || len(list) != 5 {
		t.Fatalf("ListHookDeliveries = %d, %v", len(list), err)
	}
	for i, d := range list {
		r := ds[len(ds)-1-i]
		if d.GetID() != r.ID || d.GetGUID() != r.GUID || d.GetEvent() != r.Event || d.GetAction() != r.Action || d.GetStatusCode() != r.StatusCode ||
			d.GetStatus() != r.Status || d.GetRedelivery() || d.GetInstallationID() != r.InstallationID || d.GetRepositoryID() != r.RepositoryID ||
			!d.GetDeliveredAt().Time.Equal(r.DeliveredAt.Truncate(time.Second)) || d.Request != nil {
			t.Errorf("listed %d = %v, recorded %+v", i, d, r)
		}
	}
	one, _, err := gh.Apps.GetHookDelivery(ctx, ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if one.GetGUID() != ds[0].GUID || one.Request.Headers["X-GitHub-Delivery"] != ds[0].GUID || one.Request.Headers["X-GitHub-Event"] != "issues" ||
		one.Request.Headers["X-Hub-Signature-256"] != githubtest.SignPayload(s.WebhookSecret(), opened) {
		t.Errorf("GetHookDelivery request = %v", one.Request)
	}
	var sent, shown any
	_ = json.Unmarshal(opened, &sent)
	_ = json.Unmarshal(*one.Request.RawPayload, &shown)
	if !reflect.DeepEqual(sent, shown) {
		t.Error("request.payload is not the payload sent")
	}
	var body string
	_ = json.Unmarshal(*one.Response.RawPayload, &body)
	if body != "queued" || one.Response.Headers["Content-Type"] != "text/plain" {
		t.Errorf("response = %s %v", *one.Response.RawPayload, one.Response.Headers)
	}
	if _, _, err := gh.Apps.GetHookDelivery(ctx, ds[4].ID+100); statusOf(err) != http.StatusNotFound {
		t.Errorf("unknown delivery: %v, want 404", err)
	}
}

// TestDeliveriesMatchGitHubsShape compares the answers with GitHub's OpenAPI examples and
// with go-github's HookDelivery JSON tags.
func TestDeliveriesMatchGitHubsShape(t *testing.T) {
	s, repo, _ := setup(t)
	app := newHookApp(t, s.WebhookSecret(), func(_ string, _ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	if _, err := send(t, s, app.srv.URL, "issues", repo.IssuesOpenedPayload(repo.CreateIssue("alice", "t", "b", ""))); err != nil {
		t.Fatal(err)
	}
	jwt := appJWT(t, s)
	list := call(t, s, jwt, "GET", "/app/hook/deliveries", nil)
	id := mustInt(t, list.([]any)[0].(map[string]any)["id"])
	one := call(t, s, jwt, "GET", fmt.Sprintf("/app/hook/deliveries/%d", id), nil)

	payloadExtra := set([]string{"request.payload", "request.payload.issue", "request.payload.repository"}, "*")
	for _, tc := range []struct {
		example         string
		got             any
		extra, optional map[string]bool
	}{
		{"hook-delivery-items", list, nil, nil},
		{"hook-delivery", one, union(payloadExtra, set([]string{"response.headers"}, "*")), nil},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "openapi", tc.example+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if problems := compareShape("", decodeNumbers(t, data), tc.got, tc.extra, tc.optional); len(problems) > 0 {
			sort.Strings(problems)
			t.Errorf("%s:\n  %s", tc.example, strings.Join(problems, "\n  "))
		}
	}

	// Every field go-github reads is there under its name; the fake adds only what GitHub
	// documents beyond go-github v60 (url, throttled_at).
	tags := map[string]bool{}
	ty := reflect.TypeOf(github.HookDelivery{})
	for i := range ty.NumField() {
		tag, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
		tags[tag] = true
	}
	got := one.(map[string]any)
	for tag := range tags {
		if _, ok := got[tag]; !ok {
			t.Errorf("GET delivery lacks %q", tag)
		}
	}
	for k := range got {
		if !tags[k] && k != "url" && k != "throttled_at" {
			t.Errorf("GET delivery has %q, which go-github's HookDelivery does not know", k)
		}
	}
	for k := range list.([]any)[0].(map[string]any) {
		if (!tags[k] && k != "throttled_at") || k == "request" || k == "response" || k == "url" {
			t.Errorf("listed delivery has %q", k)
		}
	}
}

// TestDeliveriesPageByCursor lists 250 deliveries in pages of 100 through go-github's cursor
// handling, newest first, stable while new deliveries arrive.
func TestDeliveriesPageByCursor(t *testing.T) {
	s := githubtest.New(t)
	app := newHookApp(t, s.WebhookSecret(), func(_ string, n int, w http.ResponseWriter, _ *http.Request) {})
	fail := newHookApp(t, s.WebhookSecret(), func(_ string, _ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	for i := range 250 {
		url := app.srv.URL
		if i%50 == 0 {
			url = fail.srv.URL
		}
		if _, err := send(t, s, url, "ping", githubtest.Payload("ping")); err != nil {
			t.Fatal(err)
		}
	}
	gh := appClient(t, s)
	ctx := context.Background()
	opts := &github.ListCursorOptions{PerPage: 100}
	var ids []int64
	var sizes []int
	for page := 0; ; page++ {
		list, resp, err := gh.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(list))
		for _, d := range list {
			ids = append(ids, d.GetID())
		}
		link := resp.Header.Get("Link")
		if page > 0 && !strings.Contains(link, `rel="prev"`) {
			t.Errorf("page %d Link %q has no prev", page, link)
		}
		if page == 0 {
			// A delivery arriving while paging does not shift the pages after the first.
			if _, err := send(t, s, app.srv.URL, "ping", githubtest.Payload("ping")); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(link, `cursor=v1_`) || !strings.Contains(link, `rel="next"`) || strings.Contains(link, `rel="prev"`) {
				t.Errorf("first page Link %q", link)
			}
		}
		if resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}
	if !reflect.DeepEqual(sizes, []int{100, 100, 50}) {
		t.Fatalf("page sizes %v", sizes)
	}
	ds := s.Deliveries()
	for i, id := range ids {
		if id != ds[249-i].ID {
			t.Fatalf("item %d is %d, want %d (newest first, no gap, no repeat)", i, id, ds[249-i].ID)
		}
	}

	jwt := appJWT(t, s)
	if n := len(call(t, s, jwt, "GET", "/app/hook/deliveries", nil).([]any)); n != 30 {
		t.Errorf("default page %d, want 30", n)
	}
	if n := len(call(t, s, jwt, "GET", "/app/hook/deliveries?per_page=500", nil).([]any)); n != 100 {
		t.Errorf("per_page=500 gave %d, want 100", n)
	}
	failures := call(t, s, jwt, "GET", "/app/hook/deliveries?status=failure", nil).([]any)
	if len(failures) != 5 || failures[0].(map[string]any)["status"] != "Invalid HTTP Response: 500" {
		t.Errorf("status=failure gave %d: %v", len(failures), failures)
	}
	if n := len(call(t, s, jwt, "GET", "/app/hook/deliveries?status=success&per_page=100", nil).([]any)); n != 100 {
		t.Errorf("status=success gave %d", n)
	}
	if code, _ := do(t, "GET", s.URL()+"/app/hook/deliveries?cursor=bogus", jwt); code != http.StatusBadRequest {
		t.Errorf("bad cursor = %d, want 400", code)
	}
}

// TestDeliveriesNeedTheAppJWT: these are app endpoints; installation tokens are refused.
func TestDeliveriesNeedTheAppJWT(t *testing.T) {
	s, _, _ := setup(t)
	app := newHookApp(t, s.WebhookSecret(), func(string, int, http.ResponseWriter, *http.Request) {})
	if _, err := send(t, s, app.srv.URL, "ping", githubtest.Payload("ping")); err != nil {
		t.Fatal(err)
	}
	id := s.Deliveries()[0].ID
	token := "token " + s.IssueToken(s.Install("zed"))
	for _, ep := range []struct{ method, path string }{
		{"GET", "/app/hook/deliveries"},
		{"GET", fmt.Sprintf("/app/hook/deliveries/%d", id)},
		{"POST", fmt.Sprintf("/app/hook/deliveries/%d/attempts", id)},
	} {
		if code, _ := do(t, ep.method, s.URL()+ep.path, ""); code != http.StatusUnauthorized {
			t.Errorf("%s %s anonymous = %d, want 401", ep.method, ep.path, code)
		}
		if code, body := do(t, ep.method, s.URL()+ep.path, token); code != http.StatusUnauthorized || !strings.Contains(body, "A JSON web token could not be decoded") {
			t.Errorf("%s %s with an installation token = %d %s, want 401", ep.method, ep.path, code, body)
		}
		if code, body := do(t, ep.method, s.URL()+ep.path, appJWT(t, s)); code >= 300 {
			t.Errorf("%s %s with the app JWT = %d %s", ep.method, ep.path, code, body)
		}
	}
	s.WaitRedeliveries()
}

// TestRedeliveryResendsTheSameDelivery: POST .../attempts answers 202 {} and sends the same
// guid and payload, signed, as a new delivery marked redelivery; too old is 422.
func TestRedeliveryResendsTheSameDelivery(t *testing.T) {
	s, repo, _ := setup(t)
	app := newHookApp(t, s.WebhookSecret(), func(_ string, n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	payload := repo.IssuesOpenedPayload(repo.CreateIssue("alice", "t", "b", ""))
	if _, err := send(t, s, app.srv.URL, "issues", payload); err != nil {
		t.Fatal(err)
	}
	first := s.Deliveries()[0]
	gh := appClient(t, s)
	ctx := context.Background()
	_, resp, err := gh.Apps.RedeliverHookDelivery(ctx, first.ID)
	var accepted *github.AcceptedError
	if !errors.As(err, &accepted) || resp.StatusCode != http.StatusAccepted || strings.TrimSpace(string(accepted.Raw)) != "{}" {
		t.Fatalf("RedeliverHookDelivery = %v (%v), want 202 {}", err, resp)
	}
	s.WaitRedeliveries()

	hits := app.received()
	if len(hits) != 2 || hits[1].guid != first.GUID || string(hits[1].body) != string(payload) || hits[1].sigErr != nil || hits[1].event != "issues" {
		t.Fatalf("the app received %+v", hits)
	}
	ds := s.Deliveries()
	again := ds[1]
	if len(ds) != 2 || again.ID <= first.ID || again.GUID != first.GUID || !again.Redelivery || again.StatusCode != 200 || again.Action != "opened" || again.RepositoryID != first.RepositoryID {
		t.Fatalf("redelivery recorded as %+v", again)
	}
	list, _, err := gh.Apps.ListHookDeliveries(ctx, nil)
	if err != nil || len(list) != 2 || list[0].GetID() != again.ID || !list[0].GetRedelivery() || list[1].GetRedelivery() || list[0].GetGUID() != list[1].GetGUID() {
		t.Fatalf("listed %v, %v", list, err)
	}
	if _, _, err := gh.Apps.RedeliverHookDelivery(ctx, again.ID+1000); statusOf(err) != http.StatusNotFound {
		t.Fatalf("unknown id: %v, want 404", err)
	}

	// Three days is the limit.
	now := time.Now()
	s.SetDeliveryClock(func() time.Time { return now.Add(-73 * time.Hour) })
	_, _ = send(t, s, app.srv.URL, "issues", payload)
	s.SetDeliveryClock(func() time.Time { return now.Add(-71 * time.Hour) })
	_, _ = send(t, s, app.srv.URL, "issues", payload)
	s.SetDeliveryClock(nil)
	ds = s.Deliveries()
	if _, _, err := gh.Apps.RedeliverHookDelivery(ctx, ds[2].ID); statusOf(err) != http.StatusUnprocessableEntity {
		t.Fatalf("73 h old: %v, want 422", err)
	}
	if _, _, err := gh.Apps.RedeliverHookDelivery(ctx, ds[3].ID); !errors.As(err, &accepted) {
		t.Fatalf("71 h old: %v, want 202", err)
	}
	s.WaitRedeliveries()
	if n := len(s.Deliveries()); n != 5 {
		t.Fatalf("%d deliveries, want 5", n)
	}
}

// TestDeliveryFaults: a proxy's 502 never reaches the app; a lost answer does.
func TestDeliveryFaults(t *testing.T) {
	s := githubtest.New(t, githubtest.WithDeliveryTimeout(time.Second))
	app := newHookApp(t, s.WebhookSecret(), func(string, int, http.ResponseWriter, *http.Request) {})
	s.FailDeliveries(githubtest.DeliveryFault{Event: "ping", Status: http.StatusBadGateway, Times: 1})
	s.FailDeliveries(githubtest.DeliveryFault{Event: "issues", Lost: true, Times: 1})
	res, err := send(t, s, app.srv.URL, "ping", githubtest.Payload("ping"))
	if err != nil || res.StatusCode != http.StatusBadGateway || len(app.received()) != 0 {
		t.Fatalf("proxy fault: %v %v, app saw %d", res, err, len(app.received()))
	}
	if _, err := send(t, s, app.srv.URL, "issues", githubtest.Payload("issues.opened")); err == nil || len(app.received()) != 1 {
		t.Fatalf("lost answer: err %v, app saw %d", err, len(app.received()))
	}
	if _, err := send(t, s, app.srv.URL, "ping", githubtest.Payload("ping")); err != nil || len(app.received()) != 2 {
		t.Fatalf("after the faults: %v, app saw %d", err, len(app.received()))
	}
	ds := s.Deliveries()
	if ds[0].StatusCode != 502 || ds[0].Status != "Invalid HTTP Response: 502" || ds[1].StatusCode != 0 || ds[1].Status != "timed out" || ds[2].StatusCode != 200 {
		t.Fatalf("recorded %d %q, %d %q, %d", ds[0].StatusCode, ds[0].Status, ds[1].StatusCode, ds[1].Status, ds[2].StatusCode)
	}
}
