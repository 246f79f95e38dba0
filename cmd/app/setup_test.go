package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, url string, exited <-chan int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case code := <-exited:
			t.Fatalf("exited with %d before serving %s", code, url)
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered", url)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// browser starts headless Chromium (Debian's package) for a test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: `make deps` installs it (Debian package chromium)")
	}
	// The network is closed: without these flags Chromium waits on Google's services.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DAYTWO_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A person registers the app in a real browser: the page lists the permissions with their
// reasons, "Register on GitHub" leads to GitHub's confirmation, "Create GitHub App" back to
// the success page, and the files written make a server that works: installed on a
// repository, it answers a signed webhook on GitHub.
func TestSetupInABrowserThenServe(t *testing.T) {
	for _, k := range []string{"GITHUB_APP_INTEGRATION_ID", "GITHUB_APP_WEBHOOK_SECRET", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_FILE",
		"GITHUB_WEB_URL", "GITHUB_V3_API_URL", "GITHUB_V4_API_URL", "DAYTWO_CONFIG", "DAYTWO_ADDR", "DAYTWO_REDIS_URL", "DAYTWO_REDIS_ADDR"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	ctx := browser(t)
	gh := githubtest.New(t)
	repo := gh.CreateRepo("acme", "gitops")
	repo.Commit(repo.DefaultBranch(), "initial", map[string]string{"README.md": "# gitops\n"})

	setupAddr, serveAddr := freeAddr(t), freeAddr(t)
	out := filepath.Join(t.TempDir(), "secrets")
	setupOut, setupErr := &apptest.SyncBuffer{}, &apptest.SyncBuffer{}
	exited := make(chan int, 1)
	go func() {
		exited <- run([]string{"setup", "--addr", setupAddr, "--public-url", "http://" + serveAddr, "--github-url", gh.URL(), "--out", out}, setupOut, setupErr)
	}()
	page := "http://" + setupAddr + "/"
	waitHTTP(t, page, exited)

	// The person's visit, step by step; text reads a value the page shows.
	text := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("browser: %v\nsetup stderr: %s", err, setupErr)
		}
		return v
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("browser: %v\nsetup stderr: %s", err, setupErr)
		}
	}
	var pages []string
	do(chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("register")))
	permissions, events := text(chromedp.Text(chromedp.ID("permissions"))), text(chromedp.Text(chromedp.ID("events")))
	pages = append(pages, text(chromedp.OuterHTML(chromedp.CSS("html"))))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}

	do(chromedp.Click(chromedp.ID("register")), chromedp.WaitVisible(chromedp.ID("app-name")))
	ghTitle, nameValue := text(chromedp.Text(chromedp.CSS("h1"))), text(chromedp.Value(chromedp.ID("app-name")))
	pages = append(pages, text(chromedp.OuterHTML(chromedp.CSS("html"))))
	// "daytwo" is taken on this GitHub (by its own app): the person picks another name.
	do(chromedp.SetValue(chromedp.ID("app-name"), "daytwo-acme"), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("install")))
	done := text(chromedp.Text(chromedp.CSS("h1")))
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("install"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	installHref := href.Value
	pages = append(pages, text(chromedp.OuterHTML(chromedp.CSS("html"))))
	shotPath := filepath.Join(artifactDir(t), "setup-page.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the setup page: %s", shotPath)

	for _, want := range []string{"contents\twrite\tRead the daytwo config, CODEOWNERS and overlays; write the change branch and commit.",
		"members\tread\tCheck team membership for per-environment request policies (organization permission)."} {
		if !strings.Contains(permissions, want) {
			t.Errorf("permissions table lacks %q:\n%s", want, permissions)
		}
	}
	if !strings.Contains(events, "pull_request_review\tapprovals move the status comment and allow merging") {
		t.Errorf("events table:\n%s", events)
	}
	if ghTitle != "Create GitHub App for octocat" || nameValue != "daytwo" {
		t.Errorf("GitHub's page: %q with name %q", ghTitle, nameValue)
	}
	if done != "daytwo-acme is registered" || installHref != gh.URL()+"/apps/daytwo-acme/installations/new" {
		t.Errorf("success page: %q, install link %q", done, installHref)
	}
	select {
	case code := <-exited:
		if code != exitOK {
			t.Fatalf("setup exited %d: %s", code, setupErr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("setup did not exit after the success page")
	}
	if !strings.Contains(setupOut.String(), gh.URL()+"/apps/daytwo-acme/installations/new") || setupErr.String() != "" {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", setupOut, setupErr)
	}

	// The files.
	apps := gh.Apps()
	app := apps[len(apps)-1]
	for _, name := range []string{"private-key.pem", "github.env", "config.yml", "secret.yaml"} {
		st, err := os.Stat(filepath.Join(out, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, err, st)
		}
	}
	key, _ := os.ReadFile(filepath.Join(out, "private-key.pem"))
	if _, err := config.ParsePrivateKey(key); err != nil {
		t.Fatalf("private-key.pem: %v", err)
	}
	env, _ := os.ReadFile(filepath.Join(out, "github.env"))
	for _, want := range []string{"GITHUB_APP_INTEGRATION_ID=" + strconv.FormatInt(app.ID, 10), "GITHUB_APP_WEBHOOK_SECRET=" + app.WebhookSecret,
		"GITHUB_WEB_URL=" + gh.URL(), "GITHUB_V3_API_URL=" + gh.V3URL(), "GITHUB_V4_API_URL=" + gh.V4URL()} {
		if !strings.Contains(string(env), want+"\n") {
			t.Errorf("github.env lacks %s", want)
		}
	}

	// The server, started from another directory with nothing but config.yml.
	t.Chdir(t.TempDir())
	t.Setenv("DAYTWO_ADDR", serveAddr)
	serveErr := &apptest.SyncBuffer{}
	served := make(chan int, 1)
	go func() {
		served <- run([]string{"serve", "--config", filepath.Join(out, "config.yml")}, io.Discard, serveErr)
	}()
	waitHTTP(t, "http://"+serveAddr+"/readyz", served)

	gh.InstallApp(app.ID, "acme", "gitops")
	issue := repo.CreateIssue("octocat", "How?", "")
	id := repo.AddComment(issue, "octocat", "/help")
	res, err := gh.SendAppWebhook(app.ID, "issue_comment", repo.IssueCommentPayload(id))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d: %s", res.StatusCode, serveErr)
	}
	apptest.Eventually(t, "the reply", func() bool { return len(repo.Comments(issue)) == 2 })
	reply := repo.Comments(issue)[1]
	if reply.User != "daytwo-acme[bot]" || !strings.Contains(reply.Body, "/scale") {
		t.Fatalf("reply by %s:\n%s", reply.User, reply.Body)
	}

	// SIGTERM stops the server, as in production (its handler is the one serve set up).
	select {
	case code := <-served:
		t.Fatalf("serve exited early with %d: %s", code, serveErr)
	default:
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-served:
		if code != exitOK {
			t.Fatalf("serve exited %d: %s", code, serveErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}

	// No secret was shown anywhere: terminal, logs, pages.
	lines := strings.Split(strings.TrimSpace(string(key)), "\n")
	secrets := append([]string{app.WebhookSecret, app.ClientSecret}, lines[1:len(lines)-1]...)
	for i, shown := range append(pages, setupOut.String(), setupErr.String(), serveErr.String()) {
		for _, s := range secrets {
			if s == "" || strings.Contains(shown, s) {
				t.Fatalf("output %d shows a secret (%.12s…)", i, s)
			}
		}
	}
}

func TestSetupRefusals(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "github.env"), []byte("x=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"setup"}, "--public-url is required"},
		{[]string{"setup", "--public-url", "daytwo.example.com"}, `--public-url "daytwo.example.com": not an absolute http:// or https:// URL`},
		{[]string{"setup", "--public-url", "https://d.example.com", "--github-url", "ftp://ghe"}, "--github-url"},
		{[]string{"setup", "--public-url", "https://d.example.com", "--colour"}, "flag provided but not defined: -colour"},
		{[]string{"setup", "--public-url", "https://d.example.com", "now"}, `unexpected argument "now"`},
		{[]string{"setup", "--public-url", "https://d.example.com", "--addr", "127.0.0.1:0", "--out", out}, filepath.Join(out, "github.env") + " already exists: move them away or pass --force"},
	} {
		var stdout, stderr strings.Builder
		if code := run(tc.args, &stdout, &stderr); code != exitUser || !strings.Contains(stderr.String(), tc.want) || stdout.Len() > 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 saying %q", tc.args, code, stdout.String(), stderr.String(), tc.want)
		}
	}

	// A redirect that is not GitHub's answer to this page: a page saying so, and exit 2.
	addr := freeAddr(t)
	stderr := &apptest.SyncBuffer{}
	exited := make(chan int, 1)
	go func() {
		exited <- run([]string{"setup", "--addr", addr, "--public-url", "https://d.example.com", "--out", t.TempDir()}, io.Discard, stderr)
	}()
	waitHTTP(t, "http://"+addr+"/", exited)
	res, err := http.Get("http://" + addr + "/callback?code=0123&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if code := <-exited; code != exitUser || res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "its state does not match") ||
		!strings.Contains(stderr.String(), "its state does not match") {
		t.Fatalf("exit %d, page %d:\n%s\nstderr: %s", code, res.StatusCode, body, stderr)
	}
}
