package githubtest

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// mutationRoot implements the mutations daytwo sends, with GitHub's validation and error
// messages. Each runs against the same state as the REST routes.
type mutationRoot struct{}

func (mutationRoot) typeName() string { return "Mutation" }

func (mutationRoot) field(x *gqlExec, name string, args map[string]any) (any, error) {
	in := argObject(args, "input")
	var (
		out map[string]any
		err error
	)
	switch name {
	case "addReaction":
		out, err = x.addReaction(in)
	case "addComment":
		out, err = x.addComment(in)
	case "updateIssueComment":
		out, err = x.updateIssueComment(in)
	case "createRef":
		out, err = x.createRef(in)
	case "createCommitOnBranch":
		out, err = x.createCommitOnBranch(in)
	case "createPullRequest":
		out, err = x.createPullRequest(in)
	case "addLabelsToLabelable":
		out, err = x.addLabelsToLabelable(in)
	case "requestReviews":
		out, err = x.requestReviews(in)
	case "createCheckRun":
		out, err = x.createCheckRun(in)
	case "updatePullRequest":
		out, err = x.updatePullRequest(in)
	default:
		return nil, unsupported("Mutation", name)
	}
	if err != nil {
		return nil, err
	}
	out["clientMutationId"] = in["clientMutationId"]
	return obj{strings.ToUpper(name[:1]) + name[1:] + "Payload", out}, nil
}

// reactionContent maps GraphQL's ReactionContent to REST's spelling.
var reactionContent = map[string]string{
	"THUMBS_UP": "+1", "THUMBS_DOWN": "-1", "LAUGH": "laugh", "HOORAY": "hooray",
	"CONFUSED": "confused", "HEART": "heart", "ROCKET": "rocket", "EYES": "eyes",
}

func (x *gqlExec) addReaction(in map[string]any) (map[string]any, error) {
	content := reactionContent[argString(in, "content")]
	subject := argString(in, "subjectId")
	var list *[]*reaction
	if _, cm, err := x.commentByNode(subject); err == nil {
		list = &cm.reactions
	} else if _, is, err := x.issueByNode(subject); err == nil {
		list = &is.reactions
	} else {
		return nil, err
	}
	bot := x.c.actor()
	for _, r := range *list {
		if r.user == bot && r.content == content {
			return map[string]any{"reaction": obj{"Reaction", map[string]any{"content": argString(in, "content"), "id": nodeID("Reaction", r.id)}}}, nil
		}
	}
	r := &reaction{id: x.s.newID(), user: bot, content: content, createdAt: now()}
	*list = append(*list, r)
	return map[string]any{"reaction": obj{"Reaction", map[string]any{"content": argString(in, "content"), "id": nodeID("Reaction", r.id)}}}, nil
}

func (x *gqlExec) addComment(in map[string]any) (map[string]any, error) {
	rs, is, err := x.issueByNode(argString(in, "subjectId"))
	if err != nil {
		return nil, err
	}
	body := argString(in, "body")
	if len([]rune(body)) > maxBody {
		return nil, unprocessable("Body is too long (maximum is %d characters)", maxBody)
	}
	cm := x.s.newComment(rs, is, x.c.actor(), body)
	return map[string]any{"commentEdge": obj{"IssueCommentEdge", map[string]any{"node": commentObj{rs, cm}}}, "subject": threadObj(rs, is)}, nil
}

// updatePullRequest edits title, body, base or state, as GitHub's REST edit does.
func (x *gqlExec) updatePullRequest(in map[string]any) (map[string]any, error) {
	rs, is, err := x.issueByNode(argString(in, "pullRequestId"))
	if err != nil || is.pull == nil {
		return nil, notFound("Could not resolve to a PullRequest with the global id of '%s'", argString(in, "pullRequestId"))
	}
	if v, ok := in["title"].(string); ok {
		if strings.TrimSpace(v) == "" {
			return nil, unprocessable("Title can't be blank")
		}
		is.title = v
	}
	if v, ok := in["body"].(string); ok {
		if len([]rune(v)) > maxBody {
			return nil, unprocessable("Body is too long (maximum is %d characters)", maxBody)
		}
		is.body = v
	}
	if v, ok := in["state"].(string); ok {
		if is.pull.merged {
			return nil, unprocessable("Cannot change the state of a merged pull request")
		}
		// As the REST edit: closing records when and by whom, reopening clears both.
		switch v {
		case "CLOSED":
			if is.state != "closed" {
				t := now()
				is.state, is.closedAt, is.closedBy = "closed", &t, x.c.actor()
			}
		case "OPEN":
			is.state, is.closedAt, is.closedBy = "open", nil, nil
		default:
			return nil, unprocessable("state %q is not OPEN or CLOSED", v)
		}
	}
	is.updatedAt = now()
	return map[string]any{"pullRequest": pullObj{rs, is}}, nil
}

func (x *gqlExec) updateIssueComment(in map[string]any) (map[string]any, error) {
	rs, cm, err := x.commentByNode(argString(in, "id"))
	if err != nil {
		return nil, err
	}
	body := argString(in, "body")
	if len([]rune(body)) > maxBody {
		return nil, unprocessable("Body is too long (maximum is %d characters)", maxBody)
	}
	cm.body, cm.updatedAt = body, now()
	return map[string]any{"issueComment": commentObj{rs, cm}}, nil
}

func (x *gqlExec) createRef(in map[string]any) (map[string]any, error) {
	rs, err := x.repoByNode(argString(in, "repositoryId"))
	if err != nil {
		return nil, err
	}
	name, oid := argString(in, "name"), argString(in, "oid")
	switch {
	case !strings.HasPrefix(name, "refs/") || strings.Count(name, "/") < 2 || !validRefName(name):
		return nil, unprocessable("%q is not a valid ref name.", name)
	case rs.refs[name] != "":
		return nil, unprocessable("A ref named %q already exists in the repository.", name)
	case !rs.objects.has(oid, typeCommit):
		return nil, unprocessable("Object does not exist")
	}
	rs.setRef(name, oid)
	return map[string]any{"ref": refObj{rs, name}}, nil
}

// createCommitOnBranch commits file additions and deletions on top of the branch's head,
// which must equal expectedHeadOid; the app is the author and the commit is signed by
// GitHub, so it shows as Verified.
func (x *gqlExec) createCommitOnBranch(in map[string]any) (map[string]any, error) {
	branch := argObject(in, "branch")
	var rs *repoState
	var err error
	if id := argString(branch, "repositoryNameWithOwner"); id != "" {
		rs, err = x.repoByName(id)
	} else {
		err = unprocessable("branch.repositoryNameWithOwner is required (branch.id is not supported by githubtest)")
	}
	if err != nil {
		return nil, err
	}
	ref := "refs/heads/" + argString(branch, "branchName")
	head, ok := rs.refs[ref]
	if !ok {
		return nil, notFound("Could not resolve to a Ref with the name '%s'.", ref)
	}
	if want := argString(in, "expectedHeadOid"); want != head {
		return nil, &resolveError{typ: "STALE_DATA", msg: fmt.Sprintf("Expected branch to point to %q but it did not. Pull and try again.", want)}
	}
	parent, err := rs.objects.commit(head)
	if err != nil {
		return nil, err
	}
	tb, err := newTreeBuilder(rs.objects, parent.tree)
	if err != nil {
		return nil, err
	}
	changes := argObject(in, "fileChanges")
	for _, d := range asObjects(changes["deletions"]) {
		p := argString(d, "path")
		if _, ok := rs.objects.lookup(parent.tree, p); !ok {
			return nil, unprocessable("A path was requested for deletion which does not exist as of commit oid `%s`", head)
		}
		if err := tb.remove(p); err != nil {
			return nil, unprocessable("%v", err)
		}
	}
	for _, a := range asObjects(changes["additions"]) {
		p := argString(a, "path")
		data, err := base64.StdEncoding.DecodeString(argString(a, "contents"))
		if err != nil {
			return nil, unprocessable("contents of %s are not valid base64", p)
		}
		if _, err := cleanTreePath(p); err != nil {
			return nil, unprocessable("%v", err)
		}
		if err := tb.set(p, modeFile, rs.objects.put(typeBlob, data)); err != nil {
			return nil, unprocessable("%v", err)
		}
	}
	tree, err := tb.write()
	if err != nil {
		return nil, err
	}
	msg := argObject(in, "message")
	message := argString(msg, "headline")
	if strings.TrimSpace(message) == "" {
		return nil, unprocessable("A commit message headline is required")
	}
	if body := argString(msg, "body"); body != "" {
		message += "\n\n" + body
	}
	t := time.Now().UTC().Truncate(time.Second)
	sha := rs.objects.put(typeCommit, encodeCommit(commitObject{
		tree: tree, parents: []string{head},
		author:    botSignature(x.c.actor(), t),
		committer: Signature{Name: "GitHub", Email: "noreply@github.com", Date: t},
		message:   message,
	}))
	rs.setRef(ref, sha)
	return map[string]any{"commit": commitObj{rs, sha}, "ref": refObj{rs, ref}}, nil
}

func asObjects(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, it := range list {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (x *gqlExec) createPullRequest(in map[string]any) (map[string]any, error) {
	rs, err := x.repoByNode(argString(in, "repositoryId"))
	if err != nil {
		return nil, err
	}
	is, err := x.s.openPull(rs, x.c.actor(), argString(in, "headRefName"), argString(in, "baseRefName"), argString(in, "title"), argString(in, "body"), argBool(in, "draft"))
	if err != nil {
		return nil, unprocessable("%v", err)
	}
	return map[string]any{"pullRequest": pullObj{rs, is}}, nil
}

func (x *gqlExec) addLabelsToLabelable(in map[string]any) (map[string]any, error) {
	rs, is, err := x.issueByNode(argString(in, "labelableId"))
	if err != nil {
		return nil, err
	}
	perms := []string{"issues"}
	if is.pull != nil {
		perms = append(perms, "pull_requests")
	}
	if err := forbidden(x.c.inst, perms...); err != nil {
		return nil, err
	}
	var names []string
	for _, id := range argStrings(in, "labelIds") {
		typ, key, ok := decodeNodeID(id)
		var found *labelState
		for _, l := range rs.labels {
			if ok && typ == "Label" && fmt.Sprint(l.id) == key {
				found = l
			}
		}
		if found == nil {
			return nil, notFound("Could not resolve to a node with the global id of '%s'", id)
		}
		names = append(names, found.name)
	}
	for _, n := range names {
		is.addLabel(x.s, rs, n)
	}
	labelable := gqlObject(obj{"Issue", map[string]any{"id": is.nodeID()}})
	if is.pull != nil {
		labelable = pullObj{rs, is}
	}
	return map[string]any{"labelable": labelable}, nil
}

func (x *gqlExec) requestReviews(in map[string]any) (map[string]any, error) {
	rs, is, err := x.issueByNode(argString(in, "pullRequestId"))
	if err != nil || is.pull == nil {
		return nil, notFound("Could not resolve to a PullRequest with the global id of '%s'", argString(in, "pullRequestId"))
	}
	var users []*account
	for _, id := range argStrings(in, "userIds") {
		var a *account
		if typ, key, ok := decodeNodeID(id); ok && (typ == "User" || typ == "Bot") {
			for _, acc := range x.s.accounts {
				if fmt.Sprint(acc.id) == key {
					a = acc
				}
			}
		}
		if a == nil {
			return nil, notFound("Could not resolve to a node with the global id of '%s'", id)
		}
		if a == is.user {
			return nil, unprocessable("Review cannot be requested from pull request author.")
		}
		if rs.role(a.login) == "" {
			return nil, unprocessable("%s", notCollaborator(rs, false))
		}
		users = append(users, a)
	}
	var teams []*team
	for _, id := range argStrings(in, "teamIds") {
		var t *team
		if typ, key, ok := decodeNodeID(id); ok && typ == "Team" {
			for _, tm := range x.s.teams {
				if fmt.Sprint(tm.id) == key && strings.EqualFold(tm.org, rs.owner.login) {
					t = tm
				}
			}
		}
		if t == nil {
			return nil, notFound("Could not resolve to a node with the global id of '%s'", id)
		}
		if rs.teamRoles[strings.ToLower(t.slug)] == "" {
			return nil, unprocessable("%s", notCollaborator(rs, len(argStrings(in, "userIds")) == 0))
		}
		teams = append(teams, t)
	}
	p := is.pull
	if !argBool(in, "union") {
		p.requestedReviewers, p.requestedTeams = nil, nil
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
	return map[string]any{"pullRequest": pullObj{rs, is}}, nil
}

func (x *gqlExec) createCheckRun(in map[string]any) (map[string]any, error) {
	rs, err := x.repoByNode(argString(in, "repositoryId"))
	if err != nil {
		return nil, err
	}
	if err := forbidden(x.c.inst, "checks"); err != nil {
		return nil, err
	}
	sha := argString(in, "headSha")
	if !rs.objects.has(sha, typeCommit) {
		return nil, unprocessable("No commit found for SHA: %s", sha)
	}
	cr := &checkRun{id: x.s.newID(), app: x.c.actorApp(), headSHA: sha, status: "queued", startedAt: now()}
	var rest checkRunInput
	name := argString(in, "name")
	rest.Name = &name
	if v := argString(in, "detailsUrl"); v != "" {
		rest.DetailsURL = &v
	}
	if v := argString(in, "externalId"); v != "" {
		rest.ExternalID = &v
	}
	if v := argString(in, "status"); v != "" {
		v = strings.ToLower(v)
		rest.Status = &v
	}
	if v := argString(in, "conclusion"); v != "" {
		v = strings.ToLower(v)
		rest.Conclusion = &v
	}
	if v := argString(in, "completedAt"); v != "" {
		rest.CompletedAt = &v
	}
	if o := argObject(in, "output"); o != nil {
		rest.Output = &struct {
			Title   string `json:"title"`
			Summary string `json:"summary"`
			Text    string `json:"text"`
		}{argString(o, "title"), argString(o, "summary"), argString(o, "text")}
	}
	if problem := rest.apply(cr); problem != "" {
		return nil, unprocessable("%s", problem)
	}
	rs.checkRuns[cr.id] = cr
	return map[string]any{"checkRun": obj{"CheckRun", map[string]any{
		"id": nodeID("CheckRun", cr.id), "databaseId": cr.id, "name": cr.name, "repository": repoObj{rs},
	}}}, nil
}
