package command

import (
	"errors"
	"strings"
	"unicode"
)

// splitArgs splits s into words the way a POSIX shell does, without expansions: words are
// separated by white space; single quotes keep everything up to the next single quote;
// double quotes keep everything up to the next unescaped double quote, where a backslash
// escapes only a double quote or a backslash; outside quotes a backslash keeps the next
// character. Quoted parts join the word they touch, and "" is an empty word.
func splitArgs(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // a word has started, possibly empty ("")
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case r == '\\':
			if i+1 >= len(rs) {
				return nil, errors.New("the line ends with a backslash; remove it or quote it")
			}
			i++
			cur.WriteRune(rs[i])
			in = true
		case r == '\'':
			end := indexRune(rs, i+1, '\'')
			if end < 0 {
				return nil, errors.New("a single quote (') is not closed")
			}
			cur.WriteString(string(rs[i+1 : end]))
			i = end
			in = true
		case r == '"':
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) && (rs[j+1] == '"' || rs[j+1] == '\\') {
					j++
				}
				cur.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, errors.New(`a double quote (") is not closed`)
			}
			i = j
			in = true
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

func indexRune(rs []rune, from int, r rune) int {
	for i := from; i < len(rs); i++ {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

// quoteArg quotes w so that splitArgs gives it back as one word.
func quoteArg(w string) string {
	if w != "" && strings.IndexFunc(w, needsQuote) < 0 {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

func needsQuote(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./:=@,+%", r)
}

// joinArgs quotes and joins words into one line splitArgs splits back into them.
func joinArgs(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = quoteArg(w)
	}
	return strings.Join(q, " ")
}
