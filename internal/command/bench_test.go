package command

import (
	"strings"
	"testing"
)

// A comment as people write them: prose, a quote, a fenced block, a list and commands.
const typicalComment = "Thanks for the report! The last deploy looks fine in staging.\n\n" +
	"> The checkout pods in prod are crash-looping since `v1.4.2`.\n> Can someone look?\n\n" +
	"Logs:\n\n```\ncheckout-7d9f 0/1 CrashLoopBackOff\n/scale 0 --env prod\n```\n\n" +
	"- [x] rollback tested in staging\n- [ ] notify #ops\n\n" +
	"/rollback --env prod --service checkout\n/status --service checkout\n"

func BenchmarkParse(b *testing.B) {
	r := Default()
	// About 60 KB, near GitHub's limit of 65,536 characters per comment, with one command
	// at the end, so that the whole text is scanned.
	prose, _, _ := strings.Cut(typicalComment, "/rollback")
	large := strings.Repeat(prose+"\n", 60000/(len(prose)+1)) + "/restart --env prod\n"
	for _, c := range []struct{ name, text string }{
		{"typical", typicalComment},
		{"large", large},
		// Most comments hold no line starting with a slash.
		{"large, no slash line", strings.Repeat("Thanks, the rollout looks fine in staging (`v1.4.2`); prod next week.\n\n", 60000/72)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				r.Parse(c.text)
			}
		})
	}
}
