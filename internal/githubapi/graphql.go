package githubapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// GraphQL sends documents to GitHub's GraphQL API with an installation's HTTP client, so
// the token, retries, logging and metrics of the REST client apply. daytwo builds its
// documents at run time (one alias per file, label or reviewer it needs), which the
// struct-derived queries of githubv4 cannot express; this is the small transport they need.
type GraphQL struct {
	http *http.Client
	url  string
}

// NewGraphQL talks to endpoint (go-githubapp's v4_api_url) with client's HTTP client. An
// empty endpoint is derived from the REST base URL: https://api.github.com/ →
// https://api.github.com/graphql, and GitHub Enterprise's https://host/api/v3/ →
// https://host/api/graphql.
func NewGraphQL(client *gh.Client, endpoint string) *GraphQL {
	if endpoint != "" {
		return &GraphQL{http: client.Client(), url: endpoint}
	}
	u := *client.BaseURL
	if p, ok := strings.CutSuffix(u.Path, "/api/v3/"); ok {
		u.Path = p + "/api/graphql"
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	}
	return &GraphQL{http: client.Client(), url: u.String()}
}

// GraphQLError is one of the "errors" of a GraphQL answer.
type GraphQLError struct {
	Type    string `json:"type"` // NOT_FOUND, FORBIDDEN, UNPROCESSABLE, STALE_DATA, …
	Path    []any  `json:"path"`
	Message string `json:"message"`
}

func (e *GraphQLError) Error() string { return e.Message }

// GraphQLErrors are the field errors of an answer that also carried data: the fields they
// name are null, the rest is valid.
type GraphQLErrors []GraphQLError

func (e GraphQLErrors) Error() string {
	msgs := make([]string, len(e))
	for i, x := range e {
		msgs[i] = x.Message
		if len(x.Path) > 0 {
			msgs[i] = fmt.Sprint(x.Path...) + ": " + x.Message
		}
	}
	return "GitHub GraphQL: " + strings.Join(msgs, "; ")
}

// At returns the error of the field whose path starts with the given alias, if any.
func (e GraphQLErrors) At(alias string) *GraphQLError {
	for i := range e {
		if len(e[i].Path) > 0 && e[i].Path[0] == alias {
			return &e[i]
		}
	}
	return nil
}

type repeatableKey struct{}

// repeatableCtx marks a GraphQL request as safe to send twice (a query, or a mutation
// guarded by compare-and-swap), so Retry may repeat it after a 5xx.
func repeatableCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, repeatableKey{}, true)
}

// Do sends one document and decodes "data" into out. An answer without data (the document
// was refused, or the request failed) is an error; field errors next to data come back as
// GraphQLErrors for the caller to judge field by field.
func (g *GraphQL) Do(ctx context.Context, query string, vars map[string]any, out any) (GraphQLErrors, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, fmt.Errorf("GitHub GraphQL: encode the request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("GitHub GraphQL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := g.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GitHub GraphQL: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GitHub GraphQL: read the answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, &GraphQLHTTPError{Status: res.StatusCode, Body: string(raw[:min(len(raw), 512)])}
	}
	var envelope struct {
		Data   json.RawMessage `json:"data"`
		Errors GraphQLErrors   `json:"errors"`
	}
	if err := json.Unmarshal(raw, &envelope); err != nil {
		return nil, fmt.Errorf("GitHub GraphQL: decode the answer: %w", err)
	}
	if len(envelope.Data) == 0 || string(envelope.Data) == "null" {
		if len(envelope.Errors) == 0 {
			return nil, fmt.Errorf("GitHub GraphQL: an answer with neither data nor errors")
		}
		return nil, envelope.Errors
	}
	if err := json.Unmarshal(envelope.Data, out); err != nil {
		return nil, fmt.Errorf("GitHub GraphQL: decode the data: %w", err)
	}
	return envelope.Errors, nil
}

// GraphQLHTTPError is a GraphQL request answered with a status other than 200.
type GraphQLHTTPError struct {
	Status int
	Body   string
}

func (e *GraphQLHTTPError) Error() string {
	return fmt.Sprintf("GitHub GraphQL answered %d: %s", e.Status, e.Body)
}
