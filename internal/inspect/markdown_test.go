package inspect_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/inspect"
)

// exampleStatus is the status view of checkout in the example, without live state.
func exampleStatus(t *testing.T, e *example) inspect.StatusView {
	t.Helper()
	ctx := context.Background()
	snap := e.snap(t)
	cat, err := inspect.ReadCatalog(ctx, e.cfg, snap, "checkout")
	if err != nil {
		t.Fatal(err)
	}
	v := inspect.StatusView{Service: "checkout", Catalog: cat}
	for _, env := range e.cfg.EnvNames() {
		d, err := inspect.ReadDesired(ctx, e.cfg, snap, "checkout", env)
		if err != nil {
			t.Fatal(err)
		}
		v.Envs = append(v.Envs, inspect.EnvStatus{Env: env, Desired: d})
	}
	return v
}

// mermaidNode is how every node of the promotion diagram must look: one quoted label
// with no quote inside.
var mermaidNode = regexp.MustCompile(`^  e[0-9]+\["[^"]*"\]$`)

func checkDiagram(t *testing.T, md string) []string {
	t.Helper()
	start := strings.Index(md, "```mermaid\nflowchart LR\n")
	if start < 0 {
		t.Fatalf("no mermaid diagram:\n%s", md)
	}
	body, _, ok := strings.Cut(md[start+len("```mermaid\nflowchart LR\n"):], "```\n")
	if !ok {
		t.Fatalf("the mermaid block is not closed:\n%s", md)
	}
	var nodes []string
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "  e") && strings.Contains(line, "["):
			if !mermaidNode.MatchString(line) {
				t.Errorf("node line %q is not one quoted label", line)
			}
			nodes = append(nodes, line)
		case regexp.MustCompile(`^  e[0-9]+ --> e[0-9]+$`).MatchString(line),
			regexp.MustCompile(`^  classDef (ok|warn|bad|absent) [-a-z#0-9:, ]+$`).MatchString(line),
			regexp.MustCompile(`^  class (e[0-9]+,)*e[0-9]+ (ok|warn|bad|absent)$`).MatchString(line):
		default:
			t.Errorf("unexpected mermaid line %q", line)
		}
	}
	return nodes
}

func TestStatusMarkdownWithoutArgoCD(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	v := exampleStatus(t, e)
	md := v.Markdown()
	hash := func(i int) string { return v.Envs[i].Desired.ConfigHash }
	for _, want := range []string{
		"### checkout\n\nCart and order API of the web shop.\n\n",
		"**Owner** `group:acme/checkout-team` · **System** `shop` · **Lifecycle** production · **Depends on** `component:catalog`, `component:payments`\n",
		"| env | image | replicas | config | frozen | sync | health | revision | last sync (UTC) | open PRs |\n",
		"| **dev** | `checkout:1.8.0` | 1 | `" + hash(0) + "` · 6 keys | no | — | — | — | — | — |\n",
		"| **staging** | `checkout:1.7.2` | 2 | `" + hash(1) + "` · 6 keys | no | — | — | — | — | — |\n",
		"| **prod** | `checkout:1.7.1` | 3 | `" + hash(2) + "` · 6 keys | no | — | — | — | — | — |\n",
		"Live state is unavailable: daytwo has no Argo CD connection configured",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Rows in promotion order.
	if strings.Index(md, "**dev**") > strings.Index(md, "**staging**") || strings.Index(md, "**staging**") > strings.Index(md, "**prod**") {
		t.Errorf("rows out of promotion order:\n%s", md)
	}
	nodes := checkDiagram(t, md)
	want := []string{`  e0["<b>dev</b><br/>1.8.0"]`, `  e1["<b>staging</b><br/>1.7.2"]`, `  e2["<b>prod</b><br/>1.7.1"]`}
	if strings.Join(nodes, "\n") != strings.Join(want, "\n") {
		t.Errorf("nodes:\n%s\nwant:\n%s", strings.Join(nodes, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(md, "  e0 --> e1\n") || !strings.Contains(md, "  e1 --> e2\n") || strings.Contains(md, "classDef") {
		t.Errorf("promotion path:\n%s", md)
	}
	if v.Markdown() != md {
		t.Error("the same view renders differently twice")
	}
}

func TestStatusMarkdownWithLiveState(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	v := exampleStatus(t, e)
	synced := time.Date(2026, 11, 20, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	v.Envs[0].Live = &inspect.Live{App: "checkout-dev", Sync: "Synced", Health: "Healthy", Revision: "0123456789abcdef0123", LastSynced: synced, Images: []string{"ghcr.io/acme/checkout:1.8.0"}}
	v.Envs[1].Live = &inspect.Live{App: "checkout-staging", Sync: "OutOfSync", Health: "Progressing", Message: "waiting for rollout to finish", Images: []string{"ghcr.io/acme/checkout:1.7.1"}}
	v.Envs[2].Live = &inspect.Live{App: "checkout-prod", Sync: "Synced", Health: "Degraded", Message: `Deployment "checkout" exceeded its progress deadline`}
	v.Envs[2].OpenPRs = []inspect.PRRef{
		{Number: 7, URL: "https://github.com/acme/gitops/pull/7", Title: `checkout/prod: promote "1.7.2" | now`},
		{Number: 8, URL: "javascript:alert(1)"},
	}
	md := v.Markdown()
	for _, want := range []string{
		"| ✅ Synced | 💚 Healthy | `0123456` | 2026-11-20 08:30 | — |\n",
		"| **staging** | `checkout:1.7.2`<br>live: `checkout:1.7.1` | 2 |",
		"| 🔶 **OutOfSync** | 🔄 Progressing | — | — | — |\n",
		"| ✅ Synced | 💔 **Degraded** | — | — | [#7](https://github.com/acme/gitops/pull/7 \"checkout/prod: promote \\\"1.7.2\\\" \\| now\") #8 |\n",
		"- **staging**: waiting for rollout to finish\n",
		"- **prod**: Deployment \"checkout\" exceeded its progress deadline\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Live state is unavailable") || strings.Contains(md, "javascript:") {
		t.Errorf("live state is there, and only http(s) links are:\n%s", md)
	}
	nodes := checkDiagram(t, md)
	if nodes[1] != `  e1["<b>staging</b><br/>1.7.2<br/>⚠️ Progressing · OutOfSync"]` || nodes[2] != `  e2["<b>prod</b><br/>1.7.1<br/>💔 Degraded · Synced"]` {
		t.Errorf("nodes %q", nodes)
	}
	for _, want := range []string{"  class e0 ok\n", "  class e1 warn\n", "  class e2 bad\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("diagram lacks %q:\n%s", want, md)
		}
	}

	// Argo CD unreachable for one environment.
	v.Envs[1].Live = &inspect.Live{App: "checkout-staging", Err: "rpc error: code = Unavailable | dial tcp"}
	md = v.Markdown()
	if !strings.Contains(md, "| ⚠️ unknown | ⚠️ unknown |") || !strings.Contains(md, "- **staging**: Argo CD state unknown (`checkout-staging`): rpc error: code = Unavailable \\| dial tcp") {
		t.Errorf("unreachable Argo CD:\n%s", md)
	}
}

func TestStatusMarkdownNotDeployedAndFrozen(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	e.commit(t, "checkout leaves prod", map[string]string{"apps/checkout/overlays/prod": ""})
	e.apply(t, "/freeze --env staging --reason load test", "sre-dana", 3)
	v := exampleStatus(t, e)
	md := v.Markdown()
	for _, want := range []string{
		"| **prod** | not deployed | — | — | no | — |",
		"| 🧊 frozen: load test |",
		"- **prod**: not deployed (no overlay at apps/checkout/overlays/prod)\n",
		"- **staging**: frozen by sre-dana since 2026-11-02 09:01 UTC\n",
		"  class e2 absent\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	nodes := checkDiagram(t, md)
	if nodes[1] != `  e1["<b>staging</b><br/>1.7.2<br/>🧊 frozen"]` || nodes[2] != `  e2["<b>prod</b><br/>not deployed"]` {
		t.Errorf("nodes %q", nodes)
	}
}

func TestStatusMarkdownEscapes(t *testing.T) {
	t.Parallel()
	hostile := "a|b `c` <script>x</script> @alice [l](http://x) \"q\" #1\nnext"
	v := inspect.StatusView{
		Service: "svc",
		Catalog: &inspect.Catalog{Description: hostile, Owner: "group:`x`|y", Lifecycle: hostile},
		Envs: []inspect.EnvStatus{{
			Env: `dev"]; click e0 "http://evil`,
			Desired: &inspect.Desired{
				Images:    []inspect.Image{{Workload: "Deployment/w", Container: "c", Name: "r/img|x", Tag: "1`2"}},
				Workloads: []inspect.Workload{{Kind: "Deployment", Name: "w|1", Replicas: ptr(2)}, {Kind: "DaemonSet", Name: "agent"}},
				Frozen:    true, FreezeReason: hostile,
			},
			Live: &inspect.Live{Sync: "Synced", Health: `Weird"] --> x`, Message: hostile},
		}},
	}
	md := v.Markdown()
	if strings.Contains(md, "<script>") || strings.Contains(md, "@alice") || strings.Contains(md, "[l](") {
		t.Errorf("markup from data survives:\n%s", md)
	}
	if !strings.Contains(md, "@\u2060alice") || !strings.Contains(md, `a\|b`) || !strings.Contains(md, `\<script\>`) || !strings.Contains(md, `\[l\](http://x)`) {
		t.Errorf("text is not shown escaped:\n%s", md)
	}
	// Every table line has the header's ten cells: nothing in the data split a row.
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := regexp.MustCompile(`(^|[^\\])\|`).FindAllStringIndex(line, -1)
		if len(cells) != 11 {
			t.Errorf("%d cells in %q", len(cells)-1, line)
		}
	}
	if !strings.Contains(md, "w\\|1 2<br>agent per node") {
		t.Errorf("replicas of two workloads:\n%s", md)
	}
	nodes := checkDiagram(t, md)
	if len(nodes) != 1 || !strings.Contains(nodes[0], "#quot;") || strings.Contains(nodes[0], "<script") {
		t.Errorf("mermaid label not escaped: %q", nodes)
	}
}

func TestHistoryMarkdown(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 11, 20, 11, 5, 0, 0, time.FixedZone("CET", 3600))
	actions := []inspect.Action{
		{When: when, Commit: "0123456789abcdef0123456789abcdef01234567", Action: "scale", Command: "/scale 5 --env prod", Service: "checkout", Env: "prod",
			Requester: "alice", Origin: "https://github.com/acme/gitops/issues/4#issuecomment-9", PR: 12, Summary: "checkout/prod: scale to 5 | now"},
		{When: when.Add(-time.Hour), Commit: "fedcba9876543210fedcba9876543210fedcba98", Action: "freeze", Env: "prod", Requester: "bob", Summary: "prod: freeze"},
	}
	md := inspect.HistoryMarkdown(actions, "https://github.com/acme/gitops/")
	for _, want := range []string{
		"| when (UTC) | action | env | service | what | asked by | change |\n",
		"| 2026-11-20 10:05 | scale | prod | checkout | `/scale 5 --env prod`<br>checkout/prod: scale to 5 \\| now | [alice](https://github.com/acme/gitops/issues/4#issuecomment-9) | [#12](https://github.com/acme/gitops/pull/12) |\n",
		"| 2026-11-20 09:05 | freeze | prod | all | prod: freeze | bob | [`fedcba9`](https://github.com/acme/gitops/commit/fedcba9876543210fedcba9876543210fedcba98) |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	plain := inspect.HistoryMarkdown(actions, "")
	if !strings.Contains(plain, "| #12 |") || !strings.Contains(plain, "| `fedcba9` |") || strings.Contains(plain, "](") && strings.Contains(plain, "/pull/") {
		t.Errorf("without a repository URL:\n%s", plain)
	}
	if md := inspect.HistoryMarkdown(nil, ""); !strings.HasPrefix(md, "No day-2 actions found") {
		t.Errorf("empty history: %q", md)
	}
}

func TestMarkdownFitsInAComment(t *testing.T) {
	t.Parallel()
	// Thousands of actions.
	var actions []inspect.Action
	for i := range 5000 {
		actions = append(actions, inspect.Action{When: time.Unix(int64(1e9+i), 0), Commit: fmt.Sprintf("%040x", i), Action: "restart",
			Command: "/restart --env prod", Service: "checkout", Env: "prod", Requester: "alice", PR: i + 1, Summary: strings.Repeat("long summary ", 20)})
	}
	md := inspect.HistoryMarkdown(actions, "https://github.com/acme/gitops")
	rows := strings.Count(md, "\n| ") - 1
	if len(md) > inspect.MaxMarkdown || rows < 50 || !strings.Contains(md, fmt.Sprintf("_… %d of 5000 actions shown: an answer must fit in one GitHub comment._", rows)) {
		t.Errorf("history: %d bytes, %d rows, ends %q", len(md), rows, md[max(0, len(md)-200):])
	}

	// A diff of thousands of ConfigMap keys.
	d := &inspect.EnvDiff{Service: "checkout", A: "dev", B: "prod"}
	for i := range 3000 {
		d.Config = append(d.Config, inspect.ConfigChange{ConfigMap: "cm", Key: fmt.Sprintf("KEY_%04d", i), InA: true, A: strings.Repeat("v", 60)})
	}
	md = d.Markdown()
	if len(md) > inspect.MaxMarkdown || !strings.Contains(md, " of 3000 differences shown") || !strings.Contains(md, "KEY_0000") {
		t.Errorf("diff: %d bytes, ends %q", len(md), md[max(0, len(md)-200):])
	}

	// A status of thousands of environments: the table is cut and the diagram, which
	// cannot be cut in half, is left out whole.
	v := inspect.StatusView{Service: "checkout"}
	for i := range 2000 {
		v.Envs = append(v.Envs, inspect.EnvStatus{Env: fmt.Sprintf("env-%04d", i),
			Desired: &inspect.Desired{Images: []inspect.Image{{Name: "ghcr.io/acme/checkout", Tag: "1.0." + fmt.Sprint(i)}}},
			OpenPRs: []inspect.PRRef{{Number: i, URL: fmt.Sprintf("https://github.com/acme/gitops/pull/%d", i)}}})
	}
	md = v.Markdown()
	if len(md) > inspect.MaxMarkdown || !strings.Contains(md, " of 2000 environments shown") || strings.Contains(md, "```") {
		t.Errorf("status: %d bytes, ends %q", len(md), md[max(0, len(md)-200):])
	}
	// A view that fits keeps its diagram.
	v.Envs = v.Envs[:100]
	if md := v.Markdown(); strings.Contains(md, "shown:") || strings.Count(md, "```") != 2 {
		t.Errorf("100 environments fit:\n%s", md[max(0, len(md)-300):])
	}
}
