package setup_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/setup"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// session is one `daytwo setup` serving its page, and what a person's browser saw.
type session struct {
	t      *testing.T
	gh     *githubtest.Server
	page   string // the page's URL
	out    string
	stdout *syncBuffer
	result chan error
	pages  []string // every page body served to the "browser", GitHub's included
}

func start(t *testing.T, gh *githubtest.Server, change func(*setup.Options)) *session {
	t.Helper()
	s := &session{t: t, gh: gh, out: filepath.Join(t.TempDir(), "secrets"), stdout: &syncBuffer{}, result: make(chan error, 1)}
	listening := make(chan string, 1)
	opts := setup.Options{Addr: "127.0.0.1:0", PublicURL: "https://daytwo.example.com", Out: s.out, Stdout: s.stdout,
		Listening: func(u string) { listening <- u }}
	if gh != nil {
		opts.GitHubURL = gh.URL()
	}
	if change != nil {
		change(&opts)
	}
	go func() { s.result <- setup.Run(context.Background(), opts) }()
	select {
	case s.page = <-listening:
	case err := <-s.result:
		t.Fatalf("setup stopped before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("setup did not serve its page")
	}
	return s
}

// wait returns Run's result.
func (s *session) wait() error {
	s.t.Helper()
	select {
	case err := <-s.result:
		return err
	case <-time.After(10 * time.Second):
		s.t.Fatal("setup did not stop")
		return nil
	}
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (s *session) do(method, target string, form url.Values) (*http.Response, string) {
	s.t.Helper()
	var res *http.Response
	var err error
	if method == http.MethodPost {
		res, err = noFollow.PostForm(target, form)
	} else {
		res, err = noFollow.Get(target)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	s.pages = append(s.pages, string(b))
	return res, string(b)
}

var (
	actionRE   = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	manifestRE = regexp.MustCompile(`name="manifest" value="([^"]*)"`)
	stateRE    = regexp.MustCompile(`name="state" value="([^"]*)"`)
)

func field(t *testing.T, re *regexp.Regexp, page string) string {
	t.Helper()
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in\n%s", re, page)
	}
	return html.UnescapeString(m[1])
}

// toGitHub loads the page, presses "Register on GitHub", names the app on GitHub's page
// and presses "Create GitHub App"; it returns where GitHub sends the browser back.
func (s *session) toGitHub(name string) string {
	s.t.Helper()
	_, page := s.do(http.MethodGet, s.page, nil)
	action, manifest := field(s.t, actionRE, page), field(s.t, manifestRE, page)
	res, ghPage := s.do(http.MethodPost, action, url.Values{"manifest": {manifest}})
	if res.StatusCode != http.StatusOK || !strings.Contains(ghPage, "Create GitHub App for") {
		s.t.Fatalf("GitHub's page: %d\n%s", res.StatusCode, ghPage)
	}
	create, err := url.Parse(action)
	if err != nil {
		s.t.Fatal(err)
	}
	create.Path, create.RawQuery = field(s.t, actionRE, ghPage), ""
	res, body := s.do(http.MethodPost, create.String(), url.Values{"manifest": {field(s.t, manifestRE, ghPage)}, "state": {field(s.t, stateRE, ghPage)}, "name": {name}})
	if res.StatusCode != http.StatusFound {
		s.t.Fatalf("create: %d\n%s", res.StatusCode, body)
	}
	return res.Header.Get("Location")
}

func (s *session) noFilesWritten() {
	s.t.Helper()
	if entries, err := os.ReadDir(s.out); err == nil && len(entries) > 0 {
		s.t.Fatalf("files written after a failure: %v", entries)
	}
}

func TestRegisterAndWriteFiles(t *testing.T) {
	gh := githubtest.New(t)
	s := start(t, gh, nil)

	_, page := s.do(http.MethodGet, s.page, nil)
	for _, want := range []string{
		"Register daytwo on GitHub", "your personal account", "https://daytwo.example.com/api/github/hook",
		"<td>checks</td><td>write</td><td>Publish the &#34;daytwo/render&#34; check run proving the change renders.</td>",
		"<td>issue_comment</td><td>commands in issue and pull request comments</td>",
		`action="` + gh.URL() + `/settings/apps/new?state=`, "Register on GitHub</button>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	back := s.toGitHub("daytwo-acme")
	if !strings.HasPrefix(back, strings.TrimSuffix(s.page, "/")+"/callback?") {
		t.Fatalf("GitHub sent the browser to %s", back)
	}
	// A double click sends the redirect twice: one is answered, the code is spent once.
	type answer struct {
		status int
		body   string
	}
	answers := make(chan answer, 2)
	for range 2 {
		go func() {
			r, err := noFollow.Get(back)
			if err != nil {
				answers <- answer{} // the server stopped after the first
				return
			}
			defer r.Body.Close()
			b, _ := io.ReadAll(r.Body)
			answers <- answer{r.StatusCode, string(b)}
		}()
	}
	var done string
	for range 2 {
		a := <-answers
		s.pages = append(s.pages, a.body)
		switch a.status {
		case http.StatusOK:
			if done != "" {
				t.Fatal("both redirects were answered as a registration")
			}
			done = a.body
		case 0, http.StatusConflict:
		default:
			t.Fatalf("redirect answered %d:\n%s", a.status, a.body)
		}
	}
	if err := s.wait(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := gh.CountRequests("POST", "/app-manifests/"); n != 1 || done == "" {
		t.Fatalf("%d conversions (want 1), success page %q", n, done)
	}
	apps := gh.Apps()
	app := apps[len(apps)-1]
	install := gh.URL() + "/apps/daytwo-acme/installations/new"
	if !strings.Contains(done, "daytwo-acme is registered") || !strings.Contains(s.stdout.String(), "Registered the GitHub App daytwo-acme") {
		t.Errorf("page or stdout does not say the app is registered")
	}
	for _, want := range []string{install, "daytwo serve --config " + filepath.Join(s.out, "config.yml"), "kubectl apply -f " + filepath.Join(s.out, "secret.yaml")} {
		if !strings.Contains(done, want) || !strings.Contains(s.stdout.String(), want) {
			t.Errorf("page or stdout lacks %q\npage:\n%s\nstdout:\n%s", want, done, s.stdout)
		}
	}
	env, err := os.ReadFile(filepath.Join(s.out, "github.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GITHUB_APP_WEBHOOK_SECRET=" + app.WebhookSecret + "\n", "GITHUB_V3_API_URL=" + gh.URL() + "/api/v3/\n", "GITHUB_WEB_URL=" + gh.URL() + "\n"} {
		if !strings.Contains(string(env), want) {
			t.Errorf("github.env lacks %q:\n%s", want, env)
		}
	}
	key, _ := os.ReadFile(filepath.Join(s.out, "private-key.pem"))
	assertNoSecrets(t, append(s.pages, s.stdout.String()), app, key)

	// The server is gone once the page is served.
	if _, err := http.Get(s.page); err == nil {
		t.Fatal("the setup page is still served")
	}
}

// assertNoSecrets fails when a text shows the webhook secret, the client secret or any
// line of the private key.
func assertNoSecrets(t *testing.T, texts []string, app githubtest.App, key []byte) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(key)), "\n")
	if len(lines) < 10 || app.WebhookSecret == "" || app.ClientSecret == "" {
		t.Fatalf("nothing to look for: key %d lines, secrets %q %q", len(lines), app.WebhookSecret, app.ClientSecret)
	}
	secrets := append([]string{app.WebhookSecret, app.ClientSecret}, lines[1:len(lines)-1]...)
	for i, text := range texts {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Fatalf("text %d shows a secret (%.12s…):\n%s", i, secret, text)
			}
		}
	}
}

func TestRegisterForAnOrganizationOnGitHubEnterprise(t *testing.T) {
	gh := githubtest.New(t)
	gh.CreateRepo("acme", "gitops")
	s := start(t, gh, func(o *setup.Options) { o.Org = "acme" })
	_, page := s.do(http.MethodGet, s.page, nil)
	if !strings.Contains(page, `action="`+gh.URL()+`/organizations/acme/settings/apps/new?state=`) || !strings.Contains(page, "the organization <strong>acme</strong>") {
		t.Fatalf("page:\n%s", page)
	}
	_, done := s.do(http.MethodGet, s.toGitHub("acme-daytwo"), nil)
	if err := s.wait(); err != nil {
		t.Fatalf("Run: %v\n%s", err, done)
	}
	if apps := gh.Apps(); apps[len(apps)-1].Owner != "acme" {
		t.Fatalf("owner %q", apps[len(apps)-1].Owner)
	}
}

// Each way the registration can go wrong shows a page saying what happened and what to
// do, stops with an error, and writes nothing.
func TestBadInputsShowAPageAndWriteNothing(t *testing.T) {
	cases := []struct {
		name  string
		input bool // an InputError (exit 2), else a failure (exit 1)
		act   func(t *testing.T, s *session) *http.Response
		want  string
		// spent says whether the code was converted (the app exists with its key unknown).
		conversions int
	}{
		{"state mismatch", true, func(t *testing.T, s *session) *http.Response {
			back := s.toGitHub("daytwo-a")
			res, _ := s.do(http.MethodGet, regexp.MustCompile(`state=[0-9a-f]+`).ReplaceAllString(back, "state=forged"), nil)
			return res
		}, "its state does not match", 0},
		{"no state", true, func(t *testing.T, s *session) *http.Response {
			res, _ := s.do(http.MethodGet, s.page+"callback?code=abc", nil)
			return res
		}, "its state does not match", 0},
		{"code used already", true, func(t *testing.T, s *session) *http.Response {
			back := s.toGitHub("daytwo-b")
			u, _ := url.Parse(back)
			r, err := http.Post(s.gh.V3URL()+"app-manifests/"+u.Query().Get("code")+"/conversions", "application/json", nil)
			if err != nil || r.StatusCode != http.StatusCreated {
				t.Fatalf("converting first: %v %v", r, err)
			}
			r.Body.Close()
			res, _ := s.do(http.MethodGet, back, nil)
			return res
		}, "used already or is older than an hour", 2},
		{"code expired", true, func(t *testing.T, s *session) *http.Response {
			back := s.toGitHub("daytwo-c")
			s.gh.ExpireManifestCodes()
			res, _ := s.do(http.MethodGet, back, nil)
			return res
		}, "used already or is older than an hour", 1},
		{"validation failed", true, func(t *testing.T, s *session) *http.Response {
			back := s.toGitHub("daytwo-d")
			s.gh.Fault("POST", "/app-manifests/*/conversions", githubtest.Fault{Status: http.StatusUnprocessableEntity,
				Body: `{"message":"Validation Failed","documentation_url":"https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest","status":"422"}`})
			res, _ := s.do(http.MethodGet, back, nil)
			return res
		}, "GitHub refused to complete the registration (422: Validation Failed)", 1},
		{"files appeared meanwhile", true, func(t *testing.T, s *session) *http.Response {
			back := s.toGitHub("daytwo-e")
			if err := os.MkdirAll(s.out, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(s.out, "config.yml"), []byte("# mine\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			res, _ := s.do(http.MethodGet, back, nil)
			return res
		}, "config.yml already exists: move them away or pass --force", 0},
		{"GitHub unreachable", false, func(t *testing.T, s *session) *http.Response {
			_, page := s.do(http.MethodGet, s.page, nil)
			state := regexp.MustCompile(`state=([0-9a-f]+)`).FindStringSubmatch(page)[1]
			res, _ := s.do(http.MethodGet, s.page+"callback?code=0123456789abcdef0123&state="+state, nil)
			return res
		}, "cannot reach GitHub&#39;s API at", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gh := githubtest.New(t)
			var s *session
			if tc.name == "GitHub unreachable" {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				closed := "http://" + l.Addr().String()
				l.Close()
				s = start(t, nil, func(o *setup.Options) { o.GitHubURL = closed })
			} else {
				s = start(t, gh, nil)
			}
			res := tc.act(t, s)
			page := s.pages[len(s.pages)-1]
			err := s.wait()
			if err == nil || setup.IsInputError(err) != tc.input {
				t.Fatalf("Run = %v (input error: %t), want input error %t", err, setup.IsInputError(err), tc.input)
			}
			if res.StatusCode < 400 || !strings.Contains(page, "daytwo setup stopped") || !strings.Contains(page, tc.want) {
				t.Fatalf("page %d:\n%s\nwant %q", res.StatusCode, page, tc.want)
			}
			if !strings.Contains(html.UnescapeString(page), err.Error()) {
				t.Fatalf("the page and the error differ:\n%s\n%v", page, err)
			}
			if tc.name != "files appeared meanwhile" {
				s.noFilesWritten()
			} else if b, _ := os.ReadFile(filepath.Join(s.out, "config.yml")); string(b) != "# mine\n" {
				t.Fatal("the file in the way was changed")
			}
			if n := gh.CountRequests("POST", "/app-manifests/"); n != tc.conversions {
				t.Fatalf("%d conversions, want %d", n, tc.conversions)
			}
		})
	}
}

// Bad options and files in the way stop setup before anything is served or sent.
func TestRefusedBeforeServing(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "private-key.pem"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(out, "private-key.pem")
	base := setup.Options{Addr: "127.0.0.1:0", PublicURL: "https://daytwo.example.com", Out: t.TempDir()}
	for name, tc := range map[string]struct {
		change func(*setup.Options)
		want   string
	}{
		"no public url":       {func(o *setup.Options) { o.PublicURL = "" }, "--public-url is required"},
		"relative public url": {func(o *setup.Options) { o.PublicURL = "daytwo.example.com" }, "not an absolute http:// or https:// URL"},
		"hook path given":     {func(o *setup.Options) { o.PublicURL = "https://d.example.com/api/github/hook" }, "is added to it"},
		"query in public url": {func(o *setup.Options) { o.PublicURL = "https://d.example.com/?a=1" }, "must not carry a query"},
		"bad github url":      {func(o *setup.Options) { o.GitHubURL = "ghe.example.com" }, "--github-url"},
		"bad org":             {func(o *setup.Options) { o.Org = "ac me" }, "--org"},
		"bad addr":            {func(o *setup.Options) { o.Addr = "3000" }, "--addr"},
		"out is a file":       {func(o *setup.Options) { o.Out = file }, "is not a directory"},
		"files exist":         {func(o *setup.Options) { o.Out = out }, file + " already exists: move them away or pass --force"},
	} {
		o := base
		tc.change(&o)
		served := false
		o.Listening = func(string) { served = true }
		err := setup.Run(context.Background(), o)
		if !setup.IsInputError(err) || !strings.Contains(err.Error(), tc.want) || served {
			t.Errorf("%s: err = %v (served %t), want an input error saying %q", name, err, served, tc.want)
		}
	}
	// --force lets the files be replaced: it gets as far as serving.
	ctx, cancel := context.WithCancel(context.Background())
	o := base
	o.Out, o.Force = out, true
	o.Listening = func(string) { cancel() }
	if err := setup.Run(ctx, o); err == nil || !strings.Contains(err.Error(), "stopped before GitHub sent the browser back") {
		t.Fatalf("with --force: %v", err)
	}
}
