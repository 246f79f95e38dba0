package overlay

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/yamledit"
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
	return slices.Sorted(maps.Keys(seen)), nil
}

func (r *repo) readPaths() []string { return slices.Sorted(maps.Keys(r.read)) }
func (r *repo) dirPaths() []string  { return slices.Sorted(maps.Keys(r.dirs)) }

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
	for _, p := range slices.Sorted(maps.Keys(all)) {
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
	out := slices.Sorted(maps.Keys(seen))
	sort.Strings(out)
	return out
}

// getReplicas reads replicas[name=name].count.
func getReplicas(kustomization []byte, name string) (int, bool, error) {
	k, err := parseKust(kustomization)
	if err != nil {
		return 0, false, err
	}
	l, err := list(k.root, "replicas")
	if err != nil {
		return 0, false, err
	}
	e, err := element(l, "name", name)
	if err != nil || e == nil {
		return 0, false, err
	}
	v, n, err := scalar(e, "count")
	if err != nil {
		return 0, false, err
	}
	if n == nil {
		return 0, false, yamledit.LineErrorf(e.YNode(), "replicas entry %s has no count", name)
	}
	c, err := strconv.Atoi(v)
	if err != nil || c < 0 {
		return 0, false, yamledit.LineErrorf(n, "replicas count %q of %s is not a whole number", v, name)
	}
	return c, true, nil
}

// getPodTemplateAnnotation reads an annotation of one workload's pod template in a patch file.
func getPodTemplateAnnotation(patch []byte, apiVersion, kind, name, key string) (string, bool, error) {
	return getPatchValue(patch, workloadRef{apiVersion, kind, name}, append(podTemplatePath(kind), "metadata", "annotations"), key)
}

// getWorkloadAnnotation reads an annotation of one workload's metadata in a patch file.
func getWorkloadAnnotation(patch []byte, apiVersion, kind, name, key string) (string, bool, error) {
	return getPatchValue(patch, workloadRef{apiVersion, kind, name}, []string{"metadata", "annotations"}, key)
}

func getPatchValue(patch []byte, w workloadRef, path []string, key string) (string, bool, error) {
	var value string
	var found bool
	_, err := editPatch(patch, w, false, func(doc *yaml.RNode) (bool, error) {
		m := doc
		for _, p := range path {
			next, err := mapField(m, p)
			if err != nil || next == nil {
				return false, err
			}
			m = next
		}
		v, n, err := scalar(m, key)
		value, found = v, n != nil
		return false, err
	})
	return value, found, err
}

// renderedYAML is the whole multi-document output of a render.
func renderedYAML(r *Rendered) []byte {
	var b strings.Builder
	for i, res := range r.Resources() {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.WriteString(res.Node.MustString())
	}
	return []byte(b.String())
}
