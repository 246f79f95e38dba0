package repoconfig

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Load([]byte(src), commands)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T: %v", err, err)
	}
	return e.Problems
}

func TestLoadDefaults(t *testing.T) {
	c := mustLoad(t, `
version: 1
environments:
  - name: dev
    autoMerge: true
  - name: prod
services:
  - name: web
`)
	web, _ := c.Service("web")
	want := Service{
		Name:      "web",
		Overlay:   DefaultOverlay,
		ArgoCDApp: DefaultArgoCDApp,
		Catalog:   DefaultCatalog,
		// No workload named: the planner infers it from each environment's render.
	}
	if !reflect.DeepEqual(*web, want) {
		t.Errorf("service = %+v\nwant      %+v", *web, want)
	}
	if got := web.OverlayPath("prod"); got != "apps/web/overlays/prod" {
		t.Errorf("OverlayPath = %q", got)
	}
	if got := web.ArgoCDAppName("dev"); got != "web-dev" {
		t.Errorf("ArgoCDAppName = %q", got)
	}
	if got := web.CatalogPath(); got != "apps/web/catalog-info.yaml" {
		t.Errorf("CatalogPath = %q", got)
	}
	dev, _ := c.Env("dev")
	prod, _ := c.Env("prod")
	if dev.ApprovalRequired() || *dev.RequireApproval {
		t.Error("dev has autoMerge: approval must default to not required")
	}
	if !prod.ApprovalRequired() || !*prod.RequireApproval {
		t.Error("prod without autoMerge must require approval")
	}
	for _, e := range []*Environment{dev, prod} {
		if e.ArgoCD.Timeout != 10*time.Minute {
			t.Errorf("%s argocd timeout = %s, want 10m", e.Name, e.ArgoCD.Timeout)
		}
		if e.Requesters != nil || e.BreakGlass != nil || e.Freeze != nil {
			t.Errorf("%s: nothing else should be filled in: %+v", e.Name, e)
		}
	}
	for cmd, perm := range map[string]string{
		"promote": "write", "restart": "write", "scale": "write", "freeze": "write", "cancel": "write",
		"status": "read", "history": "read", "diff": "read", "help": "read",
	} {
		if got := prod.Allowed(cmd); !reflect.DeepEqual(got, Rule{Permission: perm}) {
			t.Errorf("Allowed(%s) = %+v, want %s", cmd, got, perm)
		}
	}
	if _, frozen := c.Frozen("prod"); frozen {
		t.Error("prod is not frozen")
	}
	wantDefaults := ServiceDefaults{
		Overlay: DefaultOverlay, ArgoCDApp: DefaultArgoCDApp, Catalog: DefaultCatalog,
		ArgoCD: EnvArgoCD{Timeout: 10 * time.Minute},
	}
	if !reflect.DeepEqual(c.Defaults, wantDefaults) {
		t.Errorf("defaults = %+v\nwant       %+v", c.Defaults, wantDefaults)
	}
}

// TestLoadLeavesInferenceOpen: what a service does not name stays empty for the planner to
// infer, a workload named in part keeps the other part open, and images load in order.
func TestLoadLeavesInferenceOpen(t *testing.T) {
	c := mustLoad(t, `
version: 1
environments: [{name: dev}, {name: prod}]
defaults:
  workload: {kind: StatefulSet}
services:
  - name: ledger
  - name: payments
    workload: {name: "{service}-api"}
    image: ghcr.io/acme/payments-api
    images: [ghcr.io/acme/payments-api, docker.io/library/redis, nginx]
`)
	ledger, _ := c.Service("ledger")
	payments, _ := c.Service("payments")
	if ledger.Workload != (Workload{Kind: "StatefulSet"}) || ledger.Container != "" || ledger.ConfigMap != "" || len(ledger.Images) != 0 {
		t.Errorf("ledger = %+v: only the kind the defaults give may be filled", ledger)
	}
	if payments.Workload != (Workload{Kind: "StatefulSet", Name: "payments-api"}) {
		t.Errorf("payments workload = %+v", payments.Workload)
	}
	if strings.Join(payments.Images, " ") != "ghcr.io/acme/payments-api docker.io/library/redis nginx" {
		t.Errorf("payments images = %v", payments.Images)
	}
}

func TestLoadFull(t *testing.T) {
	b, err := os.ReadFile("testdata/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, string(b))

	dev, _ := c.Env("dev")
	staging, _ := c.Env("staging")
	prod, _ := c.Env("prod")

	// File defaults replace the built-in ones.
	web, _ := c.Service("web")
	if got := web.OverlayPath("prod"); got != "deploy/web/prod" {
		t.Errorf("web overlay = %q", got)
	}
	if got := web.ArgoCDAppName("prod"); got != "prod-web" {
		t.Errorf("web app = %q", got)
	}
	if got := web.CatalogPath(); got != "catalog/web.yaml" {
		t.Errorf("web catalog = %q", got)
	}
	if web.Workload != (Workload{Kind: "Rollout", Name: "web-app"}) {
		t.Errorf("web workload = %+v", web.Workload)
	}
	// A service's own values win over defaults.
	worker, _ := c.Service("worker")
	if worker.OverlayPath("staging") != "workers/staging" || worker.ArgoCDAppName("prod") != "argocd/worker-prod" ||
		worker.CatalogPath() != "workers/catalog-info.yaml" || worker.Workload != (Workload{Kind: "StatefulSet", Name: "worker"}) {
		t.Errorf("worker = %+v", worker)
	}
	if worker.Deploys("dev") || !worker.Deploys("prod") || !web.Deploys("dev") {
		t.Error("Deploys ignores environments:")
	}

	// Timeouts: the env's own, else defaults.argocd.timeout.
	if dev.ArgoCD.Timeout != 90*time.Second || staging.ArgoCD.Timeout != 20*time.Minute || prod.ArgoCD.Timeout != time.Hour {
		t.Errorf("timeouts dev %s staging %s prod %s", dev.ArgoCD.Timeout, staging.ArgoCD.Timeout, prod.ArgoCD.Timeout)
	}
	if !dev.ArgoCD.Sync || staging.ArgoCD.Sync {
		t.Error("argocd.sync")
	}

	// dev lists no requesters: the defaults apply, then the built-in rules.
	checks := []struct {
		env  *Environment
		cmd  string
		want Rule
	}{
		{dev, "config", Rule{Permission: "maintain"}},
		{dev, "redeploy", Rule{Teams: []string{"acme/platform"}}},
		{dev, "scale", Rule{Permission: "write"}},
		{dev, "status", Rule{Permission: "read"}},
		// staging's "*" shuts the defaults out.
		{staging, "config", Rule{Permission: "write"}},
		{staging, "status", Rule{Permission: "read"}},
		// prod merges staging's anchor and overrides "*"; an empty rule means write.
		{prod, "status", Rule{Permission: "read"}},
		{prod, "promote", Rule{Permission: "maintain"}},
		{prod, "help", Rule{Permission: "maintain"}},
		{prod, "scale", Rule{Teams: []string{"acme/sre"}, Users: []string{"alice"}}},
		{prod, "rollback", Rule{Permission: "write"}},
	}
	for _, ch := range checks {
		if got := ch.env.Allowed(ch.cmd); !reflect.DeepEqual(got, ch.want) {
			t.Errorf("%s Allowed(%s) = %+v, want %+v", ch.env.Name, ch.cmd, got, ch.want)
		}
	}
	if prod.BreakGlass == nil || !reflect.DeepEqual(prod.BreakGlass.Teams, []string{"acme/sre"}) {
		t.Errorf("breakGlass = %+v", prod.BreakGlass)
	}
	if dev.BreakGlass != nil {
		t.Error("dev has no breakGlass")
	}
	f, frozen := c.Frozen("prod")
	if !frozen || f.Reason != "release week" || f.By != "bob" || !f.Since.Equal(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)) || f.Since.Location() != time.UTC {
		t.Errorf("freeze = %+v %v", f, frozen)
	}
	if _, frozen := c.Frozen("nowhere"); frozen {
		t.Error("unknown env is not frozen")
	}
	if prod.Replicas != (Bounds{Min: 2, Max: 20}) || dev.Replicas != (Bounds{Max: 3}) {
		t.Error("replicas")
	}
	if c.Previous("prod") != "staging" || c.Previous("dev") != "" {
		t.Error("Previous")
	}
}

// TestLoadErrors checks the message and line of every problem Load reports.
func TestLoadErrors(t *testing.T) {
	const head = "version: 1\n"
	const envs = "environments:\n  - name: dev\n  - name: prod\n" // lines 2-4 after head
	const svc = "services:\n  - name: web\n"
	tests := []struct {
		name string
		src  string
		want []string // Problem.String() of each problem, in order
	}{
		{"unknown key with suggestion", head + "environments:\n  - name: dev\n  - name: prod\n    replica:\n      max: 3\n" + svc,
			[]string{`.github/daytwo.yml line 5: unknown key "replica" in environment "prod" (did you mean "replicas"?)`}},
		{"unknown key case only", head + "environments:\n  - name: dev\n    automerge: true\n" + svc,
			[]string{`.github/daytwo.yml line 4: unknown key "automerge" in environment "dev" (did you mean "autoMerge"?)`}},
		{"unknown top-level key", head + "environment:\n  - name: dev\n" + svc,
			[]string{`.github/daytwo.yml line 2: unknown key "environment" at the top level (did you mean "environments"?)`}},
		{"unknown key without suggestion", head + envs + svc + "colour: blue\n",
			[]string{`.github/daytwo.yml line 7: unknown key "colour" at the top level`}},
		{"unknown nested key", head + "environments:\n  - name: prod\n    replicas:\n      mni: 1\n" + svc,
			[]string{`.github/daytwo.yml line 5: unknown key "mni" in replicas of environment "prod" (did you mean "min"?)`}},
		{"unknown key in service workload", head + envs + "services:\n  - name: web\n    workload:\n      knd: Deployment\n",
			[]string{`.github/daytwo.yml line 8: unknown key "knd" in workload of service "web" (did you mean "kind"?)`}},
		{"unknown key in defaults", head + envs + svc + "defaults:\n  overlays: x/{env}\n",
			[]string{`.github/daytwo.yml line 8: unknown key "overlays" in defaults (did you mean "overlay"?)`}},
		{"unknown key in unnamed element", head + "environments:\n  - autoMerge: true\n    nmae: dev\n" + svc,
			[]string{`.github/daytwo.yml line 4: unknown key "nmae" in environments[0] (did you mean "name"?)`}},
		{"unknown merged key", head + "environments:\n  - name: dev\n    <<: {bogus: 1}\n" + svc,
			[]string{`.github/daytwo.yml line 4: unknown key "bogus" in environment "dev"`}},
		{"duplicate key", head + "environments:\n  - name: dev\n    autoMerge: true\n    autoMerge: false\n" + svc,
			[]string{`.github/daytwo.yml line 5: key "autoMerge" appears twice in environment "dev" (first on line 4)`}},
		{"not an integer", head + "environments:\n  - name: dev\n    replicas: {max: three}\n" + svc,
			[]string{`.github/daytwo.yml line 4: replicas.max of environment "dev" must be a whole number, not "three"`}},
		{"quoted bool", head + "environments:\n  - name: dev\n    autoMerge: \"yes\"\n" + svc,
			[]string{`.github/daytwo.yml line 4: autoMerge of environment "dev" must be true or false, not "yes"`}},
		{"list expected", head + "environments: dev\n" + svc,
			[]string{`.github/daytwo.yml line 2: environments must be a list, not "dev"`}},
		{"mapping expected", head + "environments:\n  - dev\n" + svc,
			[]string{`.github/daytwo.yml line 3: environments[0] must be a mapping of keys, not "dev"`}},
		{"text expected", head + "environments:\n  - name: [dev]\n" + svc,
			[]string{`.github/daytwo.yml line 3: name of environments[0] must be text, not a list`}},
		{"duration without unit", head + "environments:\n  - name: dev\n    argocd: {timeout: 600}\n" + svc,
			[]string{`.github/daytwo.yml line 4: argocd.timeout of environment "dev" must be a duration such as "10m" or "1h30m", not "600" (a number needs a unit: s, m or h)`}},
		{"bad time", head + "environments:\n  - name: dev\n    freeze: {since: yesterday}\n" + svc,
			[]string{`.github/daytwo.yml line 4: freeze.since of environment "dev" must be a time such as 2026-01-31T15:04:05Z, not "yesterday"`}},
		{"freeze as bool", head + "environments:\n  - name: dev\n    freeze: true\n" + svc,
			[]string{`.github/daytwo.yml line 4: freeze of environment "dev" must be a mapping of keys, not "true"`}},
		{"version missing", envs + svc,
			[]string{`.github/daytwo.yml line 1: version is missing; start the file with "version: 1"`}},
		{"version 2", "version: 2\n" + envs + svc,
			[]string{`.github/daytwo.yml line 1: unsupported version 2; this daytwo reads version 1`}},
		{"no environments", head + "environments: []\n" + svc,
			[]string{`.github/daytwo.yml line 2: environments lists no environment; at least one is required`}},
		{"no services", head + envs,
			[]string{`.github/daytwo.yml line 1: services lists no service; at least one is required`}},
		{"env name not a DNS label", head + "environments:\n  - name: Prod\n" + svc,
			[]string{`.github/daytwo.yml line 3: environment name "Prod" must be a DNS label: ` + dnsLabelRule}},
		{"env without name", head + "environments:\n  - autoMerge: true\n" + svc,
			[]string{`.github/daytwo.yml line 3: environments[0] has no name`}},
		{"env defined twice", head + "environments:\n  - name: dev\n  - name: prod\n  - name: dev\n" + svc,
			[]string{`.github/daytwo.yml line 5: environment "dev" is defined twice (first on line 3)`}},
		{"service defined twice", head + envs + "services:\n  - name: web\n  - name: web\n",
			[]string{`.github/daytwo.yml line 7: service "web" is defined twice (first on line 6)`}},
		{"service name invalid", head + envs + "services:\n  - name: web_api\n",
			[]string{`.github/daytwo.yml line 6: service name "web_api" must be a DNS label: ` + dnsLabelRule}},
		{"unknown placeholder", head + envs + "services:\n  - name: web\n    overlay: apps/{svc}/{env}\n",
			[]string{`.github/daytwo.yml line 7: overlay of service "web" uses {svc}; it may use only {service} and {env}`}},
		{"catalog takes no env", head + envs + svc + "defaults:\n  catalog: c/{env}/{service}.yaml\n",
			[]string{`.github/daytwo.yml line 8: defaults.catalog uses {env}; it may use only {service}`}},
		{"unmatched brace", head + envs + svc + "defaults:\n  argocdApp: \"{service-{env}\"\n",
			[]string{`.github/daytwo.yml line 8: defaults.argocdApp "{service-{env}" has an unmatched brace`}},
		{"absolute overlay", head + envs + "services:\n  - name: web\n    overlay: /apps/{service}/{env}\n",
			[]string{`.github/daytwo.yml line 7: overlay of service "web" "/apps/{service}/{env}" must be relative to the repository root, not absolute`}},
		{"overlay leaves the repo", head + envs + "services:\n  - name: web\n    overlay: ../{service}/{env}\n",
			[]string{`.github/daytwo.yml line 7: overlay of service "web" "../{service}/{env}" must stay inside the repository (no ..)`}},
		{"unclean overlay", head + envs + "services:\n  - name: web\n    overlay: ./apps//{service}/{env}/\n",
			[]string{`.github/daytwo.yml line 7: overlay of service "web" "./apps//{service}/{env}/" is not a clean path; write "apps/{service}/{env}"`}},
		{"backslash overlay", head + envs + "services:\n  - name: web\n    overlay: 'apps\\{service}\\{env}'\n",
			[]string{`.github/daytwo.yml line 7: overlay of service "web" "apps\\{service}\\{env}" must separate directories with /`}},
		{"unknown permission", head + "environments:\n  - name: prod\n    requesters:\n      scale: {permission: writer}\n" + svc,
			[]string{`.github/daytwo.yml line 5: requesters.scale.permission of environment "prod" must be one of read, triage, write, maintain, admin, not "writer" (did you mean "write"?)`}},
		{"team with @", head + "environments:\n  - name: prod\n    breakGlass:\n      teams:\n        - \"@acme/sre\"\n" + svc,
			[]string{`.github/daytwo.yml line 6: breakGlass.teams[0] of environment "prod": write team "@acme/sre" without the @, as "acme/sre"`}},
		{"team without org", head + "environments:\n  - name: prod\n    breakGlass: {teams: [sre]}\n" + svc,
			[]string{`.github/daytwo.yml line 4: breakGlass.teams[0] of environment "prod": team "sre" must be written "org/team-slug", e.g. "acme/sre"`}},
		{"user with @", head + envs + svc + "defaults:\n  requesters:\n    help: {users: ['@alice']}\n",
			[]string{`.github/daytwo.yml line 9: defaults.requesters.help.users[0]: write user "@alice" without the @, as "alice"`}},
		{"unknown command", head + "environments:\n  - name: prod\n    requesters:\n      scael: {permission: admin}\n" + svc,
			[]string{`.github/daytwo.yml line 5: unknown command "scael" in requesters of environment "prod" (did you mean "scale"?)`}},
		{"min above max", head + "environments:\n  - name: prod\n    replicas:\n      min: 5\n      max: 3\n" + svc,
			[]string{`.github/daytwo.yml line 5: replicas of environment "prod": min 5 is above max 3`}},
		{"negative replicas", head + "environments:\n  - name: prod\n    replicas: {min: -1}\n" + svc,
			[]string{`.github/daytwo.yml line 4: replicas of environment "prod": replica bounds cannot be negative (min -1, max 0)`}},
		{"absurd replicas", head + "environments:\n  - name: prod\n    replicas: {max: 1000000}\n" + svc,
			[]string{`.github/daytwo.yml line 4: replicas of environment "prod": replica bounds above 10000 are not supported (min 0, max 1000000)`}},
		{"zero timeout", head + "environments:\n  - name: prod\n    argocd:\n      timeout: 0s\n" + svc,
			[]string{`.github/daytwo.yml line 5: argocd.timeout of environment "prod" must be between 1s and 24h, not 0s`}},
		{"long timeout", head + envs + svc + "defaults:\n  argocd: {timeout: 48h}\n",
			[]string{`.github/daytwo.yml line 8: defaults.argocd.timeout must be between 1s and 24h, not 48h0m0s`}},
		{"workload kind", head + envs + "services:\n  - name: web\n    workload: {kind: deployment}\n",
			[]string{`.github/daytwo.yml line 7: workload.kind of service "web" must be one of Deployment, StatefulSet, DaemonSet, Rollout, not "deployment" (did you mean "Deployment"?)`}},
		{"workload name", head + envs + "services:\n  - name: web\n    workload: {name: Web_API}\n",
			[]string{`.github/daytwo.yml line 7: workload.name of service "web" "Web_API" is not a Kubernetes object name (lower-case letters, digits, '-' and '.')`}},
		{"workload name takes no env", head + envs + "services:\n  - name: web\n    workload: {name: \"{service}-{env}\"}\n",
			[]string{`.github/daytwo.yml line 7: workload.name of service "web" uses {env}; it may use only {service}`}},
		{"unknown service environment", head + "environments:\n  - name: dev\n  - name: staging\n" + "services:\n  - name: web\n    environments: [dev, stagin]\n",
			[]string{`.github/daytwo.yml line 7: service "web" names environment "stagin", which environments does not define (did you mean "staging"?)`}},
		{"service environment twice", head + envs + "services:\n  - name: web\n    environments:\n      - dev\n      - dev\n",
			[]string{`.github/daytwo.yml line 9: service "web" lists environment "dev" twice`}},
		{"image with tag", head + envs + "services:\n  - name: web\n    image: ghcr.io/acme/web:1.2.3\n",
			[]string{`.github/daytwo.yml line 7: image of service "web" "ghcr.io/acme/web:1.2.3" must be the image name as in the kustomization's images[].name, without tag or digest`}},
		{"image not a reference", head + envs + "services:\n  - name: web\n    image: ghcr.io/Acme/web\n",
			[]string{`.github/daytwo.yml line 7: image of service "web" "ghcr.io/Acme/web" is not an image name: invalid reference format: repository name (Acme/web) must be lowercase`}},
		{"images with digest", head + envs + "services:\n  - name: web\n    images:\n      - ghcr.io/acme/api\n      - ghcr.io/acme/worker@sha256:" + strings.Repeat("a", 64) + "\n",
			[]string{`.github/daytwo.yml line 9: images[1] of service "web" "ghcr.io/acme/worker@sha256:` + strings.Repeat("a", 64) + `" must be the image name as in the kustomization's images[].name, without tag or digest`}},
		{"images twice", head + envs + "services:\n  - name: web\n    images: [ghcr.io/acme/api, ghcr.io/acme/api]\n",
			[]string{`.github/daytwo.yml line 7: service "web" lists image "ghcr.io/acme/api" twice`}},
		{"container name", head + envs + "services:\n  - name: web\n    container: Web\n",
			[]string{`.github/daytwo.yml line 7: container of service "web" "Web" is not a container name (` + dnsLabelRule + `)`}},
		{"configMap name", head + envs + "services:\n  - name: web\n    configMap: web config\n",
			[]string{`.github/daytwo.yml line 7: configMap of service "web" "web config" is not a ConfigMap name (lower-case letters, digits, '-' and '.')`}},
		{"repository", head + envs + "services:\n  - name: web\n    repository: https://github.com/acme/web\n",
			[]string{`.github/daytwo.yml line 7: repository of service "web" must be "owner/repo", not "https://github.com/acme/web"`}},
		{"freeze by", head + "environments:\n  - name: prod\n    freeze: {by: alice smith}\n" + svc,
			[]string{`.github/daytwo.yml line 4: freeze.by of environment "prod": "alice smith" is not a GitHub login`}},
		{"overlay shared across envs", head + envs + "services:\n  - name: web\n    overlay: apps/{service}\n",
			[]string{`.github/daytwo.yml line 7: service "web" has the same overlay "apps/web" in dev and prod; put {env} in the overlay template`}},
		{"overlay shared across services", head + envs + "defaults:\n  overlay: overlays/{env}\nservices:\n  - name: web\n  - name: api\n",
			[]string{`.github/daytwo.yml line 6: services "web" and "api" share the overlay "overlays/dev" in dev; put {service} in the overlay template`}},
		{"argo app name", head + envs + "services:\n  - name: web\n    argocdApp: \"{service}_{env}\"\n",
			[]string{`.github/daytwo.yml line 7: service "web" gives the Argo CD application name "web_dev" in dev, which is not a valid name (lower-case letters, digits, '-' and '.', optionally after "namespace/")`}},
		{"several problems in line order", head + "environments:\n  - name: Dev\n    replicas: {min: 3, max: 1}\n" + "services:\n  - name: web\n    image: a b\n",
			[]string{
				`.github/daytwo.yml line 3: environment name "Dev" must be a DNS label: ` + dnsLabelRule,
				`.github/daytwo.yml line 4: replicas of environment "Dev": min 3 is above max 1`,
				`.github/daytwo.yml line 7: image of service "web" "a b" must not contain spaces`,
			}},
		{"empty file", "", []string{`.github/daytwo.yml: the file is empty; it needs version: 1, environments and services`}},
		{"comments only", "# nothing\n", []string{`.github/daytwo.yml: the file is empty; it needs version: 1, environments and services`}},
		{"null document", "~\n", []string{`.github/daytwo.yml: the file is empty; it needs version: 1, environments and services`}},
		{"top level list", "- a\n", []string{`.github/daytwo.yml line 1: the file must be a mapping of keys, not a list`}},
		{"syntax error", head + "environments:\n  - name: dev\n    key: value: other\n", []string{`.github/daytwo.yml line 4: invalid YAML: mapping values are not allowed in this context`}},
		{"two documents", head + envs + svc + "---\nversion: 1\n", []string{`.github/daytwo.yml line 7: a second YAML document starts here; the file must hold one`}},
		{"merge of a scalar", head + "environments:\n  - name: dev\n    <<: 3\n" + svc,
			[]string{`.github/daytwo.yml line 4: the << merge key in environment "dev" takes a mapping or a list of mappings, not "3"`}},
		{"merge of itself", head + "environments:\n  - name: dev\n    requesters: &r\n      <<: *r\n" + svc,
			[]string{`.github/daytwo.yml line 5: the alias *r is used inside the value it names`}},
		{"list containing itself", head + "environments: &e\n  - name: dev\n  - *e\n" + svc,
			[]string{`.github/daytwo.yml line 4: the alias *e is used inside the value it names`}},
		{"non-text key", head + "environments:\n  - name: dev\n    [a]: 1\n" + svc,
			[]string{`.github/daytwo.yml line 4: keys in environment "dev" must be plain text, not a list`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load([]byte(tt.src), commands)
			if err == nil {
				t.Fatalf("Load accepted:\n%s\n%+v", tt.src, c)
			}
			var got []string
			for _, p := range problemsOf(t, err) {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestLoadSizeBound(t *testing.T) {
	big := "version: 1\n# " + strings.Repeat("x", MaxFileSize) + "\n"
	_, err := Load([]byte(big), commands)
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Line != 0 || !strings.Contains(ps[0].Message, "at most 256 KiB") {
		t.Errorf("problems = %v", ps)
	}
	if _, err := SetFreeze([]byte(big), "prod", nil); err == nil {
		t.Error("SetFreeze accepted an oversized file")
	}
}

// TestLoadAliasBound: nested aliases that would expand to 10^9 values are refused fast.
func TestLoadAliasBound(t *testing.T) {
	src := `version: 1
x-a: &a {"*": {}}
x-b: &b {<<: [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]}
x-c: &c {<<: [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]}
x-d: &d {<<: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]}
x-e: &e {<<: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]}
x-f: &f {<<: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]}
x-g: &g {<<: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]}
x-h: &h {<<: [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]}
environments:
  - name: dev
    requesters: *h
services:
  - name: web
`
	start := time.Now()
	_, err := Load([]byte(src), commands)
	if time.Since(start) > 2*time.Second {
		t.Errorf("Load took %s", time.Since(start))
	}
	ps := problemsOf(t, err)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "expands to more than 50000 values") {
		t.Errorf("problems = %v", ps)
	}
}

// TestLoadAliasesAndMerges: anchors under x- keys, merge keys whose own keys win.
func TestLoadAliasesAndMerges(t *testing.T) {
	c := mustLoad(t, `version: 1
x-policy: &strict
  requesters: {"*": {permission: admin}}
  replicas: {min: 1, max: 4}
environments:
  - name: dev
  - name: prod
    <<: *strict
    replicas: {min: 2}
  - name: dr
    <<: [{autoMerge: true, replicas: {max: 9}}, *strict]
services:
  - name: web
`)
	prod, _ := c.Env("prod")
	dr, _ := c.Env("dr")
	if got := prod.Allowed("promote"); got.Permission != "admin" {
		t.Errorf("prod promote rule = %+v", got)
	}
	if prod.Replicas != (Bounds{Min: 2}) {
		t.Errorf("prod replicas = %+v, want the own value, not merged into", prod.Replicas)
	}
	if !dr.AutoMerge || dr.Replicas != (Bounds{Max: 9}) || dr.Allowed("scale").Permission != "admin" {
		t.Errorf("dr = %+v; earlier mappings of a merge list win", dr)
	}
}

func TestErrorTruncates(t *testing.T) {
	var src strings.Builder
	src.WriteString("version: 1\nenvironments:\n")
	for i := 0; i < 30; i++ {
		src.WriteString("  - name: Bad\n")
	}
	src.WriteString("services:\n  - name: web\n")
	_, err := Load([]byte(src.String()), commands)
	ps := problemsOf(t, err)
	if len(ps) != 30 {
		t.Fatalf("%d problems, want 30 (one per bad name)", len(ps))
	}
	msg := err.Error()
	if n := strings.Count(msg, "\n"); n != maxReported {
		t.Errorf("Error() has %d lines, want %d reported plus a count", n+1, maxReported)
	}
	if !strings.HasSuffix(msg, "… and 10 more problems") {
		t.Errorf("Error() ends %q", msg[len(msg)-40:])
	}
}
