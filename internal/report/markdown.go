package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/daytwo-dev/daytwo/internal/clip"
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
	// NoLive says why no environment has live state; "" when daytwo has no Argo CD
	// connection configured.
	NoLive string
}

// maxComment keeps an answer within GitHub's 65,536-character comment limit.
const maxComment = 60000

// Markdown renders the view for GitHub, within a comment's size.
func (v StatusView) Markdown() string { return fitComment(v.Render(markdown.GitHub)) }

// Render writes the view: who owns the service, a table of the environments and a
// diagram of the promotion path.
func (v StatusView) Render(r markdown.Renderer) string {
	var b strings.Builder
	b.WriteString(r.Heading(3, r.Text(v.Service)) + "\n")
	if c := v.Catalog; c != nil {
		var facts []string
		if c.Description != "" {
			facts = append(facts, r.Text(c.Description))
		}
		if c.Owner != "" {
			facts = append(facts, "owner "+r.Strong(r.Text(entityName(c.Owner))))
		}
		if c.System != "" {
			facts = append(facts, "system "+r.Text(entityName(c.System)))
		}
		if c.Lifecycle != "" {
			facts = append(facts, r.Text(c.Lifecycle))
		}
		if len(c.DependsOn) > 0 {
			deps := make([]string, len(c.DependsOn))
			for i, d := range c.DependsOn {
				deps[i] = entityName(d)
			}
			facts = append(facts, "depends on "+r.Text(strings.Join(deps, ", ")))
		}
		b.WriteString(strings.Join(facts, " · "))
		b.WriteString("\n\n")
	}
	live := false
	for _, e := range v.Envs {
		live = live || e.Live != nil
	}
	var rows [][]string
	for _, e := range v.Envs {
		d := e.Desired
		row := []string{r.Strong(r.Text(e.Env)), "—", "—", "—", "—", "—", "—", "—", "—", "—"}
		if d != nil && d.Deployed {
			row[1] = code(r, versions(d))
			row[2] = replicasText(d)
			if d.ConfigHash != "" {
				row[3] = r.Code(d.ConfigHash)
			}
		} else if d != nil {
			row[1] = "not deployed"
		}
		if d != nil && d.Frozen {
			row[4] = withIcon(r, "🧊", "yes", r.Text(d.FreezeReason))
		}
		if l := e.Live; l != nil {
			if l.Err != "" {
				row[5] = withIcon(r, "⚠️", "", r.Text(l.Err))
			} else {
				row[5] = withIcon(r, syncIcon(l.Sync), "", orDash(r.Text(l.Sync)))
				row[6] = withIcon(r, healthIcon(l.Health), "", orDash(r.Text(l.Health)))
				row[7] = r.Text(orDash(clip.SHA(l.Revision)))
				if !l.LastSynced.IsZero() {
					row[8] = l.LastSynced.UTC().Format("2006-01-02 15:04")
				}
			}
		}
		if len(e.OpenPRs) > 0 {
			var prs []string
			for _, p := range e.OpenPRs {
				prs = append(prs, r.Link(fmt.Sprintf("#%d", p.Number), p.URL))
			}
			row[9] = strings.Join(prs, " ")
		}
		rows = append(rows, row)
	}
	b.WriteString(r.Table([]string{"env", "image", "replicas", "config", "frozen", "sync", "health", "revision", "last sync", "open PRs"}, rows))
	if !live {
		why := v.NoLive
		if why == "" {
			why = "daytwo has no Argo CD connection configured"
		}
		b.WriteString("\nLive state is not shown: " + why + ".\n")
	}
	var m strings.Builder
	m.WriteString("flowchart LR\n")
	path := make([]string, len(v.Envs))
	for i, e := range v.Envs {
		label := e.Env
		state := "not deployed"
		if e.Desired != nil && e.Desired.Deployed {
			state = e.Desired.Version()
		}
		label += "<br/>" + state
		if e.Live != nil && e.Live.Health != "" {
			label += "<br/>" + e.Live.Health
			state += ", " + e.Live.Health
		}
		path[i] = fmt.Sprintf("%s (%s)", e.Env, state)
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
	b.WriteString(r.Diagram(m.String(), "promotion: "+r.Text(strings.Join(path, " → "))))
	return b.String()
}

// HistoryMarkdown renders day-2 actions for GitHub, within a comment's size.
func HistoryMarkdown(actions []Action, repoURL string) string {
	return fitComment(RenderHistory(markdown.GitHub, actions, repoURL))
}

// RenderHistory writes day-2 actions as a table; repoURL links pull requests (without
// it, the commits are shown).
func RenderHistory(r markdown.Renderer, actions []Action, repoURL string) string {
	if len(actions) == 0 {
		return "No day-2 actions found in Git history for this selection.\n"
	}
	var rows [][]string
	for _, a := range actions {
		change := r.Code(orDash(clip.SHA(a.SHA)))
		if a.PR > 0 && repoURL != "" {
			change = r.Link(fmt.Sprintf("#%d", a.PR), fmt.Sprintf("%s/pull/%d", strings.TrimSuffix(repoURL, "/"), a.PR))
		}
		who := "—"
		if a.Requester != "" {
			who = r.Text(a.Requester) // no @: listing history must not notify everyone in it
		}
		what := r.Text(a.Action)
		if a.Command != "" {
			what = r.Code(a.Command)
		}
		rows = append(rows, []string{a.When.UTC().Format("2006-01-02 15:04"), what, orDash(r.Text(a.Service)), orDash(r.Text(a.Env)), who, change})
	}
	return r.Table([]string{"when (UTC)", "action", "service", "env", "asked by", "change"}, rows)
}

// Markdown renders the differences for GitHub, within a comment's size.
func (d *EnvDiff) Markdown() string { return fitComment(d.Render(markdown.GitHub)) }

// Render writes the differences, or says there are none.
func (d *EnvDiff) Render(r markdown.Renderer) string {
	if d.Empty() {
		return fmt.Sprintf("%s runs the same in %s and %s: same images, replicas and config.\n",
			r.Text(d.Service), r.Text(d.A), r.Text(d.B))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: what differs between %s and %s\n\n", r.Text(d.Service), r.Strong(r.Text(d.A)), r.Strong(r.Text(d.B)))
	section := func(title string, cs []Change, note string) {
		if len(cs) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s%s\n\n", r.Strong(title), note)
		rows := make([][]string, len(cs))
		for i, c := range cs {
			rows[i] = []string{code(r, c.What), orDash(code(r, c.A)), orDash(code(r, c.B))}
		}
		b.WriteString(r.Table([]string{"", r.Text(d.A), r.Text(d.B)}, rows))
		b.WriteString("\n")
	}
	section("Images", d.Images, " ("+r.Code("/promote "+d.B+" --from "+d.A)+" carries these)")
	section("Config", d.Config, "")
	section("Replicas", d.Replicas, " (per environment; not promoted)")
	return b.String()
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

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// code shows s as code; "" for nothing.
func code(r markdown.Renderer, s string) string {
	if s == "" {
		return ""
	}
	return r.Code(s)
}

// withIcon puts the renderer's icon before text: "🧊 reason", or with a word, "yes: reason".
func withIcon(r markdown.Renderer, emoji, word, text string) string {
	icon := r.Icon(emoji, word)
	switch {
	case icon == "":
		return text
	case text == "":
		return icon
	}
	if word != "" && icon == word {
		return icon + ": " + text
	}
	return icon + " " + text
}

// mermaidText escapes what would end a quoted mermaid label.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "[", "#91;", "]", "#93;", "\n", " ")
	return r.Replace(s)
}

// fitComment cuts s to what a GitHub comment holds.
func fitComment(s string) string {
	return clip.Lines(s, maxComment, "\n… (truncated to fit a GitHub comment)\n")
}
