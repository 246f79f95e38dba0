package onboard

import (
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Describe is the title, description and one-line summary of the pull request that
// proposes files (a subset of res.Files: those that exist already are kept, listed in kept).
func (res *Result) Describe(repo string, files []File, kept []string) (title, description, summary string) {
	cfg := res.Config
	title = "Onboard " + repo + " to daytwo"
	summary = fmt.Sprintf("daytwo's config for %d environments (%s) and %d services, with issue forms",
		len(cfg.Environments), strings.Join(cfg.EnvNames(), " → "), len(cfg.Services))
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n", markdown.Text(summary))
	fmt.Fprintf(&b, "daytwo read the default branch — %s, and every overlay rendered with kustomize — and proposes:\n\n", markdown.Text(res.Source))
	var forms int
	for _, f := range files {
		switch {
		case f.Path == repoconfig.Path:
			fmt.Fprintf(&b, "- %s: the environments in promotion order and the services with their overlays, workloads, containers, images and ConfigMaps. "+
				"The policy (who may ask for what, approvals, auto-merge, replica bounds, break-glass) is commented out with daytwo's defaults: decide it here before merging.\n", markdown.Code(f.Path))
		case f.Path == CodeOwnersPath:
			fmt.Fprintf(&b, "- %s: the repository has none. Code owners approve daytwo's pull requests; the suggestion lists every overlay with a placeholder team, commented out: name the real teams.\n", markdown.Code(f.Path))
		default:
			forms++
		}
	}
	if forms > 0 {
		fmt.Fprintf(&b, "- %d issue forms in %s: one per command, offering this repository's services and environments.\n", forms, markdown.Code(FormsDir))
	}
	b.WriteString("\n### Services\n\n| service | environments | workload | container | image | ConfigMap |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, s := range cfg.Services {
		var envs []string
		for _, e := range cfg.EnvNames() {
			if s.Deploys(e) {
				envs = append(envs, e)
			}
		}
		workload := markdown.Code(s.Workload.Kind + "/" + s.Workload.Name)
		if res.Open[s.Name] {
			workload = "to decide"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", markdown.Cell(s.Name), markdown.Cell(strings.Join(envs, ", ")), markdown.Cell(workload),
			markdown.Cell(codeOrDash(s.Container)), markdown.Cell(codeOrDash(s.Image)), markdown.Cell(codeOrDash(s.ConfigMap)))
	}
	if len(res.Notes) > 0 {
		b.WriteString("\n### To decide\n\n")
		for _, n := range res.Notes {
			fmt.Fprintf(&b, "- %s\n", markdown.Text(n))
		}
	}
	if len(kept) > 0 {
		b.WriteString("\n### Left as they are\n\n")
		for _, p := range kept {
			fmt.Fprintf(&b, "- %s exists already\n", markdown.Code(p))
		}
	}
	fmt.Fprintf(&b, "\nOnce this is merged, daytwo reads %s from the default branch.\n", markdown.Code(repoconfig.Path))
	return title, b.String(), summary
}

func codeOrDash(s string) string {
	if s == "" {
		return "—"
	}
	return markdown.Code(s)
}
