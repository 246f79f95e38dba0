package githubtest

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Git object types, as written in an object's header.
const (
	typeBlob   = "blob"
	typeTree   = "tree"
	typeCommit = "commit"
)

// Tree entry modes as the REST API spells them (git itself writes trees as "40000").
const (
	modeFile    = "100644"
	modeExec    = "100755"
	modeTree    = "040000"
	modeSymlink = "120000"
	modeGitlink = "160000"
)

// object is a stored git object: its type and the bytes git hashes after the header.
type object struct {
	typ  string
	data []byte
}

// hashObject computes the object id exactly as `git hash-object -t typ` does.
func hashObject(typ string, data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typ, len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// treeEntry is one line of a tree object.
type treeEntry struct {
	mode string // REST spelling: 100644, 100755, 040000, 120000, 160000
	name string
	sha  string
}

func (e treeEntry) objType() string {
	switch e.mode {
	case modeTree:
		return typeTree
	case modeGitlink:
		return typeCommit
	}
	return typeBlob
}

// gitTreeLess orders entries as git does: by name, a tree's name compared as if it ended in "/".
func gitTreeLess(a, b treeEntry) bool {
	an, bn := a.name, b.name
	if a.mode == modeTree {
		an += "/"
	}
	if b.mode == modeTree {
		bn += "/"
	}
	return an < bn
}

func encodeTree(entries []treeEntry) ([]byte, error) {
	sorted := append([]treeEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return gitTreeLess(sorted[i], sorted[j]) })
	var buf bytes.Buffer
	for i, e := range sorted {
		if i > 0 && sorted[i-1].name == e.name {
			return nil, fmt.Errorf("duplicate tree entry %q", e.name)
		}
		raw, err := hex.DecodeString(e.sha)
		if err != nil || len(raw) != sha1.Size {
			return nil, fmt.Errorf("tree entry %q: invalid sha %q", e.name, e.sha)
		}
		buf.WriteString(strings.TrimPrefix(e.mode, "0"))
		buf.WriteByte(' ')
		buf.WriteString(e.name)
		buf.WriteByte(0)
		buf.Write(raw)
	}
	return buf.Bytes(), nil
}

func decodeTree(data []byte) ([]treeEntry, error) {
	var out []treeEntry
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp < 0 || nul < sp || len(data) < nul+1+sha1.Size {
			return nil, errors.New("corrupt tree object")
		}
		mode := string(data[:sp])
		if mode == "40000" {
			mode = modeTree
		}
		out = append(out, treeEntry{mode: mode, name: string(data[sp+1 : nul]), sha: hex.EncodeToString(data[nul+1 : nul+1+sha1.Size])})
		data = data[nul+1+sha1.Size:]
	}
	return out, nil
}

// Signature is a commit's author or committer.
type Signature struct {
	Name  string
	Email string
	Date  time.Time
}

func (s Signature) encode() string {
	_, off := s.Date.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s <%s> %d %c%02d%02d", s.Name, s.Email, s.Date.Unix(), sign, off/3600, off%3600/60)
}

func decodeSignature(s string) (Signature, error) {
	lt, gt := strings.IndexByte(s, '<'), strings.LastIndexByte(s, '>')
	if lt < 0 || gt < lt {
		return Signature{}, fmt.Errorf("corrupt signature %q", s)
	}
	sig := Signature{Name: strings.TrimSpace(s[:lt]), Email: s[lt+1 : gt]}
	fields := strings.Fields(s[gt+1:])
	if len(fields) != 2 || len(fields[1]) != 5 {
		return Signature{}, fmt.Errorf("corrupt signature date %q", s)
	}
	secs, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return Signature{}, fmt.Errorf("corrupt signature date %q: %w", s, err)
	}
	hh, _ := strconv.Atoi(fields[1][1:3])
	mm, _ := strconv.Atoi(fields[1][3:5])
	off := hh*3600 + mm*60
	if fields[1][0] == '-' {
		off = -off
	}
	loc := time.UTC
	if off != 0 {
		loc = time.FixedZone("", off)
	}
	sig.Date = time.Unix(secs, 0).In(loc)
	return sig, nil
}

// commitObject is a parsed commit.
type commitObject struct {
	tree      string
	parents   []string
	author    Signature
	committer Signature
	message   string
}

func encodeCommit(c commitObject) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s\n", c.tree)
	for _, p := range c.parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	fmt.Fprintf(&b, "author %s\ncommitter %s\n\n%s", c.author.encode(), c.committer.encode(), c.message)
	return []byte(b.String())
}

func decodeCommit(data []byte) (commitObject, error) {
	var c commitObject
	head, msg, ok := strings.Cut(string(data), "\n\n")
	if !ok {
		head = strings.TrimSuffix(string(data), "\n")
	}
	c.message = msg
	for _, line := range strings.Split(head, "\n") {
		key, val, _ := strings.Cut(line, " ")
		var err error
		switch key {
		case "tree":
			c.tree = val
		case "parent":
			c.parents = append(c.parents, val)
		case "author":
			c.author, err = decodeSignature(val)
		case "committer":
			c.committer, err = decodeSignature(val)
		}
		if err != nil {
			return c, err
		}
	}
	if c.tree == "" {
		return c, errors.New("corrupt commit object: no tree")
	}
	return c, nil
}

// objectStore is one repository's object database.
type objectStore map[string]object

func (st objectStore) put(typ string, data []byte) string {
	sha := hashObject(typ, data)
	if _, ok := st[sha]; !ok {
		st[sha] = object{typ: typ, data: data}
	}
	return sha
}

func (st objectStore) has(sha, typ string) bool {
	o, ok := st[sha]
	return ok && (typ == "" || o.typ == typ)
}

func (st objectStore) putTree(entries []treeEntry) (string, error) {
	data, err := encodeTree(entries)
	if err != nil {
		return "", err
	}
	return st.put(typeTree, data), nil
}

func (st objectStore) tree(sha string) ([]treeEntry, error) {
	o, ok := st[sha]
	if !ok || o.typ != typeTree {
		return nil, fmt.Errorf("tree %s not found", sha)
	}
	return decodeTree(o.data)
}

func (st objectStore) commit(sha string) (commitObject, error) {
	o, ok := st[sha]
	if !ok || o.typ != typeCommit {
		return commitObject{}, fmt.Errorf("commit %s not found", sha)
	}
	return decodeCommit(o.data)
}

func (st objectStore) blob(sha string) ([]byte, bool) {
	o, ok := st[sha]
	if !ok || o.typ != typeBlob {
		return nil, false
	}
	return o.data, true
}

// fileEntry is a non-tree entry of a flattened tree.
type fileEntry struct {
	mode string
	sha  string
}

// flatten lists every non-tree entry below a tree by slash-separated path.
func (st objectStore) flatten(treeSHA string) (map[string]fileEntry, error) {
	out := map[string]fileEntry{}
	var walk func(sha, prefix string) error
	walk = func(sha, prefix string) error {
		entries, err := st.tree(sha)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := prefix + e.name
			if e.mode == modeTree {
				if err := walk(e.sha, p+"/"); err != nil {
					return err
				}
				continue
			}
			out[p] = fileEntry{mode: e.mode, sha: e.sha}
		}
		return nil
	}
	return out, walk(treeSHA, "")
}

// lookup finds the entry at a slash-separated path below a tree; "" is the tree itself.
func (st objectStore) lookup(treeSHA, p string) (treeEntry, bool) {
	cur := treeEntry{mode: modeTree, sha: treeSHA}
	p = strings.Trim(p, "/")
	if p == "" {
		return cur, true
	}
	for _, part := range strings.Split(p, "/") {
		if cur.mode != modeTree {
			return treeEntry{}, false
		}
		entries, err := st.tree(cur.sha)
		if err != nil {
			return treeEntry{}, false
		}
		found := false
		for _, e := range entries {
			if e.name == part {
				cur, found = e, true
				break
			}
		}
		if !found {
			return treeEntry{}, false
		}
	}
	return cur, true
}

// isAncestor reports whether commit a is reachable from commit b (a == b counts).
func (st objectStore) isAncestor(a, b string) bool {
	seen := map[string]bool{}
	queue := []string{b}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == a {
			return true
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		if co, err := st.commit(c); err == nil {
			queue = append(queue, co.parents...)
		}
	}
	return false
}

// mergeBase returns a best common ancestor of two commits, "" when they share no history.
func (st objectStore) mergeBase(a, b string) string {
	fromA := map[string]bool{}
	queue := []string{a}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if fromA[c] {
			continue
		}
		fromA[c] = true
		if co, err := st.commit(c); err == nil {
			queue = append(queue, co.parents...)
		}
	}
	// Breadth-first from b finds a nearest shared commit first.
	seen := map[string]bool{}
	queue = []string{b}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if fromA[c] {
			return c
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		if co, err := st.commit(c); err == nil {
			queue = append(queue, co.parents...)
		}
	}
	return ""
}

// treeBuilder edits a tree by path, loading subtrees only where an edit reaches.
type treeBuilder struct {
	st      objectStore
	entries map[string]*builderNode
}

type builderNode struct {
	mode string
	sha  string       // for non-trees, and for trees not loaded
	sub  *treeBuilder // loaded tree
}

func newTreeBuilder(st objectStore, base string) (*treeBuilder, error) {
	tb := &treeBuilder{st: st, entries: map[string]*builderNode{}}
	if base == "" {
		return tb, nil
	}
	entries, err := st.tree(base)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		tb.entries[e.name] = &builderNode{mode: e.mode, sha: e.sha}
	}
	return tb, nil
}

var errPathConflict = errors.New("path crosses a file")

// cleanTreePath validates a tree path as GitHub does: relative, no empty, "." or ".." parts.
func cleanTreePath(p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || path.Clean(p) != p {
		return "", fmt.Errorf("invalid path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "." || part == ".." || part == ".git" {
			return "", fmt.Errorf("invalid path %q", p)
		}
	}
	return p, nil
}

// dir walks to the directory holding p's last component, creating directories when create is set.
func (tb *treeBuilder) dir(p string, create bool) (*treeBuilder, string, error) {
	parts := strings.Split(p, "/")
	cur := tb
	for _, part := range parts[:len(parts)-1] {
		n, ok := cur.entries[part]
		if !ok {
			if !create {
				return nil, "", nil
			}
			n = &builderNode{mode: modeTree, sub: &treeBuilder{st: tb.st, entries: map[string]*builderNode{}}}
			cur.entries[part] = n
		}
		if n.mode != modeTree {
			if !create {
				return nil, "", nil
			}
			return nil, "", fmt.Errorf("%w: %q", errPathConflict, p)
		}
		if n.sub == nil {
			sub, err := newTreeBuilder(tb.st, n.sha)
			if err != nil {
				return nil, "", err
			}
			n.sub = sub
		}
		cur = n.sub
	}
	return cur, parts[len(parts)-1], nil
}

func (tb *treeBuilder) set(p, mode, sha string) error {
	d, name, err := tb.dir(p, true)
	if err != nil {
		return err
	}
	d.entries[name] = &builderNode{mode: mode, sha: sha}
	return nil
}

func (tb *treeBuilder) remove(p string) error {
	d, name, err := tb.dir(p, false)
	if err != nil || d == nil {
		return err
	}
	delete(d.entries, name)
	return nil
}

// write stores every loaded subtree and returns the root's sha; empty subtrees vanish as in git.
func (tb *treeBuilder) write() (string, error) {
	var entries []treeEntry
	for name, n := range tb.entries {
		sha := n.sha
		if n.sub != nil {
			if len(n.sub.entries) == 0 {
				continue
			}
			var err error
			if sha, err = n.sub.write(); err != nil {
				return "", err
			}
		}
		entries = append(entries, treeEntry{mode: n.mode, name: name, sha: sha})
	}
	return tb.st.putTree(entries)
}

// writeFlat builds a tree from a flattened path map.
func (st objectStore) writeFlat(files map[string]fileEntry) (string, error) {
	tb := &treeBuilder{st: st, entries: map[string]*builderNode{}}
	for p, f := range files {
		if err := tb.set(p, f.mode, f.sha); err != nil {
			return "", err
		}
	}
	return tb.write()
}
