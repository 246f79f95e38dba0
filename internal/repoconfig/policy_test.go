package repoconfig

import (
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
)

// commands are daytwo's commands, as the server and the command line load configs with.
var commands = command.All()

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

// fakeCommands is a registry of two commands: repoconfig knows no command of its own.
type fakeCommands struct{}

func (fakeCommands) Governed() []string        { return []string{"scale", "peek"} }
func (fakeCommands) ReadOnly(name string) bool { return name == "peek" }

// The requesters keys, the built-in rules and the schema come from the Commands the config
// is loaded with, and from nowhere else.
func TestCommandsComeFromTheRegistry(t *testing.T) {
	src := "version: 1\nenvironments:\n  - name: prod\n    requesters:\n      KEY: {permission: admin}\nservices: [{name: web}]\n"
	for key, ok := range map[string]bool{"peek": true, "scale": true, `"*"`: true, "status": false, "promote": false} {
		_, err := Load([]byte(strings.Replace(src, "KEY", key, 1)), fakeCommands{})
		if (err == nil) != ok {
			t.Errorf("requesters key %s: err = %v", key, err)
		}
	}
	c, err := Load([]byte("version: 1\nenvironments: [{name: prod}]\nservices: [{name: web}]\n"), fakeCommands{})
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := c.Env("prod")
	if prod.Allowed("peek").Permission != "read" || prod.Allowed("scale").Permission != "write" || prod.Allowed("status").Permission != "write" {
		t.Errorf("built-in rules: peek %s, scale %s, status %s", prod.Allowed("peek"), prod.Allowed("scale"), prod.Allowed("status"))
	}
	schema, err := JSONSchema(fakeCommands{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(schema), `"enum": [
              "scale",
              "peek",
              "*"
            ]`) {
		t.Errorf("the schema's requesters keys are not the commands':\n%s", schema)
	}

	// No commands: only "*" may be named.
	if _, err := Load([]byte(strings.Replace(src, "KEY", "scale", 1)), nil); err == nil || !strings.Contains(err.Error(), `unknown command "scale"`) {
		t.Errorf("no commands: %v", err)
	}
	// daytwo's: every command but /init, the read-only ones as the registry says.
	for _, name := range commands.Governed() {
		if _, err := Load([]byte(strings.Replace(src, "KEY", name, 1)), commands); err != nil {
			t.Errorf("/%s: %v", name, err)
		}
	}
	if _, err := Load([]byte(strings.Replace(src, "KEY", "init", 1)), commands); err == nil {
		t.Error("requesters may name /init")
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
