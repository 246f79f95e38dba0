package githubtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// kind names a JSON value's type as the comparison sees it.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

// compareShape checks that got has every key of example with the same JSON type,
// recursively, and no key the example lacks. Exceptions name a key by its path, array
// elements written "[]": extra["a.b"] allows key b beyond the example, extra["a.*"] any key
// of a free-form object, optional["a.b"] lets b be absent. A null on either side matches
// any type: the examples and the fake fill nullable fields differently.
func compareShape(path string, example, got any, extra, optional map[string]bool) []string {
	if example == nil || got == nil {
		return nil
	}
	if kind(example) != kind(got) {
		return []string{fmt.Sprintf("%s: type %s, example has %s", path, kind(got), kind(example))}
	}
	key := func(k string) string { return strings.TrimPrefix(path+"."+k, ".") }
	var problems []string
	switch ex := example.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, v := range ex {
			gv, ok := g[k]
			if !ok {
				if !optional[key(k)] {
					problems = append(problems, key(k)+": missing")
				}
				continue
			}
			problems = append(problems, compareShape(key(k), v, gv, extra, optional)...)
		}
		for k := range g {
			if _, ok := ex[k]; !ok && !extra[key(k)] && !extra[key("*")] {
				problems = append(problems, key(k)+": not in the example")
			}
		}
	case []any:
		if len(ex) > 0 {
			for _, gv := range got.([]any) {
				problems = append(problems, compareShape(path+"[]", ex[0], gv, extra, optional)...)
			}
		}
	}
	return problems
}

func decodeNumbers(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

// call sends a raw API request and returns the decoded answer.
func call(t *testing.T, s *githubtest.Server, auth, method, path string, body any) any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(s.V3URL(), "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s = %d %s", method, path, res.StatusCode, data)
	}
	return decodeNumbers(t, data)
}

// repoExtras are repository fields of GitHub's "repository" schema that the pull request
// example's head.repo happens to leave out.
var repoExtras = []string{"allow_auto_merge", "delete_branch_on_merge", "is_template", "visibility", "web_commit_signoff_required"}

// set builds a path set; each key is joined to each prefix ("" for the top level).
func set(prefixes []string, keys ...string) map[string]bool {
	out := map[string]bool{}
	for _, p := range prefixes {
		for _, k := range keys {
			out[strings.TrimPrefix(p+"."+k, ".")] = true
		}
	}
	return out
}

func union(sets ...map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, s := range sets {
		for k := range s {
			out[k] = true
		}
	}
	return out
}

// TestResponsesMatchOpenAPIExamples compares the fake's answers with the examples of
// GitHub's OpenAPI description (testdata/openapi, from @octokit/openapi).
func TestResponsesMatchOpenAPIExamples(t *testing.T) {
	s := githubtest.New(t)
	repo := s.CreateRepo("acme", "gitops")
	repo.Commit("main", "seed", map[string]string{"README.md": "# hi\n", "dir/a.txt": "a\n",
		".github/workflows/deploy.yml": "name: Deploy\non:\n  workflow_dispatch:\n    inputs:\n      env: {required: true}\njobs: {}\n"})
	s.CreateRepo("acme", "other")
	inst := s.Install("acme", "gitops", "other")
	repo.SetPermission("alice", githubtest.RoleAdmin)
	s.AddTeamMember("acme", "sre", "alice", "member", "active")
	token := "token " + s.IssueToken(inst)
	main, _ := repo.BranchSHA("main")
	seed, _ := repo.GetCommit(main)

	jwt := "Bearer " + signJWT(t, s.PrivateKeyPEM(), map[string]any{"iss": s.AppID(), "iat": nowUnix() - 30, "exp": nowUnix() + 60})
	tree := call(t, s, token, "POST", "/repos/acme/gitops/git/trees", map[string]any{
		"base_tree": seed.Tree, "tree": []map[string]any{{"path": "dir/b.txt", "mode": "100644", "type": "blob", "content": "b\n"}},
	})
	treeSHA := tree.(map[string]any)["sha"].(string)
	commit := call(t, s, token, "POST", "/repos/acme/gitops/git/commits", map[string]any{"message": "m", "tree": treeSHA, "parents": []string{main}})
	commitSHA := commit.(map[string]any)["sha"].(string)
	ref := call(t, s, token, "POST", "/repos/acme/gitops/git/refs", map[string]any{"ref": "refs/heads/feature", "sha": commitSHA})
	pr := call(t, s, token, "POST", "/repos/acme/gitops/pulls", map[string]any{"title": "t", "head": "feature", "base": "main", "body": "b"})
	number := int(mustInt(t, pr.(map[string]any)["number"]))
	call(t, s, token, "POST", fmt.Sprintf("/repos/acme/gitops/issues/%d/labels", number), []string{"bug"})
	call(t, s, token, "POST", fmt.Sprintf("/repos/acme/gitops/pulls/%d/requested_reviewers", number), map[string]any{"reviewers": []string{"alice"}})
	comment := call(t, s, token, "POST", fmt.Sprintf("/repos/acme/gitops/issues/%d/comments", number), map[string]any{"body": "hello"})
	commentID := mustInt(t, comment.(map[string]any)["id"])
	dispatched := call(t, s, token, "POST", "/repos/acme/gitops/actions/workflows/deploy.yml/dispatches",
		map[string]any{"ref": "main", "inputs": map[string]any{"env": "prod"}, "return_run_details": true})
	runID := mustInt(t, dispatched.(map[string]any)["workflow_run_id"])

	// Fields of GitHub's schemas that these particular examples leave out.
	repoExtra := union(set([]string{"head.repo", "base.repo"}, repoExtras...), set([]string{"base.repo"}, "allow_forking"),
		set([]string{"head.repo.permissions", "base.repo.permissions"}, "maintain", "triage"))
	tokenExtra := union(set([]string{"repositories[]"}, "has_discussions", "allow_forking", "web_commit_signoff_required"),
		set([]string{"repositories[].permissions"}, "maintain", "triage"), set([]string{"permissions"}, "*"))
	// The token example's repositories carry full-repository fields the schema's "repository" lacks.
	tokenOptional := set([]string{"repositories[]"}, "network_count", "subscribers_count", "template_repository")
	treeOptional := set([]string{"tree[]"}, "size") // trees and submodules have no size
	// A run's head_repository is a minimal-repository, whose git_url and ssh_url the
	// examples' head_repository leaves out (their repository has them); the list example
	// leaves out the optional previous_attempt_url and referenced_workflows.
	runExtra := set([]string{"head_repository"}, "git_url", "ssh_url")
	runsExtra := union(set([]string{"workflow_runs[].head_repository"}, "git_url", "ssh_url"),
		set([]string{"workflow_runs[]"}, "previous_attempt_url", "referenced_workflows"))
	cases := []struct {
		example         string
		got             any
		extra, optional map[string]bool
	}{
		{"git-ref", ref, nil, nil},
		{"git-ref", call(t, s, token, "GET", "/repos/acme/gitops/git/ref/heads/main", nil), nil, nil},
		{"git-tree", tree, nil, treeOptional},
		{"git-tree", call(t, s, token, "GET", "/repos/acme/gitops/git/trees/"+treeSHA+"?recursive=1", nil), nil, treeOptional},
		{"git-commit", commit, nil, nil},
		{"git-commit", call(t, s, token, "GET", "/repos/acme/gitops/git/commits/"+commitSHA, nil), nil, nil},
		{"pull-request", pr, repoExtra, nil},
		{"pull-request", call(t, s, token, "GET", fmt.Sprintf("/repos/acme/gitops/pulls/%d", number), nil), repoExtra, nil},
		{"issue-comment", comment, set([]string{""}, "performed_via_github_app", "reactions"), nil},
		{"reaction", call(t, s, token, "POST", fmt.Sprintf("/repos/acme/gitops/issues/comments/%d/reactions", commentID), map[string]any{"content": "eyes"}), nil, nil},
		{"installation-token", call(t, s, jwt, "POST", fmt.Sprintf("/app/installations/%d/access_tokens", inst), nil), tokenExtra, tokenOptional},
		{"repository-collaborator-permission", call(t, s, token, "GET", "/repos/acme/gitops/collaborators/alice/permission", nil), nil, nil},
		{"content-file", call(t, s, token, "GET", "/repos/acme/gitops/contents/README.md?ref=main", nil), nil, nil},
		{"workflow-dispatch-response", dispatched, nil, nil},
		{"workflow", call(t, s, token, "GET", "/repos/acme/gitops/actions/workflows/deploy.yml", nil), nil, nil},
		{"workflow-run", call(t, s, token, "GET", fmt.Sprintf("/repos/acme/gitops/actions/runs/%d", runID), nil), runExtra, nil},
		{"workflow-run-paginated", call(t, s, token, "GET", "/repos/acme/gitops/actions/runs?event=workflow_dispatch", nil), runsExtra, nil},
		{"team-full", call(t, s, token, "GET", "/orgs/acme/teams/sre", nil), nil, nil},
	}
	for _, tc := range cases {
		data, err := os.ReadFile(filepath.Join("testdata", "openapi", tc.example+".json"))
		if err != nil {
			t.Fatal(err)
		}
		example := decodeNumbers(t, data)
		if problems := compareShape("", example, tc.got, tc.extra, tc.optional); len(problems) > 0 {
			sort.Strings(problems)
			t.Errorf("%s:\n  %s", tc.example, strings.Join(problems, "\n  "))
		}
	}

	// The comparison itself catches a renamed field and a changed type.
	broken := decodeNumbers(t, []byte(`{"ref":"refs/heads/x","node_id":1,"url":"u","objekt":{}}`))
	data, _ := os.ReadFile(filepath.Join("testdata", "openapi", "git-ref.json"))
	if p := compareShape("", decodeNumbers(t, data), broken, nil, nil); len(p) != 3 {
		t.Fatalf("compareShape found %v, want node_id's type, object missing and objekt extra", p)
	}
}

func mustInt(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v is not a number", v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}
