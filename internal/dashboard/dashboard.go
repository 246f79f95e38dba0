// Package dashboard is the day-2 dashboard issue of a GitOps repository: the section daytwo
// writes between its own markers, rendered from facts; the splice that keeps everything
// outside the markers as people wrote it; and the checkboxes, each carrying the command it
// runs in a hidden comment, that people tick. It imports neither GitHub nor Argo CD.
package dashboard

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// The markers around daytwo's section; Start also marks the issue as daytwo's dashboard.
const (
	Start = "<!-- daytwo:dashboard:start -->"
	End   = "<!-- daytwo:dashboard:end -->"
	// Title is the dashboard issue's title.
	Title = "daytwo dashboard"
)

// Labels are the labels of the dashboard issue.
var Labels = []string{"daytwo", "dashboard"}

// Facts are what the dashboard shows of one repository, gathered by the caller.
type Facts struct {
	Envs     []string // in promotion order
	ArgoCD   bool     // Argo CD is configured: cells show sync and health
	Services []Service
	// Promotions are the pending promotions between consecutive environments.
	Promotions []Promotion
	Frozen     []Freeze
	// Problems are what could not be read, one sentence each (plain text).
	Problems []string
}

// Service is one service and its environments, in promotion order.
type Service struct {
	Name string
	Envs []Cell
}

// Cell is one service in one environment.
type Cell struct {
	Env      string
	Deployed bool // false: the service has no overlay there
	Images   []string
	Replicas []string // one per workload: "3", "web=3"; "default" when not set
	Frozen   bool
	// Sync and Health are Argo CD's; LiveErr says why they are unknown.
	Sync, Health, LiveErr string
	PRs                   []Link // open daytwo pull requests
	Incidents             []Link // open incident issues
	Err                   string // why the cell could not be read
}

// Link is an issue or pull request.
type Link struct {
	Number int
	URL    string
}

// Promotion is what promoting Service from From into To would carry: Version (the tag or
// digest of From) replacing Replaces (To's).
type Promotion struct {
	Service, From, To string
	Version, Replaces string
	// PR is the open daytwo pull request already changing To, if any.
	PR *Link
}

// Command is the command the promotion's checkbox runs.
func (p Promotion) Command() string {
	cmd := "/promote " + p.To + " --service " + p.Service
	if p.From != "" {
		cmd += " --from " + p.From
	}
	return cmd
}

// Freeze is a frozen environment and why.
type Freeze struct{ Env, Reason string }

// Command is the command the freeze's checkbox runs.
func (f Freeze) Command() string { return "/unfreeze " + f.Env }

// commandRE is what a checkbox may carry: a verb and words of names, flags and versions.
// Nothing in it can end the HTML comment that holds it or reach beyond its line.
var commandRE = regexp.MustCompile(`^/[a-z][a-z0-9-]*( [A-Za-z0-9][A-Za-z0-9._:@/=+-]*| --[a-z][a-z-]*)*$`)

// boxRE is a checkbox line daytwo wrote: a task-list item ending in the hidden command.
var boxRE = regexp.MustCompile(`^- \[([ xX])\] (.*) <!-- daytwo:do (/[^>]*?) -->$`)

// Render writes the section, markers included, from f.
func Render(f Facts) string {
	var b strings.Builder
	b.WriteString(Start + "\n")
	b.WriteString("## Services\n\n")
	header := []string{"service", "environment", "image", "replicas", "frozen"}
	if f.ArgoCD {
		header = append(header, "sync / health")
	}
	header = append(header, "open pull requests", "open incidents")
	var rows [][]string
	for _, s := range f.Services {
		for _, c := range s.Envs {
			rows = append(rows, cellRow(f.ArgoCD, s.Name, c))
		}
	}
	if len(rows) == 0 {
		b.WriteString("No services are configured.\n")
	} else {
		b.WriteString(markdown.GitHub.Table(header, rows))
	}

	b.WriteString("\n## Pending promotions\n\n")
	n := 0
	for _, p := range f.Promotions {
		line := fmt.Sprintf("promote %s to %s (%s → replaces %s)", markdown.Text(p.Service), markdown.Text(p.To), version(p.Version), version(p.Replaces))
		if p.PR != nil {
			line += fmt.Sprintf(", in progress in %s", prLink(*p.PR))
		}
		if box(&b, line, p.Command()) {
			n++
		}
	}
	if n == 0 {
		b.WriteString("Every environment runs what the one before it runs.\n")
	}

	if len(f.Frozen) > 0 {
		b.WriteString("\n## Frozen environments\n\n")
		for _, fr := range f.Frozen {
			line := "unfreeze " + markdown.Text(fr.Env)
			if r := strings.TrimSpace(fr.Reason); r != "" {
				line += ": " + markdown.Text(r)
			}
			box(&b, line, fr.Command())
		}
	}
	if len(f.Problems) > 0 {
		b.WriteString("\n## Not shown\n\n")
		for _, p := range f.Problems {
			b.WriteString("- " + markdown.Text(p) + "\n")
		}
	}
	b.WriteString("\nTick a box to run its command as you, with your permissions; daytwo answers in a comment here. " +
		"daytwo rewrites only what lies between its markers; write anything else above or below them.\n")
	b.WriteString(End)
	return b.String()
}

// box writes one checkbox line; a command that could break its hidden comment is left out.
func box(b *strings.Builder, label, cmd string) bool {
	if !commandRE.MatchString(cmd) {
		return false
	}
	fmt.Fprintf(b, "- [ ] %s <!-- daytwo:do %s -->\n", label, cmd)
	return true
}

func cellRow(argo bool, service string, c Cell) []string {
	row := []string{markdown.Code(service), markdown.Text(c.Env)}
	switch {
	case c.Err != "":
		row = append(row, "⚠️ "+markdown.Text(c.Err), "", frozen(c.Frozen))
	case !c.Deployed:
		row = append(row, "not deployed", "", frozen(c.Frozen))
	default:
		row = append(row, codes(c.Images), strings.Join(textAll(c.Replicas), ", "), frozen(c.Frozen))
	}
	if argo {
		switch {
		case c.LiveErr != "":
			row = append(row, "⚠️ "+markdown.Text(c.LiveErr))
		case c.Sync != "" || c.Health != "":
			row = append(row, markdown.Text(or(c.Sync, "?")+" / "+or(c.Health, "?")))
		default:
			row = append(row, "")
		}
	}
	return append(row, links(c.PRs), links(c.Incidents))
}

func frozen(f bool) string {
	if f {
		return "🧊 yes"
	}
	return ""
}

func version(v string) string {
	if v == "" {
		return "nothing"
	}
	return markdown.Code(v)
}

func codes(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = markdown.Code(s)
	}
	return strings.Join(out, ", ")
}

func textAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = markdown.Text(s)
	}
	return out
}

func links(ls []Link) string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = prLink(l)
	}
	return strings.Join(out, " ")
}

// prLink links an issue or pull request by its number; the URL is GitHub's own.
func prLink(l Link) string {
	if strings.ContainsAny(l.URL, " ()<>\n") || !strings.HasPrefix(l.URL, "http") {
		return markdown.Code(fmt.Sprintf("#%d", l.Number))
	}
	return fmt.Sprintf("[#%d](%s)", l.Number, l.URL)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// section locates daytwo's section in body: the first Start followed by an End with no
// other Start between them. A lone marker a person typed elsewhere is text like any other.
func section(body string) (start, end int, ok bool) {
	from := 0
	for {
		i := strings.Index(body[from:], Start)
		if i < 0 {
			return 0, 0, false
		}
		i += from
		j := strings.Index(body[i+len(Start):], End)
		if j < 0 {
			return 0, 0, false
		}
		j += i + len(Start)
		if k := strings.Index(body[i+len(Start):j], Start); k < 0 {
			return i, j + len(End), true
		}
		from = i + len(Start)
	}
}

// Has reports whether body holds daytwo's section.
func Has(body string) bool {
	_, _, ok := section(body)
	return ok
}

// Splice puts sec (from Render) into body in place of daytwo's section, keeping
// everything outside the markers byte for byte; without a section, sec goes at the end.
func Splice(body, sec string) string {
	if i, j, ok := section(body); ok {
		return body[:i] + sec + body[j:]
	}
	if body == "" {
		return sec
	}
	sep := "\n\n"
	if strings.HasSuffix(body, "\n") {
		sep = "\n"
	}
	return body + sep + sec
}

// Box is a checkbox of daytwo's section.
type Box struct {
	Command string // the command line it runs: "/promote staging --service checkout"
	Label   string // the markdown it shows
	Ticked  bool
}

// Boxes lists the checkboxes in daytwo's section of body.
func Boxes(body string) []Box {
	i, j, ok := section(body)
	if !ok {
		return nil
	}
	var out []Box
	for _, line := range strings.Split(body[i:j], "\n") {
		m := boxRE.FindStringSubmatch(strings.TrimRight(line, "\r"))
		if m == nil || !commandRE.MatchString(m[3]) || !says(m[2], m[3]) {
			continue
		}
		out = append(out, Box{Command: m[3], Label: m[2], Ticked: m[1] != " "})
	}
	return out
}

// says reports whether a box's label shows what its hidden command does, as Render
// writes it: whoever can edit the issue could hide another command behind a label, for
// someone else to tick. Only the commands Render offers qualify.
func says(label, cmd string) bool {
	w := strings.Fields(cmd)
	switch {
	case len(w) == 6 && w[0] == "/promote" && w[2] == "--service" && w[4] == "--from":
		return strings.HasPrefix(label, fmt.Sprintf("promote %s to %s (", markdown.Text(w[3]), markdown.Text(w[1])))
	case len(w) == 2 && w[0] == "/unfreeze":
		want := "unfreeze " + markdown.Text(w[1])
		return label == want || strings.HasPrefix(label, want+": ")
	}
	return false
}

// Ticked lists the boxes of after's section that a person ticked since before: ticked in
// after, and present but not ticked in before. Each command comes once, in order.
func Ticked(before, after string) []Box {
	was := map[string]bool{} // command → ticked in before
	for _, b := range Boxes(before) {
		was[b.Command] = was[b.Command] || b.Ticked
	}
	seen := map[string]bool{}
	var out []Box
	for _, b := range Boxes(after) {
		ticked, present := was[b.Command]
		if b.Ticked && present && !ticked && !seen[b.Command] {
			seen[b.Command] = true
			out = append(out, b)
		}
	}
	return out
}

// Untick clears the ticks of the boxes carrying cmd in daytwo's section of body, changing
// nothing else; false when none was ticked.
func Untick(body, cmd string) (string, bool) {
	i, j, ok := section(body)
	if !ok {
		return body, false
	}
	lines := strings.SplitAfter(body[i:j], "\n")
	changed := false
	for k, line := range lines {
		content := strings.TrimRight(line, "\r\n")
		m := boxRE.FindStringSubmatch(content)
		if m == nil || m[1] == " " || m[3] != cmd {
			continue
		}
		lines[k] = "- [ ]" + line[len("- [x]"):]
		changed = true
	}
	if !changed {
		return body, false
	}
	return body[:i] + strings.Join(lines, "") + body[j:], true
}
