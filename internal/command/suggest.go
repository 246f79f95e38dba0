package command

import (
	"strings"
	"unicode/utf8"

	"github.com/daytwo-dev/daytwo/internal/typo"
)

// maxSuggestLen bounds the words Suggest compares: longer words are not typos of a name,
// and the distance is quadratic in the lengths.
const maxSuggestLen = 64

// Suggest returns the candidate closest to word when it is close enough to be a likely
// typo of it, and "" otherwise. Case is ignored. The allowed edit distance grows with the
// length of word (adjacent transpositions count as one edit); a word of three or more
// letters that starts exactly one candidate also matches it. Ties go to the earlier
// candidate, so callers pass candidates in a stable order.
func Suggest(word string, candidates []string) string {
	w := []rune(strings.ToLower(word))
	if len(w) == 0 || len(w) > maxSuggestLen {
		return ""
	}
	limit := allowedEdits(len(w))
	best, bestDist := "", limit+1
	for _, c := range candidates {
		cr := []rune(strings.ToLower(c))
		if len(cr) == 0 || len(cr) > maxSuggestLen || abs(len(cr)-len(w)) >= bestDist {
			continue
		}
		if d := typo.Distance(string(w), string(cr)); d < bestDist && d < len(cr) {
			best, bestDist = c, d
		}
	}
	if best != "" {
		return best
	}
	if len(w) < 3 {
		return ""
	}
	prefix := string(w)
	for _, c := range candidates {
		if strings.HasPrefix(strings.ToLower(c), prefix) && utf8.RuneCountInString(c) > len(w) {
			if best != "" {
				return "" // ambiguous prefix
			}
			best = c
		}
	}
	return best
}

// allowedEdits is how many edits still count as a typo of a word of n letters.
func allowedEdits(n int) int {
	switch {
	case n <= 2:
		return 0
	case n <= 4:
		return 1
	case n <= 8:
		return 2
	default:
		return 3
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
