package ops_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
)

var update = flag.Bool("update", false, "rewrite docs/commands.md")

// docs/commands.md is generated from the registry the server answers /help from
// (command.All); this test keeps it current.
func TestCommandsDocIsGenerated(t *testing.T) {
	reg := command.All()
	var b strings.Builder
	b.WriteString("<!-- Generated from the command registry by `go test ./internal/ops -run CommandsDoc -update`; do not edit. -->\n\n")
	b.WriteString("# Commands\n\nThe same text daytwo answers to `/help` and `/help <command>`.\n\n")
	b.WriteString(strings.Replace(reg.Help(""), "## daytwo commands", "## Overview", 1))
	for _, name := range reg.Names() {
		b.WriteString("\n")
		b.WriteString(reg.Help(name))
	}
	path := filepath.Join("..", "..", "docs", "commands.md")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != b.String() {
		t.Fatal("docs/commands.md is out of date: go test ./internal/ops -run CommandsDoc -update")
	}
}
