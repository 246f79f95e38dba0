package command

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/daytwo-dev/daytwo/internal/valid"
)

// Limits on what a command may carry.
const (
	MaxNameLen   = valid.MaxNameLen // service, environment and container names (a DNS label)
	MaxReplicas  = 1000             // /scale upper bound; environments may set a lower one
	MaxConfigKey = valid.MaxConfigKeyLen
	minCommitLen = 7
	maxCommitLen = 40
)

var (
	kindRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,62}$`)
	hexRE  = regexp.MustCompile(`^[0-9a-f]+$`)
)

// ValidateName checks a service, environment or container name: a DNS label
// ([a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters). kind names what the value is
// ("environment") in the message. Paths, control characters and characters that only look
// like ASCII are refused with a message saying which character is wrong.
func ValidateName(kind, s string) error {
	if s == "" {
		return fmt.Errorf("the %s name is empty", kind)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("the %s name %q is not valid UTF-8", kind, s)
	}
	if err := visibleText(s); err != nil {
		return fmt.Errorf("the %s name %q %w", kind, s, err)
	}
	for _, r := range s {
		if r < utf8.RuneSelf {
			continue
		}
		if a, ok := asciiLookalike(r); ok {
			return fmt.Errorf("the %s name %q contains %q (U+%04X), which only looks like %q; type it in ASCII", kind, s, string(r), r, string(a))
		}
		return fmt.Errorf("the %s name %q contains the non-ASCII character %q (U+%04X); names use a-z, 0-9 and -", kind, s, string(r), r)
	}
	switch {
	case strings.HasPrefix(s, "/") || strings.HasPrefix(s, `\`):
		return fmt.Errorf("the %s name %q is a path; give the name only", kind, s)
	case strings.Contains(s, ".."):
		return fmt.Errorf("the %s name %q must not contain \"..\"", kind, s)
	case strings.ContainsAny(s, `/\`):
		return fmt.Errorf("the %s name %q must not contain a slash", kind, s)
	case len(s) > MaxNameLen:
		return fmt.Errorf("the %s name %q is %d characters long; the limit is %d", kind, s, len(s), MaxNameLen)
	case valid.IsDNSLabel(s):
		return nil
	case strings.ToLower(s) != s && valid.IsDNSLabel(strings.ToLower(s)):
		return fmt.Errorf("the %s name %q must be lower case: %q", kind, s, strings.ToLower(s))
	}
	return fmt.Errorf("the %s name %q is not valid: use lower-case letters, digits and -, starting and ending with a letter or digit", kind, s)
}

// ValidateWorkload checks the value of --workload: a Kubernetes object name (a DNS
// subdomain, at most 253 characters), optionally after its kind and a slash
// ("StatefulSet/ledger-staging"), as replies listing the choices write it.
func ValidateWorkload(s string) error {
	if s == "" {
		return fmt.Errorf("the workload name is empty")
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("the workload %q is not valid UTF-8", s)
	}
	if err := visibleText(s); err != nil {
		return fmt.Errorf("the workload %q %w", s, err)
	}
	kind, name, hasKind := strings.Cut(s, "/")
	if !hasKind {
		kind, name = "", s
	}
	switch {
	case hasKind && !kindRE.MatchString(kind):
		return fmt.Errorf("the workload %q must be <name> or <Kind>/<name>, like StatefulSet/ledger", s)
	case len(name) > valid.MaxObjectNameLen:
		return fmt.Errorf("the workload name %.20q... is %d characters long; the limit is %d", name, len(name), valid.MaxObjectNameLen)
	case !valid.IsObjectName(name):
		return fmt.Errorf("the workload name %q is not valid: use lower-case letters, digits, - and . (a Kubernetes object name)", name)
	}
	return nil
}

// ValidateCommit checks a commit id for /rollback --to (7 to 40 hex digits) and returns it
// in lower case.
func ValidateCommit(s string) (string, error) {
	l := strings.ToLower(s)
	if !hexRE.MatchString(l) {
		return "", fmt.Errorf("%q is not a commit id: use 7 to 40 hexadecimal digits", s)
	}
	if len(l) < minCommitLen || len(l) > maxCommitLen {
		return "", fmt.Errorf("the commit id %q has %d digits; use %d to %d", s, len(l), minCommitLen, maxCommitLen)
	}
	return l, nil
}

// ParseReplicas reads the argument of /scale: a whole number from 0 to MaxReplicas.
func ParseReplicas(s string) (int, error) {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		if strings.HasPrefix(s, "-") {
			return 0, fmt.Errorf("%q is negative; replicas go from 0 to %d", s, MaxReplicas)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxReplicas {
		return 0, fmt.Errorf("%s is more than the limit of %d replicas", s, MaxReplicas)
	}
	return n, nil
}

// ValidateConfigKey checks a ConfigMap key by Kubernetes' rule.
func ValidateConfigKey(k string) error { return valid.ConfigMapKey(k) }

// ValidateConfigValue checks a ConfigMap literal value: any text without control or
// invisible characters (which a reviewer could not see in the pull request).
func ValidateConfigValue(key, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("the value of %s is not valid UTF-8", key)
	}
	if err := visibleText(v); err != nil {
		return fmt.Errorf("the value of %s %w", key, err)
	}
	return nil
}

// ParseConfigLiteral reads KEY=VALUE.
func ParseConfigLiteral(s string) (KeyValue, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return KeyValue{}, fmt.Errorf("%q is not KEY=VALUE", s)
	}
	if err := ValidateConfigKey(k); err != nil {
		return KeyValue{}, err
	}
	if err := ValidateConfigValue(k, v); err != nil {
		return KeyValue{}, err
	}
	return KeyValue{Key: k, Value: v}, nil
}

// ParseImageRef reads the argument of /set-image: [<container>=]<ref>, where ref is a tag
// ("v1.2.3"), an image with a tag ("ghcr.io/acme/web:v1.2.3"), an image with a digest
// ("ghcr.io/acme/web@sha256:<64 hex>", a tag may come before the digest), or a digest alone
// ("@sha256:<64 hex>"). Names, tags and digests follow the Docker reference grammar.
func ParseImageRef(s string) (ImageRef, error) {
	var ref ImageRef
	if s == "" {
		return ref, fmt.Errorf("the image is empty: give a tag, image:tag or image@sha256:digest")
	}
	if !utf8.ValidString(s) {
		return ref, fmt.Errorf("the image %q is not valid UTF-8", s)
	}
	if err := visibleText(s); err != nil {
		return ref, fmt.Errorf("the image %q %w", s, err)
	}
	rest := s
	if c, r, ok := strings.Cut(s, "="); ok {
		if c == "" {
			return ref, fmt.Errorf("%q has an empty container name before '='", s)
		}
		if err := ValidateName("container", c); err != nil {
			return ref, err
		}
		ref.Container, rest = c, r
	}
	if rest == "" {
		return ref, fmt.Errorf("%q names no image after '='", s)
	}
	if name, dg, ok := strings.Cut(rest, "@"); ok {
		if err := valid.Digest(dg); err != nil {
			return ref, err
		}
		ref.Digest, rest = dg, name
		if rest == "" {
			return ref, nil
		}
	}
	name, tag := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		name, tag = rest[:i], rest[i+1:]
		if tag == "" {
			return ref, fmt.Errorf("%q has an empty tag after ':'", rest)
		}
		if name == "" {
			return ref, fmt.Errorf("%q has an empty image name before ':'", rest)
		}
	} else if ref.Digest == "" {
		// A single word is a tag; anything with a slash is an image missing its tag.
		if strings.Contains(rest, "/") {
			return ref, fmt.Errorf("the image %q has no tag or digest: add :<tag> or @sha256:<digest>", rest)
		}
		name, tag = "", rest
	}
	if tag != "" {
		if err := valid.Tag(tag); err != nil {
			return ref, err
		}
	}
	if name != "" {
		if err := valid.ImageName(name); err != nil {
			return ref, err
		}
	}
	ref.Name, ref.Tag = name, tag
	return ref, nil
}

// String writes the reference back in the form ParseImageRef reads.
func (r ImageRef) String() string {
	var b strings.Builder
	if r.Container != "" {
		b.WriteString(r.Container + "=")
	}
	b.WriteString(r.Name)
	if r.Tag != "" {
		if r.Name != "" {
			b.WriteByte(':')
		}
		b.WriteString(r.Tag)
	}
	if r.Digest != "" {
		b.WriteString("@" + r.Digest)
	}
	return b.String()
}

// visibleText reports the first control or invisible formatting character of s, which
// would make text look different from what is acted on (e.g. bidirectional overrides).
func visibleText(s string) error {
	for i, r := range []rune(s) {
		if isHidden(r) {
			return fmt.Errorf("contains the invisible or control character U+%04X at position %d", r, i+1)
		}
	}
	return nil
}

func isHidden(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// asciiLookalike maps characters that render like ASCII letters, digits or punctuation
// (full-width forms, and the Cyrillic and Greek letters most often confused with Latin
// ones) to the ASCII they imitate.
func asciiLookalike(r rune) (rune, bool) {
	if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
		return r - 0xFEE0, true
	}
	a, ok := lookalikes[r]
	return a, ok
}

var lookalikes = map[rune]rune{
	'а': 'a', 'в': 'b', 'с': 'c', 'е': 'e', 'һ': 'h', 'і': 'i', 'ј': 'j', 'к': 'k', 'м': 'm',
	'н': 'h', 'о': 'o', 'р': 'p', 'ѕ': 's', 'т': 't', 'у': 'y', 'х': 'x', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w',
	'А': 'A', 'В': 'B', 'С': 'C', 'Е': 'E', 'Н': 'H', 'І': 'I', 'Ј': 'J', 'К': 'K', 'М': 'M',
	'О': 'O', 'Р': 'P', 'Ѕ': 'S', 'Т': 'T', 'Х': 'X', 'Ү': 'Y',
	'α': 'a', 'ο': 'o', 'ν': 'v', 'ι': 'i', 'κ': 'k', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x',
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N',
	'Ο': 'O', 'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
	'ı': 'i', 'ℓ': 'l', '‐': '-', '‑': '-', '‒': '-', '–': '-', '—': '-', '−': '-',
	'∕': '/', '⁄': '/', '⧸': '/', '。': '.',
}
