package plan

import (
	"regexp"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// prFuncs are the functions the PR templates call to put text in markdown; whatever a
// person wrote goes through one of them.
var prFuncs = map[string]any{
	"code":    markdown.Code,
	"fence":   prFence,
	"quote":   quote,
	"text":    markdown.Text,
	"mention": mention,
}

// prFence is markdown.Fence for a template that ends the line itself.
func prFence(s, lang string) string { return strings.TrimSuffix(markdown.Fence(lang, s), "\n") }

// quote shows s, a person's text of one or more lines, as a block quote that reads as
// written: each line is plain text, so nothing in it is markup or a mention.
func quote(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("> "+markdown.Text(l), " ")
	}
	return strings.Join(lines, "\n")
}

// mention notifies login, when it is one; anything else shows as plain text.
func mention(login string) string {
	if loginRE.MatchString(login) {
		return "@" + login
	}
	return markdown.Text(login)
}

var loginRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`)
