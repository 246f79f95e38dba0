package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	for _, k := range []string{"GITHUB_APP_INTEGRATION_ID", "GITHUB_APP_WEBHOOK_SECRET", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_FILE", "DAYTWO_CONFIG", "DAYTWO_ADDR"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestServeRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("adress: :80\n"), 0o600)
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no secret", map[string]string{"GITHUB_APP_INTEGRATION_ID": "1"}, []string{"serve"}, "webhook secret is missing"},
		{"unparsable key", map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": "s", "GITHUB_APP_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"}, []string{"serve"}, "private key is not usable"},
		{"unknown key", nil, []string{"serve", "--config", bad}, "field adress not found"},
		{"missing file", nil, []string{"serve", "--config", filepath.Join(dir, "none.yml")}, "no such file"},
		{"stray argument", nil, []string{"serve", "now"}, `unexpected argument "now"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.env, tc.args...)
			if code != exitUser {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitUser, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q does not name the problem %q", stderr, tc.want)
			}
		})
	}
}

func TestUnknownSubcommand(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "deploy")
	if code != exitUser || !strings.Contains(stderr, `unknown command "deploy"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if code, out, _ := runCLI(t, nil, "help"); code != 0 || !strings.Contains(out, "daytwo plan --repo DIR") {
		t.Fatalf("help: %d %q", code, out)
	}
}
