package ai

import (
	"strings"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// maxShownRunes bounds the answer's text as shown.
const maxShownRunes = 1500

// Markdown shows the answer on GitHub: labelled as AI-written, its text escaped (no markup,
// HTML, link or mention of its own) and clipped, then the commands it suggests. The caller
// lists the facts right under it, so that a reader can check it.
func (a Answer) Markdown() string {
	var b strings.Builder
	b.WriteString("**🤖 AI-written answer**, from the facts below alone: check it against them.\n\n")
	var paras []string
	for _, p := range strings.Split(clip.Runes(a.Text, maxShownRunes), "\n\n") {
		if t := markdown.Text(p); t != "" {
			paras = append(paras, "> "+t)
		}
	}
	b.WriteString(strings.Join(paras, "\n>\n") + "\n\n")
	if len(a.Commands) > 0 {
		b.WriteString("Replies it suggests (each parses; nothing runs until a person posts one):\n\n")
		b.WriteString(markdown.Fence("", strings.Join(a.Commands, "\n")))
		b.WriteString("\n")
	}
	return b.String()
}

// FactsMarkdown lists facts for a caller that has no richer view of them: each group's
// title as a heading, its lines as written in a block.
func FactsMarkdown(facts []Fact) string {
	var b strings.Builder
	b.WriteString("#### Facts\n\n")
	for _, f := range facts {
		b.WriteString("##### " + markdown.Text(f.Title) + "\n\n")
		b.WriteString(markdown.Fence("", strings.Join(f.Lines, "\n")) + "\n")
	}
	return b.String()
}
