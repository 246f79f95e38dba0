package ops

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// A step GitHub refused is told on the status comment as one line: what did not happen,
// GitHub's own words (shown as text: GitHub's messages may hold anything), and what to do.
// People and teams it concerns are named in code, so the line mentions no one.

// gitHubSaid quotes what GitHub answered, or says it did not answer, as the end of a
// sentence.
func gitHubSaid(ref *githubapi.Refusal) string {
	if ref.Message == "" {
		return "GitHub did not answer."
	}
	msg := markdown.Text(ref.Message)
	if strings.HasSuffix(msg, ".") {
		return "GitHub answered “" + msg + "”"
	}
	return "GitHub answered “" + msg + "”."
}

// codes is names as code spans: `a`, `b`.
func codes(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = markdown.Code(n)
	}
	return strings.Join(out, ", ")
}

// grantText asks an owner of the installation's account to grant daytwo a permission.
func grantText(repo, permission string) string {
	owner, _, _ := strings.Cut(repo, "/")
	return fmt.Sprintf("an owner of %s must grant daytwo the %s permission (the app's installation settings list the permissions it asks for)", markdown.Text(owner), permission)
}

// refusalText is the line for a step GitHub refused about pull request pr of repo.
func refusalText(repo string, pr prRef, ref *githubapi.Refusal) string {
	said := gitHubSaid(ref)
	shown := markdown.Text(repo)
	switch ref.Step {
	case githubapi.StepReviews:
		what := "⚠️ No review was requested from " + codes(ref.Names) + ": " + said
		if !ref.NotCollaborator() {
			return what + fmt.Sprintf(" Ask for the review on %s by hand.", pr)
		}
		teams := 0
		for _, n := range ref.Names {
			if strings.Contains(n, "/") {
				teams++
			}
		}
		give := "give the team read access (or more) to " + shown
		switch {
		case teams > 0 && teams < len(ref.Names):
			give = "give the teams access to " + shown + " and make the people collaborators"
		case teams == 0:
			give = "make them collaborators of " + shown
		case teams > 1:
			give = "give the teams read access (or more) to " + shown
		}
		return what + fmt.Sprintf(" To have them review, %s and ask for the review on %s, or change `.github/CODEOWNERS`.", give, pr)
	case githubapi.StepLabels:
		what := fmt.Sprintf("⚠️ %s was not labelled%s: %s", pr, spaced(codes(ref.Names)), said)
		if a := labelAdvice(repo, ref); a != "" {
			return what + " " + a
		}
		return what + " Add the labels by hand."
	case githubapi.StepCheck:
		what := fmt.Sprintf("⚠️ The `daytwo/render` check was not published on %s: %s The change renders all the same (daytwo checked it),", pr, said)
		if ref.Forbidden() {
			return what + " but " + grantText(repo, "Checks (write)") + "; until then, a branch rule requiring the check blocks the merge."
		}
		return what + " but a branch rule requiring the check blocks the merge until it is there: ask again, or merge by hand."
	case githubapi.StepDescription:
		return fmt.Sprintf("⚠️ The description of %s was not updated to list this request: %s The pull request carries it all the same (its commit says so); the next request added to it writes the list again.", pr, said)
	case githubapi.StepMerge:
		what := fmt.Sprintf("⚠️ daytwo could not merge %s: %s", pr, said)
		switch {
		case ref.Forbidden():
			return what + " Merge it by hand, or " + grantText(repo, "Contents (write)") + "."
		case ref.Status == http.StatusMethodNotAllowed && strings.Contains(ref.Message, "merges are not allowed"):
			return what + " daytwo squashes a change into one commit that keeps every request's trailers: allow squash merging in the settings of " + shown + ", or merge it by hand."
		}
		return what + " Merge it by hand once it is ready."
	case githubapi.StepIssue:
		what := fmt.Sprintf("⚠️ The break-glass review issue was not opened: %s Review %s after the fact all the same", said, pr)
		switch {
		case ref.Status == http.StatusGone:
			return what + "; to have the issue next time, turn issues on in the settings of " + shown + "."
		case ref.Forbidden():
			return what + "; for the issue, " + grantText(repo, "Issues (write)") + "."
		}
		return what + "."
	case githubapi.StepRolloutRun:
		what := "⚠️ The `daytwo/rollout` check was not published on the merge commit: " + said
		if ref.Forbidden() {
			return what + " For it, " + grantText(repo, "Checks (write)") + "."
		}
		return what
	}
	return fmt.Sprintf("⚠️ %s on %s: %s", markdown.Text(ref.Step), pr, said)
}

// labelAdvice is what to do about labels GitHub refused, when something can be said.
func labelAdvice(repo string, ref *githubapi.Refusal) string {
	switch {
	case ref.Step != githubapi.StepLabels:
	case ref.Forbidden():
		return upperFirst(grantText(repo, "Issues (write)")) + "."
	case slices.ContainsFunc(ref.Names, func(l string) bool { return utf8.RuneCountInString(l) > 50 }):
		return "GitHub takes label names of at most 50 characters: give the environment a shorter name in `.github/daytwo.yml`."
	}
	return ""
}

// prRef is a pull request as a status line names it: a link.
type prRef struct {
	Number int
	URL    string
}

func (p prRef) String() string {
	if p.URL == "" {
		return fmt.Sprintf("#%d", p.Number)
	}
	return fmt.Sprintf("[#%d](%s)", p.Number, p.URL)
}

// spaced is s after a space, or "" for "".
func spaced(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// groupRefusals are the refused review requests grouped by what GitHub said, so that one
// line names every reviewer refused for the same reason; the others come back as they are.
func groupRefusals(refs []*githubapi.Refusal) []*githubapi.Refusal {
	var out []*githubapi.Refusal
	byMsg := map[string]*githubapi.Refusal{}
	for _, r := range refs {
		if r.Step != githubapi.StepReviews {
			out = append(out, r)
			continue
		}
		key := r.Type + "\x00" + fmt.Sprint(r.Status) + "\x00" + r.Message
		if g, ok := byMsg[key]; ok {
			g.Names = append(g.Names, r.Names...)
			continue
		}
		g := *r
		g.Names = slices.Clone(r.Names)
		byMsg[key] = &g
		out = append(out, &g)
	}
	return out
}

// refusedReviewers are the reviewers whose review GitHub did not request.
func refusedReviewers(refs []*githubapi.Refusal) []string {
	var out []string
	for _, r := range refs {
		if r.Step == githubapi.StepReviews {
			out = append(out, r.Names...)
		}
	}
	return out
}
