package dashboard_test

import (
	"flag"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/dashboard"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func facts() dashboard.Facts {
	return dashboard.Facts{
		Envs:   []string{"dev", "staging", "prod"},
		ArgoCD: true,
		Services: []dashboard.Service{{
			Name: "checkout",
			Envs: []dashboard.Cell{
				{Env: "dev", Deployed: true, Images: []string{"ghcr.io/acme/checkout:2.4.0-rc.1"}, Replicas: []string{"1"}, Sync: "Synced", Health: "Healthy"},
				{Env: "staging", Deployed: true, Images: []string{"ghcr.io/acme/checkout:2.3.5"}, Replicas: []string{"2"}, Sync: "OutOfSync", Health: "Degraded",
					PRs: []dashboard.Link{{Number: 12, URL: "https://github.com/acme/gitops/pull/12"}}, Incidents: []dashboard.Link{{Number: 31, URL: "https://github.com/acme/gitops/issues/31"}}},
				{Env: "prod", Deployed: true, Images: []string{"ghcr.io/acme/checkout:2.3.5", "ghcr.io/acme/proxy:1.0"}, Replicas: []string{"checkout=4", "worker=default"}, Frozen: true, LiveErr: "argo cd: permission denied"},
			},
		}, {
			Name: "catalog",
			Envs: []dashboard.Cell{
				{Env: "dev", Deployed: true, Images: []string{"ghcr.io/acme/catalog:1.2.0"}, Replicas: []string{"default"}},
				{Env: "staging"},
				{Env: "prod", Err: "does not render: missing resource"},
			},
		}},
		Promotions: []dashboard.Promotion{
			{Service: "checkout", From: "dev", To: "staging", Version: "2.4.0-rc.1", Replaces: "2.3.5"},
			{Service: "payments", From: "staging", To: "prod", Version: "1.6.0", Replaces: "1.5.9", PR: &dashboard.Link{Number: 14, URL: "https://github.com/acme/gitops/pull/14"}},
		},
		Frozen:   []dashboard.Freeze{{Env: "prod", Reason: "release 2.4 in progress"}},
		Problems: []string{"payments in prod: does not render"},
	}
}

func TestRenderGolden(t *testing.T) {
	for name, f := range map[string]dashboard.Facts{
		"full":    facts(),
		"empty":   {Envs: []string{"dev"}},
		"no-argo": {Envs: []string{"dev", "prod"}, Services: []dashboard.Service{{Name: "web", Envs: []dashboard.Cell{{Env: "dev", Deployed: true, Images: []string{"nginx:1.27"}, Replicas: []string{"2"}}, {Env: "prod", Deployed: true, Images: []string{"nginx:1.26"}, Replicas: []string{"3"}}}}}, Promotions: []dashboard.Promotion{{Service: "web", From: "dev", To: "prod", Version: "1.27", Replaces: "1.26"}}},
	} {
		t.Run(name, func(t *testing.T) {
			got := dashboard.Render(f)
			mdtest.Golden(t, "testdata/"+name+".md", got, *update)
			// Safe once the hidden marks, which daytwo writes itself, are set aside.
			mdtest.Policy{Comments: true}.AssertSafe(t, got)
			if !strings.HasPrefix(got, dashboard.Start+"\n") || !strings.HasSuffix(got, dashboard.End) {
				t.Errorf("section without its markers:\n%s", got)
			}
		})
	}
}

func TestRenderShowsThePromotionAsTheIssueDoes(t *testing.T) {
	got := dashboard.Render(facts())
	want := "- [ ] promote checkout to staging (`2.4.0-rc.1` → replaces `2.3.5`) <!-- daytwo:do /promote staging --service checkout --from dev -->\n"
	if !strings.Contains(got, want) {
		t.Errorf("no line %q in\n%s", want, got)
	}
	boxes := dashboard.Boxes(got)
	var cmds []string
	for _, b := range boxes {
		cmds = append(cmds, b.Command)
		if b.Ticked {
			t.Errorf("%s rendered ticked", b.Command)
		}
	}
	if strings.Join(cmds, "|") != "/promote staging --service checkout --from dev|/promote prod --service payments --from staging|/unfreeze prod" {
		t.Errorf("boxes %q", cmds)
	}
}

func TestRenderIsSafeWithHostileText(t *testing.T) {
	hostile := "@acme/all <img src=x> [x](javascript:1) | #12 -->"
	f := dashboard.Facts{
		Envs:     []string{"prod"},
		Services: []dashboard.Service{{Name: "web", Envs: []dashboard.Cell{{Env: "prod", Err: hostile}}}},
		Frozen:   []dashboard.Freeze{{Env: "prod", Reason: hostile}},
		Problems: []string{hostile},
		// A command that could close its comment is not written.
		Promotions: []dashboard.Promotion{{Service: "web --> <b>", From: "dev", To: "prod", Version: hostile}},
	}
	got := dashboard.Render(f)
	mdtest.Policy{Comments: true}.AssertSafe(t, got, hostile)
	if strings.Contains(got, "<b>") || len(dashboard.Boxes(got)) != 1 {
		t.Errorf("boxes %+v in\n%s", dashboard.Boxes(got), got)
	}
}

func TestSpliceReplacesOnlyTheSection(t *testing.T) {
	sec := dashboard.Render(facts())
	body := "Notes by people.\r\n\r\n" + dashboard.Render(dashboard.Facts{}) + "\r\nMore notes."
	got := dashboard.Splice(body, sec)
	if got != "Notes by people.\r\n\r\n"+sec+"\r\nMore notes." {
		t.Errorf("spliced:\n%q", got)
	}
	if again := dashboard.Splice(got, sec); again != got {
		t.Error("splicing the same section again changed the body")
	}
	if got := dashboard.Splice("", sec); got != sec {
		t.Errorf("into an empty body: %q", got)
	}
	if got := dashboard.Splice("hello", sec); got != "hello\n\n"+sec {
		t.Errorf("appended: %q", got)
	}
}

// humanText is random text a person might write, with pieces that look like daytwo's
// markup: a lone marker, near misses, checkboxes of its form.
func humanText(r *rand.Rand) string {
	pieces := []string{
		"hello", "\n", "\r\n", " ", "- [ ] my own task", "- [x] done by hand <!-- daytwo:do /promote prod -->",
		"<!-- daytwo:dashboard:star -->", "<!-- daytwo:dashboard -->", "daytwo:dashboard:end", "<!--", "-->",
		"`" + dashboard.Start + "`", "ü", "## heading", "| a | b |",
	}
	lone := []string{dashboard.Start, dashboard.End}
	var b strings.Builder
	for n := r.IntN(12); n > 0; n-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	// At most one lone marker: a person's text holding both would be a section of its own.
	if r.IntN(3) == 0 {
		b.WriteString(lone[r.IntN(2)])
	}
	for n := r.IntN(4); n > 0; n-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func TestSpliceKeepsHumanTextProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 2))
	for i := 0; i < 5000; i++ {
		before, after := humanText(r), humanText(r)
		// A lone End before the section or a lone Start after it is outside it; a lone
		// Start before it or End after it would pair with daytwo's markers.
		if strings.Contains(before, dashboard.Start) || strings.Contains(after, dashboard.End) {
			before, after = after, before
			if strings.Contains(before, dashboard.Start) || strings.Contains(after, dashboard.End) {
				continue
			}
		}
		old := dashboard.Render(dashboard.Facts{Envs: []string{"dev"}})
		sec := dashboard.Render(facts())
		body := before + old + after
		got := dashboard.Splice(body, sec)
		if got != before+sec+after {
			t.Fatalf("case %d: human text not kept:\nbefore %q\nafter %q\ngot %q", i, before, after, got)
		}
		// Ticks and unticks stay inside the section too.
		ticked := strings.Replace(got, "- [ ] promote checkout", "- [x] promote checkout", 1)
		if tk := dashboard.Ticked(got, ticked); len(tk) != 1 || tk[0].Command != "/promote staging --service checkout --from dev" {
			t.Fatalf("case %d: ticked %+v", i, tk)
		}
		un, ok := dashboard.Untick(ticked, "/promote staging --service checkout --from dev")
		if !ok || un != got {
			t.Fatalf("case %d: untick gave %q", i, un)
		}
	}
}

func TestTicked(t *testing.T) {
	before := "intro\n" + dashboard.Render(facts())
	tick := func(s, label string) string { return strings.Replace(s, "- [ ] "+label, "- [x] "+label, 1) }
	after := tick(tick(before, "promote checkout"), "unfreeze prod")
	got := dashboard.Ticked(before, after)
	if len(got) != 2 || got[0].Command != "/promote staging --service checkout --from dev" || got[1].Command != "/unfreeze prod" {
		t.Fatalf("ticked %+v", got)
	}
	// Ticked before already: not new.
	if got := dashboard.Ticked(after, after); len(got) != 0 {
		t.Errorf("no change, ticked %+v", got)
	}
	// Unticking is not ticking.
	if got := dashboard.Ticked(after, before); len(got) != 0 {
		t.Errorf("unticked, got %+v", got)
	}
	// A box outside daytwo's section is a person's own.
	own := "- [ ] deploy <!-- daytwo:do /promote prod -->\n"
	if got := dashboard.Ticked(own+before, tick(own, "deploy")+before); len(got) != 0 {
		t.Errorf("a box outside the section ran: %+v", got)
	}
	// A box a person added ticked, with a command daytwo did not offer, does nothing.
	added := strings.Replace(before, dashboard.End, "- [x] x <!-- daytwo:do /scale 0 --env prod -->\n"+dashboard.End, 1)
	if got := dashboard.Ticked(before, added); len(got) != 0 {
		t.Errorf("an added box ran: %+v", got)
	}
	// A box whose label does not say what its command does is not daytwo's: someone
	// could hide /scale 0 behind "promote", for another to tick.
	hidden := strings.Replace(before, "<!-- daytwo:do /promote staging --service checkout --from dev -->", "<!-- daytwo:do /promote prod --service checkout --from dev -->", 1)
	if got := dashboard.Ticked(hidden, tick(hidden, "promote checkout to staging")); len(got) != 0 {
		t.Errorf("a box hiding another command ran: %+v", got)
	}
	other := strings.Replace(before, "<!-- daytwo:do /unfreeze prod -->", "<!-- daytwo:do /scale 0 --env prod -->", 1)
	if got := dashboard.Ticked(other, tick(other, "unfreeze prod")); len(got) != 0 {
		t.Errorf("a box with a command daytwo does not offer ran: %+v", got)
	}
	// Windows line endings, as a browser may send.
	crlf := strings.ReplaceAll(before, "\n", "\r\n")
	if got := dashboard.Ticked(crlf, tick(crlf, "unfreeze prod")); len(got) != 1 || got[0].Command != "/unfreeze prod" {
		t.Errorf("CRLF: %+v", got)
	}
	// A body without the section has no boxes.
	if got := dashboard.Ticked("", "text"); got != nil {
		t.Errorf("%+v", got)
	}
}

func TestUntick(t *testing.T) {
	before := "intro\r\n" + strings.ReplaceAll(dashboard.Render(facts()), "\n", "\r\n") + "\r\noutro - [x] mine <!-- daytwo:do /unfreeze prod -->"
	ticked := strings.Replace(before, "- [ ] unfreeze", "- [X] unfreeze", 1)
	got, ok := dashboard.Untick(ticked, "/unfreeze prod")
	if !ok || got != before {
		t.Errorf("untick:\n%q\nwant\n%q", got, before)
	}
	if _, ok := dashboard.Untick(before, "/unfreeze prod"); ok {
		t.Error("unticked a box that was not ticked")
	}
	if _, ok := dashboard.Untick(ticked, "/unfreeze staging"); ok {
		t.Error("unticked another command's box")
	}
}
