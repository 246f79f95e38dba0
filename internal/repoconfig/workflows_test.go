package repoconfig

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestFindWorkflow(t *testing.T) {
	b, err := os.ReadFile("testdata/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, string(b))

	w, err := c.FindWorkflow("acme/gitops", "web", "prod", "migrate")
	if err != nil {
		t.Fatal(err)
	}
	want := AllowedWorkflow{Workflow: Workflow{Name: "migrate", Repository: "service", Workflow: "migrate.yaml", Ref: "main"}, Repo: "acme/web", From: `service "web"`}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("migrate = %+v", w)
	}
	if w, err := c.FindWorkflow("acme/gitops", "web", "prod", "smoke-test"); err != nil || w.Repo != "acme/gitops" || w.From != `environment "prod"` {
		t.Errorf("smoke-test = %+v, %v", w, err)
	}
	if w, err := c.FindWorkflow("acme/gitops", "", "prod", "load-test"); err != nil || w.Repo != "acme/perf" || w.Workflow.Workflow != "161335" {
		t.Errorf("load-test without a service = %+v, %v", w, err)
	}

	refusals := []struct{ service, env, name, msg string }{
		{"web", "prod", "smoke-tset", `"smoke-tset" is not a workflow that may be run for web in prod (did you mean "smoke-test"?); the ones that may: smoke-test, load-test, migrate`},
		{"worker", "prod", "migrate", `"migrate" is not a workflow that may be run for worker in prod; the ones that may: smoke-test, load-test`},
		{"web", "dev", "smoke-test", `"smoke-test" is not a workflow that may be run for web in dev; the ones that may: migrate`},
		// The service does not deploy to dev, so its workflows do not apply there.
		{"worker", "dev", "x", `no workflow may be run in dev: list the ones people may run under workflows: of the service or the environment in .github/daytwo.yml`},
		{"web", "qa", "x", `there is no environment "qa" in .github/daytwo.yml`},
		{"", "prod", "migrate", `"migrate" is not a workflow that may be run in prod; the ones that may: smoke-test, load-test`},
	}
	for _, r := range refusals {
		_, err := c.FindWorkflow("acme/gitops", r.service, r.env, r.name)
		var wr *WorkflowRefusal
		if !errors.As(err, &wr) || !strings.HasPrefix(wr.Error(), r.msg) {
			t.Errorf("%s/%s/%s: %v, want %q", r.service, r.env, r.name, err, r.msg)
		}
	}
	_, err = c.FindWorkflow("acme/gitops", "web", "prod", "smoke")
	var wr *WorkflowRefusal
	if errors.As(err, &wr); !reflect.DeepEqual(wr.Allowed, []string{"smoke-test", "load-test", "migrate"}) {
		t.Errorf("Allowed = %v", wr.Allowed)
	}
	if got := c.Workflows("web", "staging"); len(got) != 1 || got[0].Name != "migrate" {
		t.Errorf("Workflows(web, staging) = %+v", got)
	}
}

func TestWorkflowFromServiceRepository(t *testing.T) {
	c := mustLoad(t, "version: 1\nenvironments:\n  - name: prod\n    workflows: [{name: smoke, repository: service, workflow: smoke.yml}]\nservices:\n  - name: a\n    repository: acme/a\n  - name: b\n")
	if w, err := c.FindWorkflow("acme/gitops", "a", "prod", "smoke"); err != nil || w.Repo != "acme/a" {
		t.Errorf("a: %+v, %v", w, err)
	}
	for service, msg := range map[string]string{
		"b": `workflow "smoke" runs in the service's repository, and service "b" names none; set its repository: (owner/repo) in .github/daytwo.yml`,
		"":  `workflow "smoke" runs in the service's repository: name the service with --service`,
	} {
		if _, err := c.FindWorkflow("acme/gitops", service, "prod", "smoke"); err == nil || err.Error() != msg {
			t.Errorf("%q: %v", service, err)
		}
	}
}

func TestRunRef(t *testing.T) {
	pinned := AllowedWorkflow{Workflow: Workflow{Name: "migrate", Ref: "main"}, From: `service "web"`}
	for requested, want := range map[string]string{"": "main", "main": "main"} {
		if got, err := pinned.RunRef(requested); err != nil || got != want {
			t.Errorf("pinned RunRef(%q) = %q, %v", requested, got, err)
		}
	}
	if _, err := pinned.RunRef("feature"); err == nil || err.Error() != `workflow "migrate" runs from main only (ref: of its entry under service "web" in .github/daytwo.yml), not from feature` {
		t.Errorf("pinned RunRef(feature) = %v", err)
	}
	free := AllowedWorkflow{Workflow: Workflow{Name: "smoke"}}
	if got, _ := free.RunRef("feature"); got != "feature" {
		t.Errorf("free RunRef = %q", got)
	}
	if got, _ := free.RunRef(""); got != "" {
		t.Errorf("free RunRef() = %q: the default branch", got)
	}
}

func TestWorkflowErrors(t *testing.T) {
	const head = "version: 1\nenvironments:\n  - name: prod\n"
	tests := []struct{ name, src, want string }{
		{"no name", head + "    workflows:\n      - workflow: a.yml\n" + "services: [{name: web}]\n",
			`.github/daytwo.yml line 5: workflows[0] of environment "prod" has no name: give the name people ask for it by`},
		{"bad name", head + "    workflows:\n      - {name: Smoke, workflow: a.yml}\n" + "services: [{name: web}]\n",
			`.github/daytwo.yml line 5: workflow name "Smoke" must be lower-case letters`},
		{"twice", head + "    workflows:\n      - {name: smoke, workflow: a.yml}\n      - {name: smoke, workflow: b.yml}\n" + "services: [{name: web}]\n",
			`.github/daytwo.yml line 6: workflow "smoke" is listed twice in workflows of environment "prod" (first on line 5)`},
		{"no workflow", head + "    workflows:\n      - {name: smoke}\n" + "services: [{name: web}]\n",
			`.github/daytwo.yml line 5: workflow "smoke" of environment "prod" names no workflow: give its file name under .github/workflows (deploy.yml) or its id`},
		{"folder", head + "    workflows:\n      - name: smoke\n        workflow: .github/workflows/smoke.yml\n" + "services: [{name: web}]\n",
			`.github/daytwo.yml line 6: workflow of workflow "smoke" of environment "prod": write the workflow file's name without its folder: "smoke.yml", not ".github/workflows/smoke.yml"`},
		{"bad repository", head + "    workflows:\n      - {name: smoke, workflow: a.yml, repository: perf}\n" + "services: [{name: web}]\n",
			`.github/daytwo.yml line 5: repository of workflow "smoke" of environment "prod" must be "gitops", "service" or "owner/repo", not "perf"`},
		{"bad ref", head + "    workflows:\n      - {name: smoke, workflow: a.yml, ref: a..b}\n" + "services: [{name: web}]\n",
			`.github/daytwo.yml line 5: ref of workflow "smoke" of environment "prod": "a..b" is not a branch or tag name`},
		{"service without repository", head + "services:\n  - name: web\n    workflows:\n      - name: migrate\n        repository: service\n        workflow: m.yml\n",
			`.github/daytwo.yml line 8: workflow "migrate" of service "web" runs in the service's repository, but service "web" names none; set its repository: (owner/repo)`},
		{"clash", head + "    workflows: [{name: smoke, workflow: a.yml}]\nservices:\n  - name: web\n    workflows:\n      - {name: smoke, workflow: b.yml}\n",
			`.github/daytwo.yml line 8: workflow "smoke" of service "web" has the name of a workflow of environment "prod"; rename one, so that a request for "smoke" says which`},
		{"unknown key", head + "    workflows:\n      - {name: smoke, file: a.yml}\n" + "services: [{name: web}]\n",
			`.github/daytwo.yml line 5: unknown key "file" in workflow "smoke" of environment "prod"`},
	}
	for _, tt := range tests {
		_, err := Load([]byte(tt.src), commands)
		if err == nil {
			t.Errorf("%s: loaded", tt.name)
			continue
		}
		ps := problemsOf(t, err)
		if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want) {
			t.Errorf("%s:\n got %v\nwant %q", tt.name, ps, tt.want)
		}
	}
	// A service that does not deploy to the environment may reuse the name.
	mustLoad(t, head+"    workflows: [{name: smoke, workflow: a.yml}]\n  - name: dev\nservices:\n  - name: web\n    environments: [dev]\n    workflows:\n      - {name: smoke, workflow: b.yml}\n")
}
