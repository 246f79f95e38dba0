package githubtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// TestGetTeam: GET /orgs/{org}/teams/{team_slug} answers the installation's own teams
// (slugs and logins in any case) with the team, counting active members and repositories
// the team has a role on; an unknown team, or a team of another account, is GitHub's 404.
func TestGetTeam(t *testing.T) {
	s := githubtest.New(t)
	repo := s.CreateRepo("acme", "gitops")
	repo.Commit("main", "seed", map[string]string{"README.md": "# hi\n"})
	s.CreateRepo("globex", "infra")
	inst := s.Install("acme", "gitops")
	s.AddTeamMember("acme", "sre", "sam", "member", "active")
	s.AddTeamMember("acme", "sre", "pat", "member", "pending")
	repo.SetTeamPermission("sre", githubtest.RoleWrite)
	s.AddTeam("acme", "empty")
	s.AddTeamMember("globex", "ops", "ola", "member", "active")
	token := "token " + s.IssueToken(inst)

	get := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", strings.TrimSuffix(s.V3URL(), "/")+path, nil)
		req.Header.Set("Authorization", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %s", path, b)
		}
		return res.StatusCode, m
	}
	code, team := get("/orgs/ACME/teams/SRE")
	if code != 200 || team["slug"] != "sre" || team["members_count"] != 1.0 || team["repos_count"] != 1.0 || team["organization"].(map[string]any)["login"] != "acme" {
		t.Errorf("%d %v", code, team)
	}
	if code, team = get("/orgs/acme/teams/empty"); code != 200 || team["members_count"] != 0.0 || team["repos_count"] != 0.0 {
		t.Errorf("a team without members: %d %v", code, team)
	}
	for _, p := range []string{"/orgs/acme/teams/nope", "/orgs/globex/teams/ops"} {
		code, body := get(p)
		if code != 404 || body["message"] != "Not Found" || body["documentation_url"] == nil {
			t.Errorf("%s: %d %v", p, code, body)
		}
	}
}
