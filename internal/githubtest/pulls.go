package githubtest

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// pullState is what a pull request adds to its issue.
type pullState struct {
	id                 int64
	head               string // branch in the same repository
	base               string
	headSHA            string // follows the head branch while open
	draft              bool
	merged             bool
	mergedAt           *time.Time
	mergedBy           *account
	mergeCommitSHA     string
	requestedReviewers []*account
	requestedTeams     []*team
	reviews            []*review
	unknownReads       int // reads left that report mergeability as not yet computed
}

type review struct {
	id          int64
	user        *account
	state       string // APPROVED, CHANGES_REQUESTED, COMMENTED, PENDING, DISMISSED
	body        string
	commitID    string
	submittedAt time.Time
}

// Protection is the part of branch protection that decides whether a pull request into the
// branch may merge.
type Protection struct {
	// RequiredApprovals is how many users with write access must have approved.
	RequiredApprovals int
	// RequiredChecks are status contexts or check run names that must have succeeded on
	// the head commit.
	RequiredChecks []string
}

// Protect protects a branch; pull requests into it report mergeable_state "blocked" and
// refuse to merge (405) until p is satisfied.
func (r *Repo) Protect(branch string, p Protection) {
	r.with(func(rs *repoState) { rs.protections[branch] = p })
}

// Pull is a pull request as seen by the Go API.
type Pull struct {
	Number             int
	Title              string
	Body               string
	User               string
	State              string
	Head               string
	Base               string
	HeadSHA            string
	Draft              bool
	Merged             bool
	MergeCommitSHA     string
	MergedBy           string
	Labels             []string
	RequestedReviewers []string
	RequestedTeams     []string
}

func (s *Server) pullRoutes() {
	s.handle("GET /repos/{owner}/{repo}/pulls", authInstallation, s.listPulls)
	s.handle("POST /repos/{owner}/{repo}/pulls", authInstallation, s.createPull)
	s.handle("GET /repos/{owner}/{repo}/pulls/{number}", authInstallation, s.getPull)
	s.handle("PATCH /repos/{owner}/{repo}/pulls/{number}", authInstallation, s.editPull)
	s.handle("GET /repos/{owner}/{repo}/pulls/{number}/merge", authInstallation, s.isMerged)
	s.handle("PUT /repos/{owner}/{repo}/pulls/{number}/merge", authInstallation, s.mergePull)
	s.handle("GET /repos/{owner}/{repo}/pulls/{number}/files", authInstallation, s.listPullFiles)
	s.handle("GET /repos/{owner}/{repo}/pulls/{number}/commits", authInstallation, s.listPullCommits)
	s.handle("GET /repos/{owner}/{repo}/pulls/{number}/requested_reviewers", authInstallation, s.listRequestedReviewers)
	s.handle("POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers", authInstallation, s.requestReviewers)
	s.handle("DELETE /repos/{owner}/{repo}/pulls/{number}/requested_reviewers", authInstallation, s.removeRequestedReviewers)
	s.handle("GET /repos/{owner}/{repo}/pulls/{number}/reviews", authInstallation, s.listReviews)
	s.handle("POST /repos/{owner}/{repo}/pulls/{number}/reviews", authInstallation, s.createReview)
}

// --- Go API ---

// OpenPull opens a pull request from head into base as author (as a person would in the
// web UI) and returns its number.
func (r *Repo) OpenPull(author, head, base, title, body string) int {
	r.s.t.Helper()
	var n int
	var err error
	r.with(func(rs *repoState) {
		var is *issueState
		is, err = r.s.openPull(rs, r.s.accountLocked(author, ""), head, base, title, body, false)
		if err == nil {
			n = is.number
		}
	})
	if err != nil {
		r.s.fatalf("OpenPull %s %s->%s: %v", r.FullName(), head, base, err)
	}
	return n
}

// Pull returns a pull request's state.
func (r *Repo) Pull(number int) (Pull, bool) {
	var out Pull
	var ok bool
	r.with(func(rs *repoState) {
		is := rs.issues[number]
		if is == nil || is.pull == nil {
			return
		}
		ok = true
		p := is.pull
		out = Pull{Number: is.number, Title: is.title, Body: is.body, User: is.user.login, State: is.state, Head: p.head, Base: p.base,
			HeadSHA: p.headSHA, Draft: p.draft, Merged: p.merged, MergeCommitSHA: p.mergeCommitSHA, Labels: append([]string{}, is.labels...)}
		if p.mergedBy != nil {
			out.MergedBy = p.mergedBy.login
		}
		for _, a := range p.requestedReviewers {
			out.RequestedReviewers = append(out.RequestedReviewers, a.login)
		}
		for _, t := range p.requestedTeams {
			out.RequestedTeams = append(out.RequestedTeams, t.slug)
		}
	})
	return out, ok
}

// Pulls lists every pull request, by number.
func (r *Repo) Pulls() []Pull {
	var numbers []int
	r.with(func(rs *repoState) {
		for n, is := range rs.issues {
			if is.pull != nil {
				numbers = append(numbers, n)
			}
		}
	})
	sort.Ints(numbers)
	out := make([]Pull, 0, len(numbers))
	for _, n := range numbers {
		p, _ := r.Pull(n)
		out = append(out, p)
	}
	return out
}

// SubmitReview submits a review as author: state is APPROVED, CHANGES_REQUESTED or
// COMMENTED. It returns the review id.
func (r *Repo) SubmitReview(number int, author, state, body string) int64 {
	r.s.t.Helper()
	var id int64
	var err error
	r.with(func(rs *repoState) {
		is := rs.issues[number]
		if is == nil || is.pull == nil {
			err = errors.New("no such pull request")
			return
		}
		var rv *review
		rv, err = r.s.addReview(rs, is, r.s.accountLocked(author, ""), state, body, "")
		if err == nil {
			id = rv.id
		}
	})
	if err != nil {
		r.s.fatalf("SubmitReview %s#%d: %v", r.FullName(), number, err)
	}
	return id
}

// Merge merges a pull request as a person with write access would, with method merge,
// squash or rebase, and returns the commit now at the tip of the base branch.
func (r *Repo) Merge(number int, method string) string {
	r.s.t.Helper()
	return r.MergeAs(number, method, r.Owner)
}

// MergeAs is Merge by the person by.
func (r *Repo) MergeAs(number int, method, by string) string {
	r.s.t.Helper()
	var sha string
	var err error
	r.with(func(rs *repoState) {
		is := rs.issues[number]
		if is == nil || is.pull == nil {
			err = errors.New("no such pull request")
			return
		}
		sha, err = r.s.merge(rs, is, r.s.accountLocked(by, ""), method, "", "", "")
	})
	if err != nil {
		r.s.fatalf("Merge %s#%d: %v", r.FullName(), number, err)
	}
	return sha
}

// ClosePull closes a pull request without merging, as the person by.
func (r *Repo) ClosePull(number int, by string) {
	r.s.t.Helper()
	ok := false
	r.with(func(rs *repoState) {
		is := rs.issues[number]
		if is == nil || is.pull == nil || is.pull.merged {
			return
		}
		t := now()
		is.state, is.closedAt, is.closedBy = "closed", &t, r.s.accountLocked(by, "")
		ok = true
	})
	if !ok {
		r.s.fatalf("ClosePull: %s has no open, unmerged pull request #%d", r.FullName(), number)
	}
}

// --- state ---

type mergeError struct {
	status int
	msg    string
}

func (e *mergeError) Error() string { return e.msg }

func (s *Server) openPull(rs *repoState, author *account, head, base, title, body string, draft bool) (*issueState, error) {
	if i := strings.IndexByte(head, ':'); i >= 0 {
		if !strings.EqualFold(head[:i], rs.owner.login) {
			return nil, &fieldErr{fieldError{Resource: "PullRequest", Field: "head", Code: "invalid"}}
		}
		head = head[i+1:]
	}
	if strings.TrimSpace(title) == "" {
		return nil, &fieldErr{fieldError{Resource: "PullRequest", Field: "title", Code: "missing_field"}}
	}
	baseSHA, ok := rs.refs["refs/heads/"+base]
	if !ok {
		return nil, &fieldErr{fieldError{Resource: "PullRequest", Field: "base", Code: "invalid"}}
	}
	headSHA, ok := rs.refs["refs/heads/"+head]
	if !ok {
		return nil, &fieldErr{fieldError{Resource: "PullRequest", Field: "head", Code: "invalid"}}
	}
	for _, is := range rs.issues {
		if is.pull != nil && is.state == "open" && is.pull.head == head && is.pull.base == base {
			return nil, &fieldErr{fieldError{Resource: "PullRequest", Code: "custom", Message: fmt.Sprintf("A pull request already exists for %s:%s.", rs.owner.login, head)}}
		}
	}
	if rs.objects.isAncestor(headSHA, baseSHA) {
		return nil, &fieldErr{fieldError{Resource: "PullRequest", Code: "custom", Message: fmt.Sprintf("No commits between %s and %s", base, head)}}
	}
	if len([]rune(body)) > maxBody {
		return nil, &fieldErr{fieldError{Resource: "PullRequest", Field: "body", Code: "custom", Message: "Body is too long (maximum is 65536 characters)"}}
	}
	is := s.newIssue(rs, author, title, body)
	is.pull = &pullState{id: s.newID(), head: head, base: base, headSHA: headSHA, draft: draft, unknownReads: s.lazyMerge}
	return is, nil
}

type fieldErr struct{ fe fieldError }

func (e *fieldErr) Error() string {
	if e.fe.Message != "" {
		return e.fe.Message
	}
	return e.fe.Resource + "." + e.fe.Field + ": " + e.fe.Code
}

// mergeTree three-way merges the pull request's head into its base, path by path (a path
// changed on both sides differently is a conflict; GitHub would try a line merge).
func (rs *repoState) mergeTree(baseTip, head string) (string, []string, error) {
	mb := rs.objects.mergeBase(baseTip, head)
	flat := func(commit string) (map[string]fileEntry, error) {
		if commit == "" {
			return map[string]fileEntry{}, nil
		}
		co, err := rs.objects.commit(commit)
		if err != nil {
			return nil, err
		}
		return rs.objects.flatten(co.tree)
	}
	b, err := flat(mb)
	if err != nil {
		return "", nil, err
	}
	o, err := flat(baseTip)
	if err != nil {
		return "", nil, err
	}
	t, err := flat(head)
	if err != nil {
		return "", nil, err
	}
	merged := map[string]fileEntry{}
	var conflicts []string
	paths := map[string]bool{}
	for _, m := range []map[string]fileEntry{b, o, t} {
		for p := range m {
			paths[p] = true
		}
	}
	for p := range paths {
		bv, inB := b[p]
		ov, inO := o[p]
		tv, inT := t[p]
		switch {
		case inO == inT && ov == tv:
			if inO {
				merged[p] = ov
			}
		case inO == inB && ov == bv:
			if inT {
				merged[p] = tv
			}
		case inT == inB && tv == bv:
			if inO {
				merged[p] = ov
			}
		default:
			conflicts = append(conflicts, p)
		}
	}
	sort.Strings(conflicts)
	if len(conflicts) > 0 {
		return "", conflicts, nil
	}
	tree, err := rs.objects.writeFlat(merged)
	return tree, nil, err
}

// blockers lists what branch protection still requires before a pull request may merge.
func (s *Server) blockers(rs *repoState, is *issueState) []string {
	p, ok := rs.protections[is.pull.base]
	if !ok {
		return nil
	}
	var out []string
	latest := map[*account]string{}
	for _, rv := range is.pull.reviews {
		if rv.state != "COMMENTED" && rv.state != "PENDING" {
			latest[rv.user] = rv.state
		}
	}
	approvals := 0
	for a, st := range latest {
		if st == "APPROVED" && canWrite(rs.role(a.login)) {
			approvals++
		}
	}
	if approvals < p.RequiredApprovals {
		out = append(out, fmt.Sprintf("At least %d approving review%s required by reviewers with write access.", p.RequiredApprovals, map[bool]string{true: " is", false: "s are"}[p.RequiredApprovals == 1]))
	}
	for _, ctx := range p.RequiredChecks {
		if !rs.checkPassed(is.pull.headSHA, ctx) {
			out = append(out, fmt.Sprintf("Required status check %q is expected.", ctx))
		}
	}
	return out
}

// mergeability reports mergeable, mergeable_state and the merged tree (when clean of conflicts).
func (s *Server) mergeability(rs *repoState, is *issueState) (bool, string, string) {
	baseTip := rs.refs["refs/heads/"+is.pull.base]
	if baseTip == "" {
		return false, "unknown", ""
	}
	tree, conflicts, err := rs.mergeTree(baseTip, is.pull.headSHA)
	switch {
	case err != nil:
		return false, "unknown", ""
	case len(conflicts) > 0:
		return false, "dirty", ""
	case is.pull.draft:
		return true, "draft", tree
	case len(s.blockers(rs, is)) > 0:
		return true, "blocked", tree
	}
	return true, "clean", tree
}

// merge merges a pull request with method merge, squash or rebase and returns the new tip
// of the base branch; failures are *mergeError or *fieldErr.
func (s *Server) merge(rs *repoState, is *issueState, by *account, method, title, message, expectSHA string) (string, error) {
	p := is.pull
	if method == "" {
		method = "merge"
	}
	if method != "merge" && method != "squash" && method != "rebase" {
		return "", &fieldErr{fieldError{Resource: "PullRequest", Field: "merge_method", Code: "invalid"}}
	}
	if is.state != "open" || p.merged {
		return "", &mergeError{http.StatusMethodNotAllowed, "Pull Request is not mergeable"}
	}
	if expectSHA != "" && expectSHA != p.headSHA {
		return "", &mergeError{http.StatusConflict, "Head branch was modified. Review and try the merge again."}
	}
	if !rs.mergeMethods[method] {
		return "", &mergeError{http.StatusMethodNotAllowed, map[string]string{
			"merge": "Merge commits", "squash": "Squash merges", "rebase": "Rebase merges"}[method] + " are not allowed on this repository."}
	}
	mergeable, state, tree := s.mergeability(rs, is)
	if !mergeable {
		return "", &mergeError{http.StatusMethodNotAllowed, "Pull Request is not mergeable"}
	}
	if state == "draft" {
		return "", &mergeError{http.StatusMethodNotAllowed, "Pull Request is still a draft"}
	}
	if b := s.blockers(rs, is); len(b) > 0 {
		return "", &mergeError{http.StatusMethodNotAllowed, "Repository rule violations found\n\n" + strings.Join(b, "\n")}
	}
	baseTip := rs.refs["refs/heads/"+p.base]
	t := now()
	committer := Signature{Name: "GitHub", Email: "noreply@github.com", Date: t}
	author := Signature{Name: by.login, Email: fmt.Sprintf("%d+%s@users.noreply.github.com", by.id, by.login), Date: t}
	var tip string
	switch method {
	case "merge":
		if title == "" {
			title = fmt.Sprintf("Merge pull request #%d from %s/%s", is.number, rs.owner.login, p.head)
		}
		if message == "" {
			message = is.title
		}
		tip = rs.objects.put(typeCommit, encodeCommit(commitObject{tree: tree, parents: []string{baseTip, p.headSHA}, author: author, committer: committer, message: title + "\n\n" + message}))
	case "squash":
		if title == "" {
			title = fmt.Sprintf("%s (#%d)", is.title, is.number)
		}
		if message == "" {
			message = is.body
		}
		msg := title
		if message != "" {
			msg += "\n\n" + message
		}
		tip = rs.objects.put(typeCommit, encodeCommit(commitObject{tree: tree, parents: []string{baseTip}, author: author, committer: committer, message: msg}))
	case "rebase":
		var err error
		if tip, err = s.rebase(rs, baseTip, p.headSHA, committer); err != nil {
			return "", err
		}
	}
	rs.setRef("refs/heads/"+p.base, tip)
	p.merged, p.mergedAt, p.mergedBy, p.mergeCommitSHA = true, &t, by, tip
	is.state, is.closedAt, is.closedBy, is.updatedAt = "closed", &t, by, t
	if rs.deleteBranchOnMerge {
		delete(rs.refs, "refs/heads/"+p.head)
	}
	return tip, nil
}

// rebase replays the head's commits since the merge base onto baseTip, one by one.
func (s *Server) rebase(rs *repoState, baseTip, head string, committer Signature) (string, error) {
	mb := rs.objects.mergeBase(baseTip, head)
	commits := rs.commitsBetween(mb, head)
	tip := baseTip
	for i := len(commits) - 1; i >= 0; i-- {
		co, err := rs.objects.commit(commits[i])
		if err != nil {
			return "", err
		}
		if len(co.parents) > 1 {
			continue // merge commits are dropped by a rebase
		}
		tree, conflicts, err := rs.mergeTree(tip, commits[i])
		if err != nil {
			return "", err
		}
		if len(conflicts) > 0 {
			return "", &mergeError{http.StatusMethodNotAllowed, "This branch can't be rebased"}
		}
		tip = rs.objects.put(typeCommit, encodeCommit(commitObject{tree: tree, parents: []string{tip}, author: co.author, committer: committer, message: co.message}))
	}
	return tip, nil
}

func (s *Server) addReview(rs *repoState, is *issueState, by *account, state, body, commit string) (*review, error) {
	switch state {
	case "APPROVED", "CHANGES_REQUESTED", "COMMENTED", "PENDING":
	default:
		return nil, fmt.Errorf("review state %q is not APPROVED, CHANGES_REQUESTED, COMMENTED or PENDING", state)
	}
	if state != "COMMENTED" && state != "PENDING" && by == is.user {
		verb := "approve"
		if state == "CHANGES_REQUESTED" {
			verb = "request changes on"
		}
		return nil, &fieldErr{fieldError{Resource: "PullRequestReview", Code: "custom", Message: "Can not " + verb + " your own pull request"}}
	}
	if (state == "CHANGES_REQUESTED" || state == "COMMENTED") && body == "" {
		return nil, &fieldErr{fieldError{Resource: "PullRequestReview", Field: "body", Code: "missing_field"}}
	}
	if commit == "" {
		commit = is.pull.headSHA
	}
	rv := &review{id: s.newID(), user: by, state: state, body: body, commitID: commit, submittedAt: now()}
	is.pull.reviews = append(is.pull.reviews, rv)
	kept := is.pull.requestedReviewers[:0]
	for _, a := range is.pull.requestedReviewers {
		if a != by {
			kept = append(kept, a)
		}
	}
	is.pull.requestedReviewers = kept
	return rv, nil
}

// --- JSON ---

type hrefJSON struct {
	Href string `json:"href"`
}

type pullLinksJSON struct {
	Self           hrefJSON `json:"self"`
	HTML           hrefJSON `json:"html"`
	Issue          hrefJSON `json:"issue"`
	Comments       hrefJSON `json:"comments"`
	ReviewComments hrefJSON `json:"review_comments"`
	ReviewComment  hrefJSON `json:"review_comment"`
	Commits        hrefJSON `json:"commits"`
	Statuses       hrefJSON `json:"statuses"`
}

type pullBranchJSON struct {
	Label string   `json:"label"`
	Ref   string   `json:"ref"`
	SHA   string   `json:"sha"`
	User  userJSON `json:"user"`
	Repo  repoJSON `json:"repo"`
}

type teamJSON struct {
	ID                  int64   `json:"id"`
	NodeID              string  `json:"node_id"`
	URL                 string  `json:"url"`
	HTMLURL             string  `json:"html_url"`
	Name                string  `json:"name"`
	Slug                string  `json:"slug"`
	Description         *string `json:"description"`
	Privacy             string  `json:"privacy"`
	NotificationSetting string  `json:"notification_setting"`
	Permission          string  `json:"permission"`
	MembersURL          string  `json:"members_url"`
	RepositoriesURL     string  `json:"repositories_url"`
}

func (s *Server) teamJSON(t *team) teamJSON {
	u := fmt.Sprintf("%s/organizations/%d/team/%d", s.apiBase(), s.accounts[strings.ToLower(t.org)].id, t.id)
	return teamJSON{
		ID: t.id, NodeID: nodeID("Team", t.id), URL: u, HTMLURL: s.srv.URL + "/orgs/" + t.org + "/teams/" + t.slug,
		Name: t.slug, Slug: t.slug, Privacy: "closed", NotificationSetting: "notifications_enabled", Permission: "pull",
		MembersURL: u + "/members{/member}", RepositoriesURL: u + "/repos",
	}
}

type pullJSON struct {
	URL                 string         `json:"url"`
	ID                  int64          `json:"id"`
	NodeID              string         `json:"node_id"`
	HTMLURL             string         `json:"html_url"`
	DiffURL             string         `json:"diff_url"`
	PatchURL            string         `json:"patch_url"`
	IssueURL            string         `json:"issue_url"`
	CommitsURL          string         `json:"commits_url"`
	ReviewCommentsURL   string         `json:"review_comments_url"`
	ReviewCommentURL    string         `json:"review_comment_url"`
	CommentsURL         string         `json:"comments_url"`
	StatusesURL         string         `json:"statuses_url"`
	Number              int            `json:"number"`
	State               string         `json:"state"`
	Locked              bool           `json:"locked"`
	Title               string         `json:"title"`
	User                userJSON       `json:"user"`
	Body                *string        `json:"body"`
	Labels              []labelJSON    `json:"labels"`
	Milestone           *struct{}      `json:"milestone"`
	ActiveLockReason    *string        `json:"active_lock_reason"`
	CreatedAt           string         `json:"created_at"`
	UpdatedAt           string         `json:"updated_at"`
	ClosedAt            *string        `json:"closed_at"`
	MergedAt            *string        `json:"merged_at"`
	MergeCommitSHA      *string        `json:"merge_commit_sha"`
	Assignee            *userJSON      `json:"assignee"`
	Assignees           []userJSON     `json:"assignees"`
	RequestedReviewers  []userJSON     `json:"requested_reviewers"`
	RequestedTeams      []teamJSON     `json:"requested_teams"`
	Head                pullBranchJSON `json:"head"`
	Base                pullBranchJSON `json:"base"`
	Links               pullLinksJSON  `json:"_links"`
	AuthorAssociation   string         `json:"author_association"`
	AutoMerge           *struct{}      `json:"auto_merge"`
	Draft               bool           `json:"draft"`
	Merged              bool           `json:"merged"`
	Mergeable           *bool          `json:"mergeable"`
	Rebaseable          *bool          `json:"rebaseable"`
	MergeableState      string         `json:"mergeable_state"`
	MergedBy            *userJSON      `json:"merged_by"`
	Comments            int            `json:"comments"`
	ReviewComments      int            `json:"review_comments"`
	MaintainerCanModify bool           `json:"maintainer_can_modify"`
	Commits             int            `json:"commits"`
	Additions           int            `json:"additions"`
	Deletions           int            `json:"deletions"`
	ChangedFiles        int            `json:"changed_files"`
}

func (s *Server) pullJSON(rs *repoState, is *issueState) pullJSON {
	p := is.pull
	base := s.apiBase() + "/repos/" + rs.fullName()
	u := fmt.Sprintf("%s/pulls/%d", base, is.number)
	html := fmt.Sprintf("%s/%s/pull/%d", s.srv.URL, rs.fullName(), is.number)
	issueURL := fmt.Sprintf("%s/issues/%d", base, is.number)
	baseSHA := rs.refs["refs/heads/"+p.base]
	out := pullJSON{
		URL: u, ID: p.id, NodeID: nodeID("PullRequest", p.id), HTMLURL: html, DiffURL: html + ".diff", PatchURL: html + ".patch",
		IssueURL: issueURL, CommitsURL: u + "/commits", ReviewCommentsURL: u + "/comments", ReviewCommentURL: base + "/pulls/comments{/number}",
		CommentsURL: issueURL + "/comments", StatusesURL: base + "/statuses/" + p.headSHA,
		Number: is.number, State: is.state, Locked: is.locked, Title: is.title, User: s.userJSON(is.user), Body: optString(is.body),
		Labels: s.issueLabels(rs, is), CreatedAt: ts(is.createdAt), UpdatedAt: ts(is.updatedAt), ClosedAt: tsPtr(is.closedAt),
		MergedAt: tsPtr(p.mergedAt), Assignees: s.usersJSON(is.assignees), RequestedReviewers: s.usersJSON(p.requestedReviewers),
		RequestedTeams: []teamJSON{},
		Head:           pullBranchJSON{Label: rs.owner.login + ":" + p.head, Ref: p.head, SHA: p.headSHA, User: s.userJSON(rs.owner), Repo: s.repoJSON(rs)},
		Base:           pullBranchJSON{Label: rs.owner.login + ":" + p.base, Ref: p.base, SHA: baseSHA, User: s.userJSON(rs.owner), Repo: s.repoJSON(rs)},
		Links: pullLinksJSON{
			Self: hrefJSON{u}, HTML: hrefJSON{html}, Issue: hrefJSON{issueURL}, Comments: hrefJSON{issueURL + "/comments"},
			ReviewComments: hrefJSON{u + "/comments"}, ReviewComment: hrefJSON{base + "/pulls/comments{/number}"},
			Commits: hrefJSON{u + "/commits"}, Statuses: hrefJSON{base + "/statuses/" + p.headSHA},
		},
		AuthorAssociation: s.association(rs, is.user), Draft: p.draft, Merged: p.merged, MergedBy: s.userPtr(p.mergedBy),
		Comments: is.comments, MaintainerCanModify: false,
	}
	if len(is.assignees) > 0 {
		out.Assignee = s.userPtr(is.assignees[0])
	}
	for _, t := range p.requestedTeams {
		out.RequestedTeams = append(out.RequestedTeams, s.teamJSON(t))
	}
	if p.merged {
		out.MergeCommitSHA = &p.mergeCommitSHA
		out.MergeableState = "unknown"
	} else if is.state == "open" && p.unknownReads > 0 {
		p.unknownReads--
		out.MergeableState = "unknown"
	} else if is.state == "open" {
		mergeable, state, tree := s.mergeability(rs, is)
		out.Mergeable, out.Rebaseable, out.MergeableState = &mergeable, &mergeable, state
		if tree != "" {
			// GitHub reports the test merge commit it keeps for an open pull request.
			t := is.createdAt
			sig := Signature{Name: "GitHub", Email: "noreply@github.com", Date: t}
			sha := rs.objects.put(typeCommit, encodeCommit(commitObject{tree: tree, parents: []string{baseSHA, p.headSHA}, author: sig, committer: sig,
				message: fmt.Sprintf("Merge %s into %s", p.headSHA, baseSHA)}))
			out.MergeCommitSHA = &sha
		}
	} else {
		out.MergeableState = "unknown"
	}
	mb := rs.objects.mergeBase(baseSHA, p.headSHA)
	out.Commits = len(rs.commitsBetween(mb, p.headSHA))
	if files, err := s.pullFiles(rs, is); err == nil {
		out.ChangedFiles = len(files)
		for _, f := range files {
			out.Additions += f.Additions
			out.Deletions += f.Deletions
		}
	}
	return out
}

func (s *Server) pullFiles(rs *repoState, is *issueState) ([]diffEntryJSON, error) {
	p := is.pull
	baseRef := rs.refs["refs/heads/"+p.base]
	if p.merged && len(p.mergeCommitSHA) > 0 {
		if mc, err := rs.objects.commit(p.mergeCommitSHA); err == nil && len(mc.parents) > 0 {
			baseRef = mc.parents[0]
		}
	}
	mb := rs.objects.mergeBase(baseRef, p.headSHA)
	from := ""
	if mb != "" {
		co, err := rs.objects.commit(mb)
		if err != nil {
			return nil, err
		}
		from = co.tree
	}
	hc, err := rs.objects.commit(p.headSHA)
	if err != nil {
		return nil, err
	}
	return s.diffTrees(rs, from, hc.tree)
}

// --- handlers ---

func (c *call) pull() *issueState {
	is := c.issue()
	if is != nil && is.pull == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return nil
	}
	return is
}

func (c *call) failErr(err error) {
	var me *mergeError
	var fe *fieldErr
	switch {
	case errors.As(err, &me):
		c.fail(me.status, me.msg)
	case errors.As(err, &fe):
		c.invalid("Validation Failed", fe.fe)
	default:
		c.invalid("Validation Failed", fieldError{Code: "custom", Message: err.Error()})
	}
}

func (s *Server) listPulls(c *call) {
	rs := c.repo
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	head := q.Get("head")
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, rs.owner.login) {
			c.json(http.StatusOK, []pullJSON{})
			return
		}
		head = branch
	}
	var list []*issueState
	for _, is := range rs.issues {
		switch {
		case is.pull == nil,
			state != "all" && is.state != state,
			head != "" && is.pull.head != head,
			q.Get("base") != "" && is.pull.base != q.Get("base"):
			continue
		}
		list = append(list, is)
	}
	sortIssues(list, q.Get("sort"), q.Get("direction"))
	page := paginate(c, list)
	out := make([]pullJSON, 0, len(page))
	for _, is := range page {
		out = append(out, s.pullJSON(rs, is))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) createPull(c *call) {
	var req struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
		Draft bool   `json:"draft"`
	}
	if !c.decode(&req) {
		return
	}
	is, err := s.openPull(c.repo, c.actor(), req.Head, req.Base, req.Title, req.Body, req.Draft)
	if err != nil {
		c.failErr(err)
		return
	}
	out := s.pullJSON(c.repo, is)
	c.w.Header().Set("Location", out.URL)
	c.json(http.StatusCreated, out)
}

func (s *Server) getPull(c *call) {
	if is := c.pull(); is != nil {
		c.json(http.StatusOK, s.pullJSON(c.repo, is))
	}
}

func (s *Server) editPull(c *call) {
	is := c.pull()
	if is == nil {
		return
	}
	var req struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
		Base  *string `json:"base"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Base != nil {
		if _, ok := c.repo.refs["refs/heads/"+*req.Base]; !ok {
			c.invalid("Validation Failed", fieldError{Resource: "PullRequest", Field: "base", Code: "invalid"})
			return
		}
		is.pull.base = *req.Base
	}
	if !s.applyIssueEdits(c, c.repo, is, issueInput{Title: req.Title, Body: req.Body, State: req.State}) {
		return
	}
	if req.Title != nil {
		is.title = *req.Title
	}
	if req.Body != nil {
		is.body = *req.Body
	}
	if req.State != nil && *req.State == "open" {
		if sha, ok := c.repo.refs["refs/heads/"+is.pull.head]; ok {
			is.pull.headSHA = sha
		}
	}
	c.json(http.StatusOK, s.pullJSON(c.repo, is))
}

func (s *Server) isMerged(c *call) {
	if is := c.pull(); is != nil {
		if is.pull.merged {
			c.noContent()
			return
		}
		c.fail(http.StatusNotFound, "Not Found")
	}
}

func (s *Server) mergePull(c *call) {
	is := c.pull()
	if is == nil || !c.mayWrite("contents") {
		return
	}
	var req struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if !c.decode(&req) {
		return
	}
	sha, err := s.merge(c.repo, is, c.actor(), req.MergeMethod, req.CommitTitle, req.CommitMessage, req.SHA)
	if err != nil {
		c.failErr(err)
		return
	}
	c.json(http.StatusOK, struct {
		SHA     string `json:"sha"`
		Merged  bool   `json:"merged"`
		Message string `json:"message"`
	}{sha, true, "Pull Request successfully merged"})
}

func (s *Server) listPullFiles(c *call) {
	is := c.pull()
	if is == nil {
		return
	}
	files, err := s.pullFiles(c.repo, is)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	if files == nil {
		files = []diffEntryJSON{}
	}
	c.json(http.StatusOK, paginate(c, files))
}

func (s *Server) listPullCommits(c *call) {
	is := c.pull()
	if is == nil {
		return
	}
	rs := c.repo
	mb := rs.objects.mergeBase(rs.refs["refs/heads/"+is.pull.base], is.pull.headSHA)
	shas := rs.commitsBetween(mb, is.pull.headSHA)
	out := make([]repoCommitJSON, 0, len(shas))
	for i := len(shas) - 1; i >= 0; i-- {
		if rc, err := s.repoCommitJSON(rs, shas[i], false); err == nil {
			out = append(out, rc)
		}
	}
	c.json(http.StatusOK, paginate(c, out))
}

type reviewersInput struct {
	Reviewers     []string `json:"reviewers"`
	TeamReviewers []string `json:"team_reviewers"`
}

func (s *Server) requestReviewers(c *call) {
	is := c.pull()
	if is == nil {
		return
	}
	var req reviewersInput
	if !c.decode(&req) {
		return
	}
	rs, p := c.repo, is.pull
	var users []*account
	for _, login := range req.Reviewers {
		if strings.EqualFold(login, is.user.login) {
			c.invalid("Review cannot be requested from pull request author.")
			return
		}
		if rs.role(login) == "" {
			c.invalid(notCollaborator(rs, false))
			return
		}
		users = append(users, s.accountLocked(login, ""))
	}
	var teams []*team
	for _, slug := range req.TeamReviewers {
		t, ok := s.teams[strings.ToLower(rs.owner.login+"/"+slug)]
		if !ok || rs.teamRoles[strings.ToLower(t.slug)] == "" {
			c.invalid(notCollaborator(rs, len(req.Reviewers) == 0))
			return
		}
		teams = append(teams, t)
	}
	for _, a := range users {
		if !containsAccount(p.requestedReviewers, a) {
			p.requestedReviewers = append(p.requestedReviewers, a)
		}
	}
	for _, t := range teams {
		found := false
		for _, have := range p.requestedTeams {
			found = found || have == t
		}
		if !found {
			p.requestedTeams = append(p.requestedTeams, t)
		}
	}
	c.json(http.StatusCreated, s.pullJSON(rs, is))
}

// notCollaborator is GitHub's refusal of a review request naming someone without access to
// the repository: a person who is not a collaborator, or a team with no role on it. It says
// "teams" when the request named teams only.
func notCollaborator(rs *repoState, onlyTeams bool) string {
	who := "users or teams"
	if onlyTeams {
		who = "teams"
	}
	return "Reviews may only be requested from collaborators. One or more of the " + who + " you specified is not a collaborator of the " + rs.fullName() + " repository."
}

func containsAccount(list []*account, a *account) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func (s *Server) removeRequestedReviewers(c *call) {
	is := c.pull()
	if is == nil {
		return
	}
	var req reviewersInput
	if !c.decode(&req) {
		return
	}
	p := is.pull
	keep := p.requestedReviewers[:0]
	for _, a := range p.requestedReviewers {
		drop := false
		for _, l := range req.Reviewers {
			drop = drop || strings.EqualFold(l, a.login)
		}
		if !drop {
			keep = append(keep, a)
		}
	}
	p.requestedReviewers = keep
	keepTeams := p.requestedTeams[:0]
	for _, t := range p.requestedTeams {
		drop := false
		for _, slug := range req.TeamReviewers {
			drop = drop || strings.EqualFold(slug, t.slug)
		}
		if !drop {
			keepTeams = append(keepTeams, t)
		}
	}
	p.requestedTeams = keepTeams
	c.json(http.StatusOK, s.pullJSON(c.repo, is))
}

func (s *Server) listRequestedReviewers(c *call) {
	is := c.pull()
	if is == nil {
		return
	}
	teams := []teamJSON{}
	for _, t := range is.pull.requestedTeams {
		teams = append(teams, s.teamJSON(t))
	}
	c.json(http.StatusOK, struct {
		Users []userJSON `json:"users"`
		Teams []teamJSON `json:"teams"`
	}{s.usersJSON(is.pull.requestedReviewers), teams})
}

type reviewJSON struct {
	ID             int64    `json:"id"`
	NodeID         string   `json:"node_id"`
	User           userJSON `json:"user"`
	Body           string   `json:"body"`
	State          string   `json:"state"`
	HTMLURL        string   `json:"html_url"`
	PullRequestURL string   `json:"pull_request_url"`
	Links          struct {
		HTML        hrefJSON `json:"html"`
		PullRequest hrefJSON `json:"pull_request"`
	} `json:"_links"`
	SubmittedAt       *string `json:"submitted_at,omitempty"`
	CommitID          string  `json:"commit_id"`
	AuthorAssociation string  `json:"author_association"`
}

func (s *Server) reviewJSON(rs *repoState, is *issueState, rv *review) reviewJSON {
	html := fmt.Sprintf("%s/%s/pull/%d#pullrequestreview-%d", s.srv.URL, rs.fullName(), is.number, rv.id)
	pu := fmt.Sprintf("%s/repos/%s/pulls/%d", s.apiBase(), rs.fullName(), is.number)
	out := reviewJSON{ID: rv.id, NodeID: nodeID("PullRequestReview", rv.id), User: s.userJSON(rv.user), Body: rv.body, State: rv.state,
		HTMLURL: html, PullRequestURL: pu, CommitID: rv.commitID, AuthorAssociation: s.association(rs, rv.user)}
	out.Links.HTML, out.Links.PullRequest = hrefJSON{html}, hrefJSON{pu}
	if rv.state != "PENDING" {
		out.SubmittedAt = tsPtr(&rv.submittedAt)
	}
	return out
}

func (s *Server) listReviews(c *call) {
	is := c.pull()
	if is == nil {
		return
	}
	out := make([]reviewJSON, 0, len(is.pull.reviews))
	for _, rv := range is.pull.reviews {
		out = append(out, s.reviewJSON(c.repo, is, rv))
	}
	c.json(http.StatusOK, paginate(c, out))
}

func (s *Server) createReview(c *call) {
	is := c.pull()
	if is == nil {
		return
	}
	var req struct {
		Body     string `json:"body"`
		Event    string `json:"event"`
		CommitID string `json:"commit_id"`
	}
	if !c.decode(&req) {
		return
	}
	state := map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED", "": "PENDING"}[req.Event]
	if state == "" {
		c.invalid("Validation Failed", fieldError{Resource: "PullRequestReview", Field: "event", Code: "invalid"})
		return
	}
	if req.CommitID != "" && !c.repo.objects.has(req.CommitID, typeCommit) {
		c.invalid("Validation Failed", fieldError{Resource: "PullRequestReview", Field: "commit_id", Code: "invalid"})
		return
	}
	rv, err := s.addReview(c.repo, is, c.actor(), state, req.Body, req.CommitID)
	if err != nil {
		c.failErr(err)
		return
	}
	c.json(http.StatusOK, s.reviewJSON(c.repo, is, rv))
}
