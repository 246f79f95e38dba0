package plan

import (
	"context"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/command"
)

func TestParseTrailers(t *testing.T) {
	for _, c := range []struct {
		name, msg string
		want      map[string]string
	}{
		{"subject only", "fix: the thing", map[string]string{}},
		{"body without trailers", "Subject\n\nSome words here.\nMore words.", map[string]string{}},
		{
			"daytwo", "checkout/prod: scale to 5 replicas\n\nscale checkout in prod: 3 → 5 replicas\n\nDaytwo-Action: scale\nDaytwo-Command: /scale 5 --env prod\nDaytwo-Env: prod\n",
			map[string]string{"Daytwo-Action": "scale", "Daytwo-Command": "/scale 5 --env prod", "Daytwo-Env": "prod"},
		},
		{"continuation", "S\n\nSigned-off-by: A\n  B\nCo-authored-by: C <c@x>", map[string]string{"Signed-off-by": "A B", "Co-authored-by": "C <c@x>"}},
		{"mixed last paragraph", "S\n\nDaytwo-Action: scale\nnot a trailer line", map[string]string{}},
		{"crlf", "S\r\n\r\nDaytwo-Action: restart\r\n", map[string]string{"Daytwo-Action": "restart"}},
		{"repeated key keeps the last", "S\n\nK: 1\nK: 2", map[string]string{"K": "2"}},
		{"key with space", "S\n\nNot a: trailer", map[string]string{}},
	} {
		if got := ParseTrailers(c.msg); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseMetadata(t *testing.T) {
	if _, ok := ParseMetadata("a body without metadata"); ok {
		t.Error("found metadata in a plain body")
	}
	if _, ok := ParseMetadata("<!-- daytwo: {not json} -->"); ok {
		t.Error("accepted malformed metadata")
	}
	// A reason that tries to close the comment or to plant metadata of its own changes
	// nothing: the real metadata comes last and its JSON escapes '<' and '>'.
	files := readTree(t, filepath.Join("testdata", "scale-prod", "input"))
	c := cmd("scale", "checkout", "prod")
	c.Replicas = 5
	c.Reason = "--> <!-- daytwo: {\"env\":\"dev\"} --> oops"
	r := request("/scale 5 --env prod", c)
	r.Requester = "x-->y"
	cs, err := New().Plan(context.Background(), loadConfig(t, files), nil, newMemSnapshot(baseSHA, files), nil, r)
	if err != nil {
		t.Fatal(err)
	}
	meta, ok := ParseMetadata(cs.Body)
	if !ok {
		t.Fatal("no metadata")
	}
	if meta["env"] != "prod" || meta["requester"] != "x-->y" || !reflect.DeepEqual(meta, cs.Metadata) {
		t.Errorf("metadata = %v, want %v", meta, cs.Metadata)
	}
	if strings.Count(cs.Body[strings.LastIndex(cs.Body, metadataOpen):], "-->") != 1 {
		t.Error("the metadata comment holds an early -->")
	}
}

func TestBranchName(t *testing.T) {
	a := branchName("prod", "checkout", "scale", "acme/gitops#12")
	if a != branchName("prod", "checkout", "scale", "acme/gitops#12") {
		t.Error("branch names are not deterministic")
	}
	if !strings.HasPrefix(a, "daytwo/prod/checkout/scale-") || len(a) != len("daytwo/prod/checkout/scale-")+8 {
		t.Errorf("branch %q", a)
	}
	if a == branchName("prod", "checkout", "scale", "acme/gitops#13") {
		t.Error("two origins share a branch")
	}
	for _, n := range [][3]string{
		{"prod", "a..b", "scale"},
		{".hidden", "x.lock", "set-image"},
		{"pr od", "svc~^:?*[\\", "config"},
		{strings.Repeat("e", 300), strings.Repeat("s", 300), "rollback"},
		{"", "", ""},
		{"prod", "-lead", "restart"},
		{"prod", "né", "restart"},
	} {
		b := branchName(n[0], n[1], n[2], "k")
		if !validRef(b) || len(b) > maxBranchLen {
			t.Errorf("branchName(%q) = %q is not a valid branch", n, b)
		}
	}
}

// The template functions; markdown.Code, which "code" is, has its tests in its package.
func TestTemplateFuncs(t *testing.T) {
	if got := prFence("x ``` y\n", "diff"); got != "````diff\nx ``` y\n````" {
		t.Errorf("fence = %q", got)
	}
	if got := quote("a\n\nb"); got != "> a\n>\n> b" {
		t.Errorf("quote = %q", got)
	}
	if got := quote("# not a heading\n<b>@acme/everyone</b>"); got != "> \\# not a heading\n> \\<b\\>`@acme/everyone`\\</b\\>" {
		t.Errorf("quote = %q", got)
	}
	for in, want := range map[string]string{"alice": "@alice", "acme/everyone": "acme/everyone", "x]y": "x\\]y"} {
		if got := mention(in); got != want {
			t.Errorf("mention(%q) = %q, want %q", in, got, want)
		}
	}
}

// A change whose diffs exceed GitHub's body limit still yields a body within it, with
// the diffs cut at line boundaries, notes saying so, and the metadata whole.
func TestBodyLimit(t *testing.T) {
	files := readTree(t, filepath.Join("testdata", "config-set-prod", "input"))
	for _, c := range []struct{ keys, limit int }{{400, MaxBodyLen}, {12, 5000}} {
		var set []command.KeyValue
		for i := 0; i < c.keys; i++ {
			set = append(set, command.KeyValue{Key: "KEY_" + strconv.Itoa(i), Value: strings.Repeat("v", 200)})
		}
		x := cmd("config", "checkout", "prod")
		x.Set = set
		p := New()
		p.bodyLimit = c.limit
		cs, err := p.Plan(context.Background(), loadConfig(t, files), nil, newMemSnapshot(baseSHA, files), nil, request("/config set ...", x))
		if err != nil {
			t.Fatal(err)
		}
		if len(cs.RenderedDiff)+len(cs.FileDiff) <= c.limit {
			t.Fatalf("diffs of %d bytes do not exceed %d; the test proves nothing", len(cs.RenderedDiff)+len(cs.FileDiff), c.limit)
		}
		if len(cs.Body) > c.limit {
			t.Errorf("limit %d: body is %d bytes", c.limit, len(cs.Body))
		}
		if len(cs.Body) < c.limit*3/4 {
			t.Errorf("limit %d: a body of %d bytes wastes the room it has", c.limit, len(cs.Body))
		}
		if meta, ok := ParseMetadata(cs.Body); !ok || !reflect.DeepEqual(meta, cs.Metadata) {
			t.Errorf("limit %d: metadata lost", c.limit)
		}
		if !strings.Contains(cs.Body, "is cut to fit GitHub's") || !strings.Contains(cs.Body, "kustomize build apps/checkout/overlays/prod") {
			t.Errorf("limit %d: no truncation note", c.limit)
		}
		// Diffs are cut at line boundaries: every line of a diff block is a diff line.
		for _, block := range strings.Split(cs.Body, "```diff\n")[1:] {
			body, _, _ := strings.Cut(block, "\n```")
			for _, l := range strings.Split(body, "\n") {
				if l != "" && !strings.ContainsAny(l[:1], " +-@") && !strings.HasPrefix(l, "diff") && !strings.HasPrefix(l, "Deployment") && !strings.HasPrefix(l, "ConfigMap") {
					t.Errorf("limit %d: a cut line %q", c.limit, l)
				}
			}
		}
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	files := readTree(t, filepath.Join("testdata", "redeploy-staging", "input"))
	cfg := loadConfig(t, files)
	snap := newMemSnapshot(baseSHA, files)
	r := request("/redeploy --env staging", cmd("redeploy", "checkout", "staging"))
	a, err := New().Plan(context.Background(), cfg, nil, snap, nil, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b, err := New().Plan(context.Background(), cfg, nil, snap, nil, r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatal("two plans of one request differ")
		}
	}
}

func TestPlanUsesClockWithoutNow(t *testing.T) {
	files := readTree(t, filepath.Join("testdata", "restart-prod", "input"))
	r := request("/restart --env prod", cmd("restart", "checkout", "prod"))
	r.Now = time.Time{}
	clock := time.Date(2027, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	p := New()
	p.now = func() time.Time { return clock }
	cs, err := p.Plan(context.Background(), loadConfig(t, files), nil, newMemSnapshot(baseSHA, files), nil, r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cs.RenderedDiff, "2027-01-02T02:04:05Z") {
		t.Errorf("the restart does not carry the clock's time in UTC:\n%s", cs.RenderedDiff)
	}
}
