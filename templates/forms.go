// Package templates holds the files daytwo embeds.
package templates

import "embed"

// IssueForms are daytwo's GitHub issue forms, under issue-forms/: copy them into a GitOps
// repository's .github/ISSUE_TEMPLATE/. Each carries the labels daytwo and action/<verb>.
//
//go:embed issue-forms/*.yml
var IssueForms embed.FS

// IssueFormsDir is the directory of IssueForms holding the forms.
const IssueFormsDir = "issue-forms"
