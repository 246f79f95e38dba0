// Package gitlocal is the local-clone adapter for the command line: it reads a repository
// at a commit through the git CLI and writes a change as a new branch and commit without
// touching HEAD, the index or the working tree.
package gitlocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// Repo is a local git repository.
type Repo struct {
	dir string
}

// Open checks that dir is inside a git work tree or is a bare repository.
func Open(ctx context.Context, dir string) (*Repo, error) {
	r := &Repo{dir: dir}
	if _, err := r.git(ctx, nil, nil, "rev-parse", "--git-dir"); err != nil {
		return nil, fmt.Errorf("%s is not a git repository", dir)
	}
	return r, nil
}

// Resolve turns a revision (HEAD, a branch, an abbreviated sha) into a full commit sha.
func (r *Repo) Resolve(ctx context.Context, rev string) (string, error) {
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("invalid revision %q", rev)
	}
	out, err := r.git(ctx, nil, nil, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("%w: no commit %q in %s", fs.ErrNotExist, rev, r.dir)
	}
	return strings.TrimSpace(string(out)), nil
}

// RemoteURLs are the URLs of the repository's remotes; none for a repository without one.
func (r *Repo) RemoteURLs(ctx context.Context) []string {
	out, err := r.git(ctx, nil, nil, "config", "--get-regexp", `^remote\..*\.url$`)
	if err != nil { // exit status 1: no remote
		return nil
	}
	var urls []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if _, u, ok := strings.Cut(line, " "); ok && u != "" {
			urls = append(urls, u)
		}
	}
	return urls
}

// Snapshot opens the repository at rev.
func (r *Repo) Snapshot(ctx context.Context, rev string) (*Snapshot, error) {
	sha, err := r.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	return &Snapshot{repo: r, commit: sha}, nil
}

// Snapshot is the repository at one commit; it implements plan.Snapshot.
type Snapshot struct {
	repo   *Repo
	commit string
}

var _ plan.Snapshot = (*Snapshot)(nil)

// Commit is the full sha.
func (s *Snapshot) Commit() string { return s.commit }

// ReadFile returns the blob at path in the commit.
func (s *Snapshot) ReadFile(ctx context.Context, p string) ([]byte, error) {
	p, err := clean(p)
	if err != nil {
		return nil, err
	}
	out, err := s.repo.git(ctx, nil, nil, "cat-file", "blob", s.commit+":"+p)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", p, clip.SHA(s.commit), fs.ErrNotExist)
	}
	return out, nil
}

// ReadDir lists a directory of the commit; subdirectories end in "/".
func (s *Snapshot) ReadDir(ctx context.Context, p string) ([]string, error) {
	p, err := clean(p)
	if err != nil {
		return nil, err
	}
	spec := s.commit + ":" + p
	if p == "." {
		spec = s.commit + ":"
	}
	out, err := s.repo.git(ctx, nil, nil, "ls-tree", "-z", spec)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", p, clip.SHA(s.commit), fs.ErrNotExist)
	}
	var names []string
	for _, rec := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		meta, name, ok := strings.Cut(rec, "\t")
		if !ok {
			continue
		}
		if f := strings.Fields(meta); len(f) == 3 && f[1] == "tree" {
			name += "/"
		}
		names = append(names, name)
	}
	return names, nil
}

// History reads earlier commits of the repository, from a starting commit back.
type History struct {
	repo *Repo
	from string
}

var _ plan.History = (*History)(nil)

// History returns the history that ends at the snapshot's commit.
func (s *Snapshot) History() *History { return &History{repo: s.repo, from: s.commit} }

// Log lists commits touching paths, newest first.
func (h *History) Log(ctx context.Context, paths []string, limit int) ([]plan.CommitInfo, error) {
	args := []string{"log", "--format=%H%x1f%ct%x1f%B%x1f%(trailers:only,unfold)%x1e", "-n", strconv.Itoa(limit), h.from, "--"}
	for _, p := range paths {
		cp, err := clean(p)
		if err != nil {
			return nil, err
		}
		args = append(args, cp)
	}
	out, err := h.repo.git(ctx, nil, nil, args...)
	if err != nil {
		return nil, err
	}
	var commits []plan.CommitInfo
	for _, rec := range strings.Split(string(out), "\x1e") {
		rec = strings.TrimLeft(rec, "\n")
		if rec == "" {
			continue
		}
		f := strings.SplitN(rec, "\x1f", 4)
		if len(f) != 4 {
			continue
		}
		secs, _ := strconv.ParseInt(f[1], 10, 64)
		commits = append(commits, plan.CommitInfo{
			SHA:      f[0],
			Message:  strings.TrimRight(f[2], "\n"),
			Trailers: parseTrailers(f[3]),
			Time:     time.Unix(secs, 0).UTC(),
		})
	}
	return commits, nil
}

// At opens the snapshot at commit.
func (h *History) At(ctx context.Context, commit string) (plan.Snapshot, error) {
	return h.repo.Snapshot(ctx, commit)
}

func parseTrailers(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && k != "" && !strings.ContainsAny(k, " \t") {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// Author is the identity written on commits daytwo makes locally.
type Author struct{ Name, Email string }

// ErrBranchExists is returned when the deterministic branch of a change already exists.
var ErrBranchExists = errors.New("branch already exists")

// WriteBranch commits files on top of base into a new branch, using a private index so
// HEAD, the index and the working tree stay as they are. It returns the new commit.
func (r *Repo) WriteBranch(ctx context.Context, base, branch string, files []plan.FileChange, message string, who Author) (string, error) {
	if err := r.validBranch(ctx, branch); err != nil {
		return "", err
	}
	if _, err := r.Resolve(ctx, "refs/heads/"+branch); err == nil {
		return "", fmt.Errorf("%w: %s", ErrBranchExists, branch)
	}
	tmp, err := os.CreateTemp("", "daytwo-index-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	env := []string{"GIT_INDEX_FILE=" + tmp.Name()}

	if _, err := r.git(ctx, env, nil, "read-tree", base); err != nil {
		return "", err
	}
	for _, f := range files {
		p, err := clean(f.Path)
		if err != nil {
			return "", err
		}
		if f.Delete {
			if _, err := r.git(ctx, env, nil, "update-index", "--force-remove", "--", p); err != nil {
				return "", err
			}
			continue
		}
		sha, err := r.git(ctx, env, f.Content, "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		info := "100644," + strings.TrimSpace(string(sha)) + "," + p
		if _, err := r.git(ctx, env, nil, "update-index", "--add", "--cacheinfo", info); err != nil {
			return "", err
		}
	}
	tree, err := r.git(ctx, env, nil, "write-tree")
	if err != nil {
		return "", err
	}
	when := strconv.FormatInt(time.Now().Unix(), 10) + " +0000"
	cenv := append(env, "GIT_AUTHOR_NAME="+who.Name, "GIT_AUTHOR_EMAIL="+who.Email, "GIT_AUTHOR_DATE="+when,
		"GIT_COMMITTER_NAME="+who.Name, "GIT_COMMITTER_EMAIL="+who.Email, "GIT_COMMITTER_DATE="+when)
	commit, err := r.git(ctx, cenv, []byte(message), "commit-tree", strings.TrimSpace(string(tree)), "-p", base, "-F", "-")
	if err != nil {
		return "", err
	}
	sha := strings.TrimSpace(string(commit))
	// The all-zero old value makes update-ref fail if another writer created the branch meanwhile.
	if _, err := r.git(ctx, nil, nil, "update-ref", "refs/heads/"+branch, sha, strings.Repeat("0", 40)); err != nil {
		return "", fmt.Errorf("%w: %s", ErrBranchExists, branch)
	}
	return sha, nil
}

func (r *Repo) validBranch(ctx context.Context, branch string) error {
	if _, err := r.git(ctx, nil, nil, "check-ref-format", "--branch", branch); err != nil || strings.HasPrefix(branch, "-") {
		return fmt.Errorf("%q is not a valid branch name", branch)
	}
	return nil
}

func (r *Repo) git(ctx context.Context, env []string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", r.dir}, args...)...)
	// A user's config must not change what daytwo reads or writes (e.g. a commit template).
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	cmd.Env = append(cmd.Env, env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// clean refuses paths that could leave the repository or confuse git.
func clean(p string) (string, error) {
	if p == "" || p == "." || p == "/" {
		return ".", nil
	}
	c := path.Clean(strings.TrimSuffix(p, "/"))
	if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") || strings.HasPrefix(c, "-") || strings.ContainsAny(c, "\x00\n\r") {
		return "", fmt.Errorf("path %q is outside the repository", p)
	}
	return c, nil
}
