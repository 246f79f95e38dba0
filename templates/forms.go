// Package templates holds the files daytwo embeds.
package templates

import "embed"

// IssueForms are daytwo's generic GitHub issue forms, under issue-forms/, with free-text
// service and environment fields; the server reads submitted issues with them. They are
// generated from the command registry (go test ./internal/command -run GenericIssueForms
// -update); `daytwo init` and /init write forms offering a repository's own services and
// environments instead. Each carries the labels daytwo and action/<verb>.
//
//go:embed issue-forms/*.yml
var IssueForms embed.FS

// IssueFormsDir is the directory of IssueForms holding the forms.
const IssueFormsDir = "issue-forms"

// Scaffold holds the templates /new-service writes a service from, as Go text/templates
// named <file>.tmpl: base/ for the service's base, overlay/ for each environment's overlay,
// and catalog-info.yaml.tmpl. A repository overrides or adds templates under
// .github/daytwo/scaffold/ with the same layout.
//
//go:embed scaffold
var Scaffold embed.FS

// ScaffoldDir is the directory of Scaffold holding the templates.
const ScaffoldDir = "scaffold"
