package ops_test

import (
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// The workflows of the /run tests: e2e has inputs of three types, one required; smoke
// takes none; lint cannot be run by hand; migrate is in the service's repository.
const (
	e2eYML = `name: End to end
on:
  push:
    branches: [main]
  workflow_dispatch:
    inputs:
      suite:
        description: Which suite to run
        type: choice
        options: [api, ui, all]
        default: api
      verbose:
        type: boolean
        default: false
      target:
        description: The base URL to test
        required: true
        type: string
jobs:
  e2e:
    runs-on: ubuntu-latest
    steps:
      - run: ./e2e --suite ${{ inputs.suite }} ${{ inputs.target }}
`
	smokeYML   = "name: Smoke\non: workflow_dispatch\njobs:\n  smoke:\n    runs-on: ubuntu-latest\n    steps:\n      - run: ./smoke\n"
	lintYML    = "name: Lint\non: [push, pull_request]\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make lint\n"
	migrateYML = `name: Migrate
on:
  workflow_dispatch:
    inputs:
      dry_run:
        type: boolean
        default: true
jobs:
  migrate:
    runs-on: ubuntu-latest
    steps:
      - run: ./migrate --dry-run=${{ inputs.dry_run }}
`
)

// newRunWorld is the example GitOps repository with workflows people may run: e2e and lint
// in staging, smoke-test in prod, and checkout's migrate in acme/checkout (which points at
// the GitOps repository). The test GitHub sends its workflow_run webhooks to daytwo.
func newRunWorld(t *testing.T, opts ...apptest.Option) (*world, *githubtest.Repo) {
	t.Helper()
	w := newWorld(t, opts...)
	w.GH.SetWebhookURL(w.Hook())
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	for _, edit := range [][2]string{
		{"    promoteConfig: true   # ConfigMap literals travel with /promote staging\n",
			"    workflows:\n      - name: e2e\n        workflow: e2e.yml\n      - name: lint\n        workflow: lint.yml\n"},
		{"      timeout: 15m\n", "    workflows:\n      - name: smoke-test\n        workflow: smoke.yml\n"},
		{"    configMap: checkout-config\n", "    workflows:\n      - name: migrate\n        repository: service\n        workflow: migrate.yml\n        ref: main\n"},
	} {
		if !strings.Contains(cfg, edit[0]) {
			t.Fatalf("the example config lacks %q", edit[0])
		}
		cfg = strings.Replace(cfg, edit[0], edit[0]+edit[1], 1)
	}
	w.repo.Commit("main", "workflows people may run", map[string]string{
		".github/daytwo.yml":          cfg,
		".github/workflows/e2e.yml":   e2eYML,
		".github/workflows/smoke.yml": smokeYML,
		".github/workflows/lint.yml":  lintYML,
		".github/workflows/README.md": "not a workflow\n",
	})
	svc := w.GH.CreateRepo("acme", "checkout")
	svc.Commit("main", "a migration workflow", map[string]string{
		".github/daytwo.yml":            "gitops: acme/gitops\n",
		".github/workflows/migrate.yml": migrateYML,
	})
	svc.SetPermission("alice", githubtest.RoleWrite)
	return w, svc
}

// settle waits for the webhooks the test GitHub sends on its own (a run's requested) and
// for daytwo to have handled them.
func (w *world) settle(t *testing.T) {
	t.Helper()
	w.GH.WaitRedeliveries()
	w.Quiet(t)
}

// advance moves a run and waits for daytwo to have handled its webhook.
func (w *world) advance(t *testing.T, repo *githubtest.Repo, id int64, status, conclusion string) {
	t.Helper()
	if d := repo.AdvanceRun(id, status, conclusion); len(d) != 1 || !d[0].Succeeded() {
		t.Fatalf("AdvanceRun(%s): deliveries %+v", status, d)
	}
	w.Quiet(t)
}

var (
	runIDRE    = regexp.MustCompile(`/actions/runs/\d+|"id":\d+`)
	clockRE    = regexp.MustCompile(`\d\d:\d\d:\d\d UTC`)
	durationRE = regexp.MustCompile(`(succeeded in|after) (\d+h)?(\d+m)?\d+(\.\d+)?(ms|µs|s)`)
)

// runGolden compares the status comment on issue n, in thread repo, with
// testdata/status/<name>.md: run ids, clock times and durations replaced.
func (w *world) runGolden(t *testing.T, name string, n int, mentions ...string) {
	t.Helper()
	st := w.shown(t, n)
	st = runIDRE.ReplaceAllStringFunc(st, func(s string) string {
		if strings.HasPrefix(s, `"id"`) {
			return `"id":RUN_ID`
		}
		return "/actions/runs/RUN_ID"
	})
	st = clockRE.ReplaceAllString(st, "HH:MM:SS UTC")
	st = durationRE.ReplaceAllString(st, "$1 DURATION")
	mdtest.Golden(t, filepath.Join("testdata", "status", name+".md"), st, *update)
	mdtest.Policy{Mentions: mentions, Comments: true}.AssertSafe(t, st)
}

func onlyRun(t *testing.T, repo *githubtest.Repo) githubtest.WorkflowRun {
	t.Helper()
	runs := repo.Runs()
	if len(runs) != 1 {
		t.Fatalf("want one run in %s, got %+v", repo.FullName(), runs)
	}
	return runs[0]
}

// An allowed workflow runs with the inputs given (GitHub fills the defaults of the others),
// and the status comment follows the run through its workflow_run webhooks to its end.
func TestRunDispatchesAndFollowsTheRun(t *testing.T) {
	w, _ := newRunWorld(t)
	n := w.ask(t, "alice", "/run e2e target=https://shop.test suite=ui --service checkout --env staging")
	w.settle(t)

	run := onlyRun(t, w.repo)
	if d := w.repo.Dispatches(); len(d) != 1 || d[0].Ref != "main" || d[0].Workflow != "e2e.yml" || len(d[0].Inputs) != 2 ||
		d[0].Inputs["target"] != "https://shop.test" || d[0].Inputs["suite"] != "ui" {
		t.Errorf("dispatches %+v", d)
	}
	if run.Inputs["verbose"] != "false" || run.Actor != w.GH.BotLogin() || run.Event != "workflow_dispatch" {
		t.Errorf("run %+v", run)
	}
	m := w.mark(t, n)
	want := githubapi.RunMark{Repo: "acme/gitops", ID: run.ID, Workflow: "e2e", File: "e2e.yml", Ref: "main",
		Inputs:  map[string]string{"suite": "ui", "verbose": "false", "target": "https://shop.test"},
		Service: "checkout", Env: "staging", By: "alice", Status: "queued"}
	if m.State != githubapi.StateRunning || m.Run == nil || !sameRunMark(*m.Run, want) {
		t.Fatalf("mark %+v run %+v", m, m.Run)
	}
	w.runGolden(t, "run-queued", n, "alice")

	w.advance(t, w.repo, run.ID, "in_progress", "")
	if m := w.mark(t, n); m.State != githubapi.StateRunning || m.Run.Status != "in_progress" || !strings.Contains(w.status(t, n), "in progress since") {
		t.Fatalf("in progress: %+v\n%s", m.Run, w.status(t, n))
	}
	w.advance(t, w.repo, run.ID, "completed", "success")
	if m := w.mark(t, n); m.State != githubapi.StateCompleted || m.Run.Status != "completed" || m.Run.Conclusion != "success" {
		t.Fatalf("completed: %+v", m.Run)
	}
	w.runGolden(t, "run-succeeded", n, "alice")

	// A webhook delivered again, or late, does not move the status back.
	before := w.status(t, n)
	w.Send(t, "workflow_run", githubtest.EditPayload(w.repo.WorkflowRunPayload(run.ID, "in_progress")).
		Set("workflow_run.status", "in_progress").Set("workflow_run.conclusion", nil).Installation(w.installation(t)).MustBytes())
	w.Quiet(t)
	if w.status(t, n) != before {
		t.Errorf("a late in_progress changed the status:\n%s", w.status(t, n))
	}

	// A failing run says so, and where to look.
	n = w.ask(t, "alice", "/run e2e target=https://shop.test --service checkout --env staging")
	w.settle(t)
	runs := w.repo.Runs()
	w.advance(t, w.repo, runs[1].ID, "completed", "failure")
	if m := w.mark(t, n); m.State != githubapi.StateCompleted || m.Run.Conclusion != "failure" || m.Run.ID != runs[1].ID {
		t.Fatalf("failed run: %+v", m.Run)
	}
	w.runGolden(t, "run-failed", n, "alice")

	// The same comment delivered again starts nothing more.
	id := w.repo.Comments(n)[0].ID
	w.Send(t, "issue_comment", w.repo.IssueCommentPayload(id))
	w.settle(t)
	if got := len(w.repo.Runs()); got != 2 {
		t.Errorf("a repeated request started another run: %d runs", got)
	}
}

func sameRunMark(a, b githubapi.RunMark) bool { return reflect.DeepEqual(a, b) }

// installation is the id of the installation on acme.
func (w *world) installation(t *testing.T) int64 {
	t.Helper()
	var id int64
	for _, r := range w.GH.Requests() {
		id = max(id, r.Installation)
	}
	if id == 0 {
		t.Fatal("no installation request logged")
	}
	return id
}

// A workflow in the service's repository runs from the ref the config pins, with its
// defaults; a daytwo that restarted meanwhile finds the run's status by its mark.
func TestRunInServiceRepositoryAcrossRestart(t *testing.T) {
	w, svc := newRunWorld(t)
	n := w.ask(t, "alice", "/run migrate --service checkout --env staging")
	w.settle(t)
	run := onlyRun(t, svc)
	if d := svc.Dispatches(); len(d) != 1 || d[0].Ref != "main" || len(d[0].Inputs) != 0 || run.Inputs["dry_run"] != "true" {
		t.Errorf("dispatch %+v, run %+v", d, run)
	}
	if len(w.repo.Runs()) != 0 {
		t.Error("a run started in the GitOps repository")
	}
	st := w.status(t, n)
	if !strings.Contains(st, "`dry_run=true` (default)") || !strings.Contains(st, "`migrate.yml` of acme/checkout at `main`") || strings.Contains(st, "⚠️") {
		t.Errorf("status:\n%s", st)
	}
	if m := w.mark(t, n); m.Run == nil || m.Run.Repo != "acme/checkout" || m.Run.ID != run.ID {
		t.Fatalf("mark %+v", m.Run)
	}

	w.Restart(t)
	w.GH.SetWebhookURL(w.Hook())
	w.advance(t, svc, run.ID, "in_progress", "")
	w.advance(t, svc, run.ID, "completed", "success")
	if m := w.mark(t, n); m.State != githubapi.StateCompleted || m.Run.Conclusion != "success" {
		t.Fatalf("after a restart the run was not followed: %+v\n%s\n%s", m.Run, w.status(t, n), w.Logs.String())
	}
	if !strings.Contains(w.status(t, n), "✅ [Run #1](") {
		t.Errorf("status:\n%s", w.status(t, n))
	}

	// Asked for with another ref than the one pinned: refused.
	n = w.ask(t, "alice", "/run migrate --ref release/2.4 --service checkout --env staging")
	if m := w.mark(t, n); m.State != githubapi.StateRefused || !strings.Contains(w.status(t, n), "runs from main only") {
		t.Errorf("another ref: %+v\n%s", m, w.status(t, n))
	}
}

// A workflow in a repository that does not point at the GitOps repository runs, and the
// status says that only this daytwo process can follow it.
func TestRunInRepositoryWithoutPointer(t *testing.T) {
	w, _ := newRunWorld(t)
	tools := w.GH.CreateRepo("acme", "tools")
	tools.Commit("main", "load tests", map[string]string{".github/workflows/load.yml": smokeYML})
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	cfg = strings.Replace(cfg, "      - name: smoke-test\n", "      - name: load-test\n        repository: acme/tools\n        workflow: load.yml\n      - name: smoke-test\n", 1)
	w.repo.Commit("main", "a load test", map[string]string{".github/daytwo.yml": cfg})
	n := w.ask(t, "mo", "/run load-test --service checkout --env prod")
	w.settle(t)
	run := onlyRun(t, tools)
	if st := w.status(t, n); !strings.Contains(st, "⚠️ acme/tools does not point at acme/gitops") {
		t.Errorf("status:\n%s", st)
	}
	w.advance(t, tools, run.ID, "completed", "cancelled")
	if m := w.mark(t, n); m.State != githubapi.StateCompleted || m.Run.Conclusion != "cancelled" || !strings.Contains(w.status(t, n), "ended `cancelled`") {
		t.Errorf("the process that started it follows it: %+v\n%s", m.Run, w.status(t, n))
	}
}

// GitHub Enterprise Server does not name the run a dispatch starts: daytwo finds it among
// the workflow's runs, and follows it as on GitHub.com.
func TestRunOnEnterpriseServer(t *testing.T) {
	w, _ := newRunWorld(t, githubtest.WithEnterpriseServer("3.19.2"))
	w.ask(t, "alice", "/run e2e target=https://a.test --service checkout --env staging")
	w.settle(t)
	n := w.ask(t, "alice", "/run e2e target=https://b.test --service checkout --env staging")
	w.settle(t)
	runs := w.repo.Runs()
	if len(runs) != 2 || len(w.repo.Dispatches()) != 2 {
		t.Fatalf("runs %+v dispatches %+v", runs, w.repo.Dispatches())
	}
	if m := w.mark(t, n); m.Run == nil || m.Run.ID != runs[1].ID || runs[1].Inputs["target"] != "https://b.test" {
		t.Fatalf("the second request found %+v; runs %+v", m.Run, runs)
	}
	if st := w.status(t, n); !strings.Contains(st, "found among the workflow's runs") {
		t.Errorf("status:\n%s", st)
	}
	w.advance(t, w.repo, runs[1].ID, "completed", "success")
	if m := w.mark(t, n); m.State != githubapi.StateCompleted || m.Run.Conclusion != "success" {
		t.Errorf("completed: %+v", m.Run)
	}
}

// What /run refuses, with the reason and what to do; nothing runs.
func TestRunRefusals(t *testing.T) {
	w, _ := newRunWorld(t)
	cfg, _ := w.repo.File("main", ".github/daytwo.yml")
	// catalog's repository is one daytwo is not installed on.
	cfg = strings.Replace(cfg, "    repository: acme/catalog\n", "    repository: catalog-org/catalog\n    workflows:\n      - name: reindex\n        repository: service\n        workflow: reindex.yml\n", 1)
	frozen, err := repoconfig.SetFreeze([]byte(cfg), "prod", &repoconfig.Freeze{Reason: "release week", By: "mo", Since: clock()})
	if err != nil {
		t.Fatal(err)
	}
	w.repo.Commit("main", "catalog's reindex; freeze prod", map[string]string{".github/daytwo.yml": string(frozen)})
	other := w.GH.CreateRepo("catalog-org", "catalog")
	other.Commit("main", "reindex", map[string]string{".github/workflows/reindex.yml": smokeYML})

	for _, tc := range []struct {
		name, who, line string
		mentions        []string // besides who asked
	}{
		{"run-refused-not-listed", "alice", "/run deploy-all --service checkout --env staging", nil},
		{"run-refused-unknown-input", "alice", "/run e2e target=https://shop.test colour=red --service checkout --env staging", nil},
		{"run-refused-missing-input", "alice", "/run e2e suite=ui --service checkout --env staging", nil},
		{"run-refused-wrong-choice", "alice", "/run e2e target=https://shop.test suite=mobile --service checkout --env staging", nil},
		{"run-refused-not-permitted", "rita", "/run e2e target=https://shop.test --service checkout --env staging", nil},
		{"run-refused-no-dispatch", "alice", "/run lint --service checkout --env staging", nil},
		{"run-refused-frozen", "mo", "/run smoke-test --service checkout --env prod", nil},
		{"run-refused-break-glass", "mo", "/run smoke-test --service checkout --env prod --break-glass", []string{"acme/sre"}},
		{"run-refused-not-installed", "alice", "/run reindex --service catalog --env staging", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := w.ask(t, tc.who, tc.line)
			if m := w.mark(t, n); m.State != githubapi.StateRefused || m.Run != nil {
				t.Errorf("mark %+v", m)
			}
			w.runGolden(t, tc.name, n, append(tc.mentions, tc.who)...)
		})
	}
	if d := w.repo.Dispatches(); len(d) != 0 || len(other.Dispatches()) != 0 {
		t.Fatalf("refused requests ran: %+v", d)
	}

	// --break-glass, for those the breakGlass rule names, runs in a frozen environment and
	// opens the review issue.
	n := w.ask(t, "sam", "/run smoke-test --service checkout --env prod --break-glass")
	w.settle(t)
	run := onlyRun(t, w.repo)
	if m := w.mark(t, n); m.State != githubapi.StateRunning || m.Run.ID != run.ID {
		t.Fatalf("break-glass: %+v\n%s", m, w.status(t, n))
	}
	var review *githubtest.Issue
	for i := 1; i < 100; i++ {
		if is, ok := w.repo.Issue(i); ok && strings.HasPrefix(is.Title, "Break-glass review: run smoke-test") {
			review = &is
		}
	}
	if review == nil || !strings.Contains(review.Body, "@sam used `--break-glass` to run `smoke-test`") || !strings.Contains(review.Body, "/actions/runs/") {
		t.Fatalf("review issue %+v", review)
	}
}

// --dry-run checks everything a run needs and says what would run; nothing runs.
func TestRunDryRun(t *testing.T) {
	w, _ := newRunWorld(t)
	n := w.ask(t, "alice", "/run e2e target=https://shop.test --service checkout --env staging --dry-run")
	if m := w.mark(t, n); m.State != githubapi.StateDryRun {
		t.Errorf("mark %+v", m)
	}
	w.runGolden(t, "run-dry-run", n, "alice")
	if len(w.repo.Dispatches()) != 0 {
		t.Fatal("a dry run ran")
	}
	// A dry run is checked like a run.
	n = w.ask(t, "alice", "/run e2e --service checkout --env staging --dry-run")
	if m := w.mark(t, n); m.State != githubapi.StateRefused || !strings.Contains(w.status(t, n), `"target" is required`) {
		t.Errorf("dry run with a missing input: %+v\n%s", m, w.status(t, n))
	}
}

// /history lists the runs /run started for the workflows of the selection, with who asked.
func TestHistoryShowsRuns(t *testing.T) {
	w, svc := newRunWorld(t)
	w.ask(t, "alice", "/run e2e target=https://shop.test --service checkout --env staging")
	w.ask(t, "alice", "/run migrate --service checkout --env staging")
	w.settle(t)
	w.advance(t, w.repo, onlyRun(t, w.repo).ID, "completed", "success")
	migrate := onlyRun(t, svc)
	w.ask(t, "alice", "/run migrate dry_run=false --service checkout --env dev")
	w.settle(t)

	n := w.ask(t, "rita", "/history --service checkout --env staging")
	st := w.status(t, n)
	for _, want := range []string{
		"### Workflow runs (`/run`)",
		"| migrate (acme/checkout) | checkout | staging | alice | [#1](" + w.GH.URL() + "/acme/checkout/actions/runs/" + strconv.FormatInt(migrate.ID, 10) + ") ⏳ queued |",
		"| e2e (acme/gitops) | checkout | staging | alice | [#1](", "✅ success |",
	} {
		if !strings.Contains(st, want) {
			t.Errorf("history lacks %q:\n%s", want, st)
		}
	}
	if strings.Index(st, "migrate (") > strings.Index(st, "e2e (") {
		t.Errorf("the newest run comes first:\n%s", st)
	}
	if strings.Contains(st, "| dev |") || strings.Contains(st, "@alice") {
		t.Errorf("history shows another environment's run, or mentions:\n%s", st)
	}

	n = w.ask(t, "rita", "/history --service checkout --env prod")
	if st := w.status(t, n); !strings.Contains(st, "No workflow runs started by daytwo for this selection.") {
		t.Errorf("prod history:\n%s", st)
	}
	n = w.ask(t, "rita", "/history --service payments --env dev")
	if st := w.status(t, n); strings.Contains(st, "Workflow runs") {
		t.Errorf("a selection without workflows lists runs:\n%s", st)
	}
}

// Runs daytwo did not start (another event, someone else's dispatch) leave every status
// alone, and cost no search.
func TestWorkflowRunsOfOthersAreIgnored(t *testing.T) {
	w, _ := newRunWorld(t)
	n := w.ask(t, "alice", "/run e2e target=https://shop.test --service checkout --env staging")
	w.settle(t)
	run := onlyRun(t, w.repo)
	before := w.status(t, n)
	inst := w.installation(t)
	w.GH.ResetLog()
	for name, edit := range map[string]func(*githubtest.PayloadEditor){
		"push": func(e *githubtest.PayloadEditor) { e.Set("workflow_run.event", "push") },
		"alice's dispatch": func(e *githubtest.PayloadEditor) {
			e.Set("workflow_run.actor.login", "alice").Set("workflow_run.actor.type", "User")
		},
	} {
		e := githubtest.EditPayload(w.repo.WorkflowRunPayload(run.ID, "completed")).Set("workflow_run.status", "completed").
			Set("workflow_run.conclusion", "success").Installation(inst)
		edit(e)
		w.Send(t, "workflow_run", e.MustBytes())
		w.Quiet(t)
		if st := w.status(t, n); st != before {
			t.Errorf("%s changed the status:\n%s", name, st)
		}
	}
	for _, r := range w.GH.Requests() {
		if strings.Contains(r.Path, "/comments") || r.Operation != "" {
			t.Errorf("a run daytwo did not start cost %s %s %s", r.Method, r.Path, r.Operation)
		}
	}
}

// The run workflow issue form is read into the same /run, and its reason is kept with the
// record of the run.
func TestRunFromIssueForm(t *testing.T) {
	w, _ := newRunWorld(t)
	body := "### Service\n\ncheckout\n\n### Environment\n\nstaging\n\n### Workflow\n\ne2e\n\n### Inputs\n\n```text\ntarget=https://shop.test\nsuite=all\n```\n\n" +
		"### Ref\n\n_No response_\n\n### Reason\n\nchecking the release candidate\n\n### Dry run\n\n- [ ] Only check it; do not run it\n"
	n := w.repo.CreateIssue("alice", "[daytwo] run: e2e", body, "daytwo", "action/run")
	w.Send(t, "issues", w.repo.IssuesOpenedPayload(n))
	w.settle(t)
	run := onlyRun(t, w.repo)
	if run.Inputs["suite"] != "all" || run.Inputs["target"] != "https://shop.test" {
		t.Errorf("run %+v", run)
	}
	m := w.mark(t, n)
	if m.State != githubapi.StateRunning || m.Run.Reason != "checking the release candidate" || m.Run.ID != run.ID {
		t.Errorf("mark %+v", m.Run)
	}
	if st := w.status(t, n); !strings.Contains(st, "- 📝 Reason: checking the release candidate\n") {
		t.Errorf("status:\n%s", st)
	}
}

// A /run costs seven requests to GitHub once the app's bot login is known: the status
// comment with the 👀, the GitOps repository, the permission, the workflow, its file, the
// dispatch and the status edit; each webhook of the run then two.
func TestRunRequests(t *testing.T) {
	w, _ := newRunWorld(t)
	w.ask(t, "alice", "/run e2e target=https://a.test --service checkout --env staging") // learns the bot login
	w.settle(t)
	w.GH.ResetLog()
	n := w.ask(t, "alice", "/run e2e target=https://b.test --service checkout --env staging")
	w.settle(t)
	var status int64
	for _, c := range w.repo.Comments(n) {
		if c.User == w.GH.BotLogin() {
			status = c.ID
		}
	}
	assertRequests(t, w, []string{
		"POST /api/graphql daytwoAck", "POST /api/graphql daytwoDefaultBranch",
		"GET /repos/acme/gitops/collaborators/alice/permission",
		"GET /repos/acme/gitops/actions/workflows/e2e.yml", "GET /repos/acme/gitops/contents/.github/workflows/e2e.yml",
		"POST /repos/acme/gitops/actions/workflows/e2e.yml/dispatches",
		"PATCH /repos/acme/gitops/issues/comments/" + strconv.FormatInt(status, 10),
	})

	// Each webhook of the run: read the status comment this process noted, and edit it.
	runs := w.repo.Runs()
	w.GH.ResetLog()
	w.advance(t, w.repo, runs[1].ID, "in_progress", "")
	comment := "/repos/acme/gitops/issues/comments/" + strconv.FormatInt(status, 10)
	assertRequests(t, w, []string{"GET " + comment, "PATCH " + comment})
}
