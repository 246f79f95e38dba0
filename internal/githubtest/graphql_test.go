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
