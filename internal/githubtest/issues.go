package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// issueState is an issue or, when pull is set, a pull request: they share numbers.
type issueState struct {
	number      int
	id          int64
	title       string
	body        string
	user        *account
	viaApp      *appInfo // the app whose bot wrote it
	state       string   // open, closed
	stateReason string
	labels      []string // names, in the order added
	assignees   []*account
	locked      bool
	comments    int
	createdAt   time.Time
	updatedAt   time.Time
	closedAt    *time.Time
	closedBy    *account
	reactions   []*reaction
	pull        *pullState
	// lastEdit is the last change of title or body, for its issues "edited" payload.
	lastEdit *issueEdit
}

// issueEdit is one edit of an issue's title or body: who made it and what was there before.
type issueEdit struct {
	by                  *account
	titleFrom, bodyFrom *string // nil: unchanged
}

type commentState struct {
	id        int64
	issue     int
	user      *account
	viaApp    *appInfo
	body      string
	createdAt time.Time
	updatedAt time.Time
	reactions []*reaction
}

type reaction struct {
	id        int64
	user      *account
	content   string
	createdAt time.Time
}

type labelState struct {
	id          int64
	name        string
	color       string
	description string
	isDefault   bool
}

// reactionContents are the reactions GitHub accepts.
var reactionContents = map[string]bool{"+1": true, "-1": true, "laugh": true, "confused": true, "heart": true, "hooray": true, "rocket": true, "eyes": true}

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

func (s *Server) issueRoutes() {
	s.handle("GET /repos/{owner}/{repo}/issues", authInstallation, s.listIssues)
	s.handle("POST /repos/{owner}/{repo}/issues", authInstallation, s.createIssue)
	s.handle("GET /repos/{owner}/{repo}/issues/{number}", authInstallation, s.getIssue)
	s.handle("PATCH /repos/{owner}/{repo}/issues/{number}", authInstallation, s.editIssue)
	// "/issues/comments/{id}" and "/issues/{number}/comments" would conflict in ServeMux, so
	// an issue's sub-resources are dispatched by name under a more general pattern.
	s.handle("GET /repos/{owner}/{repo}/issues/{number}/{sub}", authInstallation, bySub(map[string]func(*call){
		"comments": s.listComments, "labels": s.listIssueLabels, "reactions": s.listIssueReactions,
	}))
	s.handle("POST /repos/{owner}/{repo}/issues/{number}/{sub}", authInstallation, bySub(map[string]func(*call){
		"comments": s.createComment, "labels": s.addLabels, "reactions": s.createIssueReaction,
	}))
	s.handle("PUT /repos/{owner}/{repo}/issues/{number}/{sub}", authInstallation, bySub(map[string]func(*call){"labels": s.setLabels}))
	s.handle("DELETE /repos/{owner}/{repo}/issues/{number}/{sub}", authInstallation, bySub(map[string]func(*call){"labels": s.clearLabels}))
	s.handle("DELETE /repos/{owner}/{repo}/issues/{number}/{sub}/{item}", authInstallation, bySub(map[string]func(*call){
		"labels": s.removeLabel, "reactions": s.deleteIssueReaction,
	}))
	s.handle("GET /repos/{owner}/{repo}/issues/comments", authInstallation, s.listComments)
	s.handle("GET /repos/{owner}/{repo}/issues/comments/{id}", authInstallation, s.getComment)
	s.handle("PATCH /repos/{owner}/{repo}/issues/comments/{id}", authInstallation, s.editComment)
	s.handle("DELETE /repos/{owner}/{repo}/issues/comments/{id}", authInstallation, s.deleteComment)
	s.handle("GET /repos/{owner}/{repo}/issues/comments/{id}/reactions", authInstallation, s.listCommentReactions)
	s.handle("POST /repos/{owner}/{repo}/issues/comments/{id}/reactions", authInstallation, s.createCommentReaction)
	s.handle("DELETE /repos/{owner}/{repo}/issues/comments/{id}/reactions/{rid}", authInstallation, s.deleteCommentReaction)
	s.handle("GET /repos/{owner}/{repo}/labels", authInstallation, s.listRepoLabels)
	s.handle("POST /repos/{owner}/{repo}/labels", authInstallation, s.createLabel)
	s.handle("GET /repos/{owner}/{repo}/labels/{name}", authInstallation, s.getLabel)
}

// bySub dispatches on the {sub} path segment.
func bySub(handlers map[string]func(*call)) func(*call) {
	return func(c *call) {
		h, ok := handlers[c.r.PathValue("sub")]
		if !ok {
			c.fail(http.StatusNotFound, "Not Found")
			return
		}
		h(c)
	}
}

// --- Go API ---

// Issue is an issue (or a pull request's issue side) as seen by the Go API.
type Issue struct {
	Number      int
	Title       string
	Body        string
	User        string
	State       string
	StateReason string
	Labels      []string
	Assignees   []string
	IsPull      bool
	Comments    int
}

// Comment is an issue or pull request comment as seen by the Go API.
type Comment struct {
	ID        int64
	Number    int
	User      string
	Body      string
	Reactions []Reaction
}

// Reaction is an emoji reaction.
type Reaction struct {
	ID      int64
	User    string
	Content string
}

// CreateIssue opens an issue as author and returns its number.
func (r *Repo) CreateIssue(author, title, body string, labels ...string) int {
	var n int
	r.with(func(rs *repoState) {
		is := r.s.newIssue(rs, r.s.accountLocked(author, ""), title, body)
		for _, l := range labels {
			is.addLabel(r.s, rs, l)
		}
		n = is.number
	})
	return n
}

// AddComment comments on an issue or pull request as author and returns the comment id.
func (r *Repo) AddComment(number int, author, body string) int64 {
	r.s.t.Helper()
	var id int64
	r.with(func(rs *repoState) {
		is := rs.issues[number]
		if is == nil {
			return
		}
		id = r.s.newComment(rs, is, r.s.accountLocked(author, ""), body).id
	})
	if id == 0 {
		r.s.fatalf("AddComment: %s#%d does not exist", r.FullName(), number)
	}
	return id
}

// edit sets the title and body given (nil: unchanged) as by, remembering what they were
// when they change, as the issues "edited" webhook reports it.
func (is *issueState) edit(by *account, title, body *string) {
	e := &issueEdit{by: by}
	if title != nil && *title != is.title {
		from := is.title
		e.titleFrom, is.title = &from, *title
	}
	if body != nil && *body != is.body {
		from := is.body
		e.bodyFrom, is.body = &from, *body
	}
	if e.titleFrom != nil || e.bodyFrom != nil {
		is.lastEdit = e
	}
}

// EditIssueBody changes an issue's body as login does in the browser (ticking a task-list
// box is such an edit) and returns the issues "edited" payload GitHub sends for it, with
// changes.body.from holding the body before.
func (r *Repo) EditIssueBody(number int, login, body string) []byte {
	r.s.t.Helper()
	ok := false
	r.with(func(rs *repoState) {
		if is := rs.issues[number]; is != nil && is.pull == nil {
			is.edit(r.s.accountLocked(login, ""), nil, &body)
			is.updatedAt = now()
			ok = true
		}
	})
	if !ok {
		r.s.fatalf("EditIssueBody: %s has no issue #%d", r.FullName(), number)
	}
	return r.IssueEditedPayload(number)
}

// Issue returns an issue or pull request's issue fields.
func (r *Repo) Issue(number int) (Issue, bool) {
	var out Issue
	var ok bool
	r.with(func(rs *repoState) {
		is := rs.issues[number]
		if is == nil {
			return
		}
		ok = true
		out = Issue{Number: is.number, Title: is.title, Body: is.body, User: is.user.login, State: is.state, StateReason: is.stateReason,
			Labels: append([]string{}, is.labels...), IsPull: is.pull != nil, Comments: is.comments}
		for _, a := range is.assignees {
			out.Assignees = append(out.Assignees, a.login)
		}
	})
	return out, ok
}

// Comments lists the comments of an issue or pull request, oldest first.
func (r *Repo) Comments(number int) []Comment {
	var out []Comment
	r.with(func(rs *repoState) {
		for _, cm := range rs.sortedComments(number) {
			out = append(out, Comment{ID: cm.id, Number: cm.issue, User: cm.user.login, Body: cm.body, Reactions: toReactions(cm.reactions)})
		}
	})
	return out
}

// IssueReactions lists the reactions on an issue or pull request itself.
func (r *Repo) IssueReactions(number int) []Reaction {
	var out []Reaction
	r.with(func(rs *repoState) {
		if is := rs.issues[number]; is != nil {
			out = toReactions(is.reactions)
		}
	})
	return out
}

func toReactions(list []*reaction) []Reaction {
	out := make([]Reaction, 0, len(list))
	for _, x := range list {
		out = append(out, Reaction{ID: x.id, User: x.user.login, Content: x.content})
	}
	return out
}

// --- state helpers ---

func (s *Server) newIssue(rs *repoState, author *account, title, body string) *issueState {
	t := now()
	is := &issueState{number: rs.nextNumber, id: s.newID(), title: title, body: body, user: author, viaApp: s.appOfBot(author), state: "open", createdAt: t, updatedAt: t}
	rs.nextNumber++
	rs.issues[is.number] = is
	return is
}

func (s *Server) newComment(rs *repoState, is *issueState, author *account, body string) *commentState {
	t := now()
	cm := &commentState{id: s.newID(), issue: is.number, user: author, viaApp: s.appOfBot(author), body: body, createdAt: t, updatedAt: t}
	rs.comments[cm.id] = cm
	is.comments++
	is.updatedAt = t
	return cm
}

func (rs *repoState) sortedComments(number int) []*commentState {
	var out []*commentState
	for _, cm := range rs.comments {
		if number == 0 || cm.issue == number {
			out = append(out, cm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// label returns the repository's label by name, creating it (grey, as GitHub does when a
// label is added to an issue by name) when create is set.
func (s *Server) label(rs *repoState, name string, create bool) *labelState {
	l, ok := rs.labels[strings.ToLower(name)]
	if !ok && create {
		l = &labelState{id: s.newID(), name: name, color: "ededed"}
		rs.labels[strings.ToLower(name)] = l
	}
	return l
}

func (is *issueState) addLabel(s *Server, rs *repoState, name string) {
	l := s.label(rs, name, true)
	for _, have := range is.labels {
		if strings.EqualFold(have, l.name) {
			return
		}
	}
	is.labels = append(is.labels, l.name)
	is.updatedAt = now()
}

func (s *Server) issueLabels(rs *repoState, is *issueState) []labelJSON {
	out := make([]labelJSON, 0, len(is.labels))
	for _, n := range is.labels {
		out = append(out, s.labelJSON(rs, s.label(rs, n, true)))
	}
	return out
}

// association is the author_association GitHub reports for login on this repository.
func (s *Server) association(rs *repoState, a *account) string {
	switch {
	case a.typ == "Bot":
		return "NONE"
	case strings.EqualFold(rs.owner.login, a.login):
		return "OWNER"
	}
	for _, tm := range s.teams {
		if strings.EqualFold(tm.org, rs.owner.login) && tm.members[strings.ToLower(a.login)].state == "active" {
			return "MEMBER"
		}
	}
	if _, ok := rs.roles[strings.ToLower(a.login)]; ok {
		return "COLLABORATOR"
	}
	return "NONE"
}

// --- JSON ---

type issuePullRefJSON struct {
	URL      string  `json:"url"`
	HTMLURL  string  `json:"html_url"`
	DiffURL  string  `json:"diff_url"`
	PatchURL string  `json:"patch_url"`
	MergedAt *string `json:"merged_at"`
}

type issueJSON struct {
	ID                    int64             `json:"id"`
	NodeID                string            `json:"node_id"`
	URL                   string            `json:"url"`
	RepositoryURL         string            `json:"repository_url"`
	LabelsURL             string            `json:"labels_url"`
	CommentsURL           string            `json:"comments_url"`
	EventsURL             string            `json:"events_url"`
	HTMLURL               string            `json:"html_url"`
	Number                int               `json:"number"`
	State                 string            `json:"state"`
	StateReason           *string           `json:"state_reason"`
	Title                 string            `json:"title"`
	Body                  *string           `json:"body"`
	User                  userJSON          `json:"user"`
	Labels                []labelJSON       `json:"labels"`
	Assignee              *userJSON         `json:"assignee"`
	Assignees             []userJSON        `json:"assignees"`
	Milestone             *struct{}         `json:"milestone"`
	Locked                bool              `json:"locked"`
	ActiveLockReason      *string           `json:"active_lock_reason"`
	Comments              int               `json:"comments"`
	PullRequest           *issuePullRefJSON `json:"pull_request,omitempty"`
	ClosedAt              *string           `json:"closed_at"`
	CreatedAt             string            `json:"created_at"`
	UpdatedAt             string            `json:"updated_at"`
	ClosedBy              *userJSON         `json:"closed_by,omitempty"`
	AuthorAssociation     string            `json:"author_association"`
	Draft                 *bool             `json:"draft,omitempty"`
	TimelineURL           string            `json:"timeline_url"`
	Reactions             reactionsJSON     `json:"reactions"`
	PerformedViaGitHubApp *appJSON          `json:"performed_via_github_app"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) issueJSON(rs *repoState, is *issueState) issueJSON {
	base := s.apiBase() + "/repos/" + rs.fullName()
	u := fmt.Sprintf("%s/issues/%d", base, is.number)
	kind := "issues"
	if is.pull != nil {
		kind = "pull"
	}
	out := issueJSON{
		ID:                is.id,
		NodeID:            nodeID("Issue", is.id),
		URL:               u,
		RepositoryURL:     base,
		LabelsURL:         u + "/labels{/name}",
		CommentsURL:       u + "/comments",
		EventsURL:         u + "/events",
		HTMLURL:           fmt.Sprintf("%s/%s/%s/%d", s.srv.URL, rs.fullName(), kind, is.number),
		Number:            is.number,
		State:             is.state,
		StateReason:       optString(is.stateReason),
		Title:             is.title,
		Body:              optString(is.body),
		User:              s.userJSON(is.user),
		Labels:            s.issueLabels(rs, is),
		Assignees:         s.usersJSON(is.assignees),
		Locked:            is.locked,
		Comments:          is.comments,
		ClosedAt:          tsPtr(is.closedAt),
		CreatedAt:         ts(is.createdAt),
		UpdatedAt:         ts(is.updatedAt),
		ClosedBy:          s.userPtr(is.closedBy),
		AuthorAssociation: s.association(rs, is.user),
		TimelineURL:       u + "/timeline",
		Reactions:         reactionRollup(u+"/reactions", is.reactions),
	}
	if len(is.assignees) > 0 {
		out.Assignee = s.userPtr(is.assignees[0])
	}
	if is.pull != nil {
		pu := fmt.Sprintf("%s/pulls/%d", base, is.number)
		html := fmt.Sprintf("%s/%s/pull/%d", s.srv.URL, rs.fullName(), is.number)
		out.PullRequest = &issuePullRefJSON{URL: pu, HTMLURL: html, DiffURL: html + ".diff", PatchURL: html + ".patch", MergedAt: tsPtr(is.pull.mergedAt)}
		draft := is.pull.draft
		out.Draft = &draft
	}
	if is.viaApp != nil {
		app := s.appJSON(is.viaApp)
		out.PerformedViaGitHubApp = &app
	}
	return out
}

type commentJSON struct {
	ID                    int64         `json:"id"`
	NodeID                string        `json:"node_id"`
	URL                   string        `json:"url"`
	HTMLURL               string        `json:"html_url"`
	Body                  string        `json:"body"`
	User                  userJSON      `json:"user"`
	CreatedAt             string        `json:"created_at"`
	UpdatedAt             string        `json:"updated_at"`
	IssueURL              string        `json:"issue_url"`
	AuthorAssociation     string        `json:"author_association"`
	PerformedViaGitHubApp *appJSON      `json:"performed_via_github_app"`
	Reactions             reactionsJSON `json:"reactions"`
	Pin                   *struct{}     `json:"pin"`
	Minimized             *struct{}     `json:"minimized"`
}

func (s *Server) commentJSON(rs *repoState, cm *commentState) commentJSON {
	base := s.apiBase() + "/repos/" + rs.fullName()
	kind := "issues"
	if is := rs.issues[cm.issue]; is != nil && is.pull != nil {
		kind = "pull"
	}
	out := commentJSON{
		ID:                cm.id,
		NodeID:            nodeID("IssueComment", cm.id),
		URL:               fmt.Sprintf("%s/issues/comments/%d", base, cm.id),
		HTMLURL:           fmt.Sprintf("%s/%s/%s/%d#issuecomment-%d", s.srv.URL, rs.fullName(), kind, cm.issue, cm.id),
		Body:              cm.body,
		User:              s.userJSON(cm.user),
		CreatedAt:         ts(cm.createdAt),
		UpdatedAt:         ts(cm.updatedAt),
		IssueURL:          fmt.Sprintf("%s/issues/%d", base, cm.issue),
		AuthorAssociation: s.association(rs, cm.user),
		Reactions:         reactionRollup(fmt.Sprintf("%s/issues/comments/%d/reactions", base, cm.id), cm.reactions),
	}
	if cm.viaApp != nil {
		app := s.appJSON(cm.viaApp)
		out.PerformedViaGitHubApp = &app
	}
	return out
}

type reactionJSON struct {
	ID        int64    `json:"id"`
	NodeID    string   `json:"node_id"`
	User      userJSON `json:"user"`
	Content   string   `json:"content"`
	CreatedAt string   `json:"created_at"`
}

func (s *Server) reactionJSON(x *reaction) reactionJSON {
	return reactionJSON{ID: x.id, NodeID: nodeID("Reaction", x.id), User: s.userJSON(x.user), Content: x.content, CreatedAt: ts(x.createdAt)}
}

// --- handlers ---

func (c *call) issue() *issueState {
	n, err := strconv.Atoi(c.r.PathValue("number"))
	if err != nil {
		c.fail(http.StatusNotFound, "Not Found")
		return nil
	}
	is := c.repo.issues[n]
	if is == nil {
		c.fail(http.StatusNotFound, "Not Found")
	}
	return is
}

func (c *call) comment() *commentState {
	id, ok := c.pathInt("id")
	if !ok {
		return nil
	}
	cm := c.repo.comments[id]
	if cm == nil {
		c.fail(http.StatusNotFound, "Not Found")
	}
	return cm
}

func (s *Server) listIssues(c *call) {
	rs := c.repo
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	var list []*issueState
	for _, is := range rs.issues {
		if state != "all" && is.state != state {
			continue
		}
		if creator := q.Get("creator"); creator != "" && !strings.EqualFold(creator, is.user.login) {
			continue
		}
		if !hasLabels(is, want) {
			continue
		}
		list = append(list, is)
	}
	sortIssues(list, q.Get("sort"), q.Get("direction"))
	page := paginate(c, list)
	out := make([]issueJSON, 0, len(page))
	for _, is := range page {
		out = append(out, s.issueJSON(rs, is))
	}
	c.json(http.StatusOK, out)
}

func hasLabels(is *issueState, want []string) bool {
	for _, w := range want {
		found := false
		for _, have := range is.labels {
			if strings.EqualFold(strings.TrimSpace(w), have) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// sortIssues orders by creation (default, newest first) or update time.
func sortIssues(list []*issueState, by, dir string) {
	asc := dir == "asc"
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if by == "updated" && !a.updatedAt.Equal(b.updatedAt) {
			return a.updatedAt.Before(b.updatedAt) == asc
		}
		return (a.number < b.number) == asc
	})
}

type issueInput struct {
	Title       *string   `json:"title"`
	Body        *string   `json:"body"`
	State       *string   `json:"state"`
	StateReason *string   `json:"state_reason"`
	Labels      *[]any    `json:"labels"`
	Assignees   *[]string `json:"assignees"`
	Assignee    *string   `json:"assignee"`
}

func labelNames(in []any) ([]string, bool) {
	var out []string
	for _, l := range in {
		switch v := l.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			name, ok := v["name"].(string)
			if !ok {
				return nil, false
			}
			out = append(out, name)
		default:
			return nil, false
		}
	}
	return out, true
}

func (s *Server) createIssue(c *call) {
	rs := c.repo
	if rs.issuesDisabled {
		c.fail(http.StatusGone, "Issues are disabled for this repo")
		return
	}
	if !c.mayWrite("issues") {
		return
	}
	var req issueInput
	if !c.decode(&req) {
		return
	}
	if req.Labels != nil {
		if names, ok := labelNames(*req.Labels); ok && !c.labelsValid(names) {
			return
		}
	}
	if req.Title == nil || strings.TrimSpace(*req.Title) == "" {
		c.invalid("Validation Failed", fieldError{Resource: "Issue", Field: "title", Code: "missing_field"})
		return
	}
	body := ""
	if req.Body != nil {
		body = *req.Body
	}
	is := s.newIssue(rs, c.actor(), *req.Title, body)
	if !s.applyIssueEdits(c, rs, is, req) {
		return
	}
	c.w.Header().Set("Location", s.issueJSON(rs, is).URL)
	c.json(http.StatusCreated, s.issueJSON(rs, is))
}

func (s *Server) getIssue(c *call) {
	if is := c.issue(); is != nil {
		c.json(http.StatusOK, s.issueJSON(c.repo, is))
	}
}

func (s *Server) editIssue(c *call) {
	is := c.issue()
	if is == nil {
		return
	}
	var req issueInput
	if !c.decode(&req) {
		return
	}
	if req.Title != nil && strings.TrimSpace(*req.Title) == "" {
		c.invalid("Validation Failed", fieldError{Resource: "Issue", Field: "title", Code: "missing_field"})
		return
	}
	is.edit(c.actor(), req.Title, req.Body)
	if !s.applyIssueEdits(c, c.repo, is, req) {
		return
	}
	c.json(http.StatusOK, s.issueJSON(c.repo, is))
}

// applyIssueEdits applies state, labels and assignees; it answers 422 and returns false on
// bad input.
func (s *Server) applyIssueEdits(c *call, rs *repoState, is *issueState, req issueInput) bool {
	if req.State != nil {
		switch *req.State {
		case "open":
			if is.pull != nil && is.pull.merged {
				c.invalid("Validation Failed", fieldError{Resource: "PullRequest", Field: "state", Code: "custom", Message: "state cannot be changed. The pull request has been merged."})
				return false
			}
			is.state, is.closedAt, is.closedBy, is.stateReason = "open", nil, nil, ""
			if req.StateReason != nil && *req.StateReason == "reopened" {
				is.stateReason = "reopened"
			}
		case "closed":
			if is.state != "closed" {
				t := now()
				is.state, is.closedAt, is.closedBy = "closed", &t, c.actor()
			}
			is.stateReason = "completed"
			if req.StateReason != nil {
				if *req.StateReason != "completed" && *req.StateReason != "not_planned" {
					c.invalid("Validation Failed", fieldError{Resource: "Issue", Field: "state_reason", Code: "invalid"})
					return false
				}
				is.stateReason = *req.StateReason
			}
		default:
			c.invalid("Validation Failed", fieldError{Resource: "Issue", Field: "state", Code: "invalid"})
			return false
		}
	}
	if req.Labels != nil {
		names, ok := labelNames(*req.Labels)
		if !ok {
			c.invalid("Validation Failed", fieldError{Resource: "Issue", Field: "labels", Code: "invalid"})
			return false
		}
		if !c.labelsValid(names) {
			return false
		}
		is.labels = nil
		for _, n := range names {
			is.addLabel(s, rs, n)
		}
	}
	if req.Assignee != nil {
		list := []string{}
		if *req.Assignee != "" {
			list = append(list, *req.Assignee)
		}
		req.Assignees = &list
	}
	if req.Assignees != nil {
		is.assignees = nil
		for _, login := range *req.Assignees {
			if rs.role(login) == "" {
				continue // GitHub silently drops assignees without access
			}
			is.assignees = append(is.assignees, s.accountLocked(login, ""))
		}
	}
	is.updatedAt = now()
	return true
}

func (s *Server) listComments(c *call) {
	rs := c.repo
	number := 0
	if c.r.PathValue("number") != "" {
		is := c.issue()
		if is == nil {
			return
		}
		number = is.number
	}
	list := rs.sortedComments(number)
	if since := c.r.URL.Query().Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			c.invalid("Validation Failed", fieldError{Resource: "IssueComment", Field: "since", Code: "invalid"})
			return
		}
		kept := list[:0]
		for _, cm := range list {
			if !cm.updatedAt.Before(t) {
				kept = append(kept, cm)
			}
		}
		list = kept
	}
	page := paginate(c, list)
	out := make([]commentJSON, 0, len(page))
	for _, cm := range page {
		out = append(out, s.commentJSON(rs, cm))
	}
	c.json(http.StatusOK, out)
}

// maxBody is GitHub's limit on issue, pull request and comment bodies.
const maxBody = 65536

func (s *Server) createComment(c *call) {
	is := c.issue()
	if is == nil {
		return
	}
	var req struct {
		Body *string `json:"body"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Body == nil || *req.Body == "" {
		c.invalid("Validation Failed", fieldError{Resource: "IssueComment", Field: "body", Code: "missing_field"})
		return
	}
	if len([]rune(*req.Body)) > maxBody {
		c.invalid("Validation Failed", fieldError{Resource: "IssueComment", Field: "data", Code: "custom", Message: "Body is too long (maximum is 65536 characters)"})
		return
	}
	if is.locked {
		c.fail(http.StatusForbidden, "Unable to create comment because issue is locked.")
		return
	}
	cm := s.newComment(c.repo, is, c.actor(), *req.Body)
	out := s.commentJSON(c.repo, cm)
	c.w.Header().Set("Location", out.URL)
	c.json(http.StatusCreated, out)
}

func (s *Server) getComment(c *call) {
	if cm := c.comment(); cm != nil {
		c.json(http.StatusOK, s.commentJSON(c.repo, cm))
	}
}

func (s *Server) editComment(c *call) {
	cm := c.comment()
	if cm == nil {
		return
	}
	var req struct {
		Body *string `json:"body"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Body == nil || *req.Body == "" {
		c.invalid("Validation Failed", fieldError{Resource: "IssueComment", Field: "body", Code: "missing_field"})
		return
	}
	if len([]rune(*req.Body)) > maxBody {
		c.invalid("Validation Failed", fieldError{Resource: "IssueComment", Field: "data", Code: "custom", Message: "Body is too long (maximum is 65536 characters)"})
		return
	}
	if cm.user != c.actor() {
		c.fail(http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	cm.body, cm.updatedAt = *req.Body, now()
	c.json(http.StatusOK, s.commentJSON(c.repo, cm))
}

func (s *Server) deleteComment(c *call) {
	cm := c.comment()
	if cm == nil {
		return
	}
	delete(c.repo.comments, cm.id)
	if is := c.repo.issues[cm.issue]; is != nil {
		is.comments--
	}
	c.noContent()
}

func (s *Server) listIssueLabels(c *call) {
	if is := c.issue(); is != nil {
		c.json(http.StatusOK, paginate(c, s.issueLabels(c.repo, is)))
	}
}

// labelsBody reads either {"labels": [...]} or a bare array, both of which GitHub accepts.
func (c *call) labelsBody() ([]string, bool) {
	var raw json.RawMessage
	if !c.decode(&raw) {
		return nil, false
	}
	var list []any
	if len(raw) > 0 && raw[0] == '{' {
		var obj struct {
			Labels []any `json:"labels"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			c.fail(http.StatusBadRequest, "Problems parsing JSON")
			return nil, false
		}
		list = obj.Labels
	} else if len(raw) > 0 {
		if err := json.Unmarshal(raw, &list); err != nil {
			c.fail(http.StatusBadRequest, "Problems parsing JSON")
			return nil, false
		}
	}
	names, ok := labelNames(list)
	if !ok {
		c.invalid("Invalid request.\n\nlabels must be names.")
		return nil, false
	}
	return names, true
}

// maxLabelRunes is GitHub's limit on a label's name.
const maxLabelRunes = 50

// labelsValid answers GitHub's 422 when a name is longer than a label's can be (naming a
// label that does not exist creates it).
func (c *call) labelsValid(names []string) bool {
	for _, n := range names {
		if utf8.RuneCountInString(n) > maxLabelRunes {
			c.invalid("Validation Failed", fieldError{Value: n, Resource: "Label", Field: "name", Code: "invalid"})
			return false
		}
	}
	return true
}

// mayLabel checks the installation may label is: with issues (write), or for a pull
// request pull_requests (write) too.
func (c *call) mayLabel(is *issueState) bool {
	if is.pull != nil {
		return c.mayWrite("issues", "pull_requests")
	}
	return c.mayWrite("issues")
}

func (s *Server) addLabels(c *call) {
	is := c.issue()
	if is == nil || !c.mayLabel(is) {
		return
	}
	names, ok := c.labelsBody()
	if !ok {
		return
	}
	if len(names) == 0 {
		c.invalid("Invalid request.\n\nNo subschema in \"anyOf\" matched.")
		return
	}
	if !c.labelsValid(names) {
		return
	}
	for _, n := range names {
		is.addLabel(s, c.repo, n)
	}
	c.json(http.StatusOK, s.issueLabels(c.repo, is))
}

func (s *Server) setLabels(c *call) {
	is := c.issue()
	if is == nil || !c.mayLabel(is) {
		return
	}
	names, ok := c.labelsBody()
	if !ok || !c.labelsValid(names) {
		return
	}
	is.labels = nil
	for _, n := range names {
		is.addLabel(s, c.repo, n)
	}
	c.json(http.StatusOK, s.issueLabels(c.repo, is))
}

func (s *Server) clearLabels(c *call) {
	if is := c.issue(); is != nil {
		is.labels = nil
		c.noContent()
	}
}

func (s *Server) removeLabel(c *call) {
	is := c.issue()
	if is == nil {
		return
	}
	name := c.r.PathValue("item")
	for i, have := range is.labels {
		if strings.EqualFold(have, name) {
			is.labels = append(is.labels[:i], is.labels[i+1:]...)
			c.json(http.StatusOK, s.issueLabels(c.repo, is))
			return
		}
	}
	c.fail(http.StatusNotFound, "Label does not exist")
}

func (s *Server) listRepoLabels(c *call) {
	var list []*labelState
	for _, l := range c.repo.labels {
		list = append(list, l)
	}
	sort.Slice(list, func(i, j int) bool { return strings.ToLower(list[i].name) < strings.ToLower(list[j].name) })
	out := make([]labelJSON, 0, len(list))
	for _, l := range list {
		out = append(out, s.labelJSON(c.repo, l))
	}
	c.json(http.StatusOK, paginate(c, out))
}

func (s *Server) createLabel(c *call) {
	var req struct {
		Name        string `json:"name"`
		Color       string `json:"color"`
		Description string `json:"description"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Name == "" {
		c.invalid("Validation Failed", fieldError{Resource: "Label", Field: "name", Code: "missing_field"})
		return
	}
	if utf8.RuneCountInString(req.Name) > maxLabelRunes {
		c.invalid("Validation Failed", fieldError{Resource: "Label", Field: "name", Code: "custom", Message: "name is too long (maximum is 50 characters)"})
		return
	}
	if s.label(c.repo, req.Name, false) != nil {
		c.invalid("Validation Failed", fieldError{Resource: "Label", Field: "name", Code: "already_exists"})
		return
	}
	l := s.label(c.repo, req.Name, true)
	if req.Color != "" {
		l.color = strings.TrimPrefix(req.Color, "#")
	}
	l.description = req.Description
	c.json(http.StatusCreated, s.labelJSON(c.repo, l))
}

func (s *Server) getLabel(c *call) {
	l := s.label(c.repo, c.r.PathValue("name"), false)
	if l == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, s.labelJSON(c.repo, l))
}

// react adds the actor's reaction to list: 201 when new, 200 with the existing one.
func (s *Server) react(c *call, list *[]*reaction) {
	var req struct {
		Content string `json:"content"`
	}
	if !c.decode(&req) {
		return
	}
	if !reactionContents[req.Content] {
		c.invalid("Validation Failed", fieldError{Resource: "Reaction", Field: "content", Code: "invalid"})
		return
	}
	for _, x := range *list {
		if x.user == c.actor() && x.content == req.Content {
			c.json(http.StatusOK, s.reactionJSON(x))
			return
		}
	}
	x := &reaction{id: s.newID(), user: c.actor(), content: req.Content, createdAt: now()}
	*list = append(*list, x)
	c.json(http.StatusCreated, s.reactionJSON(x))
}

func (s *Server) listReactions(c *call, list []*reaction) {
	content := c.r.URL.Query().Get("content")
	out := []reactionJSON{}
	for _, x := range list {
		if content == "" || x.content == content {
			out = append(out, s.reactionJSON(x))
		}
	}
	c.json(http.StatusOK, paginate(c, out))
}

func (s *Server) unreact(c *call, list *[]*reaction, idParam string) {
	rid, ok := c.pathInt(idParam)
	if !ok {
		return
	}
	for i, x := range *list {
		if x.id == rid {
			*list = append((*list)[:i], (*list)[i+1:]...)
			c.noContent()
			return
		}
	}
	c.fail(http.StatusNotFound, "Not Found")
}

func (s *Server) listIssueReactions(c *call) {
	if is := c.issue(); is != nil {
		s.listReactions(c, is.reactions)
	}
}

func (s *Server) createIssueReaction(c *call) {
	if is := c.issue(); is != nil {
		s.react(c, &is.reactions)
	}
}

func (s *Server) deleteIssueReaction(c *call) {
	if is := c.issue(); is != nil {
		s.unreact(c, &is.reactions, "item")
	}
}

func (s *Server) listCommentReactions(c *call) {
	if cm := c.comment(); cm != nil {
		s.listReactions(c, cm.reactions)
	}
}

func (s *Server) createCommentReaction(c *call) {
	if cm := c.comment(); cm != nil {
		s.react(c, &cm.reactions)
	}
}

func (s *Server) deleteCommentReaction(c *call) {
	if cm := c.comment(); cm != nil {
		s.unreact(c, &cm.reactions, "rid")
	}
}
