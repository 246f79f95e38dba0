package plan

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// bodyPolicy is what a PR body may hold besides plain text and code: the requester's
// mention, the template's collapsible diff and its hidden metadata.
var bodyPolicy = mdtest.Policy{Mentions: []string{"alice"}, Elements: []string{"details", "summary"}, Comments: true}

// hostileReason holds a line of each kind of markup a person could try in a reason.
var hostileReason = []string{
	"<img src=x onerror=alert(1)> and <script>alert(1)</script>",
	"> quoted @acme/everyone, cc @alice",
	"# heading #123 GH-4",
	"```",
	"~~~",
	"<!-- hidden",
	"--> `one` ```three``` `````five`````",
	"[x](javascript:alert(1)) **bold** _em_ ~~del~~ $x$",
	"1. item",
	"- item",
	"===",
}

// The command line, the reason and a freeze's reason show as written in the PR body.
func TestPRBodyShowsPersonTextAsWritten(t *testing.T) {
	files := readTree(t, filepath.Join("testdata", "scale-prod", "input"))
	freezeReason := "<img src=x onerror=alert(1)> @acme/everyone `x` #123"
	quoted, _ := json.Marshal(freezeReason) // a JSON string is a YAML scalar
	replace(t, files, repoconfig.Path, prodFreeze, prodFreeze+"    freeze:\n      reason: "+string(quoted)+"\n      by: bob\n")
	c := cmd("scale", "checkout", "prod")
	c.Replicas, c.BreakGlass = 5, true
	c.Reason = strings.Join(hostileReason, "\n\n")
	line := "/scale 5 --env prod --break-glass `x` ``` <img src=x> @acme/everyone #123"
	cs, err := New().Plan(context.Background(), loadConfig(t, files), files[repoconfig.Path], newMemSnapshot(baseSHA, files), nil, request(line, c))
	if err != nil {
		t.Fatal(err)
	}
	bodyPolicy.AssertSafe(t, cs.Body, append(hostileReason, freezeReason)...)
	inCode := bodyPolicy
	inCode.InCode = true
	inCode.AssertSafe(t, cs.Body, line)
}

// A rollback lists the commits it undoes by subject and requester: both are text.
func TestRollbackBodyShowsCommitsAsWritten(t *testing.T) {
	files := readTree(t, filepath.Join("testdata", "rollback-prod", "input"))
	h := &memHistory{}
	first := h.commit("Initial import", files)
	subject := "<img src=x onerror=alert(1)> @acme/everyone #1 **bold** `x`"
	files = cloneFiles(files)
	p := "apps/checkout/overlays/prod/resources.yaml"
	files[p] = []byte(strings.Replace(string(files[p]), "512Mi", "1Gi", 1))
	h.commit(subject+"\n\nbody", files)
	files = cloneFiles(files)
	files[p] = []byte(strings.Replace(string(files[p]), "1Gi", "2Gi", 1))
	snap := h.commit("by hand\n\n"+TrailerAction+": scale\n"+TrailerRequester+": acme/everyone", files)

	to := first.commit[:10]
	c := cmd("rollback", "checkout", "prod")
	c.To = to
	cs, err := New().Plan(context.Background(), loadConfig(t, files), nil, snap, h, request("/rollback --to "+to+" --env prod", c))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cs.Body, "(asked by acme/everyone)") {
		t.Errorf("the requester of an undone commit is not shown:\n%s", cs.Body)
	}
	bodyPolicy.AssertSafe(t, cs.Body, subject)
}
