package setup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// GitHub is where the app is registered: the web site the browser posts the manifest
// to and the APIs the server talks to.
type GitHub struct {
	WebURL   string // https://github.com, or the GitHub Enterprise Server host
	V3APIURL string // REST, with a trailing slash
	V4APIURL string // GraphQL
}

// Enterprise reports whether this is a GitHub Enterprise Server, whose URLs the server
// must be told.
func (g GitHub) Enterprise() bool { return g.WebURL != "https://github.com" }

// GitHubAt derives the URLs from a GitHub Enterprise Server's address ("" is github.com).
// go-githubapp v0.24.1 exports no helper for this; its convention (config_test.go) is
// web = host, v3 = host/api/v3, v4 = host/api/graphql.
func GitHubAt(raw string) (GitHub, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.TrimSuffix(raw, "/") == "https://github.com" {
		return GitHub{WebURL: "https://github.com", V3APIURL: "https://api.github.com/", V4APIURL: "https://api.github.com/graphql"}, nil
	}
	u, err := absoluteURL(raw)
	if err != nil {
		return GitHub{}, fmt.Errorf("--github-url %q: %w (e.g. https://ghe.example.com)", raw, err)
	}
	web := strings.TrimSuffix(u.String(), "/")
	return GitHub{WebURL: web, V3APIURL: web + "/api/v3/", V4APIURL: web + "/api/graphql"}, nil
}

// absoluteURL accepts http(s) URLs with a host and without query or fragment.
func absoluteURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, errors.New("not an absolute http:// or https:// URL")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("names no host")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, errors.New("must not carry a query, fragment or user")
	}
	return u, nil
}

// NewAppURL is where the browser posts the manifest: the personal account's settings, or
// the organization's.
func (g GitHub) NewAppURL(org, state string) string {
	path := "/settings/apps/new"
	if org != "" {
		path = "/organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	return g.WebURL + path + "?state=" + url.QueryEscape(state)
}

// InstallURL is the page that installs the app on repositories.
func (g GitHub) InstallURL(slug string) string {
	return g.WebURL + "/apps/" + url.PathEscape(slug) + "/installations/new"
}

// App is a registered app and its credentials, as the conversion answers.
type App struct {
	ID            int64
	Slug          string
	Name          string
	Owner         string
	HTMLURL       string
	WebhookSecret string
	PEM           string
}

// Convert exchanges the code GitHub redirected with for the app and its credentials
// (POST /app-manifests/{code}/conversions, which takes no authentication).
func (g GitHub) Convert(ctx context.Context, hc *http.Client, code string) (*App, error) {
	client := github.NewClient(hc)
	if g.Enterprise() {
		var err error
		if client, err = client.WithEnterpriseURLs(g.V3APIURL, g.V3APIURL); err != nil {
			return nil, err
		}
	}
	// go-github puts the code into the path as it is.
	cfg, _, err := client.Apps.CompleteAppManifest(ctx, url.PathEscape(code))
	if err != nil {
		return nil, err
	}
	app := &App{ID: cfg.GetID(), Slug: cfg.GetSlug(), Name: cfg.GetName(), Owner: cfg.GetOwner().GetLogin(), HTMLURL: cfg.GetHTMLURL(),
		WebhookSecret: cfg.GetWebhookSecret(), PEM: cfg.GetPEM()}
	switch {
	case app.ID <= 0 || app.Slug == "":
		return nil, errors.New("GitHub's answer names no app id or slug")
	case app.WebhookSecret == "":
		return nil, errors.New("GitHub's answer carries no webhook secret")
	case app.PEM == "":
		return nil, errors.New("GitHub's answer carries no private key")
	}
	return app, nil
}
