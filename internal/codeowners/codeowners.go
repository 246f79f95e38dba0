// Package codeowners reads a GitHub CODEOWNERS file and answers who owns a set of paths,
// with GitHub's semantics: the last matching rule wins, a rule without owners leaves its
// paths unowned, and a line GitHub cannot parse is skipped rather than failing the file.
// Pattern matching is github.com/hmarr/codeowners; this package adds GitHub's tolerance of
// bad lines, its size limit, and owner lists ready to request reviews from.
package codeowners

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	hc "github.com/hmarr/codeowners"
)

// Paths are where GitHub looks for a repository's CODEOWNERS, in its order; the first
// found is the only one used.
var Paths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// MaxSize is GitHub's limit on a CODEOWNERS file; a larger file is not loaded at all.
const MaxSize = 3 << 20

// maxLine bounds one line: the parser reads lines with a 64 KiB buffer and would drop a
// longer line, and everything after it, without a word.
const maxLine = 60 << 10

// ownerMatchers are the parser's, except that an e-mail address may end in any top-level
// domain: the parser's own pattern stops at six letters and would drop the whole line
// with its other owners.
var ownerMatchers = []hc.OwnerMatcher{
	hc.OwnerMatchFunc(matchEmail),
	hc.OwnerMatchFunc(hc.MatchTeamOwner),
	hc.OwnerMatchFunc(hc.MatchUsernameOwner),
}

var emailRE = regexp.MustCompile(`\A[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}\z`)

func matchEmail(s string) (hc.Owner, error) {
	if !emailRE.MatchString(s) {
		return hc.Owner{}, hc.ErrNoMatch
	}
	return hc.Owner{Value: s, Type: hc.EmailOwner}, nil
}

// Owners is a parsed CODEOWNERS file.
type Owners struct {
	rules   hc.Ruleset
	skipped []LineError
}

// LineError is a line of the file that GitHub ignores because it does not parse.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("CODEOWNERS line %d: %v", e.Line, e.Err) }

func (e LineError) Unwrap() error { return e.Err }

// ErrTooLarge is returned for a file over MaxSize, which GitHub ignores entirely.
var ErrTooLarge = errors.New("CODEOWNERS is larger than GitHub's 3 MB limit, so GitHub ignores it")

// Parse reads a CODEOWNERS file. Lines that do not parse (negation with "!", character
// classes, bad owners, …) are skipped as GitHub skips them and listed by Skipped; the
// remaining rules keep their order.
func Parse(data []byte) (*Owners, error) {
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	o := &Owners{rules: hc.Ruleset{}}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if len(line) > maxLine {
			o.skipped = append(o.skipped, LineError{n, fmt.Errorf("line is longer than %d bytes", maxLine)})
			continue
		}
		if !utf8.ValidString(line) {
			o.skipped = append(o.skipped, LineError{n, errors.New("line is not valid UTF-8")})
			continue
		}
		rules, err := hc.ParseFile(strings.NewReader(line), hc.WithOwnerMatchers(ownerMatchers))
		if err != nil {
			o.skipped = append(o.skipped, LineError{n, unwrapLine(err)})
			continue
		}
		for _, r := range rules {
			if r.RawPattern() == "/" {
				// The root itself is no file; the matcher would also index past this pattern.
				o.skipped = append(o.skipped, LineError{n, errors.New(`the pattern "/" matches no file`)})
				continue
			}
			r.LineNumber = n
			o.rules = append(o.rules, r)
		}
	}
	return o, nil
}

// unwrapLine drops the parser's "line 1: " prefix: lines are parsed one at a time here.
func unwrapLine(err error) error {
	if inner := errors.Unwrap(err); inner != nil {
		return inner
	}
	return err
}

// Skipped lists the lines ignored because they do not parse, in file order.
func (o *Owners) Skipped() []LineError {
	if o == nil {
		return nil
	}
	return append([]LineError(nil), o.skipped...)
}

// For returns the owners of paths (repository-relative, "/"-separated): the union of each
// path's owners under its last matching rule, in first-seen order, without the "@" —
// "alice" for a user, "acme/sre" for a team. E-mail owners are left out (reviews cannot
// be requested from an address) and duplicates are dropped regardless of case, as GitHub
// logins are case-insensitive.
func (o *Owners) For(paths ...string) []string {
	if o == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		p = normalize(p)
		if p == "" {
			continue
		}
		rule, err := o.rules.Match(p)
		if err != nil || rule == nil {
			continue
		}
		for _, owner := range rule.Owners {
			if owner.Type == hc.EmailOwner {
				continue
			}
			key := strings.ToLower(owner.Value)
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, owner.Value)
		}
	}
	return out
}

// normalize makes p the repository-relative form patterns are matched against.
func normalize(p string) string {
	return strings.TrimLeft(path.Clean("/"+p), "/")
}
