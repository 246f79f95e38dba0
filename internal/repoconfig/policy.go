package repoconfig

import (
	"slices"
	"strings"
)

// AnyCommand is the requesters key that covers every command an environment does not list.
const AnyCommand = "*"

// Commands is what the config knows of daytwo's commands. It lists none itself: the
// command registry (command.Registry) answers.
type Commands interface {
	// Governed lists, in order, the commands an environment's policy governs: the keys
	// requesters may name besides "*".
	Governed() []string
	// ReadOnly reports whether a command only reads: where no rule names it, read access
	// suffices.
	ReadOnly(name string) bool
}

// Permissions are the repository permissions a Rule may require, weakest first.
var Permissions = []string{"read", "triage", "write", "maintain", "admin"}

// PermissionAtLeast reports whether a person holding permission have meets want. Both are
// names from Permissions (GitHub's role_name for triage and maintain); anything else,
// "none" included, meets nothing.
func PermissionAtLeast(have, want string) bool {
	h, w := slices.Index(Permissions, have), slices.Index(Permissions, want)
	return h >= 0 && w >= 0 && h >= w
}

// defaultRule is who may request a command an environment and the defaults say nothing
// about: write permission for commands that change something, read for the read-only ones.
func defaultRule(readOnly bool) Rule {
	if readOnly {
		return Rule{Permission: "read"}
	}
	return Rule{Permission: "write"}
}

// Allowed is the rule for requesting command in e: its own entry, else the "*" entry,
// else the built-in rule of the command as the Commands e was loaded with say it is. Load
// has already copied defaults.requesters into e.
func (e *Environment) Allowed(command string) Rule {
	if r, ok := e.Requesters[command]; ok {
		return r
	}
	if r, ok := e.Requesters[AnyCommand]; ok {
		return r
	}
	return defaultRule(e.readOnly[command])
}

// ApprovalRequired reports whether pull requests to e wait for code-owner approval before
// daytwo merges them or asks GitHub to.
func (e *Environment) ApprovalRequired() bool {
	if e.RequireApproval != nil {
		return *e.RequireApproval
	}
	return !e.AutoMerge
}

// Frozen returns env's freeze; false when env is not frozen or does not exist.
func (c *Config) Frozen(env string) (*Freeze, bool) {
	e, ok := c.Env(env)
	if !ok || e.Freeze == nil {
		return nil, false
	}
	return e.Freeze, true
}

// Empty reports whether the rule names nobody; Load turns such rules into write.
func (r Rule) Empty() bool {
	return r.Permission == "" && len(r.Teams) == 0 && len(r.Users) == 0
}

// String describes who qualifies, for replies: "maintain permission, membership of @acme/sre
// or being @alice". A requester qualifies by meeting any one part of the rule.
func (r Rule) String() string {
	var parts []string
	if r.Permission != "" {
		parts = append(parts, r.Permission+" permission")
	}
	if len(r.Teams) > 0 {
		parts = append(parts, "membership of "+oneOf(r.Teams))
	}
	if len(r.Users) > 0 {
		parts = append(parts, "being "+oneOf(r.Users))
	}
	switch len(parts) {
	case 0:
		return "write permission"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

func oneOf(names []string) string {
	at := make([]string, len(names))
	for i, n := range names {
		at[i] = "@" + n
	}
	if len(at) == 1 {
		return at[0]
	}
	return "one of " + strings.Join(at, ", ")
}
