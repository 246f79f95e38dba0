package githubtest

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// ts formats a time as the REST API does.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func tsPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

// nodeID builds a legacy global node id, e.g. "MDQ6VXNlcjE=" for User 1.
func nodeID(typ string, id any) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("0%d:%s%v", len(typ), typ, id)))
}

type userJSON struct {
	Login             string `json:"login"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	AvatarURL         string `json:"avatar_url"`
	GravatarID        string `json:"gravatar_id"`
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	FollowersURL      string `json:"followers_url"`
	FollowingURL      string `json:"following_url"`
	GistsURL          string `json:"gists_url"`
	StarredURL        string `json:"starred_url"`
	SubscriptionsURL  string `json:"subscriptions_url"`
	OrganizationsURL  string `json:"organizations_url"`
	ReposURL          string `json:"repos_url"`
	EventsURL         string `json:"events_url"`
	ReceivedEventsURL string `json:"received_events_url"`
	Type              string `json:"type"`
	SiteAdmin         bool   `json:"site_admin"`
}

func (s *Server) userJSON(a *account) userJSON {
	u := s.apiBase() + "/users/" + a.login
	kind := "User"
	if a.typ == "Bot" {
		kind = "Bot"
	}
	return userJSON{
		Login:             a.login,
		ID:                a.id,
		NodeID:            nodeID(kind, a.id),
		AvatarURL:         fmt.Sprintf("%s/avatars/u/%d?v=4", s.srv.URL, a.id),
		GravatarID:        "",
		URL:               u,
		HTMLURL:           s.srv.URL + "/" + a.login,
		FollowersURL:      u + "/followers",
		FollowingURL:      u + "/following{/other_user}",
		GistsURL:          u + "/gists{/gist_id}",
		StarredURL:        u + "/starred{/owner}{/repo}",
		SubscriptionsURL:  u + "/subscriptions",
		OrganizationsURL:  u + "/orgs",
		ReposURL:          u + "/repos",
		EventsURL:         u + "/events{/privacy}",
		ReceivedEventsURL: u + "/received_events",
		Type:              a.typ,
		SiteAdmin:         false,
	}
}

func (s *Server) userPtr(a *account) *userJSON {
	if a == nil {
		return nil
	}
	u := s.userJSON(a)
	return &u
}

func (s *Server) usersJSON(list []*account) []userJSON {
	out := make([]userJSON, 0, len(list))
	for _, a := range list {
		out = append(out, s.userJSON(a))
	}
	return out
}

type repoPermissionsJSON struct {
	Admin    bool `json:"admin"`
	Maintain bool `json:"maintain"`
	Push     bool `json:"push"`
	Triage   bool `json:"triage"`
	Pull     bool `json:"pull"`
}

// repoJSON is GitHub's "repository" object (pull request heads, token repositories, GET repo).
type repoJSON struct {
	ID                       int64               `json:"id"`
	NodeID                   string              `json:"node_id"`
	Name                     string              `json:"name"`
	FullName                 string              `json:"full_name"`
	Owner                    userJSON            `json:"owner"`
	Private                  bool                `json:"private"`
	HTMLURL                  string              `json:"html_url"`
	Description              *string             `json:"description"`
	Fork                     bool                `json:"fork"`
	URL                      string              `json:"url"`
	ArchiveURL               string              `json:"archive_url"`
	AssigneesURL             string              `json:"assignees_url"`
	BlobsURL                 string              `json:"blobs_url"`
	BranchesURL              string              `json:"branches_url"`
	CollaboratorsURL         string              `json:"collaborators_url"`
	CommentsURL              string              `json:"comments_url"`
	CommitsURL               string              `json:"commits_url"`
	CompareURL               string              `json:"compare_url"`
	ContentsURL              string              `json:"contents_url"`
	ContributorsURL          string              `json:"contributors_url"`
	DeploymentsURL           string              `json:"deployments_url"`
	DownloadsURL             string              `json:"downloads_url"`
	EventsURL                string              `json:"events_url"`
	ForksURL                 string              `json:"forks_url"`
	GitCommitsURL            string              `json:"git_commits_url"`
	GitRefsURL               string              `json:"git_refs_url"`
	GitTagsURL               string              `json:"git_tags_url"`
	GitURL                   string              `json:"git_url"`
	IssueCommentURL          string              `json:"issue_comment_url"`
	IssueEventsURL           string              `json:"issue_events_url"`
	IssuesURL                string              `json:"issues_url"`
	KeysURL                  string              `json:"keys_url"`
	LabelsURL                string              `json:"labels_url"`
	LanguagesURL             string              `json:"languages_url"`
	MergesURL                string              `json:"merges_url"`
	MilestonesURL            string              `json:"milestones_url"`
	NotificationsURL         string              `json:"notifications_url"`
	PullsURL                 string              `json:"pulls_url"`
	ReleasesURL              string              `json:"releases_url"`
	SSHURL                   string              `json:"ssh_url"`
	StargazersURL            string              `json:"stargazers_url"`
	StatusesURL              string              `json:"statuses_url"`
	SubscribersURL           string              `json:"subscribers_url"`
	SubscriptionURL          string              `json:"subscription_url"`
	TagsURL                  string              `json:"tags_url"`
	TeamsURL                 string              `json:"teams_url"`
	TreesURL                 string              `json:"trees_url"`
	CloneURL                 string              `json:"clone_url"`
	MirrorURL                *string             `json:"mirror_url"`
	HooksURL                 string              `json:"hooks_url"`
	SVNURL                   string              `json:"svn_url"`
	Homepage                 *string             `json:"homepage"`
	Language                 *string             `json:"language"`
	ForksCount               int                 `json:"forks_count"`
	StargazersCount          int                 `json:"stargazers_count"`
	WatchersCount            int                 `json:"watchers_count"`
	Size                     int                 `json:"size"`
	DefaultBranch            string              `json:"default_branch"`
	OpenIssuesCount          int                 `json:"open_issues_count"`
	IsTemplate               bool                `json:"is_template"`
	Topics                   []string            `json:"topics"`
	HasIssues                bool                `json:"has_issues"`
	HasProjects              bool                `json:"has_projects"`
	HasWiki                  bool                `json:"has_wiki"`
	HasPages                 bool                `json:"has_pages"`
	HasDownloads             bool                `json:"has_downloads"`
	HasDiscussions           bool                `json:"has_discussions"`
	Archived                 bool                `json:"archived"`
	Disabled                 bool                `json:"disabled"`
	Visibility               string              `json:"visibility"`
	PushedAt                 string              `json:"pushed_at"`
	CreatedAt                string              `json:"created_at"`
	UpdatedAt                string              `json:"updated_at"`
	Permissions              repoPermissionsJSON `json:"permissions"`
	AllowRebaseMerge         bool                `json:"allow_rebase_merge"`
	TempCloneToken           string              `json:"temp_clone_token"`
	AllowSquashMerge         bool                `json:"allow_squash_merge"`
	AllowAutoMerge           bool                `json:"allow_auto_merge"`
	DeleteBranchOnMerge      bool                `json:"delete_branch_on_merge"`
	AllowMergeCommit         bool                `json:"allow_merge_commit"`
	AllowForking             bool                `json:"allow_forking"`
	WebCommitSignoffRequired bool                `json:"web_commit_signoff_required"`
	License                  *struct{}           `json:"license"`
	Forks                    int                 `json:"forks"`
	OpenIssues               int                 `json:"open_issues"`
	Watchers                 int                 `json:"watchers"`
}

func (s *Server) repoJSON(rs *repoState) repoJSON {
	u := s.apiBase() + "/repos/" + rs.fullName()
	html := s.srv.URL + "/" + rs.fullName()
	host := strings.TrimPrefix(strings.TrimPrefix(s.srv.URL, "http://"), "https://")
	visibility := "private"
	if !rs.private {
		visibility = "public"
	}
	open := 0
	for _, is := range rs.issues {
		if is.state == "open" {
			open++
		}
	}
	return repoJSON{
		ID:               rs.id,
		NodeID:           nodeID("Repository", rs.id),
		Name:             rs.name,
		FullName:         rs.fullName(),
		Owner:            s.userJSON(rs.owner),
		Private:          rs.private,
		HTMLURL:          html,
		Fork:             false,
		URL:              u,
		ArchiveURL:       u + "/{archive_format}{/ref}",
		AssigneesURL:     u + "/assignees{/user}",
		BlobsURL:         u + "/git/blobs{/sha}",
		BranchesURL:      u + "/branches{/branch}",
		CollaboratorsURL: u + "/collaborators{/collaborator}",
		CommentsURL:      u + "/comments{/number}",
		CommitsURL:       u + "/commits{/sha}",
		CompareURL:       u + "/compare/{base}...{head}",
		ContentsURL:      u + "/contents/{+path}",
		ContributorsURL:  u + "/contributors",
		DeploymentsURL:   u + "/deployments",
		DownloadsURL:     u + "/downloads",
		EventsURL:        u + "/events",
		ForksURL:         u + "/forks",
		GitCommitsURL:    u + "/git/commits{/sha}",
		GitRefsURL:       u + "/git/refs{/sha}",
		GitTagsURL:       u + "/git/tags{/sha}",
		GitURL:           "git://" + host + "/" + rs.fullName() + ".git",
		IssueCommentURL:  u + "/issues/comments{/number}",
		IssueEventsURL:   u + "/issues/events{/number}",
		IssuesURL:        u + "/issues{/number}",
		KeysURL:          u + "/keys{/key_id}",
		LabelsURL:        u + "/labels{/name}",
		LanguagesURL:     u + "/languages",
		MergesURL:        u + "/merges",
		MilestonesURL:    u + "/milestones{/number}",
		NotificationsURL: u + "/notifications{?since,all,participating}",
		PullsURL:         u + "/pulls{/number}",
		ReleasesURL:      u + "/releases{/id}",
		SSHURL:           "git@" + host + ":" + rs.fullName() + ".git",
		StargazersURL:    u + "/stargazers",
		StatusesURL:      u + "/statuses/{sha}",
		SubscribersURL:   u + "/subscribers",
		SubscriptionURL:  u + "/subscription",
		TagsURL:          u + "/tags",
		TeamsURL:         u + "/teams",
		TreesURL:         u + "/git/trees{/sha}",
		CloneURL:         html + ".git",
		HooksURL:         u + "/hooks",
		SVNURL:           html,
		DefaultBranch:    rs.defaultBranch,
		OpenIssuesCount:  open,
		Topics:           []string{},
		HasIssues:        !rs.issuesDisabled,
		HasProjects:      true,
		HasWiki:          false,
		HasDownloads:     true,
		Visibility:       visibility,
		PushedAt:         ts(rs.pushedAt),
		CreatedAt:        ts(rs.createdAt),
		UpdatedAt:        ts(rs.pushedAt),
		// An installation token may read, write and administer nothing more than its permissions.
		Permissions:         repoPermissionsJSON{Admin: false, Maintain: false, Push: true, Triage: true, Pull: true},
		AllowRebaseMerge:    rs.mergeMethods["rebase"],
		AllowSquashMerge:    rs.mergeMethods["squash"],
		AllowMergeCommit:    rs.mergeMethods["merge"],
		DeleteBranchOnMerge: rs.deleteBranchOnMerge,
		AllowForking:        true,
		OpenIssues:          open,
	}
}

type labelJSON struct {
	ID          int64   `json:"id"`
	NodeID      string  `json:"node_id"`
	URL         string  `json:"url"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Color       string  `json:"color"`
	Default     bool    `json:"default"`
}

func (s *Server) labelJSON(rs *repoState, l *labelState) labelJSON {
	var desc *string
	if l.description != "" {
		d := l.description
		desc = &d
	}
	return labelJSON{
		ID:          l.id,
		NodeID:      nodeID("Label", l.id),
		URL:         s.apiBase() + "/repos/" + rs.fullName() + "/labels/" + pathEscape(l.name),
		Name:        l.name,
		Description: desc,
		Color:       l.color,
		Default:     l.isDefault,
	}
}

type reactionsJSON struct {
	URL        string `json:"url"`
	TotalCount int    `json:"total_count"`
	PlusOne    int    `json:"+1"`
	MinusOne   int    `json:"-1"`
	Laugh      int    `json:"laugh"`
	Hooray     int    `json:"hooray"`
	Confused   int    `json:"confused"`
	Heart      int    `json:"heart"`
	Rocket     int    `json:"rocket"`
	Eyes       int    `json:"eyes"`
}

func reactionRollup(url string, list []*reaction) reactionsJSON {
	r := reactionsJSON{URL: url, TotalCount: len(list)}
	for _, x := range list {
		switch x.content {
		case "+1":
			r.PlusOne++
		case "-1":
			r.MinusOne++
		case "laugh":
			r.Laugh++
		case "hooray":
			r.Hooray++
		case "confused":
			r.Confused++
		case "heart":
			r.Heart++
		case "rocket":
			r.Rocket++
		case "eyes":
			r.Eyes++
		}
	}
	return r
}
