package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

type checkRun struct {
	id          int64
	app         *appInfo // the app that created it
	name        string
	headSHA     string
	externalID  string
	detailsURL  string
	status      string
	conclusion  string
	startedAt   time.Time
	completedAt *time.Time
	title       string
	summary     string
	text        string
}

type commitStatus struct {
	id          int64
	sha         string
	state       string
	context     string
	description string
	targetURL   string
	creator     *account
	createdAt   time.Time
}

// CheckRun is a check run as seen by the Go API.
type CheckRun struct {
	ID         int64
	Name       string
	HeadSHA    string
	Status     string
	Conclusion string
	Title      string
	Summary    string
	Text       string
	DetailsURL string
	ExternalID string
}

// Status is a commit status as seen by the Go API.
type Status struct {
	SHA         string
	State       string
	Context     string
	Description string
	TargetURL   string
	Creator     string
}

func (s *Server) checkRoutes() {
	s.handle("POST /repos/{owner}/{repo}/check-runs", authInstallation, s.createCheckRun)
	s.handle("GET /repos/{owner}/{repo}/check-runs/{id}", authInstallation, s.getCheckRun)
	s.handle("PATCH /repos/{owner}/{repo}/check-runs/{id}", authInstallation, s.updateCheckRun)
	s.handle("POST /repos/{owner}/{repo}/statuses/{sha}", authInstallation, s.createStatus)
}

// --- Go API ---

// CheckRuns lists the check runs on the commit ref resolves to, oldest first.
func (r *Repo) CheckRuns(ref string) []CheckRun {
	var out []CheckRun
	r.with(func(rs *repoState) {
		sha, ok := rs.resolve(ref)
		if !ok {
			return
		}
		for _, cr := range rs.sortedCheckRuns(sha) {
			out = append(out, CheckRun{ID: cr.id, Name: cr.name, HeadSHA: cr.headSHA, Status: cr.status, Conclusion: cr.conclusion,
				Title: cr.title, Summary: cr.summary, Text: cr.text, DetailsURL: cr.detailsURL, ExternalID: cr.externalID})
		}
	})
	return out
}

// Statuses lists the commit statuses on the commit ref resolves to, newest first.
func (r *Repo) Statuses(ref string) []Status {
	var out []Status
	r.with(func(rs *repoState) {
		sha, ok := rs.resolve(ref)
		if !ok {
			return
		}
		for _, st := range rs.statusesFor(sha) {
			out = append(out, Status{SHA: st.sha, State: st.state, Context: st.context, Description: st.description, TargetURL: st.targetURL, Creator: st.creator.login})
		}
	})
	return out
}

// SetStatus sets a commit status as a CI system would (state: error, failure, pending, success).
func (r *Repo) SetStatus(ref, context, state string) {
	r.s.t.Helper()
	var ok bool
	r.with(func(rs *repoState) {
		var sha string
		if sha, ok = rs.resolve(ref); ok {
			rs.statuses = append(rs.statuses, &commitStatus{id: r.s.newID(), sha: sha, state: state, context: context, creator: r.s.accountLocked("github-actions[bot]", "Bot"), createdAt: now()})
		}
	})
	if !ok {
		r.s.fatalf("SetStatus: %s has no commit %q", r.FullName(), ref)
	}
}

// --- state ---

func (rs *repoState) sortedCheckRuns(sha string) []*checkRun {
	var out []*checkRun
	for _, cr := range rs.checkRuns {
		if cr.headSHA == sha {
			out = append(out, cr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (rs *repoState) statusesFor(sha string) []*commitStatus {
	var out []*commitStatus
	for i := len(rs.statuses) - 1; i >= 0; i-- {
		if rs.statuses[i].sha == sha {
			out = append(out, rs.statuses[i])
		}
	}
	return out
}

// checkPassed says whether the latest status or check run named ctx on sha succeeded.
func (rs *repoState) checkPassed(sha, ctx string) bool {
	for _, st := range rs.statusesFor(sha) {
		if st.context == ctx {
			return st.state == "success"
		}
	}
	runs := rs.sortedCheckRuns(sha)
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].name == ctx {
			c := runs[i].conclusion
			return runs[i].status == "completed" && (c == "success" || c == "neutral" || c == "skipped")
		}
	}
	return false
}

// --- JSON ---

type checkRunJSON struct {
	ID          int64   `json:"id"`
	HeadSHA     string  `json:"head_sha"`
	NodeID      string  `json:"node_id"`
	ExternalID  string  `json:"external_id"`
	URL         string  `json:"url"`
	HTMLURL     string  `json:"html_url"`
	DetailsURL  string  `json:"details_url"`
	Status      string  `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   string  `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	Output      struct {
		Title            *string `json:"title"`
		Summary          *string `json:"summary"`
		Text             *string `json:"text"`
		AnnotationsCount int     `json:"annotations_count"`
		AnnotationsURL   string  `json:"annotations_url"`
	} `json:"output"`
	Name       string `json:"name"`
	CheckSuite struct {
		ID int64 `json:"id"`
	} `json:"check_suite"`
	App          appJSON    `json:"app"`
	PullRequests []struct{} `json:"pull_requests"`
}

func (s *Server) checkRunJSON(rs *repoState, cr *checkRun) checkRunJSON {
	u := fmt.Sprintf("%s/repos/%s/check-runs/%d", s.apiBase(), rs.fullName(), cr.id)
	out := checkRunJSON{
		ID: cr.id, HeadSHA: cr.headSHA, NodeID: nodeID("CheckRun", cr.id), ExternalID: cr.externalID, URL: u,
		HTMLURL: fmt.Sprintf("%s/%s/runs/%d", s.srv.URL, rs.fullName(), cr.id), DetailsURL: cr.detailsURL,
		Status: cr.status, Conclusion: optString(cr.conclusion), StartedAt: ts(cr.startedAt), CompletedAt: tsPtr(cr.completedAt),
		Name: cr.name, App: s.appJSON(cr.app), PullRequests: []struct{}{},
	}
	out.Output.Title, out.Output.Summary, out.Output.Text = optString(cr.title), optString(cr.summary), optString(cr.text)
	out.Output.AnnotationsURL = u + "/annotations"
	out.CheckSuite.ID = cr.id
	return out
}

type checkRunInput struct {
	Name        *string `json:"name"`
	HeadSHA     string  `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	Output      *struct {
		Title   string `json:"title"`
		Summary string `json:"summary"`
		Text    string `json:"text"`
	} `json:"output"`
}

var checkConclusions = map[string]bool{"action_required": true, "cancelled": true, "failure": true, "neutral": true, "success": true, "skipped": true, "stale": true, "timed_out": true}

// apply updates a check run from input, returning a validation problem or "".
func (in checkRunInput) apply(cr *checkRun) string {
	if in.Name != nil {
		cr.name = *in.Name
	}
	if in.DetailsURL != nil {
		cr.detailsURL = *in.DetailsURL
	}
	if in.ExternalID != nil {
		cr.externalID = *in.ExternalID
	}
	if in.Output != nil {
		if in.Output.Title == "" || in.Output.Summary == "" {
			return "output.title and output.summary are required"
		}
		if len(in.Output.Summary) > maxBody || len(in.Output.Text) > maxBody {
			return "output.summary and output.text are limited to 65535 characters"
		}
		cr.title, cr.summary, cr.text = in.Output.Title, in.Output.Summary, in.Output.Text
	}
	if in.Status != nil {
		switch *in.Status {
		case "queued", "in_progress", "completed", "waiting", "requested", "pending":
			cr.status = *in.Status
		default:
			return fmt.Sprintf("status %q is invalid", *in.Status)
		}
	}
	if in.Conclusion != nil {
		if !checkConclusions[*in.Conclusion] {
			return fmt.Sprintf("conclusion %q is invalid", *in.Conclusion)
		}
		cr.conclusion = *in.Conclusion
		cr.status = "completed"
	}
	if cr.status == "completed" && cr.conclusion == "" {
		return "conclusion is required when status is completed"
	}
	if cr.status == "completed" && cr.completedAt == nil {
		t := now()
		if in.CompletedAt != nil {
			if parsed, err := time.Parse(time.RFC3339, *in.CompletedAt); err == nil {
				t = parsed
			}
		}
		cr.completedAt = &t
	}
	return ""
}

func (s *Server) createCheckRun(c *call) {
	rs := c.repo
	if !c.mayWrite("checks") {
		return
	}
	var req checkRunInput
	if !c.decode(&req) {
		return
	}
	if req.Name == nil || *req.Name == "" {
		c.invalid("Invalid request.\n\n\"name\" wasn't supplied.")
		return
	}
	if !rs.objects.has(req.HeadSHA, typeCommit) {
		c.invalid("No commit found for SHA: " + req.HeadSHA)
		return
	}
	cr := &checkRun{id: s.newID(), app: c.actorApp(), headSHA: req.HeadSHA, status: "queued", startedAt: now()}
	if req.StartedAt != nil {
		if t, err := time.Parse(time.RFC3339, *req.StartedAt); err == nil {
			cr.startedAt = t
		}
	}
	if problem := req.apply(cr); problem != "" {
		c.invalid("Invalid request.\n\n" + problem)
		return
	}
	rs.checkRuns[cr.id] = cr
	c.json(http.StatusCreated, s.checkRunJSON(rs, cr))
}

func (s *Server) checkRunByPath(c *call) *checkRun {
	id, ok := c.pathInt("id")
	if !ok {
		return nil
	}
	cr := c.repo.checkRuns[id]
	if cr == nil {
		c.fail(http.StatusNotFound, "Not Found")
	}
	return cr
}

func (s *Server) getCheckRun(c *call) {
	if cr := s.checkRunByPath(c); cr != nil {
		c.json(http.StatusOK, s.checkRunJSON(c.repo, cr))
	}
}

func (s *Server) updateCheckRun(c *call) {
	cr := s.checkRunByPath(c)
	if cr == nil || !c.mayWrite("checks") {
		return
	}
	var req checkRunInput
	if !c.decode(&req) {
		return
	}
	updated := *cr
	if problem := req.apply(&updated); problem != "" {
		c.invalid("Invalid request.\n\n" + problem)
		return
	}
	*cr = updated
	c.json(http.StatusOK, s.checkRunJSON(c.repo, cr))
}

func (s *Server) listCheckRuns(c *call, sha string) {
	q := c.r.URL.Query()
	var list []checkRunJSON
	runs := c.repo.sortedCheckRuns(sha)
	latest := map[string]bool{}
	for i := len(runs) - 1; i >= 0; i-- {
		cr := runs[i]
		if q.Get("check_name") != "" && cr.name != q.Get("check_name") {
			continue
		}
		if q.Get("status") != "" && cr.status != q.Get("status") {
			continue
		}
		if q.Get("filter") != "all" {
			if latest[cr.name] {
				continue
			}
			latest[cr.name] = true
		}
		list = append(list, s.checkRunJSON(c.repo, cr))
	}
	page := paginate(c, list)
	c.json(http.StatusOK, struct {
		TotalCount int            `json:"total_count"`
		CheckRuns  []checkRunJSON `json:"check_runs"`
	}{len(list), page})
}

type statusJSON struct {
	URL         string   `json:"url"`
	AvatarURL   *string  `json:"avatar_url"`
	ID          int64    `json:"id"`
	NodeID      string   `json:"node_id"`
	State       string   `json:"state"`
	Description *string  `json:"description"`
	TargetURL   *string  `json:"target_url"`
	Context     string   `json:"context"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
	Creator     userJSON `json:"creator"`
}

func (s *Server) statusJSON(rs *repoState, st *commitStatus) statusJSON {
	avatar := s.userJSON(st.creator).AvatarURL
	return statusJSON{
		URL: s.apiBase() + "/repos/" + rs.fullName() + "/statuses/" + st.sha, AvatarURL: &avatar, ID: st.id, NodeID: nodeID("StatusContext", st.id),
		State: st.state, Description: optString(st.description), TargetURL: optString(st.targetURL), Context: st.context,
		CreatedAt: ts(st.createdAt), UpdatedAt: ts(st.createdAt), Creator: s.userJSON(st.creator),
	}
}

func (s *Server) createStatus(c *call) {
	rs := c.repo
	sha := c.r.PathValue("sha")
	var req struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !c.decode(&req) {
		return
	}
	switch req.State {
	case "error", "failure", "pending", "success":
	default:
		c.invalid("Validation Failed", fieldError{Resource: "Status", Field: "state", Code: "custom", Message: "state is not included in the list"})
		return
	}
	if !rs.objects.has(sha, typeCommit) {
		c.invalid("No commit found for SHA: " + sha)
		return
	}
	if req.Context == "" {
		req.Context = "default"
	}
	st := &commitStatus{id: s.newID(), sha: sha, state: req.State, context: req.Context, description: req.Description, targetURL: req.TargetURL, creator: c.actor(), createdAt: now()}
	rs.statuses = append(rs.statuses, st)
	c.json(http.StatusCreated, s.statusJSON(rs, st))
}

func (s *Server) listStatuses(c *call, sha string) {
	var out []statusJSON
	for _, st := range c.repo.statusesFor(sha) {
		out = append(out, s.statusJSON(c.repo, st))
	}
	if out == nil {
		out = []statusJSON{}
	}
	c.json(http.StatusOK, paginate(c, out))
}

// combinedStatus reports the latest status per context and their combined state.
func (s *Server) combinedStatus(c *call, sha string) {
	rs := c.repo
	seen := map[string]bool{}
	var latest []statusJSON
	state := "success"
	for _, st := range rs.statusesFor(sha) {
		if seen[st.context] {
			continue
		}
		seen[st.context] = true
		latest = append(latest, s.statusJSON(rs, st))
		switch {
		case st.state == "error" || st.state == "failure":
			state = "failure"
		case st.state == "pending" && state != "failure":
			state = "pending"
		}
	}
	if len(latest) == 0 {
		state, latest = "pending", []statusJSON{}
	}
	c.json(http.StatusOK, struct {
		State      string       `json:"state"`
		Statuses   []statusJSON `json:"statuses"`
		SHA        string       `json:"sha"`
		TotalCount int          `json:"total_count"`
		Repository repoJSON     `json:"repository"`
		CommitURL  string       `json:"commit_url"`
		URL        string       `json:"url"`
	}{state, latest, sha, len(latest), s.repoJSON(rs), s.apiBase() + "/repos/" + rs.fullName() + "/commits/" + sha,
		s.apiBase() + "/repos/" + rs.fullName() + "/commits/" + sha + "/status"})
}

// commitSub serves /commits/{ref}/check-runs, /statuses and /status, where ref may
// contain slashes; it returns false when the path names no such sub-resource.
func (s *Server) commitSub(c *call, refPath string) bool {
	for suffix, h := range map[string]func(*call, string){
		"/check-runs": s.listCheckRuns,
		"/statuses":   s.listStatuses,
		"/status":     s.combinedStatus,
	} {
		ref, ok := strings.CutSuffix(refPath, suffix)
		if !ok {
			continue
		}
		sha, found := c.repo.resolve(ref)
		if !found {
			c.invalid("No commit found for SHA: " + ref)
			return true
		}
		h(c, sha)
		return true
	}
	return false
}
