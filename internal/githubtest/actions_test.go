package githubtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// deployWorkflow has the inputs of the workflow_dispatch example in GitHub's "Workflow
// syntax" documentation.
const deployWorkflow = `name: Deploy
on:
  push:
    branches: [main]
  workflow_dispatch:
    inputs:
      logLevel:
        description: 'Log level'
        required: true
        default: 'warning'
        type: choice
        options: [info, warning, debug]
      print_tags:
        description: 'True to print to STDOUT'
        required: true
        type: boolean
      tags:
        description: 'Test scenario tags'
        required: false
        type: string
      environment:
        description: 'Environment to run tests against'
        type: environment
        required: true
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ inputs.environment }}
`

// actionsWorld is acme/gitops with a dispatchable workflow (deploy.yml), one without the
// trigger (ci.yml), a tag v1 and a branch "old" from before the workflows existed.
func actionsWorld(t *testing.T, opts ...githubtest.Option) (*githubtest.Server, *githubtest.Repo, *github.Client) {
	t.Helper()
	s, repo, gh := setup(t, opts...)
	ctx := context.Background()
	old, _ := repo.BranchSHA("main")
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "gitops", &github.Reference{Ref: github.String("refs/heads/old"), Object: &github.GitObject{SHA: github.String(old)}}); err != nil {
		t.Fatal(err)
	}
	head := repo.Commit("main", "workflows", map[string]string{
		".github/workflows/deploy.yml": deployWorkflow,
		".github/workflows/ci.yml":     "name: CI\non: [push, pull_request]\njobs: {}\n",
		".github/workflows/README.md":  "not a workflow\n",
	})
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "gitops", &github.Reference{Ref: github.String("refs/tags/v1"), Object: &github.GitObject{SHA: github.String(head)}}); err != nil {
		t.Fatal(err)
	}
	return s, repo, gh
}

// runDetails is the 200 answer of a dispatch with return_run_details.
type runDetails struct {
	WorkflowRunID int64  `json:"workflow_run_id"`
	RunURL        string `json:"run_url"`
	HTMLURL       string `json:"html_url"`
}

// dispatch sends a dispatch as daytwo will, with the client's NewRequest: go-github v60
// has no return_run_details.
func dispatch(t *testing.T, gh *github.Client, workflow string, body map[string]any) (*runDetails, int, error) {
	t.Helper()
	req, err := gh.NewRequest("POST", "repos/acme/gitops/actions/workflows/"+workflow+"/dispatches", body)
	if err != nil {
		t.Fatal(err)
	}
	var out runDetails
	res, err := gh.Do(context.Background(), req, &out)
	if res == nil {
		return nil, 0, err
	}
	return &out, res.StatusCode, err
}

func TestWorkflowsFromTheTree(t *testing.T) {
	_, _, gh := actionsWorld(t)
	ctx := context.Background()
	w, _, err := gh.Actions.GetWorkflowByFileName(ctx, "acme", "gitops", "deploy.yml")
	if err != nil {
		t.Fatal(err)
	}
	if w.GetName() != "Deploy" || w.GetPath() != ".github/workflows/deploy.yml" || w.GetState() != "active" || w.GetID() == 0 ||
		!strings.HasSuffix(w.GetHTMLURL(), "/acme/gitops/blob/main/.github/workflows/deploy.yml") {
		t.Errorf("workflow = %+v", w)
	}
	byID, _, err := gh.Actions.GetWorkflowByID(ctx, "acme", "gitops", w.GetID())
	if err != nil || byID.GetPath() != w.GetPath() {
		t.Errorf("by id: %+v, %v", byID, err)
	}
	if again, _, _ := gh.Actions.GetWorkflowByFileName(ctx, "acme", "gitops", "deploy.yml"); again.GetID() != w.GetID() {
		t.Error("a workflow's id changed between reads")
	}
	for _, name := range []string{"nope.yml", "README.md"} {
		if _, _, err := gh.Actions.GetWorkflowByFileName(ctx, "acme", "gitops", name); statusOf(err) != http.StatusNotFound {
			t.Errorf("%s: %v, want 404", name, err)
		}
	}
}

func TestDispatchReturnsRunDetailsAndRefusesAsGitHub(t *testing.T) {
	s, repo, gh := actionsWorld(t)
	ctx := context.Background()
	main, _ := repo.BranchSHA("main")
	before := time.Now().UTC().Add(-time.Second)

	details, code, err := dispatch(t, gh, "deploy.yml", map[string]any{
		"ref": "main", "inputs": map[string]any{"print_tags": true, "environment": "prod"}, "return_run_details": true,
	})
	if err != nil || code != http.StatusOK {
		t.Fatalf("dispatch with return_run_details: %d, %v", code, err)
	}
	if details.WorkflowRunID == 0 || details.RunURL != fmt.Sprintf("%s/repos/acme/gitops/actions/runs/%d", strings.TrimSuffix(s.V3URL(), "/"), details.WorkflowRunID) ||
		details.HTMLURL != fmt.Sprintf("%s/acme/gitops/actions/runs/%d", s.URL(), details.WorkflowRunID) {
		t.Errorf("details = %+v", details)
	}
	run, _, err := gh.Actions.GetWorkflowRunByID(ctx, "acme", "gitops", details.WorkflowRunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.GetStatus() != "queued" || run.Conclusion != nil || run.GetEvent() != "workflow_dispatch" || run.GetHeadBranch() != "main" ||
		run.GetHeadSHA() != main || run.GetActor().GetLogin() != s.BotLogin() || run.GetName() != "Deploy" || run.GetRunNumber() != 1 ||
		run.GetHTMLURL() != details.HTMLURL || run.GetHeadCommit().GetID() != main {
		t.Errorf("run = %+v", run)
	}
	// Defaults are filled as the run sees them; booleans arrive as text.
	got, _ := repo.Run(details.WorkflowRunID)
	if got.Inputs["logLevel"] != "warning" || got.Inputs["print_tags"] != "true" || got.Inputs["environment"] != "prod" {
		t.Errorf("inputs of the run = %v", got.Inputs)
	}

	// Without the parameter, 204 and no body, as before February 2026; by tag too.
	res, err := gh.Actions.CreateWorkflowDispatchEventByFileName(ctx, "acme", "gitops", "deploy.yml", github.CreateWorkflowDispatchEventRequest{
		Ref: "v1", Inputs: map[string]any{"print_tags": "false", "environment": "staging", "logLevel": "debug"},
	})
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("dispatch without run details: %v, %v", res, err)
	}
	w, _, _ := gh.Actions.GetWorkflowByFileName(ctx, "acme", "gitops", "deploy.yml")
	if _, code, err := dispatch(t, gh, fmt.Sprint(w.GetID()), map[string]any{"ref": "main", "inputs": map[string]any{"print_tags": "true", "environment": "x"}, "return_run_details": false}); err != nil || code != http.StatusNoContent {
		t.Fatalf("dispatch by id with return_run_details false: %d, %v", code, err)
	}
	runs := repo.Runs()
	if len(runs) != 3 || runs[1].HeadBranch != "v1" || runs[1].RunNumber != 2 || runs[2].RunNumber != 3 {
		t.Errorf("runs = %+v", runs)
	}
	if d := repo.Dispatches(); len(d) != 3 || d[0].RunID != details.WorkflowRunID || d[2].Workflow != fmt.Sprint(w.GetID()) || d[1].Ref != "v1" {
		t.Errorf("dispatches = %+v", d)
	}

	refusals := []struct {
		workflow string
		body     map[string]any
		status   int
		msg      string
	}{
		{"deploy.yml", map[string]any{"ref": "main", "inputs": map[string]any{"print_tags": "true", "environment": "p", "colour": "red", "age": "3"}}, 422, `Unexpected inputs provided: ["age", "colour"]`},
		{"deploy.yml", map[string]any{"ref": "main", "inputs": map[string]any{"print_tags": "true"}}, 422, "Required input 'environment' not provided"},
		{"deploy.yml", map[string]any{"ref": "main", "inputs": map[string]any{"print_tags": "true", "environment": "p", "logLevel": "loud"}}, 422, "Provided value 'loud' for input 'logLevel' not in the list of allowed values"},
		{"deploy.yml", map[string]any{"ref": "main", "inputs": map[string]any{"print_tags": "yes", "environment": "p"}}, 422, "Provided value 'yes' for input 'print_tags' not in the list of allowed values"},
		{"deploy.yml", map[string]any{"ref": "nope", "inputs": map[string]any{}}, 422, "No ref found for: nope"},
		{"deploy.yml", map[string]any{"ref": main}, 422, "No ref found for: " + main},
		{"deploy.yml", map[string]any{"ref": "old"}, 422, "Workflow does not have 'workflow_dispatch' trigger"},
		{"ci.yml", map[string]any{"ref": "main"}, 422, "Workflow does not have 'workflow_dispatch' trigger"},
		{"deploy.yml", map[string]any{"inputs": map[string]any{}}, 422, "Invalid request.\n\n\"ref\" wasn't supplied."},
		{"deploy.yml", map[string]any{"ref": "main", "wait": true}, 422, "Invalid request.\n\n\"wait\" is not a permitted key."},
		{"deploy.yml", map[string]any{"ref": "main", "inputs": manyInputs(26)}, 422, "Invalid request.\n\nNo more than 25 properties are allowed; 26 were supplied."},
		{"nope.yml", map[string]any{"ref": "main"}, 404, "Not Found"},
		{"12345", map[string]any{"ref": "main"}, 404, "Not Found"},
	}
	for _, r := range refusals {
		_, code, err := dispatch(t, gh, r.workflow, r.body)
		if code != r.status || messageOf(err) != r.msg {
			t.Errorf("%s %v: %d %q, want %d %q", r.workflow, r.body, code, messageOf(err), r.status, r.msg)
		}
	}
	if len(repo.Runs()) != 3 {
		t.Errorf("a refused dispatch started a run: %+v", repo.Runs())
	}

	// Listing: newest first, filtered as GitHub filters.
	list, _, err := gh.Actions.ListRepositoryWorkflowRuns(ctx, "acme", "gitops", &github.ListWorkflowRunsOptions{Event: "workflow_dispatch", Branch: "main"})
	if err != nil || list.GetTotalCount() != 2 || list.WorkflowRuns[0].GetID() != runs[2].ID || list.WorkflowRuns[1].GetID() != runs[0].ID {
		t.Errorf("runs on main: %+v, %v", list, err)
	}
	for _, q := range []struct {
		opts *github.ListWorkflowRunsOptions
		want int
	}{
		{&github.ListWorkflowRunsOptions{Event: "push"}, 0},
		{&github.ListWorkflowRunsOptions{Status: "queued"}, 3},
		{&github.ListWorkflowRunsOptions{Status: "success"}, 0},
		{&github.ListWorkflowRunsOptions{Branch: "v1"}, 1},
		{&github.ListWorkflowRunsOptions{Actor: s.BotLogin()}, 3},
		{&github.ListWorkflowRunsOptions{HeadSHA: main}, 3}, // v1 tags the head of main
		{&github.ListWorkflowRunsOptions{Created: ">=" + before.Format(time.RFC3339)}, 3},
		{&github.ListWorkflowRunsOptions{Created: "<" + before.Format(time.RFC3339)}, 0},
		{&github.ListWorkflowRunsOptions{Created: before.Format("2006-01-02") + "..*"}, 3},
		{&github.ListWorkflowRunsOptions{Created: "2020-01-01..2020-12-31"}, 0},
	} {
		got, _, err := gh.Actions.ListRepositoryWorkflowRuns(ctx, "acme", "gitops", q.opts)
		if err != nil || got.GetTotalCount() != q.want || len(got.WorkflowRuns) != q.want {
			t.Errorf("%+v: %d runs, %v; want %d", q.opts, got.GetTotalCount(), err, q.want)
		}
	}
	if _, _, err := gh.Actions.ListRepositoryWorkflowRuns(ctx, "acme", "gitops", &github.ListWorkflowRunsOptions{Created: ">=yesterday"}); statusOf(err) != 422 {
		t.Errorf("a created filter that is no date: %v", err)
	}
	page, res, err := gh.Actions.ListWorkflowRunsByFileName(ctx, "acme", "gitops", "deploy.yml", &github.ListWorkflowRunsOptions{ListOptions: github.ListOptions{PerPage: 1}})
	if err != nil || page.GetTotalCount() != 3 || len(page.WorkflowRuns) != 1 || res.NextPage != 2 {
		t.Errorf("per_page 1: %+v, next %d, %v", page, res.NextPage, err)
	}
	if ci, _, err := gh.Actions.ListWorkflowRunsByFileName(ctx, "acme", "gitops", "ci.yml", nil); err != nil || ci.GetTotalCount() != 0 {
		t.Errorf("runs of ci.yml: %+v, %v", ci, err)
	}
	if _, _, err := gh.Actions.GetWorkflowRunByID(ctx, "acme", "gitops", 999999); statusOf(err) != 404 {
		t.Errorf("an unknown run: %v", err)
	}
}

func manyInputs(n int) map[string]any {
	m := map[string]any{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("in%d", i)] = "x"
	}
	return m
}

// Without actions: write the app may not dispatch; without actions at all it may not read
// workflows or runs either, and gets no workflow_run webhooks.
func TestActionsPermission(t *testing.T) {
	s, repo, gh := actionsWorld(t)
	rec, hook := workflowRunReceiver(t, s)
	s.SetWebhookURL(hook)
	ctx := context.Background()
	body := map[string]any{"ref": "main", "inputs": map[string]any{"print_tags": "true", "environment": "p"}}

	s.SetInstallationPermission("acme", "actions", "read")
	if _, code, err := dispatch(t, gh, "deploy.yml", body); code != 403 || messageOf(err) != "Resource not accessible by integration" {
		t.Errorf("dispatch with actions: read: %d %v", code, err)
	}
	if _, _, err := gh.Actions.GetWorkflowByFileName(ctx, "acme", "gitops", "deploy.yml"); err != nil {
		t.Errorf("read a workflow with actions: read: %v", err)
	}

	s.SetInstallationPermission("acme", "actions", "write")
	details, _, err := dispatch(t, gh, "deploy.yml", map[string]any{"ref": "main", "inputs": body["inputs"], "return_run_details": true})
	if err != nil {
		t.Fatal(err)
	}
	s.SetInstallationPermission("acme", "actions", "none")
	s.WaitRedeliveries()
	repo.AdvanceRun(details.WorkflowRunID, "in_progress", "")
	if got := rec.actions(); len(got) != 1 || got[0] != "requested" {
		t.Errorf("webhooks after losing actions: %v, want only requested", got)
	}
	for name, call := range map[string]func() error{
		"get workflow": func() error {
			_, _, err := gh.Actions.GetWorkflowByFileName(ctx, "acme", "gitops", "deploy.yml")
			return err
		},
		"list runs": func() error {
			_, _, err := gh.Actions.ListRepositoryWorkflowRuns(ctx, "acme", "gitops", nil)
			return err
		},
		"get run": func() error {
			_, _, err := gh.Actions.GetWorkflowRunByID(ctx, "acme", "gitops", details.WorkflowRunID)
			return err
		},
	} {
		if err := call(); statusOf(err) != 403 || messageOf(err) != "Resource not accessible by integration" {
			t.Errorf("%s without actions: %v", name, err)
		}
	}
}

// recorderOf receives workflow_run webhooks through go-githubapp's dispatcher.
type runRecorder struct{ recorder }

func (r *runRecorder) Handles() []string { return []string{"workflow_run"} }

func (r *runRecorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.bodies {
		var p struct {
			Action string `json:"action"`
		}
		_ = json.Unmarshal(b, &p)
		out = append(out, p.Action)
	}
	return out
}

func workflowRunReceiver(t *testing.T, s *githubtest.Server) (*runRecorder, string) {
	t.Helper()
	rec := &runRecorder{}
	app := httptest.NewServer(githubapp.NewEventDispatcher([]githubapp.EventHandler{rec}, s.WebhookSecret()))
	t.Cleanup(app.Close)
	return rec, app.URL + githubapp.DefaultWebhookRoute
}

// A run moves as the test says, and each step reaches the app as a signed workflow_run
// webhook in GitHub's shape, in order: requested, in_progress, completed.
func TestRunProgressSendsWorkflowRunWebhooks(t *testing.T) {
	s, repo, gh := actionsWorld(t)
	rec, hook := workflowRunReceiver(t, s)
	s.SetWebhookURL(hook)
	ctx := context.Background()
	details, _, err := dispatch(t, gh, "deploy.yml", map[string]any{"ref": "main", "inputs": map[string]any{"print_tags": "true", "environment": "prod"}, "return_run_details": true})
	if err != nil {
		t.Fatal(err)
	}
	id := details.WorkflowRunID
	if d := repo.AdvanceRun(id, "in_progress", ""); len(d) != 1 || d[0].Event != "workflow_run" || d[0].Action != "in_progress" || !d[0].Succeeded() {
		t.Fatalf("in_progress deliveries = %+v", d)
	}
	if run, _, _ := gh.Actions.GetWorkflowRunByID(ctx, "acme", "gitops", id); run.GetStatus() != "in_progress" {
		t.Errorf("status = %q", run.GetStatus())
	}
	repo.AdvanceRun(id, "completed", "failure")
	run, _, err := gh.Actions.GetWorkflowRunByID(ctx, "acme", "gitops", id)
	if err != nil || run.GetStatus() != "completed" || run.GetConclusion() != "failure" {
		t.Errorf("completed run = %+v, %v", run, err)
	}
	if got := rec.actions(); strings.Join(got, ",") != "requested,in_progress,completed" {
		t.Fatalf("webhooks = %v", got)
	}
	var inst int64
	for _, r := range s.Requests() {
		inst = max(inst, r.Installation)
	}
	for i, want := range []struct{ status, conclusion string }{{"queued", ""}, {"in_progress", ""}, {"completed", "failure"}} {
		ev, err := github.ParseWebHook("workflow_run", rec.bodies[i])
		if err != nil {
			t.Fatal(err)
		}
		wr := ev.(*github.WorkflowRunEvent)
		r := wr.GetWorkflowRun()
		if r.GetID() != id || r.GetStatus() != want.status || r.GetConclusion() != want.conclusion || r.GetEvent() != "workflow_dispatch" ||
			r.GetHeadBranch() != "main" || r.GetHTMLURL() != details.HTMLURL || r.GetName() != "Deploy" || r.GetRunStartedAt().IsZero() ||
			wr.GetWorkflow().GetPath() != ".github/workflows/deploy.yml" || wr.GetRepo().GetFullName() != "acme/gitops" ||
			wr.GetInstallation().GetID() != inst || wr.GetSender().GetLogin() != s.BotLogin() || r.GetRepository().GetFullName() != "acme/gitops" {
			t.Errorf("webhook %d = %+v", i, r)
		}
	}
	for _, d := range s.Deliveries() {
		if d.Event == "workflow_run" && (d.InstallationID != inst || d.RepositoryID == 0) {
			t.Errorf("delivery %+v", d)
		}
	}
}

func TestDispatchOnEnterpriseServer(t *testing.T) {
	_, repo, gh := actionsWorld(t, githubtest.WithEnterpriseServer("3.19.2"))
	inputs := map[string]any{"print_tags": "true", "environment": "p"}
	_, code, err := dispatch(t, gh, "deploy.yml", map[string]any{"ref": "main", "inputs": inputs, "return_run_details": true})
	if code != 422 || messageOf(err) != "Invalid request.\n\n\"return_run_details\" is not a permitted key." {
		t.Errorf("return_run_details on GHES: %d %q", code, messageOf(err))
	}
	_, code, err = dispatch(t, gh, "deploy.yml", map[string]any{"ref": "main", "inputs": inputs})
	if err != nil || code != http.StatusNoContent || len(repo.Runs()) != 1 {
		t.Errorf("dispatch on GHES: %d %v", code, err)
	}
	if _, code, err := dispatch(t, gh, "deploy.yml", map[string]any{"ref": "main", "inputs": manyInputs(11)}); code != 422 || messageOf(err) != "Invalid request.\n\nNo more than 10 properties are allowed; 11 were supplied." {
		t.Errorf("11 inputs on GHES: %d %v", code, err)
	}
	req, _ := gh.NewRequest("GET", "repos/acme/gitops/actions/runs", nil)
	res, err := gh.Do(context.Background(), req, nil)
	if err != nil || res.Header.Get("X-GitHub-Enterprise-Version") != "3.19.2" {
		t.Errorf("X-GitHub-Enterprise-Version = %q, %v", res.Header.Get("X-GitHub-Enterprise-Version"), err)
	}
}

// The workflow_run payloads keep the shape of GitHub's examples, at every step.
func TestWorkflowRunPayloadsMatchExamples(t *testing.T) {
	_, repo, gh := actionsWorld(t)
	details, _, err := dispatch(t, gh, "deploy.yml", map[string]any{"ref": "main", "inputs": map[string]any{"print_tags": "true", "environment": "p"}, "return_run_details": true})
	if err != nil {
		t.Fatal(err)
	}
	// Deliveries to an app carry the installation; the examples were not made for one.
	extra := map[string]bool{"installation": true}
	for _, action := range []string{"requested", "in_progress", "completed"} {
		if action == "in_progress" {
			repo.AdvanceRun(details.WorkflowRunID, "in_progress", "")
		}
		if action == "completed" {
			repo.AdvanceRun(details.WorkflowRunID, "completed", "success")
		}
		got := decodeNumbers(t, repo.WorkflowRunPayload(details.WorkflowRunID, action))
		example := decodeNumbers(t, githubtest.Payload("workflow_run."+action))
		if problems := compareShape("", example, got, extra, nil); len(problems) > 0 {
			t.Errorf("workflow_run.%s:\n  %s", action, strings.Join(problems, "\n  "))
		}
		wr := got.(map[string]any)["workflow_run"].(map[string]any)
		if wr["status"] != map[string]string{"requested": "queued", "in_progress": "in_progress", "completed": "completed"}[action] {
			t.Errorf("%s: status %v", action, wr["status"])
		}
	}
}
