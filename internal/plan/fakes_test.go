package plan

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// memSnapshot is a Snapshot over a map of files, for tests and benchmarks.
type memSnapshot struct {
	commit string
	files  map[string][]byte
	dirs   map[string][]string
}

func newMemSnapshot(commit string, files map[string][]byte) *memSnapshot {
	s := &memSnapshot{commit: commit, files: files, dirs: map[string][]string{}}
	seen := map[string]bool{}
	for p := range files {
		// Register p in its directory, then each directory in its parent, up to the root;
		// an entry already seen means its ancestors are registered too.
		for child := p; ; {
			parent, entry := splitDir(child)
			if child != p {
				entry += "/"
			}
			key := parent + "\x00" + entry
			if seen[key] {
				break
			}
			seen[key] = true
			s.dirs[parent] = append(s.dirs[parent], entry)
			if parent == "" {
				break
			}
			child = parent
		}
	}
	for d := range s.dirs {
		sort.Strings(s.dirs[d])
	}
	return s
}

func splitDir(p string) (string, string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

func (s *memSnapshot) Commit() string { return s.commit }

func (s *memSnapshot) ReadFile(_ context.Context, path string) ([]byte, error) {
	b, ok := s.files[path]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fs.ErrNotExist}
	}
	return b, nil
}

func (s *memSnapshot) ReadDir(_ context.Context, path string) ([]string, error) {
	path = strings.TrimSuffix(path, "/")
	if path == "." {
		path = ""
	}
	d, ok := s.dirs[path]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: path, Err: fs.ErrNotExist}
	}
	return append([]string(nil), d...), nil
}

// countingSnapshot records every path read through it.
type countingSnapshot struct {
	Snapshot
	mu    sync.Mutex
	reads []string
}

func (c *countingSnapshot) ReadFile(ctx context.Context, path string) ([]byte, error) {
	c.mu.Lock()
	c.reads = append(c.reads, path)
	c.mu.Unlock()
	return c.Snapshot.ReadFile(ctx, path)
}

func (c *countingSnapshot) ReadDir(ctx context.Context, path string) ([]string, error) {
	c.mu.Lock()
	c.reads = append(c.reads, path+"/")
	c.mu.Unlock()
	return c.Snapshot.ReadDir(ctx, path)
}

// memHistory is a linear History built commit by commit.
type memHistory struct {
	commits []memCommit // oldest first
}

type memCommit struct {
	info    CommitInfo
	snap    *memSnapshot
	changed []string
}

// commit records files as the next commit and returns its snapshot.
func (h *memHistory) commit(message string, files map[string][]byte) *memSnapshot {
	var prev map[string][]byte
	if n := len(h.commits); n > 0 {
		prev = h.commits[n-1].snap.files
	}
	var changed []string
	for p, b := range files {
		if old, ok := prev[p]; !ok || string(old) != string(b) {
			changed = append(changed, p)
		}
	}
	for p := range prev {
		if _, ok := files[p]; !ok {
			changed = append(changed, p)
		}
	}
	sort.Strings(changed)
	sum := sha1.Sum([]byte(fmt.Sprintf("%d\x00%s\x00%v", len(h.commits), message, changed)))
	sha := hex.EncodeToString(sum[:])
	snap := newMemSnapshot(sha, files)
	h.commits = append(h.commits, memCommit{
		info: CommitInfo{
			SHA:      sha,
			Message:  message,
			Trailers: ParseTrailers(message),
			Time:     time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(len(h.commits)) * time.Hour),
		},
		snap:    snap,
		changed: changed,
	})
	return snap
}

func (h *memHistory) Log(_ context.Context, paths []string, limit int) ([]CommitInfo, error) {
	var out []CommitInfo
	for i := len(h.commits) - 1; i >= 0 && len(out) < limit; i-- {
		c := h.commits[i]
		if touches(c.changed, paths) {
			out = append(out, c.info)
		}
	}
	return out, nil
}

func touches(changed, paths []string) bool {
	for _, c := range changed {
		for _, p := range paths {
			p = strings.TrimSuffix(p, "/")
			if c == p || strings.HasPrefix(c, p+"/") {
				return true
			}
		}
	}
	return false
}

func (h *memHistory) At(_ context.Context, commit string) (Snapshot, error) {
	if len(commit) >= 4 {
		for _, c := range h.commits {
			if strings.HasPrefix(c.info.SHA, commit) {
				return c.snap, nil
			}
		}
	}
	return nil, fmt.Errorf("commit %s: %w", commit, fs.ErrNotExist)
}

// readTree reads a directory of the test data into a repo map.
func readTree(t testing.TB, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", root, err)
	}
	return files
}

// writeTree replaces root with files.
func writeTree(t testing.TB, root string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	for p, b := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// apply returns files with a ChangeSet's changes applied, checking each Before.
func apply(t testing.TB, files map[string][]byte, cs *ChangeSet) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte, len(files))
	for p, b := range files {
		out[p] = b
	}
	for _, f := range cs.Files {
		cur, ok := out[f.Path]
		if (f.Before == nil) == ok || string(cur) != string(f.Before) {
			t.Fatalf("%s: Before does not match the snapshot (exists=%v)", f.Path, ok)
		}
		if f.Delete {
			delete(out, f.Path)
		} else {
			out[f.Path] = f.Content
		}
	}
	return out
}

func cloneFiles(files map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for p, b := range files {
		out[p] = b
	}
	return out
}
