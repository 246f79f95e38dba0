package plan

import (
	"encoding/json"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
)

const (
	metadataOpen  = "<!-- daytwo: "
	metadataClose = " -->"
)

// FormatMetadata is the hidden HTML comment a daytwo PR body ends with. json.Marshal
// escapes <, > and &, so no value can close the comment early.
func FormatMetadata(m map[string]string) string {
	b, _ := json.Marshal(m) // a map of strings always encodes
	return metadataOpen + string(b) + metadataClose
}

// BranchFor is the branch Plan gives cmd for req: daytwo/<env>/<service>/<action>-<hash>,
// one per target, intent and origin (under daytwo/_for/ when time-boxed). Callers use it
// to recognise a repeat of the same request before planning.
func BranchFor(cmd command.Command, req Input) string {
	seed := req.OriginKey
	if seed == "" {
		seed = req.Requester + "\n" + cmd.Line
	}
	if cmd.For > 0 {
		return TimeboxedBranches + strings.TrimPrefix(branchName(cmd.Env, cmd.Service, cmd.Name, seed), "daytwo/")
	}
	return branchName(cmd.Env, cmd.Service, cmd.Name, seed)
}

// TimeboxedBranches is where the branches of time-boxed changes live: each has a pull
// request of its own, outside the target's stack (daytwo/<env>/<service>/), so that
// restoring it restores nothing else. "_" is in no environment name.
const TimeboxedBranches = "daytwo/_for/"

// ParseMetadata reads the hidden metadata a daytwo PR body ends with (service, env,
// action, command, requester, origin, base, breakGlass, ...). The last metadata comment
// wins; false when the body has none or it does not parse.
func ParseMetadata(body string) (map[string]string, bool) {
	i := strings.LastIndex(body, metadataOpen)
	if i < 0 {
		return nil, false
	}
	rest := body[i+len(metadataOpen):]
	end := strings.Index(rest, metadataClose)
	if end < 0 {
		return nil, false
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(rest[:end]), &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// ParseTrailers returns the "Key: value" trailers of a commit message: its last paragraph,
// when that paragraph is not the subject and every line in it is a trailer or the
// continuation (indented) of one. Keys are kept as written; a repeated key keeps its last
// value.
func ParseTrailers(message string) map[string]string {
	message = strings.TrimSpace(strings.ReplaceAll(message, "\r\n", "\n"))
	i := strings.LastIndex(message, "\n\n")
	if i < 0 {
		return map[string]string{} // a lone paragraph is the subject
	}
	out := map[string]string{}
	last := ""
	for _, line := range strings.Split(message[i+2:], "\n") {
		if line != "" && (line[0] == ' ' || line[0] == '\t') && last != "" {
			out[last] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !isTrailerKey(k) {
			return map[string]string{}
		}
		out[k] = strings.TrimSpace(v)
		last = k
	}
	return out
}

func isTrailerKey(k string) bool {
	if k == "" || k[0] == '-' {
		return false
	}
	for _, c := range k {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
