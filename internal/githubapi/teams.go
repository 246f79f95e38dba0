package githubapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// TeamExists reports whether the organization org has a team with the slug, as the
// installation sees it (GET /orgs/{org}/teams/{team_slug}): GitHub answers 404 for a
// team that does not exist and for the teams of an organization the app is not installed
// on.
func (r Repo) TeamExists(ctx context.Context, org, slug string) (bool, error) {
	if org == "" || slug == "" {
		return false, fmt.Errorf("team %q/%q: organization and team slug are both required", org, slug)
	}
	_, _, err := r.Client.Teams.GetTeamBySlug(ctx, url.PathEscape(org), url.PathEscape(slug))
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	case statusOf(err) == http.StatusForbidden:
		return false, fmt.Errorf("team %s/%s: the app needs the organization permission Members (read): %w", org, slug, err)
	}
	return false, fmt.Errorf("team %s/%s: %w", org, slug, err)
}
