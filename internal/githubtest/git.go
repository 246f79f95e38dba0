package githubtest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

func (s *Server) gitRoutes() {
	s.handle("GET /repos/{owner}/{repo}/git/blobs/{sha}", authInstallation, s.getBlob)
	s.handle("POST /repos/{owner}/{repo}/git/blobs", authInstallation, s.createBlob)
	s.handle("GET /repos/{owner}/{repo}/git/trees/{sha...}", authInstallation, s.getTree)
	s.handle("POST /repos/{owner}/{repo}/git/trees", authInstallation, s.createTree)
	s.handle("GET /repos/{owner}/{repo}/git/commits/{sha}", authInstallation, s.getGitCommit)
	s.handle("POST /repos/{owner}/{repo}/git/commits", authInstallation, s.createGitCommit)
	s.handle("GET /repos/{owner}/{repo}/git/ref/{ref...}", authInstallation, s.getRef)
	s.handle("GET /repos/{owner}/{repo}/git/refs", authInstallation, s.listRefs)
	s.handle("GET /repos/{owner}/{repo}/git/refs/{ref...}", authInstallation, s.listRefs)
	s.handle("GET /repos/{owner}/{repo}/git/matching-refs/{ref...}", authInstallation, s.listRefs)
	s.handle("POST /repos/{owner}/{repo}/git/refs", authInstallation, s.createRef)
	s.handle("PATCH /repos/{owner}/{repo}/git/refs/{ref...}", authInstallation, s.updateRef)
	s.handle("DELETE /repos/{owner}/{repo}/git/refs/{ref...}", authInstallation, s.deleteRef)
}

func botEmail(bot *account) string {
	return fmt.Sprintf("%d+%s@users.noreply.github.com", bot.id, bot.login)
}

func botSignature(bot *account, now time.Time) Signature {
	return Signature{Name: bot.login, Email: botEmail(bot), Date: now}
}

func (s *Server) getBlob(c *call) {
	rs, sha := c.repo, c.r.PathValue("sha")
	data, ok := rs.objects.blob(sha)
	if !ok {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	if strings.Contains(c.r.Header.Get("Accept"), "application/vnd.github.raw") {
		c.w.Header().Set("Content-Type", "application/vnd.github.raw; charset=utf-8")
		_, _ = c.w.Write(data)
		return
	}
	c.json(http.StatusOK, struct {
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
		URL      string `json:"url"`
		SHA      string `json:"sha"`
		Size     int    `json:"size"`
		NodeID   string `json:"node_id"`
	}{wrap60(base64.StdEncoding.EncodeToString(data)), "base64", s.apiBase() + "/repos/" + rs.fullName() + "/git/blobs/" + sha, sha, len(data), nodeID("Blob", fmt.Sprintf("%d:%s", rs.id, sha))})
}

func (s *Server) createBlob(c *call) {
	var req struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Content == nil {
		c.invalid("Invalid request.\n\n\"content\" wasn't supplied.")
		return
	}
	data := []byte(*req.Content)
	switch req.Encoding {
	case "", "utf-8":
	case "base64":
		var err error
		if data, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(*req.Content, "\n", "")); err != nil {
			c.invalid("Invalid request.\n\ncontent is not valid Base64.")
			return
		}
	default:
		c.invalid("Invalid request.\n\nencoding must be utf-8 or base64.")
		return
	}
	sha := c.repo.objects.put(typeBlob, data)
	c.w.Header().Set("Location", s.apiBase()+"/repos/"+c.repo.fullName()+"/git/blobs/"+sha)
	c.json(http.StatusCreated, struct {
		URL string `json:"url"`
		SHA string `json:"sha"`
	}{s.apiBase() + "/repos/" + c.repo.fullName() + "/git/blobs/" + sha, sha})
}

type treeEntryJSON struct {
	Path string `json:"path"`
	Mode string `json:"mode"`
	Type string `json:"type"`
	Size *int   `json:"size,omitempty"`
	SHA  string `json:"sha"`
	URL  string `json:"url"`
}

type treeJSON struct {
	SHA       string          `json:"sha"`
	URL       string          `json:"url"`
	Tree      []treeEntryJSON `json:"tree"`
	Truncated bool            `json:"truncated"`
}

func (s *Server) treeJSON(rs *repoState, sha string, recursive bool) (treeJSON, error) {
	base := s.apiBase() + "/repos/" + rs.fullName() + "/git/"
	out := treeJSON{SHA: sha, URL: base + "trees/" + sha, Tree: []treeEntryJSON{}}
	var walk func(tree, prefix string) error
	walk = func(tree, prefix string) error {
		entries, err := rs.objects.tree(tree)
		if err != nil {
			return err
		}
		sort.Slice(entries, func(i, j int) bool { return gitTreeLess(entries[i], entries[j]) })
		for _, e := range entries {
			j := treeEntryJSON{Path: prefix + e.name, Mode: e.mode, Type: e.objType(), SHA: e.sha}
			switch e.objType() {
			case typeBlob:
				data, _ := rs.objects.blob(e.sha)
				n := len(data)
				j.Size, j.URL = &n, base+"blobs/"+e.sha
			case typeTree:
				j.URL = base + "trees/" + e.sha
			}
			out.Tree = append(out.Tree, j)
			if recursive && e.mode == modeTree {
				if err := walk(e.sha, prefix+e.name+"/"); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(sha, "")
}

// getTree accepts a tree id, or a commit id or ref name whose tree is meant, as GitHub does.
func (s *Server) getTree(c *call) {
	rs, sha := c.repo, c.r.PathValue("sha")
	if !rs.objects.has(sha, typeTree) {
		commit, ok := rs.resolve(sha)
		if !ok {
			c.fail(http.StatusNotFound, "Not Found")
			return
		}
		co, err := rs.objects.commit(commit)
		if err != nil {
			c.fail(http.StatusNotFound, "Not Found")
			return
		}
		sha = co.tree
	}
	rec := c.r.URL.Query().Get("recursive")
	out, err := s.treeJSON(rs, sha, rec != "" && rec != "0" && rec != "false")
	if err != nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, out)
}

type treeInput struct {
	Path    string           `json:"path"`
	Mode    string           `json:"mode"`
	Type    string           `json:"type"`
	SHA     *json.RawMessage `json:"sha"`
	Content *string          `json:"content"`
	shaSet  bool
}

func (t *treeInput) UnmarshalJSON(b []byte) error {
	type plain treeInput
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	_, p.shaSet = keys["sha"]
	*t = treeInput(p)
	return nil
}

// createTree applies entries to base_tree (or an empty tree): inline content becomes a
// blob, "sha": null deletes the path, nested paths create directories.
func (s *Server) createTree(c *call) {
	rs := c.repo
	var req struct {
		BaseTree string      `json:"base_tree"`
		Tree     []treeInput `json:"tree"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Tree == nil {
		c.invalid("Invalid request.\n\n\"tree\" wasn't supplied.")
		return
	}
	if req.BaseTree != "" && !rs.objects.has(req.BaseTree, typeTree) {
		c.invalid("Invalid tree info: base_tree " + req.BaseTree + " is not a tree")
		return
	}
	tb, err := newTreeBuilder(rs.objects, req.BaseTree)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	for i, e := range req.Tree {
		if msg := s.applyTreeInput(rs, tb, e); msg != "" {
			c.invalid(fmt.Sprintf("Invalid tree info: tree.%d: %s", i, msg))
			return
		}
	}
	sha, err := tb.write()
	if err != nil {
		c.invalid("Invalid tree info: " + err.Error())
		return
	}
	out, err := s.treeJSON(rs, sha, false)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	c.w.Header().Set("Location", out.URL)
	c.json(http.StatusCreated, out)
}

// applyTreeInput applies one tree entry and returns a problem description, or "".
func (s *Server) applyTreeInput(rs *repoState, tb *treeBuilder, e treeInput) string {
	p, err := cleanTreePath(e.Path)
	if err != nil {
		return err.Error()
	}
	switch e.Mode {
	case modeFile, modeExec, modeTree, modeSymlink, modeGitlink:
	default:
		return fmt.Sprintf("mode %q is not one of 100644, 100755, 040000, 160000, 120000", e.Mode)
	}
	wantType := treeEntry{mode: e.Mode}.objType()
	if e.Type != wantType {
		return fmt.Sprintf("type %q does not match mode %s (want %q)", e.Type, e.Mode, wantType)
	}
	var sha *string
	if e.SHA != nil && string(*e.SHA) != "null" {
		var v string
		if err := json.Unmarshal(*e.SHA, &v); err != nil {
			return "sha must be a string or null"
		}
		sha = &v
	}
	switch {
	case e.Content != nil && sha != nil:
		return "only one of content and sha may be given"
	case e.Content != nil:
		if e.Type != typeBlob {
			return "content is only allowed for blobs"
		}
		if !utf8.ValidString(*e.Content) {
			return "content must be UTF-8 text; create a blob for binary data"
		}
		err = tb.set(p, e.Mode, rs.objects.put(typeBlob, []byte(*e.Content)))
	case sha != nil:
		if e.Type != typeCommit && !rs.objects.has(*sha, e.Type) {
			return fmt.Sprintf("sha %s is not a valid %s", *sha, e.Type)
		}
		err = tb.set(p, e.Mode, *sha)
	case e.shaSet:
		err = tb.remove(p)
	default:
		return "either content or sha must be given"
	}
	if errors.Is(err, errPathConflict) {
		return "path " + e.Path + " crosses an existing file"
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

type gitCommitJSON struct {
	SHA          string           `json:"sha"`
	NodeID       string           `json:"node_id"`
	URL          string           `json:"url"`
	HTMLURL      string           `json:"html_url"`
	Author       gitActorJSON     `json:"author"`
	Committer    gitActorJSON     `json:"committer"`
	Message      string           `json:"message"`
	Tree         commitRefJSON    `json:"tree"`
	Parents      []parentJSON     `json:"parents"`
	Verification verificationJSON `json:"verification"`
}

func (s *Server) gitCommitJSON(rs *repoState, sha string) (gitCommitJSON, error) {
	co, err := rs.objects.commit(sha)
	if err != nil {
		return gitCommitJSON{}, err
	}
	base := s.apiBase() + "/repos/" + rs.fullName() + "/git/"
	parents := make([]parentJSON, 0, len(co.parents))
	for _, p := range co.parents {
		parents = append(parents, parentJSON{SHA: p, URL: base + "commits/" + p, HTMLURL: s.srv.URL + "/" + rs.fullName() + "/commit/" + p})
	}
	return gitCommitJSON{
		SHA:          sha,
		NodeID:       nodeID("Commit", fmt.Sprintf("%d:%s", rs.id, sha)),
		URL:          base + "commits/" + sha,
		HTMLURL:      s.srv.URL + "/" + rs.fullName() + "/commit/" + sha,
		Author:       actor(co.author),
		Committer:    actor(co.committer),
		Message:      co.message,
		Tree:         commitRefJSON{SHA: co.tree, URL: base + "trees/" + co.tree},
		Parents:      parents,
		Verification: unsigned,
	}, nil
}

func (s *Server) getGitCommit(c *call) {
	out, err := s.gitCommitJSON(c.repo, c.r.PathValue("sha"))
	if err != nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, out)
}

type signatureInput struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

func (in *signatureInput) resolve(def Signature) (Signature, error) {
	if in == nil {
		return def, nil
	}
	sig := Signature{Name: in.Name, Email: in.Email, Date: def.Date}
	if sig.Name == "" || sig.Email == "" {
		return sig, errors.New("name and email are required")
	}
	if in.Date != "" {
		t, err := time.Parse(time.RFC3339, in.Date)
		if err != nil {
			return sig, fmt.Errorf("date %q is not ISO 8601", in.Date)
		}
		sig.Date = t
	}
	return sig, nil
}

func (s *Server) createGitCommit(c *call) {
	rs := c.repo
	var req struct {
		Message   *string         `json:"message"`
		Tree      string          `json:"tree"`
		Parents   []string        `json:"parents"`
		Author    *signatureInput `json:"author"`
		Committer *signatureInput `json:"committer"`
		Signature string          `json:"signature"`
	}
	if !c.decode(&req) {
		return
	}
	switch {
	case req.Message == nil:
		c.invalid("Invalid request.\n\n\"message\" wasn't supplied.")
		return
	case req.Tree == "":
		c.invalid("Invalid request.\n\n\"tree\" wasn't supplied.")
		return
	case !rs.objects.has(req.Tree, typeTree):
		c.invalid("Tree SHA does not exist")
		return
	}
	for _, p := range req.Parents {
		if !rs.objects.has(p, typeCommit) {
			c.invalid("Parent SHA does not exist or is not a commit object")
			return
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	author, err := req.Author.resolve(botSignature(c.actor(), now))
	if err != nil {
		c.invalid("Invalid request.\n\nauthor: " + err.Error())
		return
	}
	committer, err := req.Committer.resolve(author)
	if err != nil {
		c.invalid("Invalid request.\n\ncommitter: " + err.Error())
		return
	}
	sha := rs.objects.put(typeCommit, encodeCommit(commitObject{tree: req.Tree, parents: req.Parents, author: author, committer: committer, message: *req.Message}))
	out, err := s.gitCommitJSON(rs, sha)
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	c.w.Header().Set("Location", out.URL)
	c.json(http.StatusCreated, out)
}

type refJSON struct {
	Ref    string `json:"ref"`
	NodeID string `json:"node_id"`
	URL    string `json:"url"`
	Object struct {
		Type string `json:"type"`
		SHA  string `json:"sha"`
		URL  string `json:"url"`
	} `json:"object"`
}

func (s *Server) refJSON(rs *repoState, ref string) refJSON {
	sha := rs.refs[ref]
	var out refJSON
	out.Ref = ref
	out.NodeID = nodeID("Ref", ref)
	out.URL = s.apiBase() + "/repos/" + rs.fullName() + "/git/" + pathEscape(ref)
	out.Object.Type = rs.objects[sha].typ
	out.Object.SHA = sha
	out.Object.URL = s.apiBase() + "/repos/" + rs.fullName() + "/git/" + out.Object.Type + "s/" + sha
	return out
}

func (s *Server) getRef(c *call) {
	ref := "refs/" + c.r.PathValue("ref")
	if _, ok := c.repo.refs[ref]; !ok {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, s.refJSON(c.repo, ref))
}

// listRefs serves /git/refs (all), /git/matching-refs/{prefix} (always a list) and the
// older /git/refs/{ref}, which answers one object for an exact match and a list otherwise.
func (s *Server) listRefs(c *call) {
	rs := c.repo
	want := c.r.PathValue("ref")
	prefix := "refs/" + want
	if _, ok := rs.refs[prefix]; ok && want != "" && !strings.Contains(c.r.URL.Path, "/matching-refs/") {
		c.json(http.StatusOK, s.refJSON(rs, prefix))
		return
	}
	var names []string
	for ref := range rs.refs {
		if strings.HasPrefix(ref, prefix) {
			names = append(names, ref)
		}
	}
	sort.Strings(names)
	if len(names) == 0 && want != "" && !strings.Contains(c.r.URL.Path, "/matching-refs/") {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	out := make([]refJSON, 0, len(names))
	for _, n := range names {
		out = append(out, s.refJSON(rs, n))
	}
	c.json(http.StatusOK, paginate(c, out))
}

// validRefName applies git's check-ref-format rules that matter for branch names.
func validRefName(ref string) bool {
	if !strings.HasPrefix(ref, "refs/") || strings.Count(ref, "/") < 2 || strings.HasSuffix(ref, "/") ||
		strings.HasSuffix(ref, ".lock") || strings.HasSuffix(ref, ".") || strings.Contains(ref, "..") ||
		strings.Contains(ref, "//") || strings.Contains(ref, "@{") {
		return false
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return false
		}
	}
	for _, part := range strings.Split(ref, "/") {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	return true
}

func (s *Server) createRef(c *call) {
	rs := c.repo
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !c.decode(&req) {
		return
	}
	switch {
	case req.Ref == "" || req.SHA == "":
		c.invalid("Invalid request.\n\n\"ref\" and \"sha\" are required.")
		return
	case !strings.HasPrefix(req.Ref, "refs/") || strings.Count(req.Ref, "/") < 2:
		c.invalid("Reference name must start with 'refs/' and have at least two slashes.")
		return
	case !validRefName(req.Ref):
		c.invalid(req.Ref + " is not a valid ref name.")
		return
	case len(strings.TrimPrefix(req.Ref, "refs/heads/")) > 255:
		c.invalid("Reference name is too long.")
		return
	}
	if _, exists := rs.refs[req.Ref]; exists {
		c.invalid("Reference already exists")
		return
	}
	if _, ok := rs.objects[req.SHA]; !ok {
		c.invalid("Object does not exist")
		return
	}
	rs.setRef(req.Ref, req.SHA)
	out := s.refJSON(rs, req.Ref)
	c.w.Header().Set("Location", out.URL)
	c.json(http.StatusCreated, out)
}

// updateRef moves a ref, refusing non-fast-forward moves unless force is set. The check and
// the move happen under the server lock: a compare-and-swap against concurrent writers.
func (s *Server) updateRef(c *call) {
	rs := c.repo
	ref := "refs/" + c.r.PathValue("ref")
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !c.decode(&req) {
		return
	}
	old, ok := rs.refs[ref]
	if !ok {
		c.invalid("Reference does not exist")
		return
	}
	if req.SHA == "" {
		c.invalid("Invalid request.\n\n\"sha\" wasn't supplied.")
		return
	}
	if _, exists := rs.objects[req.SHA]; !exists {
		c.invalid("Object does not exist")
		return
	}
	if !req.Force && !rs.objects.isAncestor(old, req.SHA) {
		c.invalid("Update is not a fast forward")
		return
	}
	rs.setRef(ref, req.SHA)
	c.json(http.StatusOK, s.refJSON(rs, ref))
}

func (s *Server) deleteRef(c *call) {
	rs := c.repo
	ref := "refs/" + c.r.PathValue("ref")
	if _, ok := rs.refs[ref]; !ok {
		c.invalid("Reference does not exist")
		return
	}
	delete(rs.refs, ref)
	c.noContent()
}
