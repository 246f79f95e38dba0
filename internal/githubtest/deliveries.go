package githubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Webhook deliveries as GitHub keeps them for an app: every webhook the fake sends is
// recorded with the app's answer, listed newest first at GET /app/hook/deliveries (cursor
// paging through the Link header), shown with its request and response at
// GET /app/hook/deliveries/{id}, and sent again by POST /app/hook/deliveries/{id}/attempts.
// GitHub never redelivers on its own, and neither does the fake.

// DefaultDeliveryTimeout is how long GitHub waits for the app's answer to a delivery.
const DefaultDeliveryTimeout = 10 * time.Second

// RedeliveryLimit is how old a delivery may be and still be redelivered.
const RedeliveryLimit = 72 * time.Hour

// Delivery is one recorded attempt to deliver a webhook to the app.
type Delivery struct {
	ID   int64  // increasing; a redelivery gets a new one
	GUID string // X-GitHub-Delivery, shared by every attempt of one event
	// Event is X-GitHub-Event; Action, InstallationID and RepositoryID come from the payload
	// ("" and 0 when it has none).
	Event          string
	Action         string
	InstallationID int64
	RepositoryID   int64
	DeliveredAt    time.Time
	Duration       time.Duration
	Redelivery     bool
	// StatusCode is the app's HTTP status, 0 when no answer came (timeout, refused
	// connection); Status is GitHub's text for it: "OK", "Invalid HTTP Response: 503",
	// "timed out", "failed to connect".
	StatusCode int
	Status     string
	URL        string
	// RequestHeaders and ResponseHeaders are spelled as GitHub shows them.
	RequestHeaders  map[string]string
	Payload         []byte
	ResponseHeaders map[string]string
	ResponseBody    string

	app *appInfo // whose webhook it is: each app sees its own deliveries
}

// Succeeded reports whether the app answered 2xx.
func (d Delivery) Succeeded() bool { return d.StatusCode >= 200 && d.StatusCode < 300 }

// DeliveryFault makes deliveries fail between GitHub and the app, as a proxy, the network
// or an overloaded app would. GitHub records the failure and, as always, does not retry.
type DeliveryFault struct {
	// Event limits the fault to deliveries of this event; "" matches every event.
	Event string
	// Times is how many deliveries the fault applies to; 0 means all of them.
	Times int
	// Status is the answer recorded instead of the app's, e.g. 502 from a load balancer
	// while the app is down. 0 means the delivery times out (status_code 0, "timed out").
	Status int
	// Lost sends the request to the app all the same and records the fault instead of its
	// answer, as when the app handled the event but answered after GitHub gave up. Without
	// Lost the app never sees the request.
	Lost bool
}

type deliveryFaultRule struct {
	fault DeliveryFault
	left  int
}

// hookDeliveries is the app webhook's delivery log. It is guarded by Server.mu.
type hookDeliveries struct {
	seq      int64
	list     []*Delivery // oldest first
	timeout  time.Duration
	clock    func() time.Time
	faults   []*deliveryFaultRule
	inflight int        // redeliveries accepted and not yet recorded
	idle     *sync.Cond // signalled when inflight drops to zero
	client   *http.Client
}

func newHookDeliveries(mu *sync.Mutex, timeout time.Duration) *hookDeliveries {
	if timeout <= 0 {
		timeout = DefaultDeliveryTimeout
	}
	return &hookDeliveries{
		seq:     12000000000,
		timeout: timeout,
		clock:   time.Now,
		idle:    sync.NewCond(mu),
		// GitHub does not follow redirects: a 3xx is the answer.
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

// WithDeliveryTimeout sets how long a delivery waits for the app's answer before it is
// recorded as timed out (GitHub: 10 s), so tests of slow apps stay fast.
func WithDeliveryTimeout(d time.Duration) Option { return func(c *config) { c.deliveryTimeout = d } }

// SetDeliveryTimeout changes the delivery timeout (see WithDeliveryTimeout).
func (s *Server) SetDeliveryTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		d = DefaultDeliveryTimeout
	}
	s.hooks.timeout = d
}

// SetDeliveryClock makes deliveries read now (nil: time.Now) for their delivered_at and
// for the three-day redelivery limit. Turning it back before sending makes old
// deliveries; keep it moving forward between sends, as ids and times go together on GitHub.
func (s *Server) SetDeliveryClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	s.hooks.clock = now
}

// FailDeliveries adds a delivery fault; rules are tried in the order added.
func (s *Server) FailDeliveries(f DeliveryFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks.faults = append(s.hooks.faults, &deliveryFaultRule{fault: f, left: f.Times})
}

// Deliveries returns a copy of the recorded deliveries, oldest first (the API lists them
// newest first).
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, 0, len(s.hooks.list))
	for _, d := range s.hooks.list {
		out = append(out, *d)
	}
	return out
}

// WaitRedeliveries blocks until every redelivery asked for so far, and every webhook the
// fake sent on its own after answering a request (workflow_run after a dispatch), has been
// attempted and recorded. GitHub redelivers after answering 202, and so does the fake.
func (s *Server) WaitRedeliveries() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.hooks.inflight > 0 {
		s.hooks.idle.Wait()
	}
}

func (s *Server) takeDeliveryFault(event string) *DeliveryFault {
	for _, rule := range s.hooks.faults {
		if rule.fault.Times > 0 && rule.left == 0 {
			continue
		}
		if rule.fault.Event != "" && rule.fault.Event != event {
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

// webhookHeaders are the headers GitHub sends with a delivery, spelled as its delivery log
// shows them.
func webhookHeaders(app *appInfo, event, guid string, payload []byte) [][2]string {
	return [][2]string{
		{"Accept", "*/*"},
		{"content-type", "application/json"},
		{"User-Agent", "GitHub-Hookshot/9b1e5c8"},
		{"X-GitHub-Delivery", guid},
		{"X-GitHub-Event", event},
		{"X-GitHub-Hook-ID", strconv.FormatInt(app.id*10+1, 10)},
		{"X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(app.id, 10)},
		{"X-GitHub-Hook-Installation-Target-Type", "integration"},
		{"X-Hub-Signature", signSHA1(app.secret, payload)},
		{"X-Hub-Signature-256", SignPayload(app.secret, payload)},
	}
}

// deliver POSTs one signed delivery to targetURL and records it. It returns the app's
// response (its body read and replaced, for the caller to read again) or the error that
// kept an answer from coming; a fault's status comes back as a response.
func (s *Server) deliver(app *appInfo, targetURL, event, guid string, payload []byte, redelivery bool) (*Delivery, *http.Response, error) {
	s.mu.Lock()
	s.hooks.seq++
	d := &Delivery{ID: s.hooks.seq, GUID: guid, Event: event, Redelivery: redelivery, URL: targetURL, Payload: append([]byte(nil), payload...), RequestHeaders: map[string]string{}, app: app}
	timeout, client := s.hooks.timeout, s.hooks.client
	start := s.hooks.clock()
	fault := s.takeDeliveryFault(event)
	headers := webhookHeaders(app, event, guid, payload)
	s.mu.Unlock()

	d.DeliveredAt = start
	var meta struct {
		Action       string `json:"action"`
		Installation struct {
			ID int64 `json:"id"`
		} `json:"installation"`
		Repository struct {
			ID int64 `json:"id"`
		} `json:"repository"`
	}
	if json.Unmarshal(payload, &meta) == nil {
		d.Action, d.InstallationID, d.RepositoryID = meta.Action, meta.Installation.ID, meta.Repository.ID
	}
	for _, h := range headers {
		d.RequestHeaders[h[0]] = h[1]
	}

	var res *http.Response
	var err error
	began := time.Now()
	if fault == nil || fault.Lost {
		res, err = post(client, timeout, targetURL, headers, payload)
	}
	d.Duration = time.Since(began)
	switch {
	case fault != nil && fault.Status != 0:
		d.StatusCode, d.Status = fault.Status, invalidResponse(fault.Status)
		d.ResponseHeaders = map[string]string{"Content-Type": "text/html"}
		d.ResponseBody = http.StatusText(fault.Status)
		res = &http.Response{
			StatusCode: fault.Status, Status: fmt.Sprintf("%d %s", fault.Status, http.StatusText(fault.Status)),
			Header: http.Header{"Content-Type": {"text/html"}}, Body: io.NopCloser(strings.NewReader(d.ResponseBody)),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}
		err = nil
	case fault != nil:
		d.Duration = max(d.Duration, timeout)
		d.Status = "timed out"
		res, err = nil, fmt.Errorf("deliver %s webhook to %s: timed out after %s", event, targetURL, timeout)
	case err != nil:
		d.Status = "failed to connect"
		if isTimeout(err) {
			d.Status = "timed out"
		}
		err = fmt.Errorf("deliver %s webhook to %s: %w", event, targetURL, err)
	default:
		d.StatusCode, d.Status = res.StatusCode, invalidResponse(res.StatusCode)
		d.ResponseHeaders = map[string]string{}
		for k, v := range res.Header {
			d.ResponseHeaders[k] = strings.Join(v, ", ")
		}
		d.ResponseBody = string(res.Body.(*readBody).data)
	}

	s.mu.Lock()
	// Listed by id: a delivery that answered sooner than an earlier one goes after it.
	i := len(s.hooks.list)
	for i > 0 && s.hooks.list[i-1].ID > d.ID {
		i--
	}
	s.hooks.list = append(s.hooks.list[:i], append([]*Delivery{d}, s.hooks.list[i:]...)...)
	s.mu.Unlock()
	return d, res, err
}

// readBody is a response body read within the delivery timeout, readable again.
type readBody struct {
	*bytes.Reader
	data []byte
}

func (*readBody) Close() error { return nil }

// post sends the delivery and reads the whole answer within timeout, as GitHub does.
func post(client *http.Client, timeout time.Duration, targetURL string, headers [][2]string, payload []byte) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, targetURL, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	for _, h := range headers {
		req.Header.Set(h[0], h[1])
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	res.Body = &readBody{Reader: bytes.NewReader(data), data: data}
	return res, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func invalidResponse(code int) string {
	if code >= 200 && code < 300 {
		return "OK"
	}
	return "Invalid HTTP Response: " + strconv.Itoa(code)
}

// --- the REST endpoints ---

type hookDeliveryItemJSON struct {
	ID             int64   `json:"id"`
	GUID           string  `json:"guid"`
	DeliveredAt    string  `json:"delivered_at"`
	Redelivery     bool    `json:"redelivery"`
	Duration       float64 `json:"duration"`
	Status         string  `json:"status"`
	StatusCode     int     `json:"status_code"`
	Event          string  `json:"event"`
	Action         *string `json:"action"`
	InstallationID *int64  `json:"installation_id"`
	RepositoryID   *int64  `json:"repository_id"`
	ThrottledAt    *string `json:"throttled_at"`
}

type hookDeliveryJSON struct {
	hookDeliveryItemJSON
	URL     string `json:"url"`
	Request struct {
		Headers map[string]string `json:"headers"`
		Payload json.RawMessage   `json:"payload"`
	} `json:"request"`
	Response struct {
		Headers map[string]string `json:"headers"`
		Payload *string           `json:"payload"`
	} `json:"response"`
}

func deliveryItemJSON(d *Delivery) hookDeliveryItemJSON {
	out := hookDeliveryItemJSON{
		ID:          d.ID,
		GUID:        d.GUID,
		DeliveredAt: ts(d.DeliveredAt),
		Redelivery:  d.Redelivery,
		Duration:    math.Round(d.Duration.Seconds()*100) / 100,
		Status:      d.Status,
		StatusCode:  d.StatusCode,
		Event:       d.Event,
	}
	if d.Action != "" {
		out.Action = &d.Action
	}
	if d.InstallationID != 0 {
		out.InstallationID = &d.InstallationID
	}
	if d.RepositoryID != 0 {
		out.RepositoryID = &d.RepositoryID
	}
	return out
}

func deliveryJSON(d *Delivery) hookDeliveryJSON {
	out := hookDeliveryJSON{hookDeliveryItemJSON: deliveryItemJSON(d), URL: d.URL}
	out.Request.Headers = d.RequestHeaders
	if json.Valid(d.Payload) {
		out.Request.Payload = d.Payload
	} else {
		b, _ := json.Marshal(string(d.Payload))
		out.Request.Payload = b
	}
	if d.ResponseHeaders != nil {
		out.Response.Headers = d.ResponseHeaders
		body := d.ResponseBody
		out.Response.Payload = &body
	}
	return out
}

const deliveryCursorPrefix = "v1_"

func (s *Server) deliveryRoutes() {
	s.handle("GET /app/hook/deliveries", authApp, s.listDeliveries)
	s.handle("GET /app/hook/deliveries/{id}", authApp, func(c *call) {
		if d := s.deliveryByPath(c); d != nil {
			c.json(http.StatusOK, deliveryJSON(d))
		}
	})
	s.handle("POST /app/hook/deliveries/{id}/attempts", authApp, s.redeliver)
}

func (s *Server) deliveryByPath(c *call) *Delivery {
	id, ok := c.pathInt("id")
	if !ok {
		return nil
	}
	for _, d := range s.hooks.list {
		if d.ID == id && d.app == c.app {
			return d
		}
	}
	c.fail(http.StatusNotFound, "Not Found")
	return nil
}

// listDeliveries answers newest first, per_page (default 30, at most 100) from the
// cursor's delivery on, with next and prev cursors in the Link header.
func (s *Server) listDeliveries(c *call) {
	q := c.r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = 30
	}
	per = min(per, 100)
	var items []*Delivery
	for i := len(s.hooks.list) - 1; i >= 0; i-- {
		d := s.hooks.list[i]
		if d.app != c.app {
			continue
		}
		switch q.Get("status") {
		case "success":
			if d.StatusCode < 200 || d.StatusCode > 399 {
				continue
			}
		case "failure":
			if d.StatusCode < 400 || d.StatusCode > 599 {
				continue
			}
		}
		items = append(items, d)
	}
	start := 0
	if cur := q.Get("cursor"); cur != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(cur, deliveryCursorPrefix), 10, 64)
		if err != nil || !strings.HasPrefix(cur, deliveryCursorPrefix) {
			c.fail(http.StatusBadRequest, "Invalid cursor")
			return
		}
		start = len(items)
		for i, d := range items {
			if d.ID <= id {
				start = i
				break
			}
		}
	}
	end := min(start+per, len(items))
	link := func(from int, rel string) string {
		q.Set("per_page", strconv.Itoa(per))
		q.Set("cursor", deliveryCursorPrefix+strconv.FormatInt(items[from].ID, 10))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, s.srv.URL, infoOf(c.r).rawPath, q.Encode(), rel)
	}
	var links []string
	if end < len(items) {
		links = append(links, link(end, "next"))
	}
	if start > 0 && start <= len(items) {
		links = append(links, link(max(start-per, 0), "prev"))
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := make([]hookDeliveryItemJSON, 0, end-start)
	for _, d := range items[start:end] {
		out = append(out, deliveryItemJSON(d))
	}
	c.json(http.StatusOK, out)
}

// redeliver answers 202 and sends the recorded request again, with the same guid and
// payload, freshly signed, to the same URL; the attempt is a new delivery.
func (s *Server) redeliver(c *call) {
	d := s.deliveryByPath(c)
	if d == nil {
		return
	}
	if s.hooks.clock().Sub(d.DeliveredAt) > RedeliveryLimit {
		c.invalid("Cannot redeliver a delivery older than 3 days")
		return
	}
	s.hooks.inflight++
	go func() {
		_, res, err := s.deliver(d.app, d.URL, d.Event, d.GUID, d.Payload, true)
		if err == nil {
			res.Body.Close()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.hooks.inflight--; s.hooks.inflight == 0 {
			s.hooks.idle.Broadcast()
		}
	}()
	c.json(http.StatusAccepted, struct{}{})
}
