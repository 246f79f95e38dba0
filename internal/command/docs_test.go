package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docs/commands.md is generated from the registry, like /help; this test keeps it current
// (go test ./internal/command -update rewrites it).
func TestCommandsDocIsGenerated(t *testing.T) {
	reg := Default()
	var b strings.Builder
	b.WriteString("<!-- Generated from the command registry by `go test ./internal/command -update`; do not edit. -->\n\n")
	b.WriteString("# Commands\n\nThe same text daytwo answers to `/help` and `/help <command>`.\n\n")
	b.WriteString(strings.Replace(reg.Help(""), "## daytwo commands", "## Overview", 1))
	for _, name := range reg.Names() {
		b.WriteString("\n")
		b.WriteString(reg.Help(name))
	}
	path := filepath.Join("..", "..", "docs", "commands.md")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/command -update)", err)
	}
	if string(got) != b.String() {
		t.Fatal("docs/commands.md is out of date with the registry: run go test ./internal/command -update")
	}
}
