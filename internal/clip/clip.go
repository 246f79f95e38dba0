// Package clip shortens text that people read: commit ids, quoted lines, titles, and
// messages and diffs that must fit a comment.
package clip

import (
	"strings"
	"unicode/utf8"
)

// shaLen is how many characters of a commit id are shown, git's default abbreviation.
const shaLen = 7

// SHA is the short form of a commit id (or any revision): its first 7 characters.
func SHA(sha string) string {
	if len(sha) > shaLen {
		return sha[:shaLen]
	}
	return sha
}

// Bytes cuts s to at most max bytes, on a character boundary, and ends it with more
// when it cut anything.
func Bytes(s string, max int, more string) string {
	if len(s) <= max {
		return s
	}
	return s[:boundary(s, max)] + more
}

// Runes cuts s to at most n characters, the last of them "…", when it is longer.
func Runes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Lines cuts s after its last whole line within max bytes, or on a character boundary
// when its first line is longer, and ends it with note when it cut anything.
func Lines(s string, max int, note string) string {
	if len(s) <= max {
		return s
	}
	if i := strings.LastIndexByte(s[:max], '\n'); i >= 0 {
		return s[:i+1] + note
	}
	return s[:boundary(s, max)] + note
}

// boundary is the largest i <= max at which s can be cut without splitting a character.
func boundary(s string, max int) int {
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return max
}
