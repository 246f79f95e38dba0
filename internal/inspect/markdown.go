package inspect

import (
	"fmt"
	"strings"
)

// HistoryMarkdown renders actions as a table, newest first as given. With repoURL (the
// GitOps repository's web address, e.g. https://github.com/acme/gitops) pull requests and
// commits are links.
func HistoryMarkdown(actions []Action, repoURL string) string {
	if len(actions) == 0 {
		return "No day-2 actions found in Git history for this selection. daytwo lists the commits it made (they carry `Daytwo-*` trailers); hand edits are not listed.\n"
	}
	base, linked := safeURL(strings.TrimSuffix(repoURL, "/"))
	p := newPage()
	p.add("| when (UTC) | action | env | service | what | asked by | change |\n")
	p.add("| --- | --- | --- | --- | --- | --- | --- |\n")
	for i, a := range actions {
		service := text(a.Service, 60)
		if a.Service == "" && a.Env != "" {
			service = "all"
		}
		who := text(a.Requester, 60)
		if u, ok := safeURL(a.Origin); ok && who != "" {
			who = "[" + who + "](" + u + ")"
		}
		what := text(a.Summary, 120)
		if a.Command != "" {
			what = code(a.Command, 120, true) + "<br>" + what
		}
		var change string
		switch {
		case a.PR > 0 && linked:
			change = fmt.Sprintf("[#%d](%s/pull/%d)", a.PR, base, a.PR)
		case a.PR > 0:
			change = fmt.Sprintf("#%d", a.PR)
		case linked && a.Commit != "" && isHex(a.Commit):
			change = fmt.Sprintf("[`%s`](%s/commit/%s)", shortSHA(a.Commit), base, a.Commit)
		default:
			change = code(shortSHA(a.Commit), 12, true)
		}
		row := fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s |\n",
			a.When.UTC().Format("2006-01-02 15:04"), text(a.Action, 30), orDash(text(a.Env, 60)), orDash(service), orDash(what), orDash(who), orDash(change))
		if !p.add(row) {
			p.truncate(fmt.Sprintf("%d of %d actions shown", i, len(actions)))
			break
		}
	}
	return p.String()
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// Markdown renders what differs between the two environments, or says that nothing does.
func (d EnvDiff) Markdown() string {
	a, b := text(d.A, 60), text(d.B, 60)
	p := newPage()
	p.add(fmt.Sprintf("### %s: %s → %s\n\n", text(d.Service, 100), a, b))
	if d.Empty() {
		s := fmt.Sprintf("No differences: %s and %s run the same images (%s), replicas and config", a, b, text(orDash(strings.Join(d.VersionsA, ", ")), 120))
		if d.ConfigHashA != "" {
			s += " (" + code(d.ConfigHashA, 16, false) + ")"
		}
		p.add(s + ".\n")
		return p.String()
	}
	promote := code(fmt.Sprintf("/promote %s --from %s", d.B, d.A), 140, true)
	var rows int
	total := len(d.Images) + len(d.Config) + len(d.Replicas)
	row := func(s string) bool {
		if !p.add(s) {
			p.truncate(fmt.Sprintf("%d of %d differences shown", rows, total))
			return false
		}
		rows++
		return true
	}

	if len(d.Images) > 0 {
		p.add("**Images**: what " + promote + " carries is marked ✓\n\n")
		p.add(fmt.Sprintf("| container | %s | %s | promote |\n| --- | --- | --- | --- |\n", a, b))
		workloads := map[string]bool{}
		for _, c := range d.Images {
			workloads[c.Workload] = true
		}
		for _, c := range d.Images {
			name := code(c.Container, 80, true)
			if len(workloads) > 1 {
				name += " in " + text(c.Workload, 80)
			}
			if !row(fmt.Sprintf("| %s | %s | %s | %s |\n", name, imageValue(c.A), imageValue(c.B), check(c.Promoted))) {
				return p.String()
			}
		}
		p.add("\n")
	}

	if len(d.Config) > 0 {
		if d.PromoteConfig {
			p.add("**Config**: what " + promote + " carries is marked ✓; it never removes keys\n\n")
		} else {
			p.add(fmt.Sprintf("**Config**: %s does not take config with /promote (promoteConfig is off)\n\n", b))
		}
		p.add(fmt.Sprintf("| key | %s | %s | promote |\n| --- | --- | --- | --- |\n", a, b))
		maps := map[string]bool{}
		for _, c := range d.Config {
			maps[c.ConfigMap] = true
		}
		for _, c := range d.Config {
			key := c.Key
			if len(maps) > 1 {
				key = c.ConfigMap + "/" + c.Key
			}
			va, vb := valueCell(c.A, c.InA), valueCell(c.B, c.InB)
			if c.Masked && c.InA && c.InB && c.A == c.B {
				vb += " (differs)"
			}
			if !row(fmt.Sprintf("| %s | %s | %s | %s |\n", code(key, 120, true), va, vb, check(c.Promoted))) {
				return p.String()
			}
		}
		p.add("\n")
	}

	if len(d.Replicas) > 0 {
		p.add("**Replicas**: per environment; /promote leaves them\n\n")
		p.add(fmt.Sprintf("| workload | %s | %s |\n| --- | --- | --- |\n", a, b))
		for _, c := range d.Replicas {
			if !row(fmt.Sprintf("| %s | %s | %s |\n", text(c.Workload, 120), replicaValue(c.A), replicaValue(c.B))) {
				return p.String()
			}
		}
		p.add("\n")
	}
	return p.String()
}

func valueCell(v string, present bool) string {
	switch {
	case !present:
		return "_not set_"
	case v == "":
		return "_empty_"
	}
	return code(v, 100, true)
}

func imageValue(ref string) string {
	if ref == "" {
		return "_no such container_"
	}
	return code(ref, 200, true)
}

func replicaValue(v string) string {
	if v == "" {
		return "_no such workload_"
	}
	return text(v, 20)
}

func check(ok bool) string {
	if ok {
		return "✓"
	}
	return "—"
}
