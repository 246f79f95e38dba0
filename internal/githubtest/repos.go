package githubtest

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// repoState is one repository: its git objects and refs, and its issues and pull requests.
type repoState struct {
	id                  int64
	owner               *account
	name                string
	defaultBranch       string
	private             bool
	deleteBranchOnMerge bool
	createdAt           time.Time
	pushedAt            time.Time
	objects             objectStore
	refs                map[string]string // full ref name -> commit sha
	issues              map[int]*issueState
	nextNumber          int
	comments            map[int64]*commentState
	labels              map[string]*labelState // by lower-cased name
	roles               map[string]string      // lower-cased login -> admin|maintain|write|triage|read
	protections         map[string]Protection
	checkRuns           map[int64]*checkRun
	statuses            []*commitStatus
	dispatches          []Dispatch
	workflowIDs         map[string]int64 // workflow file path -> id, given when first seen
	runs                map[int64]*workflowRun
	seedSeq             int
	lazyMerge           int               // see WithMergeabilityDelay
	teamRoles           map[string]string // lower-cased slug of an owner's team -> its role here
	mergeMethods        map[string]bool   // merge, squash, rebase: those the settings allow
	issuesDisabled      bool
}

func (rs *repoState) fullName() string { return rs.owner.login + "/" + rs.name }

// seedEpoch dates commits made through the Go API, so seeded repositories get the same
// commit ids in every run.
var seedEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// RepoOption configures CreateRepo.
type RepoOption func(*repoState)

// DefaultBranch sets the default branch's name (default "main").
func DefaultBranch(name string) RepoOption { return func(rs *repoState) { rs.defaultBranch = name } }

// Public makes the repository public (default private); anyone may then read it.
func Public() RepoOption { return func(rs *repoState) { rs.private = false } }

// DeleteBranchOnMerge deletes a pull request's head branch when it is merged.
func DeleteBranchOnMerge() RepoOption { return func(rs *repoState) { rs.deleteBranchOnMerge = true } }

// Repo is a handle on one fake repository, for seeding it and asserting on its state.
type Repo struct {
	s     *Server
	key   string
	Owner string
	Name  string
}

// CreateRepo creates an empty repository; its owner is created as an organization unless
// already known. Seed it with Commit or SeedDir.
func (s *Server) CreateRepo(owner, name string, opts ...RepoOption) *Repo {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(owner + "/" + name)
	if _, ok := s.repos[key]; ok {
		s.fatalf("CreateRepo: %s/%s already exists", owner, name)
	}
	rs := &repoState{
		id:            s.newID(),
		owner:         s.accountLocked(owner, "Organization"),
		name:          name,
		defaultBranch: "main",
		private:       true,
		createdAt:     seedEpoch,
		pushedAt:      seedEpoch,
		objects:       objectStore{},
		refs:          map[string]string{},
		issues:        map[int]*issueState{},
		nextNumber:    1,
		comments:      map[int64]*commentState{},
		labels:        map[string]*labelState{},
		roles:         map[string]string{},
		protections:   map[string]Protection{},
		checkRuns:     map[int64]*checkRun{},
		lazyMerge:     s.lazyMerge,
		teamRoles:     map[string]string{},
		mergeMethods:  map[string]bool{"merge": true, "squash": true, "rebase": true},
	}
	for _, o := range opts {
		o(rs)
	}
	s.repos[key] = rs
	return &Repo{s: s, key: key, Owner: rs.owner.login, Name: name}
}

// Repo returns a handle on an existing repository.
func (s *Server) Repo(owner, name string) *Repo {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(owner + "/" + name)
	rs, ok := s.repos[key]
	if !ok {
		s.fatalf("Repo: %s/%s does not exist", owner, name)
	}
	return &Repo{s: s, key: key, Owner: rs.owner.login, Name: rs.name}
}

func (s *Server) sortedRepos() []*repoState {
	out := make([]*repoState, 0, len(s.repos))
	for _, rs := range s.repos {
		out = append(out, rs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (s *Server) repoByID(id int64) *repoState {
	for _, rs := range s.repos {
		if rs.id == id {
			return rs
		}
	}
	return nil
}

// with runs f on the repository's state with the server locked.
func (r *Repo) with(f func(rs *repoState)) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	f(r.s.repos[r.key])
}

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// ID is the repository's id.
func (r *Repo) ID() int64 {
	var id int64
	r.with(func(rs *repoState) { id = rs.id })
	return id
}

// DefaultBranch is the repository's default branch.
func (r *Repo) DefaultBranch() string {
	var b string
	r.with(func(rs *repoState) { b = rs.defaultBranch })
	return b
}

// Commit commits files (path -> content) to branch, deleting the paths in deletes, as a
// push by "githubtest" would, and returns the new commit's id. The branch is created when
// missing: from the default branch, or as a root commit in an empty repository.
func (r *Repo) Commit(branch, message string, files map[string]string, deletes ...string) string {
	r.s.t.Helper()
	var sha string
	var err error
	r.with(func(rs *repoState) {
		sha, err = rs.commitFiles(branch, message, files, nil, deletes, false, time.Time{})
	})
	if err != nil {
		r.s.fatalf("Commit to %s@%s: %v", r.FullName(), branch, err)
	}
	return sha
}

// CommitAt is Commit dated when, as a person's push happening now is.
func (r *Repo) CommitAt(when time.Time, branch, message string, files map[string]string) string {
	r.s.t.Helper()
	var sha string
	var err error
	r.with(func(rs *repoState) {
		sha, err = rs.commitFiles(branch, message, files, nil, nil, false, when)
	})
	if err != nil {
		r.s.fatalf("Commit to %s@%s: %v", r.FullName(), branch, err)
	}
	return sha
}

// SeedDir commits the regular files, executables and symlinks under dir to branch (the
// .git directory is skipped) as the branch's whole content, and returns the new commit's id.
func (r *Repo) SeedDir(branch, dir string) string {
	r.s.t.Helper()
	files := map[string]string{}
	modes := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			files[rel], modes[rel] = filepath.ToSlash(target), modeSymlink
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = string(data)
			if info.Mode()&0o111 != 0 {
				modes[rel] = modeExec
			}
		}
		return nil
	})
	if err != nil {
		r.s.fatalf("SeedDir %s: %v", dir, err)
	}
	var sha string
	r.with(func(rs *repoState) {
		sha, err = rs.commitFiles(branch, "Seed from "+filepath.Base(dir), files, modes, nil, true, time.Time{})
	})
	if err != nil {
		r.s.fatalf("SeedDir to %s@%s: %v", r.FullName(), branch, err)
	}
	return sha
}

// commitFiles commits files onto branch (created from the default branch when missing);
// replace drops everything else the branch had. A zero when dates the commit after the
// seed epoch.
func (rs *repoState) commitFiles(branch, message string, files, modes map[string]string, deletes []string, replace bool, when time.Time) (string, error) {
	ref := "refs/heads/" + branch
	parent, ok := rs.refs[ref]
	if !ok {
		parent = rs.refs["refs/heads/"+rs.defaultBranch]
	}
	base := ""
	var parents []string
	if parent != "" {
		c, err := rs.objects.commit(parent)
		if err != nil {
			return "", err
		}
		base, parents = c.tree, []string{parent}
	}
	if replace {
		base = ""
	}
	tb, err := newTreeBuilder(rs.objects, base)
	if err != nil {
		return "", err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if _, err := cleanTreePath(p); err != nil {
			return "", err
		}
		mode := modes[p]
		if mode == "" {
			mode = modeFile
		}
		if err := tb.set(p, mode, rs.objects.put(typeBlob, []byte(files[p]))); err != nil {
			return "", err
		}
	}
	for _, p := range deletes {
		if err := tb.remove(p); err != nil {
			return "", err
		}
	}
	tree, err := tb.write()
	if err != nil {
		return "", err
	}
	rs.seedSeq++
	sig := Signature{Name: "githubtest", Email: "githubtest@example.com", Date: seedEpoch.Add(time.Duration(rs.seedSeq) * time.Minute)}
	if !when.IsZero() {
		sig.Date = when.UTC().Truncate(time.Second)
	}
	sha := rs.objects.put(typeCommit, encodeCommit(commitObject{tree: tree, parents: parents, author: sig, committer: sig, message: message}))
	rs.setRef(ref, sha)
	return sha, nil
}

// setRef moves a ref and keeps open pull requests' head commits in step; their
// mergeability is recomputed (see WithMergeabilityDelay).
func (rs *repoState) setRef(ref, sha string) {
	rs.refs[ref] = sha
	rs.pushedAt = time.Now().UTC()
	if branch, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		for _, is := range rs.issues {
			if is.pull == nil || is.state != "open" {
				continue
			}
			if is.pull.head == branch {
				is.pull.headSHA = sha
			}
			if is.pull.head == branch || is.pull.base == branch {
				is.pull.unknownReads = rs.lazyMerge
			}
		}
	}
}

// resolve turns a branch, tag, full ref or (abbreviated) commit id into a commit id.
func (rs *repoState) resolve(ref string) (string, bool) {
	if ref == "" {
		ref = rs.defaultBranch
	}
	if rs.objects.has(ref, typeCommit) {
		return ref, true
	}
	for _, full := range []string{ref, "refs/heads/" + ref, "refs/tags/" + ref} {
		if sha, ok := rs.refs[full]; ok {
			return sha, true
		}
	}
	if len(ref) >= 7 && len(ref) < 40 && isHex(ref) {
		found := ""
		for sha, o := range rs.objects {
			if o.typ == typeCommit && strings.HasPrefix(sha, ref) {
				if found != "" {
					return "", false
				}
				found = sha
			}
		}
		return found, found != ""
	}
	return "", false
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// File returns a file's content at ref (branch, tag or commit id).
func (r *Repo) File(ref, path string) (string, bool) {
	var out string
	var ok bool
	r.with(func(rs *repoState) {
		sha, found := rs.resolve(ref)
		if !found {
			return
		}
		c, err := rs.objects.commit(sha)
		if err != nil {
			return
		}
		e, found := rs.objects.lookup(c.tree, path)
		if !found || e.mode == modeTree {
			return
		}
		data, _ := rs.objects.blob(e.sha)
		out, ok = string(data), true
	})
	return out, ok
}

// Files returns every file's content at ref, by path.
func (r *Repo) Files(ref string) map[string]string {
	out := map[string]string{}
	r.with(func(rs *repoState) {
		sha, found := rs.resolve(ref)
		if !found {
			return
		}
		c, err := rs.objects.commit(sha)
		if err != nil {
			return
		}
		flat, err := rs.objects.flatten(c.tree)
		if err != nil {
			return
		}
		for p, f := range flat {
			data, _ := rs.objects.blob(f.sha)
			out[p] = string(data)
		}
	})
	return out
}

// Branches lists the branch names, sorted.
func (r *Repo) Branches() []string {
	var out []string
	r.with(func(rs *repoState) { out = rs.branches() })
	return out
}

func (rs *repoState) branches() []string {
	var out []string
	for ref := range rs.refs {
		if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
			out = append(out, b)
		}
	}
	sort.Strings(out)
	return out
}

// BranchSHA returns the commit a branch points at.
func (r *Repo) BranchSHA(branch string) (string, bool) {
	var sha string
	var ok bool
	r.with(func(rs *repoState) { sha, ok = rs.refs["refs/heads/"+branch] })
	return sha, ok
}

// Commit is a commit as seen by the Go API.
type Commit struct {
	SHA       string
	Tree      string
	Parents   []string
	Message   string
	Author    Signature
	Committer Signature
}

// GetCommit reads a commit by id.
func (r *Repo) GetCommit(sha string) (Commit, bool) {
	var out Commit
	var ok bool
	r.with(func(rs *repoState) {
		c, err := rs.objects.commit(sha)
		if err == nil {
			out, ok = toCommit(sha, c), true
		}
	})
	return out, ok
}

func toCommit(sha string, c commitObject) Commit {
	return Commit{SHA: sha, Tree: c.tree, Parents: c.parents, Message: c.message, Author: c.author, Committer: c.committer}
}

// History lists the first-parent history of ref, newest first.
func (r *Repo) History(ref string) []Commit {
	var out []Commit
	r.with(func(rs *repoState) {
		sha, ok := rs.resolve(ref)
		for ok && sha != "" {
			c, err := rs.objects.commit(sha)
			if err != nil {
				return
			}
			out = append(out, toCommit(sha, c))
			sha = ""
			if len(c.parents) > 0 {
				sha = c.parents[0]
			}
		}
	})
	return out
}

// Roles a collaborator can have, from most to least powerful.
const (
	RoleAdmin    = "admin"
	RoleMaintain = "maintain"
	RoleWrite    = "write"
	RoleTriage   = "triage"
	RoleRead     = "read"
)

// SetPermission gives login a role on the repository (admin, maintain, write, triage, read;
// "" or "none" removes it).
func (r *Repo) SetPermission(login, role string) {
	r.s.t.Helper()
	switch role {
	case RoleAdmin, RoleMaintain, RoleWrite, RoleTriage, RoleRead, "", "none":
	default:
		r.s.fatalf("SetPermission: unknown role %q", role)
	}
	r.with(func(rs *repoState) {
		r.s.accountLocked(login, "")
		if role == "" || role == "none" {
			delete(rs.roles, strings.ToLower(login))
			return
		}
		rs.roles[strings.ToLower(login)] = role
	})
}

// role returns a user's role: explicit, admin for the owning user, read on public repositories.
func (rs *repoState) role(login string) string {
	if r, ok := rs.roles[strings.ToLower(login)]; ok {
		return r
	}
	if rs.owner.typ == "User" && strings.EqualFold(rs.owner.login, login) {
		return RoleAdmin
	}
	if !rs.private {
		return RoleRead
	}
	return ""
}

// SetTeamPermission gives the owner organization's team slug a role on the repository
// (admin, maintain, write, triage, read; "" or "none" removes it). As on GitHub, a team
// without one cannot be asked to review. Members' own permissions stay what SetPermission
// gave them.
func (r *Repo) SetTeamPermission(slug, role string) {
	r.s.t.Helper()
	switch role {
	case RoleAdmin, RoleMaintain, RoleWrite, RoleTriage, RoleRead, "", "none":
	default:
		r.s.fatalf("SetTeamPermission: unknown role %q", role)
	}
	r.with(func(rs *repoState) {
		r.s.teamLocked(rs.owner.login, slug)
		if role == "" || role == "none" {
			delete(rs.teamRoles, strings.ToLower(slug))
			return
		}
		rs.teamRoles[strings.ToLower(slug)] = role
	})
}

// AllowMergeMethods sets the merge methods the repository's settings allow (merge,
// squash, rebase; all three by default). Merging another way is refused with GitHub's 405.
func (r *Repo) AllowMergeMethods(methods ...string) {
	r.s.t.Helper()
	allowed := map[string]bool{}
	for _, m := range methods {
		if m != "merge" && m != "squash" && m != "rebase" {
			r.s.fatalf("AllowMergeMethods: unknown method %q", m)
		}
		allowed[m] = true
	}
	r.with(func(rs *repoState) { rs.mergeMethods = allowed })
}

// DisableIssues turns the repository's issues off, as its settings can: opening one is
// refused with GitHub's 410. Pull requests and their conversations still work.
func (r *Repo) DisableIssues() {
	r.with(func(rs *repoState) { rs.issuesDisabled = true })
}

// permissionOf maps a role to the legacy permission the permission endpoint reports.
func permissionOf(role string) string {
	switch role {
	case RoleAdmin:
		return "admin"
	case RoleMaintain, RoleWrite:
		return "write"
	case RoleTriage, RoleRead:
		return "read"
	}
	return "none"
}

func canWrite(role string) bool {
	return role == RoleAdmin || role == RoleMaintain || role == RoleWrite
}

func pathEscape(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func (s *Server) repoRoutes() {
	s.handle("GET /repos/{owner}/{repo}", authInstallation, func(c *call) { c.json(http.StatusOK, s.fullRepoJSON(c.repo)) })
	s.handle("GET /repos/{owner}/{repo}/contents", authInstallation, s.getContents)
	s.handle("GET /repos/{owner}/{repo}/contents/{path...}", authInstallation, s.getContents)
	s.handle("GET /repos/{owner}/{repo}/branches", authInstallation, s.listBranches)
	s.handle("GET /repos/{owner}/{repo}/branches/{branch...}", authInstallation, s.getBranch)
	s.handle("GET /repos/{owner}/{repo}/commits", authInstallation, s.listCommits)
	s.handle("GET /repos/{owner}/{repo}/commits/{ref...}", authInstallation, s.getRepoCommit)
	s.handle("GET /repos/{owner}/{repo}/compare/{basehead...}", authInstallation, s.compare)
	s.handle("GET /repos/{owner}/{repo}/collaborators/{username}/permission", authInstallation, s.getPermission)
	s.handle("GET /raw/{owner}/{repo}/{sha}/{path...}", authNone, s.getRaw)
	s.handle("GET /orgs/{org}/teams/{slug}/memberships/{username}", authInstallation, s.getTeamMembership)
	s.handle("GET /orgs/{org}/members/{username}", authInstallation, s.checkOrgMember)
}

// fullRepoJSON is GitHub's "full-repository": GET /repos/{owner}/{repo}.
type fullRepoJSON struct {
	repoJSON
	Organization       *userJSON `json:"organization,omitempty"`
	TemplateRepository *repoJSON `json:"template_repository"`
	SubscribersCount   int       `json:"subscribers_count"`
	NetworkCount       int       `json:"network_count"`
}

func (s *Server) fullRepoJSON(rs *repoState) fullRepoJSON {
	out := fullRepoJSON{repoJSON: s.repoJSON(rs)}
	if rs.owner.typ == "Organization" {
		out.Organization = s.userPtr(rs.owner)
	}
	return out
}

type contentLinks struct {
	Self string  `json:"self"`
	Git  *string `json:"git"`
	HTML *string `json:"html"`
}

type contentJSON struct {
	Type        string       `json:"type"`
	Encoding    string       `json:"encoding,omitempty"`
	Size        int          `json:"size"`
	Name        string       `json:"name"`
	Path        string       `json:"path"`
	Content     *string      `json:"content,omitempty"`
	Target      string       `json:"target,omitempty"`
	SHA         string       `json:"sha"`
	URL         string       `json:"url"`
	GitURL      *string      `json:"git_url"`
	HTMLURL     *string      `json:"html_url"`
	DownloadURL *string      `json:"download_url"`
	Links       contentLinks `json:"_links"`
}

// maxContentSize is the largest file the contents API returns inline.
const maxContentSize = 1 << 20

func (s *Server) contentJSON(rs *repoState, ref, commit, p string, e treeEntry, withContent bool) contentJSON {
	base := s.apiBase() + "/repos/" + rs.fullName()
	self := base + "/contents/" + pathEscape(p) + "?ref=" + url.QueryEscape(ref)
	kind, gitKind, htmlKind := "file", "blobs", "blob"
	switch e.mode {
	case modeTree:
		kind, gitKind, htmlKind = "dir", "trees", "tree"
	case modeSymlink:
		kind = "symlink"
	case modeGitlink:
		kind = "submodule"
	}
	git := base + "/git/" + gitKind + "/" + e.sha
	html := s.srv.URL + "/" + rs.fullName() + "/" + htmlKind + "/" + pathEscape(ref) + "/" + pathEscape(p)
	out := contentJSON{
		Type: kind, Name: p[strings.LastIndex(p, "/")+1:], Path: p, SHA: e.sha, URL: self,
		GitURL: &git, HTMLURL: &html,
		Links: contentLinks{Self: self, Git: &git, HTML: &html},
	}
	if kind == "file" || kind == "symlink" {
		data, _ := rs.objects.blob(e.sha)
		out.Size = len(data)
		dl := s.srv.URL + "/raw/" + rs.fullName() + "/" + commit + "/" + pathEscape(p)
		out.DownloadURL = &dl
		if kind == "symlink" {
			out.Target = string(data)
		}
		if withContent && kind == "file" {
			out.Encoding = "base64"
			content := ""
			if len(data) <= maxContentSize {
				content = wrap60(base64.StdEncoding.EncodeToString(data))
			} else {
				out.Encoding = "none"
			}
			out.Content = &content
		}
	}
	return out
}

// wrap60 breaks base64 text into lines of 60 characters, as GitHub's contents API does.
func wrap60(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

func (s *Server) getContents(c *call) {
	rs := c.repo
	ref := c.r.URL.Query().Get("ref")
	if ref == "" {
		ref = rs.defaultBranch
	}
	commit, ok := rs.resolve(ref)
	if !ok {
		c.fail(http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	co, err := rs.objects.commit(commit)
	if err != nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	p := strings.Trim(c.r.PathValue("path"), "/")
	e, found := rs.objects.lookup(co.tree, p)
	if !found {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	if e.mode != modeTree {
		c.json(http.StatusOK, s.contentJSON(rs, ref, commit, p, e, true))
		return
	}
	entries, err := rs.objects.tree(e.sha)
	if err != nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	out := make([]contentJSON, 0, len(entries))
	for _, child := range entries {
		cp := child.name
		if p != "" {
			cp = p + "/" + child.name
		}
		out = append(out, s.contentJSON(rs, ref, commit, cp, child, false))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	c.json(http.StatusOK, out)
}

// getRaw serves download_url links, which need no authentication for this fake.
func (s *Server) getRaw(c *call) {
	rs := s.repos[strings.ToLower(c.r.PathValue("owner")+"/"+c.r.PathValue("repo"))]
	if rs == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	sha := c.r.PathValue("sha")
	if data, isBlob := rs.objects.blob(sha); isBlob { // raw_url of a diff entry names the blob
		c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = c.w.Write(data)
		return
	}
	co, err := rs.objects.commit(sha)
	if err != nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	e, ok := rs.objects.lookup(co.tree, c.r.PathValue("path"))
	data, isBlob := rs.objects.blob(e.sha)
	if !ok || !isBlob {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = c.w.Write(data)
}

type commitRefJSON struct {
	SHA string `json:"sha"`
	URL string `json:"url"`
}

type shortBranchJSON struct {
	Name      string        `json:"name"`
	Commit    commitRefJSON `json:"commit"`
	Protected bool          `json:"protected"`
}

func (s *Server) listBranches(c *call) {
	rs := c.repo
	out := []shortBranchJSON{}
	for _, b := range rs.branches() {
		sha := rs.refs["refs/heads/"+b]
		_, protected := rs.protections[b]
		out = append(out, shortBranchJSON{Name: b, Commit: commitRefJSON{SHA: sha, URL: s.apiBase() + "/repos/" + rs.fullName() + "/commits/" + sha}, Protected: protected})
	}
	c.json(http.StatusOK, paginate(c, out))
}

type branchJSON struct {
	Name   string         `json:"name"`
	Commit repoCommitJSON `json:"commit"`
	Links  struct {
		HTML string `json:"html"`
		Self string `json:"self"`
	} `json:"_links"`
	Protected     bool               `json:"protected"`
	Protection    branchProtectionJS `json:"protection"`
	ProtectionURL string             `json:"protection_url"`
}

type branchProtectionJS struct {
	Enabled              bool `json:"enabled"`
	RequiredStatusChecks struct {
		EnforcementLevel string   `json:"enforcement_level"`
		Contexts         []string `json:"contexts"`
	} `json:"required_status_checks"`
}

func (s *Server) getBranch(c *call) {
	rs := c.repo
	name := c.r.PathValue("branch")
	sha, ok := rs.refs["refs/heads/"+name]
	if !ok {
		c.fail(http.StatusNotFound, "Branch not found")
		return
	}
	rc, err := s.repoCommitJSON(rs, sha, false)
	if err != nil {
		c.fail(http.StatusNotFound, "Branch not found")
		return
	}
	out := branchJSON{Name: name, Commit: rc, ProtectionURL: s.apiBase() + "/repos/" + rs.fullName() + "/branches/" + pathEscape(name) + "/protection"}
	out.Links.HTML = s.srv.URL + "/" + rs.fullName() + "/tree/" + pathEscape(name)
	out.Links.Self = s.apiBase() + "/repos/" + rs.fullName() + "/branches/" + pathEscape(name)
	p, protected := rs.protections[name]
	out.Protected = protected
	out.Protection.Enabled = protected
	out.Protection.RequiredStatusChecks.EnforcementLevel = "off"
	out.Protection.RequiredStatusChecks.Contexts = []string{}
	if protected && len(p.RequiredChecks) > 0 {
		out.Protection.RequiredStatusChecks.EnforcementLevel = "non_admins"
		out.Protection.RequiredStatusChecks.Contexts = append(out.Protection.RequiredStatusChecks.Contexts, p.RequiredChecks...)
	}
	c.json(http.StatusOK, out)
}

type gitActorJSON struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

type verificationJSON struct {
	Verified   bool    `json:"verified"`
	Reason     string  `json:"reason"`
	Signature  *string `json:"signature"`
	Payload    *string `json:"payload"`
	VerifiedAt *string `json:"verified_at"`
}

var unsigned = verificationJSON{Reason: "unsigned"}

type parentJSON struct {
	SHA     string `json:"sha"`
	URL     string `json:"url"`
	HTMLURL string `json:"html_url"`
}

type repoCommitJSON struct {
	SHA         string `json:"sha"`
	NodeID      string `json:"node_id"`
	URL         string `json:"url"`
	HTMLURL     string `json:"html_url"`
	CommentsURL string `json:"comments_url"`
	Commit      struct {
		URL          string           `json:"url"`
		Author       gitActorJSON     `json:"author"`
		Committer    gitActorJSON     `json:"committer"`
		Message      string           `json:"message"`
		Tree         commitRefJSON    `json:"tree"`
		CommentCount int              `json:"comment_count"`
		Verification verificationJSON `json:"verification"`
	} `json:"commit"`
	Author    *userJSON       `json:"author"`
	Committer *userJSON       `json:"committer"`
	Parents   []parentJSON    `json:"parents"`
	Stats     *commitStats    `json:"stats,omitempty"`
	Files     []diffEntryJSON `json:"files,omitempty"`
}

type commitStats struct {
	Additions int `json:"additions"`
	Deletions int `json:"deletions"`
	Total     int `json:"total"`
}

func actor(sig Signature) gitActorJSON {
	return gitActorJSON{Name: sig.Name, Email: sig.Email, Date: ts(sig.Date)}
}

// userBySignature finds the account a commit signature belongs to, as GitHub does by e-mail.
func (s *Server) userBySignature(sig Signature) *userJSON {
	if sig.Email == botEmail(s.app.bot) {
		return s.userPtr(s.app.bot)
	}
	if login, ok := strings.CutSuffix(sig.Email, "@users.noreply.github.com"); ok {
		if _, l, found := strings.Cut(login, "+"); found {
			login = l
		}
		if a, ok := s.accounts[strings.ToLower(login)]; ok {
			return s.userPtr(a)
		}
	}
	return nil
}

func (s *Server) parentsJSON(rs *repoState, parents []string) []parentJSON {
	out := make([]parentJSON, 0, len(parents))
	for _, p := range parents {
		out = append(out, parentJSON{SHA: p, URL: s.apiBase() + "/repos/" + rs.fullName() + "/commits/" + p, HTMLURL: s.srv.URL + "/" + rs.fullName() + "/commit/" + p})
	}
	return out
}

func (s *Server) repoCommitJSON(rs *repoState, sha string, withFiles bool) (repoCommitJSON, error) {
	co, err := rs.objects.commit(sha)
	if err != nil {
		return repoCommitJSON{}, err
	}
	base := s.apiBase() + "/repos/" + rs.fullName()
	var out repoCommitJSON
	out.SHA = sha
	out.NodeID = nodeID("Commit", fmt.Sprintf("%d:%s", rs.id, sha))
	out.URL = base + "/commits/" + sha
	out.HTMLURL = s.srv.URL + "/" + rs.fullName() + "/commit/" + sha
	out.CommentsURL = base + "/commits/" + sha + "/comments"
	out.Commit.URL = base + "/git/commits/" + sha
	out.Commit.Author = actor(co.author)
	out.Commit.Committer = actor(co.committer)
	out.Commit.Message = co.message
	out.Commit.Tree = commitRefJSON{SHA: co.tree, URL: base + "/git/trees/" + co.tree}
	out.Commit.Verification = unsigned
	out.Author = s.userBySignature(co.author)
	out.Committer = s.userBySignature(co.committer)
	out.Parents = s.parentsJSON(rs, co.parents)
	if withFiles {
		from := ""
		if len(co.parents) > 0 {
			if pc, err := rs.objects.commit(co.parents[0]); err == nil {
				from = pc.tree
			}
		}
		files, err := s.diffTrees(rs, from, co.tree)
		if err != nil {
			return out, err
		}
		st := &commitStats{}
		for _, f := range files {
			st.Additions += f.Additions
			st.Deletions += f.Deletions
		}
		st.Total = st.Additions + st.Deletions
		out.Stats, out.Files = st, files
	}
	return out, nil
}

func (s *Server) getRepoCommit(c *call) {
	rs := c.repo
	ref := c.r.PathValue("ref")
	if s.commitSub(c, ref) {
		return
	}
	sha, ok := rs.resolve(ref)
	if !ok {
		c.invalid("No commit found for SHA: " + ref)
		return
	}
	if accept := c.r.Header.Get("Accept"); strings.Contains(accept, "application/vnd.github") && strings.HasSuffix(accept, ".sha") {
		c.w.Header().Set("Content-Type", "application/vnd.github.sha; charset=utf-8")
		c.w.Header().Set("ETag", `"`+sha+`"`)
		if c.r.Header.Get("If-None-Match") == `"`+sha+`"` {
			c.w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = c.w.Write([]byte(sha))
		return
	}
	out, err := s.repoCommitJSON(rs, sha, true)
	if err != nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, out)
}

// listCommits walks history from ?sha (default branch by default), newest first, keeping
// commits that changed ?path when given.
func (s *Server) listCommits(c *call) {
	rs := c.repo
	q := c.r.URL.Query()
	start, ok := rs.resolve(q.Get("sha"))
	if !ok {
		if q.Get("sha") == "" {
			c.invalid("Git Repository is empty.")
			return
		}
		c.fail(http.StatusNotFound, "No commit found for SHA: "+q.Get("sha"))
		return
	}
	filter := strings.Trim(q.Get("path"), "/")
	var shas []string
	seen := map[string]bool{}
	queue := []string{start}
	for len(queue) > 0 {
		sha := queue[0]
		queue = queue[1:]
		if seen[sha] {
			continue
		}
		seen[sha] = true
		co, err := rs.objects.commit(sha)
		if err != nil {
			continue
		}
		queue = append(queue, co.parents...)
		if filter != "" && !rs.touches(co, filter) {
			continue
		}
		shas = append(shas, sha)
	}
	// Newest first, by committer date, as GitHub lists them.
	sort.SliceStable(shas, func(i, j int) bool {
		a, _ := rs.objects.commit(shas[i])
		b, _ := rs.objects.commit(shas[j])
		return a.committer.Date.After(b.committer.Date)
	})
	page := paginate(c, shas)
	out := make([]repoCommitJSON, 0, len(page))
	for _, sha := range page {
		rc, err := s.repoCommitJSON(rs, sha, false)
		if err == nil {
			out = append(out, rc)
		}
	}
	c.json(http.StatusOK, out)
}

// touches says whether a commit changed anything at or below p compared to its first parent.
func (rs *repoState) touches(co commitObject, p string) bool {
	now, _ := rs.objects.lookup(co.tree, p)
	var before treeEntry
	if len(co.parents) > 0 {
		if pc, err := rs.objects.commit(co.parents[0]); err == nil {
			before, _ = rs.objects.lookup(pc.tree, p)
		}
	}
	return now.sha != before.sha || now.mode != before.mode
}

type compareJSON struct {
	URL             string           `json:"url"`
	HTMLURL         string           `json:"html_url"`
	PermalinkURL    string           `json:"permalink_url"`
	DiffURL         string           `json:"diff_url"`
	PatchURL        string           `json:"patch_url"`
	BaseCommit      repoCommitJSON   `json:"base_commit"`
	MergeBaseCommit repoCommitJSON   `json:"merge_base_commit"`
	Status          string           `json:"status"`
	AheadBy         int              `json:"ahead_by"`
	BehindBy        int              `json:"behind_by"`
	TotalCommits    int              `json:"total_commits"`
	Commits         []repoCommitJSON `json:"commits"`
	Files           []diffEntryJSON  `json:"files"`
}

func (s *Server) compare(c *call) {
	rs := c.repo
	bh := c.r.PathValue("basehead")
	baseRef, headRef, ok := strings.Cut(bh, "...")
	if !ok {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	base, ok1 := rs.resolve(baseRef)
	head, ok2 := rs.resolve(headRef)
	if !ok1 || !ok2 {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	mb := rs.objects.mergeBase(base, head)
	if mb == "" {
		c.fail(http.StatusNotFound, "No common ancestor between "+baseRef+" and "+headRef+".")
		return
	}
	ahead := rs.commitsBetween(mb, head)
	behind := rs.commitsBetween(mb, base)
	out := compareJSON{
		URL:          s.apiBase() + "/repos/" + rs.fullName() + "/compare/" + bh,
		HTMLURL:      s.srv.URL + "/" + rs.fullName() + "/compare/" + bh,
		PermalinkURL: s.srv.URL + "/" + rs.fullName() + "/compare/" + rs.owner.login + ":" + base[:7] + "..." + rs.owner.login + ":" + head[:7],
		DiffURL:      s.srv.URL + "/" + rs.fullName() + "/compare/" + bh + ".diff",
		PatchURL:     s.srv.URL + "/" + rs.fullName() + "/compare/" + bh + ".patch",
		AheadBy:      len(ahead),
		BehindBy:     len(behind),
		TotalCommits: len(ahead),
		Commits:      []repoCommitJSON{},
	}
	switch {
	case len(ahead) == 0 && len(behind) == 0:
		out.Status = "identical"
	case len(behind) == 0:
		out.Status = "ahead"
	case len(ahead) == 0:
		out.Status = "behind"
	default:
		out.Status = "diverged"
	}
	var err error
	if out.BaseCommit, err = s.repoCommitJSON(rs, base, false); err == nil {
		out.MergeBaseCommit, err = s.repoCommitJSON(rs, mb, false)
	}
	for i := len(ahead) - 1; i >= 0 && err == nil; i-- {
		var rc repoCommitJSON
		rc, err = s.repoCommitJSON(rs, ahead[i], false)
		out.Commits = append(out.Commits, rc)
	}
	if err == nil {
		mbc, _ := rs.objects.commit(mb)
		hc, _ := rs.objects.commit(head)
		out.Files, err = s.diffTrees(rs, mbc.tree, hc.tree)
	}
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	c.json(http.StatusOK, out)
}

// commitsBetween lists commits reachable from head but not from base, newest first.
func (rs *repoState) commitsBetween(base, head string) []string {
	exclude := map[string]bool{}
	queue := []string{base}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == "" || exclude[c] {
			continue
		}
		exclude[c] = true
		if co, err := rs.objects.commit(c); err == nil {
			queue = append(queue, co.parents...)
		}
	}
	var out []string
	seen := map[string]bool{}
	queue = []string{head}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if exclude[c] || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
		if co, err := rs.objects.commit(c); err == nil {
			queue = append(queue, co.parents...)
		}
	}
	return out
}

type permissionJSON struct {
	Permission string   `json:"permission"`
	RoleName   string   `json:"role_name"`
	User       userJSON `json:"user"`
}

func (s *Server) getPermission(c *call) {
	login := c.r.PathValue("username")
	a, ok := s.accounts[strings.ToLower(login)]
	if !ok || a.typ == "Organization" {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	role := c.repo.role(login)
	name := role
	if name == "" {
		name = "none"
	}
	c.json(http.StatusOK, permissionJSON{Permission: permissionOf(role), RoleName: name, User: s.userJSON(a)})
}

func (s *Server) diffTrees(rs *repoState, from, to string) ([]diffEntryJSON, error) {
	var a map[string]fileEntry
	if from != "" {
		var err error
		if a, err = rs.objects.flatten(from); err != nil {
			return nil, err
		}
	}
	b, err := rs.objects.flatten(to)
	if err != nil {
		return nil, err
	}
	paths := map[string]bool{}
	for p := range a {
		paths[p] = true
	}
	for p := range b {
		paths[p] = true
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	var out []diffEntryJSON
	for _, p := range sorted {
		before, inA := a[p]
		after, inB := b[p]
		if inA && inB && before == after {
			continue
		}
		oldData, _ := rs.objects.blob(before.sha)
		newData, _ := rs.objects.blob(after.sha)
		d := diffEntryJSON{Filename: p, SHA: after.sha}
		switch {
		case !inA:
			d.Status = "added"
		case !inB:
			d.Status, d.SHA = "removed", before.sha
		default:
			d.Status = "modified"
		}
		patch, adds, dels := unifiedPatch(string(oldData), string(newData))
		d.Additions, d.Deletions, d.Changes = adds, dels, adds+dels
		if patch != "" {
			d.Patch = &patch
		}
		raw := s.srv.URL + "/raw/" + rs.fullName() + "/" + d.SHA + "/" + pathEscape(p)
		d.BlobURL = s.srv.URL + "/" + rs.fullName() + "/blob/" + d.SHA + "/" + pathEscape(p)
		d.RawURL = raw
		d.ContentsURL = s.apiBase() + "/repos/" + rs.fullName() + "/contents/" + pathEscape(p) + "?ref=" + d.SHA
		out = append(out, d)
	}
	return out, nil
}

type diffEntryJSON struct {
	SHA         string  `json:"sha"`
	Filename    string  `json:"filename"`
	Status      string  `json:"status"`
	Additions   int     `json:"additions"`
	Deletions   int     `json:"deletions"`
	Changes     int     `json:"changes"`
	BlobURL     string  `json:"blob_url"`
	RawURL      string  `json:"raw_url"`
	ContentsURL string  `json:"contents_url"`
	Patch       *string `json:"patch,omitempty"`
}

// unifiedPatch renders a one-hunk unified diff of two texts with full context, and counts
// added and deleted lines.
func unifiedPatch(a, b string) (string, int, int) {
	if a == b {
		return "", 0, 0
	}
	al, bl := splitLines(a), splitLines(b)
	ops := diffLines(al, bl)
	var body strings.Builder
	adds, dels := 0, 0
	for _, op := range ops {
		body.WriteByte(op.kind)
		body.WriteString(op.line)
		body.WriteByte('\n')
		switch op.kind {
		case '+':
			adds++
		case '-':
			dels++
		}
	}
	hunk := fmt.Sprintf("@@ -%s +%s @@\n", hunkRange(len(al)), hunkRange(len(bl)))
	return strings.TrimSuffix(hunk+body.String(), "\n"), adds, dels
}

func hunkRange(n int) string {
	if n == 0 {
		return "0,0"
	}
	return fmt.Sprintf("1,%d", n)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

type lineOp struct {
	kind byte // ' ', '-', '+'
	line string
}

// diffLines is a longest-common-subsequence line diff; very large inputs fall back to
// replacing every line, which keeps counts right enough for a fake.
func diffLines(a, b []string) []lineOp {
	if len(a)*len(b) > 4_000_000 {
		var out []lineOp
		for _, l := range a {
			out = append(out, lineOp{'-', l})
		}
		for _, l := range b {
			out = append(out, lineOp{'+', l})
		}
		return out
	}
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []lineOp
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, lineOp{' ', a[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, lineOp{'-', a[i]})
			i++
		default:
			out = append(out, lineOp{'+', b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, lineOp{'-', a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, lineOp{'+', b[j]})
	}
	return out
}

// team is an organization team and its members.
type team struct {
	id      int64
	org     string
	slug    string
	members map[string]teamMember // by lower-cased login
}

type teamMember struct {
	role  string // member, maintainer
	state string // active, pending
}

// AddTeamMember puts login in org's team slug (created when missing) with role "member" or
// "maintainer" and state "active" or "pending" (an invitation not yet accepted).
func (s *Server) AddTeamMember(org, slug, login, role, state string) {
	s.t.Helper()
	if role != "member" && role != "maintainer" {
		s.fatalf("AddTeamMember: role must be member or maintainer, not %q", role)
	}
	if state != "active" && state != "pending" {
		s.fatalf("AddTeamMember: state must be active or pending, not %q", state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tm := s.teamLocked(org, slug)
	s.accountLocked(login, "User")
	tm.members[strings.ToLower(login)] = teamMember{role: role, state: state}
}

// RemoveTeamMember takes login out of a team.
func (s *Server) RemoveTeamMember(org, slug, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.teamLocked(org, slug).members, strings.ToLower(login))
}

func (s *Server) teamLocked(org, slug string) *team {
	s.accountLocked(org, "Organization")
	k := strings.ToLower(org + "/" + slug)
	tm, ok := s.teams[k]
	if !ok {
		tm = &team{id: s.newID(), org: org, slug: slug, members: map[string]teamMember{}}
		s.teams[k] = tm
	}
	return tm
}

func (s *Server) getTeamMembership(c *call) {
	tm, ok := s.teams[strings.ToLower(c.r.PathValue("org")+"/"+c.r.PathValue("slug"))]
	if !ok {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	m, ok := tm.members[strings.ToLower(c.r.PathValue("username"))]
	if !ok {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, struct {
		URL   string `json:"url"`
		Role  string `json:"role"`
		State string `json:"state"`
	}{fmt.Sprintf("%s/organizations/%d/team/%d/memberships/%s", s.apiBase(), s.accounts[strings.ToLower(tm.org)].id, tm.id, c.r.PathValue("username")), m.role, m.state})
}

// checkOrgMember answers 204 for active members of any of the organization's teams.
func (s *Server) checkOrgMember(c *call) {
	login := strings.ToLower(c.r.PathValue("username"))
	for _, tm := range s.teams {
		if strings.EqualFold(tm.org, c.r.PathValue("org")) && tm.members[login].state == "active" {
			c.noContent()
			return
		}
	}
	c.fail(http.StatusNotFound, "User does not exist or is not a member of the organization")
}
