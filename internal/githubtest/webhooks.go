package githubtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

//go:embed testdata/webhooks/*.json
var webhookFS embed.FS

// PayloadNames lists the vendored webhook payloads, e.g. "issue_comment.created".
func PayloadNames() []string {
	entries, _ := fs.ReadDir(webhookFS, "testdata/webhooks")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

// LookupPayload returns a vendored webhook payload by name.
func LookupPayload(name string) ([]byte, error) {
	b, err := webhookFS.ReadFile("testdata/webhooks/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("no webhook payload %q; known payloads: %s", name, strings.Join(PayloadNames(), ", "))
	}
	return b, nil
}

// Payload returns a vendored webhook payload by name (see PayloadNames). Like
// regexp.MustCompile it panics on an unknown name, which is a mistake in the test itself.
func Payload(name string) []byte {
	b, err := LookupPayload(name)
	if err != nil {
		panic("githubtest: " + err.Error())
	}
	return b
}

// PayloadEditor rewrites a webhook payload for a test, leaving every field it is not told
// to change as GitHub sent it.
type PayloadEditor struct {
	m   map[string]any
	err error
}

// EditPayload starts editing a JSON webhook payload.
func EditPayload(payload []byte) *PayloadEditor {
	e := &PayloadEditor{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&e.m); err != nil {
		e.err = fmt.Errorf("decode webhook payload: %w", err)
	}
	return e
}

// Bytes returns the edited payload, or the first error met while editing.
func (e *PayloadEditor) Bytes() ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e.m); err != nil {
		return nil, fmt.Errorf("encode webhook payload: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// MustBytes is Bytes for tests: it panics on an editing error.
func (e *PayloadEditor) MustBytes() []byte {
	b, err := e.Bytes()
	if err != nil {
		panic("githubtest: " + err.Error())
	}
	return b
}

// Get reads the value at a dotted path ("comment.user.login"), or nil.
func (e *PayloadEditor) Get(path string) any {
	var cur any = e.m
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// Set sets the value at a dotted path; every object on the way must exist.
func (e *PayloadEditor) Set(path string, value any) *PayloadEditor {
	if e.err != nil {
		return e
	}
	keys := strings.Split(path, ".")
	cur := e.m
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			e.err = fmt.Errorf("webhook payload has no object at %q (while setting %q)", k, path)
			return e
		}
		cur = next
	}
	cur[keys[len(keys)-1]] = value
	return e
}

// setIf sets path only when its parent object exists.
func (e *PayloadEditor) setIf(path string, value any) {
	parent := path[:max(strings.LastIndex(path, "."), 0)]
	if parent == "" || e.Get(parent) != nil {
		e.Set(path, value)
	}
}

// replaceStrings replaces old by new in every string of the payload.
func (e *PayloadEditor) replaceStrings(old, new string) {
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				x[k] = walk(val)
			}
		case []any:
			for i, val := range x {
				x[i] = walk(val)
			}
		case string:
			return strings.ReplaceAll(x, old, new)
		}
		return v
	}
	walk(e.m)
}

func str(v any) string { s, _ := v.(string); return s }

// Repo moves the payload to repository owner/name: repository and organization fields, and
// every URL naming the old repository.
func (e *PayloadEditor) Repo(owner, name string) *PayloadEditor {
	oldFull := str(e.Get("repository.full_name"))
	if e.err != nil || oldFull == "" {
		if e.err == nil {
			e.err = fmt.Errorf("webhook payload has no repository to rewrite")
		}
		return e
	}
	oldOwner, _, _ := strings.Cut(oldFull, "/")
	e.replaceStrings("/"+oldFull+"/", "/"+owner+"/"+name+"/")
	e.replaceStrings("/"+oldFull+"#", "/"+owner+"/"+name+"#")
	e.replaceStrings(":"+oldFull+".git", ":"+owner+"/"+name+".git")
	for _, suffix := range []string{"", ".git"} {
		e.replaceStringsExact("/"+oldFull+suffix, "/"+owner+"/"+name+suffix)
	}
	e.Set("repository.name", name)
	e.Set("repository.full_name", owner+"/"+name)
	e.setIf("repository.owner.login", owner)
	if strings.EqualFold(str(e.Get("organization.login")), oldOwner) {
		e.Set("organization.login", owner)
	}
	return e
}

// replaceStringsExact rewrites strings that end with old (URLs naming the repository itself).
func (e *PayloadEditor) replaceStringsExact(old, new string) {
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				x[k] = walk(val)
			}
		case []any:
			for i, val := range x {
				x[i] = walk(val)
			}
		case string:
			if s, ok := strings.CutSuffix(x, old); ok {
				return s + new
			}
		}
		return v
	}
	walk(e.m)
}

// Hosts points GitHub's web and API URLs in the payload at a fake server's.
func (e *PayloadEditor) Hosts(web, api string) *PayloadEditor {
	e.replaceStrings("https://api.github.com", strings.TrimSuffix(api, "/"))
	e.replaceStrings("https://github.com", strings.TrimSuffix(web, "/"))
	return e
}

// Installation sets installation.id (adding the installation object when the example
// had none).
func (e *PayloadEditor) Installation(id int64) *PayloadEditor {
	if e.err != nil {
		return e
	}
	inst, ok := e.m["installation"].(map[string]any)
	if !ok {
		inst = map[string]any{}
		e.m["installation"] = inst
	}
	inst["id"] = id
	inst["node_id"] = nodeID("IntegrationInstallation", id)
	return e
}

// IssueNumber sets the issue's (or pull request's) number and its URLs.
func (e *PayloadEditor) IssueNumber(n int) *PayloadEditor {
	for _, obj := range []string{"issue", "pull_request"} {
		old, ok := e.Get(obj + ".number").(json.Number)
		if !ok {
			continue
		}
		for _, seg := range []string{"/issues/", "/pulls/", "/pull/"} {
			e.replaceStrings(seg+old.String()+"/", seg+strconv.Itoa(n)+"/")
			e.replaceStrings(seg+old.String()+"#", seg+strconv.Itoa(n)+"#")
			e.replaceStringsExact(seg+old.String(), seg+strconv.Itoa(n))
		}
		e.Set(obj+".number", n)
	}
	if e.Get("number") != nil {
		e.Set("number", n)
	}
	return e
}

// CommentBody sets comment.body.
func (e *PayloadEditor) CommentBody(body string) *PayloadEditor { return e.Set("comment.body", body) }

// CommentID sets comment.id and the comment's URLs.
func (e *PayloadEditor) CommentID(id int64) *PayloadEditor {
	if old, ok := e.Get("comment.id").(json.Number); ok {
		e.replaceStringsExact("/comments/"+old.String(), "/comments/"+strconv.FormatInt(id, 10))
		e.replaceStrings("/comments/"+old.String()+"/", "/comments/"+strconv.FormatInt(id, 10)+"/")
		e.replaceStringsExact("#issuecomment-"+old.String(), "#issuecomment-"+strconv.FormatInt(id, 10))
	}
	e.Set("comment.id", id)
	e.Set("comment.node_id", nodeID("IssueComment", id))
	return e
}

// User makes login the acting user: the sender, and the author of the comment, review or
// (for issues and pull request events without either) the issue or pull request.
func (e *PayloadEditor) User(login string) *PayloadEditor {
	return e.UserWithID(login, 0)
}

// UserWithID is User that also sets the users' id (0 keeps the example's).
func (e *PayloadEditor) UserWithID(login string, id int64) *PayloadEditor {
	targets := []string{"sender"}
	switch {
	case e.Get("comment") != nil:
		targets = append(targets, "comment.user")
	case e.Get("review") != nil:
		targets = append(targets, "review.user")
	case e.Get("issue") != nil:
		targets = append(targets, "issue.user")
	case e.Get("pull_request") != nil:
		targets = append(targets, "pull_request.user")
	}
	for _, t := range targets {
		e.setUser(t, login, id)
	}
	return e
}

func (e *PayloadEditor) setUser(path, login string, id int64) {
	u, ok := e.Get(path).(map[string]any)
	if !ok {
		e.err = fmt.Errorf("webhook payload has no user at %q", path)
		return
	}
	old := str(u["login"])
	for k, v := range u {
		if s, ok := v.(string); ok && old != "" {
			u[k] = strings.Replace(s, "/"+old, "/"+login, 1)
		}
	}
	u["login"] = login
	if id != 0 {
		u["id"] = id
		kind := "User"
		if str(u["type"]) == "Bot" || strings.HasSuffix(login, "[bot]") {
			kind = "Bot"
		}
		u["node_id"] = nodeID(kind, id)
	}
}

// SignPayload returns the X-Hub-Signature-256 value for body: "sha256=" + hex HMAC-SHA256.
func SignPayload(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func signSHA1(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// NewDeliveryID returns a fresh delivery GUID, as in X-GitHub-Delivery.
func NewDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// SendWebhook POSTs payload to targetURL as GitHub delivers event, with a fresh delivery id
// and signed with the webhook secret, and records the delivery (see Deliveries). The caller
// closes the response body. No answer within the delivery timeout is an error, recorded
// as GitHub records it.
func (s *Server) SendWebhook(targetURL, event string, payload []byte) (*http.Response, error) {
	return s.SendWebhookWithDelivery(targetURL, event, NewDeliveryID(), payload)
}

// SendWebhookWithDelivery is SendWebhook with a given X-GitHub-Delivery, to replay a delivery.
func (s *Server) SendWebhookWithDelivery(targetURL, event, deliveryID string, payload []byte) (*http.Response, error) {
	_, res, err := s.deliver(s.app, targetURL, event, deliveryID, payload, false)
	return res, err
}

// SendAppWebhook delivers event as GitHub does for an app registered through the manifest
// flow: to the webhook URL of its manifest, signed with its webhook secret.
func (s *Server) SendAppWebhook(appID int64, event string, payload []byte) (*http.Response, error) {
	s.mu.Lock()
	app := s.apps[appID]
	s.mu.Unlock()
	switch {
	case app == nil:
		return nil, fmt.Errorf("githubtest: no app %d", appID)
	case app.hookURL == "":
		return nil, fmt.Errorf("githubtest: app %d has no webhook URL", appID)
	}
	_, res, err := s.deliver(app, app.hookURL, event, NewDeliveryID(), payload, false)
	return res, err
}

// --- payloads that match the fake's state ---

// installationFor finds an installation covering the repository, 0 if none.
func (s *Server) installationFor(rs *repoState) int64 {
	var best int64
	for id, inst := range s.installations {
		if inst.coversName(rs.fullName()) && (best == 0 || id < best) {
			best = id
		}
	}
	return best
}

// statePayload starts from a vendored example and moves it to the repository's identity.
func (r *Repo) statePayload(name string) (*PayloadEditor, *repoState) {
	rs := r.s.repos[r.key]
	e := EditPayload(Payload(name)).Repo(rs.owner.login, rs.name).Hosts(r.s.srv.URL, r.s.apiBase())
	e.Set("repository.id", rs.id)
	e.Set("repository.node_id", nodeID("Repository", rs.id))
	e.Set("repository.private", rs.private)
	e.Set("repository.default_branch", rs.defaultBranch)
	e.setIf("repository.owner.id", rs.owner.id)
	e.setIf("repository.owner.type", rs.owner.typ)
	if id := r.s.installationFor(rs); id != 0 {
		e.Installation(id)
	}
	return e, rs
}

func (e *PayloadEditor) setIssueFields(s *Server, rs *repoState, obj string, is *issueState) {
	e.Set(obj+".id", is.id)
	e.Set(obj+".node_id", is.nodeID())
	e.Set(obj+".title", is.title)
	e.Set(obj+".body", optString(is.body))
	e.Set(obj+".state", is.state)
	e.Set(obj+".comments", is.comments)
	e.Set(obj+".created_at", ts(is.createdAt))
	e.Set(obj+".updated_at", ts(is.updatedAt))
	e.Set(obj+".closed_at", tsPtr(is.closedAt))
	labels := []any{}
	for _, l := range s.issueLabels(rs, is) {
		labels = append(labels, map[string]any{"id": l.ID, "node_id": l.NodeID, "url": l.URL, "name": l.Name, "color": l.Color, "default": l.Default, "description": l.Description})
	}
	e.Set(obj+".labels", labels)
	e.Set(obj+".user.type", is.user.typ)
	e.setUser(obj+".user", is.user.login, is.user.id)
	assignees := []any{}
	for _, a := range is.assignees {
		assignees = append(assignees, s.userJSON(a))
	}
	e.Set(obj+".assignees", assignees)
	if len(is.assignees) > 0 {
		e.Set(obj+".assignee", assignees[0])
	} else {
		e.Set(obj+".assignee", nil)
	}
	e.Set(obj+".milestone", nil)
	e.Set(obj+".author_association", s.association(rs, is.user))
}

// IssueCommentPayload builds the issue_comment "created" payload for an existing comment:
// the real example, moved to this repository and filled from the fake's issue and comment
// (a pull request comment carries issue.pull_request; the app's own comments come as its bot).
func (r *Repo) IssueCommentPayload(commentID int64) []byte {
	r.s.t.Helper()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rs := r.s.repos[r.key]
	cm := rs.comments[commentID]
	if cm == nil {
		r.s.fatalf("IssueCommentPayload: %s has no comment %d", r.FullName(), commentID)
	}
	is := rs.issues[cm.issue]
	name := "issue_comment.created"
	switch {
	case cm.viaApp != nil:
		name = "issue_comment.created.bot"
	case is.pull != nil:
		name = "issue_comment.created.pr"
	}
	e, _ := r.statePayload(name)
	e.IssueNumber(is.number).CommentID(cm.id)
	e.setIssueFields(r.s, rs, "issue", is)
	if is.pull == nil {
		e.Set("issue.pull_request", nil)
		delete(e.Get("issue").(map[string]any), "pull_request")
	}
	e.Set("comment.body", cm.body)
	e.Set("comment.created_at", ts(cm.createdAt))
	e.Set("comment.updated_at", ts(cm.updatedAt))
	e.Set("comment.user.type", cm.user.typ)
	e.setUser("comment.user", cm.user.login, cm.user.id)
	e.Set("comment.author_association", r.s.association(rs, cm.user))
	if app := cm.viaApp; app != nil {
		e.Set("comment.performed_via_github_app.id", app.id)
		e.Set("comment.performed_via_github_app.slug", app.slug)
		e.Set("comment.performed_via_github_app.name", app.name)
	}
	e.Set("sender.type", cm.user.typ)
	e.setUser("sender", cm.user.login, cm.user.id)
	return r.s.mustBytes(e)
}

// IssuesOpenedPayload builds the issues "opened" payload for an existing issue.
func (r *Repo) IssuesOpenedPayload(number int) []byte {
	r.s.t.Helper()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rs := r.s.repos[r.key]
	is := rs.issues[number]
	if is == nil || is.pull != nil {
		r.s.fatalf("IssuesOpenedPayload: %s has no issue #%d", r.FullName(), number)
	}
	e, _ := r.statePayload("issues.opened")
	e.IssueNumber(number)
	e.setIssueFields(r.s, rs, "issue", is)
	e.setUser("sender", is.user.login, is.user.id)
	return r.s.mustBytes(e)
}

// IssueEditedPayload builds the issues "edited" payload of the last change to an issue's
// title or body, whoever made it (the app's own edits included, as GitHub sends them):
// changes holds title.from and body.from for what changed, sender is who changed it.
func (r *Repo) IssueEditedPayload(number int) []byte {
	r.s.t.Helper()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rs := r.s.repos[r.key]
	is := rs.issues[number]
	if is == nil || is.pull != nil || is.lastEdit == nil {
		r.s.fatalf("IssueEditedPayload: %s has no edited issue #%d", r.FullName(), number)
	}
	e, _ := r.statePayload("issues.edited")
	e.IssueNumber(number)
	e.setIssueFields(r.s, rs, "issue", is)
	changes := map[string]any{}
	if from := is.lastEdit.titleFrom; from != nil {
		changes["title"] = map[string]any{"from": *from}
	}
	if from := is.lastEdit.bodyFrom; from != nil {
		changes["body"] = map[string]any{"from": *from}
	}
	e.Set("changes", changes)
	by := is.lastEdit.by
	e.Set("sender.type", by.typ)
	e.setUser("sender", by.login, by.id)
	return r.s.mustBytes(e)
}

func (e *PayloadEditor) setPullFields(s *Server, rs *repoState, is *issueState) {
	p := is.pull
	e.setIssueFields(s, rs, "pull_request", is)
	e.Set("pull_request.id", p.id)
	e.Set("pull_request.node_id", nodeID("PullRequest", p.id))
	e.Set("pull_request.draft", p.draft)
	e.Set("pull_request.merged", p.merged)
	e.Set("pull_request.merged_at", tsPtr(p.mergedAt))
	if p.mergeCommitSHA != "" {
		e.Set("pull_request.merge_commit_sha", p.mergeCommitSHA)
	}
	if p.mergedBy != nil {
		e.Set("pull_request.merged_by", s.userJSON(p.mergedBy))
	} else {
		e.Set("pull_request.merged_by", nil)
	}
	for side, ref := range map[string]string{"head": p.head, "base": p.base} {
		sha := p.headSHA
		if side == "base" {
			sha = rs.refs["refs/heads/"+ref]
			if p.merged {
				if mc, err := rs.objects.commit(p.mergeCommitSHA); err == nil && len(mc.parents) > 0 {
					sha = mc.parents[0]
				}
			}
		}
		e.Set("pull_request."+side+".ref", ref)
		e.Set("pull_request."+side+".sha", sha)
		e.Set("pull_request."+side+".label", rs.owner.login+":"+ref)
		e.setIf("pull_request."+side+".repo.id", rs.id)
		e.setIf("pull_request."+side+".repo.name", rs.name)
		e.setIf("pull_request."+side+".repo.full_name", rs.fullName())
		e.setIf("pull_request."+side+".repo.default_branch", rs.defaultBranch)
		e.setIf("pull_request."+side+".repo.owner.login", rs.owner.login)
		e.setIf("pull_request."+side+".user.login", rs.owner.login)
	}
}

// PullClosedPayload builds the pull_request "closed" payload for a closed pull request; a
// merged one carries merged: true and merge_commit_sha, ready to send after a merge.
func (r *Repo) PullClosedPayload(number int) []byte {
	r.s.t.Helper()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rs := r.s.repos[r.key]
	is := rs.issues[number]
	if is == nil || is.pull == nil || is.state != "closed" {
		r.s.fatalf("PullClosedPayload: %s has no closed pull request #%d", r.FullName(), number)
	}
	name := "pull_request.closed"
	if is.pull.merged {
		name = "pull_request.closed.merged"
	}
	e, _ := r.statePayload(name)
	e.IssueNumber(number)
	e.setPullFields(r.s, rs, is)
	actor := is.closedBy
	if actor == nil {
		actor = is.user
	}
	e.Set("sender.type", actor.typ)
	e.setUser("sender", actor.login, actor.id)
	return r.s.mustBytes(e)
}

// ReviewSubmittedPayload builds the pull_request_review "submitted" payload for a review.
func (r *Repo) ReviewSubmittedPayload(number int, reviewID int64) []byte {
	r.s.t.Helper()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rs := r.s.repos[r.key]
	is := rs.issues[number]
	var rv *review
	if is != nil && is.pull != nil {
		for _, x := range is.pull.reviews {
			if x.id == reviewID {
				rv = x
			}
		}
	}
	if rv == nil {
		r.s.fatalf("ReviewSubmittedPayload: %s#%d has no review %d", r.FullName(), number, reviewID)
	}
	e, _ := r.statePayload("pull_request_review.submitted.approved")
	e.IssueNumber(number)
	e.setPullFields(r.s, rs, is)
	e.Set("review.id", rv.id)
	e.Set("review.node_id", nodeID("PullRequestReview", rv.id))
	e.Set("review.state", strings.ToLower(rv.state))
	e.Set("review.body", optString(rv.body))
	e.Set("review.commit_id", rv.commitID)
	e.Set("review.submitted_at", ts(rv.submittedAt))
	e.setUser("review.user", rv.user.login, rv.user.id)
	e.Set("review.author_association", r.s.association(rs, rv.user))
	e.setUser("sender", rv.user.login, rv.user.id)
	return r.s.mustBytes(e)
}

func (s *Server) mustBytes(e *PayloadEditor) []byte {
	s.t.Helper()
	b, err := e.Bytes()
	if err != nil {
		s.fatalf("%v", err)
	}
	return b
}
