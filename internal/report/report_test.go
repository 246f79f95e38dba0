package report_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/gitlocal"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// example is a git clone of examples/gitops, with the config loaded.
type example struct {
	dir  string
	repo *gitlocal.Repo
	cfg  *repoconfig.Config
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	if out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func newExample(t *testing.T) *example {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-R", "../../examples/gitops/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "example")
	r, err := gitlocal.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ".github/daytwo.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := repoconfig.Load(data, command.All())
	if err != nil {
		t.Fatal(err)
	}
	return &example{dir: dir, repo: r, cfg: cfg}
}

func (e *example) snap(t *testing.T) *gitlocal.Snapshot {
	t.Helper()
	s, err := e.repo.Snapshot(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// commit writes files and commits them with message.
func (e *example) commit(t *testing.T, message string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		if err := os.WriteFile(filepath.Join(e.dir, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, e.dir, "add", "-A")
	git(t, e.dir, "commit", "-q", "-m", message)
}

func TestDesiredOfEachEnvironment(t *testing.T) {
	e := newExample(t)
	ctx := context.Background()
	want := map[string]struct {
		tag      string
		replicas int
	}{"dev": {"1.8.0", 1}, "staging": {"1.7.2", 2}, "prod": {"1.7.1", 3}}
	hashes := map[string]string{}
	for env, w := range want {
		d, err := report.ReadDesired(ctx, e.cfg, e.snap(t), "checkout", env)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Deployed || d.Version() != w.tag || len(d.Workloads) != 1 || d.Workloads[0].Replicas == nil || *d.Workloads[0].Replicas != w.replicas {
			t.Errorf("%s: %+v (version %s)", env, d, d.Version())
		}
		if d.Containers[0].Image != "ghcr.io/acme/checkout:"+w.tag {
			t.Errorf("%s image %q", env, d.Containers[0].Image)
		}
		hashes[env] = d.ConfigHash
	}
	if hashes["dev"] == "" || hashes["dev"] == hashes["staging"] || hashes["staging"] == hashes["prod"] {
		t.Errorf("config hashes %v: each env has its own literals", hashes)
	}
	if _, err := report.ReadDesired(ctx, e.cfg, e.snap(t), "nope", "dev"); err == nil || !strings.Contains(err.Error(), "checkout") {
		t.Errorf("unknown service: %v", err)
	}
}

func TestCatalog(t *testing.T) {
	e := newExample(t)
	ctx := context.Background()
	c, err := report.ReadCatalog(ctx, e.snap(t), "apps/checkout/catalog-info.yaml")
	if err != nil || c == nil {
		t.Fatal(c, err)
	}
	if c.Owner != "group:acme/checkout-team" || c.System != "shop" || strings.Join(c.DependsOn, ",") != "component:catalog,component:payments" {
		t.Errorf("catalog %+v", c)
	}
	if c, err := report.ReadCatalog(ctx, e.snap(t), "apps/none/catalog-info.yaml"); c != nil || err != nil {
		t.Errorf("absent: %v %v", c, err)
	}
	e.commit(t, "break it", map[string]string{"apps/checkout/catalog-info.yaml": "kind: Component\nspec: [\n"})
	if _, err := report.ReadCatalog(ctx, e.snap(t), "apps/checkout/catalog-info.yaml"); err == nil || !strings.Contains(err.Error(), "apps/checkout/catalog-info.yaml") {
		t.Errorf("malformed: %v", err)
	}
}

func TestDiffBetweenEnvironments(t *testing.T) {
	e := newExample(t)
	ctx := context.Background()
	d, err := report.Diff(ctx, e.cfg, e.snap(t), "checkout", "staging", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Images) != 1 || d.Images[0].A != "ghcr.io/acme/checkout:1.7.2" || d.Images[0].B != "ghcr.io/acme/checkout:1.7.1" {
		t.Errorf("images %+v", d.Images)
	}
	if len(d.Replicas) != 1 || d.Replicas[0].A != "2" || d.Replicas[0].B != "3" {
		t.Errorf("replicas %+v", d.Replicas)
	}
	var cart bool
	for _, c := range d.Config {
		cart = cart || strings.HasSuffix(c.What, "/CART_TTL") && c.A != "72h" && c.B == "72h"
	}
	if !cart {
		t.Errorf("config %+v", d.Config)
	}
	md := d.Markdown()
	for _, want := range []string{"**staging** and **prod**", "`/promote prod --from staging` carries these", "`ghcr.io/acme/checkout:1.7.2`", "CART_TTL"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if _, err := report.Diff(ctx, e.cfg, e.snap(t), "checkout", "prod", "prod"); err == nil {
		t.Error("an environment with itself")
	}

	// The same overlay in two environments: nothing differs. Secrets are masked.
	dev, _ := os.ReadFile(filepath.Join(e.dir, "apps/checkout/overlays/dev/kustomization.yaml"))
	staging := strings.Replace(string(dev), "namespace: checkout-dev", "namespace: checkout-staging", 1)
	e.commit(t, "same", map[string]string{"apps/checkout/overlays/staging/kustomization.yaml": staging})
	if d, err := report.Diff(ctx, e.cfg, e.snap(t), "checkout", "dev", "staging"); err != nil || !d.Empty() || !strings.Contains(d.Markdown(), "runs the same") {
		t.Errorf("equal: %+v %v", d, err)
	}
	e.commit(t, "secret", map[string]string{"apps/checkout/overlays/staging/kustomization.yaml": strings.Replace(staging, "LOG_LEVEL=debug", "LOG_LEVEL=debug\n  - API_TOKEN=hunter2", 1)})
	d, err = report.Diff(ctx, e.cfg, e.snap(t), "checkout", "dev", "staging")
	if err != nil || len(d.Config) != 1 || strings.Contains(d.Markdown(), "hunter2") || d.Config[0].B != "•••" {
		t.Errorf("secret: %+v %v\n%s", d, err, d.Markdown())
	}
}

func TestHistoryFromTrailers(t *testing.T) {
	e := newExample(t)
	ctx := context.Background()
	kust := func(env string) string {
		b, _ := os.ReadFile(filepath.Join(e.dir, "apps/checkout/overlays", env, "kustomization.yaml"))
		return string(b)
	}
	trailers := func(action, cmd, svc, env, who string) string {
		return "\n\n" + plan.TrailerAction + ": " + action + "\n" + plan.TrailerCommand + ": " + cmd + "\n" + plan.TrailerService + ": " + svc + "\n" + plan.TrailerEnv + ": " + env + "\n" + plan.TrailerRequester + ": " + who
	}
	e.commit(t, "checkout/staging: scale to 4 replicas (#12)"+trailers("scale", "/scale 4 --service checkout --env staging", "checkout", "staging", "alice"),
		map[string]string{"apps/checkout/overlays/staging/kustomization.yaml": strings.Replace(kust("staging"), "count: 2", "count: 4", 1)})
	e.commit(t, "a hand edit, no trailers", map[string]string{"apps/checkout/overlays/staging/kustomization.yaml": kust("staging") + "# note\n"})
	time.Sleep(1100 * time.Millisecond) // git's clock has seconds
	e.commit(t, "checkout/prod: restart (#13)"+trailers("restart", "/restart --env prod", "checkout", "prod", "sam"),
		map[string]string{"apps/checkout/overlays/prod/kustomization.yaml": kust("prod") + "# restarted\n"})
	s := e.snap(t)

	all, err := report.History(ctx, s.History(), e.cfg, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Action != "restart" || all[0].PR != 13 || all[0].Requester != "sam" || all[1].Action != "scale" || all[1].PR != 12 {
		t.Fatalf("history %+v", all)
	}
	if st, _ := report.History(ctx, s.History(), e.cfg, "checkout", "staging", 0); len(st) != 1 || st[0].Env != "staging" {
		t.Errorf("staging only: %+v", st)
	}
	if one, _ := report.History(ctx, s.History(), e.cfg, "", "", 1); len(one) != 1 || one[0].Action != "restart" {
		t.Errorf("limit 1: %+v", one)
	}
	if none, _ := report.History(ctx, s.History(), e.cfg, "payments", "", 0); len(none) != 0 {
		t.Errorf("payments: %+v", none)
	}
	md := report.HistoryMarkdown(all, "https://github.com/acme/gitops")
	for _, want := range []string{"[#13](https://github.com/acme/gitops/pull/13)", "| sam |", "`/scale 4 --service checkout --env staging`"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "@") {
		t.Errorf("history must not mention people:\n%s", md)
	}
	if !strings.Contains(report.HistoryMarkdown(nil, ""), "No day-2 actions") {
		t.Error("empty history")
	}
}

func TestStatusMarkdown(t *testing.T) {
	e := newExample(t)
	ctx := context.Background()
	cat, _ := report.ReadCatalog(ctx, e.snap(t), "apps/checkout/catalog-info.yaml")
	v := report.StatusView{Service: "checkout", Catalog: cat}
	for _, env := range []string{"dev", "staging", "prod"} {
		d, err := report.ReadDesired(ctx, e.cfg, e.snap(t), "checkout", env)
		if err != nil {
			t.Fatal(err)
		}
		v.Envs = append(v.Envs, report.EnvStatus{Env: env, Desired: d})
	}
	md := v.Markdown()
	for _, want := range []string{"owner **acme/checkout-team**", "depends on catalog, payments", "| **prod** | `1.7.1` | 3 |", "```mermaid\nflowchart LR", `e2["prod<br/>1.7.1"]`, "e1 --> e2", "no Argo CD connection"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	v.Envs[2].Live = &report.Live{App: "checkout-prod", Sync: "Synced", Health: "Degraded", Revision: "0123456789abcdef"}
	v.Envs[1].Live = &report.Live{Err: "Argo CD | down"}
	v.Envs[2].OpenPRs = []report.PRRef{{Number: 7, URL: "https://github.com/acme/gitops/pull/7"}}
	md = v.Markdown()
	for _, want := range []string{"💔 Degraded", "`0123456`", "style e2 fill:#fdd", "[#7](https://github.com/acme/gitops/pull/7)", `Argo CD \| down`} {
		if !strings.Contains(md, want) && !strings.Contains(md, strings.ReplaceAll(want, "`", "")) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "no Argo CD connection") {
		t.Error("live state is shown")
	}
}

func TestCatalogTeam(t *testing.T) {
	for _, c := range []struct {
		cat  *report.Catalog
		want string
	}{
		{&report.Catalog{Owner: "group:default/payments", Annotations: map[string]string{report.TeamAnnotation: "acme/payments-team"}}, "acme/payments-team"},
		{&report.Catalog{Owner: "group:default/payments"}, "acme/payments"},
		{&report.Catalog{Owner: "group:payments"}, "acme/payments"},
		{&report.Catalog{Owner: "payments"}, "acme/payments"},
		{&report.Catalog{Owner: "user:default/alice"}, ""},
		{&report.Catalog{Owner: "group:other-ns/payments"}, ""},
		{&report.Catalog{Owner: "group:ACME/payments"}, "acme/payments"},
		{&report.Catalog{Owner: "group:default/payments", Annotations: map[string]string{report.TeamAnnotation: "not-a-team"}}, "acme/payments"},
		{&report.Catalog{}, ""},
		{nil, ""},
	} {
		if got := c.cat.Team("acme"); got != c.want {
			t.Errorf("%+v: Team = %q, want %q", c.cat, got, c.want)
		}
	}
}
