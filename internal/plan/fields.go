package plan

import (
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
)

// Fields names what cmd sets in its overlay, so that two requests in one pull request can
// be told apart from a later one that overrides an earlier: "replicas", "image:<container>"
// ("image:" for the service's own container), "config:<KEY>", "freeze". Planning names
// the workload and image it found instead ("replicas:<Kind>/<name>", "image:<images[].name>"),
// which still match "image:*". A trailing "*"
// matches every field with that prefix, and "*" alone every field (a rollback restores
// whole files). Restarts set nothing another request could override: a later restart
// restarts too.
func Fields(cmd command.Command) []string {
	switch cmd.Name {
	case "scale", "suspend", "resume":
		return []string{"replicas"}
	case "set-image":
		return []string{"image:" + cmd.Image.Container}
	case "config":
		var out []string
		for _, kv := range cmd.Set {
			out = append(out, "config:"+kv.Key)
		}
		for _, k := range cmd.Unset {
			out = append(out, "config:"+k)
		}
		return out
	case "promote":
		return []string{"image:*", "config:*"}
	case "rollback":
		return []string{"*"}
	case "freeze", "unfreeze":
		return []string{"freeze"}
	}
	return nil
}

// Overlaps reports whether a change setting later overrides one that set earlier.
func Overlaps(earlier, later []string) bool {
	for _, a := range earlier {
		for _, b := range later {
			if fieldMatch(a, b) || fieldMatch(b, a) {
				return true
			}
		}
	}
	return false
}

func fieldMatch(pattern, field string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(field, p)
	}
	return pattern == field
}
