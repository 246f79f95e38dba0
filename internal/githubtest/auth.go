package githubtest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// installation is an app installed on one account.
type installation struct {
	id        int64
	app       *appInfo
	account   string
	all       bool            // repository_selection "all"
	repos     map[string]bool // lower-cased "owner/name" when selected
	createdAt time.Time
	// granted are the permissions the account granted, when they differ from what the
	// app asks for.
	granted map[string]string
}

// permissions are what the installation may do: permission name → read or write.
func (i *installation) permissions() map[string]string {
	if i.granted != nil {
		return i.granted
	}
	return i.app.permissions
}

func (i *installation) coversName(full string) bool {
	full = strings.ToLower(full)
	if i.all {
		owner, _, _ := strings.Cut(full, "/")
		return strings.EqualFold(owner, i.account)
	}
	return i.repos[full]
}

// accessToken is an installation token (ghs_...).
type accessToken struct {
	value        string
	installation *installation
	expires      time.Time
	repos        map[string]bool // nil: every repository of the installation
}

func (t *accessToken) covers(rs *repoState) bool {
	full := strings.ToLower(rs.fullName())
	if !t.installation.coversName(full) {
		return false
	}
	return t.repos == nil || t.repos[full]
}

// appPermissions are the permissions daytwo's app asks for.
var appPermissions = map[string]string{
	"actions":       "write",
	"checks":        "write",
	"contents":      "write",
	"issues":        "write",
	"members":       "read",
	"metadata":      "read",
	"pull_requests": "write",
	"statuses":      "write",
}

// SetInstallationPermission changes what account granted to its installation of the app:
// permission (checks, issues, contents, …) at level read or write, or none ("" or "none"),
// as when the app asks for more and an owner has not approved it yet. Endpoints that need
// a permission the installation lacks answer GitHub's 403 "Resource not accessible by
// integration" (GraphQL: FORBIDDEN): here check runs (checks), labels (issues or
// pull_requests), merging (contents), opening issues (issues), dispatching workflows
// (actions: write) and reading workflows and runs (actions: read). Without actions the
// installation gets no workflow_run webhooks either.
func (s *Server) SetInstallationPermission(account, permission, level string) {
	s.t.Helper()
	if level != "read" && level != "write" && level != "" && level != "none" {
		s.fatalf("SetInstallationPermission: level must be read, write or none, not %q", level)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, inst := range s.installations {
		if !strings.EqualFold(inst.account, account) {
			continue
		}
		granted := maps.Clone(inst.permissions())
		if level == "" || level == "none" {
			delete(granted, permission)
		} else {
			granted[permission] = level
		}
		inst.granted = granted
	}
}

// mayWrite reports whether the call's installation has write access through one of perms;
// otherwise it answers GitHub's 403. Calls without an installation token pass.
func (c *call) mayWrite(perms ...string) bool {
	if c.inst == nil || forbidden(c.inst, perms...) == nil {
		return true
	}
	c.json(http.StatusForbidden, errorBody(http.StatusForbidden, "Resource not accessible by integration", "https://docs.github.com/rest"))
	return false
}

// forbidden is GraphQL's answer to a mutation the installation lacks write access for
// through any of perms; nil when it has it.
func forbidden(inst *installation, perms ...string) error {
	if inst == nil {
		return nil
	}
	for _, p := range perms {
		if inst.permissions()[p] == "write" {
			return nil
		}
	}
	return &resolveError{typ: "FORBIDDEN", msg: "Resource not accessible by integration"}
}

var appEvents = []string{"issue_comment", "issues", "pull_request", "pull_request_review", "workflow_run"}

// Install installs the app on account (created as an organization when unknown) and
// returns the installation id. With no repos it covers every repository of the account,
// present and future; otherwise only the named ones ("name" or "owner/name").
func (s *Server) Install(acct string, repos ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.installLocked(s.app, acct, repos)
}

// InstallApp is Install for another app of the fake, one registered through the manifest
// flow (see RegisteredApps).
func (s *Server) InstallApp(appID int64, acct string, repos ...string) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.apps[appID]
	if app == nil {
		s.fatalf("InstallApp: no app %d", appID)
	}
	return s.installLocked(app, acct, repos)
}

func (s *Server) installLocked(app *appInfo, acct string, repos []string) int64 {
	s.accountLocked(acct, "Organization")
	inst := &installation{id: s.newID(), app: app, account: acct, all: len(repos) == 0, repos: map[string]bool{}, createdAt: time.Now().UTC().Truncate(time.Second)}
	for _, r := range repos {
		if !strings.Contains(r, "/") {
			r = acct + "/" + r
		}
		inst.repos[strings.ToLower(r)] = true
	}
	s.installations[inst.id] = inst
	return inst.id
}

// ExpireTokens makes every installation token issued so far expired; clients holding one
// get 401 Bad credentials until they fetch a new one.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, t := range s.tokens {
		t.expires = past
	}
}

// IssueToken mints an installation token directly, as the access_tokens endpoint would,
// for tests that call the API without a GitHub App client.
func (s *Server) IssueToken(installationID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst, ok := s.installations[installationID]
	if !ok {
		s.fatalf("IssueToken: no installation %d", installationID)
	}
	return s.mintToken(inst, nil).value
}

func (s *Server) mintToken(inst *installation, repos map[string]bool) *accessToken {
	s.tokenSeq++
	sum := sha256.Sum256([]byte(fmt.Sprintf("githubtest %d %d %d", inst.app.id, inst.id, s.tokenSeq)))
	t := &accessToken{
		value:        "ghs_" + base62(sum[:], 36),
		installation: inst,
		expires:      time.Now().Add(s.tokenTTL).Truncate(time.Second),
		repos:        repos,
	}
	s.tokens[t.value] = t
	return t
}

func base62(b []byte, n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	x := new(big.Int).SetBytes(b)
	base, mod := big.NewInt(62), new(big.Int)
	out := make([]byte, 0, n)
	for len(out) < n {
		x.DivMod(x, base, mod)
		out = append(out, alphabet[mod.Int64()])
	}
	return string(out)
}

// lookupToken finds a live installation token, or says why not in GitHub's words.
func (s *Server) lookupToken(value string) (*accessToken, string) {
	if value == "" {
		return nil, "Requires authentication"
	}
	t, ok := s.tokens[value]
	if !ok || !time.Now().Before(t.expires) {
		return nil, "Bad credentials"
	}
	return t, ""
}

type jwtClaims struct {
	Iss json.RawMessage `json:"iss"`
	Iat json.Number     `json:"iat"`
	Exp json.Number     `json:"exp"`
}

// jwtApp checks an app JWT as GitHub does (RS256 with the key of the app named by iss,
// iat not in the future, exp in the future and at most ten minutes after iat) and returns
// the app, or GitHub's message for the first problem found.
func (s *Server) jwtApp(tok string) (*appInfo, string) {
	const undecodable = "A JSON web token could not be decoded"
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, undecodable
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "RS256" {
		return nil, undecodable
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, undecodable
	}
	var claims jwtClaims
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, undecodable
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	signedBy := func(a *appInfo) bool {
		return rsa.VerifyPKCS1v15(&a.key.PublicKey, crypto.SHA256, digest[:], sig) == nil
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	var app *appInfo
	for _, a := range s.apps {
		if strconv.FormatInt(a.id, 10) == iss || a.clientID == iss {
			app = a
		}
	}
	if app == nil || !signedBy(app) {
		// A token signed by a known key but naming no (or another) app has a bad issuer.
		for _, a := range s.apps {
			if signedBy(a) {
				return nil, "'Issuer' claim ('iss') must be an Integer or the app's client ID"
			}
		}
		return nil, undecodable
	}
	iat, err1 := claims.Iat.Int64()
	exp, err2 := claims.Exp.Int64()
	now := time.Now().Unix()
	switch {
	case err1 != nil:
		return nil, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	case err2 != nil || exp <= now:
		return nil, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	case iat > now+60:
		return nil, "'Issued at' claim ('iat') must be an Integer representing a time in the past"
	case exp-iat > 600:
		return nil, "'Expiration time' claim ('exp') is too far in the future"
	}
	return app, ""
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("decode JWT segment: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode JWT segment: %w", err)
	}
	return nil
}

func (s *Server) authRoutes() {
	s.handle("POST /app/installations/{id}/access_tokens", authApp, s.createAccessToken)
	s.handle("GET /app", authApp, func(c *call) { c.json(http.StatusOK, s.appJSON(c.app)) })
	s.handle("GET /app/installations", authApp, func(c *call) {
		ids := make([]int64, 0, len(s.installations))
		for id, inst := range s.installations {
			if inst.app == c.app {
				ids = append(ids, id)
			}
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		out := make([]installationJSON, 0, len(ids))
		for _, id := range ids {
			out = append(out, s.installationJSON(s.installations[id]))
		}
		c.json(http.StatusOK, paginate(c, out))
	})
	s.handle("GET /app/installations/{id}", authApp, func(c *call) {
		if inst := s.installationByPath(c); inst != nil {
			c.json(http.StatusOK, s.installationJSON(inst))
		}
	})
	s.handle("GET /repos/{owner}/{repo}/installation", authApp, func(c *call) {
		full := c.r.PathValue("owner") + "/" + c.r.PathValue("repo")
		s.answerInstallation(c, func(i *installation) bool { return s.repos[strings.ToLower(full)] != nil && i.coversName(full) })
	})
	s.handle("GET /orgs/{org}/installation", authApp, func(c *call) {
		s.answerInstallation(c, func(i *installation) bool {
			a := s.accounts[strings.ToLower(i.account)]
			return strings.EqualFold(i.account, c.r.PathValue("org")) && a.typ == "Organization"
		})
	})
	s.handle("GET /users/{username}/installation", authApp, func(c *call) {
		s.answerInstallation(c, func(i *installation) bool { return strings.EqualFold(i.account, c.r.PathValue("username")) })
	})
	s.handle("GET /installation/repositories", authInstallation, func(c *call) {
		var list []repoJSON
		for _, rs := range s.sortedRepos() {
			if c.inst.coversName(rs.fullName()) {
				list = append(list, s.repoJSON(rs))
			}
		}
		page := paginate(c, list)
		c.json(http.StatusOK, struct {
			TotalCount int        `json:"total_count"`
			Repos      []repoJSON `json:"repositories"`
		}{len(list), page})
	})
}

func (s *Server) installationByPath(c *call) *installation {
	id, ok := c.pathInt("id")
	if !ok {
		return nil
	}
	inst := s.installations[id]
	if inst == nil || inst.app != c.app {
		c.fail(http.StatusNotFound, "Not Found")
		return nil
	}
	return inst
}

func (s *Server) answerInstallation(c *call, match func(*installation) bool) {
	ids := make([]int64, 0, len(s.installations))
	for id := range s.installations {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if inst := s.installations[id]; inst.app == c.app && match(inst) {
			c.json(http.StatusOK, s.installationJSON(s.installations[id]))
			return
		}
	}
	c.fail(http.StatusNotFound, "Not Found")
}

func (s *Server) createAccessToken(c *call) {
	inst := s.installationByPath(c)
	if inst == nil {
		return
	}
	var req struct {
		Repositories  []string `json:"repositories"`
		RepositoryIDs []int64  `json:"repository_ids"`
	}
	if !c.decode(&req) {
		return
	}
	var restrict map[string]bool
	if len(req.Repositories) > 0 || len(req.RepositoryIDs) > 0 {
		restrict = map[string]bool{}
		for _, name := range req.Repositories {
			full := strings.ToLower(inst.account + "/" + name)
			if s.repos[full] == nil || !inst.coversName(full) {
				c.invalid("There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
			restrict[full] = true
		}
		for _, id := range req.RepositoryIDs {
			rs := s.repoByID(id)
			if rs == nil || !inst.coversName(rs.fullName()) {
				c.invalid("There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
			restrict[strings.ToLower(rs.fullName())] = true
		}
	}
	t := s.mintToken(inst, restrict)
	infoOf(c.r).installation = inst.id
	out := tokenJSON{
		Token:               t.value,
		ExpiresAt:           ts(t.expires),
		Permissions:         inst.permissions(),
		RepositorySelection: "all",
	}
	if !inst.all || restrict != nil {
		out.RepositorySelection = "selected"
		out.Repositories = []repoJSON{}
		for _, rs := range s.sortedRepos() {
			if t.covers(rs) {
				out.Repositories = append(out.Repositories, s.repoJSON(rs))
			}
		}
	}
	c.json(http.StatusCreated, out)
}

type tokenJSON struct {
	Token               string            `json:"token"`
	ExpiresAt           string            `json:"expires_at"`
	Permissions         map[string]string `json:"permissions"`
	RepositorySelection string            `json:"repository_selection"`
	Repositories        []repoJSON        `json:"repositories,omitempty"`
}

type appJSON struct {
	ID                 int64             `json:"id"`
	Slug               string            `json:"slug"`
	ClientID           string            `json:"client_id"`
	NodeID             string            `json:"node_id"`
	Owner              userJSON          `json:"owner"`
	Name               string            `json:"name"`
	Description        string            `json:"description"`
	ExternalURL        string            `json:"external_url"`
	HTMLURL            string            `json:"html_url"`
	CreatedAt          string            `json:"created_at"`
	UpdatedAt          string            `json:"updated_at"`
	Permissions        map[string]string `json:"permissions"`
	Events             []string          `json:"events"`
	InstallationsCount int               `json:"installations_count,omitempty"`
}

var appEpoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func (s *Server) appJSON(app *appInfo) appJSON {
	if app == nil {
		app = s.app
	}
	count := 0
	for _, inst := range s.installations {
		if inst.app == app {
			count++
		}
	}
	external := app.externalURL
	if external == "" {
		external = s.srv.URL
	}
	return appJSON{
		ID:                 app.id,
		Slug:               app.slug,
		ClientID:           app.clientID,
		NodeID:             nodeID("Integration", app.id),
		Owner:              s.userJSON(s.accounts[strings.ToLower(app.owner)]),
		Name:               app.name,
		Description:        app.description,
		ExternalURL:        external,
		HTMLURL:            s.srv.URL + "/apps/" + app.slug,
		CreatedAt:          ts(app.createdAt),
		UpdatedAt:          ts(app.createdAt),
		Permissions:        app.permissions,
		Events:             app.events,
		InstallationsCount: count,
	}
}

type installationJSON struct {
	ID                     int64             `json:"id"`
	Account                userJSON          `json:"account"`
	RepositorySelection    string            `json:"repository_selection"`
	AccessTokensURL        string            `json:"access_tokens_url"`
	RepositoriesURL        string            `json:"repositories_url"`
	HTMLURL                string            `json:"html_url"`
	AppID                  int64             `json:"app_id"`
	ClientID               string            `json:"client_id"`
	TargetID               int64             `json:"target_id"`
	TargetType             string            `json:"target_type"`
	Permissions            map[string]string `json:"permissions"`
	Events                 []string          `json:"events"`
	CreatedAt              string            `json:"created_at"`
	UpdatedAt              string            `json:"updated_at"`
	SingleFileName         *string           `json:"single_file_name"`
	HasMultipleSingleFiles bool              `json:"has_multiple_single_files"`
	SingleFilePaths        []string          `json:"single_file_paths"`
	AppSlug                string            `json:"app_slug"`
	SuspendedBy            *userJSON         `json:"suspended_by"`
	SuspendedAt            *string           `json:"suspended_at"`
}

func (s *Server) installationJSON(i *installation) installationJSON {
	acct := s.accounts[strings.ToLower(i.account)]
	sel := "selected"
	if i.all {
		sel = "all"
	}
	return installationJSON{
		ID:                  i.id,
		Account:             s.userJSON(acct),
		RepositorySelection: sel,
		AccessTokensURL:     fmt.Sprintf("%s/app/installations/%d/access_tokens", s.apiBase(), i.id),
		RepositoriesURL:     s.apiBase() + "/installation/repositories",
		HTMLURL:             fmt.Sprintf("%s/organizations/%s/settings/installations/%d", s.srv.URL, i.account, i.id),
		AppID:               i.app.id,
		ClientID:            i.app.clientID,
		TargetID:            acct.id,
		TargetType:          acct.typ,
		Permissions:         i.permissions(),
		Events:              i.app.events,
		CreatedAt:           ts(i.createdAt),
		UpdatedAt:           ts(i.createdAt),
		SingleFilePaths:     []string{},
		AppSlug:             i.app.slug,
	}
}
