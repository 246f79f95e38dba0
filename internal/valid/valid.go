// Package valid holds the rules for the names, keys and image references daytwo reads
// from people and writes into manifests, so that every package gives the same answer. The
// rules are the libraries' own (k8s.io/apimachinery's validation, the reference grammar
// of github.com/distribution/reference); the messages say what to write instead.
package valid

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Limits of the rules, for messages and callers that check lengths first.
const (
	MaxNameLen       = validation.DNS1123LabelMaxLength     // a DNS label: service, environment, container
	MaxObjectNameLen = validation.DNS1123SubdomainMaxLength // a Kubernetes object name
	MaxConfigKeyLen  = validation.DNS1123SubdomainMaxLength // a ConfigMap key
	MaxTagLen        = 128
	MaxImageNameLen  = reference.NameTotalLengthMax
	digestAlgo       = "sha256"
	digestHexLen     = 64
)

// DNSLabelRule says what a DNS label is, for messages.
const DNSLabelRule = "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"

// IsDNSLabel reports whether s is a DNS label (RFC 1123): the rule for service,
// environment, container and workflow names.
func IsDNSLabel(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }

// IsObjectName reports whether s is a Kubernetes object name (a DNS subdomain).
func IsObjectName(s string) bool { return len(validation.IsDNS1123Subdomain(s)) == 0 }

// ConfigMapKey checks a ConfigMap key as the API server does: [-._a-zA-Z0-9]+, at most
// 253 characters, not "." and not starting with "..".
func ConfigMapKey(k string) error {
	if validation.IsConfigMapKey(k) == nil {
		return nil
	}
	switch {
	case k == "":
		return fmt.Errorf("a config key is empty")
	case len(k) > MaxConfigKeyLen:
		return fmt.Errorf("the config key %.20q... is %d characters long; the limit is %d", k, len(k), MaxConfigKeyLen)
	case k == "." || strings.HasPrefix(k, ".."):
		return fmt.Errorf("the config key %q must not be \".\" or start with \"..\"", k)
	}
	return fmt.Errorf("the config key %q may only contain letters, digits, '-', '_' and '.'", k)
}

// AnnotationKey checks an annotation key as the API server does: an optional DNS
// subdomain and "/", then a name of at most 63 letters, digits, '-', '_' and '.'.
func AnnotationKey(k string) error {
	// The API server checks the lower-cased key (ValidateAnnotations).
	if errs := validation.IsQualifiedName(strings.ToLower(k)); len(errs) > 0 {
		return fmt.Errorf("%q is not a valid annotation key: %s", k, strings.Join(errs, "; "))
	}
	return nil
}

var (
	anchoredTag    = regexp.MustCompile(`^` + reference.TagRegexp.String() + `$`)
	anchoredDomain = regexp.MustCompile(`^` + reference.DomainRegexp.String() + `$`)
	lowerHex       = regexp.MustCompile(`^[0-9a-f]+$`)
)

// Tag checks an image tag: letters, digits, '_', '.' and '-', not starting with '.' or
// '-', at most 128 characters.
func Tag(t string) error {
	if len(t) > MaxTagLen {
		return fmt.Errorf("the tag %.20q... is %d characters long; the limit is %d", t, len(t), MaxTagLen)
	}
	if !anchoredTag.MatchString(t) {
		return fmt.Errorf("%q is not a valid tag: use letters, digits, '_', '.' and '-', not starting with '.' or '-'", t)
	}
	return nil
}

// Digest checks an image digest: sha256 and 64 lower-case hex digits.
func Digest(d string) error {
	algo, hex, ok := strings.Cut(d, ":")
	switch {
	case !ok || algo != digestAlgo:
		return fmt.Errorf("the digest %q must be sha256:<64 hex digits>", d)
	case len(hex) != digestHexLen:
		return fmt.Errorf("the digest %q has %d hex digits; sha256 has %d", d, len(hex), digestHexLen)
	case !lowerHex.MatchString(hex):
		if lowerHex.MatchString(strings.ToLower(hex)) {
			return fmt.Errorf("the digest %q must be in lower case", d)
		}
		return fmt.Errorf("the digest %q must be sha256:<64 hex digits>", d)
	}
	return nil
}

// ImageName checks an image name without tag or digest, [host[:port]/]path, by the
// reference grammar.
func ImageName(n string) error {
	if len(n) > MaxImageNameLen {
		return fmt.Errorf("the image name %.20q... is %d characters long; the limit is %d", n, len(n), MaxImageNameLen)
	}
	ref, err := reference.Parse(n)
	if err == nil {
		if named, ok := ref.(reference.Named); ok && reference.IsNameOnly(named) && named.Name() == n {
			return nil
		}
	}
	// Say which part is wrong: as Docker reads it, the first component is a registry host
	// when it has a '.' or ':', is "localhost", or has upper case.
	path := n
	if host, rest, ok := strings.Cut(n, "/"); ok && (strings.ContainsAny(host, ".:") || host == "localhost" || strings.ToLower(host) != host) {
		if !anchoredDomain.MatchString(host) {
			return fmt.Errorf("%q in the image %q is not a valid registry host", host, n)
		}
		path = rest
	}
	if strings.ToLower(path) != path {
		return fmt.Errorf("the image name %q must be in lower case", n)
	}
	return fmt.Errorf("the image name %q is not valid: each part between slashes uses a-z, 0-9 and single '.', '_', '__' or '-' separators", n)
}

// SplitImage splits an image reference as a manifest holds it into name, tag and digest.
// A reference the grammar refuses is split at its last '@' and its last ':' after the
// last '/', so that whatever a render holds can still be shown.
func SplitImage(ref string) (name, tag, digest string) {
	if r, err := reference.Parse(ref); err == nil {
		if n, ok := r.(reference.Named); ok {
			name = n.Name()
		}
		if t, ok := r.(reference.Tagged); ok {
			tag = t.Tag()
		}
		if d, ok := r.(reference.Digested); ok {
			digest = d.Digest().String()
		}
		return name, tag, digest
	}
	name = ref
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		name, digest = name[:i], name[i+1:]
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}

// KeyValue is one ConfigMap literal, KEY=VALUE.
type KeyValue struct{ Key, Value string }
