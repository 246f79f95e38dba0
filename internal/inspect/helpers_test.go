package inspect_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/gitlocal"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// example is a git repository holding a copy of examples/gitops, with its config loaded.
type example struct {
	dir  string
	repo *gitlocal.Repo
	cfg  *repoconfig.Config
	// clock is the commit time of the next commit; each commit moves it a minute on, so
	// history order never depends on how fast the test runs.
	clock time.Time
}

func newExample(t *testing.T) *example {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/gitops")); err != nil {
		t.Fatalf("copying the example repository: %v", err)
	}
	e := &example{dir: dir, clock: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	e.git(t, "init", "-q", "-b", "main")
	e.git(t, "add", "-A")
	e.git(t, "commit", "-q", "-m", "gitops: initial import")
	r, err := gitlocal.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	e.repo = r
	e.reloadConfig(t)
	return e
}

func (e *example) reloadConfig(t *testing.T) {
	t.Helper()
	cfg, err := repoconfig.Load([]byte(e.read(t, repoconfig.Path)))
	if err != nil {
		t.Fatalf("loading %s: %v", repoconfig.Path, err)
	}
	e.cfg = cfg
}

func (e *example) git(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", e.dir}, args...)...)
	when := e.clock.Format(time.RFC3339)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_AUTHOR_DATE="+when,
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE="+when)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (e *example) read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// commit writes files ("" deletes one) and commits them with message; it returns the sha.
func (e *example) commit(t *testing.T, message string, files map[string]string) string {
	t.Helper()
	for p, body := range files {
		full := filepath.Join(e.dir, p)
		if body == "" {
			if err := os.RemoveAll(full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.clock = e.clock.Add(time.Minute)
	e.git(t, "add", "-A")
	msgFile := filepath.Join(t.TempDir(), "message")
	if err := os.WriteFile(msgFile, []byte(message), 0o644); err != nil {
		t.Fatal(err)
	}
	e.git(t, "commit", "-q", "--allow-empty", "-F", msgFile)
	return e.git(t, "rev-parse", "HEAD")
}

func (e *example) snap(t *testing.T) *gitlocal.Snapshot {
	t.Helper()
	s, err := e.repo.Snapshot(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ptr(n int) *int { return &n }

func fmtInt(p *int) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}
