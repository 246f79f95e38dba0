package gitlocal

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/plan"
)

func sh(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func newRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	sh(t, dir, "init", "-q", "-b", "main")
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sh(t, dir, "add", "-A")
	sh(t, dir, "commit", "-q", "-m", "initial")
	return dir
}

func TestSnapshotReads(t *testing.T) {
	ctx := context.Background()
	dir := newRepo(t, map[string]string{"apps/web/overlays/dev/kustomization.yaml": "resources: []\n", "README.md": "hi\n"})
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Snapshot(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Commit()) != 40 {
		t.Fatalf("commit %q is not a full sha", s.Commit())
	}
	got, err := s.ReadFile(ctx, "apps/web/overlays/dev/kustomization.yaml")
	if err != nil || string(got) != "resources: []\n" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	if _, err := s.ReadFile(ctx, "nope.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file error = %v, want fs.ErrNotExist", err)
	}
	if _, err := s.ReadFile(ctx, "../etc/passwd"); err == nil || !strings.Contains(err.Error(), "outside the repository") {
		t.Fatalf("escaping path error = %v", err)
	}
	names, err := s.ReadDir(ctx, "")
	if err != nil || !reflect.DeepEqual(names, []string{"README.md", "apps/"}) {
		t.Fatalf("ReadDir root = %v, %v", names, err)
	}
	if _, err := s.ReadDir(ctx, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing dir error = %v", err)
	}
	if _, err := Open(ctx, t.TempDir()); err == nil {
		t.Fatal("Open accepted a directory that is not a repository")
	}
}

func TestWriteBranchLeavesHeadAndWorktree(t *testing.T) {
	ctx := context.Background()
	dir := newRepo(t, map[string]string{"a.yaml": "a: 1\n", "gone.yaml": "x\n"})
	r, _ := Open(ctx, dir)
	head := sh(t, dir, "rev-parse", "HEAD")
	msg := "web/dev: scale to 3\n\nDaytwo-Action: scale\nDaytwo-Requester: alice\n"
	commit, err := r.WriteBranch(ctx, head, "daytwo/dev/web/scale-1234abcd", []plan.FileChange{
		{Path: "a.yaml", Content: []byte("a: 2\n")},
		{Path: "new/b.yaml", Content: []byte("b: 1\n")},
		{Path: "gone.yaml", Delete: true},
	}, msg, Author{Name: "daytwo", Email: "daytwo@localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if sh(t, dir, "rev-parse", "HEAD") != head {
		t.Fatal("HEAD moved")
	}
	if st := sh(t, dir, "status", "--porcelain"); st != "" {
		t.Fatalf("working tree or index changed:\n%s", st)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.yaml")); string(b) != "a: 1\n" {
		t.Fatal("working tree file changed")
	}
	if got := sh(t, dir, "show", commit+":a.yaml"); got != "a: 2" {
		t.Fatalf("branch a.yaml = %q", got)
	}
	if got := sh(t, dir, "ls-tree", "-r", "--name-only", commit); got != "a.yaml\nnew/b.yaml" {
		t.Fatalf("branch tree = %q", got)
	}
	if got := sh(t, dir, "rev-parse", "daytwo/dev/web/scale-1234abcd"); got != commit {
		t.Fatalf("branch points at %s, want %s", got, commit)
	}

	s, _ := r.Snapshot(ctx, commit)
	log, err := s.History().Log(ctx, []string{"a.yaml"}, 10)
	if err != nil || len(log) != 2 {
		t.Fatalf("Log = %+v, %v", log, err)
	}
	if log[0].SHA != commit || log[0].Trailers["Daytwo-Action"] != "scale" || log[0].Trailers["Daytwo-Requester"] != "alice" {
		t.Fatalf("newest commit = %+v", log[0])
	}
	if len(log[1].Trailers) != 0 {
		t.Fatalf("initial commit has trailers %v", log[1].Trailers)
	}

	if _, err := r.WriteBranch(ctx, head, "daytwo/dev/web/scale-1234abcd", nil, "again", Author{Name: "d", Email: "d@x"}); !errors.Is(err, ErrBranchExists) {
		t.Fatalf("second write error = %v, want ErrBranchExists", err)
	}
	if _, err := r.WriteBranch(ctx, head, "bad..name", nil, "m", Author{Name: "d", Email: "d@x"}); err == nil {
		t.Fatal("invalid branch name accepted")
	}
}

func TestRemoteURLs(t *testing.T) {
	ctx := context.Background()
	dir := newRepo(t, map[string]string{"README.md": "hi\n"})
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.RemoteURLs(ctx); got != nil {
		t.Fatalf("no remote: %q", got)
	}
	sh(t, dir, "remote", "add", "origin", "git@github.com:acme/gitops.git")
	sh(t, dir, "remote", "add", "upstream", "https://github.com/up/gitops")
	if got := r.RemoteURLs(ctx); !reflect.DeepEqual(got, []string{"git@github.com:acme/gitops.git", "https://github.com/up/gitops"}) {
		t.Fatalf("remotes: %q", got)
	}
}
