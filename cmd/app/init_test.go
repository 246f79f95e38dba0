package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkout copies examples/<name> into a git repository, without the files drop names,
// and commits it.
func checkout(t *testing.T, name string, drop ...string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-R", "../../examples/"+name+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy example: %v\n%s", err, out)
	}
	for _, d := range drop {
		if err := os.RemoveAll(filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "init", "-q", "-b", "main")
	commitAll(t, dir, "example")
	return dir
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func commitAll(t *testing.T, dir, msg string) {
	t.Helper()
	git(t, dir, "add", "-A")
	git(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", msg)
}

// TestInitThenValidate: daytwo init on each example without its config, then daytwo
// validate on the commit of what it wrote: the config is valid and every overlay renders.
func TestInitThenValidate(t *testing.T) {
	for _, tc := range []struct {
		example string
		drop    []string
		files   int // files written
		summary string
	}{
		{"gitops", []string{".github/daytwo.yml"}, 12, "payments       dev,staging,prod         workload left to you"},
		{"envs-layout", []string{".github"}, 13, "from its directory layout"},
		{"argocd-apps", nil, 13, "queue          dev,prod                 Deployment/queue-consumer"},
	} {
		t.Run(tc.example, func(t *testing.T) {
			dir := checkout(t, tc.example, tc.drop...)
			code, out, stderr := runCLI(t, nil, "init", "--repo", dir, "--org", "acme")
			if code != exitOK {
				t.Fatalf("init: exit %d\n%s%s", code, out, stderr)
			}
			if !strings.Contains(out, tc.summary) || strings.Count(out, "\nwrote      ") != tc.files {
				t.Errorf("init's output lacks %q or does not list %d files:\n%s", tc.summary, tc.files, out)
			}
			owners, err := os.ReadFile(filepath.Join(dir, ".github/CODEOWNERS"))
			suggested := strings.HasPrefix(string(owners), "# Code owners approve daytwo's pull requests.")
			if err != nil || suggested == (tc.example == "gitops") {
				t.Errorf("CODEOWNERS (suggested: %v, %v): the gitops example keeps its own, the others get a suggestion", suggested, err)
			}
			commitAll(t, dir, "daytwo init")
			code, out, stderr = runCLI(t, nil, "validate", "--repo", dir)
			if code != exitOK || !strings.Contains(out, ".github/daytwo.yml: valid") || strings.Contains(out, "FAIL") {
				t.Fatalf("validate: exit %d\n%s%s", code, out, stderr)
			}
			if strings.Count(out, "\nok   ") < 4 {
				t.Errorf("validate rendered too few overlays:\n%s", out)
			}
		})
	}
}

// TestInitNeverOverwrites: existing files are listed and nothing is written, unless
// --force; --dry-run writes nothing either way.
func TestInitNeverOverwrites(t *testing.T) {
	dir := checkout(t, "envs-layout", ".github")
	edited := "# mine\n"
	if err := os.MkdirAll(filepath.Join(dir, ".github"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".github/daytwo.yml"), []byte(edited), 0o644)

	code, out, stderr := runCLI(t, nil, "init", "--repo", dir)
	if code != exitUser || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(stderr, "nothing was written: these files exist already") || !strings.Contains(stderr, "  .github/daytwo.yml\n") || !strings.Contains(stderr, "--force") {
		t.Errorf("the refusal must list the files and say how to go on:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".github/ISSUE_TEMPLATE")); err == nil {
		t.Error("a refused init wrote the issue forms")
	}

	code, out, _ = runCLI(t, nil, "init", "--repo", dir, "--dry-run")
	if code != exitOK || !strings.Contains(out, "== .github/daytwo.yml (overwrites the existing file)\n# yaml-language-server") ||
		!strings.Contains(out, "== .github/CODEOWNERS (new)") || !strings.HasSuffix(out, "--dry-run: nothing was written.\n") {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ".github/daytwo.yml")); string(b) != edited {
		t.Error("--dry-run wrote the config")
	}

	code, out, stderr = runCLI(t, nil, "init", "--repo", dir, "--force")
	if code != exitOK || !strings.Contains(out, "overwrote  .github/daytwo.yml") || !strings.Contains(out, "wrote      .github/CODEOWNERS") {
		t.Fatalf("--force: exit %d\n%s%s", code, out, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ".github/daytwo.yml")); !strings.Contains(string(b), "overlay: envs/{env}/{service}") {
		t.Errorf("--force did not write the config:\n%s", b)
	}
}

// TestInitAllOrNothing: when one file cannot be written, none is, and no temporary file
// or new directory is left behind.
func TestInitAllOrNothing(t *testing.T) {
	dir := checkout(t, "argocd-apps")
	// A file where the forms' directory must go: the config is written first, the forms fail.
	os.MkdirAll(filepath.Join(dir, ".github"), 0o755)
	os.WriteFile(filepath.Join(dir, ".github/ISSUE_TEMPLATE"), []byte("not a directory\n"), 0o644)
	code, _, stderr := runCLI(t, nil, "init", "--repo", dir)
	if code == exitOK || !strings.Contains(stderr, "nothing was written") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, ".github"))
	if len(entries) != 1 || entries[0].Name() != "ISSUE_TEMPLATE" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf(".github holds %v after a failed init; want it as it was", names)
	}
}

func TestInitRefusals(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "init", "--repo", filepath.Join(t.TempDir(), "missing"))
	if code != exitUser || !strings.Contains(stderr, "is not a directory; give the GitOps checkout with --repo DIR") {
		t.Errorf("missing directory: %d %q", code, stderr)
	}
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "README.md"), []byte("hi\n"), 0o644)
	code, _, stderr = runCLI(t, nil, "init", "--repo", empty)
	if code != exitUser || !strings.Contains(stderr, "found no service to operate") {
		t.Errorf("nothing to onboard: %d %q", code, stderr)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 1 {
		t.Error("a refused init wrote something")
	}
	code, _, stderr = runCLI(t, nil, "init", "--repo", empty, "now")
	if code != exitUser || !strings.Contains(stderr, `unexpected argument "now"`) {
		t.Errorf("stray argument: %d %q", code, stderr)
	}
}
