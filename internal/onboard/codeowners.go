package onboard

import (
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// suggestCodeOwners is a CODEOWNERS for a repository without one: every line commented
// out, with placeholder teams under org, since only people know who owns what.
func suggestCodeOwners(cfg *repoconfig.Config, org string) []byte {
	var b strings.Builder
	b.WriteString(`# Code owners approve daytwo's pull requests. daytwo asks the owners of the files a change
# touches to review it, and with branch protection's "Require review from Code Owners" a
# change merges only once they approve: this file decides who approves a scale in prod.
# Written by daytwo init with placeholder teams: replace them, then uncomment the lines.
# The last matching pattern wins, so general lines come first.

`)
	type row struct{ group, pattern, owner string }
	rows := []row{{"Who may change daytwo's policy (who may ask for what, freezes):", "/" + repoconfig.Path, "@" + org + "/platform"}}
	for _, svc := range cfg.Services {
		for _, env := range cfg.EnvNames() {
			if svc.Deploys(env) {
				rows = append(rows, row{svc.Name, "/" + svc.OverlayPath(env) + "/", fmt.Sprintf("@%s/%s-owners", org, svc.Name)})
			}
		}
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.pattern))
	}
	for i, r := range rows {
		if i == 0 || r.group != rows[i-1].group {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "# %s\n", r.group)
		}
		fmt.Fprintf(&b, "# %-*s  %s\n", width, r.pattern, r.owner)
	}
	return []byte(b.String())
}
