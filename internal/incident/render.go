package incident

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// Report is everything an incident issue says.
type Report struct {
	Service, Env, App string
	Since, Now        time.Time
	State             Observation
	// RepoURL is the GitOps repository's web address, for links to commits; "" for none.
	RepoURL string
	// Owner is the catalog's owner of the service ("" when it has no catalog entry), and
	// Team the GitHub team it maps to ("org/slug"), set only when the team exists.
	Owner, Team string
	// Changes are the last day-2 changes to the overlay, newest first.
	Changes []Change
	// Summary is an optional plain-language summary written from Facts; "" for none.
	Summary string
}

// Change is one commit to the overlay: a day-2 change daytwo made (Command and Requester
// from its trailers), or one made without daytwo (Command empty; Subject is its message's
// first line).
type Change struct {
	When      time.Time
	SHA       string
	Command   string
	Requester string
	PR        int
	Subject   string
}

// LikelyCauseWithin is how shortly before the trouble a change must come to be marked as
// its likely cause.
const LikelyCauseWithin = 30 * time.Minute

// LikelyCause is the index in r.Changes of the change marked as the likely cause: the most
// recent, when it came within LikelyCauseWithin before the trouble began; -1 for none.
func (r Report) LikelyCause() int {
	if len(r.Changes) == 0 {
		return -1
	}
	c := r.Changes[0]
	if d := r.Since.Sub(c.When); d >= -time.Minute && d <= LikelyCauseWithin {
		return 0
	}
	return -1
}

// Fact is one group of facts daytwo gathered, as an optional summary is written from.
type Fact struct {
	Title string
	Lines []string
}

// Facts are the report's facts, in plain text: what is wrong, since when, who owns the
// service, what changed.
func (r Report) Facts() []Fact {
	s := r.State
	wrong := Fact{Title: "What is wrong", Lines: []string{
		fmt.Sprintf("Argo CD application %s: health %s, sync status %s at revision %s", r.App, orUnknown(s.Health), orUnknown(s.Sync), orUnknown(clip.SHA(s.Revision))),
	}}
	if m := strings.TrimSpace(s.Message); m != "" {
		wrong.Lines = append(wrong.Lines, "Argo CD says: "+oneLine(m))
	}
	for _, res := range s.Resources {
		wrong.Lines = append(wrong.Lines, fmt.Sprintf("%s %s: %s", resourceName(res), res.Health, oneLine(res.Message)))
	}
	facts := []Fact{wrong, {Title: "Since", Lines: []string{fmt.Sprintf("%s (%s)", stamp(r.Since), duration(r.Now.Sub(r.Since)))}}}
	if r.Owner != "" {
		owner := Fact{Title: "Owner", Lines: []string{r.Owner}}
		if r.Team != "" {
			owner.Lines = append(owner.Lines, "GitHub team "+r.Team)
		}
		facts = append(facts, owner)
	}
	changes := Fact{Title: "Last changes to the overlay"}
	cause := r.LikelyCause()
	for i, c := range r.Changes {
		line := fmt.Sprintf("%s %s by %s (%s)", stamp(c.When), c.Command, c.Requester, clip.SHA(c.SHA))
		if c.Command == "" {
			line = fmt.Sprintf("%s a commit not made through daytwo: %s (%s)", stamp(c.When), oneLine(c.Subject), clip.SHA(c.SHA))
		}
		if i == cause {
			line += " — likely cause"
		}
		changes.Lines = append(changes.Lines, line)
	}
	if len(changes.Lines) > 0 {
		facts = append(facts, changes)
	}
	return facts
}

// Replies are the commands a person can reply with in the issue: its labels name the
// service and environment, so none needs --service or --env.
var Replies = []struct{ Command, Does string }{
	{"/rollback", "undoes the last day-2 change of the image"},
	{"/restart", "restarts the workload"},
	{"/sync", "asks Argo CD to sync the app to what Git holds"},
}

// Mark is the hidden line of an incident issue's body that names its app, so that a
// restarted daytwo or another replica finds the issue.
func Mark(service, env, app string) string {
	return fmt.Sprintf("<!-- daytwo:incident service=%s env=%s app=%s -->", service, env, app)
}

var markRE = regexp.MustCompile(`<!-- daytwo:incident service=(\S+) env=(\S+) app=(\S+) -->`)

// ParseMark reads the mark of an incident issue's body.
func ParseMark(body string) (service, env, app string, ok bool) {
	m := markRE.FindStringSubmatch(body)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}

// Labels are an incident issue's labels: the target's, which commands replied in the
// issue resolve service and environment from.
func Labels(service, env string) []string {
	return []string{"daytwo", "incident", "service/" + service, "env/" + env}
}

// Title is the title.
func Title(r Report) string {
	return fmt.Sprintf("Incident: %s in %s is %s", r.Service, r.Env, problem(r.State))
}

func problem(s Observation) string {
	switch {
	case s.Health == "Degraded" || s.Health == "Missing":
		if s.Sync == "OutOfSync" {
			return s.Health + " and OutOfSync"
		}
		return s.Health
	case s.Sync == "OutOfSync":
		return "OutOfSync"
	}
	return orUnknown(s.Health)
}

// maxResources bounds the list of unhealthy resources.
const maxResources = 20

// Body is the body: the summary when there is one, then what is wrong, since
// when, who owns the service, what changed lately and the replies that help; the mark
// last. Text from Argo CD and the repository is escaped.
func Body(r Report) string {
	var b strings.Builder
	s := r.State
	fmt.Fprintf(&b, "🚨 %s in %s has been %s since %s (%s), and no daytwo change for it is in flight.\n\n",
		markdown.Code(r.Service), markdown.Code(r.Env), problem(s), stamp(r.Since), duration(r.Now.Sub(r.Since)))
	if sum := strings.TrimSpace(r.Summary); sum != "" {
		b.WriteString("### Summary\n\n")
		b.WriteString(markdown.Text(sum))
		b.WriteString("\n\n_Written by a language model from the facts below only; check it against them._\n\n")
	}

	b.WriteString("### What is wrong\n\n")
	fmt.Fprintf(&b, "Argo CD application %s: health **%s**, sync status **%s**", markdown.Code(r.App), markdown.Text(orUnknown(s.Health)), markdown.Text(orUnknown(s.Sync)))
	if s.Revision != "" {
		fmt.Fprintf(&b, " at %s", revision(r.RepoURL, s.Revision))
	}
	b.WriteString(".\n")
	if m := strings.TrimSpace(s.Message); m != "" {
		fmt.Fprintf(&b, "\nArgo CD says: %s\n", markdown.Text(m))
	}
	if len(s.Resources) > 0 {
		b.WriteString("\n| resource | health | message |\n|---|---|---|\n")
		for i, res := range s.Resources {
			if i == maxResources {
				fmt.Fprintf(&b, "| … and %d more | | |\n", len(s.Resources)-i)
				break
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", markdown.Cell(markdown.Code(resourceName(res))), markdown.Cell(markdown.Text(res.Health)), markdown.Cell(markdown.Text(res.Message)))
		}
	}

	b.WriteString("\n### Owner\n\n")
	switch {
	case r.Owner == "":
		b.WriteString("The service has no owner in its catalog entry.\n")
	case r.Team != "":
		fmt.Fprintf(&b, "%s (catalog-info), team @%s.\n", markdown.Code(r.Owner), r.Team)
	default:
		fmt.Fprintf(&b, "%s (catalog-info).\n", markdown.Code(r.Owner))
	}

	b.WriteString("\n### Last changes to the overlay\n\n")
	if len(r.Changes) == 0 {
		fmt.Fprintf(&b, "No commit changed the overlay of %s in %s lately: the trouble came from elsewhere (a shared base, the cluster, a dependency).\n", markdown.Code(r.Service), markdown.Code(r.Env))
	}
	cause := r.LikelyCause()
	for i, c := range r.Changes {
		if c.Command == "" {
			fmt.Fprintf(&b, "- %s a commit not made through daytwo, %s: %s", stamp(c.When), revision(r.RepoURL, c.SHA), markdown.Text(c.Subject))
		} else {
			fmt.Fprintf(&b, "- %s %s by %s, %s", stamp(c.When), markdown.Code(c.Command), markdown.Code(c.Requester), revision(r.RepoURL, c.SHA))
		}
		if c.PR > 0 {
			fmt.Fprintf(&b, " (PR %s)", prLink(r.RepoURL, c.PR))
		}
		if i == cause {
			fmt.Fprintf(&b, " — **likely cause**: %s before the trouble began", duration(max(r.Since.Sub(c.When), 0)))
		}
		b.WriteString("\n")
	}

	b.WriteString("\n### Replies that help\n\nReply in this issue with one of these; its labels name the service and environment.\n\n")
	for _, rep := range Replies {
		fmt.Fprintf(&b, "- `%s` %s\n", rep.Command, rep.Does)
	}
	b.WriteString("\ndaytwo updates this issue while the trouble lasts, and closes it once the app is Healthy and Synced again.\n\n")
	b.WriteString(Mark(r.Service, r.Env, r.App))
	b.WriteString("\n")
	return b.String()
}

// Closing is the comment that ends the incident: the app recovered, and how long the
// trouble lasted.
func Closing(r Report, until time.Time) string {
	return fmt.Sprintf("✅ %s is %s and %s again since %s. The incident lasted %s (from %s).\n",
		markdown.Code(r.App), markdown.Text(orUnknown(r.State.Health)), markdown.Text(orUnknown(r.State.Sync)), stamp(until), duration(until.Sub(r.Since)), stamp(r.Since))
}

// Reopened is the comment on an issue opened again: the trouble is back.
func Reopened(r Report) string {
	return fmt.Sprintf("🚨 %s is %s again since %s; the description is up to date.\n", markdown.Code(r.App), problem(r.State), stamp(r.Since))
}

func resourceName(r Resource) string {
	name := r.Kind + "/" + r.Name
	if r.Namespace != "" {
		name = r.Namespace + "/" + name
	}
	return name
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

func revision(repoURL, rev string) string {
	if commitRE.MatchString(rev) && repoURL != "" {
		return fmt.Sprintf("[%s](%s/commit/%s)", markdown.Code(clip.SHA(rev)), repoURL, rev)
	}
	return markdown.Code(clip.SHA(rev))
}

func prLink(repoURL string, n int) string {
	if repoURL == "" {
		return fmt.Sprintf("`#%d`", n)
	}
	return fmt.Sprintf("[#%d](%s/pull/%d)", n, repoURL, n)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// duration is d rounded for people: seconds under a minute, minutes under a day.
func duration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
