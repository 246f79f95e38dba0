package githubtest

import (
	"net/http"
	"strings"
)

func (s *Server) teamRoutes() {
	s.handle("GET /orgs/{org}/teams/{slug}", authInstallation, s.getTeam)
}

// AddTeam makes org's team slug exist, without members.
func (s *Server) AddTeam(org, slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.teamLocked(org, slug)
}

// teamFullJSON is GitHub's "team-full": GET /orgs/{org}/teams/{team_slug}.
type teamFullJSON struct {
	teamJSON
	Parent       *teamJSON   `json:"parent"`
	MembersCount int         `json:"members_count"`
	ReposCount   int         `json:"repos_count"`
	CreatedAt    string      `json:"created_at"`
	UpdatedAt    string      `json:"updated_at"`
	Organization teamOrgJSON `json:"organization"`
}

// teamOrgJSON is GitHub's "team-organization", as far as its example goes.
type teamOrgJSON struct {
	Login                   string `json:"login"`
	ID                      int64  `json:"id"`
	NodeID                  string `json:"node_id"`
	URL                     string `json:"url"`
	ReposURL                string `json:"repos_url"`
	EventsURL               string `json:"events_url"`
	HooksURL                string `json:"hooks_url"`
	IssuesURL               string `json:"issues_url"`
	MembersURL              string `json:"members_url"`
	PublicMembersURL        string `json:"public_members_url"`
	AvatarURL               string `json:"avatar_url"`
	Description             string `json:"description"`
	Name                    string `json:"name"`
	Company                 string `json:"company"`
	Blog                    string `json:"blog"`
	Location                string `json:"location"`
	Email                   string `json:"email"`
	IsVerified              bool   `json:"is_verified"`
	HasOrganizationProjects bool   `json:"has_organization_projects"`
	HasRepositoryProjects   bool   `json:"has_repository_projects"`
	PublicRepos             int    `json:"public_repos"`
	PublicGists             int    `json:"public_gists"`
	Followers               int    `json:"followers"`
	Following               int    `json:"following"`
	HTMLURL                 string `json:"html_url"`
	CreatedAt               string `json:"created_at"`
	UpdatedAt               string `json:"updated_at"`
	Type                    string `json:"type"`
}

// getTeam answers a team of the installation's organization; any other is 404, as GitHub
// hides other accounts' teams from an installation.
func (s *Server) getTeam(c *call) {
	tm, ok := s.teams[strings.ToLower(c.r.PathValue("org")+"/"+c.r.PathValue("slug"))]
	if !ok {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	org := s.accounts[strings.ToLower(tm.org)]
	members, repos := 0, 0
	for _, m := range tm.members {
		if m.state == "active" {
			members++
		}
	}
	for _, rs := range s.repos {
		if strings.EqualFold(rs.owner.login, tm.org) && rs.teamRoles[strings.ToLower(tm.slug)] != "" {
			repos++
		}
	}
	api := s.apiBase() + "/orgs/" + org.login
	c.json(http.StatusOK, teamFullJSON{
		teamJSON: s.teamJSON(tm), MembersCount: members, ReposCount: repos,
		CreatedAt: ts(appEpoch), UpdatedAt: ts(appEpoch),
		Organization: teamOrgJSON{
			Login: org.login, ID: org.id, NodeID: nodeID("Organization", org.id), URL: api,
			ReposURL: api + "/repos", EventsURL: api + "/events", HooksURL: api + "/hooks", IssuesURL: api + "/issues",
			MembersURL: api + "/members{/member}", PublicMembersURL: api + "/public_members{/member}",
			AvatarURL: s.srv.URL + "/avatars/u/" + org.login, Name: org.login, HTMLURL: s.srv.URL + "/" + org.login,
			CreatedAt: ts(appEpoch), UpdatedAt: ts(appEpoch), Type: "Organization",
		},
	})
}
