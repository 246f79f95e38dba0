package ops_test

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/overlay"
)

// newSharedBasesWorld is examples/shared-bases on the test GitHub as acme/platform: no
// daytwo config, daytwo installed, alice with write access, the code owners' teams with
// access and a lead each.
func newSharedBasesWorld(t *testing.T) *world {
	t.Helper()
	a := apptest.Start(t, clock)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daytwo's log:\n%s", a.Logs.String())
		}
	})
	repo := a.GH.CreateRepo("acme", "platform")
	repo.SeedDir(repo.DefaultBranch(), "../../examples/shared-bases")
	a.GH.Install("acme")
	repo.SetPermission("alice", githubtest.RoleWrite)
	for _, team := range []string{"ledger-team", "payments-team", "sre", "platform"} {
		a.GH.AddTeamMember("acme", team, team+"-lead", "maintainer", "active")
		repo.SetTeamPermission(team, githubtest.RoleWrite)
	}
	return &world{App: a, repo: repo}
}

// renderOf renders the overlay at dir as ref of the repository holds it.
func (w *world) renderOf(t *testing.T, ref, dir string) *overlay.Rendered {
	t.Helper()
	tree, err := overlay.Load(context.Background(), files(w.repo.Files(ref)), dir)
	if err != nil {
		t.Fatalf("%s at %s: %v", dir, ref, err)
	}
	r, err := tree.Render()
	if err != nil {
		t.Fatalf("%s at %s does not render: %v", dir, ref, err)
	}
	return r
}

func lookup(t *testing.T, r *overlay.Rendered, kind, name string, path ...string) string {
	t.Helper()
	res, ok := r.Find(kind, name)
	if !ok {
		t.Fatalf("%s/%s is not in the render", kind, name)
	}
	n, err := res.Node.Pipe(yaml.Lookup(path...))
	if err != nil || n == nil {
		return ""
	}
	return strings.TrimSpace(n.MustString())
}

// images lists "container=image" of a workload of a render.
func images(t *testing.T, r *overlay.Rendered, kind, name string) string {
	t.Helper()
	res, ok := r.Find(kind, name)
	if !ok {
		t.Fatalf("%s/%s is not in the render", kind, name)
	}
	list, _ := res.Node.Pipe(yaml.Lookup("spec", "template", "spec", "containers"))
	items, _ := list.Elements()
	var out []string
	for _, c := range items {
		out = append(out, c.Field("name").Value.YNode().Value+"="+c.Field("image").Value.YNode().Value)
	}
	return strings.Join(out, " ")
}

// A repository written without daytwo in mind, on the first try: /scale of ledger, a
// StatefulSet the staging overlay renames ledger-staging, opens a pull request whose head
// scales exactly that StatefulSet, and nothing else changes.
func TestZeroConfigScaleOfAStatefulSet(t *testing.T) {
	w := newSharedBasesWorld(t)
	n := w.ask(t, "alice", "/scale 4 --service ledger --env staging")
	pr := w.openFor(t, "daytwo/staging/ledger/scale-")
	if pr.Title != "ledger/staging: scale to 4 replicas" {
		t.Errorf("title %q", pr.Title)
	}
	before, after := w.renderOf(t, "main", "envs/staging/ledger"), w.renderOf(t, pr.Head, "envs/staging/ledger")
	if b, a := lookup(t, before, "StatefulSet", "ledger-staging", "spec", "replicas"), lookup(t, after, "StatefulSet", "ledger-staging", "spec", "replicas"); b != "1" || a != "4" {
		t.Errorf("StatefulSet/ledger-staging replicas %s → %s, want 1 → 4", b, a)
	}
	if changed := w.changedFiles(t, pr); strings.Join(changed, ",") != "envs/staging/ledger/kustomization.yaml" {
		t.Errorf("changed files %v", changed)
	}
	if got := strings.Join(pr.RequestedTeams, ","); got != "ledger-team" {
		t.Errorf("requested teams %q, want the code owners of envs/*/ledger/", got)
	}
	if st := w.status(t, n); !strings.Contains(st, "📝 Planned: scale ledger in staging: 1 → 4 replicas (risk: medium)") {
		t.Errorf("status:\n%s", st)
	}
}

// /promote moves the whole release: both images payments' overlays pin, each told with
// its old and new tag in the pull request and on the status comment.
func TestZeroConfigPromoteMovesBothImages(t *testing.T) {
	w := newSharedBasesWorld(t)
	n := w.ask(t, "alice", "/promote staging --service payments")
	pr := w.openFor(t, "daytwo/staging/payments/promote-")
	after := w.renderOf(t, pr.Head, "envs/staging/payments")
	for kind, want := range map[string]string{
		"payments-api":    "api=ghcr.io/acme/payments-api:1.5.0 envoy=docker.io/envoyproxy/envoy:v1.31.2",
		"payments-worker": "worker=ghcr.io/acme/payments-worker:1.5.0",
	} {
		if got := images(t, after, "Deployment", kind); got != want {
			t.Errorf("Deployment/%s runs %s, want %s", kind, got, want)
		}
	}
	for _, line := range []string{
		"- image `ghcr.io/acme/payments-api`: `ghcr.io/acme/payments-api:1.4.2` → `ghcr.io/acme/payments-api:1.5.0`",
		"- image `ghcr.io/acme/payments-worker`: `ghcr.io/acme/payments-worker:1.4.2` → `ghcr.io/acme/payments-worker:1.5.0`",
	} {
		if !strings.Contains(pr.Body, line) {
			t.Errorf("the PR body lacks %q", line)
		}
	}
	w.golden(t, "promote-release", n, "alice", "acme/payments-team")
}

// Where the render holds several candidates, the reply lists them and the command to
// pick one; that command, asked, does what it says.
func TestZeroConfigRefusalsListTheChoices(t *testing.T) {
	w := newSharedBasesWorld(t)
	n := w.ask(t, "alice", "/restart --service payments --env staging")
	w.golden(t, "restart-which-workload", n, "alice")
	n = w.ask(t, "alice", "/set-image 1.6.0 --service payments --env dev")
	w.golden(t, "set-image-which-container", n, "alice")
	if len(w.openPulls()) != 0 || len(w.daytwoBranches()) != 0 {
		t.Fatalf("a refused command left %v and %v", w.openPulls(), w.daytwoBranches())
	}

	w.ask(t, "alice", "/restart --service payments --env staging --workload payments-worker")
	pr := w.openFor(t, "daytwo/staging/payments/restart-")
	before, after := w.renderOf(t, "main", "envs/staging/payments"), w.renderOf(t, pr.Head, "envs/staging/payments")
	if got := lookup(t, after, "Deployment", "payments-worker", "spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"); got == "" {
		t.Error("payments-worker was not restarted")
	}
	if a, b := lookup(t, after, "Deployment", "payments-api"), lookup(t, before, "Deployment", "payments-api"); a != b {
		t.Errorf("payments-api changed:\n%s", overlay.FileDiff("payments-api", []byte(b), []byte(a)))
	}

	w.ask(t, "alice", "/set-image 1.6.0 --container worker --service payments --env dev")
	pr = w.openFor(t, "daytwo/dev/payments/set-image-")
	if got := images(t, w.renderOf(t, pr.Head, "envs/dev/payments"), "Deployment", "payments-worker"); got != "worker=ghcr.io/acme/payments-worker:1.6.0" {
		t.Errorf("payments-worker runs %s", got)
	}
}
