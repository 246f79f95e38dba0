package githubapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Steps daytwo takes once a change's pull request exists, or beside it.
const (
	StepLabels      = "labels"
	StepReviews     = "reviews"
	StepCheck       = "check"       // the render check run on the pull request's head
	StepDescription = "description" // a stack's title and description
	StepMerge       = "merge"
	StepIssue       = "issue" // the break-glass review issue
	StepRolloutRun  = "rollout check"
)

// Refusal is a step GitHub did not carry out: which, whom or what it concerned, and
// GitHub's own words, for the asker to read. A Message of "" means GitHub did not answer.
type Refusal struct {
	Step    string
	Names   []string // the labels, or the reviewers ("user", "org/team"), concerned
	Status  int      // the HTTP status of a REST answer; 0 for GraphQL or no answer
	Type    string   // the GraphQL error type (FORBIDDEN, UNPROCESSABLE, …)
	Message string
	Err     error
}

func (r *Refusal) Error() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("%s: %v", r.Step, r.Err)
	case r.Message == "":
		return r.Step + ": GitHub did not answer"
	}
	return fmt.Sprintf("%s: GitHub refused: %s", r.Step, r.Message)
}

func (r *Refusal) Unwrap() error { return r.Err }

// Forbidden reports whether the installation lacks a permission the step needs.
func (r *Refusal) Forbidden() bool { return r.Status == http.StatusForbidden || r.Type == "FORBIDDEN" }

// NotCollaborator reports whether GitHub refused a review request because a reviewer has
// no access to the repository (a person not a collaborator, a team without a role).
func (r *Refusal) NotCollaborator() bool {
	return strings.HasPrefix(r.Message, "Reviews may only be requested from collaborators")
}

// RefusalOf is err as a Refusal of step about names: GitHub's REST error answer or
// GraphQL field error when err holds one, else one GitHub did not answer. nil for nil.
func RefusalOf(step string, names []string, err error) *Refusal {
	if err == nil {
		return nil
	}
	var have *Refusal
	if errors.As(err, &have) {
		return have
	}
	ref := &Refusal{Step: step, Names: names, Err: err}
	var er *gh.ErrorResponse
	var ge *GraphQLError
	switch {
	case errors.As(err, &er):
		ref.Message = describeResponse(er)
		if er.Response != nil {
			ref.Status = er.Response.StatusCode
		}
	case errors.As(err, &ge):
		ref.Type, ref.Message = ge.Type, ge.Message
	}
	return ref
}

// fieldRefusal is a GraphQL field's error as a Refusal.
func fieldRefusal(step string, names []string, e *GraphQLError) *Refusal {
	return &Refusal{Step: step, Names: names, Type: e.Type, Message: e.Message, Err: e}
}

// describeResponse is GitHub's message with the details a validation failure lists.
func describeResponse(er *gh.ErrorResponse) string {
	var details []string
	for _, e := range er.Errors {
		switch {
		case e.Message != "":
			details = append(details, e.Message)
		case e.Resource != "" || e.Field != "" || e.Code != "":
			details = append(details, strings.TrimSpace(strings.Join([]string{e.Resource, e.Field, e.Code}, " ")))
		}
	}
	if len(details) == 0 {
		return er.Message
	}
	return er.Message + ": " + strings.Join(details, "; ")
}
