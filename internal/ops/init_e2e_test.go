package ops_test

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// newBareWorld is the example GitOps repository, with its people, before daytwo's config
// was written: the files drop names are deleted on main.
func newBareWorld(t *testing.T, drop ...string) *world {
	t.Helper()
	w := newWorld(t)
	w.repo.Commit("main", "before daytwo", nil, drop...)
	return w
}

// files is a commit's files as a repository Reader.
type files map[string]string

func (f files) ReadFile(_ context.Context, p string) ([]byte, error) {
	if b, ok := f[p]; ok {
		return []byte(b), nil
	}
	return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

func (f files) ReadDir(_ context.Context, p string) ([]string, error) {
	set := map[string]bool{}
	for name := range f {
		rest, ok := strings.CutPrefix(name, p+"/")
		if p == "." {
			rest, ok = name, true
		}
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			set[rest[:i+1]] = true
		} else {
			set[rest] = true
		}
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// validate does what `daytwo validate` does on a commit: the config loads and every
// overlay it names renders.
func validate(t *testing.T, repo files) *repoconfig.Config {
	t.Helper()
	cfg, err := repoconfig.Load([]byte(repo[repoconfig.Path]), command.All())
	if err != nil {
		t.Fatalf("the proposed config does not load: %v", err)
	}
	for _, svc := range cfg.Services {
		for _, env := range cfg.EnvNames() {
			if !svc.Deploys(env) {
				continue
			}
			tree, err := overlay.Load(context.Background(), repo, svc.OverlayPath(env))
			if err == nil {
				_, err = tree.Render()
			}
			if err != nil {
				t.Errorf("%s in %s does not render: %v", svc.Name, env, err)
			}
		}
	}
	return cfg
}

// TestInitOpensTheOnboardingPR: a maintainer asks for /init in the GitOps repository
// without a config; the pull request holds the config and the forms, they validate, its
// merge makes daytwo read the config, and a command works with it.
func TestInitOpensTheOnboardingPR(t *testing.T) {
	w := newBareWorld(t, repoconfig.Path)
	n := w.ask(t, "mo", "/init\n")

	pulls := w.openPulls()
	if len(pulls) != 1 {
		t.Fatalf("want one PR, got %+v\n%s", pulls, w.status(t, n))
	}
	pr := pulls[0]
	if pr.Title != "Onboard acme/gitops to daytwo" || !strings.HasPrefix(pr.Head, "daytwo/init-") || pr.Base != "main" {
		t.Errorf("PR %q from %s into %s", pr.Title, pr.Head, pr.Base)
	}
	labels := append([]string(nil), pr.Labels...)
	sort.Strings(labels)
	if strings.Join(labels, ",") != "action/init,daytwo" {
		t.Errorf("labels %v", labels)
	}
	teams := append([]string(nil), pr.RequestedTeams...)
	sort.Strings(teams)
	if strings.Join(teams, ",") != "platform,sre" {
		t.Errorf("reviewers %v, want the code owners of .github/", teams)
	}
	for _, want := range []string{"| payments | dev, staging, prod | to decide |", "### To decide", "Deployment/payments-api, Deployment/payments-worker", "<!-- daytwo: "} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("the PR description lacks %q:\n%s", want, pr.Body)
		}
	}
	changed := w.changedFiles(t, pr)
	var want []string
	want = append(want, repoconfig.Path)
	for _, v := range []string{"ask", "config", "dashboard", "new-service", "promote", "restart", "rollback", "run", "scale", "set-image", "sync"} {
		want = append(want, ".github/ISSUE_TEMPLATE/daytwo-"+v+".yml")
	}
	sort.Strings(want)
	if strings.Join(changed, ",") != strings.Join(want, ",") {
		t.Errorf("the PR changes %v, want %v (the repository has a CODEOWNERS: none is suggested)", changed, want)
	}
	head := files(w.repo.Files(pr.HeadSHA))
	cfg := validate(t, head)
	if strings.Join(cfg.ServiceNames(), ",") != "catalog,checkout,payments" || strings.Join(cfg.EnvNames(), ",") != "dev,staging,prod" {
		t.Errorf("services %v environments %v", cfg.ServiceNames(), cfg.EnvNames())
	}
	form, err := command.ParseForm([]byte(head[".github/ISSUE_TEMPLATE/daytwo-scale.yml"]))
	if err != nil || form.Fields[0].Type != "dropdown" || strings.Join(form.Fields[0].Options, ",") != "catalog,checkout,payments" {
		t.Errorf("scale form: %+v %v", form.Fields, err)
	}
	if runs := w.repo.CheckRuns(pr.HeadSHA); len(runs) != 1 || runs[0].Name != "daytwo/render" || runs[0].Conclusion != "success" {
		t.Errorf("check runs %+v", runs)
	}
	st := w.status(t, n)
	if !strings.HasPrefix(st, "@mo asked for `/init`") || !strings.Contains(st, fmt.Sprintf("/pull/%d", pr.Number)) || w.mark(t, n).State != "open" {
		t.Errorf("status comment:\n%s", st)
	}

	// A second delivery of the same comment opens nothing more.
	w.Send(t, "issue_comment", w.repo.IssueCommentPayload(w.repo.Comments(n)[0].ID))
	w.Quiet(t)
	if len(w.openPulls()) != 1 || len(w.daytwoBranches()) != 1 {
		t.Errorf("a redelivery opened more: %+v %v", w.openPulls(), w.daytwoBranches())
	}
	// Another /init while it is open points at it.
	m := w.ask(t, "mo", "/init\n")
	if st := w.status(t, m); !strings.Contains(st, fmt.Sprintf("/pull/%d already proposes daytwo's config for this repository: review and merge it, or close it and ask again.", pr.Number)) {
		t.Errorf("a second /init:\n%s", st)
	}

	// Merged by a person: daytwo reads the config from then on.
	w.repo.Merge(pr.Number, "squash")
	w.Send(t, "pull_request", w.repo.PullClosedPayload(pr.Number))
	w.Quiet(t)
	if st := w.status(t, n); !strings.Contains(st, "🎉 daytwo reads `.github/daytwo.yml` from now on") || w.mark(t, n).State != "merged" {
		t.Errorf("after the merge:\n%s", st)
	}
	if b := w.daytwoBranches(); len(b) != 0 {
		t.Errorf("branches left: %v", b)
	}
	k := w.ask(t, "alice", "/scale 4 --service checkout --env staging\n")
	if st := w.status(t, k); !strings.Contains(st, "🔀 Opened") {
		t.Errorf("a command on the onboarded repository:\n%s", st)
	}
}

// TestInitRefusals: what a person sees when /init is not for them or not for this
// repository; nothing is written.
func TestInitRefusals(t *testing.T) {
	cases := []struct {
		name, who string
		drop      []string
		want      string
	}{
		{"config exists", "mo", nil, "❌ The repository already has `.github/daytwo.yml` on `main`; `/init` only proposes a first one. Change that file instead (see docs/config.md)."},
		{"write permission", "alice", []string{repoconfig.Path}, "❌ @alice, only maintainers and admins of acme/gitops can run `/init` — you have write permission."},
		{"read permission", "rita", []string{repoconfig.Path}, "❌ @rita, only maintainers and admins of acme/gitops can run `/init` — you have read permission."},
		{"a target", "mo", []string{repoconfig.Path}, "/init acts on the whole GitOps repository and takes no --env"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newBareWorld(t, c.drop...)
			line := "/init"
			if c.name == "a target" {
				line = "/init --env prod"
			}
			n := w.ask(t, c.who, line+"\n")
			st := w.status(t, n)
			if !strings.Contains(st, c.want) {
				t.Errorf("status:\n%s\nwant %q", st, c.want)
			}
			if m := w.mark(t, n); m.State != "refused" {
				t.Errorf("state %s", m.State)
			}
			if len(w.openPulls()) != 0 || len(w.daytwoBranches()) != 0 {
				t.Errorf("a refused /init wrote: %+v %v", w.openPulls(), w.daytwoBranches())
			}
		})
	}
}

// TestInitDryRunAndLayout: on a repository with no Argo CD manifests and no CODEOWNERS,
// --dry-run shows the config; the real run adds the CODEOWNERS suggestion.
func TestInitDryRunAndLayout(t *testing.T) {
	a := apptest.Start(t, clock)
	repo := a.GH.CreateRepo("acme", "platform")
	repo.SeedDir(repo.DefaultBranch(), "../../examples/envs-layout")
	repo.Commit("main", "before daytwo", map[string]string{".github/ISSUE_TEMPLATE/daytwo-scale.yml": "# ours\n"}, repoconfig.Path)
	a.GH.Install("acme")
	repo.SetPermission("ada", githubtest.RoleAdmin)
	w := &world{App: a, repo: repo}

	n := w.ask(t, "ada", "/init --dry-run\n")
	st := w.status(t, n)
	for _, want := range []string{"🧪 Dry run — nothing was changed.", "`.github/CODEOWNERS`", "overlay: envs/{env}/{service}", "container: api # also runs log-shipper"} {
		if !strings.Contains(st, want) {
			t.Errorf("dry run lacks %q:\n%s", want, st)
		}
	}
	if len(w.openPulls()) != 0 || w.mark(t, n).State != "dry-run" {
		t.Errorf("a dry run opened %+v", w.openPulls())
	}

	n = w.ask(t, "ada", "/init\n")
	pulls := w.openPulls()
	if len(pulls) != 1 {
		t.Fatalf("PRs %+v\n%s", pulls, w.status(t, n))
	}
	head := files(w.repo.Files(pulls[0].HeadSHA))
	validate(t, head)
	if !strings.HasPrefix(head[".github/CODEOWNERS"], "# Code owners approve daytwo's pull requests.") ||
		!strings.Contains(head[".github/CODEOWNERS"], "# /envs/prod/api/") {
		t.Errorf("CODEOWNERS:\n%s", head[".github/CODEOWNERS"])
	}
	if !strings.Contains(pulls[0].Body, "daytwo read the default branch — its directory layout") {
		t.Errorf("the description must say where the services came from:\n%s", pulls[0].Body)
	}
	// A form the repository has already is its own: left as it is, and said so.
	if head[".github/ISSUE_TEMPLATE/daytwo-scale.yml"] != "# ours\n" || head[".github/ISSUE_TEMPLATE/daytwo-restart.yml"] == "" ||
		!strings.Contains(pulls[0].Body, "### Left as they are\n\n- `.github/ISSUE_TEMPLATE/daytwo-scale.yml` exists already") {
		t.Errorf("the existing form must be kept and listed:\n%s", pulls[0].Body)
	}
}
