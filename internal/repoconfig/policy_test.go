package repoconfig

import (
	"slices"
	"testing"
)

func TestPermissionAtLeast(t *testing.T) {
	tests := []struct {
		have, want string
		ok         bool
	}{
		{"admin", "maintain", true},
		{"maintain", "maintain", true},
		{"write", "maintain", false},
		{"triage", "write", false},
		{"write", "triage", true},
		{"read", "read", true},
		{"none", "read", false},
		{"", "read", false},
		{"admin", "owner", false}, // an unknown requirement fails closed
		{"custom-role", "read", false},
	}
	for _, tt := range tests {
		if got := PermissionAtLeast(tt.have, tt.want); got != tt.ok {
			t.Errorf("PermissionAtLeast(%q, %q) = %v", tt.have, tt.want, got)
		}
	}
}

func TestRuleString(t *testing.T) {
	tests := []struct {
		r    Rule
		want string
	}{
		{Rule{}, "write permission"},
		{Rule{Permission: "maintain"}, "maintain permission"},
		{Rule{Teams: []string{"acme/sre"}}, "membership of @acme/sre"},
		{Rule{Permission: "maintain", Teams: []string{"acme/sre"}}, "maintain permission or membership of @acme/sre"},
		{Rule{Permission: "admin", Teams: []string{"acme/sre", "acme/ops"}, Users: []string{"alice"}},
			"admin permission, membership of one of @acme/sre, @acme/ops or being @alice"},
		{Rule{Users: []string{"alice", "bob"}}, "being one of @alice, @bob"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestCommands(t *testing.T) {
	cmds := Commands()
	if len(cmds) != 17 || !slices.Contains(cmds, "set-image") || slices.Contains(cmds, AnyCommand) {
		t.Errorf("Commands() = %v", cmds)
	}
	cmds[0] = "changed"
	if Commands()[0] != "promote" {
		t.Error("Commands returns the package's own slice")
	}
	for _, c := range Commands() {
		want := c == "status" || c == "history" || c == "diff" || c == "help"
		if ReadOnly(c) != want {
			t.Errorf("ReadOnly(%s) = %v", c, !want)
		}
	}
}

func TestAllowedFallback(t *testing.T) {
	e := &Environment{Requesters: map[string]Rule{
		"scale":    {Teams: []string{"acme/sre"}},
		AnyCommand: {Permission: "maintain"},
	}}
	if got := e.Allowed("scale"); len(got.Teams) != 1 {
		t.Errorf("scale: %+v", got)
	}
	if got := e.Allowed("status"); got.Permission != "maintain" {
		t.Errorf("\"*\" covers read-only commands too: %+v", got)
	}
	var bare Environment
	if got := bare.Allowed("unknown-verb"); got.Permission != "write" {
		t.Errorf("unknown verbs default to write: %+v", got)
	}
}
