package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// GitHub Actions, as far as dispatching a workflow and following its run goes: workflows
// are the files under .github/workflows of the default branch (ids given when first seen);
// a dispatch reads the workflow file at the ref it names and checks the inputs against its
// on.workflow_dispatch trigger as GitHub does; runs start queued and move as the test
// says (Repo.AdvanceRun), each step sending a workflow_run webhook built from GitHub's
// example payloads to the apps that subscribe to it.

// Dispatch is a recorded workflow_dispatch request that started a run.
type Dispatch struct {
	Workflow string // workflow id or file name, as given in the path
	Ref      string
	Inputs   map[string]any
	RunID    int64
}

// WorkflowRun is a workflow run as the Go API shows it.
type WorkflowRun struct {
	ID         int64
	WorkflowID int64
	Path       string // ".github/workflows/deploy.yml"
	Name       string
	Event      string
	Status     string // queued, in_progress, completed, …
	Conclusion string // set once completed
	HeadBranch string
	HeadSHA    string
	RunNumber  int
	Actor      string
	Inputs     map[string]any
	CreatedAt  time.Time
	StartedAt  time.Time
	UpdatedAt  time.Time
}

type workflowRun struct {
	WorkflowRun
	actor *account
}

// workflowDir is where GitHub reads workflows from.
const workflowDir = ".github/workflows"

// Dispatch limits (GitHub.com's OpenAPI description; GHES 3.17 to 3.19 accept 10 inputs).
const (
	maxDispatchInputs     = 25
	maxDispatchInputsGHES = 10
)

// WithEnterpriseServer makes the fake answer as GitHub Enterprise Server version (e.g.
// "3.19.2") does: responses carry X-GitHub-Enterprise-Version, and the dispatch endpoint
// knows only ref and inputs (return_run_details is "not a permitted key", 422), accepts at
// most 10 inputs and answers 204.
func WithEnterpriseServer(version string) Option { return func(c *config) { c.ghes = version } }

// SetWebhookURL sets where the webhooks the fake sends on its own (workflow_run) go for
// the app New configured; apps registered from a manifest use their manifest's URL.
// Empty (the default) sends none.
func (s *Server) SetWebhookURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.hookURL = u
}

func (s *Server) actionsRoutes() {
	s.handle("GET /repos/{owner}/{repo}/actions/workflows/{workflow}", authInstallation, s.getWorkflow)
	s.handle("GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs", authInstallation, s.listRuns)
	s.handle("POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches", authInstallation, s.dispatchWorkflow)
	s.handle("GET /repos/{owner}/{repo}/actions/runs", authInstallation, s.listRuns)
	s.handle("GET /repos/{owner}/{repo}/actions/runs/{id}", authInstallation, s.getRun)
}

// mayRead reports whether the call's installation may read through perm (read or
// write); otherwise it answers GitHub's 403.
func (c *call) mayRead(perm string) bool {
	if c.inst == nil {
		return true
	}
	if lvl := c.inst.permissions()[perm]; lvl == "read" || lvl == "write" {
		return true
	}
	c.json(http.StatusForbidden, errorBody(http.StatusForbidden, "Resource not accessible by integration", "https://docs.github.com/rest"))
	return false
}

// --- workflows ---

type workflowDef struct {
	id   int64
	path string
	name string
}

// workflowName is a workflow file's name:, else its path, as GitHub names it.
func workflowName(p string, data []byte) string {
	var doc struct {
		Name any `yaml:"name"`
	}
	if yaml.Unmarshal(data, &doc) == nil {
		if n, ok := doc.Name.(string); ok && n != "" {
			return n
		}
	}
	return p
}

// workflowFile reads a file of .github/workflows at a commit.
func (rs *repoState) workflowFile(sha, p string) ([]byte, bool) {
	c, err := rs.objects.commit(sha)
	if err != nil {
		return nil, false
	}
	e, ok := rs.objects.lookup(c.tree, p)
	if !ok || e.mode == modeTree {
		return nil, false
	}
	return rs.objects.blob(e.sha)
}

// workflows lists the workflow files of the default branch, giving new ones an id.
func (s *Server) workflows(rs *repoState) []workflowDef {
	sha, ok := rs.resolve(rs.defaultBranch)
	if !ok {
		return nil
	}
	c, err := rs.objects.commit(sha)
	if err != nil {
		return nil
	}
	dir, ok := rs.objects.lookup(c.tree, workflowDir)
	if !ok || dir.mode != modeTree {
		return nil
	}
	entries, err := rs.objects.tree(dir.sha)
	if err != nil {
		return nil
	}
	if rs.workflowIDs == nil {
		rs.workflowIDs = map[string]int64{}
	}
	var out []workflowDef
	for _, e := range entries {
		if e.mode == modeTree || !(strings.HasSuffix(e.name, ".yml") || strings.HasSuffix(e.name, ".yaml")) {
			continue
		}
		p := workflowDir + "/" + e.name
		id, ok := rs.workflowIDs[p]
		if !ok {
			id = s.newID()
			rs.workflowIDs[p] = id
		}
		data, _ := rs.objects.blob(e.sha)
		out = append(out, workflowDef{id: id, path: p, name: workflowName(p, data)})
	}
	return out
}

// workflowByPath finds the {workflow} of the path, an id or a file name, answering 404
// as GitHub does for one the default branch does not have.
func (s *Server) workflowByPath(c *call) (workflowDef, bool) {
	ref := c.r.PathValue("workflow")
	for _, w := range s.workflows(c.repo) {
		if strconv.FormatInt(w.id, 10) == ref || path.Base(w.path) == ref {
			return w, true
		}
	}
	c.fail(http.StatusNotFound, "Not Found")
	return workflowDef{}, false
}

type workflowJSON struct {
	ID        int64  `json:"id"`
	NodeID    string `json:"node_id"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	State     string `json:"state"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	BadgeURL  string `json:"badge_url"`
}

func (s *Server) workflowJSON(rs *repoState, w workflowDef) workflowJSON {
	return workflowJSON{
		ID: w.id, NodeID: nodeID("Workflow", w.id), Name: w.name, Path: w.path, State: "active",
		CreatedAt: ts(rs.createdAt), UpdatedAt: ts(rs.pushedAt),
		URL:      fmt.Sprintf("%s/repos/%s/actions/workflows/%d", s.apiBase(), rs.fullName(), w.id),
		HTMLURL:  fmt.Sprintf("%s/%s/blob/%s/%s", s.srv.URL, rs.fullName(), rs.defaultBranch, w.path),
		BadgeURL: fmt.Sprintf("%s/%s/workflows/%s/badge.svg", s.srv.URL, rs.fullName(), url.PathEscape(w.name)),
	}
}

func (s *Server) getWorkflow(c *call) {
	if !c.mayRead("actions") {
		return
	}
	if w, ok := s.workflowByPath(c); ok {
		c.json(http.StatusOK, s.workflowJSON(c.repo, w))
	}
}

// --- the workflow_dispatch trigger, read as GitHub reads it ---

type dispatchInput struct {
	name     string
	typ      string
	required bool
	def      *string
	options  []string
}

// dispatchTrigger reads on.workflow_dispatch of a workflow file: whether it has one, and
// its inputs. A file that is not YAML has none.
func dispatchTrigger(data []byte) (bool, []dispatchInput) {
	var doc struct {
		On yaml.Node `yaml:"on"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return false, nil
	}
	on := &doc.On
	switch on.Kind {
	case yaml.ScalarNode:
		return on.Value == "workflow_dispatch", nil
	case yaml.SequenceNode:
		return slices.ContainsFunc(on.Content, func(n *yaml.Node) bool { return n.Value == "workflow_dispatch" }), nil
	case yaml.MappingNode:
	default:
		return false, nil
	}
	var trigger *yaml.Node
	for i := 0; i+1 < len(on.Content); i += 2 {
		if on.Content[i].Value == "workflow_dispatch" {
			trigger = on.Content[i+1]
		}
	}
	if trigger == nil {
		return false, nil
	}
	var spec struct {
		Inputs yaml.Node `yaml:"inputs"`
	}
	if trigger.Kind != yaml.MappingNode || trigger.Decode(&spec) != nil || spec.Inputs.Kind != yaml.MappingNode {
		return true, nil
	}
	var inputs []dispatchInput
	for i := 0; i+1 < len(spec.Inputs.Content); i += 2 {
		in := dispatchInput{name: spec.Inputs.Content[i].Value, typ: "string"}
		var fields struct {
			Type     string    `yaml:"type"`
			Required bool      `yaml:"required"`
			Default  yaml.Node `yaml:"default"`
			Options  []string  `yaml:"options"`
		}
		if spec.Inputs.Content[i+1].Decode(&fields) == nil {
			if fields.Type != "" {
				in.typ = fields.Type
			}
			in.required, in.options = fields.Required, fields.Options
			if fields.Default.Kind == yaml.ScalarNode && fields.Default.Tag != "!!null" {
				d := fields.Default.Value
				in.def = &d
			}
		}
		inputs = append(inputs, in)
	}
	return true, inputs
}

// inputText is an input value as the run sees it.
func inputText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) dispatchWorkflow(c *call) {
	rs := c.repo
	if !c.mayWrite("actions") {
		return
	}
	var body map[string]json.RawMessage
	if !c.decode(&body) {
		return
	}
	permitted := []string{"ref", "inputs", "return_run_details"}
	limit := maxDispatchInputs
	if s.ghes != "" {
		permitted, limit = permitted[:2], maxDispatchInputsGHES
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(permitted, k) {
			c.invalid(fmt.Sprintf("Invalid request.\n\n%q is not a permitted key.", k))
			return
		}
	}
	var req struct {
		Ref              *string        `json:"ref"`
		Inputs           map[string]any `json:"inputs"`
		ReturnRunDetails *bool          `json:"return_run_details"`
	}
	raw, _ := json.Marshal(body)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		c.invalid("Invalid request.\n\n" + strings.TrimPrefix(err.Error(), "json: "))
		return
	}
	if req.Ref == nil || *req.Ref == "" {
		c.invalid("Invalid request.\n\n\"ref\" wasn't supplied.")
		return
	}
	if len(req.Inputs) > limit {
		c.invalid(fmt.Sprintf("Invalid request.\n\nNo more than %d properties are allowed; %d were supplied.", limit, len(req.Inputs)))
		return
	}
	w, ok := s.workflowByPath(c)
	if !ok {
		return
	}
	// A branch or a tag: GitHub runs the workflow file as it is there.
	ref := *req.Ref
	var sha string
	for _, full := range []string{ref, "refs/heads/" + ref, "refs/tags/" + ref} {
		if strings.HasPrefix(full, "refs/") && sha == "" {
			sha = rs.refs[full]
		}
	}
	if sha == "" {
		c.invalid("No ref found for: " + ref)
		return
	}
	data, found := rs.workflowFile(sha, w.path)
	dispatchable, inputs := false, []dispatchInput(nil)
	if found {
		dispatchable, inputs = dispatchTrigger(data)
	}
	if !dispatchable {
		c.invalid("Workflow does not have 'workflow_dispatch' trigger")
		return
	}
	var unexpected []string
	for k := range req.Inputs {
		if !slices.ContainsFunc(inputs, func(in dispatchInput) bool { return in.name == k }) {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		list, _ := json.Marshal(unexpected)
		c.invalid("Unexpected inputs provided: " + strings.ReplaceAll(string(list), `","`, `", "`))
		return
	}
	values := map[string]any{}
	for _, in := range inputs {
		v, given := req.Inputs[in.name]
		if !given {
			if in.def != nil {
				values[in.name] = *in.def
			} else if in.required {
				c.invalid(fmt.Sprintf("Required input '%s' not provided", in.name))
				return
			}
			continue
		}
		text := inputText(v)
		allowed := in.options
		if in.typ == "boolean" {
			allowed = []string{"true", "false"}
		}
		if (in.typ == "choice" || in.typ == "boolean") && !slices.Contains(allowed, text) {
			c.invalid(fmt.Sprintf("Provided value '%s' for input '%s' not in the list of allowed values", text, in.name))
			return
		}
		values[in.name] = text
	}

	t := now()
	run := &workflowRun{actor: c.actor(), WorkflowRun: WorkflowRun{
		ID: s.newID(), WorkflowID: w.id, Path: w.path, Name: workflowName(w.path, data), Event: "workflow_dispatch",
		Status: "queued", HeadBranch: strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/"), HeadSHA: sha,
		Actor: c.actor().login, Inputs: values, CreatedAt: t, StartedAt: t, UpdatedAt: t,
	}}
	if rs.runs == nil {
		rs.runs = map[int64]*workflowRun{}
	}
	for _, r := range rs.runs {
		if r.WorkflowID == w.id {
			run.RunNumber = max(run.RunNumber, r.RunNumber)
		}
	}
	run.RunNumber++
	rs.runs[run.ID] = run
	given := req.Inputs
	if given == nil {
		given = map[string]any{}
	}
	rs.dispatches = append(rs.dispatches, Dispatch{Workflow: c.r.PathValue("workflow"), Ref: ref, Inputs: given, RunID: run.ID})
	s.sendRunEventLater(rs, run, "requested")

	if req.ReturnRunDetails != nil && *req.ReturnRunDetails {
		c.json(http.StatusOK, struct {
			WorkflowRunID int64  `json:"workflow_run_id"`
			RunURL        string `json:"run_url"`
			HTMLURL       string `json:"html_url"`
		}{run.ID, s.runURL(rs, run.ID), s.runHTMLURL(rs, run.ID)})
		return
	}
	c.noContent()
}

func (s *Server) runURL(rs *repoState, id int64) string {
	return fmt.Sprintf("%s/repos/%s/actions/runs/%d", s.apiBase(), rs.fullName(), id)
}

func (s *Server) runHTMLURL(rs *repoState, id int64) string {
	return fmt.Sprintf("%s/%s/actions/runs/%d", s.srv.URL, rs.fullName(), id)
}

// --- runs ---

type headCommitJSON struct {
	ID        string `json:"id"`
	TreeID    string `json:"tree_id"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
	Author    struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"author"`
	Committer struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"committer"`
}

type workflowRunJSON struct {
	ID                  int64          `json:"id"`
	Name                string         `json:"name"`
	NodeID              string         `json:"node_id"`
	CheckSuiteID        int64          `json:"check_suite_id"`
	CheckSuiteNodeID    string         `json:"check_suite_node_id"`
	HeadBranch          string         `json:"head_branch"`
	HeadSHA             string         `json:"head_sha"`
	Path                string         `json:"path"`
	RunNumber           int            `json:"run_number"`
	Event               string         `json:"event"`
	DisplayTitle        string         `json:"display_title"`
	Status              string         `json:"status"`
	Conclusion          *string        `json:"conclusion"`
	WorkflowID          int64          `json:"workflow_id"`
	URL                 string         `json:"url"`
	HTMLURL             string         `json:"html_url"`
	PullRequests        []struct{}     `json:"pull_requests"`
	CreatedAt           string         `json:"created_at"`
	UpdatedAt           string         `json:"updated_at"`
	Actor               userJSON       `json:"actor"`
	RunAttempt          int            `json:"run_attempt"`
	ReferencedWorkflows []struct{}     `json:"referenced_workflows"`
	RunStartedAt        string         `json:"run_started_at"`
	TriggeringActor     userJSON       `json:"triggering_actor"`
	JobsURL             string         `json:"jobs_url"`
	LogsURL             string         `json:"logs_url"`
	CheckSuiteURL       string         `json:"check_suite_url"`
	ArtifactsURL        string         `json:"artifacts_url"`
	CancelURL           string         `json:"cancel_url"`
	RerunURL            string         `json:"rerun_url"`
	PreviousAttemptURL  *string        `json:"previous_attempt_url"`
	WorkflowURL         string         `json:"workflow_url"`
	HeadCommit          headCommitJSON `json:"head_commit"`
	Repository          map[string]any `json:"repository"`
	HeadRepository      map[string]any `json:"head_repository"`
}

// minimalRepoKeys are the fields of GitHub's "minimal-repository", which runs carry.
var minimalRepoKeys = []string{
	"archive_url", "assignees_url", "blobs_url", "branches_url", "collaborators_url", "comments_url", "commits_url",
	"compare_url", "contents_url", "contributors_url", "deployments_url", "description", "downloads_url", "events_url",
	"fork", "forks_url", "full_name", "git_commits_url", "git_refs_url", "git_tags_url", "git_url", "hooks_url",
	"html_url", "id", "issue_comment_url", "issue_events_url", "issues_url", "keys_url", "labels_url", "languages_url",
	"merges_url", "milestones_url", "name", "node_id", "notifications_url", "owner", "private", "pulls_url",
	"releases_url", "ssh_url", "stargazers_url", "statuses_url", "subscribers_url", "subscription_url", "tags_url",
	"teams_url", "trees_url", "url",
}

func (s *Server) minimalRepoJSON(rs *repoState) map[string]any {
	var full map[string]any
	b, _ := json.Marshal(s.repoJSON(rs))
	_ = json.Unmarshal(b, &full)
	out := map[string]any{}
	for _, k := range minimalRepoKeys {
		out[k] = full[k]
	}
	return out
}

func (s *Server) runJSON(rs *repoState, r *workflowRun) workflowRunJSON {
	u := s.runURL(rs, r.ID)
	out := workflowRunJSON{
		ID: r.ID, Name: r.Name, NodeID: nodeID("WorkflowRun", r.ID), CheckSuiteID: r.ID, CheckSuiteNodeID: nodeID("CheckSuite", r.ID),
		HeadBranch: r.HeadBranch, HeadSHA: r.HeadSHA, Path: r.Path + "@" + r.HeadBranch, RunNumber: r.RunNumber, Event: r.Event,
		DisplayTitle: r.Name, Status: r.Status, Conclusion: optString(r.Conclusion), WorkflowID: r.WorkflowID,
		URL: u, HTMLURL: s.runHTMLURL(rs, r.ID), PullRequests: []struct{}{},
		CreatedAt: ts(r.CreatedAt), UpdatedAt: ts(r.UpdatedAt), Actor: s.userJSON(r.actor), RunAttempt: 1,
		ReferencedWorkflows: []struct{}{}, RunStartedAt: ts(r.StartedAt), TriggeringActor: s.userJSON(r.actor),
		JobsURL: u + "/jobs", LogsURL: u + "/logs", CheckSuiteURL: fmt.Sprintf("%s/repos/%s/check-suites/%d", s.apiBase(), rs.fullName(), r.ID),
		ArtifactsURL: u + "/artifacts", CancelURL: u + "/cancel", RerunURL: u + "/rerun",
		WorkflowURL: fmt.Sprintf("%s/repos/%s/actions/workflows/%d", s.apiBase(), rs.fullName(), r.WorkflowID),
		Repository:  s.minimalRepoJSON(rs), HeadRepository: s.minimalRepoJSON(rs),
	}
	if c, err := rs.objects.commit(r.HeadSHA); err == nil {
		hc := &out.HeadCommit
		hc.ID, hc.TreeID, hc.Message, hc.Timestamp = r.HeadSHA, c.tree, c.message, ts(c.committer.Date)
		hc.Author.Name, hc.Author.Email = c.author.Name, c.author.Email
		hc.Committer.Name, hc.Committer.Email = c.committer.Name, c.committer.Email
	}
	return out
}

func (s *Server) getRun(c *call) {
	if !c.mayRead("actions") {
		return
	}
	id, ok := c.pathInt("id")
	if !ok {
		return
	}
	r := c.repo.runs[id]
	if r == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, s.runJSON(c.repo, r))
}

// runFilter is the query of a runs list: event, branch, status (a status or a
// conclusion), actor, head_sha and created (GitHub's date search syntax).
func runFilter(q url.Values) (func(*workflowRun) bool, error) {
	created, err := dateRange(q.Get("created"))
	if err != nil {
		return nil, err
	}
	return func(r *workflowRun) bool {
		status := q.Get("status")
		switch {
		case q.Get("event") != "" && q.Get("event") != r.Event,
			q.Get("branch") != "" && q.Get("branch") != r.HeadBranch,
			q.Get("actor") != "" && !strings.EqualFold(q.Get("actor"), r.Actor),
			q.Get("head_sha") != "" && q.Get("head_sha") != r.HeadSHA,
			status != "" && status != r.Status && status != r.Conclusion,
			!created(r.CreatedAt):
			return false
		}
		return true
	}, nil
}

// dateRange reads GitHub's search syntax for dates: 2026-01-02, >=2026-01-02T10:00:00Z,
// >…, <…, <=…, a..b (either side may be *).
func dateRange(expr string) (func(time.Time) bool, error) {
	if expr == "" {
		return func(time.Time) bool { return true }, nil
	}
	parse := func(s string, end bool) (time.Time, bool, error) {
		if s == "*" {
			return time.Time{}, false, nil
		}
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				if layout == "2006-01-02" && end {
					t = t.Add(24*time.Hour - time.Nanosecond) // a day's end includes the day
				}
				return t, true, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("%q is not a date", s)
	}
	if a, b, ok := strings.Cut(expr, ".."); ok {
		from, hasFrom, err := parse(a, false)
		if err != nil {
			return nil, err
		}
		to, hasTo, err := parse(b, true)
		if err != nil {
			return nil, err
		}
		return func(t time.Time) bool { return (!hasFrom || !t.Before(from)) && (!hasTo || !t.After(to)) }, nil
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if rest, ok := strings.CutPrefix(expr, op); ok {
			at, _, err := parse(rest, op == "<=" || op == ">")
			if err != nil {
				return nil, err
			}
			switch op {
			case ">=":
				return func(t time.Time) bool { return !t.Before(at) }, nil
			case "<=":
				return func(t time.Time) bool { return !t.After(at) }, nil
			case ">":
				return func(t time.Time) bool { return t.After(at) }, nil
			default:
				return func(t time.Time) bool { return t.Before(at) }, nil
			}
		}
	}
	day, _, err := parse(expr, false)
	if err != nil {
		return nil, err
	}
	return func(t time.Time) bool { return !t.Before(day) && t.Before(day.Add(24*time.Hour)) }, nil
}

// listRuns lists the repository's runs, or one workflow's, newest first.
func (s *Server) listRuns(c *call) {
	if !c.mayRead("actions") {
		return
	}
	workflowID := int64(0)
	if c.r.PathValue("workflow") != "" {
		w, ok := s.workflowByPath(c)
		if !ok {
			return
		}
		workflowID = w.id
	}
	keep, err := runFilter(c.r.URL.Query())
	if err != nil {
		c.invalid("Validation Failed", fieldError{Resource: "WorkflowRun", Field: "created", Code: "invalid", Message: err.Error()})
		return
	}
	var runs []*workflowRun
	for _, r := range c.repo.runs {
		if (workflowID == 0 || r.WorkflowID == workflowID) && keep(r) {
			runs = append(runs, r)
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].ID > runs[j].ID })
	list := make([]workflowRunJSON, len(runs))
	for i, r := range runs {
		list[i] = s.runJSON(c.repo, r)
	}
	c.json(http.StatusOK, struct {
		TotalCount   int               `json:"total_count"`
		WorkflowRuns []workflowRunJSON `json:"workflow_runs"`
	}{len(list), paginate(c, list)})
}

// --- the Go API ---

// Dispatches lists recorded workflow dispatches, oldest first.
func (r *Repo) Dispatches() []Dispatch {
	var out []Dispatch
	r.with(func(rs *repoState) { out = append(out, rs.dispatches...) })
	return out
}

// Runs lists the repository's workflow runs, oldest first.
func (r *Repo) Runs() []WorkflowRun {
	var out []WorkflowRun
	r.with(func(rs *repoState) {
		for _, run := range rs.runs {
			out = append(out, run.WorkflowRun)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Run returns one workflow run.
func (r *Repo) Run(id int64) (WorkflowRun, bool) {
	var out WorkflowRun
	var ok bool
	r.with(func(rs *repoState) {
		if run := rs.runs[id]; run != nil {
			out, ok = run.WorkflowRun, true
		}
	})
	return out, ok
}

var runConclusions = []string{"success", "failure", "cancelled", "skipped", "timed_out", "action_required", "neutral", "stale", "startup_failure"}

// AdvanceRun moves a run as GitHub Actions would: to in_progress, or to completed with a
// conclusion (success, failure, cancelled, …). Each step sends the workflow_run webhook
// (action in_progress or completed) to the apps subscribed to it, once the webhooks sent
// before it were delivered; it returns those deliveries.
func (r *Repo) AdvanceRun(id int64, status, conclusion string) []Delivery {
	r.s.t.Helper()
	switch {
	case status != "in_progress" && status != "completed":
		r.s.fatalf("AdvanceRun: status must be in_progress or completed, not %q", status)
	case status == "completed" && !slices.Contains(runConclusions, conclusion):
		r.s.fatalf("AdvanceRun: a completed run needs a conclusion (%s), not %q", strings.Join(runConclusions, ", "), conclusion)
	case status != "completed" && conclusion != "":
		r.s.fatalf("AdvanceRun: only a completed run has a conclusion")
	}
	r.s.WaitRedeliveries()
	r.s.mu.Lock()
	rs := r.s.repos[r.key]
	run := rs.runs[id]
	if run == nil {
		r.s.mu.Unlock()
		r.s.fatalf("AdvanceRun: %s has no run %d", r.FullName(), id)
		return nil
	}
	if run.Status == "completed" {
		r.s.mu.Unlock()
		r.s.fatalf("AdvanceRun: run %d has completed already", id)
		return nil
	}
	t := now()
	if status == "in_progress" && run.Status != "in_progress" {
		run.StartedAt = t
	}
	run.Status, run.Conclusion, run.UpdatedAt = status, conclusion, t
	sends := r.s.runEventLocked(rs, run, status)
	r.s.mu.Unlock()
	var out []Delivery
	for _, send := range sends {
		if d := send(); d != nil {
			out = append(out, *d)
		}
	}
	return out
}

// WorkflowRunPayload builds the workflow_run webhook payload of a run as it stands, for
// action requested, in_progress or completed.
func (r *Repo) WorkflowRunPayload(id int64, action string) []byte {
	r.s.t.Helper()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rs := r.s.repos[r.key]
	run := rs.runs[id]
	if run == nil {
		r.s.fatalf("WorkflowRunPayload: %s has no run %d", r.FullName(), id)
	}
	return r.s.runPayload(rs, run, action)
}

// --- workflow_run webhooks ---

// runPayload starts from GitHub's example for the action and fills it from the run.
func (s *Server) runPayload(rs *repoState, run *workflowRun, action string) []byte {
	repo := &Repo{s: s, key: strings.ToLower(rs.fullName())}
	e, _ := repo.statePayload("workflow_run." + action)
	j := s.runJSON(rs, run)
	e.Set("action", action)
	for k, v := range map[string]any{
		"id": j.ID, "name": j.Name, "node_id": j.NodeID, "check_suite_id": j.CheckSuiteID, "check_suite_node_id": j.CheckSuiteNodeID,
		"head_branch": j.HeadBranch, "head_sha": j.HeadSHA, "path": run.Path, "run_number": j.RunNumber, "event": j.Event,
		"display_title": j.DisplayTitle, "status": j.Status, "conclusion": j.Conclusion, "workflow_id": j.WorkflowID,
		"url": j.URL, "html_url": j.HTMLURL, "created_at": j.CreatedAt, "updated_at": j.UpdatedAt, "run_attempt": 1,
		"run_started_at": j.RunStartedAt, "jobs_url": j.JobsURL, "logs_url": j.LogsURL, "check_suite_url": j.CheckSuiteURL,
		"artifacts_url": j.ArtifactsURL, "cancel_url": j.CancelURL, "rerun_url": j.RerunURL, "previous_attempt_url": nil,
		"workflow_url": j.WorkflowURL, "pull_requests": []any{}, "actor": j.Actor, "triggering_actor": j.TriggeringActor,
		"head_commit": j.HeadCommit,
	} {
		e.Set("workflow_run."+k, v)
	}
	for _, side := range []string{"repository", "head_repository"} {
		p := "workflow_run." + side
		e.setIf(p+".id", rs.id)
		e.setIf(p+".node_id", nodeID("Repository", rs.id))
		e.setIf(p+".name", rs.name)
		e.setIf(p+".full_name", rs.fullName())
		e.setIf(p+".private", rs.private)
		e.setIf(p+".owner.login", rs.owner.login)
		e.setIf(p+".owner.id", rs.owner.id)
	}
	w := s.workflowJSON(rs, workflowDef{id: run.WorkflowID, path: run.Path, name: run.Name})
	for k, v := range map[string]any{"id": w.ID, "node_id": w.NodeID, "name": w.Name, "path": w.Path, "state": w.State,
		"url": w.URL, "html_url": w.HTMLURL, "badge_url": w.BadgeURL, "created_at": w.CreatedAt, "updated_at": w.UpdatedAt} {
		e.Set("workflow."+k, v)
	}
	e.Set("sender", s.userJSON(run.actor))
	return s.mustBytes(e)
}

// runEventLocked prepares the workflow_run deliveries of one step of a run, to every app
// installed on the repository that subscribes to workflow_run, may read actions and has a
// webhook URL; the caller sends them after unlocking.
func (s *Server) runEventLocked(rs *repoState, run *workflowRun, action string) []func() *Delivery {
	payload := s.runPayload(rs, run, action)
	var sends []func() *Delivery
	seen := map[*appInfo]bool{}
	ids := make([]int64, 0, len(s.installations))
	for id := range s.installations {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		inst := s.installations[id]
		app := inst.app
		lvl := inst.permissions()["actions"]
		if seen[app] || !inst.coversName(rs.fullName()) || !slices.Contains(app.events, "workflow_run") ||
			(lvl != "read" && lvl != "write") || app.hookURL == "" {
			continue
		}
		seen[app] = true
		body := (&PayloadEditor{}).withInstallation(payload, id)
		target := app.hookURL
		sends = append(sends, func() *Delivery {
			d, res, _ := s.deliver(app, target, "workflow_run", NewDeliveryID(), body, false)
			if res != nil {
				res.Body.Close()
			}
			return d
		})
	}
	return sends
}

// withInstallation sets installation.id of a payload to the installation it goes to.
func (*PayloadEditor) withInstallation(payload []byte, id int64) []byte {
	e := EditPayload(payload).Installation(id)
	b, err := e.Bytes()
	if err != nil {
		return payload
	}
	return b
}

// sendRunEventLater sends a step's webhooks after the request that caused it is
// answered, as GitHub does; AdvanceRun and WaitRedeliveries wait for them.
func (s *Server) sendRunEventLater(rs *repoState, run *workflowRun, action string) {
	sends := s.runEventLocked(rs, run, action)
	if len(sends) == 0 {
		return
	}
	s.hooks.inflight++
	go func() {
		for _, send := range sends {
			send()
		}
		s.mu.Lock()
		s.hooks.inflight--
		if s.hooks.inflight == 0 {
			s.hooks.idle.Broadcast()
		}
		s.mu.Unlock()
	}()
}
