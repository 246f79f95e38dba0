package ai

import "regexp"

// Hand-written: the secret scanners that exist (gitleaks, trufflehog) are programs with
// hundreds of rules and large dependency trees; the prompt needs a small, strict filter
// over text daytwo already chose to show.

// redacted replaces whatever looked like a secret.
const redacted = "[redacted]"

var (
	// pemRE matches a PEM block, or a BEGIN line whose block is cut off.
	pemRE = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]+-----(?s:.*?)(-----END [A-Z0-9 ]+-----|\z)`)
	// tokenRE matches tokens with a known shape: GitHub's (ghp_, gho_, ghu_, ghs_, ghr_,
	// github_pat_), OpenAI's sk-, Slack's xox?-, AWS access key ids and JWTs.
	tokenRE = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}|sk-[A-Za-z0-9_-]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)`)
	// authRE matches an Authorization header's value and bearer or basic credentials.
	authRE = regexp.MustCompile(`(?i)\b(authorization\s*[:=]\s*)?(bearer|basic)\s+[A-Za-z0-9._~+/-]{6,}=*`)
	// pairRE matches key=value or key: value where the key names a secret.
	pairRE = regexp.MustCompile(`(?i)([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*)(\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;]+)`)
	// userinfoRE matches the credentials of a URL: scheme://user:password@.
	userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`)
	// blobRE matches a long run of base64 or base64url; hex alone (digests, commit SHAs)
	// is kept by isBlob.
	blobRE = regexp.MustCompile(`[A-Za-z0-9+/_-]{40,}={0,2}`)
)

// Redact removes from s what looks like a secret: PEM blocks, tokens of known shapes,
// bearer and basic credentials, values of keys that name a secret (password=, token:),
// credentials in URLs, and long base64 blobs. Image digests and commit SHAs stay.
func Redact(s string) string {
	s = pemRE.ReplaceAllString(s, redacted)
	s = tokenRE.ReplaceAllString(s, redacted)
	s = authRE.ReplaceAllString(s, "${1}"+redacted)
	s = pairRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := pairRE.FindStringSubmatch(m)
		if sub[3] == redacted {
			return m
		}
		return sub[1] + sub[2] + redacted
	})
	s = userinfoRE.ReplaceAllString(s, "${1}"+redacted+"@")
	s = blobRE.ReplaceAllStringFunc(s, func(m string) string {
		if isBlob(m) {
			return redacted
		}
		return m
	})
	return s
}

// isBlob tells a base64 blob from a hex digest, a long name or a path: it mixes lower and
// upper case and digits, as 40 random base64 characters all but always do.
func isBlob(s string) bool {
	var lower, upper, digit bool
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return lower && upper && digit
}
