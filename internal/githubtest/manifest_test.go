package githubtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// noRedirect is a client that shows 3xx answers instead of following them, as a test of
// where the browser is sent needs.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func postForm(t *testing.T, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := noRedirect.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func testManifest(hook, redirect string) string {
	m := map[string]any{
		"name": "daytwo", "url": "https://github.com/daytwo-dev/daytwo", "description": "Day-2 operations", "public": false,
		"hook_attributes": map[string]any{"url": hook, "active": true},
		"redirect_url":    redirect,
		"default_events":  []string{"issue_comment", "issues"},
		"default_permissions": map[string]string{
			"contents": "write", "issues": "write", "metadata": "read",
		},
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// register runs the browser's part of the flow: the manifest form, then "Create GitHub
// App" with name, and returns the redirect's query.
func register(t *testing.T, s *githubtest.Server, path, manifest, state, name string) url.Values {
	t.Helper()
	res, page := postForm(t, s.URL()+path+"/new?state="+url.QueryEscape(state), url.Values{"manifest": {manifest}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("manifest form = %d\n%s", res.StatusCode, page)
	}
	res, page = postForm(t, s.URL()+path, url.Values{"manifest": {manifest}, "state": {state}, "name": {name}})
	if res.StatusCode != http.StatusFound {
		t.Fatalf("create = %d\n%s", res.StatusCode, page)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

func convert(t *testing.T, s *githubtest.Server, code string) (int, map[string]any) {
	t.Helper()
	res, err := http.Post(s.V3URL()+"app-manifests/"+code+"/conversions", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	m, _ := decodeNumbers(t, data).(map[string]any)
	return res.StatusCode, m
}

func TestManifestFlowRegistersAWorkingApp(t *testing.T) {
	s := githubtest.New(t, githubtest.WithWebUser("mona"))
	repo := s.CreateRepo("acme", "gitops")
	repo.Commit("main", "seed", map[string]string{"README.md": "# hi\n"})

	var got struct {
		event, sig string
		body       []byte
	}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.event, got.sig = r.Header.Get("X-GitHub-Event"), r.Header.Get("X-Hub-Signature-256")
		got.body, _ = io.ReadAll(r.Body)
	}))
	defer hook.Close()

	// The confirmation page names the owner and carries the manifest's name to edit.
	manifest := testManifest(hook.URL+"/api/github/hook", "http://127.0.0.1:3000/callback?keep=1")
	res, page := postForm(t, s.URL()+"/settings/apps/new?state=s%26t", url.Values{"manifest": {manifest}})
	for _, want := range []string{"Create GitHub App for mona", `name="name" value="daytwo"`, "Create GitHub App</button>", "contents: write", hook.URL + "/api/github/hook"} {
		if res.StatusCode != http.StatusOK || !strings.Contains(page, want) {
			t.Fatalf("manifest form = %d, lacks %q:\n%s", res.StatusCode, want, page)
		}
	}

	// "daytwo" is the name of the fake's own app: GitHub asks for another.
	res, page = postForm(t, s.URL()+"/settings/apps", url.Values{"manifest": {manifest}, "state": {"s&t"}, "name": {"daytwo"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Name has already been taken") || !strings.Contains(page, "Create GitHub App for mona") {
		t.Fatalf("taken name = %d\n%s", res.StatusCode, page)
	}
	res, page = postForm(t, s.URL()+"/settings/apps", url.Values{"manifest": {manifest}, "state": {"s&t"}, "name": {strings.Repeat("x", 35)}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Name is too long (maximum is 34 characters)") {
		t.Fatalf("long name = %d\n%s", res.StatusCode, page)
	}

	q := register(t, s, "/settings/apps", manifest, "s&t", "Daytwo Acme")
	if q.Get("state") != "s&t" || q.Get("keep") != "1" || q.Get("code") == "" {
		t.Fatalf("redirect query = %v, want the state passed through, redirect_url's own query kept and a code", q)
	}

	code, conv := convert(t, s, q.Get("code"))
	if code != http.StatusCreated {
		t.Fatalf("conversion = %d %v", code, conv)
	}
	// The answer has the shape of GitHub's documented example.
	data, err := os.ReadFile(filepath.Join("testdata", "openapi", "integration-from-manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Permissions are the app's own (a free-form object); the owner may carry newer user fields.
	extra := union(set([]string{"owner"}, "user_view_type"), set([]string{"permissions"}, "*"))
	optional := set([]string{"permissions"}, "single_file", "contents", "issues", "metadata")
	if problems := compareShape("", decodeNumbers(t, data), conv, extra, optional); len(problems) > 0 {
		t.Fatalf("conversion answer differs from GitHub's example:\n  %s", strings.Join(problems, "\n  "))
	}
	appID := mustInt(t, conv["id"])
	pemKey, secret := conv["pem"].(string), conv["webhook_secret"].(string)
	if conv["slug"] != "daytwo-acme" || conv["name"] != "Daytwo Acme" || conv["owner"].(map[string]any)["login"] != "mona" ||
		conv["external_url"] != "https://github.com/daytwo-dev/daytwo" || conv["html_url"] != s.URL()+"/apps/daytwo-acme" {
		t.Fatalf("conversion = %v", conv)
	}
	if perms := conv["permissions"].(map[string]any); perms["contents"] != "write" || perms["metadata"] != "read" || len(perms) != 3 {
		t.Fatalf("permissions = %v", perms)
	}
	if !strings.HasPrefix(pemKey, "-----BEGIN RSA PRIVATE KEY-----") || len(secret) < 20 || pemKey == string(s.PrivateKeyPEM()) {
		t.Fatalf("credentials: secret %q, pem %.40q (the new app must have its own key)", secret, pemKey)
	}

	// The code is single-use.
	if code, body := convert(t, s, q.Get("code")); code != http.StatusNotFound || body["message"] != "Not Found" ||
		body["documentation_url"] != "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest" {
		t.Fatalf("second conversion = %d %v, want 404 Not Found", code, body)
	}

	// The new app is real: its key gets installation tokens for its installations only.
	inst := s.InstallApp(appID, "acme", "gitops")
	cc := githubapp.NewClientCreator(s.V3URL(), s.V4URL(), appID, []byte(pemKey))
	ctx := context.Background()
	appClient, err := cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	self, _, err := appClient.Apps.Get(ctx, "")
	if err != nil || self.GetID() != appID || self.GetSlug() != "daytwo-acme" {
		t.Fatalf("GET /app as the new app = %+v, %v", self, err)
	}
	insts, _, err := appClient.Apps.ListInstallations(ctx, nil)
	if err != nil || len(insts) != 1 || insts[0].GetID() != inst {
		t.Fatalf("the new app's installations = %v, %v", insts, err)
	}
	client, err := cc.NewInstallationClient(inst)
	if err != nil {
		t.Fatal(err)
	}
	issue := repo.CreateIssue("alice", "hello", "")
	cm, _, err := client.Issues.CreateComment(ctx, "acme", "gitops", issue, &github.IssueComment{Body: github.String("hi")})
	if err != nil || cm.GetUser().GetLogin() != "daytwo-acme[bot]" {
		t.Fatalf("comment by the new app = %+v, %v", cm, err)
	}
	raw := call(t, s, "token "+s.IssueToken(inst), "GET", fmt.Sprintf("/repos/acme/gitops/issues/comments/%d", cm.GetID()), nil)
	if via := raw.(map[string]any)["performed_via_github_app"].(map[string]any); mustInt(t, via["id"]) != appID {
		t.Fatalf("performed_via_github_app = %v, want the new app", via)
	}
	// The fake's own app neither sees the new app's installation nor the other way round.
	own, err := githubapp.NewClientCreator(s.V3URL(), s.V4URL(), s.AppID(), s.PrivateKeyPEM()).NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := own.Apps.GetInstallation(ctx, inst); statusOf(err) != http.StatusNotFound {
		t.Fatalf("another app's installation: err = %v, want 404", err)
	}

	// Its webhooks go to the manifest's hook URL, signed with its secret.
	payload := repo.IssueCommentPayload(cm.GetID())
	res, err = s.SendAppWebhook(appID, "issue_comment", payload)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got.event != "issue_comment" || got.sig != githubtest.SignPayload(secret, got.body) || string(got.body) != string(payload) {
		t.Fatalf("delivery: event %q, signature %q", got.event, got.sig)
	}
	if apps := s.Apps(); len(apps) != 2 || apps[0].ID != s.AppID() || apps[1].ID != appID || apps[1].HookURL != hook.URL+"/api/github/hook" || apps[1].BotLogin != "daytwo-acme[bot]" {
		t.Fatalf("Apps() = %+v", apps)
	}
}

func TestManifestFlowForAnOrganization(t *testing.T) {
	s := githubtest.New(t)
	s.CreateRepo("acme", "gitops")
	manifest := testManifest("https://daytwo.example.com/api/github/hook", "http://127.0.0.1:3000/callback")

	res, page := postForm(t, s.URL()+"/organizations/nobody/settings/apps/new?state=x", url.Values{"manifest": {manifest}})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown organization = %d\n%s", res.StatusCode, page)
	}
	res, page = postForm(t, s.URL()+"/organizations/acme/settings/apps/new?state=x", url.Values{"manifest": {manifest}})
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Create GitHub App for acme") || !strings.Contains(page, `action="/organizations/acme/settings/apps"`) {
		t.Fatalf("organization form = %d\n%s", res.StatusCode, page)
	}
	q := register(t, s, "/organizations/acme/settings/apps", manifest, "x", "acme-daytwo")
	code, conv := convert(t, s, q.Get("code"))
	if code != http.StatusCreated || conv["owner"].(map[string]any)["login"] != "acme" || conv["owner"].(map[string]any)["type"] != "Organization" {
		t.Fatalf("conversion = %d %v", code, conv)
	}
}

func TestManifestFlowRefusals(t *testing.T) {
	s := githubtest.New(t)
	for name, tc := range map[string]struct{ manifest, want string }{
		"not JSON":    {`{"name": "x",`, "The configuration does not appear to be a valid GitHub App manifest."},
		"no url":      {`{"name":"x","hook_attributes":{"url":"https://h.example/hook"}}`, `Error: &#34;url&#34; wasn&#39;t supplied.`},
		"no hook url": {`{"name":"x","url":"https://x.example","hook_attributes":{"active":false}}`, `Error: &#34;url&#34; wasn&#39;t supplied.`},
		"bad access":  {`{"name":"x","url":"https://x.example","default_permissions":{"issues":"admin"}}`, "must be read or write"},
	} {
		res, page := postForm(t, s.URL()+"/settings/apps/new?state=x", url.Values{"manifest": {tc.manifest}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Invalid GitHub App configuration") || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d\n%s", name, res.StatusCode, page)
		}
	}

	// Web pages are not part of the API, which GitHub Enterprise Server serves under /api/v3.
	res, page := postForm(t, s.V3URL()+"settings/apps/new?state=x", url.Values{"manifest": {testManifest("https://h.example/hook", "")}})
	if res.StatusCode != http.StatusNotFound || !strings.Contains(page, `"message":"Not Found"`) {
		t.Fatalf("web page under /api/v3 = %d %s", res.StatusCode, page)
	}

	// A code older than an hour is gone, as is one never handed out.
	q := register(t, s, "/settings/apps", testManifest("https://h.example/hook", "http://127.0.0.1:1/cb"), "", "late-app")
	if _, ok := q["state"]; ok {
		t.Fatalf("redirect query %v carries a state the form never had", q)
	}
	s.ExpireManifestCodes()
	for _, code := range []string{q.Get("code"), "0123456789abcdef0123"} {
		if status, body := convert(t, s, code); status != http.StatusNotFound || body["message"] != "Not Found" {
			t.Errorf("conversion of %s = %d %v, want 404", code, status, body)
		}
	}
	// Without a redirect_url GitHub shows the new app's settings.
	res, _ = postForm(t, s.URL()+"/settings/apps", url.Values{"manifest": {`{"url":"https://x.example"}`}, "name": {"plain"}})
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != s.URL()+"/settings/apps/plain" {
		t.Fatalf("create without redirect_url = %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if n := len(s.Apps()); n != 3 {
		t.Fatalf("%d apps, want the fake's own and two registered", n)
	}
}
