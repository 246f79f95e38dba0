package templates

import "embed"

// PR holds the templates of the pull requests daytwo opens, executed by the planner with
// text/template: title.tmpl (one line), body.md.tmpl (markdown ending in the hidden
// metadata comment) and commit.tmpl (subject, body, trailers).
//
//go:embed pr/*.tmpl
var PR embed.FS

// Template names in PR, as text/template's ParseFS names them.
const (
	PRTitle  = "title.tmpl"
	PRBody   = "body.md.tmpl"
	PRCommit = "commit.tmpl"
)
