package overlay

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// repo is an in-memory repository that records what is read.
type repo struct {
	files map[string][]byte

	mu    sync.Mutex
	read  map[string]int
	dirs  map[string]int
	fail  map[string]error // path → error returned by ReadFile/ReadDir
	calls int
}

func newRepo(files map[string]string) *repo {
	r := &repo{files: map[string][]byte{}}
	for p, c := range files {
		r.files[p] = []byte(c)
	}
	r.reset()
	return r
}

func (r *repo) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.read, r.dirs, r.calls = map[string]int{}, map[string]int{}, 0
}

func (r *repo) add(prefix string, files map[string][]byte) {
	for p, b := range files {
		r.files[path.Join(prefix, p)] = b
	}
}

func (r *repo) ReadFile(ctx context.Context, p string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.read[p]++
	r.calls++
	if err := r.fail[p]; err != nil {
		return nil, err
	}
	b, ok := r.files[p]
	if !ok {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return b, nil
}

func (r *repo) ReadDir(ctx context.Context, p string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dirs[p]++
	r.calls++
	if err := r.fail[p]; err != nil {
		return nil, err
	}
	prefix := p + "/"
	if p == "." || p == "" {
		prefix = ""
	}
	seen := map[string]bool{}
	for f := range r.files {
		rest, ok := strings.CutPrefix(f, prefix)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seen[rest[:i+1]] = true
		} else {
			seen[rest] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return sortedKeys(seen), nil
}

func (r *repo) readPaths() []string { return sortedKeys(r.read) }
func (r *repo) dirPaths() []string  { return sortedKeys(r.dirs) }

// readTree reads a directory of testdata into repo-relative paths.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return out
}

func writeTree(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compareTrees fails with a file diff for every difference.
func compareTrees(t testing.TB, got, want map[string][]byte) {
	t.Helper()
	all := map[string]bool{}
	for p := range got {
		all[p] = true
	}
	for p := range want {
		all[p] = true
	}
	for _, p := range sortedKeys(all) {
		g, w := got[p], want[p]
		if string(g) != string(w) || (g == nil) != (w == nil) {
			t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", p, FileDiff(p, w, g))
		}
	}
}

// field reads a scalar of a rendered resource.
func field(t testing.TB, res Resource, path ...string) string {
	t.Helper()
	n, err := res.Node.Pipe(yaml.Lookup(path...))
	if err != nil {
		t.Fatalf("%s: %v", res.ID(), err)
	}
	if n == nil {
		return ""
	}
	return n.YNode().Value
}

func mustFind(t testing.TB, r *Rendered, kind, name string) Resource {
	t.Helper()
	res, ok := r.Find(kind, name)
	if !ok {
		var ids []string
		for _, x := range r.Resources() {
			ids = append(ids, x.ID())
		}
		t.Fatalf("%s/%s not rendered; got %v", kind, name, ids)
	}
	return res
}

// diffHeaders lists the "+++"/"---" resource names of a rendered diff.
func diffIDs(d string) []string {
	seen := map[string]bool{}
	for _, line := range strings.Split(d, "\n") {
		for _, p := range []string{"--- a/", "+++ b/"} {
			if id, ok := strings.CutPrefix(line, p); ok {
				seen[id] = true
			}
		}
	}
	out := sortedKeys(seen)
	sort.Strings(out)
	return out
}
