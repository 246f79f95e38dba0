// Package internal_test checks docs/architecture.md against the code: its package map
// names every package, and the imports follow its rules.
package internal_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/daytwo-dev/daytwo/"

// imports maps each package of the module (its path relative to the module root) to what
// its non-test files import; packages of the module are named relative too.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	root := ".."
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel != "." && (rel == "test" || rel == "examples" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			path = strings.TrimPrefix(path, module)
			if !slices.Contains(out[pkg], path) {
				out[pkg] = append(out[pkg], path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reach is every import of pkg, direct or through packages of the module.
func reach(all map[string][]string, pkg string) []string {
	var seen []string
	var walk func(string)
	walk = func(p string) {
		for _, im := range all[p] {
			if slices.Contains(seen, im) {
				continue
			}
			seen = append(seen, im)
			if _, ours := all[im]; ours {
				walk(im)
			}
		}
	}
	walk(pkg)
	return seen
}

func TestPackageMapNamesEveryPackage(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range imports(t) {
		if !strings.Contains(string(doc), "`"+pkg+"`") {
			t.Errorf("docs/architecture.md does not name %s", pkg)
		}
	}
}

func TestImportRules(t *testing.T) {
	all := imports(t)
	gitHubOrArgo := func(im string) bool {
		return strings.HasPrefix(im, "github.com/google/go-github") || strings.HasPrefix(im, "github.com/palantir/go-githubapp") ||
			strings.HasPrefix(im, "github.com/argoproj/") || im == "internal/githubapi" || im == "internal/argoapi" || im == "internal/argomanifest"
	}
	for _, pkg := range []string{"internal/command", "internal/plan", "internal/overlay", "internal/repoconfig", "internal/report", "internal/codeowners", "internal/markdown", "internal/workflow", "internal/incident", "internal/dashboard"} {
		if _, ok := all[pkg]; !ok {
			t.Fatalf("no package %s", pkg)
		}
		for _, im := range reach(all, pkg) {
			if gitHubOrArgo(im) {
				t.Errorf("%s reaches %s: a domain package knows nothing of GitHub or Argo CD", pkg, im)
			}
		}
	}
	for _, im := range reach(all, "internal/repoconfig") {
		if im == "internal/command" {
			t.Errorf("internal/repoconfig reaches %s: the commands it needs are passed in", im)
		}
	}
	// Who may import the layers above the others: cmd/app → server → handler → ops.
	above := map[string][]string{
		"cmd/app":          nil,
		"internal/server":  {"cmd/app", "internal/apptest"},
		"internal/handler": {"internal/server"},
		"internal/ops":     {"internal/handler", "internal/server", "internal/apptest"},
	}
	for pkg, ims := range all {
		for _, im := range ims {
			if importers, layered := above[im]; layered && !slices.Contains(importers, pkg) {
				t.Errorf("%s imports %s, a package above it", pkg, im)
			}
		}
	}
	// The AI adapter reaches config, which holds go-githubapp's settings; what ai imports
	// itself, and through its other packages, must be neither GitHub nor Argo CD.
	for _, im := range all["internal/ai"] {
		if gitHubOrArgo(im) {
			t.Errorf("internal/ai imports %s: the AI adapter knows nothing of GitHub or Argo CD", im)
		}
		if _, ours := all[im]; ours && im != "internal/config" {
			for _, deep := range reach(all, im) {
				if gitHubOrArgo(deep) {
					t.Errorf("internal/ai reaches %s through %s: the AI adapter knows nothing of GitHub or Argo CD", deep, im)
				}
			}
		}
	}
	for _, adapter := range []string{"internal/githubapi", "internal/argoapi", "internal/argomanifest", "internal/gitlocal", "internal/ai"} {
		for _, im := range reach(all, adapter) {
			if _, layered := above[im]; layered {
				t.Errorf("the adapter %s reaches %s, a caller", adapter, im)
			}
		}
	}
}
