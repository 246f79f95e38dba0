// Package overlay loads, edits and renders the Kustomize overlays of a GitOps
// repository: it reads only the files an overlay references, edits kustomization and
// patch files keeping their comments, renders with krusty in memory and diffs renders.
// It knows nothing of GitHub, Argo CD, commands or configuration.
package overlay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/yamledit"
)

// Reader reads a repository at one commit. plan.Snapshot satisfies it.
type Reader interface {
	// ReadFile returns the file's bytes; the error wraps fs.ErrNotExist when it is missing.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// ReadDir lists a directory: entry names, directories ending in "/".
	ReadDir(ctx context.Context, path string) ([]string, error)
}

// Limits bound what Load reads.
type Limits struct {
	MaxFiles      int   // files read
	MaxFileBytes  int64 // bytes of one file
	MaxTotalBytes int64 // bytes of all files
	MaxDepth      int   // kustomizations nested through resources and components
}

// DefaultLimits are generous for hand-written overlays and stop runaway repositories.
var DefaultLimits = Limits{MaxFiles: 2000, MaxFileBytes: 4 << 20, MaxTotalBytes: 64 << 20, MaxDepth: 64}

// kustomizationNames are the file names kustomize recognises, in its order.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// Load reads the kustomization at dir (repo-relative, slash-separated) and every local
// file it references, transitively and nothing else. Remote references, absolute paths
// and paths leaving the repository are refused; a missing file is named with the
// kustomization that references it, and the error wraps fs.ErrNotExist.
func Load(ctx context.Context, r Reader, dir string) (*Tree, error) {
	return LoadWithLimits(ctx, r, dir, DefaultLimits)
}

// LoadWithLimits is Load with other bounds.
func LoadWithLimits(ctx context.Context, r Reader, dir string, lim Limits) (*Tree, error) {
	d, err := cleanDir(dir)
	if err != nil {
		return nil, err
	}
	l := newLoader(ctx, r, lim)
	if err := l.loadKustomization(d, nil, ""); err != nil {
		return nil, err
	}
	return &Tree{dir: d, files: l.files, limits: lim}, nil
}

func cleanDir(dir string) (string, error) {
	d := strings.TrimSuffix(dir, "/")
	if d == "" {
		d = "."
	}
	if path.IsAbs(d) {
		return "", fmt.Errorf("overlay directory %q must be relative to the repository root", dir)
	}
	d = path.Clean(d)
	if d == ".." || strings.HasPrefix(d, "../") {
		return "", fmt.Errorf("overlay directory %q is outside the repository", dir)
	}
	return d, nil
}

type loader struct {
	ctx      context.Context
	r        Reader
	lim      Limits
	files    map[string][]byte
	listings map[string]map[string]bool // dir → entry name → is a directory
	done     map[string]bool            // kustomization dirs loaded (keyed with their plugin base)
	stack    []string                   // kustomization dirs being loaded
	total    int64
}

func newLoader(ctx context.Context, r Reader, lim Limits) *loader {
	return &loader{
		ctx: ctx, r: r, lim: lim,
		files:    map[string][]byte{},
		listings: map[string]map[string]bool{},
		done:     map[string]bool{},
	}
}

// notExist is a referenced path missing from the repository.
type notExist struct{ path string }

func (e notExist) Error() string { return e.path + " does not exist" }
func (e notExist) Unwrap() error { return fs.ErrNotExist }

// ref is one path a kustomization names, kept for error messages.
type ref struct {
	kust  string // path of the kustomization file
	line  int
	field string
	value string
}

func (rf *ref) errorf(format string, args ...any) error {
	if rf == nil {
		return fmt.Errorf(format, args...)
	}
	prefix := rf.kust
	if rf.line > 0 {
		prefix += fmt.Sprintf(" line %d", rf.line)
	}
	if rf.field != "" {
		prefix += fmt.Sprintf(": %s %q", rf.field, rf.value)
	}
	return fmt.Errorf("%s: %w", prefix, fmt.Errorf(format, args...))
}

// resolve turns a reference relative to dir into a repo-relative path.
func (rf ref) resolve(dir string) (string, error) {
	v := rf.value
	switch {
	case strings.TrimSpace(v) == "":
		return "", rf.errorf("empty path")
	case isRemote(v):
		return "", rf.errorf("remote references are not supported: only files in this repository are rendered; vendor it into the repository")
	case path.IsAbs(v) || strings.HasPrefix(v, `\`) || (len(v) > 2 && v[1] == ':' && (v[2] == '\\' || v[2] == '/')):
		return "", rf.errorf("absolute paths are not supported; use a path relative to %s", dir)
	case strings.ContainsAny(v, "\x00\n\r"):
		return "", rf.errorf("not a file path")
	}
	p := path.Join(dir, v)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", rf.errorf("the path leaves the repository")
	}
	return p, nil
}

// isRemote recognises what kustomize would fetch over the network: URLs, go-getter
// style "git::" references, scp-like "user@host:path" and the github.com shorthand.
func isRemote(v string) bool {
	s := strings.ToLower(strings.TrimSpace(v))
	s = strings.TrimPrefix(s, "git::")
	if strings.Contains(s, "://") || strings.HasPrefix(s, "github.com/") || strings.HasPrefix(s, "github.com:") {
		return true
	}
	at, colon, slash := strings.IndexByte(s, '@'), strings.IndexByte(s, ':'), strings.IndexByte(s, '/')
	return at > 0 && colon > at && (slash < 0 || colon < slash)
}

func (l *loader) check() error {
	if err := l.ctx.Err(); err != nil {
		return fmt.Errorf("loading the overlay: %w", err)
	}
	return nil
}

// list reads a directory listing once.
func (l *loader) list(dir string) (map[string]bool, error) {
	if m, ok := l.listings[dir]; ok {
		return m, nil
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	names, err := l.r.ReadDir(l.ctx, dir)
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		if name, ok := strings.CutSuffix(n, "/"); ok {
			m[name] = true
		} else {
			m[n] = false
		}
	}
	l.listings[dir] = m
	return m, nil
}

// stat tells whether p is a directory, a file, or missing, from its parent's listing.
func (l *loader) stat(p string) (isDir, exists bool, err error) {
	if p == "." {
		return true, true, nil
	}
	if _, ok := l.files[p]; ok {
		return false, true, nil
	}
	if _, ok := l.listings[p]; ok {
		return true, true, nil
	}
	parent, name := path.Split(p)
	parent = strings.TrimSuffix(parent, "/")
	if parent == "" {
		parent = "."
	}
	m, err := l.list(parent)
	if errors.Is(err, fs.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("listing %s: %w", parent, err)
	}
	isDir, exists = m[name]
	return isDir, exists, nil
}

// readFile reads p, which rf names, within the limits. YAML files are checked for
// alias bombs.
func (l *loader) readFile(p string, rf ref, isYAML bool) ([]byte, error) {
	if b, ok := l.files[p]; ok {
		return b, nil
	}
	isDir, exists, err := l.stat(p)
	switch {
	case err != nil:
		return nil, rf.errorf("%w", err)
	case !exists:
		return nil, rf.errorf("%w", notExist{p})
	case isDir:
		return nil, rf.errorf("%s is a directory; a file is expected here", p)
	}
	return l.read(p, rf, isYAML)
}

func (l *loader) read(p string, rf ref, isYAML bool) ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if len(l.files) >= l.lim.MaxFiles {
		return nil, rf.errorf("the overlay references more than %d files; refusing to read more", l.lim.MaxFiles)
	}
	b, err := l.r.ReadFile(l.ctx, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, rf.errorf("%w", notExist{p})
		}
		return nil, rf.errorf("reading %s: %w", p, err)
	}
	if int64(len(b)) > l.lim.MaxFileBytes {
		return nil, rf.errorf("%s is %d bytes, more than the %d bytes allowed for one file", p, len(b), l.lim.MaxFileBytes)
	}
	l.total += int64(len(b))
	if l.total > l.lim.MaxTotalBytes {
		return nil, rf.errorf("the overlay's files exceed %d bytes in total", l.lim.MaxTotalBytes)
	}
	if isYAML && strings.Contains(string(b), "*") {
		// Only a document with an alias can expand; most files have none.
		if _, err := yamledit.Parse(b); err != nil {
			return nil, fmt.Errorf("%s %w", p, err)
		}
	}
	l.files[p] = b
	return b, nil
}

// loadKustomization loads the kustomization in dir and what it references. from is
// the reference that led here (nil for the overlay itself). pluginBase, when set, is the
// directory of a kustomization listing dir under generators/transformers/validators:
// the resources of dir are then plugin configurations whose paths resolve there.
func (l *loader) loadKustomization(dir string, from *ref, pluginBase string) error {
	key := dir + "\x00" + pluginBase
	if l.done[key] {
		return nil
	}
	for i, d := range l.stack {
		if d == dir {
			return fmt.Errorf("kustomizations reference each other in a cycle: %s", strings.Join(append(l.stack[i:], dir), " → "))
		}
	}
	if len(l.stack) >= l.lim.MaxDepth {
		return from.errorf("kustomizations are nested more than %d deep", l.lim.MaxDepth)
	}
	l.stack = append(l.stack, dir)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()

	entries, err := l.list(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return from.errorf("%w", notExist{dir})
	}
	if err != nil {
		return from.errorf("listing %s: %w", dir, err)
	}
	var found []string
	for _, n := range kustomizationNames {
		if isDir, ok := entries[n]; ok && !isDir {
			found = append(found, n)
		}
	}
	switch {
	case len(found) == 0:
		return from.errorf("%w", notExist{path.Join(dir, "kustomization.yaml")})
	case len(found) > 1:
		return fmt.Errorf("%s has several kustomization files (%s); kustomize refuses that", dir, strings.Join(found, ", "))
	}
	kp := path.Join(dir, found[0])
	self := ref{kust: kp}
	if from != nil {
		self = *from
	}
	b, err := l.read(kp, self, false)
	if err != nil {
		return err
	}
	docs, err := yamledit.Parse(b)
	if err != nil {
		return fmt.Errorf("%s %w", kp, err)
	}
	if len(docs) > 1 {
		return fmt.Errorf("%s holds %d YAML documents; a kustomization is one document", kp, len(docs))
	}
	if len(docs) == 1 && len(docs[0].Content) > 0 {
		if err := l.walk(dir, kp, docs[0].Content[0], pluginBase); err != nil {
			return err
		}
	}
	l.done[key] = true
	return nil
}

// walk loads every path the kustomization at kp (in dir) references.
func (l *loader) walk(dir, kp string, root *yaml.Node, pluginBase string) error {
	root = yamledit.Deref(root)
	if yamledit.IsNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s %w", kp, yamledit.LineErrorf(root, "a kustomization must be a mapping, not %s", yamledit.KindName(root)))
	}
	for _, kv := range yamledit.Pairs(root) {
		k, v := kv[0], kv[1]
		field := k.Value
		var err error
		switch strings.ToLower(field) {
		case "resources", "bases":
			err = l.eachString(kp, field, v, func(rf ref) error { return l.resource(dir, rf, pluginBase) })
		case "components":
			err = l.eachString(kp, field, v, func(rf ref) error { return l.directory(dir, rf, "") })
		case "crds", "configurations":
			err = l.eachString(kp, field, v, func(rf ref) error { return l.file(dir, rf, true) })
		case "openapi":
			err = l.eachField(kp, field, v, "path", func(rf ref) error { return l.file(dir, rf, true) })
		case "patches", "patchesjson6902", "replacements":
			err = l.eachMapping(kp, field, v, func(m *yaml.Node) error {
				return l.eachField(kp, field+"[].path", m, "path", func(rf ref) error { return l.file(dir, rf, true) })
			})
		case "patchesstrategicmerge":
			err = l.eachString(kp, field, v, func(rf ref) error {
				if inlineYAML(rf.value) != nil {
					return nil
				}
				return l.file(dir, rf, true)
			})
		case "configmapgenerator", "secretgenerator":
			err = l.eachMapping(kp, field, v, func(m *yaml.Node) error { return l.generator(dir, kp, field, m) })
		case "generators", "transformers", "validators":
			err = l.eachString(kp, field, v, func(rf ref) error { return l.plugin(dir, rf) })
		case "helmcharts", "helmchartinflationgenerator", "helmglobals":
			err = fmt.Errorf("%s %w", kp, yamledit.LineErrorf(k, "%s needs Helm, which is not run here; the overlay cannot be rendered and checked", field))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// listEntries is the entries of the list field v of the kustomization kp: none for a
// missing or null field.
func listEntries(kp, field string, v *yaml.Node) ([]*yaml.Node, error) {
	v = yamledit.Deref(v)
	if yamledit.IsNull(v) {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s %w", kp, yamledit.LineErrorf(v, "%s must be a list, not %s", field, yamledit.KindName(v)))
	}
	return v.Content, nil
}

// eachString calls fn for every entry of a list of strings.
func (l *loader) eachString(kp, field string, v *yaml.Node, fn func(ref) error) error {
	entries, err := listEntries(kp, field, v)
	if err != nil {
		return err
	}
	for _, e := range entries {
		e = yamledit.Deref(e)
		if e.Kind != yaml.ScalarNode || yamledit.IsNull(e) {
			return fmt.Errorf("%s %w", kp, yamledit.LineErrorf(e, "entries of %s must be strings", field))
		}
		if err := fn(ref{kust: kp, line: e.Line, field: field, value: e.Value}); err != nil {
			return err
		}
	}
	return nil
}

// eachMapping calls fn for every mapping of a list.
func (l *loader) eachMapping(kp, field string, v *yaml.Node, fn func(*yaml.Node) error) error {
	entries, err := listEntries(kp, field, v)
	if err != nil {
		return err
	}
	for _, e := range entries {
		e = yamledit.Deref(e)
		if e.Kind != yaml.MappingNode {
			return fmt.Errorf("%s %w", kp, yamledit.LineErrorf(e, "entries of %s must be mappings, not %s", field, yamledit.KindName(e)))
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// eachField calls fn with the string value of m's field name, when set.
func (l *loader) eachField(kp, field string, m *yaml.Node, name string, fn func(ref) error) error {
	m = yamledit.Deref(m)
	if yamledit.IsNull(m) {
		return nil
	}
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("%s %w", kp, yamledit.LineErrorf(m, "%s must be a mapping, not %s", field, yamledit.KindName(m)))
	}
	for _, kv := range yamledit.Pairs(m) {
		if !strings.EqualFold(kv[0].Value, name) {
			continue
		}
		v := yamledit.Deref(kv[1])
		if yamledit.IsNull(v) {
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s %w", kp, yamledit.LineErrorf(v, "%s must be a string", field))
		}
		if err := fn(ref{kust: kp, line: v.Line, field: field, value: v.Value}); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) file(dir string, rf ref, isYAML bool) error {
	p, err := rf.resolve(dir)
	if err != nil {
		return err
	}
	_, err = l.readFile(p, rf, isYAML)
	return err
}

// directory loads a kustomization directory (components, bases).
func (l *loader) directory(dir string, rf ref, pluginBase string) error {
	p, isDir, err := l.find(dir, rf)
	switch {
	case err != nil:
		return err
	case !isDir:
		return rf.errorf("%s is a file; a directory with a kustomization is expected here", p)
	}
	return l.loadKustomization(p, &rf, pluginBase)
}

// find resolves rf from dir and reports whether it names a directory; a path that does
// not exist is an error.
func (l *loader) find(dir string, rf ref) (p string, isDir bool, err error) {
	if p, err = rf.resolve(dir); err != nil {
		return "", false, err
	}
	isDir, exists, err := l.stat(p)
	switch {
	case err != nil:
		return "", false, rf.errorf("%w", err)
	case !exists:
		return "", false, rf.errorf("%w", notExist{p})
	}
	return p, isDir, nil
}

// resource loads a resources entry: a file of objects or a kustomization directory.
func (l *loader) resource(dir string, rf ref, pluginBase string) error {
	return l.fileOrKustomization(dir, rf, pluginBase, pluginBase != "")
}

// fileOrKustomization loads what rf names from dir: a kustomization directory, or a YAML
// file whose documents are plugin configurations resolving from pluginBase when configs
// is set.
func (l *loader) fileOrKustomization(dir string, rf ref, pluginBase string, configs bool) error {
	p, isDir, err := l.find(dir, rf)
	switch {
	case err != nil:
		return err
	case isDir:
		return l.loadKustomization(p, &rf, pluginBase)
	}
	b, err := l.read(p, rf, true)
	if err != nil || !configs {
		return err
	}
	return l.pluginConfigs(pluginBase, p, b)
}

// plugin loads a generators/transformers/validators entry: inline configuration, a file
// of configurations or a kustomization directory of them. Paths inside configurations
// resolve from dir, the kustomization that lists them.
func (l *loader) plugin(dir string, rf ref) error {
	if docs := inlineYAML(rf.value); docs != nil {
		for _, d := range docs {
			if err := l.pluginConfig(dir, rf.kust, d); err != nil {
				return err
			}
		}
		return nil
	}
	return l.fileOrKustomization(dir, rf, dir, true)
}

func (l *loader) pluginConfigs(base, p string, b []byte) error {
	docs, err := yamledit.Parse(b)
	if err != nil {
		return fmt.Errorf("%s %w", p, err)
	}
	for _, d := range docs {
		if err := l.pluginConfig(base, p, d); err != nil {
			return err
		}
	}
	return nil
}

// pluginConfig loads the files a builtin plugin configuration names. Other plugins
// cannot run (krusty's default options allow builtins only) and reference nothing here.
func (l *loader) pluginConfig(base, p string, doc *yaml.Node) error {
	m := doc
	if m.Kind == yaml.DocumentNode {
		if len(m.Content) == 0 {
			return nil
		}
		m = m.Content[0]
	}
	m = yamledit.Deref(m)
	if m.Kind != yaml.MappingNode {
		return nil
	}
	kind := ""
	for _, kv := range yamledit.Pairs(m) {
		if kv[0].Value == "kind" {
			kind = yamledit.Deref(kv[1]).Value
		}
	}
	fileField := func(field string) error {
		return l.eachField(p, kind+"."+field, m, field, func(rf ref) error { return l.file(base, rf, true) })
	}
	switch kind {
	case "PatchTransformer", "PatchJson6902Transformer":
		return fileField("path")
	case "PatchStrategicMergeTransformer":
		for _, kv := range yamledit.Pairs(m) {
			if kv[0].Value != "paths" {
				continue
			}
			err := l.eachString(p, kind+".paths", kv[1], func(rf ref) error {
				if inlineYAML(rf.value) != nil {
					return nil
				}
				return l.file(base, rf, true)
			})
			if err != nil {
				return err
			}
		}
	case "ReplacementTransformer":
		for _, kv := range yamledit.Pairs(m) {
			if kv[0].Value != "replacements" {
				continue
			}
			err := l.eachMapping(p, kind+".replacements", kv[1], func(r *yaml.Node) error {
				return l.eachField(p, kind+".replacements[].path", r, "path", func(rf ref) error { return l.file(base, rf, true) })
			})
			if err != nil {
				return err
			}
		}
	case "ConfigMapGenerator", "SecretGenerator":
		return l.generator(base, p, kind, m)
	case "HelmChartInflationGenerator":
		return fmt.Errorf("%s %w", p, yamledit.LineErrorf(m, "%s needs Helm, which is not run here; the overlay cannot be rendered and checked", kind))
	}
	return nil
}

// generator loads the files and env files of a ConfigMap or Secret generator.
func (l *loader) generator(dir, kp, field string, m *yaml.Node) error {
	for _, kv := range yamledit.Pairs(m) {
		k := kv[0].Value
		var err error
		switch strings.ToLower(k) {
		case "files":
			err = l.eachString(kp, field+"[]."+k, kv[1], func(rf ref) error {
				// "[key=]path"; a malformed source is left for kustomize to report.
				src := rf.value
				switch strings.Count(src, "=") {
				case 0:
				case 1:
					_, rf.value, _ = strings.Cut(src, "=")
					if rf.value == "" || strings.HasPrefix(src, "=") {
						return nil
					}
				default:
					return nil
				}
				return l.file(dir, rf, false)
			})
		case "envs":
			err = l.eachString(kp, field+"[]."+k, kv[1], func(rf ref) error { return l.file(dir, rf, false) })
		case "env":
			err = l.eachField(kp, field+"[]."+k, m, k, func(rf ref) error { return l.file(dir, rf, false) })
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// inlineYAML returns the documents of s when s is inline YAML objects rather than a
// path, as kustomize decides for patchesStrategicMerge and plugin entries.
func inlineYAML(s string) []*yaml.Node {
	if !strings.ContainsAny(s, ":\n{") {
		return nil
	}
	docs, err := yamledit.Parse([]byte(s))
	if err != nil || len(docs) == 0 {
		return nil
	}
	for _, d := range docs {
		if len(d.Content) == 0 || yamledit.Deref(d.Content[0]).Kind != yaml.MappingNode {
			return nil
		}
	}
	return docs
}
