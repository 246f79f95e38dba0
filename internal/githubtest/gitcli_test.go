package githubtest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// git runs the git CLI in dir with a fixed identity and dates.
func git(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null",
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com", "GIT_AUTHOR_DATE=2024-05-06T07:08:09Z",
		"GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.com", "GIT_COMMITTER_DATE=2024-05-06T07:08:09Z",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestObjectIDsMatchGitCLI checks blob, tree and commit ids against git itself.
func TestObjectIDsMatchGitCLI(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("the git CLI is required (make test installs it)")
	}
	s, repo, gh := setup(t)
	ctx := context.Background()
	dir := t.TempDir()
	git(t, dir, "", "init", "-q")

	files := map[string]string{
		"README.md":                "# gitops\n",
		"apps/web/base/deploy.yml": "kind: Deployment\nmetadata:\n  name: web\n",
		"apps/web-api/x.yaml":      "x: 1\n", // "web-api" sorts between "web" and "web/" in git's order
		"apps/web.txt":             "dot sorts before slash\n",
		"empty":                    "",
	}
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "", "add", "-A")
	wantTree := git(t, dir, "", "write-tree")

	blob, _, err := gh.Git.CreateBlob(ctx, "acme", "gitops", &github.Blob{Content: github.String(files["apps/web/base/deploy.yml"]), Encoding: github.String("utf-8")})
	if err != nil {
		t.Fatal(err)
	}
	if want := git(t, dir, files["apps/web/base/deploy.yml"], "hash-object", "--stdin"); blob.GetSHA() != want {
		t.Fatalf("blob sha = %s, git hash-object = %s", blob.GetSHA(), want)
	}

	// The same files through the Go API (SeedDir keeps the executable bit) ...
	seeded := repo.SeedDir("seeded", dir)
	c, _ := repo.GetCommit(seeded)
	if c.Tree != wantTree {
		t.Fatalf("SeedDir tree = %s, git write-tree = %s", c.Tree, wantTree)
	}
	// ... and through POST /git/trees with inline content, no base tree.
	var entries []*github.TreeEntry
	for p, content := range files {
		entries = append(entries, &github.TreeEntry{Path: github.String(p), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String(content)})
	}
	entries = append(entries, &github.TreeEntry{Path: github.String("run.sh"), Mode: github.String("100755"), Type: github.String("blob"), Content: github.String("#!/bin/sh\necho hi\n")})
	tree, _, err := gh.Git.CreateTree(ctx, "acme", "gitops", "", entries)
	if err != nil {
		t.Fatal(err)
	}
	if tree.GetSHA() != wantTree {
		t.Fatalf("CreateTree sha = %s, git write-tree = %s", tree.GetSHA(), wantTree)
	}
	// git ls-tree -r and the recursive tree API list the same entries.
	got, _, err := gh.Git.GetTree(ctx, "acme", "gitops", tree.GetSHA(), true)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range got.Entries {
		lines = append(lines, e.GetMode()+" "+e.GetType()+" "+e.GetSHA()+"\t"+e.GetPath())
	}
	if want := git(t, dir, "", "ls-tree", "-r", "-t", wantTree); strings.Join(lines, "\n") != want {
		t.Fatalf("recursive tree:\n%s\ngit ls-tree -r -t:\n%s", strings.Join(lines, "\n"), want)
	}

	// A commit with explicit author and committer hashes like git commit-tree.
	date := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	sig := &github.CommitAuthor{Name: github.String("Ada"), Email: github.String("ada@example.com"), Date: &github.Timestamp{Time: date}}
	commit, _, err := gh.Git.CreateCommit(ctx, "acme", "gitops", &github.Commit{Message: github.String("seed\n"), Tree: &github.Tree{SHA: tree.SHA}, Author: sig, Committer: sig}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := git(t, dir, "seed\n", "commit-tree", wantTree); commit.GetSHA() != want {
		t.Fatalf("commit sha = %s, git commit-tree = %s", commit.GetSHA(), want)
	}
	if s.CountRequests("POST", "/repos/acme/gitops/git/") != 3 {
		t.Fatalf("git data writes logged: %d", s.CountRequests("POST", "/repos/acme/gitops/git/"))
	}
}

// TestPushToMirrorsCommits checks that a bare repository fed by PushTo holds the same
// commits, readable and consistent for git itself.
func TestPushToMirrorsCommits(t *testing.T) {
	_, repo, _ := setup(t)
	bare := t.TempDir()
	git(t, bare, "", "init", "-q", "--bare", "-b", "main", ".")
	if err := repo.PushTo(bare, "main"); err != nil {
		t.Fatal(err)
	}
	head, _ := repo.BranchSHA("main")
	if got := git(t, bare, "", "rev-parse", "main"); got != head {
		t.Fatalf("mirror main = %s, want %s", got, head)
	}
	git(t, bare, "", "fsck", "--strict")
	next := repo.Commit("main", "second", map[string]string{"apps/web/base/deployment.yaml": "kind: Deployment\nmetadata: {name: web}\n"})
	if err := repo.PushTo(bare, "main"); err != nil {
		t.Fatal(err)
	}
	if got := git(t, bare, "", "show", "main:apps/web/base/deployment.yaml"); !strings.Contains(got, "name: web") || git(t, bare, "", "rev-parse", "main") != next {
		t.Fatalf("after a second push: %q", got)
	}
	if err := repo.PushTo(bare, "nope"); err == nil {
		t.Error("an unknown branch must be refused")
	}
}
