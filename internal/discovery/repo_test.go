package discovery

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/gitlocal"
)

// gitRepo commits files in a new repository and opens it at HEAD.
func gitRepo(t *testing.T, files []string) (string, *repository) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "x"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	ctx := context.Background()
	repo, err := gitlocal.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := repo.Snapshot(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	return dir, &repository{ctx: ctx, r: snap}
}

var treeFiles = []string{
	"a.json", "envs/dev/config.json", "envs/prod/config.json", "envs/prod/eu/config.json", "envs/dev/config.yaml",
	".hidden/config.json", "envs/.secret/config.json", "Envs/dev/config.json", "e]v/a.json", "abc/[x].json",
	"d-e/f.json", "weird name/x.json", "envs2/x.json", "x*y/z.json", "b/c.json", "c/d/e/f/g.json",
}

// The pathspec matcher agrees with `git ls-files -- <pattern>`, which reposerver runs for a
// git files generator (util/git/client.go LsFiles without new globbing).
func TestPathspecMatchesGit(t *testing.T) {
	dir, repo := gitRepo(t, treeFiles)
	patterns := []string{
		"*.json", "envs/*/config.json", "envs", "envs/", "envs/dev", "env?", "env?/*", "envs/*", "envs/[dp]*/config.json",
		"envs/[!d]*/config.json", "envs/[^d]*/config.json", "[[:upper:]]*/*/config.json", "[[:alpha:]]/*", "e]v/*",
		`abc/\[x\].json`, "abc/[[]x].json", "[a-c]bc/*", "**/config.json", "envs/**", "[]e]*", "[z-a]*", "[!z-a]*.json",
		"[", `\`, "envs/[", "*/config.*", "./envs/dev/config.json", "envs//dev/config.json", "envs/./prod/*",
		"[[:nope:]]*", "[[:alpha]*", "[a-]*", "[-a]*", `[\]]*`, `[a\-c]*`, "x*y/*", `x\*y/*`, "weird name/*",
		"c/**/g.json", "c/*/g.json", "?/c.json", "b", "b/", "a.json", "a.json/", "*",
	}
	for _, p := range patterns {
		out, err := exec.Command("git", "-C", dir, "ls-files", "-z", "--", p).Output()
		if err != nil {
			t.Fatalf("git ls-files %q: %v", p, err)
		}
		want := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if len(out) == 0 {
			want = nil
		}
		files, err := repo.GetFiles(context.Background(), "r", "HEAD", p, false, false)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		var got []string
		for f, data := range files {
			if string(data) != f {
				t.Errorf("%q: %s holds %q", p, f, data)
			}
			got = append(got, f)
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("pattern %q:\n got %q\nwant %q (git ls-files)", p, got, want)
		}
	}
}

// Directories are listed as reposerver's GetGitDirectories lists a checkout: every
// directory but the root and hidden ones (with what they hold), in walk order.
func TestDirectoriesAsReposerver(t *testing.T) {
	dir, repo := gitRepo(t, treeFiles)
	var want []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			return filepath.SkipDir
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			want = append(want, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.GetDirectories(context.Background(), "r", "HEAD", false, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestRepoPath(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/Acme/GitOps.git":     "acme/gitops",
		"https://github.com/acme/gitops/":        "acme/gitops",
		"git@github.com:acme/gitops.git":         "acme/gitops",
		"ssh://git@github.com:22/acme/gitops":    "acme/gitops",
		"https://ghe.example.com/acme/gitops":    "acme/gitops",
		"https://gitlab.com/group/sub/repo.git":  "group/sub/repo",
		"acme/gitops":                            "acme/gitops",
		"/srv/git/gitops.git":                    "",
		"../gitops":                              "",
		"file:///srv/git/gitops.git":             "",
		"https://github.com/acme/gitops-fork":    "acme/gitops-fork",
		"git@github.com:acme/gitops.git.git.git": "acme/gitops.git.git",
	} {
		if got := repoPath(in); got != want {
			t.Errorf("repoPath(%q) = %q, want %q", in, got, want)
		}
	}
}
