package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// Live is what Argo CD reports for one environment, filled by the caller.
type Live struct {
	App, Sync, Health, Revision string
	Images                      []string
	LastSynced                  time.Time
	Err                         string // why the live state is unknown
}

// PRRef is an open change pull request.
type PRRef struct {
	Number int
	URL    string
}

// EnvStatus is one environment of a service: desired, live and pending.
type EnvStatus struct {
	Env     string
	Desired *Desired
	Live    *Live // nil: Argo CD is not configured
	OpenPRs []PRRef
}

// StatusView is the answer to /status for one service.
type StatusView struct {
	Service string
	Catalog *Catalog
	Envs    []EnvStatus // in promotion order
}

// maxComment keeps an answer within GitHub's 65,536-character comment limit.
const maxComment = 60000

// Markdown renders the view: who owns the service, a table of the environments and a
// mermaid diagram of the promotion path.
func (v StatusView) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", markdown.Text(v.Service))
	if c := v.Catalog; c != nil {
		var facts []string
		if c.Description != "" {
			facts = append(facts, markdown.Text(c.Description))
		}
		if c.Owner != "" {
			facts = append(facts, "owner **"+markdown.Text(entityName(c.Owner))+"**")
		}
		if c.System != "" {
			facts = append(facts, "system "+markdown.Text(entityName(c.System)))
		}
		if c.Lifecycle != "" {
			facts = append(facts, markdown.Text(c.Lifecycle))
		}
		if len(c.DependsOn) > 0 {
			deps := make([]string, len(c.DependsOn))
			for i, d := range c.DependsOn {
				deps[i] = entityName(d)
			}
			facts = append(facts, "depends on "+markdown.Text(strings.Join(deps, ", ")))
		}
		b.WriteString(strings.Join(facts, " · "))
		b.WriteString("\n\n")
	}
	live := false
	for _, e := range v.Envs {
		live = live || e.Live != nil
	}
	b.WriteString("| env | image | replicas | config | frozen | sync | health | revision | last sync | open PRs |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, e := range v.Envs {
		d := e.Desired
		row := []string{"**" + cell(e.Env) + "**", "—", "—", "—", "—", "—", "—", "—", "—", "—"}
		if d != nil && d.Deployed {
			row[1] = code(versions(d))
			row[2] = replicasText(d)
			if d.ConfigHash != "" {
				row[3] = code(d.ConfigHash)
			}
		} else if d != nil {
			row[1] = "not deployed"
		}
		if d != nil && d.Frozen {
			row[4] = "🧊 " + cell(d.FreezeReason)
		}
		if l := e.Live; l != nil {
			if l.Err != "" {
				row[5] = "⚠️ " + cell(l.Err)
			} else {
				row[5] = syncIcon(l.Sync) + " " + orDash(cell(l.Sync))
				row[6] = healthIcon(l.Health) + " " + orDash(cell(l.Health))
				row[7] = cell(shortRev(l.Revision))
				if !l.LastSynced.IsZero() {
					row[8] = l.LastSynced.UTC().Format("2006-01-02 15:04")
				}
			}
		}
		if len(e.OpenPRs) > 0 {
			var prs []string
			for _, p := range e.OpenPRs {
				prs = append(prs, fmt.Sprintf("[#%d](%s)", p.Number, p.URL))
			}
			row[9] = strings.Join(prs, " ")
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	if !live {
		b.WriteString("\nLive state is not shown: daytwo has no Argo CD connection configured.\n")
	}
	var m strings.Builder
	m.WriteString("flowchart LR\n")
	for i, e := range v.Envs {
		label := e.Env
		if e.Desired != nil && e.Desired.Deployed {
			label += "<br/>" + e.Desired.Version()
		} else {
			label += "<br/>not deployed"
		}
		if e.Live != nil && e.Live.Health != "" {
			label += "<br/>" + e.Live.Health
		}
		fmt.Fprintf(&m, "  e%d[\"%s\"]\n", i, mermaidText(label))
		if i > 0 {
			fmt.Fprintf(&m, "  e%d --> e%d\n", i-1, i)
		}
		if e.Live != nil {
			switch {
			case e.Live.Health == "Degraded" || e.Live.Health == "Missing":
				fmt.Fprintf(&m, "  style e%d fill:#fdd,stroke:#c00\n", i)
			case e.Live.Sync == "OutOfSync" || e.Live.Health == "Progressing":
				fmt.Fprintf(&m, "  style e%d fill:#ffd,stroke:#b90\n", i)
			case e.Live.Health == "Healthy":
				fmt.Fprintf(&m, "  style e%d fill:#dfd,stroke:#080\n", i)
			}
		}
	}
	b.WriteString("\n")
	b.WriteString(markdown.Fence("mermaid", m.String()))
	return clip(b.String())
}

// HistoryMarkdown renders day-2 actions as a table; repoURL links pull requests.
func HistoryMarkdown(actions []Action, repoURL string) string {
	if len(actions) == 0 {
		return "No day-2 actions found in Git history for this selection.\n"
	}
	var b strings.Builder
	b.WriteString("| when (UTC) | action | service | env | asked by | change |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, a := range actions {
		change := code(shortRev(a.SHA))
		if a.PR > 0 && repoURL != "" {
			change = fmt.Sprintf("[#%d](%s/pull/%d)", a.PR, strings.TrimSuffix(repoURL, "/"), a.PR)
		}
		who := "—"
		if a.Requester != "" {
			who = cell(a.Requester) // no @: listing history must not notify everyone in it
		}
		what := cell(a.Action)
		if a.Command != "" {
			what = code(a.Command)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", a.When.UTC().Format("2006-01-02 15:04"), what, orDash(cell(a.Service)), orDash(cell(a.Env)), who, change)
	}
	return clip(b.String())
}

// Markdown renders the differences, or says there are none.
func (d *EnvDiff) Markdown() string {
	if d.Empty() {
		return fmt.Sprintf("%s runs the same in %s and %s: same images, replicas and config.\n",
			markdown.Text(d.Service), markdown.Text(d.A), markdown.Text(d.B))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: what differs between **%s** and **%s**\n\n", markdown.Text(d.Service), markdown.Text(d.A), markdown.Text(d.B))
	section := func(title string, cs []Change, note string) {
		if len(cs) == 0 {
			return
		}
		fmt.Fprintf(&b, "**%s**%s\n\n| | %s | %s |\n| --- | --- | --- |\n", title, note, cell(d.A), cell(d.B))
		for _, c := range cs {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", code(c.What), orDash(code(c.A)), orDash(code(c.B)))
		}
		b.WriteString("\n")
	}
	section("Images", d.Images, " ("+markdown.Code("/promote "+d.B+" --from "+d.A)+" carries these)")
	section("Config", d.Config, "")
	section("Replicas", d.Replicas, " (per environment; not promoted)")
	return clip(b.String())
}

func versions(d *Desired) string {
	seen := map[string]bool{}
	var out []string
	for _, c := range d.Containers {
		v := imageVersion(c.Image)
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return strings.Join(out, ", ")
}

func replicasText(d *Desired) string {
	var out []string
	for _, w := range d.Workloads {
		if w.Replicas != nil {
			out = append(out, fmt.Sprint(*w.Replicas))
		}
	}
	if len(out) == 0 {
		return "—"
	}
	return strings.Join(out, ", ")
}

func entityName(ref string) string {
	if i := strings.IndexByte(ref, ':'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

func syncIcon(s string) string {
	switch s {
	case "Synced":
		return "✅"
	case "OutOfSync":
		return "🔶"
	}
	return "❔"
}

func healthIcon(h string) string {
	switch h {
	case "Healthy":
		return "💚"
	case "Progressing":
		return "🔄"
	case "Degraded":
		return "💔"
	case "Suspended":
		return "⏸️"
	case "Missing":
		return "👻"
	}
	return "❔"
}

func shortRev(r string) string {
	if len(r) > 7 {
		return r[:7]
	}
	if r == "" {
		return "—"
	}
	return r
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// code shows s as code in a table cell; "" for nothing.
func code(s string) string {
	if s == "" {
		return ""
	}
	return markdown.Cell(markdown.Code(s))
}

// cell shows s as plain text in a table cell.
func cell(s string) string { return markdown.Cell(markdown.Text(s)) }

// mermaidText escapes what would end a quoted mermaid label.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "[", "#91;", "]", "#93;", "\n", " ")
	return r.Replace(s)
}

func clip(s string) string {
	if len(s) <= maxComment {
		return s
	}
	i := strings.LastIndexByte(s[:maxComment], '\n')
	return s[:i+1] + "\n… (truncated to fit a GitHub comment)\n"
}
