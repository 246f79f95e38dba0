// Package githubtest is a stateful fake of the GitHub REST API for tests, served by an
// httptest.Server. It speaks the API that daytwo's real clients use (go-github v60 through
// go-githubapp and ghinstallation): app JWTs exchanged for installation tokens, repositories
// backed by real git objects (ids match `git hash-object`), pull requests that merge into
// real commits, issues, comments, labels, reactions, reviews, permissions, team membership,
// check runs and commit statuses. It logs every request, injects faults per route and sends
// signed webhooks built from GitHub's real example payloads.
package githubtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a fake GitHub. Create it with New; it stops when the test ends.
type Server struct {
	t   testing.TB
	srv *httptest.Server
	mux *http.ServeMux

	app       *appInfo // the app New configures; more are registered through the manifest flow
	tokenTTL  time.Duration
	rateLimit int
	lazyMerge int
	webUser   string // signed in to the web pages
	ghes      string // GitHub Enterprise Server version answered as, "" for GitHub.com

	mu            sync.Mutex
	latency       time.Duration
	apps          map[int64]*appInfo
	manifests     *manifestFlow
	installations map[int64]*installation
	tokens        map[string]*accessToken
	tokenSeq      int
	repos         map[string]*repoState // by lower-cased "owner/name"
	accounts      map[string]*account   // by lower-cased login
	teams         map[string]*team      // by lower-cased "org/slug"
	nextID        int64
	reqSeq        int64
	faults        []*faultRule
	fieldFaults   []*fieldFault
	log           []Request
	rates         map[string]*rateWindow
	hooks         *hookDeliveries
}

// appInfo is a registered GitHub App: its identity, credentials, webhook and the
// permissions and events its installations get.
type appInfo struct {
	id           int64
	slug         string
	name         string
	owner        string
	bot          *account
	key          *rsa.PrivateKey
	keyPEM       []byte
	secret       string
	clientID     string
	clientSecret string
	description  string
	externalURL  string
	hookURL      string // where its webhooks go ("" for the app New configures: tests pass the URL)
	permissions  map[string]string
	events       []string
	createdAt    time.Time
}

type config struct {
	appID     int64
	appSlug   string
	secret    string
	tokenTTL  time.Duration
	latency   time.Duration
	rateLimit int
	appOwner  string
	lazyMerge int
	webUser   string
	ghes      string

	deliveryTimeout time.Duration
}

// Option configures New.
type Option func(*config)

// WithAppID sets the GitHub App's id (default 4242).
func WithAppID(id int64) Option { return func(c *config) { c.appID = id } }

// WithWebhookSecret sets the secret SendWebhook signs with (default "githubtest-secret").
func WithWebhookSecret(secret string) Option { return func(c *config) { c.secret = secret } }

// WithTokenTTL sets how long installation tokens live (default one hour, as on GitHub).
func WithTokenTTL(d time.Duration) Option { return func(c *config) { c.tokenTTL = d } }

// WithLatency delays every request by d, as a network round trip would.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithRateLimit sets the hourly request budget per installation (default 5000).
func WithRateLimit(n int) Option { return func(c *config) { c.rateLimit = n } }

// WithMergeabilityDelay makes the first n reads of a pull request after it is opened or its
// branches move report mergeable null and mergeable_state "unknown", as GitHub does while it
// computes the test merge in the background.
func WithMergeabilityDelay(n int) Option { return func(c *config) { c.lazyMerge = n } }

// New starts a fake GitHub and closes it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{appID: 4242, appSlug: "daytwo", appOwner: "daytwo-dev", secret: "githubtest-secret", tokenTTL: time.Hour, rateLimit: 5000, webUser: "octocat"}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		t:             t,
		mux:           http.NewServeMux(),
		tokenTTL:      cfg.tokenTTL,
		rateLimit:     cfg.rateLimit,
		lazyMerge:     cfg.lazyMerge,
		webUser:       cfg.webUser,
		ghes:          cfg.ghes,
		latency:       cfg.latency,
		installations: map[int64]*installation{},
		tokens:        map[string]*accessToken{},
		repos:         map[string]*repoState{},
		accounts:      map[string]*account{},
		teams:         map[string]*team{},
		rates:         map[string]*rateWindow{},
		apps:          map[int64]*appInfo{},
		manifests:     newManifestFlow(),
		nextID:        1000,
	}
	s.hooks = newHookDeliveries(&s.mu, cfg.deliveryTimeout)
	s.app = &appInfo{id: cfg.appID, slug: cfg.appSlug, name: cfg.appSlug, owner: cfg.appOwner, secret: cfg.secret,
		clientID: fmt.Sprintf("Iv1.%016x", cfg.appID), permissions: appPermissions, events: appEvents, createdAt: appEpoch}
	if err := s.app.setKey(); err != nil {
		t.Fatalf("githubtest: %v", err)
	}
	s.app.bot = s.accountLocked(cfg.appSlug+"[bot]", "Bot")
	s.accountLocked(cfg.appOwner, "Organization")
	s.apps[s.app.id] = s.app
	s.routes()
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.WaitRedeliveries)
	return s
}

// sharedKey is one generated app key per test binary: generating a 2048-bit key takes long
// enough to slow suites that start many servers, and fakes need not keep secrets apart.
var sharedKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate app key: %w", err)
	}
	return key, nil
})

func (a *appInfo) setKey() error {
	key, err := sharedKey()
	if err != nil {
		return err
	}
	a.key = key
	a.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return nil
}

// URL is the server's root, also the base of html_url links (like https://github.com).
func (s *Server) URL() string { return s.srv.URL }

// V3URL is the REST base URL to give go-github or go-githubapp: URL()+"/api/v3/".
// The API is also served at the root, as on api.github.com.
func (s *Server) V3URL() string { return s.srv.URL + "/api/v3/" }

// V4URL is the GraphQL URL. The fake validates every document against GitHub's published
// schema and resolves the part of it daytwo uses (see graphql_types.go).
func (s *Server) V4URL() string { return s.srv.URL + "/api/graphql" }

// AppID is the app's id.
func (s *Server) AppID() int64 { return s.app.id }

// AppSlug is the app's slug.
func (s *Server) AppSlug() string { return s.app.slug }

// BotLogin is the login of the app's bot user, "<slug>[bot]", author of what the app writes.
func (s *Server) BotLogin() string { return s.app.bot.login }

// PrivateKeyPEM is the app's private key, PEM encoded, for the client under test.
func (s *Server) PrivateKeyPEM() []byte { return append([]byte(nil), s.app.keyPEM...) }

// WebhookSecret is the secret webhooks are signed with.
func (s *Server) WebhookSecret() string { return s.app.secret }

// SetLatency changes the fixed delay added to every request.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

func (s *Server) apiBase() string { return s.srv.URL + "/api/v3" }

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

// account is a user, bot or organization.
type account struct {
	id    int64
	login string
	typ   string // User, Bot, Organization
}

// accountLocked returns the account for login, creating it with typ when unknown.
func (s *Server) accountLocked(login, typ string) *account {
	k := strings.ToLower(login)
	if a, ok := s.accounts[k]; ok {
		return a
	}
	if typ == "" {
		typ = "User"
		if strings.HasSuffix(login, "[bot]") {
			typ = "Bot"
		}
	}
	a := &account{id: s.newID(), login: login, typ: typ}
	s.accounts[k] = a
	return a
}

// AddUser makes a user account known (users are also created when first referenced) and
// returns its id.
func (s *Server) AddUser(login string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accountLocked(login, "User").id
}

// reqInfo carries what the route layer learned about a request to the logging layer.
type reqInfo struct {
	token        string
	installation int64
	apiPath      string
	rawPath      string // path as received, for pagination links
}

type reqInfoKey struct{}

func infoOf(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP serves the API at the root and under /api/v3, adding latency, faults and logging.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency := s.latency
	s.reqSeq++
	seq := s.reqSeq
	s.mu.Unlock()
	if latency > 0 && !sleepCtx(r.Context(), latency) {
		return
	}
	w.Header().Set("X-GitHub-Request-Id", fmt.Sprintf("%04X:%04X:%06X:%07X:%08X", s.app.id&0xffff, seq&0xffff, seq*7919&0xffffff, seq*104729&0xfffffff, seq))
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if s.ghes != "" {
		w.Header().Set("X-GitHub-Enterprise-Version", s.ghes)
	}

	var body []byte
	if r.Body != nil && r.Method != http.MethodGet {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 32<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	apiPath := r.URL.Path
	if p, ok := strings.CutPrefix(apiPath, "/api/v3"); ok && (p == "" || strings.HasPrefix(p, "/")) {
		apiPath = p
		if apiPath == "" {
			apiPath = "/"
		}
	}
	ri := &reqInfo{apiPath: apiPath, rawPath: r.URL.Path, token: credential(r)}
	sw := &statusWriter{ResponseWriter: w}
	entry := Request{Method: r.Method, Path: apiPath, Query: r.URL.RawQuery, Token: ri.token, Time: time.Now(), Body: body}
	faultPath := apiPath
	if apiPath == "/api/graphql" {
		// Faults can name the operation: "/api/graphql/daytwoChange".
		entry.OperationType, entry.Operation = operation(body)
		faultPath += "/" + entry.Operation
	}

	var lost *Fault
	if f := s.takeFault(r.Method, faultPath); f != nil {
		entry.Faulted = f.Status != 0
		if f.Delay > 0 && !sleepCtx(r.Context(), f.Delay) {
			return
		}
		if f.Lost && f.Status != 0 {
			lost = f
		} else if f.Status != 0 {
			s.writeFault(sw, f)
			entry.Status = sw.status
			s.record(entry)
			return
		}
	}

	r2 := r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri))
	u := *r.URL
	u.Path, u.RawPath = apiPath, ""
	if raw := r.URL.EscapedPath(); strings.HasPrefix(raw, "/api/v3/") {
		u.RawPath = strings.TrimPrefix(raw, "/api/v3")
	}
	r2.URL = &u
	if lost != nil {
		s.mux.ServeHTTP(httptest.NewRecorder(), r2) // done, and its answer thrown away
		s.writeFault(sw, lost)
	} else {
		s.mux.ServeHTTP(sw, r2)
	}
	entry.Status = sw.status
	entry.Installation = ri.installation
	s.record(entry)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// credential extracts the token or JWT from an Authorization header ("token X" or "Bearer X").
func credential(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, v, ok := strings.Cut(h, " "); ok && (strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "bearer")) {
		return strings.TrimSpace(v)
	}
	return ""
}

type authKind int

const (
	authInstallation authKind = iota // an installation token that covers {owner}/{repo} or {org}
	authApp                          // the app's JWT
	authNone
)

// call is one request being served by a route handler, with the lock held.
type call struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	app  *appInfo      // the app acting: the JWT's, or the installation token's
	inst *installation // for installation-token routes
	tok  *accessToken  // the token itself, which may cover fewer repositories
	repo *repoState    // for routes under /repos/{owner}/{repo}
}

// handle registers a route; handlers run with the server lock held.
func (s *Server) handle(pattern string, auth authKind, h func(*call)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c := &call{s: s, w: w, r: r}
		ri := infoOf(r)
		switch auth {
		case authApp:
			app, problem := s.jwtApp(ri.token)
			if problem != "" {
				s.setRateHeaders(w, "ip", false)
				c.fail(http.StatusUnauthorized, problem)
				return
			}
			c.app = app
			if !s.spendRate(c, "app") {
				return
			}
		case authInstallation:
			tok, msg := s.lookupToken(ri.token)
			if tok == nil {
				s.setRateHeaders(w, "ip", false)
				c.fail(http.StatusUnauthorized, msg)
				return
			}
			ri.installation = tok.installation.id
			c.inst, c.tok, c.app = tok.installation, tok, tok.installation.app
			if !s.spendRate(c, fmt.Sprintf("installation:%d", tok.installation.id)) {
				return
			}
			if org := r.PathValue("org"); org != "" && !strings.EqualFold(org, tok.installation.account) {
				c.fail(http.StatusNotFound, "Not Found")
				return
			}
			if owner, name := r.PathValue("owner"), r.PathValue("repo"); owner != "" && name != "" {
				rs := s.repos[strings.ToLower(owner+"/"+name)]
				if rs == nil || !tok.covers(rs) {
					c.fail(http.StatusNotFound, "Not Found")
					return
				}
				c.repo = rs
			}
		case authNone:
			s.setRateHeaders(w, "ip", false)
		}
		h(c)
	})
}

// routes registers every endpoint; each area registers its own in its file.
func (s *Server) routes() {
	s.authRoutes()
	s.gitRoutes()
	s.repoRoutes()
	s.pullRoutes()
	s.issueRoutes()
	s.checkRoutes()
	s.actionsRoutes()
	s.graphqlRoutes()
	s.deliveryRoutes()
	s.manifestRoutes()
	s.teamRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusNotFound, errorBody(http.StatusNotFound, "Not Found", ""))
	})
}

type apiError struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
	Status           string       `json:"status,omitempty"`
}

type fieldError struct {
	Value    string `json:"value,omitempty"`
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func errorBody(status int, msg, doc string) apiError {
	if doc == "" {
		doc = "https://docs.github.com/rest"
	}
	return apiError{Message: msg, DocumentationURL: doc, Status: strconv.Itoa(status)}
}

// writeJSON writes v as GitHub does; GET answers carry an ETag and honour If-None-Match.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "githubtest: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if r.Method == http.MethodGet && status == http.StatusOK {
		sum := sha256.Sum256(buf.Bytes())
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
		h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
		if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, strings.TrimPrefix(etag, "W/")) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (c *call) json(status int, v any) { writeJSON(c.w, c.r, status, v) }

func (c *call) fail(status int, msg string) { c.json(status, errorBody(status, msg, "")) }

// invalid answers 422 Validation Failed, with field errors when given.
func (c *call) invalid(msg string, errs ...fieldError) {
	e := errorBody(http.StatusUnprocessableEntity, msg, "")
	e.Errors = errs
	c.json(http.StatusUnprocessableEntity, e)
}

func (c *call) noContent() { c.w.WriteHeader(http.StatusNoContent) }

// decode reads a JSON body into v; a malformed body gets GitHub's 400 answer.
func (c *call) decode(v any) bool {
	data, err := io.ReadAll(c.r.Body)
	if err == nil && len(bytes.TrimSpace(data)) == 0 {
		return true
	}
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// pathInt parses a numeric path value; on failure it answers 404 as GitHub does.
func (c *call) pathInt(name string) (int64, bool) {
	n, err := strconv.ParseInt(c.r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		c.fail(http.StatusNotFound, "Not Found")
		return 0, false
	}
	return n, true
}

// actor is the account acting through the request: the bot of the app whose installation
// token (or JWT) it carries.
func (c *call) actor() *account {
	if c.app != nil {
		return c.app.bot
	}
	return c.s.app.bot
}

// actorApp is the app acting through the request (the fake's own app when none is named).
func (c *call) actorApp() *appInfo {
	if c.app != nil {
		return c.app
	}
	return c.s.app
}

// appOfBot is the app whose bot account a is, nil for other accounts.
func (s *Server) appOfBot(a *account) *appInfo {
	if a == nil || a.typ != "Bot" {
		return nil
	}
	for _, app := range s.apps {
		if app.bot == a {
			return app
		}
	}
	return nil
}

// paginate slices items by ?page and ?per_page and sets GitHub's Link header.
func paginate[T any](c *call, items []T) []T {
	q := c.r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = 30
	}
	per = min(per, 100)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page <= 0 {
		page = 1
	}
	last := max((len(items)+per-1)/per, 1)
	link := func(p int, rel string) string {
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		ri := infoOf(c.r)
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, c.s.srv.URL, ri.rawPath, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := (page - 1) * per
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+per, len(items))]
}

func (s *Server) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("githubtest: "+format, args...)
}
