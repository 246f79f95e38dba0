package argoapi_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
)

// rollout refreshes app after a push and waits for it, as daytwo does after a merge, and
// checks that the watch stream (not polling) saw it through.
func rollout(t *testing.T, fake *argoapitest.Server, g *git, c *argoapi.Client, app string) {
	t.Helper()
	fake.AddApp(app, true)
	rev := strings.Repeat("9", 40)
	g.push(rev)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Refresh(ctx, app); err != nil {
		t.Fatalf("%s: refresh: %v", fake, err)
	}
	final, err := c.Wait(ctx, app, rev, nil)
	if err != nil || !final.SyncedTo(rev) || final.Health != "Healthy" {
		t.Fatalf("%s: wait: %+v %v", fake, final, err)
	}
	var methods []string
	for _, call := range fake.Calls() {
		methods = append(methods, call.Method)
	}
	// After the watch starts, only the refreshes asking Argo CD to assess the health after
	// the sync may follow: no polling.
	got := strings.Join(methods, ",")
	if rest, ok := strings.CutPrefix(got, "Refresh,Get,Watch"); !ok || strings.Trim(strings.ReplaceAll(rest, ",Refresh", ""), ",") != "" {
		t.Errorf("%s: calls %s, want Refresh,Get,Watch then refreshes only (the watch stream followed the rollout)", fake, got)
	}
}

func client(t *testing.T, opts argoapi.Options) *argoapi.Client {
	t.Helper()
	opts.Token, opts.PollInterval = token, 20*time.Millisecond
	c, err := argoapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func getErr(c *argoapi.Client, app string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Get(ctx, app)
	return err
}

func TestTLSVerifiedWithCAFile(t *testing.T) {
	g := &git{rev: strings.Repeat("a", 40)}
	fake := argoapitest.NewWith(t, token, g.head, argoapitest.Options{TLS: true})
	rollout(t, fake, g, client(t, argoapi.Options{Server: fake.Addr(), CAFile: fake.CAFile()}), "checkout-dev")

	// Without the CA the certificate is not trusted, and the error says what to check.
	err := getErr(client(t, argoapi.Options{Server: fake.Addr()}), "checkout-dev")
	if err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("without the CA: %v", err)
	}
	// insecure skips verification.
	if err := getErr(client(t, argoapi.Options{Server: fake.Addr(), Insecure: true}), "checkout-dev"); err != nil {
		t.Errorf("insecure: %v", err)
	}
	// plaintext against a TLS server fails, naming plaintext among the settings to check.
	if err := getErr(client(t, argoapi.Options{Server: fake.Addr(), PlainText: true}), "checkout-dev"); err == nil || !strings.Contains(err.Error(), "plaintext") {
		t.Errorf("plaintext against TLS: %v", err)
	}
}

func TestGRPCWeb(t *testing.T) {
	g := &git{rev: strings.Repeat("a", 40)}
	fake := argoapitest.NewWith(t, token, g.head, argoapitest.Options{GRPCWeb: true})
	c := client(t, argoapi.Options{Server: fake.Addr(), PlainText: true, GRPCWeb: true})
	rollout(t, fake, g, c, "checkout-dev")

	// Sync, and errors carried in gRPC-web trailers, as over gRPC.
	fake.AddApp("checkout-prod", false)
	ctx := context.Background()
	if err := c.Sync(ctx, "checkout-prod", g.head()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if calls := fake.Calls(); calls[len(calls)-1].Method != "Sync" || calls[len(calls)-1].Revision != g.head() {
		t.Errorf("last call %+v", calls[len(calls)-1])
	}
	if err := getErr(c, "nope"); !errors.Is(err, argoapi.ErrPermanent) || !strings.Contains(err.Error(), "argocdApp") {
		t.Errorf("missing app: %v", err)
	}
	bad, err := argoapi.New(argoapi.Options{Server: fake.Addr(), Token: "wrong", PlainText: true, GRPCWeb: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := getErr(bad, "checkout-dev"); !errors.Is(err, argoapi.ErrPermanent) || !strings.Contains(err.Error(), "argocd.token") {
		t.Errorf("wrong token: %v", err)
	}
	// The caller's deadline reaches the HTTP request.
	fake.SetDelay(2 * time.Second)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Get(short, "checkout-dev"); err == nil || time.Since(start) > time.Second {
		t.Errorf("slow server: %v after %s", err, time.Since(start))
	}
	fake.SetDelay(0)

	// A gRPC client cannot talk to a server that only answers gRPC-web.
	if err := getErr(client(t, argoapi.Options{Server: fake.Addr(), PlainText: true}), "checkout-dev"); err == nil || !strings.Contains(err.Error(), "grpc_web") {
		t.Errorf("gRPC against gRPC-web only: %v", err)
	}
}

func TestGRPCWebOverTLSUnderARootPath(t *testing.T) {
	g := &git{rev: strings.Repeat("a", 40)}
	fake := argoapitest.NewWith(t, token, g.head, argoapitest.Options{GRPCWeb: true, TLS: true, RootPath: "/argo-cd"})
	// A root path implies gRPC-web, as with argo-cd's own client.
	rollout(t, fake, g, client(t, argoapi.Options{Server: fake.Addr(), CAFile: fake.CAFile(), GRPCWebRootPath: "/argo-cd/"}), "checkout-dev")

	err := getErr(client(t, argoapi.Options{Server: fake.Addr(), CAFile: fake.CAFile(), GRPCWeb: true}), "checkout-dev")
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "grpc_web_root_path") {
		t.Errorf("without the root path: %v", err)
	}
	err = getErr(client(t, argoapi.Options{Server: fake.Addr(), GRPCWebRootPath: "argo-cd"}), "checkout-dev")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v", err)
	}
}

func TestCAFileProblems(t *testing.T) {
	dir := t.TempDir()
	if _, err := argoapi.New(argoapi.Options{Server: "argocd:443", Token: token, CAFile: filepath.Join(dir, "missing.pem")}); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("missing file: %v", err)
	}
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := argoapi.New(argoapi.Options{Server: "argocd:443", Token: token, CAFile: notPEM}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("not PEM: %v", err)
	}
}
