package githubtest_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// do sends a raw request with an Authorization header and returns status and body.
func do(t *testing.T, method, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// signJWT signs claims with the app key, as ghinstallation does.
func signJWT(t *testing.T, pemBytes []byte, claims map[string]any) string {
	t.Helper()
	block, _ := pem.Decode(pemBytes)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestInstallationTokensExpireAndAreScoped(t *testing.T) {
	s, _, gh := setup(t)
	ctx := context.Background()
	if _, _, err := gh.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Fatalf("first call: %v", err)
	}
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	if !strings.HasPrefix(last.Token, "ghs_") || last.Installation == 0 || last.Status != http.StatusOK || last.Path != "/repos/acme/gitops" {
		t.Fatalf("logged request = %+v", last)
	}
	if reqs[0].Method != http.MethodPost || !strings.HasSuffix(reqs[0].Path, "/access_tokens") || reqs[0].Status != http.StatusCreated || reqs[0].Installation != last.Installation {
		t.Fatalf("first logged request = %+v, want the token exchange", reqs[0])
	}

	s.ExpireTokens()
	_, _, err := gh.Repositories.Get(ctx, "acme", "gitops")
	if statusOf(err) != http.StatusUnauthorized || messageOf(err) != "Bad credentials" {
		t.Fatalf("call with an expired token: err = %v, want 401 Bad credentials", err)
	}

	tok := s.IssueToken(last.Installation)
	for _, base := range []string{s.URL(), strings.TrimSuffix(s.V3URL(), "/")} {
		if code, body := do(t, "GET", base+"/repos/acme/gitops", "token "+tok); code != http.StatusOK {
			t.Fatalf("GET %s with a fresh token = %d %s", base, code, body)
		}
	}
	if code, _ := do(t, "GET", s.URL()+"/repos/acme/gitops", ""); code != http.StatusUnauthorized {
		t.Fatalf("anonymous request = %d, want 401", code)
	}
	if code, _ := do(t, "GET", s.URL()+"/repos/acme/gitops", "token ghs_forged"); code != http.StatusUnauthorized {
		t.Fatalf("unknown token = %d, want 401", code)
	}

	// An installation on another account cannot see acme/gitops.
	s.CreateRepo("zed", "infra")
	other := s.Install("zed", "infra")
	if code, _ := do(t, "GET", s.URL()+"/repos/acme/gitops", "token "+s.IssueToken(other)); code != http.StatusNotFound {
		t.Fatalf("foreign installation = %d, want 404", code)
	}
	if code, _ := do(t, "GET", s.URL()+"/repos/zed/infra", "token "+s.IssueToken(other)); code != http.StatusOK {
		t.Fatalf("own repository = %d, want 200", code)
	}
}

func TestTokenRefreshWithShortLivedTokens(t *testing.T) {
	// ghinstallation refreshes a token a minute before it expires: 30 s tokens are fetched
	// anew for every request.
	s, _, gh := setup(t, githubtest.WithTokenTTL(30*time.Second))
	ctx := context.Background()
	for range 3 {
		if _, _, err := gh.Repositories.Get(ctx, "acme", "gitops"); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.CountRequests("POST", "/app/installations/"); n != 3 {
		t.Fatalf("token requests = %d, want 3", n)
	}
	s2, _, gh2 := setup(t)
	for range 3 {
		if _, _, err := gh2.Repositories.Get(ctx, "acme", "gitops"); err != nil {
			t.Fatal(err)
		}
	}
	if n := s2.CountRequests("POST", "/app/installations/"); n != 1 {
		t.Fatalf("token requests with hour-long tokens = %d, want 1", n)
	}
}

func TestAppJWTIsVerified(t *testing.T) {
	s := githubtest.New(t, githubtest.WithAppID(99))
	s.CreateRepo("acme", "gitops")
	id := s.Install("acme")

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(otherKey)})
	cc := githubapp.NewClientCreator(s.V3URL(), s.V4URL(), s.AppID(), otherPEM)
	gh, err := cc.NewInstallationClient(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Repositories.Get(context.Background(), "acme", "gitops"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("client with the wrong key: err = %v, want a refused token exchange (401)", err)
	}

	url := fmt.Sprintf("%s/app/installations/%d/access_tokens", strings.TrimSuffix(s.V3URL(), "/"), id)
	now := time.Now().Unix()
	for name, tc := range map[string]struct {
		claims map[string]any
		status int
		msg    string
	}{
		"numeric iss":      {map[string]any{"iss": 99, "iat": now - 30, "exp": now + 90}, http.StatusCreated, ""},
		"string iss":       {map[string]any{"iss": "99", "iat": now - 30, "exp": now + 90}, http.StatusCreated, ""},
		"other app":        {map[string]any{"iss": "98", "iat": now - 30, "exp": now + 90}, http.StatusUnauthorized, "Issuer"},
		"expired":          {map[string]any{"iss": 99, "iat": now - 700, "exp": now - 100}, http.StatusUnauthorized, "'Expiration time' claim ('exp') must be a numeric value"},
		"too long":         {map[string]any{"iss": 99, "iat": now, "exp": now + 660}, http.StatusUnauthorized, "too far in the future"},
		"issued in future": {map[string]any{"iss": 99, "iat": now + 300, "exp": now + 400}, http.StatusUnauthorized, "'Issued at' claim"},
	} {
		code, body := do(t, "POST", url, "Bearer "+signJWT(t, s.PrivateKeyPEM(), tc.claims))
		if code != tc.status || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %s, want %d containing %q", name, code, body, tc.status, tc.msg)
		}
		if code == http.StatusCreated && (!strings.Contains(body, `"token":"ghs_`) || !strings.Contains(body, `"expires_at"`)) {
			t.Errorf("%s: token answer %s", name, body)
		}
	}
	if code, _ := do(t, "POST", url, "Bearer not.a.jwt"); code != http.StatusUnauthorized {
		t.Fatalf("garbage JWT = %d, want 401", code)
	}
	if code, _ := do(t, "POST", fmt.Sprintf("%s/app/installations/%d/access_tokens", s.URL(), id+1000), "Bearer "+signJWT(t, s.PrivateKeyPEM(), map[string]any{"iss": 99, "iat": now, "exp": now + 60})); code != http.StatusNotFound {
		t.Fatalf("unknown installation = %d, want 404", code)
	}
	// A JWT is not an installation token.
	if code, _ := do(t, "GET", s.URL()+"/repos/acme/gitops", "Bearer "+signJWT(t, s.PrivateKeyPEM(), map[string]any{"iss": 99, "iat": now, "exp": now + 60})); code != http.StatusUnauthorized {
		t.Fatalf("JWT on a repository endpoint = %d, want 401", code)
	}
}

func TestAppEndpointsForGoGitHubApp(t *testing.T) {
	s := githubtest.New(t)
	s.CreateRepo("acme", "gitops")
	s.AddUser("solo")
	s.CreateRepo("solo", "dots")
	orgInst := s.Install("acme")
	userInst := s.Install("solo", "dots")
	cc := githubapp.NewClientCreator(s.V3URL(), s.V4URL(), s.AppID(), s.PrivateKeyPEM())
	app, err := cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	self, _, err := app.Apps.Get(ctx, "")
	if err != nil || self.GetID() != s.AppID() || self.GetSlug() != s.AppSlug() {
		t.Fatalf("GET /app = %+v, %v", self, err)
	}
	svc := githubapp.NewInstallationsService(app)
	inst, err := svc.GetByOwner(ctx, "acme")
	if err != nil || inst.ID != orgInst {
		t.Fatalf("GetByOwner(acme) = %+v, %v", inst, err)
	}
	inst, err = svc.GetByOwner(ctx, "solo")
	if err != nil || inst.ID != userInst {
		t.Fatalf("GetByOwner(solo) = %+v, %v (user installations are looked up after the organization 404)", inst, err)
	}
	inst, err = svc.GetByRepository(ctx, "solo", "dots")
	if err != nil || inst.ID != userInst {
		t.Fatalf("GetByRepository = %+v, %v", inst, err)
	}
	all, err := svc.ListAll(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("ListAll = %+v, %v", all, err)
	}
	if _, err := svc.GetByRepository(ctx, "acme", "missing"); err == nil {
		t.Fatal("GetByRepository for a repository without the app should fail")
	}
}

func nowUnix() int64 { return time.Now().Unix() }
