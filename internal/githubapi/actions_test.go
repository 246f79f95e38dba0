package githubapi_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

const e2eWorkflow = `name: End to end
on:
  workflow_dispatch:
    inputs:
      suite:
        type: choice
        options: [api, ui]
        default: api
      target:
        required: true
jobs:
  e2e:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ inputs.suite }}
`

// actionsEnv is acme/gitops with two workflows on the test GitHub, and a real
// installation client.
func actionsEnv(t *testing.T, opts ...githubtest.Option) (*githubtest.Server, *githubtest.Repo, githubapi.Repo) {
	t.Helper()
	s := githubtest.New(t, opts...)
	gr := s.CreateRepo("acme", "gitops")
	gr.Commit("main", "workflows", map[string]string{
		".github/workflows/e2e.yml":  e2eWorkflow,
		".github/workflows/lint.yml": "name: Lint\non: push\njobs: {}\n",
	})
	gr.Commit("release/2.4", "an older e2e", map[string]string{".github/workflows/e2e.yml": strings.Replace(e2eWorkflow, "[api, ui]", "[api]", 1)})
	id := s.Install("acme")
	cc := githubapp.NewClientCreator(s.V3URL(), s.V4URL(), s.AppID(), s.PrivateKeyPEM(), githubapp.WithClientMiddleware(githubapi.Retry(testPolicy)))
	client, err := cc.NewInstallationClient(id)
	if err != nil {
		t.Fatal(err)
	}
	return s, gr, githubapi.Repo{Client: client, Owner: "acme", Name: "gitops"}
}

func TestReadWorkflow(t *testing.T) {
	s, _, repo := actionsEnv(t)
	ctx := context.Background()
	wf, err := repo.ReadWorkflow(ctx, "e2e.yml", "")
	if err != nil || wf.Path != ".github/workflows/e2e.yml" || wf.Ref != "main" || string(wf.Data) != e2eWorkflow || wf.Enterprise != "" {
		t.Fatalf("ReadWorkflow(e2e.yml) = %+v, %v", wf, err)
	}
	// By id, at another branch: the file as it is there.
	ghwf, _, err := repo.Client.Actions.GetWorkflowByFileName(ctx, "acme", "gitops", "e2e.yml")
	if err != nil {
		t.Fatal(err)
	}
	wf, err = repo.ReadWorkflow(ctx, itoa(ghwf.GetID()), "release/2.4")
	if err != nil || wf.Ref != "release/2.4" || !strings.Contains(string(wf.Data), "options: [api]\n") {
		t.Fatalf("ReadWorkflow(id, release/2.4) = %+v, %v", wf, err)
	}
	for _, tc := range []struct{ workflow, ref, want string }{
		{"nope.yml", "", "acme/gitops has no workflow `nope.yml` on its default branch"},
		{"e2e.yml", "no-such-branch", "acme/gitops has no branch or tag `no-such-branch`"},
	} {
		if _, err := repo.ReadWorkflow(ctx, tc.workflow, tc.ref); plan.ErrorCode(err) != plan.NotFound || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadWorkflow(%s, %q) = %v, want %q", tc.workflow, tc.ref, err, tc.want)
		}
	}
	s.SetInstallationPermission("acme", "actions", "none")
	if _, err := repo.ReadWorkflow(ctx, "e2e.yml", "main"); plan.ErrorCode(err) != plan.Forbidden || !strings.Contains(err.Error(), "Actions (read and write)") {
		t.Errorf("without actions: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// On GitHub.com the dispatch names its run; the fake records what was sent.
func TestDispatchWorkflowWithRunDetails(t *testing.T) {
	s, gr, repo := actionsEnv(t)
	ctx := context.Background()
	d, err := repo.DispatchWorkflow(ctx, "e2e.yml", "main", map[string]string{"target": "https://shop.test"}, s.BotLogin())
	if err != nil {
		t.Fatal(err)
	}
	runs := gr.Runs()
	if len(runs) != 1 || d.ID != runs[0].ID || d.Listed || !strings.HasSuffix(d.URL, "/acme/gitops/actions/runs/"+itoa(d.ID)) {
		t.Fatalf("Dispatched %+v, runs %+v", d, runs)
	}
	if got := gr.Dispatches(); len(got) != 1 || got[0].Ref != "main" || got[0].Inputs["target"] != "https://shop.test" || len(got[0].Inputs) != 1 {
		t.Errorf("dispatches %+v", got)
	}
	if runs[0].Inputs["suite"] != "api" {
		t.Errorf("GitHub fills the defaults: %+v", runs[0].Inputs)
	}
	run, err := repo.GetRun(ctx, d.ID)
	if err != nil || run.Status != "queued" || run.Event != "workflow_dispatch" || run.Actor != s.BotLogin() || run.Name != "End to end" || run.Number != 1 {
		t.Errorf("GetRun = %+v, %v", run, err)
	}

	// GitHub's refusals, in its words.
	for _, tc := range []struct {
		workflow string
		inputs   map[string]string
		code     plan.Code
		want     string
	}{
		{"lint.yml", nil, plan.Invalid, `“Workflow does not have 'workflow\_dispatch' trigger”`},
		{"e2e.yml", map[string]string{"target": "x", "nope": "1"}, plan.Invalid, `“Unexpected inputs provided: \["nope"\]”`},
		{"gone.yml", nil, plan.NotFound, "GitHub found no workflow `gone.yml` in acme/gitops"},
	} {
		if _, err := repo.DispatchWorkflow(ctx, tc.workflow, "main", tc.inputs, s.BotLogin()); plan.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("dispatch %s %v: %v, want %q", tc.workflow, tc.inputs, err, tc.want)
		}
	}
	s.SetInstallationPermission("acme", "actions", "read")
	if _, err := repo.DispatchWorkflow(ctx, "e2e.yml", "main", map[string]string{"target": "x"}, s.BotLogin()); plan.ErrorCode(err) != plan.Forbidden || !strings.Contains(err.Error(), "“Resource not accessible by integration”") {
		t.Errorf("dispatch with actions: read: %v", err)
	}
	if len(gr.Runs()) != 1 {
		t.Errorf("refused dispatches started runs: %+v", gr.Runs())
	}
}

// GitHub Enterprise Server refuses return_run_details: the dispatch is sent again without
// it, and its run is the first of the bot's newer than the newest before it.
func TestDispatchWorkflowOnEnterpriseServer(t *testing.T) {
	s, gr, repo := actionsEnv(t, githubtest.WithEnterpriseServer("3.19.2"))
	ctx := context.Background()
	wf, err := repo.ReadWorkflow(ctx, "e2e.yml", "main")
	if err != nil || wf.Enterprise != "3.19.2" {
		t.Fatalf("ReadWorkflow on GHES: %+v, %v", wf, err)
	}
	first, err := repo.DispatchWorkflow(ctx, "e2e.yml", "main", map[string]string{"target": "a"}, s.BotLogin())
	if err != nil {
		t.Fatal(err)
	}
	second, err := repo.DispatchWorkflow(ctx, "e2e.yml", "main", map[string]string{"target": "b"}, s.BotLogin())
	if err != nil {
		t.Fatal(err)
	}
	runs := gr.Runs()
	if len(runs) != 2 || first.ID != runs[0].ID || second.ID != runs[1].ID || !first.Listed || !second.Listed {
		t.Fatalf("first %+v, second %+v, runs %+v", first, second, runs)
	}
	if runs[1].Inputs["target"] != "b" || !strings.HasSuffix(second.URL, "/actions/runs/"+itoa(second.ID)) {
		t.Errorf("the second dispatch found %+v", runs[1])
	}
	// The attempts with return_run_details were refused and started no run.
	if d := gr.Dispatches(); len(d) != 2 {
		t.Errorf("dispatches %+v", d)
	}

	// A run of another actor is not this dispatch's.
	githubapi.FindRunWait = 300 * time.Millisecond
	t.Cleanup(func() { githubapi.FindRunWait = 30 * time.Second })
	if _, err := repo.DispatchWorkflow(ctx, "e2e.yml", "main", map[string]string{"target": "c"}, "someone-else"); plan.ErrorCode(err) != plan.Conflict || !strings.Contains(err.Error(), "had not listed the run") {
		t.Errorf("a run found for another actor: %v", err)
	}
}

func TestDispatchedRunsAndCommentsSince(t *testing.T) {
	s, gr, repo := actionsEnv(t)
	ctx := context.Background()
	for _, target := range []string{"a", "b", "c"} {
		if _, err := repo.DispatchWorkflow(ctx, "e2e.yml", "main", map[string]string{"target": target}, s.BotLogin()); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := repo.DispatchedRuns(ctx, "e2e.yml", s.BotLogin(), 2)
	all := gr.Runs()
	if err != nil || len(runs) != 2 || runs[0].ID != all[2].ID || runs[1].ID != all[1].ID {
		t.Errorf("DispatchedRuns = %+v, %v; all %+v", runs, err, all)
	}
	if runs, err := repo.DispatchedRuns(ctx, "e2e.yml", "someone-else", 10); err != nil || len(runs) != 0 {
		t.Errorf("another actor's runs: %+v, %v", runs, err)
	}

	n := gr.CreateIssue("alice", "x", "")
	var ids []int64
	for i := range 150 {
		ids = append(ids, gr.AddComment(n, "alice", "comment "+itoa(int64(i))))
	}
	got, err := repo.CommentsSince(ctx, time.Now().Add(-time.Hour), 1000)
	if err != nil || len(got) != 150 || got[0].ID != ids[0] || got[149].ID != ids[149] || got[0].Number != n || got[0].Author != "alice" {
		t.Fatalf("CommentsSince: %d comments, %v", len(got), err)
	}
	if got, _ := repo.CommentsSince(ctx, time.Now().Add(-time.Hour), 100); len(got) != 100 {
		t.Errorf("limit 100: %d", len(got))
	}
	if got, _ := repo.CommentsSince(ctx, time.Now().Add(time.Hour), 1000); len(got) != 0 {
		t.Errorf("since the future: %d", len(got))
	}
}
