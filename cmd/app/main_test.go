package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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

// exampleRepo is a git clone of examples/gitops in a temporary directory.
func exampleRepo(t *testing.T) string {
	t.Helper()
	return exampleClone(t, "gitops")
}

// exampleClone is a git clone of examples/<name> in a temporary directory.
func exampleClone(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	cp := exec.Command("cp", "-R", "../../examples/"+name+"/.", dir)
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("copy example: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "example"}} {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestPlanApplyValidateOnExample(t *testing.T) {
	dir := exampleRepo(t)
	head := gitOut(t, dir, "rev-parse", "HEAD")

	code, out, stderr := runCLI(t, nil, "validate", "--repo", dir)
	if code != exitOK || strings.Count(out, "\nok ") != 9 || !strings.Contains(out, "argocd: payments-prod") {
		t.Fatalf("validate: exit %d\n%s\n%s", code, out, stderr)
	}

	code, out, stderr = runCLI(t, nil, "plan", "--repo", dir, "--as", "alice", "/scale 5 --service checkout --env prod")
	if code != exitOK || !strings.Contains(out, "checkout/prod: scale to 5 replicas") || !strings.Contains(out, "+    count: 5") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, stderr)
	}
	if b := gitOut(t, dir, "branch", "--list", "daytwo/*"); b != "" {
		t.Fatalf("plan wrote branches: %s", b)
	}

	code, out, stderr = runCLI(t, nil, "apply", "--repo", dir, "--as", "alice", "/scale 5 --service checkout --env prod")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
	branch := gitOut(t, dir, "branch", "--list", "--format=%(refname:short)", "daytwo/*")
	if !strings.HasPrefix(branch, "daytwo/prod/checkout/scale-") || !strings.Contains(out, "branch "+branch) {
		t.Fatalf("branch %q, output:\n%s", branch, out)
	}
	if got := gitOut(t, dir, "show", branch+":apps/checkout/overlays/prod/kustomization.yaml"); !strings.Contains(got, "count: 5") {
		t.Fatalf("branch content:\n%s", got)
	}
	if gitOut(t, dir, "rev-parse", "HEAD") != head || gitOut(t, dir, "status", "--porcelain") != "" {
		t.Fatal("apply moved HEAD or touched the working tree")
	}
	if tr := gitOut(t, dir, "log", "-1", "--format=%(trailers:key=Daytwo-Requester,valueonly)", branch); tr != "alice" {
		t.Fatalf("requester trailer %q", tr)
	}

	// The same apply again refuses instead of writing a second branch.
	code, _, stderr = runCLI(t, nil, "apply", "--repo", dir, "--as", "alice", "/scale 5 --service checkout --env prod")
	if code != exitUser || !strings.Contains(stderr, "already exists") {
		t.Fatalf("second apply: exit %d, %s", code, stderr)
	}
}

func TestPlanUserErrors(t *testing.T) {
	dir := exampleRepo(t)
	cases := []struct {
		text, want string
	}{
		{"/scale 5 --service chekout --env prod", `did you mean "checkout"`},
		{"/scale 50 --service checkout --env prod", "prod allows 2 to 20 replicas"},
		{"/restart --env prod", "catalog"}, // ambiguous service: the reply lists the choices
		{"/scael 3", "did you mean /scale?"},
		{"just words", "no command"},
	}
	for _, tc := range cases {
		code, _, stderr := runCLI(t, nil, "plan", "--repo", dir, tc.text)
		if code != exitUser || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", tc.text, code, stderr, tc.want)
		}
	}
	code, _, stderr := runCLI(t, nil, "plan", "--repo", t.TempDir(), "/restart")
	if code != exitUser || !strings.Contains(stderr, "not a git repository") {
		t.Errorf("not a repo: exit %d, %q", code, stderr)
	}
}

func TestValidateReportsBrokenOverlay(t *testing.T) {
	dir := exampleRepo(t)
	kust := filepath.Join(dir, "apps/catalog/overlays/staging/kustomization.yaml")
	b, _ := os.ReadFile(kust)
	os.WriteFile(kust, append(b, []byte("\npatches:\n  - path: missing.yaml\n")...), 0o644)
	gitOut(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "break catalog staging")
	code, out, _ := runCLI(t, nil, "validate", "--repo", dir)
	if code != exitUser || !strings.Contains(out, "FAIL catalog") || !strings.Contains(out, "missing.yaml") {
		t.Fatalf("validate: exit %d\n%s", code, out)
	}
}

func TestZeroConfigFromArgoCDManifests(t *testing.T) {
	dir := exampleRepo(t)
	gitOut(t, dir, "rm", "-q", ".github/daytwo.yml")
	gitOut(t, dir, "rm", "-q", "argocd/applicationset.yaml")
	gitOut(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "no daytwo config")

	code, out, stderr := runCLI(t, nil, "validate", "--repo", dir)
	if code != exitOK || !strings.Contains(out, "absent; discovered from the Argo CD manifests (3 environments, 3 services)") ||
		strings.Count(out, "\nok ") != 9 || !strings.Contains(out, "discovered checkout-prod") || !strings.Contains(out, "argocd: payments-staging") {
		t.Fatalf("validate: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, nil, "plan", "--repo", dir, "--as", "alice", "/scale 4 --service catalog --env staging")
	if code != exitOK || !strings.Contains(out, "count: 4") {
		t.Fatalf("plan without a config: exit %d\n%s\n%s", code, out, stderr)
	}

	// With a config whose app names are wrong, validate says what discovery fills.
	cfg := strings.Replace(readFile(t, "../../examples/gitops/.github/daytwo.yml"), `argocdApp: "{service}-{env}"`, `argocdApp: "shop-{service}-{env}"`, 1)
	writeRepoFile(t, dir, ".github/daytwo.yml", cfg)
	gitOut(t, dir, "add", "-A")
	gitOut(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "config")
	code, out, _ = runCLI(t, nil, "validate", "--repo", dir)
	if code != exitOK || !strings.Contains(out, `filled     service checkout: argocdApp "shop-{service}-{env}" names no Application found; using "{service}-{env}"`) || !strings.Contains(out, "argocd: checkout-prod") {
		t.Fatalf("validate with a wrong argocdApp: exit %d\n%s", code, out)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeRepoFile(t *testing.T, dir, p, body string) {
	t.Helper()
	full := filepath.Join(dir, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// What a person sees on a terminal: plain text, never GitHub's markdown.
func TestPlanPrintsPlainText(t *testing.T) {
	dir := exampleRepo(t)
	cases := []struct {
		name, text string
		code       int
		stdout     string
		stderr     string
	}{
		{"usage error", "/scale 3 --evn prod", exitUser, "", `  /scale 3 --evn prod

/scale: unknown flag --evn; did you mean --env?

Usage:

  /scale <n> [--workload <name>] [--for <duration>] [flags]

  Set the replica count of a service.

  Flags:
    -w, --workload <name>  the workload to act on, as the overlay renders it (kind/name or name; default: the configured or only one)
        --for <duration>   time-box the change: once merged, restore what was there after this long (1m to 90d: 30m, 2h, 3d)
    -s, --service <name>   the service to act on (default: from the thread's service/<name> label, the repository, or the only service)
    -e, --env <name>       the environment to act on (default: from the thread's env/<name> label, or the only environment)
        --dry-run          show the change and its rendered diff without opening a pull request
        --break-glass      emergency: act during a freeze and without waiting for approval where the repository allows it; a review issue follows

  Examples:
    /scale 3 --env prod
    /scale 0 -e staging -s checkout
    /scale 4 --workload payments-api --env prod
    /scale 5 --for 2h --env staging
`},
		{"unknown command", "/statsu -s checkout", exitUser, "", `  /statsu -s checkout

/statsu is not a command; did you mean /status? (/help lists them)

Usage:

  /status [flags]

  Show what runs where: desired (Git) and live (Argo CD) state per environment.

  Flags:
    -s, --service <name>  the service to act on (default: from the thread's service/<name> label, the repository, or the only service)
    -e, --env <name>      the environment to act on (default: from the thread's env/<name> label, or the only environment)

  Examples:
    /status --service checkout
    /status -s payments -e prod
`},
		{"refusal", "/scale 50 --service checkout --env prod", exitUser, "", "daytwo: prod allows 2 to 20 replicas; 50 is out of bounds\n"},
		{"status", "/status --service checkout", exitOK, `checkout

Cart and order API of the web shop. · owner acme/checkout-team · system shop · production · depends on catalog, payments

env      image  replicas  config    frozen  sync  health  revision  last sync  open PRs
dev      1.8.0  1         b323f69b  —       —     —       —         —          —
staging  1.7.2  2         6c2e86b3  —       —     —       —         —          —
prod     1.7.1  3         e3a6d96f  —       —     —       —         —          —

Live state is not shown: the command line reads Git only.

promotion: dev (1.8.0) → staging (1.7.2) → prod (1.7.1)
`, ""},
		{"diff", "/diff staging prod --service checkout", exitOK, `checkout: what differs between staging and prod

Images (/promote prod --from staging carries these)

                              staging                      prod
Deployment/checkout checkout  ghcr.io/acme/checkout:1.7.2  ghcr.io/acme/checkout:1.7.1

Config

                                          staging  prod
checkout-config/CART_TTL                  24h      72h
checkout-config/FEATURE_EXPRESS_CHECKOUT  true     false

Replicas (per environment; not promoted)

                     staging  prod
Deployment/checkout  2        3

`, ""},
		{"history, none yet", "/history --service checkout", exitOK, "No day-2 actions found in Git history for this selection.\n", ""},
		{"view error", "/diff dev qa --service checkout", exitUser, "", "daytwo: unknown environment \"qa\" (dev, staging, prod)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, "plan", "--repo", dir, tc.text)
			if code != tc.code || out != tc.stdout || errOut != tc.stderr {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s\nwant:\n%s", code, tc.code, out, tc.stdout, errOut, tc.stderr)
			}
		})
	}
	code, out, _ := runCLI(t, nil, "plan", "--repo", dir, "/help freeze")
	if code != exitOK || !strings.HasPrefix(out, "/freeze\n-------\n\n/freeze [<env>] [--reason <text>] [--for <duration>]\n\nBlock changes") ||
		!strings.Contains(out, "\n--reason <text>       why the environment is frozen") || strings.ContainsAny(out, "`|\\") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

// /freeze <env> written locally, merged, then refusing a change; /history lists it and
// /status shows it.
func TestFreezeByArgumentThenRefusal(t *testing.T) {
	dir := exampleRepo(t)
	code, out, stderr := runCLI(t, nil, "apply", "--repo", dir, "--as", "alice", "/freeze prod --reason release week")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
	branch := gitOut(t, dir, "branch", "--list", "--format=%(refname:short)", "daytwo/*")
	gitOut(t, dir, "merge", "-q", "--ff-only", branch)
	var since string
	for _, l := range strings.Split(readFile(t, filepath.Join(dir, ".github/daytwo.yml")), "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(l), "since: "); ok {
			since = s
		}
	}
	when, err := time.Parse(time.RFC3339, since)
	if err != nil {
		t.Fatalf("the freeze's since %q: %v", since, err)
	}

	code, out, stderr = runCLI(t, nil, "plan", "--repo", dir, "--as", "bob", "/scale 5 --service checkout --env prod")
	want := "daytwo: prod is frozen since " + when.UTC().Format("2006-01-02 15:04 UTC") +
		" by @alice: release week; ask for /unfreeze --env prod first, or repeat with --break-glass in an emergency\n"
	if code != exitUser || out != "" || stderr != want {
		t.Errorf("refusal: exit %d\nstdout: %s\nstderr: %q\nwant:   %q", code, out, stderr, want)
	}

	code, out, _ = runCLI(t, nil, "plan", "--repo", dir, "/history")
	sha := gitOut(t, dir, "rev-parse", "--short=7", "HEAD")
	at := time.Unix(mustAtoi(t, gitOut(t, dir, "log", "-1", "--format=%ct")), 0).UTC().Format("2006-01-02 15:04")
	want = "when (UTC)        action                              service  env   asked by  change\n" +
		at + "  /freeze prod --reason release week  —        prod  alice     " + sha + "\n"
	if code != exitOK || out != want {
		t.Errorf("history: exit %d\n%s\nwant\n%s", code, out, want)
	}
	if code, out, _ = runCLI(t, nil, "plan", "--repo", dir, "/status -s checkout -e prod"); code != exitOK ||
		!strings.Contains(out, "prod  1.7.1  3         e3a6d96f  yes: release week  —") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// examples/shared-bases has no daytwo config and one ApplicationSet using sprig's lower:
// validate discovers the six Applications it generates and finds each overlay's.
func TestValidateSharedBasesExample(t *testing.T) {
	dir := exampleClone(t, "shared-bases")
	code, out, stderr := runCLI(t, nil, "validate", "--repo", dir)
	if code != exitOK || !strings.Contains(out, "absent; discovered from the Argo CD manifests (3 environments, 2 services)") || strings.Count(out, "\nok ") != 6 {
		t.Fatalf("validate: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, svc := range []string{"ledger", "payments"} {
		for _, env := range []string{"dev", "staging", "prod"} {
			app := svc + "-" + env
			if !strings.Contains(out, "discovered "+app) || !strings.Contains(out, "argocd: "+app+"\n") {
				t.Errorf("%s not discovered and shown as the overlay's Application:\n%s", app, out)
			}
		}
	}
	if !strings.Contains(out, "from ApplicationSet acme (argocd/applicationset.yaml)") {
		t.Errorf("the report does not say where the Applications come from:\n%s", out)
	}

	// A clone whose remote is the repository the generator reads discovers the same; one
	// of another repository skips the generator and says so.
	gitOut(t, dir, "remote", "add", "origin", "git@github.com:acme/platform.git")
	if code, out, stderr := runCLI(t, nil, "validate", "--repo", dir); code != exitOK || strings.Count(out, "\nok ") != 6 {
		t.Fatalf("with its own remote: exit %d\n%s\n%s", code, out, stderr)
	}
	gitOut(t, dir, "remote", "set-url", "origin", "https://github.com/acme/other.git")
	code, _, stderr = runCLI(t, nil, "validate", "--repo", dir)
	if code != exitUser || !strings.Contains(stderr, "discovery skipped ApplicationSet acme (argocd/applicationset.yaml): generator 1: it reads https://github.com/acme/platform.git, not this repository (acme/other)") {
		t.Fatalf("with another remote: exit %d\n%s", code, stderr)
	}
}

// A template Argo CD cannot render is the reason given, with argo-cd's error.
func TestValidateReportsBrokenApplicationSet(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"{{ .path.basename | lower }}", "{{ .path.basename | shout }}", `function "shout" not defined`},
		{"{{ .path.basename | lower }}", "{{ .path.name | lower }}", `map has no entry for key "name"`},
	} {
		dir := exampleClone(t, "shared-bases")
		set := filepath.Join(dir, "argocd/applicationset.yaml")
		writeRepoFile(t, dir, "argocd/applicationset.yaml", strings.Replace(readFile(t, set), tc.from, tc.to, 1))
		gitOut(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "break the template")
		code, out, stderr := runCLI(t, nil, "validate", "--repo", dir)
		if code != exitUser || !strings.Contains(stderr, "has no .github/daytwo.yml at HEAD: ApplicationSet acme (argocd/applicationset.yaml): Argo CD cannot render it and creates none of its Applications: ") ||
			!strings.Contains(stderr, tc.want) || strings.Contains(stderr, "says which service") {
			t.Errorf("%s: exit %d\n%s\n%s", tc.to, code, out, stderr)
		}
	}
}

// With a config, the Applications an ApplicationSet generates count as deploying the overlays.
func TestValidateCountsGeneratedApplications(t *testing.T) {
	dir := exampleRepo(t)
	gitOut(t, dir, "rm", "-rq", "argocd/apps")
	gitOut(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "the ApplicationSet only")
	code, out, stderr := runCLI(t, nil, "validate", "--repo", dir)
	if code != exitOK || strings.Count(out, "\nok ") != 9 || strings.Contains(out, "no Argo CD Application found") || !strings.Contains(out, "argocd: checkout-prod\n") {
		t.Fatalf("validate: exit %d\n%s\n%s", code, out, stderr)
	}
}
