package githubtest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Registering an app from a manifest, as on GitHub
// (docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
// the browser POSTs a form with the field "manifest" (JSON) to /settings/apps/new?state=S
// or /organizations/{org}/settings/apps/new?state=S; GitHub shows "Create GitHub App for
// <owner>" with the app's name to confirm; creating it redirects to
// redirect_url?code=C&state=S, and POST /app-manifests/{code}/conversions (no
// authentication) answers 201 with the app's id, secrets and private key, once, within
// an hour. The new app is an app of the fake like the one New configures: its key signs
// JWTs for installation tokens, and its webhooks go to its manifest's hook URL signed
// with its secret (SendAppWebhook).

// ManifestCodeTTL is how long GitHub keeps a manifest code for its conversion.
const ManifestCodeTTL = time.Hour

// maxAppName is GitHub's limit on an app's name.
const maxAppName = 34

const conversionDocs = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"

// manifestFlow is the codes handed out and not yet converted. It is guarded by Server.mu.
type manifestFlow struct {
	codes map[string]*manifestCode
	clock func() time.Time
}

type manifestCode struct {
	app     *appInfo
	expires time.Time
}

func newManifestFlow() *manifestFlow {
	return &manifestFlow{codes: map[string]*manifestCode{}, clock: time.Now}
}

// WithWebUser sets the login of the person signed in to the fake's web pages, who owns
// apps registered on /settings/apps/new (default "octocat").
func WithWebUser(login string) Option { return func(c *config) { c.webUser = login } }

// ExpireManifestCodes makes every manifest code handed out so far older than an hour:
// converting one answers 404, as on GitHub.
func (s *Server) ExpireManifestCodes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.manifests.clock().Add(-time.Second)
	for _, c := range s.manifests.codes {
		c.expires = past
	}
}

// App is an app of the fake as its owner sees it in the settings.
type App struct {
	ID       int64
	Slug     string
	Name     string
	Owner    string
	BotLogin string
	HookURL  string // "" for the app New configures, whose webhooks tests send by URL
	// ClientSecret and WebhookSecret are the app's secrets, for tests that check they
	// appear nowhere they should not.
	ClientSecret  string
	WebhookSecret string
	Permissions   map[string]string
	Events        []string
}

// Apps lists the fake's apps: the one New configures first, then those registered from
// manifests, oldest first.
func (s *Server) Apps() []App {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*appInfo, 0, len(s.apps))
	for _, a := range s.apps {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool {
		if (list[i] == s.app) != (list[j] == s.app) {
			return list[i] == s.app
		}
		return list[i].id < list[j].id
	})
	out := make([]App, 0, len(list))
	for _, a := range list {
		perms := map[string]string{}
		for k, v := range a.permissions {
			perms[k] = v
		}
		out = append(out, App{ID: a.id, Slug: a.slug, Name: a.name, Owner: a.owner, BotLogin: a.bot.login, HookURL: a.hookURL,
			ClientSecret: a.clientSecret, WebhookSecret: a.secret, Permissions: perms, Events: append([]string(nil), a.events...)})
	}
	return out
}

func (s *Server) manifestRoutes() {
	s.web("POST /settings/apps/new", s.newAppFromManifest)
	s.web("POST /organizations/{org}/settings/apps/new", s.newAppFromManifest)
	s.web("POST /settings/apps", s.createAppFromManifest)
	s.web("POST /organizations/{org}/settings/apps", s.createAppFromManifest)
	s.handle("POST /app-manifests/{code}/conversions", authNone, s.convertManifest)
}

// web registers a page of GitHub's web site: served at the root only, never under /api/v3
// (where GitHub Enterprise Server serves the API).
func (s *Server) web(pattern string, h func(*call)) {
	s.handle(pattern, authNone, func(c *call) {
		if strings.HasPrefix(infoOf(c.r).rawPath, "/api/") {
			c.fail(http.StatusNotFound, "Not Found")
			return
		}
		h(c)
	})
}

// manifest is the part of a GitHub App manifest the fake acts on.
type manifest struct {
	Name           *string `json:"name"`
	URL            *string `json:"url"`
	Description    string  `json:"description"`
	Public         bool    `json:"public"`
	HookAttributes *struct {
		URL    *string `json:"url"`
		Active *bool   `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url"`
	CallbackURLs       []string          `json:"callback_urls"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// parseManifest reads the manifest field and returns GitHub's words for what is wrong.
func parseManifest(raw string) (*manifest, string) {
	var m manifest
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&m); err != nil {
		return nil, "Error: " + err.Error()
	}
	absolute := func(u string) bool {
		p, err := url.Parse(u)
		return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
	}
	switch {
	case m.URL == nil || *m.URL == "":
		return nil, `Error: "url" wasn't supplied.`
	case !absolute(*m.URL):
		return nil, `Error: "url" is not a valid URL.`
	case m.HookAttributes != nil && (m.HookAttributes.URL == nil || *m.HookAttributes.URL == ""):
		return nil, `Error: "url" wasn't supplied.` // GitHub names hook_attributes.url so too
	case m.HookAttributes != nil && !absolute(*m.HookAttributes.URL):
		return nil, `Error: "url" is not a valid URL.`
	case m.RedirectURL != "" && !absolute(m.RedirectURL):
		return nil, `Error: "redirect_url" is not a valid URL.`
	}
	for k, v := range m.DefaultPermissions {
		if v != "read" && v != "write" {
			return nil, fmt.Sprintf(`Error: "default_permissions.%s" must be read or write.`, k)
		}
	}
	return &m, ""
}

// owner is the account a manifest page registers the app for: the signed-in user, or the
// organization in the path (which must exist, as GitHub answers 404 otherwise).
func (s *Server) manifestOwner(c *call) (*account, bool) {
	org := c.r.PathValue("org")
	if org == "" {
		return s.accountLocked(s.webUser, "User"), true
	}
	a := s.accounts[strings.ToLower(org)]
	if a == nil || a.typ != "Organization" {
		c.page(http.StatusNotFound, errorPage, pageData{Title: "Page not found", Message: "This is not the web page you are looking for."})
		return nil, false
	}
	return a, true
}

// newAppFromManifest shows the confirmation page: the owner, the name to edit, the button.
func (s *Server) newAppFromManifest(c *call) {
	owner, ok := s.manifestOwner(c)
	if !ok {
		return
	}
	raw := c.r.PostFormValue("manifest")
	m, problem := parseManifest(raw)
	if problem != "" {
		c.page(http.StatusUnprocessableEntity, errorPage, pageData{Title: "Invalid GitHub App configuration",
			Message: "The configuration does not appear to be a valid GitHub App manifest.", Detail: problem})
		return
	}
	name := ""
	if m.Name != nil {
		name = *m.Name
	}
	c.page(http.StatusOK, createPage, s.createPageData(c, owner, m, raw, c.r.URL.Query().Get("state"), name, ""))
}

func (s *Server) createPageData(c *call, owner *account, m *manifest, raw, state, name, problem string) pageData {
	action := "/settings/apps"
	if org := c.r.PathValue("org"); org != "" {
		action = "/organizations/" + url.PathEscape(org) + "/settings/apps"
	}
	d := pageData{Title: "Create GitHub App for " + owner.login, Owner: owner.login, Action: action, Manifest: raw, State: state, Name: name, Error: problem}
	if m.HookAttributes != nil {
		d.HookURL = *m.HookAttributes.URL
	}
	for _, k := range slices.Sorted(maps.Keys(m.DefaultPermissions)) {
		d.Permissions = append(d.Permissions, k+": "+m.DefaultPermissions[k])
	}
	d.Events = m.DefaultEvents
	return d
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slugOf(name string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

// createAppFromManifest registers the app and sends the browser to redirect_url with a code.
func (s *Server) createAppFromManifest(c *call) {
	owner, ok := s.manifestOwner(c)
	if !ok {
		return
	}
	raw, state := c.r.PostFormValue("manifest"), c.r.PostFormValue("state")
	m, problem := parseManifest(raw)
	if problem != "" {
		c.page(http.StatusUnprocessableEntity, errorPage, pageData{Title: "Invalid GitHub App configuration",
			Message: "The configuration does not appear to be a valid GitHub App manifest.", Detail: problem})
		return
	}
	name := strings.TrimSpace(c.r.PostFormValue("name"))
	slug := slugOf(name)
	switch {
	case name == "" || slug == "":
		problem = "Name can't be blank"
	case len(name) > maxAppName:
		problem = fmt.Sprintf("Name is too long (maximum is %d characters)", maxAppName)
	default:
		for _, a := range s.apps {
			if a.slug == slug || strings.EqualFold(a.name, name) {
				problem = "Name has already been taken"
			}
		}
		if a := s.accounts[strings.ToLower(slug)]; a != nil && a != owner {
			problem = "Name has already been taken" // an app may not take another account's name
		}
	}
	if problem != "" {
		c.page(http.StatusUnprocessableEntity, createPage, s.createPageData(c, owner, m, raw, state, name, problem))
		return
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		c.fail(http.StatusInternalServerError, "generate key: "+err.Error())
		return
	}
	perms := map[string]string{"metadata": "read"} // every app reads metadata
	for k, v := range m.DefaultPermissions {
		perms[k] = v
	}
	id := s.newID()
	app := &appInfo{
		id: id, slug: slug, name: name, owner: owner.login,
		key: key, keyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		secret: randomHex(20), clientID: "Iv1." + randomHex(8), clientSecret: randomHex(20),
		description: m.Description, externalURL: *m.URL,
		permissions: perms, events: append([]string{}, m.DefaultEvents...),
		createdAt: time.Now().UTC().Truncate(time.Second),
	}
	if h := m.HookAttributes; h != nil && (h.Active == nil || *h.Active) {
		app.hookURL = *h.URL
	}
	app.bot = s.accountLocked(slug+"[bot]", "Bot")
	s.apps[id] = app

	code := randomHex(10)
	s.manifests.codes[code] = &manifestCode{app: app, expires: s.manifests.clock().Add(ManifestCodeTTL)}
	target := s.srv.URL + "/settings/apps/" + slug // GitHub shows the new app's settings without a redirect_url
	if m.RedirectURL != "" {
		u, _ := url.Parse(m.RedirectURL)
		q := u.Query()
		q.Set("code", code)
		if state != "" {
			q.Set("state", state)
		}
		u.RawQuery = q.Encode()
		target = u.String()
	}
	http.Redirect(c.w, c.r, target, http.StatusFound)
}

// conversionJSON is the answer to a manifest code's conversion: the app and its secrets.
type conversionJSON struct {
	appJSON
	ClientSecret  string `json:"client_secret"`
	WebhookSecret string `json:"webhook_secret"`
	PEM           string `json:"pem"`
}

func (s *Server) convertManifest(c *call) {
	code := c.r.PathValue("code")
	mc := s.manifests.codes[code]
	if mc == nil || !s.manifests.clock().Before(mc.expires) {
		c.json(http.StatusNotFound, errorBody(http.StatusNotFound, "Not Found", conversionDocs))
		return
	}
	delete(s.manifests.codes, code) // single use
	out := conversionJSON{appJSON: s.appJSON(mc.app), ClientSecret: mc.app.clientSecret, WebhookSecret: mc.app.secret, PEM: string(mc.app.keyPEM)}
	out.InstallationsCount = 0
	c.json(http.StatusCreated, out)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// --- pages ---

type pageData struct {
	Title, Message, Detail                      string
	Owner, Action, Manifest, State, Name, Error string
	HookURL                                     string
	Permissions, Events                         []string
}

func (c *call) page(status int, t *template.Template, d pageData) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		http.Error(c.w, "githubtest: render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.w.WriteHeader(status)
	_, _ = c.w.Write(buf.Bytes())
}

var createPage = template.Must(template.New("create").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>Create GitHub App for {{.Owner}}</h1>
{{if .Error}}<div class="flash flash-error" role="alert">{{.Error}}</div>{{end}}
<form method="post" action="{{.Action}}">
  <input type="hidden" name="manifest" value="{{.Manifest}}">
  <input type="hidden" name="state" value="{{.State}}">
  <label for="app-name">GitHub App name</label>
  <input id="app-name" type="text" name="name" value="{{.Name}}" maxlength="34" required>
  {{if .HookURL}}<p>Webhook URL: <code>{{.HookURL}}</code></p>{{end}}
  <h2>Permissions</h2>
  <ul>{{range .Permissions}}<li>{{.}}</li>{{end}}</ul>
  <h2>Events</h2>
  <ul>{{range .Events}}<li>{{.}}</li>{{end}}</ul>
  <button type="submit">Create GitHub App</button>
</form>
</body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<div class="flash flash-error" role="alert">
  <h1>{{.Title}}</h1>
  <p>{{.Message}}</p>
  {{if .Detail}}<p>{{.Detail}}</p>{{end}}
</div>
</body></html>
`))
