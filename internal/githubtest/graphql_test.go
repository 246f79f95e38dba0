package githubtest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

type gqlAnswer struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Type    string `json:"type"`
		Path    []any  `json:"path"`
		Message string `json:"message"`
	} `json:"errors"`
}

func graphql(t *testing.T, s *githubtest.Server, gh *github.Client, query string, vars map[string]any) (int, gqlAnswer) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	hc := http.DefaultClient
	if gh != nil {
		hc = gh.Client()
	}
	res, err := hc.Post(s.V4URL(), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a gqlAnswer
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode, a
}

func TestGraphQLValidatesAgainstGitHubsSchema(t *testing.T) {
	s, _, gh := setup(t)
	if code, _ := graphql(t, s, nil, `{ viewer { login } }`, nil); code != http.StatusUnauthorized {
		t.Fatalf("without a token: %d, want 401", code)
	}
	for _, tc := range []struct{ query, want string }{
		{`{ repository(owner: "acme", name: "gitops") { defaultBranch } }`, `Cannot query field "defaultBranch" on type "Repository"`},
		{`{ repository(owner: "acme") { id } }`, `argument "name" of type "String!" is required`},
		{`query($n: Int!) { repository(owner: "acme", name: $n) { id } }`, `Variable "$n" of type "Int!" used in position expecting type "String!"`},
		{`mutation { createRef(input: {name: "x"}) { ref { id } } }`, `Field "CreateRefInput.oid" of required type "GitObjectID!" was not provided`},
		{`{ repository(owner: "acme", name: "gitops") { id `, `Expected Name, found <EOF>`},
	} {
		code, a := graphql(t, s, gh, tc.query, map[string]any{"n": 1})
		if code != http.StatusOK || a.Data != nil || len(a.Errors) == 0 || !strings.Contains(a.Errors[0].Message, tc.want) {
			t.Errorf("%s:\n%d %+v, want an error containing %q", tc.query, code, a, tc.want)
		}
	}
}

func TestGraphQLReadsRepositoryAndFiles(t *testing.T) {
	s, repo, gh := setup(t)
	head, _ := repo.BranchSHA("main")
	code, a := graphql(t, s, gh, `query($o: String!, $n: String!) {
  repository(owner: $o, name: $n) {
    nameWithOwner
    defaultBranchRef { name target { ... on Commit { oid
      k: file(path: "apps/web/overlays/staging/kustomization.yaml") { type object { ... on Blob { text } } }
      none: file(path: "apps/web/nope.yaml") { type }
      dir: file(path: "apps/web") { type object { ... on Tree { entries { name type } } } }
    } } }
  }
  other: repository(owner: "someone", name: "else") { id }
}`, map[string]any{"o": "acme", "n": "gitops"})
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	raw, _ := json.Marshal(a.Data["repository"])
	var r struct {
		NameWithOwner    string
		DefaultBranchRef struct {
			Name   string
			Target struct {
				Oid string
				K   struct {
					Type   string
					Object struct{ Text string }
				}
				// a missing path is null
				None *struct{ Type string }
				Dir  struct {
					Type   string
					Object struct{ Entries []struct{ Name, Type string } }
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	tg := r.DefaultBranchRef.Target
	if r.NameWithOwner != "acme/gitops" || r.DefaultBranchRef.Name != "main" || tg.Oid != head {
		t.Fatalf("repository: %+v", r)
	}
	if tg.K.Type != "blob" || !strings.Contains(tg.K.Object.Text, "newTag: v1.0.0") || tg.None != nil {
		t.Errorf("files: %+v", tg)
	}
	if tg.Dir.Type != "tree" || len(tg.Dir.Object.Entries) != 2 || tg.Dir.Object.Entries[0].Name != "base" || tg.Dir.Object.Entries[0].Type != "tree" {
		t.Errorf("directory: %+v", tg.Dir)
	}
	// A repository the installation does not cover is NOT_FOUND, beside the data.
	if a.Data["other"] != nil || len(a.Errors) != 1 || a.Errors[0].Type != "NOT_FOUND" || a.Errors[0].Path[0] != "other" {
		t.Errorf("uncovered repository: %+v", a.Errors)
	}
}

func TestGraphQLMutationsRunInOrder(t *testing.T) {
	s, repo, gh := setup(t)
	head, _ := repo.BranchSHA("main")
	_, a := graphql(t, s, gh, `{ repository(owner: "acme", name: "gitops") { id } }`, nil)
	repoID := a.Data["repository"].(map[string]any)["id"].(string)

	const q = `mutation($ref: CreateRefInput!, $commit: CreateCommitOnBranchInput!) {
  ref: createRef(input: $ref) { ref { name } }
  commit: createCommitOnBranch(input: $commit) { commit { oid } }
}`
	vars := func(expect string) map[string]any {
		return map[string]any{
			"ref": map[string]any{"repositoryId": repoID, "name": "refs/heads/change", "oid": head},
			"commit": map[string]any{
				"branch":          map[string]any{"repositoryNameWithOwner": "acme/gitops", "branchName": "change"},
				"expectedHeadOid": expect,
				"message":         map[string]any{"headline": "scale", "body": "Daytwo-Action: scale"},
				"fileChanges": map[string]any{
					"additions": []any{map[string]any{"path": "apps/web/x.yaml", "contents": base64.StdEncoding.EncodeToString([]byte("x: 1\n"))}},
					"deletions": []any{map[string]any{"path": "README.md"}},
				},
			},
		}
	}
	_, a = graphql(t, s, gh, q, vars(head))
	if len(a.Errors) != 0 {
		t.Fatalf("errors: %+v", a.Errors)
	}
	sha, _ := repo.BranchSHA("change")
	c, _ := repo.GetCommit(sha)
	if c.Parents[0] != head || c.Message != "scale\n\nDaytwo-Action: scale" || c.Author.Name != s.BotLogin() || c.Committer.Name != "GitHub" {
		t.Fatalf("commit: %+v", c)
	}
	if f, ok := repo.File("change", "apps/web/x.yaml"); !ok || f != "x: 1\n" {
		t.Error("addition missing")
	}
	if _, ok := repo.File("change", "README.md"); ok {
		t.Error("deletion not applied")
	}

	// Again: the ref exists, and the commit's expected head is stale; the branch stays.
	_, a = graphql(t, s, gh, q, vars(head))
	if len(a.Errors) != 2 || a.Errors[0].Type != "UNPROCESSABLE" || !strings.Contains(a.Errors[0].Message, "already exists") ||
		a.Errors[1].Type != "STALE_DATA" || a.Errors[1].Path[0] != "commit" {
		t.Fatalf("errors: %+v", a.Errors)
	}
	if now, _ := repo.BranchSHA("change"); now != sha {
		t.Error("a stale commit moved the branch")
	}

	// An injected field failure leaves the other fields to run.
	s.FailGraphQLField("addReaction", "FORBIDDEN", "Resource not accessible by integration", 1)
	n := repo.CreateIssue("alice", "x", "")
	issueID := issueNodeID(t, s, gh, n)
	_, a = graphql(t, s, gh, `mutation($r: AddReactionInput!, $c: AddCommentInput!) {
  r: addReaction(input: $r) { reaction { content } }
  c: addComment(input: $c) { commentEdge { node { databaseId } } }
}`, map[string]any{"r": map[string]any{"subjectId": issueID, "content": "EYES"}, "c": map[string]any{"subjectId": issueID, "body": "on it"}})
	if len(a.Errors) != 1 || a.Errors[0].Type != "FORBIDDEN" || len(repo.Comments(n)) != 1 || len(repo.IssueReactions(n)) != 0 {
		t.Fatalf("errors %+v, comments %+v", a.Errors, repo.Comments(n))
	}
}

func issueNodeID(t *testing.T, s *githubtest.Server, gh *github.Client, n int) string {
	t.Helper()
	is, _, err := gh.Issues.Get(t.Context(), "acme", "gitops", n)
	if err != nil {
		t.Fatal(err)
	}
	return is.GetNodeID()
}

// decode re-marshals part of an answer into out.
func decode(t *testing.T, v any, out any) {
	t.Helper()
	raw, _ := json.Marshal(v)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatal(err)
	}
}

func TestGraphQLPullRequestCommitsCommentsAndRepository(t *testing.T) {
	s, repo, gh := setup(t)
	var shas []string
	for _, m := range []string{"one", "two", "three"} {
		shas = append(shas, repo.Commit("feature", m, map[string]string{m + ".txt": m}))
	}
	n := repo.OpenPull("alice", "feature", "main", "Feature", "body")
	repo.Commit("main", "later on main", map[string]string{"later.txt": "x"}) // not the PR's
	repo.AddComment(n, "alice", "a person's")
	if _, _, err := gh.Issues.CreateComment(t.Context(), "acme", "gitops", n, &github.IssueComment{Body: github.String("the app's")}); err != nil {
		t.Fatal(err)
	}

	code, a := graphql(t, s, gh, `{ repository(owner: "acme", name: "gitops") {
  pullRequests(states: [OPEN], first: 10) { nodes { number
    commits(first: 100) { totalCount nodes { commit { oid message } } }
    tail: commits(last: 2) { totalCount pageInfo { hasPreviousPage hasNextPage } nodes { commit { oid } } }
    comments(last: 100) { totalCount nodes { id databaseId body viewerDidAuthor author { login } } }
    lastComment: comments(last: 1) { nodes { body } }
    repository { nameWithOwner }
  } }
} }`, nil)
	if code != http.StatusOK || len(a.Errors) != 0 {
		t.Fatalf("%d %+v", code, a.Errors)
	}
	type commits struct {
		TotalCount int
		PageInfo   struct{ HasPreviousPage, HasNextPage bool }
		Nodes      []struct{ Commit struct{ Oid, Message string } }
	}
	var r struct {
		PullRequests struct {
			Nodes []struct {
				Number   int
				Commits  commits
				Tail     commits
				Comments struct {
					TotalCount int
					Nodes      []struct {
						ID              string
						DatabaseID      int64
						Body            string
						ViewerDidAuthor bool
						Author          struct{ Login string }
					}
				}
				LastComment struct{ Nodes []struct{ Body string } }
				Repository  struct{ NameWithOwner string }
			}
		}
	}
	decode(t, a.Data["repository"], &r)
	if len(r.PullRequests.Nodes) != 1 {
		t.Fatalf("pull requests: %+v", r.PullRequests)
	}
	p := r.PullRequests.Nodes[0]
	oids := func(c commits) []string {
		var out []string
		for _, n := range c.Nodes {
			out = append(out, n.Commit.Oid)
		}
		return out
	}
	// Oldest first, only the PR's own commits; last: n is the newest n, still oldest first.
	if p.Number != n || strings.Join(oids(p.Commits), ",") != strings.Join(shas, ",") || p.Commits.TotalCount != 3 || p.Commits.Nodes[0].Commit.Message != "one" {
		t.Errorf("commits: %+v", p.Commits)
	}
	if strings.Join(oids(p.Tail), ",") != strings.Join(shas[1:], ",") || p.Tail.TotalCount != 3 || !p.Tail.PageInfo.HasPreviousPage || p.Tail.PageInfo.HasNextPage {
		t.Errorf("commits(last: 2): %+v", p.Tail)
	}
	cs := p.Comments.Nodes
	if p.Comments.TotalCount != 2 || len(cs) != 2 ||
		cs[0].Body != "a person's" || cs[0].ViewerDidAuthor || cs[0].Author.Login != "alice" ||
		cs[1].Body != "the app's" || !cs[1].ViewerDidAuthor || cs[1].Author.Login != s.BotLogin() || cs[1].DatabaseID == 0 || cs[1].ID == "" {
		t.Errorf("comments: %+v", p.Comments)
	}
	if len(p.LastComment.Nodes) != 1 || p.LastComment.Nodes[0].Body != "the app's" {
		t.Errorf("comments(last: 1): %+v", p.LastComment)
	}
	if p.Repository.NameWithOwner != "acme/gitops" {
		t.Errorf("repository: %+v", p.Repository)
	}
}

func TestGraphQLAddCommentAnswersItsSubject(t *testing.T) {
	s, repo, gh := setup(t)
	issue := repo.CreateIssue("alice", "please scale", "/scale web 5")
	repo.AddComment(issue, "alice", "earlier")
	repo.Commit("feature", "f", map[string]string{"f.txt": "f"})
	pull := repo.OpenPull("alice", "feature", "main", "Feature", "")
	const q = `mutation($c: AddCommentInput!) { addComment(input: $c) {
  commentEdge { node { databaseId viewerDidAuthor body } }
  subject { __typename id
    ... on Issue { number title comments(last: 10) { nodes { body viewerDidAuthor } } }
    ... on PullRequest { number headRefName comments(last: 10) { nodes { body viewerDidAuthor } } } }
} }`
	type answer struct {
		CommentEdge struct {
			Node struct {
				DatabaseID      int64
				ViewerDidAuthor bool
				Body            string
			}
		}
		Subject struct {
			Typename    string `json:"__typename"`
			ID          string
			Number      int
			Title       string
			HeadRefName string
			Comments    struct {
				Nodes []struct {
					Body            string
					ViewerDidAuthor bool
				}
			}
		}
	}
	for _, tc := range []struct {
		number   int
		typename string
	}{{issue, "Issue"}, {pull, "PullRequest"}} {
		node := issueNodeID(t, s, gh, tc.number)
		if tc.typename == "PullRequest" {
			pr, _, err := gh.PullRequests.Get(t.Context(), "acme", "gitops", tc.number)
			if err != nil {
				t.Fatal(err)
			}
			node = pr.GetNodeID()
		}
		_, a := graphql(t, s, gh, q, map[string]any{"c": map[string]any{"subjectId": node, "body": "on it"}})
		if len(a.Errors) != 0 {
			t.Fatalf("%s: %+v", tc.typename, a.Errors)
		}
		var r answer
		decode(t, a.Data["addComment"], &r)
		sub := r.Subject
		if sub.Typename != tc.typename || sub.ID != node || sub.Number != tc.number {
			t.Errorf("%s subject: %+v", tc.typename, sub)
		}
		if tc.typename == "Issue" && sub.Title != "please scale" || tc.typename == "PullRequest" && sub.HeadRefName != "feature" {
			t.Errorf("%s subject fields: %+v", tc.typename, sub)
		}
		// The subject is read after the comment was added: it is the newest.
		c := sub.Comments.Nodes
		if last := len(c) - 1; last < 0 || c[last].Body != "on it" || !c[last].ViewerDidAuthor || !r.CommentEdge.Node.ViewerDidAuthor {
			t.Errorf("%s comments: %+v", tc.typename, c)
		}
		if tc.typename == "Issue" && (len(c) != 2 || c[0].Body != "earlier" || c[0].ViewerDidAuthor) {
			t.Errorf("issue comments: %+v", c)
		}
	}
}

func TestGraphQLRefAssociatedPullRequests(t *testing.T) {
	s, repo, gh := setup(t)
	head := repo.Commit("feature", "f", map[string]string{"f.txt": "f"})
	closed := repo.OpenPull("alice", "feature", "main", "first try", "")
	repo.ClosePull(closed, "alice")
	open := repo.OpenPull("alice", "feature", "main", "second try", "")
	repo.Commit("other", "o", map[string]string{"o.txt": "o"})
	repo.OpenPull("alice", "other", "main", "another branch", "")

	_, a := graphql(t, s, gh, `{ repository(owner: "acme", name: "gitops") {
  ref(qualifiedName: "feature") {
    open: associatedPullRequests(states: [OPEN], first: 10) { nodes { number state headRefName } }
    all: associatedPullRequests(first: 10) { totalCount nodes { number state } }
  }
  main: ref(qualifiedName: "refs/heads/main") { associatedPullRequests(first: 10) { totalCount } }
} }`, nil)
	if len(a.Errors) != 0 {
		t.Fatalf("%+v", a.Errors)
	}
	var r struct {
		Ref struct {
			Open struct {
				Nodes []struct {
					Number             int
					State, HeadRefName string
				}
			}
			All struct {
				TotalCount int
				Nodes      []struct {
					Number int
					State  string
				}
			}
		}
		Main struct{ AssociatedPullRequests struct{ TotalCount int } }
	}
	decode(t, a.Data["repository"], &r)
	if o := r.Ref.Open.Nodes; len(o) != 1 || o[0].Number != open || o[0].State != "OPEN" || o[0].HeadRefName != "feature" {
		t.Errorf("open: %+v", r.Ref.Open)
	}
	if all := r.Ref.All; all.TotalCount != 2 || all.Nodes[0].Number != closed || all.Nodes[0].State != "CLOSED" || all.Nodes[1].Number != open {
		t.Errorf("all: %+v", all)
	}
	if r.Main.AssociatedPullRequests.TotalCount != 0 {
		t.Errorf("main is no pull request's head: %+v", r.Main)
	}

	// createCommitOnBranch answers the ref after the commit: its open pull request is at it.
	_, a = graphql(t, s, gh, `mutation($c: CreateCommitOnBranchInput!) { c: createCommitOnBranch(input: $c) {
  commit { oid } ref { name associatedPullRequests(states: [OPEN], first: 10) { nodes { number headRefOid } } } } }`,
		map[string]any{"c": map[string]any{
			"branch":          map[string]any{"repositoryNameWithOwner": "acme/gitops", "branchName": "feature"},
			"expectedHeadOid": head,
			"message":         map[string]any{"headline": "more"},
			"fileChanges":     map[string]any{"additions": []any{map[string]any{"path": "g.txt", "contents": base64.StdEncoding.EncodeToString([]byte("g"))}}},
		}})
	if len(a.Errors) != 0 {
		t.Fatalf("%+v", a.Errors)
	}
	var c struct {
		Commit struct{ Oid string }
		Ref    struct {
			Name                   string
			AssociatedPullRequests struct {
				Nodes []struct {
					Number     int
					HeadRefOid string
				}
			}
		}
	}
	decode(t, a.Data["c"], &c)
	if prs := c.Ref.AssociatedPullRequests.Nodes; c.Ref.Name != "feature" || len(prs) != 1 || prs[0].Number != open || prs[0].HeadRefOid != c.Commit.Oid {
		t.Errorf("commit answer: %+v", c)
	}
}

func TestGraphQLUpdatePullRequest(t *testing.T) {
	s, repo, gh := setup(t)
	repo.Commit("feature", "f", map[string]string{"f.txt": "f"})
	n := repo.OpenPull("alice", "feature", "main", "Feature", "body")
	pr, _, err := gh.PullRequests.Get(t.Context(), "acme", "gitops", n)
	if err != nil {
		t.Fatal(err)
	}
	const q = `mutation($p: UpdatePullRequestInput!) { p: updatePullRequest(input: $p) { pullRequest { number title body state headRefOid } } }`
	update := func(in map[string]any) gqlAnswer {
		t.Helper()
		in["pullRequestId"] = pr.GetNodeID()
		_, a := graphql(t, s, gh, q, map[string]any{"p": in})
		return a
	}

	a := update(map[string]any{"title": "Better title", "body": "better body"})
	var r struct {
		PullRequest struct {
			Number                         int
			Title, Body, State, HeadRefOid string
		}
	}
	if len(a.Errors) != 0 {
		t.Fatalf("%+v", a.Errors)
	}
	decode(t, a.Data["p"], &r)
	head, _ := repo.BranchSHA("feature")
	if p := r.PullRequest; p.Number != n || p.Title != "Better title" || p.Body != "better body" || p.State != "OPEN" || p.HeadRefOid != head {
		t.Errorf("answer: %+v", p)
	}
	// A field left out stays as it is.
	if a := update(map[string]any{"body": "only the body"}); len(a.Errors) != 0 {
		t.Fatalf("%+v", a.Errors)
	}
	if p, _ := repo.Pull(n); p.Title != "Better title" || p.Body != "only the body" {
		t.Errorf("after a body edit: %q / %q", p.Title, p.Body)
	}

	for _, tc := range []struct {
		in       map[string]any
		typ, msg string
	}{
		{map[string]any{"title": "  "}, "UNPROCESSABLE", "Title can't be blank"},
		{map[string]any{"body": strings.Repeat("x", 65537)}, "UNPROCESSABLE", "Body is too long"},
	} {
		a := update(tc.in)
		if len(a.Errors) != 1 || a.Errors[0].Type != tc.typ || !strings.Contains(a.Errors[0].Message, tc.msg) || a.Data["p"] != nil {
			t.Errorf("%v: %+v", tc.in, a.Errors)
		}
	}
	if p, _ := repo.Pull(n); p.Title != "Better title" || p.Body != "only the body" {
		t.Errorf("a refused update changed the PR: %q / %q", p.Title, p.Body)
	}
	_, a = graphql(t, s, gh, q, map[string]any{"p": map[string]any{"pullRequestId": "bm90IGFuIGlk", "title": "x"}})
	if len(a.Errors) != 1 || a.Errors[0].Type != "NOT_FOUND" {
		t.Errorf("unknown id: %+v", a.Errors)
	}

	// Closing records when and by whom, as on GitHub.
	if a := update(map[string]any{"state": "CLOSED"}); len(a.Errors) != 0 {
		t.Fatalf("%+v", a.Errors)
	}
	got, _, err := gh.PullRequests.Get(t.Context(), "acme", "gitops", n)
	if err != nil || got.GetState() != "closed" || got.ClosedAt == nil {
		t.Errorf("closed by GraphQL: %s at %v, %v", got.GetState(), got.ClosedAt, err)
	}
	if a := update(map[string]any{"state": "OPEN"}); len(a.Errors) != 0 {
		t.Fatalf("%+v", a.Errors)
	}
	repo.Merge(n, "squash")
	if a := update(map[string]any{"state": "CLOSED"}); len(a.Errors) != 1 || !strings.Contains(a.Errors[0].Message, "merged") {
		t.Errorf("closing a merged PR: %+v", a.Errors)
	}
}
