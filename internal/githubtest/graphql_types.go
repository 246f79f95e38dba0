package githubtest

import (
	"encoding/base64"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// The object types of GitHub's schema the fake resolves. A field it does not implement is
// an error naming it, never a silent null.

func unsupported(typ, field string) error {
	return fmt.Errorf("githubtest: %s.%s is not implemented", typ, field)
}

// --- Query ---

type queryRoot struct{}

func (queryRoot) typeName() string { return "Query" }

func (queryRoot) field(x *gqlExec, name string, args map[string]any) (any, error) {
	switch name {
	case "repository":
		rs, err := x.repoByName(argString(args, "owner") + "/" + argString(args, "name"))
		if err != nil {
			return nil, err
		}
		return repoObj{rs}, nil
	case "user":
		a := x.s.accounts[strings.ToLower(argString(args, "login"))]
		if a == nil || a.typ == "Organization" {
			return nil, notFound("Could not resolve to a User with the login of '%s'.", argString(args, "login"))
		}
		return userObj{a}, nil
	case "organization":
		a := x.s.accounts[strings.ToLower(argString(args, "login"))]
		if a == nil || a.typ != "Organization" {
			return nil, notFound("Could not resolve to an Organization with the login of '%s'.", argString(args, "login"))
		}
		return orgObj{a}, nil
	case "viewer":
		return userObj{x.c.actor()}, nil
	}
	return nil, unsupported("Query", name)
}

type userObj struct{ a *account }

func (u userObj) typeName() string {
	if u.a.typ == "Bot" {
		return "Bot"
	}
	return "User"
}

func (u userObj) field(_ *gqlExec, name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		return nodeID(u.a.typ, u.a.id), nil
	case "login":
		return u.a.login, nil
	case "databaseId":
		return u.a.id, nil
	}
	return nil, unsupported("User", name)
}

type orgObj struct{ a *account }

func (orgObj) typeName() string { return "Organization" }

func (o orgObj) field(x *gqlExec, name string, args map[string]any) (any, error) {
	switch name {
	case "id":
		return nodeID("Organization", o.a.id), nil
	case "login":
		return o.a.login, nil
	case "team":
		if !strings.EqualFold(x.c.inst.account, o.a.login) {
			return nil, nil // GitHub hides teams from installations of other accounts
		}
		t := x.s.teams[strings.ToLower(o.a.login+"/"+argString(args, "slug"))]
		if t == nil {
			return nil, nil
		}
		return teamObj{t}, nil
	}
	return nil, unsupported("Organization", name)
}

type teamObj struct{ t *team }

func (teamObj) typeName() string { return "Team" }

func (t teamObj) field(_ *gqlExec, name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		return nodeID("Team", t.t.id), nil
	case "slug":
		return t.t.slug, nil
	case "combinedSlug":
		return t.t.org + "/" + t.t.slug, nil
	}
	return nil, unsupported("Team", name)
}

// --- Repository and git objects ---

type repoObj struct{ rs *repoState }

func (repoObj) typeName() string { return "Repository" }

func (r repoObj) field(x *gqlExec, name string, args map[string]any) (any, error) {
	rs := r.rs
	switch name {
	case "id":
		return nodeID("Repository", rs.id), nil
	case "databaseId":
		return rs.id, nil
	case "name":
		return rs.name, nil
	case "nameWithOwner":
		return rs.fullName(), nil
	case "url":
		return x.s.srv.URL + "/" + rs.fullName(), nil
	case "isPrivate":
		return rs.private, nil
	case "defaultBranchRef":
		if _, ok := rs.refs["refs/heads/"+rs.defaultBranch]; !ok {
			return nil, nil
		}
		return refObj{rs, "refs/heads/" + rs.defaultBranch}, nil
	case "ref":
		q := argString(args, "qualifiedName")
		if !strings.HasPrefix(q, "refs/") {
			q = "refs/heads/" + q
		}
		if _, ok := rs.refs[q]; !ok {
			return nil, nil
		}
		return refObj{rs, q}, nil
	case "object":
		return r.object(args)
	case "label":
		l := rs.labels[strings.ToLower(argString(args, "name"))]
		if l == nil {
			return nil, nil
		}
		return labelObj{l}, nil
	case "pullRequests":
		return r.pullRequests(x, args), nil
	case "pullRequest":
		is := r.rs.issues[argInt(args, "number", 0)]
		if is == nil || is.pull == nil {
			return nil, notFound("Could not resolve to a PullRequest with the number of %d.", argInt(args, "number", 0))
		}
		return pullObj{r.rs, is}, nil
	case "collaborators":
		return r.collaborators(x, args), nil
	}
	return nil, unsupported("Repository", name)
}

// object resolves oid, or an expression "<rev>:<path>" or "<rev>".
func (r repoObj) object(args map[string]any) (any, error) {
	rs := r.rs
	if oid := argString(args, "oid"); oid != "" {
		o, ok := rs.objects[oid]
		if !ok {
			return nil, nil
		}
		return gitObj(rs, o.typ, oid), nil
	}
	rev, p, hasPath := strings.Cut(argString(args, "expression"), ":")
	sha, ok := rs.resolve(rev)
	if !ok {
		return nil, nil
	}
	if !hasPath {
		return commitObj{rs, sha}, nil
	}
	co, err := rs.objects.commit(sha)
	if err != nil {
		return nil, nil
	}
	e, ok := rs.objects.lookup(co.tree, p)
	if !ok {
		return nil, nil
	}
	return gitObj(rs, e.objType(), e.sha), nil
}

func gitObj(rs *repoState, typ, sha string) gqlObject {
	switch typ {
	case typeCommit:
		return commitObj{rs, sha}
	case typeTree:
		return treeObj{rs, sha, ""}
	}
	return blobObj{rs, sha}
}

// pullRequests filters by states, labels, headRefName and baseRefName; newest first when
// ordered by CREATED_AT DESC, else oldest first as GitHub does.
func (r repoObj) pullRequests(x *gqlExec, args map[string]any) gqlObject {
	rs := r.rs
	states := argStrings(args, "states")
	labels := argStrings(args, "labels")
	head, base := argString(args, "headRefName"), argString(args, "baseRefName")
	var list []*issueState
	for _, is := range rs.issues {
		if is.pull == nil {
			continue
		}
		state := "OPEN"
		switch {
		case is.pull.merged:
			state = "MERGED"
		case is.state == "closed":
			state = "CLOSED"
		}
		if len(states) > 0 && !containsFold(states, state) ||
			head != "" && is.pull.head != head || base != "" && is.pull.base != base ||
			len(labels) > 0 && !hasAnyLabel(is, labels) {
			continue
		}
		list = append(list, is)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].number < list[j].number })
	if o := argObject(args, "orderBy"); o != nil && o["direction"] == "DESC" {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	nodes := make([]gqlObject, 0, len(list))
	for _, is := range list {
		nodes = append(nodes, pullObj{rs, is})
	}
	return connection(x, "PullRequestConnection", nodes, args)
}

func hasAnyLabel(is *issueState, want []string) bool {
	for _, l := range is.labels {
		if containsFold(want, l) {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// collaborators lists people with a role on the repository whose login contains query.
func (r repoObj) collaborators(x *gqlExec, args map[string]any) gqlObject {
	rs := r.rs
	q := strings.ToLower(argString(args, "query"))
	logins := make([]string, 0, len(rs.roles))
	for login := range rs.roles {
		if strings.Contains(login, q) {
			logins = append(logins, login)
		}
	}
	sort.Strings(logins)
	edges := make([]gqlObject, 0, len(logins))
	for _, login := range logins {
		a := x.s.accountLocked(login, "")
		edges = append(edges, obj{"RepositoryCollaboratorEdge", map[string]any{
			"permission": strings.ToUpper(rs.role(login)),
			"node":       userObj{a},
		}})
	}
	return connection(x, "RepositoryCollaboratorConnection", edges, args)
}

// connection pages nodes with first/after (cursors are offsets) and answers nodes, edges,
// totalCount and pageInfo.
func connection(_ *gqlExec, typ string, items []gqlObject, args map[string]any) gqlObject {
	start := 0
	if after := argString(args, "after"); after != "" {
		if b, err := base64.StdEncoding.DecodeString(after); err == nil {
			fmt.Sscanf(string(b), "cursor:%d", &start)
		}
	}
	start = min(start, len(items))
	first := argInt(args, "first", 100)
	end := min(start+first, len(items))
	if _, ok := args["last"]; ok {
		if _, hasFirst := args["first"]; !hasFirst {
			end = len(items)
			start = max(0, end-argInt(args, "last", 100))
		}
	}
	page := items[start:end]
	cursor := func(i int) string { return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("cursor:%d", i))) }
	edgeTyp := strings.TrimSuffix(typ, "Connection") + "Edge"
	edges := make([]gqlObject, len(page))
	for i, it := range page {
		if o, ok := it.(obj); ok && strings.HasSuffix(o.typ, "Edge") {
			f := map[string]any{"cursor": cursor(start + i + 1)}
			for k, v := range o.fields {
				f[k] = v
			}
			edges[i] = obj{o.typ, f}
			continue
		}
		edges[i] = obj{edgeTyp, map[string]any{"node": it, "cursor": cursor(start + i + 1)}}
	}
	return obj{typ, map[string]any{
		"nodes":      page,
		"edges":      edges,
		"totalCount": len(items),
		"pageInfo": obj{"PageInfo", map[string]any{
			"hasNextPage":     end < len(items),
			"hasPreviousPage": start > 0,
			"endCursor":       cursor(end),
			"startCursor":     cursor(start),
		}},
	}}
}

type refObj struct {
	rs  *repoState
	ref string // full name
}

func (refObj) typeName() string { return "Ref" }

func (r refObj) field(x *gqlExec, name string, args map[string]any) (any, error) {
	switch name {
	case "associatedPullRequests":
		// Pull requests whose head is this branch, filtered by states like Repository.pullRequests.
		branch, ok := strings.CutPrefix(r.ref, "refs/heads/")
		if !ok {
			return connection(x, "PullRequestConnection", nil, args), nil
		}
		a := map[string]any{"headRefName": branch}
		for k, v := range args {
			a[k] = v
		}
		return repoObj{r.rs}.pullRequests(x, a), nil
	case "id":
		return nodeID("Ref", fmt.Sprintf("%d:%s", r.rs.id, r.ref)), nil
	case "name":
		return strings.TrimPrefix(strings.TrimPrefix(r.ref, "refs/heads/"), "refs/tags/"), nil
	case "prefix":
		return r.ref[:strings.LastIndex(r.ref[:len(r.ref)-len(path.Base(r.ref))], "/")+1], nil
	case "target":
		sha, ok := r.rs.refs[r.ref]
		if !ok {
			return nil, nil
		}
		return commitObj{r.rs, sha}, nil
	}
	return nil, unsupported("Ref", name)
}

type commitObj struct {
	rs  *repoState
	sha string
}

func (commitObj) typeName() string { return "Commit" }

func (c commitObj) field(x *gqlExec, name string, args map[string]any) (any, error) {
	co, err := c.rs.objects.commit(c.sha)
	if err != nil {
		return nil, err
	}
	switch name {
	case "repository":
		return repoObj{c.rs}, nil
	case "id":
		return nodeID("Commit", fmt.Sprintf("%d:%s", c.rs.id, c.sha)), nil
	case "oid":
		return c.sha, nil
	case "abbreviatedOid":
		return c.sha[:7], nil
	case "url":
		return x.s.srv.URL + "/" + c.rs.fullName() + "/commit/" + c.sha, nil
	case "message":
		return co.message, nil
	case "messageHeadline":
		line, _, _ := strings.Cut(co.message, "\n")
		return line, nil
	case "committedDate":
		return co.committer.Date.UTC().Format(time.RFC3339), nil
	case "tree":
		return treeObj{c.rs, co.tree, ""}, nil
	case "file":
		p := strings.Trim(argString(args, "path"), "/")
		e, ok := c.rs.objects.lookup(co.tree, p)
		if !ok || p == "" {
			return nil, nil
		}
		return entryObj{c.rs, e, p}, nil
	}
	return nil, unsupported("Commit", name)
}

type treeObj struct {
	rs   *repoState
	sha  string
	path string // where the tree was reached, for entries' paths
}

func (treeObj) typeName() string { return "Tree" }

func (t treeObj) field(_ *gqlExec, name string, _ map[string]any) (any, error) {
	switch name {
	case "oid":
		return t.sha, nil
	case "id":
		return nodeID("Tree", fmt.Sprintf("%d:%s", t.rs.id, t.sha)), nil
	case "entries":
		entries, err := t.rs.objects.tree(t.sha)
		if err != nil {
			return nil, err
		}
		out := make([]gqlObject, len(entries))
		for i, e := range entries {
			p := e.name
			if t.path != "" {
				p = t.path + "/" + e.name
			}
			out[i] = entryObj{t.rs, e, p}
		}
		return out, nil
	}
	return nil, unsupported("Tree", name)
}

type entryObj struct {
	rs   *repoState
	e    treeEntry
	path string
}

func (entryObj) typeName() string { return "TreeEntry" }

func (t entryObj) field(_ *gqlExec, name string, _ map[string]any) (any, error) {
	switch name {
	case "name":
		return t.e.name, nil
	case "path":
		return t.path, nil
	case "oid":
		return t.e.sha, nil
	case "type":
		return t.e.objType(), nil
	case "mode":
		var m int
		fmt.Sscanf(t.e.mode, "%o", &m)
		return m, nil
	case "object":
		if t.e.objType() == typeTree {
			return treeObj{t.rs, t.e.sha, t.path}, nil
		}
		if t.e.objType() == typeCommit {
			return nil, nil // a submodule's commit is not in this repository
		}
		return blobObj{t.rs, t.e.sha}, nil
	}
	return nil, unsupported("TreeEntry", name)
}

// maxBlobText is how much of a blob GraphQL's Blob.text returns before truncating.
const maxBlobText = 512 << 10

type blobObj struct {
	rs  *repoState
	sha string
}

func (blobObj) typeName() string { return "Blob" }

func (b blobObj) field(_ *gqlExec, name string, _ map[string]any) (any, error) {
	data, _ := b.rs.objects.blob(b.sha)
	binary := !utf8.Valid(data) || strings.ContainsRune(string(data), 0)
	switch name {
	case "oid":
		return b.sha, nil
	case "byteSize":
		return len(data), nil
	case "isBinary":
		return binary, nil
	case "isTruncated":
		return len(data) > maxBlobText, nil
	case "text":
		if binary {
			return nil, nil
		}
		if len(data) > maxBlobText {
			return string(data[:maxBlobText]), nil
		}
		return string(data), nil
	}
	return nil, unsupported("Blob", name)
}

type labelObj struct{ l *labelState }

func (labelObj) typeName() string { return "Label" }

func (l labelObj) field(_ *gqlExec, name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		return nodeID("Label", l.l.id), nil
	case "name":
		return l.l.name, nil
	case "color":
		return l.l.color, nil
	}
	return nil, unsupported("Label", name)
}

type pullObj struct {
	rs *repoState
	is *issueState
}

func (pullObj) typeName() string { return "PullRequest" }

func (p pullObj) field(x *gqlExec, name string, args map[string]any) (any, error) {
	is := p.is
	switch name {
	case "id":
		return is.nodeID(), nil
	case "databaseId":
		return is.pull.id, nil
	case "number":
		return is.number, nil
	case "url":
		return x.s.srv.URL + "/" + p.rs.fullName() + "/pull/" + fmt.Sprint(is.number), nil
	case "title":
		return is.title, nil
	case "body":
		return is.body, nil
	case "state":
		switch {
		case is.pull.merged:
			return "MERGED", nil
		case is.state == "closed":
			return "CLOSED", nil
		}
		return "OPEN", nil
	case "isDraft":
		return is.pull.draft, nil
	case "headRefName":
		return is.pull.head, nil
	case "headRefOid":
		return is.pull.headSHA, nil
	case "baseRefName":
		return is.pull.base, nil
	case "isCrossRepository":
		return false, nil // the fake has no forks
	case "createdAt":
		return is.createdAt.UTC().Format(time.RFC3339), nil
	case "author":
		return userObj{is.user}, nil
	case "labels":
		var nodes []gqlObject
		for _, n := range is.labels {
			if l := p.rs.labels[strings.ToLower(n)]; l != nil {
				nodes = append(nodes, labelObj{l})
			}
		}
		return connection(x, "LabelConnection", nodes, args), nil
	case "comments":
		return issueComments(x, p.rs, is, args), nil
	case "commits":
		// The commits between the merge base with the base branch and the head, oldest first.
		rs := p.rs
		shas := rs.commitsBetween(rs.objects.mergeBase(rs.refs["refs/heads/"+is.pull.base], is.pull.headSHA), is.pull.headSHA)
		nodes := make([]gqlObject, 0, len(shas))
		for i := len(shas) - 1; i >= 0; i-- {
			nodes = append(nodes, obj{"PullRequestCommit", map[string]any{"commit": commitObj{rs, shas[i]}}})
		}
		return connection(x, "PullRequestCommitConnection", nodes, args), nil
	case "repository", "baseRepository":
		return repoObj{p.rs}, nil
	}
	return nil, unsupported("PullRequest", name)
}

// issueObj is an issue (not a pull request) as GraphQL shows it.
type issueObj struct {
	rs *repoState
	is *issueState
}

func (issueObj) typeName() string { return "Issue" }

func (i issueObj) field(x *gqlExec, name string, args map[string]any) (any, error) {
	switch name {
	case "id":
		return i.is.nodeID(), nil
	case "databaseId":
		return i.is.id, nil
	case "number":
		return i.is.number, nil
	case "title":
		return i.is.title, nil
	case "body":
		return i.is.body, nil
	case "comments":
		return issueComments(x, i.rs, i.is, args), nil
	}
	return nil, unsupported("Issue", name)
}

// threadObj is the Issue or PullRequest object of an issue state.
func threadObj(rs *repoState, is *issueState) gqlObject {
	if is.pull != nil {
		return pullObj{rs, is}
	}
	return issueObj{rs, is}
}

// issueComments is the IssueCommentConnection of a thread, oldest first.
func issueComments(x *gqlExec, rs *repoState, is *issueState, args map[string]any) gqlObject {
	var nodes []gqlObject
	for _, cm := range rs.sortedComments(is.number) {
		nodes = append(nodes, commentObj{rs, cm})
	}
	return connection(x, "IssueCommentConnection", nodes, args)
}

type commentObj struct {
	rs *repoState
	cm *commentState
}

func (commentObj) typeName() string { return "IssueComment" }

func (c commentObj) field(x *gqlExec, name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		return nodeID("IssueComment", c.cm.id), nil
	case "databaseId":
		return c.cm.id, nil
	case "body":
		return c.cm.body, nil
	case "url":
		return fmt.Sprintf("%s/%s/issues/%d#issuecomment-%d", x.s.srv.URL, c.rs.fullName(), c.cm.issue, c.cm.id), nil
	case "viewerDidAuthor":
		return c.cm.user == x.c.actor(), nil
	case "createdAt":
		return c.cm.createdAt.UTC().Format(time.RFC3339), nil
	case "updatedAt":
		return c.cm.updatedAt.UTC().Format(time.RFC3339), nil
	case "author":
		return userObj{c.cm.user}, nil
	}
	return nil, unsupported("IssueComment", name)
}
