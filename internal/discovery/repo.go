package discovery

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/argoproj/argo-cd/v2/applicationset/services"

	"github.com/daytwo-dev/daytwo/internal/argomanifest"
)

// maxWalk bounds the entries a git generator may walk: listing a repository from GitHub costs
// requests, and a generator's pattern is written by whoever writes the ApplicationSet.
const maxWalk = 20000

// repository is the GitOps repository at the commit daytwo reads, seen by argo-cd's git
// generator as its repo server: the answers are those of argo-cd v2.14.21's
// reposerver GetGitDirectories and GetGitFiles (default file globbing).
type repository struct {
	ctx  context.Context // argo-cd's generators pass context.TODO(); reads use Find's
	r    argomanifest.Reader
	self []string // paths ("owner/name") of the repository's URLs; none: any URL is this one

	dirs  []string // every directory, once listed
	files []string // every file, once listed
}

var _ services.Repos = (*repository)(nil)

// otherRepo is a generator reading a repository other than the one daytwo reads.
type otherRepo struct {
	url  string
	self []string
}

func (e *otherRepo) Error() string {
	return fmt.Sprintf("it reads %s, not this repository (%s)", e.url, strings.Join(e.self, ", "))
}

// readFailed is a read of the repository that failed: daytwo's failure, not the set's.
type readFailed struct{ err error }

func (e *readFailed) Error() string { return e.err.Error() }
func (e *readFailed) Unwrap() error { return e.err }

func (s *repository) check(repoURL string) error {
	if len(s.self) == 0 {
		return nil
	}
	p := repoPath(repoURL)
	for _, own := range s.self {
		if p == own {
			return nil
		}
	}
	return &otherRepo{url: repoURL, self: s.self}
}

// repoPath is the path of a repository URL on its host, lower case, without ".git":
// "https://github.com/Acme/GitOps.git", "git@github.com:acme/gitops" and "acme/gitops" are all
// "acme/gitops". daytwo serves one Git host, so the path names the repository. A local path
// or file:// URL names no hosted repository: "".
func repoPath(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	switch {
	case strings.HasPrefix(u, "file://"), strings.HasPrefix(u, "/"), strings.HasPrefix(u, "."):
		return ""
	case strings.Contains(u, "://"):
		p, err := url.Parse(u)
		if err != nil {
			return ""
		}
		u = p.Path
	case scpLike.MatchString(u): // git@host:owner/name
		u = u[strings.Index(u, ":")+1:]
	}
	u = strings.Trim(u, "/")
	return strings.Trim(strings.TrimSuffix(u, ".git"), "/")
}

var scpLike = regexp.MustCompile(`^[^/:]+@[^/:]+:`)

// GetDirectories lists every directory of the repository but the root, skipping hidden ones
// and what they hold, in lexical walk order: reposerver's GetGitDirectories.
func (s *repository) GetDirectories(_ context.Context, repoURL, _ string, _, _ bool) ([]string, error) {
	if err := s.check(repoURL); err != nil {
		return nil, err
	}
	if s.dirs == nil {
		if err := s.walk(); err != nil {
			return nil, err
		}
	}
	return s.dirs, nil
}

// GetFiles returns the files a git pathspec matches, with their contents: reposerver's
// GetGitFiles, which runs `git ls-files -- <pattern>` unless new file globbing is enabled.
func (s *repository) GetFiles(_ context.Context, repoURL, _, pattern string, _, _ bool) (map[string][]byte, error) {
	if err := s.check(repoURL); err != nil {
		return nil, err
	}
	if s.files == nil {
		if err := s.walk(); err != nil {
			return nil, err
		}
	}
	spec := newPathspec(pattern)
	out := map[string][]byte{}
	for _, f := range s.files {
		if !spec.match(f) {
			continue
		}
		data, err := s.r.ReadFile(s.ctx, f)
		if err != nil {
			return nil, &readFailed{fmt.Errorf("read %s: %w", f, err)}
		}
		out[f] = data
	}
	return out, nil
}

// walk lists the repository once: directories (not hidden, as reposerver lists them) and
// files (all of them, hidden directories included, as git ls-files lists them).
func (s *repository) walk() error {
	s.dirs, s.files = []string{}, []string{}
	n := 0
	var walk func(dir string, hidden bool) error
	walk = func(dir string, hidden bool) error {
		names, err := s.r.ReadDir(s.ctx, dir)
		if err != nil {
			return &readFailed{fmt.Errorf("list %s: %w", dir, err)}
		}
		sort.Strings(names)
		for _, name := range names {
			if n++; n > maxWalk {
				return &cannotSee{why: fmt.Sprintf("the repository has more than %d files and directories, more than daytwo lists for a git generator", maxWalk)}
			}
			p := path.Join(dir, strings.TrimSuffix(name, "/"))
			if !strings.HasSuffix(name, "/") {
				s.files = append(s.files, p)
				continue
			}
			h := hidden || strings.HasPrefix(name, ".")
			if !h {
				s.dirs = append(s.dirs, p)
			}
			if err := walk(p, h); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(".", false)
}

// pathspec is a git pathspec without magic, as `git ls-files -- <pattern>` matches it: the
// pattern names a file or a leading directory literally, or matches the whole path with
// wildmatch without WM_PATHNAME, where * and ? also match "/". Hand-written because no Go
// library implements that mode (gitignore-style libraries stop * at "/"); the tests compare
// it with git itself.
type pathspec struct {
	literal string
	glob    *regexp.Regexp // nil without wildcards, or when wildmatch would abort
}

func newPathspec(pattern string) *pathspec {
	lit := pattern
	if lit == "" {
		lit = "."
	}
	dir := strings.HasSuffix(lit, "/")
	lit = path.Clean(lit)
	if dir && lit != "." {
		lit += "/"
	}
	ps := &pathspec{literal: lit}
	if strings.ContainsAny(lit, `*?[\`) {
		ps.glob = wildmatchRegexp(strings.TrimSuffix(lit, "/"))
	}
	return ps
}

func (ps *pathspec) match(name string) bool {
	l := ps.literal
	switch {
	case l == ".", name == l:
		return true
	case strings.HasSuffix(l, "/") && strings.HasPrefix(name, l):
		return true
	case strings.HasPrefix(name, l+"/"):
		return true
	}
	return ps.glob != nil && ps.glob.MatchString(name)
}

// posixClasses are the classes wildmatch knows in [[:name:]].
var posixClasses = map[string]bool{"alnum": true, "alpha": true, "blank": true, "cntrl": true, "digit": true,
	"graph": true, "lower": true, "print": true, "punct": true, "space": true, "upper": true, "xdigit": true}

// wildmatchRegexp translates a wildmatch pattern (flags 0) into an anchored regular
// expression; nil where wildmatch aborts (an unclosed class, a trailing backslash, an unknown
// [:class:]), which matches nothing.
func wildmatchRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`\A(?s:`)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '\\':
			if i++; i >= len(p) {
				return nil
			}
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		case '[':
			class, end, ok := wildmatchClass(p, i+1)
			if !ok {
				return nil
			}
			b.WriteString(class)
			i = end
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString(`)\z`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil
	}
	return re
}

// wildmatchClass translates the class starting after "[" at p[i:], member by member as
// wildmatch.c reads it; it returns the class and the index of its closing "]".
func wildmatchClass(p string, i int) (string, int, bool) {
	negate := i < len(p) && (p[i] == '!' || p[i] == '^')
	if negate {
		i++
	}
	quote := func(c byte) string {
		if strings.IndexByte(`\]^-[`, c) >= 0 {
			return `\` + string(c)
		}
		return string(c)
	}
	var members strings.Builder
	prev := -1 // the previous single member, for a range; none after a range or a class
	for first := true; ; first = false {
		if i >= len(p) {
			return "", 0, false
		}
		c := p[i]
		if c == ']' && !first {
			break
		}
		switch {
		case c == '\\':
			if i++; i >= len(p) {
				return "", 0, false
			}
			members.WriteString(quote(p[i]))
			prev = int(p[i])
		case c == '-' && prev >= 0 && i+1 < len(p) && p[i+1] != ']':
			i++
			hi := p[i]
			if hi == '\\' {
				if i++; i >= len(p) {
					return "", 0, false
				}
				hi = p[i]
			}
			if prev <= int(hi) {
				members.WriteString(quote(byte(prev)) + "-" + quote(hi))
			}
			prev = -1
		case c == '[' && i+1 < len(p) && p[i+1] == ':':
			end := strings.IndexByte(p[i+2:], ']')
			if end < 0 {
				return "", 0, false
			}
			end += i + 2
			if end-1 < i+2 || p[end-1] != ':' { // no ":]": "[" is a member
				members.WriteString(quote(c))
				prev = int(c)
				break
			}
			name := p[i+2 : end-1]
			if !posixClasses[name] {
				return "", 0, false
			}
			members.WriteString("[:" + name + ":]")
			i, prev = end, -1
		default:
			members.WriteString(quote(c))
			prev = int(c)
		}
		i++
	}
	switch {
	case members.Len() == 0 && negate:
		return `.`, i, true
	case members.Len() == 0:
		return `[^\x00-\x{10FFFF}]`, i, true
	case negate:
		return "[^" + members.String() + "]", i, true
	}
	return "[" + members.String() + "]", i, true
}
