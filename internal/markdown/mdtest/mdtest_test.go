package mdtest

import (
	"reflect"
	"strings"
	"testing"
)

// The checker finds each way markdown can go wrong, including the reply that started it:
// a mention glued to a fence, which then does not open.
func TestCheckFindsProblems(t *testing.T) {
	for _, c := range []struct {
		name, md string
		p        Policy
		hostile  []string
		want     string // a piece of the one problem expected
	}{
		{"fence after a mention", "@alice ```\n/set-image @acme/everyone\n```\n", Policy{Mentions: []string{"alice"}}, nil, "mention of @acme/everyone"},
		{"fence after a mention, in code", "@alice ```\n/x\n```\n", Policy{Mentions: []string{"alice"}, InCode: true}, []string{"/x"}, "in a code element"},
		{"raw HTML", "a <img src=x onerror=alert(1)> b", Policy{}, nil, "<img>"},
		{"raw HTML block", "<script>alert(1)</script>\n", Policy{}, nil, "<script>"},
		{"allowed element, bad attribute", "<strong onclick=x>a</strong>", Policy{}, nil, "attribute onclick"},
		{"body attributes", "<body onload=x>", Policy{}, nil, "attribute onload"},
		{"comment", "a <!-- b --> c", Policy{}, nil, "HTML comment"},
		{"unclosed comment", "<!--\n@acme/everyone\n", Policy{}, nil, "HTML comment"},
		{"javascript link", "[x](javascript:alert(1))", Policy{}, nil, `link to "javascript:alert(1)"`},
		{"mention", "cc @alice", Policy{}, nil, "mention of @alice"},
		{"escaped mention", `cc \@alice`, Policy{}, nil, "mention of @alice"}, // GitHub reads the rendered text
		{"team mention", "(@acme/everyone)", Policy{Mentions: []string{"acme"}}, nil, "mention of @acme/everyone"},
		{"issue reference", "see #123", Policy{}, nil, "reference #123"},
		{"not shown", "**bold**", Policy{}, []string{"**bold**"}, "does not show as written"},
		{"not in code", "x", Policy{InCode: true}, []string{"x"}, "in a code element"},
		{"task list input", `<input type="text">`, Policy{}, nil, `of type "text"`},
	} {
		got := c.p.Check(c.md, c.hostile...)
		if len(got) != 1 || !strings.Contains(got[0], c.want) {
			t.Errorf("%s: Check = %q, want one problem with %q", c.name, got, c.want)
		}
	}
}

func TestCheckPassesSafeMarkdown(t *testing.T) {
	for _, c := range []struct {
		name, md string
		p        Policy
		hostile  []string
	}{
		{"mention allowed", "@Alice\n\n```\n@acme/everyone <b>\n```\n", Policy{Mentions: []string{"alice"}, InCode: true}, []string{"@acme/everyone <b>"}},
		{"everything markdown makes", "# h\n\n*e* **s** ~~d~~ `c` [a](https://x.io) www.x.io a@b.io\n\n> q\n\n- [x] t\n1. o\n\n---\n\n| a | b |\n| :-- | --: |\n| `x\\|y` | z |\n", Policy{}, []string{"x|y"}},
		{"escaped", `\<img src=x\> \<!-- \[x\](javascript:alert(1))`, Policy{}, []string{"<img src=x> <!-- [x](javascript:alert(1))"}},
		{"mentions ignored", "a@b `@c` [@d](https://x.io) e`@f`", Policy{}, nil},
		{"details", "<details open><summary>s</summary>\n\nx\n</details>\n\n<!-- meta -->", Policy{Elements: []string{"details", "summary"}, Comments: true}, []string{"s x"}},
		{"white space folds", "a\n\n```\nb\n  c\n```", Policy{}, []string{"a b c"}},
	} {
		if got := c.p.Check(c.md, c.hostile...); got != nil {
			t.Errorf("%s: Check = %q, want nothing", c.name, got)
		}
	}
}

func TestShownAndCodes(t *testing.T) {
	md := "a `b` *c*\n\n```\nd\n```\n"
	if got := Shown(md); got != "a b c d" {
		t.Errorf("Shown = %q", got)
	}
	if got := Codes(md); !reflect.DeepEqual(got, []string{"b", "d\n"}) {
		t.Errorf("Codes = %q", got)
	}
}
