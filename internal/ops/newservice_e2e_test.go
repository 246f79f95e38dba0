package ops_test

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	validation "github.com/daytwo-dev/daytwo/internal/validate"
)

// TestNewServiceOpensOnePR: a maintainer asks for /new-service in a comment; one pull
// request adds the base, three overlays, three Applications shaped like checkout's, the
// AppProject destination, the catalog file, the CODEOWNERS line and the config entry. On
// its head, every overlay renders and what daytwo validate checks holds; its merge is
// reported, and a day-2 command then works on the new service.
func TestNewServiceOpensOnePR(t *testing.T) {
	w := newWorld(t)
	n := w.ask(t, "mo", "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0\n")
	pr := w.openFor(t, "daytwo/ledger/new-service-")
	if pr.Title != "Add service ledger (acme/payments-team)" || pr.Base != "main" {
		t.Errorf("PR %q into %s", pr.Title, pr.Base)
	}
	labels := slices.Clone(pr.Labels)
	sort.Strings(labels)
	if strings.Join(labels, ",") != "action/new-service,daytwo" {
		t.Errorf("labels %v", labels)
	}
	teams := slices.Clone(pr.RequestedTeams)
	sort.Strings(teams)
	if strings.Join(teams, ",") != "platform,sre" {
		t.Errorf("reviewers %v, want the code owners of .github/, argocd/ and the rest on main", teams)
	}
	want := []string{
		".github/CODEOWNERS", ".github/daytwo.yml",
		"apps/ledger/base/deployment.yaml", "apps/ledger/base/kustomization.yaml", "apps/ledger/base/service.yaml",
		"apps/ledger/catalog-info.yaml",
		"apps/ledger/overlays/dev/kustomization.yaml", "apps/ledger/overlays/prod/kustomization.yaml", "apps/ledger/overlays/staging/kustomization.yaml",
		"argocd/apps/ledger-dev.yaml", "argocd/apps/ledger-prod.yaml", "argocd/apps/ledger-staging.yaml", "argocd/project.yaml",
	}
	if got := w.changedFiles(t, pr); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the PR changes\n%v, want\n%v", got, want)
	}

	// The PR head, as daytwo validate reads it.
	head := files(w.repo.Files(pr.HeadSHA))
	cfg := validate(t, head)
	if _, ok := cfg.Service("ledger"); !ok {
		t.Fatalf("the config on the PR head lists %v", cfg.ServiceNames())
	}
	deps, _, err := discovery.Find(context.Background(), head, "acme/gitops")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range validation.Overlays(context.Background(), head, cfg, deps) {
		if o.Err != nil || (o.Service == "ledger" && o.DescribeApps() != "argocd: ledger-"+o.Env) {
			t.Errorf("%s in %s: %v, %s", o.Service, o.Env, o.Err, o.DescribeApps())
		}
	}
	if !strings.Contains(head[".github/CODEOWNERS"], "\n/apps/ledger/                       @acme/payments-team\n") {
		t.Errorf("CODEOWNERS:\n%s", head[".github/CODEOWNERS"])
	}
	if !strings.Contains(head["argocd/project.yaml"], `namespace: "ledger-*"`) {
		t.Errorf("the AppProject does not let ledger in:\n%s", head["argocd/project.yaml"])
	}
	if runs := w.repo.CheckRuns(pr.HeadSHA); len(runs) != 1 || runs[0].Name != "daytwo/render" || runs[0].Conclusion != "success" {
		t.Errorf("check runs %+v", runs)
	}
	for _, s := range []string{"| prod | `apps/ledger/overlays/prod` | ✅ | ledger-prod: Application in argocd/apps/ledger-prod.yaml, like checkout-prod |", "12 of 12 overlays of 4 services render", "<!-- daytwo: "} {
		if !strings.Contains(pr.Body, s) {
			t.Errorf("the PR description lacks %q:\n%s", s, pr.Body)
		}
	}
	if st := w.status(t, n); !strings.Contains(st, "🔀 Opened ") || !strings.Contains(st, `"state":"open"`) {
		t.Errorf("status:\n%s", st)
	}

	// Asking again for the same name, while the PR is open, is refused, pointing at it.
	again := w.ask(t, "mo", "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.2.0\n")
	if st := w.status(t, again); !strings.Contains(st, "adds a service ledger already") {
		t.Errorf("a second request for the name:\n%s", st)
	}

	w.repo.MergeAs(pr.Number, "squash", "payments-team-lead")
	w.Send(t, "pull_request", w.repo.PullClosedPayload(pr.Number))
	w.Quiet(t)
	if st := w.status(t, n); !strings.Contains(st, "🎉 ledger is in the repository") || !strings.Contains(st, `"state":"merged"`) {
		t.Errorf("after the merge:\n%s", st)
	}
	scale := w.ask(t, "alice", "/scale 2 --service ledger --env dev\n")
	if p := w.repo.Files(w.mustHead(t)); !strings.Contains(p["apps/ledger/overlays/dev/kustomization.yaml"], "count: 2") {
		t.Errorf("/scale on the new service (dev auto-merges):\n%s", w.status(t, scale))
	}
}

func (w *world) mustHead(t *testing.T) string {
	t.Helper()
	sha, ok := w.repo.BranchSHA("main")
	if !ok {
		t.Fatal("no main")
	}
	return sha
}

// TestNewServiceRefusals: what is refused, and the words of each answer.
func TestNewServiceRefusals(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name, author, line string
		mentions           []string
	}{
		{"new-service-taken", "mo", "/new-service checkout --owner acme/payments-team --image ghcr.io/acme/checkout:2.0.0", []string{"mo"}},
		{"new-service-unknown-team", "mo", "/new-service ledger --owner acme/ledger-team --image ghcr.io/acme/ledger:0.1.0", []string{"mo"}},
		{"new-service-policy", "alice", "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0", []string{"alice"}},
		{"new-service-unknown-env", "mo", "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0 --envs dev,qa", []string{"mo"}},
		{"new-service-bad-image", "mo", "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger", []string{"mo"}},
		{"new-service-dry-run", "alice", "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0 --envs dev --dry-run", []string{"alice"}},
	}
	for _, c := range cases {
		n := w.ask(t, c.author, c.line+"\n")
		st := w.shown(t, n)
		mdtest.Golden(t, filepath.Join("testdata", "status", c.name+".md"), st, *update)
		mdtest.Policy{Mentions: c.mentions, Comments: true, Elements: []string{"details", "summary"}}.AssertSafe(t, st)
	}
	if pulls := w.openPulls(); len(pulls) != 0 {
		t.Errorf("refusals opened %+v", pulls)
	}
	if b := w.daytwoBranches(); len(b) != 0 {
		t.Errorf("refusals left branches %v", b)
	}
	// Nothing of it reached the default branch.
	if main := w.repo.Files(w.mustHead(t)); strings.Contains(main[repoconfig.Path], "ledger") {
		t.Error("the config changed")
	}
}

// TestNewServiceFromIssueForm: the "New service" issue form opens the same pull request.
func TestNewServiceFromIssueForm(t *testing.T) {
	w := newWorld(t)
	body := "### Name\n\nledger\n\n### Owning team\n\nacme/payments-team\n\n### Image\n\nghcr.io/acme/ledger:0.1.0\n\n" +
		"### Port\n\n9000\n\n### Environments\n\ndev, staging\n\n### System\n\n_No response_\n\n### Reason\n\nThe new ledger.\n\n### Dry run\n\n- [ ] Only show the change; do not open a pull request\n"
	n := w.repo.CreateIssue("mo", "[daytwo] new-service: ledger", body, "daytwo", "action/new-service")
	w.Send(t, "issues", w.repo.IssuesOpenedPayload(n))
	w.Quiet(t)
	pr := w.openFor(t, "daytwo/ledger/new-service-")
	head := w.repo.Files(pr.HeadSHA)
	if _, ok := head["apps/ledger/overlays/prod/kustomization.yaml"]; ok {
		t.Error("prod was left out of --envs")
	}
	if !strings.Contains(head["apps/ledger/base/deployment.yaml"], "containerPort: 9000") || !strings.Contains(head[".github/daytwo.yml"], "environments: [dev, staging]") {
		t.Errorf("port or environments not applied:\n%s\n%s", head["apps/ledger/base/deployment.yaml"], head[".github/daytwo.yml"])
	}
	if !strings.Contains(pr.Body, "The new ledger.") {
		t.Errorf("the reason is not in the description:\n%s", pr.Body)
	}
	validate(t, files(head))
	_ = n
}
