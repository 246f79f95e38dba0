package githubapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// GitHub Actions, as /run needs it: read a workflow file at a ref, dispatch it, find and
// read its runs.

// WorkflowFile is a workflow of a repository and its file as it is at a ref.
type WorkflowFile struct {
	Path string // ".github/workflows/smoke.yml"
	Ref  string // the ref read: the one asked for, else the default branch
	Data []byte
	// Enterprise is the GitHub Enterprise Server version that answered, "" for GitHub.com.
	Enterprise string
}

// ReadWorkflow reads workflow (a file name under .github/workflows or a numeric id) at
// ref, the default branch when ref is "". GitHub knows the workflows of the default
// branch only: a workflow missing there cannot be run by hand.
func (r Repo) ReadWorkflow(ctx context.Context, workflow, ref string) (*WorkflowFile, error) {
	if ref == "" {
		repo, _, err := r.Client.Repositories.Get(ctx, r.Owner, r.Name)
		switch {
		case isNotFound(err):
			return nil, &plan.Error{Code: plan.NotFound, Msg: fmt.Sprintf("repository %s does not exist or the app is not installed on it", r.FullName()), Err: err}
		case err != nil:
			return nil, fmt.Errorf("read repository %s: %w", r.FullName(), err)
		case repo.GetDefaultBranch() == "":
			return nil, plan.Errorf(plan.NotFound, "repository %s has no default branch (is it empty?)", r.FullName())
		}
		ref = repo.GetDefaultBranch()
	}
	var (
		wf  *gh.Workflow
		res *gh.Response
		err error
	)
	if id, perr := strconv.ParseInt(workflow, 10, 64); perr == nil {
		wf, res, err = r.Client.Actions.GetWorkflowByID(ctx, r.Owner, r.Name, id)
	} else {
		wf, res, err = r.Client.Actions.GetWorkflowByFileName(ctx, r.Owner, r.Name, workflow)
	}
	switch {
	case isNotFound(err):
		return nil, plan.Errorf(plan.NotFound, "%s has no workflow %s on its default branch: GitHub runs by hand only the workflows of the default branch's `.github/workflows`. Fix `workflow:` in `.github/daytwo.yml`, or merge the workflow first.", r.FullName(), markdown.Code(workflow))
	case statusOf(err) == http.StatusForbidden:
		return nil, &plan.Error{Code: plan.Forbidden, Msg: fmt.Sprintf("GitHub did not let daytwo read the workflows of %s (it answered “%s”): an owner of %s must grant daytwo the Actions (read and write) permission.", r.FullName(), markdown.Text(gitHubMessage(err)), r.Owner), Err: err}
	case err != nil:
		return nil, fmt.Errorf("read workflow %s of %s: %w", workflow, r.FullName(), err)
	}
	out := &WorkflowFile{Path: wf.GetPath(), Ref: ref}
	if res != nil {
		out.Enterprise = res.Header.Get("X-GitHub-Enterprise-Version")
	}
	file, _, _, err := r.Client.Repositories.GetContents(ctx, r.Owner, r.Name, out.Path, &gh.RepositoryContentGetOptions{Ref: ref})
	switch {
	case saysGitHub(err, "No commit found"):
		return nil, plan.Errorf(plan.NotFound, "%s has no branch or tag %s to run %s from.", r.FullName(), markdown.Code(ref), markdown.Code(out.Path))
	case isNotFound(err) || err == nil && file == nil:
		return nil, plan.Errorf(plan.NotFound, "%s has no file %s at %s, so the workflow cannot run from there.", r.FullName(), markdown.Code(out.Path), markdown.Code(ref))
	case err != nil:
		return nil, fmt.Errorf("read %s at %s in %s: %w", out.Path, ref, r.FullName(), err)
	}
	if file.GetEncoding() == "none" || file.Content == nil && file.GetSize() > 0 {
		if out.Data, _, err = r.Client.Git.GetBlobRaw(ctx, r.Owner, r.Name, file.GetSHA()); err != nil {
			return nil, fmt.Errorf("read %s at %s in %s: %w", out.Path, ref, r.FullName(), err)
		}
		return out, nil
	}
	text, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("decode %s at %s in %s: %w", out.Path, ref, r.FullName(), err)
	}
	out.Data = []byte(text)
	return out, nil
}

// Run is a workflow run as daytwo reports it.
type Run struct {
	ID         int64
	Name       string // the workflow's name
	Number     int    // run_number
	Event      string
	Status     string // queued, in_progress, completed, …
	Conclusion string // once completed: success, failure, cancelled, …
	Branch     string // head_branch: the ref it runs from
	URL        string // html_url
	Actor      string
	CreatedAt  time.Time
	StartedAt  time.Time // run_started_at
	UpdatedAt  time.Time // the time of its last change: when it completed, once completed
}

// RunOf is a go-github workflow run (from the API or a workflow_run webhook) as a Run.
func RunOf(w *gh.WorkflowRun) Run {
	return Run{
		ID: w.GetID(), Name: w.GetName(), Number: w.GetRunNumber(), Event: w.GetEvent(), Status: w.GetStatus(),
		Conclusion: w.GetConclusion(), Branch: w.GetHeadBranch(), URL: w.GetHTMLURL(), Actor: w.GetActor().GetLogin(),
		CreatedAt: w.GetCreatedAt().Time, StartedAt: w.GetRunStartedAt().Time, UpdatedAt: w.GetUpdatedAt().Time,
	}
}

// Dispatched is the run a dispatch started.
type Dispatched struct {
	ID  int64
	URL string // html_url
	// Listed is set when GitHub did not say which run it started (GitHub Enterprise
	// Server) and the run was found by listing the workflow's runs.
	Listed bool
}

// ErrRunNotFound is a dispatch GitHub accepted whose run daytwo could not find.
var ErrRunNotFound = errors.New("the dispatched run was not found among the workflow's runs")

// FindRunWait is how long DispatchWorkflow looks for a run GitHub did not name: GitHub
// creates it a moment after answering.
var FindRunWait = 30 * time.Second

// DispatchWorkflow runs workflow at ref with inputs (workflow_dispatch), as actor (the
// app's bot, whose runs these are). GitHub.com names the run it started
// (return_run_details); a server that does not know the parameter (GitHub Enterprise
// Server answers 422) is asked again without it, and the run is the first of actor's
// dispatched runs at ref newer than the workflow's newest run before the dispatch. The
// caller holds a lock on the workflow and ref, so no other dispatch of daytwo's comes
// between. GitHub's refusals are plan errors with its words.
func (r Repo) DispatchWorkflow(ctx context.Context, workflow, ref string, inputs map[string]string, actor string) (Dispatched, error) {
	if inputs == nil {
		inputs = map[string]string{}
	}
	var details struct {
		WorkflowRunID int64  `json:"workflow_run_id"`
		RunURL        string `json:"run_url"`
		HTMLURL       string `json:"html_url"`
	}
	// go-github v60 does not know return_run_details: the request is built by hand.
	err := r.dispatch(ctx, workflow, map[string]any{"ref": ref, "inputs": inputs, "return_run_details": true}, &details)
	if err == nil && details.WorkflowRunID != 0 {
		return Dispatched{ID: details.WorkflowRunID, URL: details.HTMLURL}, nil
	}
	if err != nil && !(statusOf(err) == http.StatusUnprocessableEntity && saysGitHub(err, "return_run_details")) {
		return Dispatched{}, r.dispatchError(workflow, ref, err)
	}
	var before int64
	if err != nil {
		// The server does not name the run: note the newest run first, then dispatch.
		runs, lerr := r.listRuns(ctx, workflow, &gh.ListWorkflowRunsOptions{ListOptions: gh.ListOptions{PerPage: 1}})
		if lerr != nil {
			return Dispatched{}, lerr
		}
		if len(runs) > 0 {
			before = runs[0].ID
		}
		if err := r.dispatch(ctx, workflow, map[string]any{"ref": ref, "inputs": inputs}, nil); err != nil {
			return Dispatched{}, r.dispatchError(workflow, ref, err)
		}
	}
	run, err := r.findDispatched(ctx, workflow, ref, actor, before)
	if err != nil {
		return Dispatched{}, err
	}
	return Dispatched{ID: run.ID, URL: run.URL, Listed: true}, nil
}

func (r Repo) dispatch(ctx context.Context, workflow string, body map[string]any, out any) error {
	req, err := r.Client.NewRequest(http.MethodPost, fmt.Sprintf("repos/%s/%s/actions/workflows/%s/dispatches",
		url.PathEscape(r.Owner), url.PathEscape(r.Name), url.PathEscape(workflow)), body)
	if err != nil {
		return err
	}
	_, err = r.Client.Do(ctx, req, out)
	return err
}

// dispatchError is GitHub's refusal of a dispatch in words for the requester.
func (r Repo) dispatchError(workflow, ref string, err error) error {
	msg := markdown.Text(gitHubMessage(err))
	switch status := statusOf(err); {
	case status == http.StatusForbidden:
		return &plan.Error{Code: plan.Forbidden, Msg: fmt.Sprintf("GitHub did not let daytwo run workflows in %s (it answered “%s”): an owner of %s must grant daytwo the Actions (read and write) permission.", r.FullName(), msg, r.Owner), Err: err}
	case status == http.StatusNotFound:
		return &plan.Error{Code: plan.NotFound, Msg: fmt.Sprintf("GitHub found no workflow %s in %s to run.", markdown.Code(workflow), r.FullName()), Err: err}
	case status == http.StatusUnprocessableEntity:
		return &plan.Error{Code: plan.Invalid, Msg: fmt.Sprintf("GitHub refused to run %s from %s in %s: “%s”", markdown.Code(workflow), markdown.Code(ref), r.FullName(), msg), Err: err}
	case status == 0 || status >= 500:
		// Not repeated: the dispatch may have gone through.
		return &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("GitHub did not answer the request to run %s in %s, and it may have started all the same: look at its runs in the repository's Actions before asking again.", markdown.Code(workflow), r.FullName()), Err: err}
	}
	return fmt.Errorf("dispatch %s in %s: %w", workflow, r.FullName(), err)
}

// findDispatched waits for actor's run of workflow at ref newer than before.
func (r Repo) findDispatched(ctx context.Context, workflow, ref, actor string, before int64) (Run, error) {
	deadline := time.Now().Add(FindRunWait)
	wait := 250 * time.Millisecond
	for {
		runs, err := r.listRuns(ctx, workflow, &gh.ListWorkflowRunsOptions{Event: "workflow_dispatch", Branch: ref, Actor: actor, ListOptions: gh.ListOptions{PerPage: 20}})
		if err != nil {
			return Run{}, err
		}
		// Newest first: the oldest run newer than before is this dispatch's.
		var found *Run
		for i := range runs {
			if runs[i].ID > before && strings.EqualFold(runs[i].Actor, actor) {
				found = &runs[i]
			}
		}
		if found != nil {
			return *found, nil
		}
		if time.Now().Add(wait).After(deadline) {
			return Run{}, &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("GitHub accepted the request to run %s in %s but had not listed the run %s later; look at its runs in the repository's Actions.", markdown.Code(workflow), r.FullName(), FindRunWait), Err: ErrRunNotFound}
		}
		if err := sleep(ctx, wait); err != nil {
			return Run{}, err
		}
		wait = min(2*wait, 4*time.Second)
	}
}

// DispatchedRuns lists actor's runs of workflow started by workflow_dispatch, newest
// first, at most n.
func (r Repo) DispatchedRuns(ctx context.Context, workflow, actor string, n int) ([]Run, error) {
	return r.listRuns(ctx, workflow, &gh.ListWorkflowRunsOptions{Event: "workflow_dispatch", Actor: actor, ListOptions: gh.ListOptions{PerPage: min(max(n, 1), 100)}})
}

func (r Repo) listRuns(ctx context.Context, workflow string, opt *gh.ListWorkflowRunsOptions) ([]Run, error) {
	var (
		runs *gh.WorkflowRuns
		err  error
	)
	if id, perr := strconv.ParseInt(workflow, 10, 64); perr == nil {
		runs, _, err = r.Client.Actions.ListWorkflowRunsByID(ctx, r.Owner, r.Name, id, opt)
	} else {
		runs, _, err = r.Client.Actions.ListWorkflowRunsByFileName(ctx, r.Owner, r.Name, workflow, opt)
	}
	if err != nil {
		return nil, fmt.Errorf("list the runs of %s in %s: %w", workflow, r.FullName(), err)
	}
	out := make([]Run, 0, len(runs.WorkflowRuns))
	for _, w := range runs.WorkflowRuns {
		out = append(out, RunOf(w))
	}
	// GitHub lists newest first; the order matters to findDispatched.
	slices.SortStableFunc(out, func(a, b Run) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// GetRun reads one workflow run.
func (r Repo) GetRun(ctx context.Context, id int64) (Run, error) {
	w, _, err := r.Client.Actions.GetWorkflowRunByID(ctx, r.Owner, r.Name, id)
	if err != nil {
		return Run{}, fmt.Errorf("read run %d of %s: %w", id, r.FullName(), err)
	}
	return RunOf(w), nil
}

// RepoComment is an issue or pull request comment found across a repository.
type RepoComment struct {
	ID        int64
	Number    int // the issue or pull request it is on
	Body      string
	Author    string // login: "<slug>[bot]" for an app's
	UpdatedAt time.Time
}

// CommentsSince lists the repository's issue and pull request comments updated at or
// after since, at most limit (pages of 100), in GitHub's order (oldest first).
func (r Repo) CommentsSince(ctx context.Context, since time.Time, limit int) ([]RepoComment, error) {
	opt := &gh.IssueListCommentsOptions{Since: &since, ListOptions: gh.ListOptions{PerPage: 100}}
	var out []RepoComment
	for len(out) < limit {
		// Number 0 lists the comments of the whole repository.
		cs, res, err := r.Client.Issues.ListComments(ctx, r.Owner, r.Name, 0, opt)
		if err != nil {
			return out, fmt.Errorf("list the comments of %s: %w", r.FullName(), err)
		}
		for _, c := range cs {
			u := c.GetIssueURL()
			n, _ := strconv.Atoi(u[strings.LastIndexByte(u, '/')+1:])
			out = append(out, RepoComment{ID: c.GetID(), Number: n, Body: c.GetBody(), Author: c.GetUser().GetLogin(), UpdatedAt: c.GetUpdatedAt().Time})
		}
		if res.NextPage == 0 {
			break
		}
		opt.Page = res.NextPage
	}
	return out, nil
}

// gitHubMessage is the message of GitHub's error answer on one line, "" without one.
func gitHubMessage(err error) string {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) {
		return ""
	}
	return strings.Join(strings.Fields(er.Message), " ")
}
