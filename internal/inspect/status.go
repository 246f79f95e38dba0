package inspect

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// Live is what Argo CD reports for a service in one environment, filled by the caller.
type Live struct {
	App        string // Argo CD Application
	Sync       string // Synced, OutOfSync, Unknown
	Health     string // Healthy, Progressing, Degraded, Suspended, Missing, Unknown
	Revision   string // commit the application is synced to
	Message    string // the last operation's or health's message
	Images     []string
	LastSynced time.Time
	Err        string // why the live state could not be read; the fields above are then empty
}

// PRRef is an open pull request that would change the environment.
type PRRef struct {
	Number int
	URL    string
	Title  string
}

// EnvStatus is one environment of a service: what Git says, what Argo CD says (nil when
// Argo CD is not configured), and what is pending.
type EnvStatus struct {
	Env     string
	Desired *Desired
	Live    *Live
	OpenPRs []PRRef
}

// StatusView is the answer to /status for one service.
type StatusView struct {
	Service string
	Catalog *Catalog    // nil: the service has no catalog file
	Envs    []EnvStatus // in promotion order
}

// Markdown renders the view: the service's owner and dependencies, one table row per
// environment, notes, and a mermaid diagram of the promotion path.
func (v StatusView) Markdown() string {
	p := newPage()
	p.add("### " + text(v.Service, 100) + "\n\n")
	if c := v.Catalog; c != nil {
		if c.Description != "" {
			p.add(text(c.Description, 300) + "\n\n")
		}
		var facts []string
		if c.Owner != "" {
			facts = append(facts, "**Owner** "+code(c.Owner, 100, false))
		}
		if c.System != "" {
			facts = append(facts, "**System** "+code(c.System, 100, false))
		}
		if c.Lifecycle != "" {
			facts = append(facts, "**Lifecycle** "+text(c.Lifecycle, 40))
		}
		if len(c.DependsOn) > 0 {
			deps := make([]string, 0, len(c.DependsOn))
			for i, d := range c.DependsOn {
				if i == 20 {
					deps = append(deps, fmt.Sprintf("and %d more", len(c.DependsOn)-i))
					break
				}
				deps = append(deps, code(d, 100, false))
			}
			facts = append(facts, "**Depends on** "+strings.Join(deps, ", "))
		}
		if len(facts) > 0 {
			p.add(strings.Join(facts, " · ") + "\n\n")
		}
	}

	p.add("| env | image | replicas | config | frozen | sync | health | revision | last sync (UTC) | open PRs |\n")
	p.add("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, e := range v.Envs {
		if !p.add(statusRow(e)) {
			p.truncate(fmt.Sprintf("%d of %d environments shown", i, len(v.Envs)))
			break
		}
	}

	var notes []string
	live := false
	for _, e := range v.Envs {
		live = live || e.Live != nil
		env := "**" + text(e.Env, 60) + "**"
		if d := e.Desired; d != nil && d.NotDeployed != nil {
			notes = append(notes, env+": not deployed ("+text(d.NotDeployed.Reason, 200)+")")
		}
		if d := e.Desired; d != nil && d.Frozen && d.FrozenBy != "" {
			n := env + ": frozen by " + text(d.FrozenBy, 60)
			if !d.FrozenSince.IsZero() {
				n += " since " + d.FrozenSince.UTC().Format("2006-01-02 15:04 UTC")
			}
			notes = append(notes, n)
		}
		if l := e.Live; l != nil && l.Err != "" {
			app := ""
			if l.App != "" {
				app = " (" + code(l.App, 80, false) + ")"
			}
			notes = append(notes, env+": Argo CD state unknown"+app+": "+text(l.Err, 300))
		} else if l != nil && l.Message != "" && (l.Health != "Healthy" || l.Sync != "Synced") {
			notes = append(notes, env+": "+text(l.Message, 300))
		}
	}
	if !live && len(v.Envs) > 0 {
		notes = append(notes, "Live state is unavailable: daytwo has no Argo CD connection configured, so sync, health and revision are not shown.")
	}
	if len(notes) > 0 {
		p.add("\n")
		for _, n := range notes {
			if !p.add("- " + n + "\n") {
				p.truncate("some notes are not shown")
				break
			}
		}
	}
	if len(v.Envs) > 0 {
		// All or nothing: half a diagram does not render.
		if d := "\n" + promotionDiagram(v.Envs); !p.add(d) {
			p.truncate("the promotion diagram is not shown")
		}
	}
	return p.String()
}

func statusRow(e EnvStatus) string {
	cells := []string{"**" + text(e.Env, 60) + "**", "—", "—", "—", "no", "—", "—", "—", "—", "—"}
	d := e.Desired
	switch {
	case d == nil:
		cells[4] = "—"
	case d.NotDeployed != nil:
		cells[1] = "not deployed"
	default:
		cells[1] = imagesCell(d, e.Live)
		cells[2] = replicasCell(d)
		if d.ConfigHash != "" {
			cells[3] = code(d.ConfigHash, 16, true) + " · " + plural(d.ConfigKeys, "key", "keys")
		} else {
			cells[3] = "none"
		}
	}
	if d != nil && d.Frozen {
		cells[4] = "🧊 frozen"
		if d.FreezeReason != "" {
			cells[4] += ": " + text(d.FreezeReason, 80)
		}
	}
	if l := e.Live; l != nil {
		if l.Err != "" {
			cells[5], cells[6] = "⚠️ unknown", "⚠️ unknown"
		} else {
			cells[5] = syncCell(l.Sync)
			cells[6] = healthCell(l.Health)
			if l.Revision != "" {
				cells[7] = code(shortSHA(l.Revision), 12, true)
			}
			if !l.LastSynced.IsZero() {
				cells[8] = l.LastSynced.UTC().Format("2006-01-02 15:04")
			}
		}
	}
	if len(e.OpenPRs) > 0 {
		var prs []string
		for i, pr := range e.OpenPRs {
			if i == 10 {
				prs = append(prs, fmt.Sprintf("+%d", len(e.OpenPRs)-i))
				break
			}
			prs = append(prs, prLink(pr))
		}
		cells[9] = strings.Join(prs, " ")
	}
	return "| " + strings.Join(cells, " | ") + " |\n"
}

// imagesCell shows the distinct images of the non-init containers as "name:version", the
// name shortened to its last path segment, and what Argo CD reports when that differs.
func imagesCell(d *Desired, l *Live) string {
	var shown []string
	seen := map[string]bool{}
	want := map[string]bool{}
	for _, im := range d.Images {
		want[im.Ref()] = true
		s := path.Base(im.Name) + ":" + im.Version()
		if im.Init || seen[s] {
			continue
		}
		seen[s] = true
		shown = append(shown, s)
	}
	out := listCell(shown, 3)
	if l != nil && l.Err == "" && len(l.Images) > 0 {
		var other []string
		drift := false
		for _, ref := range l.Images {
			if !want[ref] {
				drift = true
				name, tag, digest := splitImage(ref)
				other = append(other, path.Base(name)+":"+Image{Tag: tag, Digest: digest}.Version())
			}
		}
		if drift {
			out += "<br>live: " + listCell(other, 3)
		}
	}
	return orDash(out)
}

func listCell(items []string, n int) string {
	var parts []string
	for i, s := range items {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(items)-i))
			break
		}
		parts = append(parts, code(s, 80, true))
	}
	return strings.Join(parts, " ")
}

func replicasCell(d *Desired) string {
	count := func(w Workload) string {
		switch {
		case w.Replicas != nil:
			return fmt.Sprint(*w.Replicas)
		case w.Kind == "DaemonSet":
			return "per node"
		}
		return "unset"
	}
	switch len(d.Workloads) {
	case 0:
		return "—"
	case 1:
		return count(d.Workloads[0])
	}
	var parts []string
	for i, w := range d.Workloads {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("+%d more", len(d.Workloads)-i))
			break
		}
		parts = append(parts, text(w.Name, 60)+" "+count(w))
	}
	return strings.Join(parts, "<br>")
}

func syncCell(s string) string {
	switch s {
	case "Synced":
		return "✅ Synced"
	case "OutOfSync":
		return "🔶 **OutOfSync**"
	case "":
		return "—"
	}
	return "❔ " + text(s, 30)
}

func healthCell(h string) string {
	switch h {
	case "Healthy":
		return "💚 Healthy"
	case "Progressing":
		return "🔄 Progressing"
	case "Degraded":
		return "💔 **Degraded**"
	case "Missing":
		return "👻 **Missing**"
	case "Suspended":
		return "⏸️ Suspended"
	case "":
		return "—"
	}
	return "❔ " + text(h, 30)
}

func prLink(pr PRRef) string {
	label := fmt.Sprintf("#%d", pr.Number)
	u, ok := safeURL(pr.URL)
	if !ok {
		return label
	}
	if pr.Title != "" {
		return fmt.Sprintf("[%s](%s \"%s\")", label, u, linkTitle(pr.Title))
	}
	return fmt.Sprintf("[%s](%s)", label, u)
}

// promotionDiagram is a mermaid flowchart of the environments in promotion order, each
// with its version and live health; unhealthy and out-of-sync nodes are coloured.
func promotionDiagram(envs []EnvStatus) string {
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart LR\n")
	classes := map[string][]string{}
	for i, e := range envs {
		id := fmt.Sprintf("e%d", i)
		lines := []string{"<b>" + mermaid(e.Env, 40) + "</b>"}
		class := ""
		switch d := e.Desired; {
		case d == nil:
			lines = append(lines, "?")
		case d.NotDeployed != nil:
			lines = append(lines, "not deployed")
			class = "absent"
		default:
			vs := d.Versions()
			if len(vs) > 2 {
				vs = append(vs[:2:2], fmt.Sprintf("+%d", len(vs)-2))
			}
			lines = append(lines, mermaid(orDash(strings.Join(vs, ", ")), 80))
		}
		if l := e.Live; l != nil && class == "" {
			switch {
			case l.Err != "":
				lines = append(lines, "⚠️ Argo CD state unknown")
				class = "warn"
			default:
				var state []string
				if l.Health != "" {
					state = append(state, mermaid(l.Health, 20))
				}
				if l.Sync != "" {
					state = append(state, mermaid(l.Sync, 20))
				}
				mark := ""
				switch {
				case l.Health == "Degraded" || l.Health == "Missing":
					class, mark = "bad", "💔 "
				case l.Sync == "OutOfSync" || l.Health == "Progressing" || l.Health == "Unknown" || l.Sync == "Unknown":
					class, mark = "warn", "⚠️ "
				case l.Health == "Healthy" && l.Sync == "Synced":
					class = "ok"
				}
				if len(state) > 0 {
					lines = append(lines, mark+strings.Join(state, " · "))
				}
			}
		}
		if e.Desired != nil && e.Desired.Frozen {
			lines = append(lines, "🧊 frozen")
		}
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", id, strings.Join(lines, "<br/>"))
		if i > 0 {
			fmt.Fprintf(&b, "  e%d --> %s\n", i-1, id)
		}
		if class != "" {
			classes[class] = append(classes[class], id)
		}
	}
	for _, c := range []struct{ name, style string }{
		{"ok", "fill:#e6f4ea,stroke:#1a7f37"},
		{"warn", "fill:#fff8c5,stroke:#9a6700,stroke-width:2px"},
		{"bad", "fill:#ffebe9,stroke:#cf222e,stroke-width:3px"},
		{"absent", "fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:4 3,color:#57606a"},
	} {
		if ids := classes[c.name]; len(ids) > 0 {
			fmt.Fprintf(&b, "  classDef %s %s\n  class %s %s\n", c.name, c.style, strings.Join(ids, ","), c.name)
		}
	}
	b.WriteString("```\n")
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
