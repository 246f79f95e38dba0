package ai_test

import (
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/ai"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

func TestAnswerMarkdownIsSafe(t *testing.T) {
	hostile := []string{"@acme/checkout-team", "<img src=x onerror=alert(1)>", "[click](https://evil.test)", "#12", "<!-- hidden -->", "| cell |"}
	a := ai.Answer{Text: "checkout is Degraded.\n\nAsk " + strings.Join(hostile, " ") + "\n# not a heading", Commands: []string{"/rollback --service checkout --env prod"}}
	md := a.Markdown() + ai.FactsMarkdown([]ai.Fact{{Title: "status @acme/sre <b>", Lines: []string{"prod: Degraded <script>", "```", "@alice"}}})
	mdtest.AssertSafe(t, md, hostile...)
	for _, want := range []string{"AI-written", "```\n/rollback --service checkout --env prod\n```", "prod: Degraded <script>"} {
		if !strings.Contains(md, want) {
			t.Errorf("lacks %q:\n%s", want, md)
		}
	}
	long := ai.Answer{Text: strings.Repeat("slow ", 1000)}
	if shown := mdtest.Shown(long.Markdown()); len(shown) > 1700 || !strings.Contains(shown, "…") {
		t.Errorf("a long answer is not clipped: %d bytes", len(shown))
	}
}
