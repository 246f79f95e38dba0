package githubapi_test

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

func TestSnapshotReads(t *testing.T) {
	e := newChangeEnv(t)
	snap := githubapi.SnapshotAt(e.repo.Client, "acme", "gitops", e.base.Commit)

	names, err := snap.ReadDir(e.ctx, "apps/web/overlays/prod")
	if err != nil || !reflect.DeepEqual(names, []string{"kustomization.yaml", "old-patch.yaml"}) {
		t.Fatalf("ReadDir = %v, %v", names, err)
	}
	if names, _ := snap.ReadDir(e.ctx, "apps/web"); !reflect.DeepEqual(names, []string{"base/", "overlays/"}) {
		t.Fatalf("directories must end in /: %v", names)
	}
	// The listing started reading the directory's YAML files: reading them now costs nothing
	// more than those prefetches.
	b, err := snap.ReadFile(e.ctx, "apps/web/overlays/prod/kustomization.yaml")
	if err != nil || !strings.Contains(string(b), "count: 2") {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if _, err := snap.ReadFile(e.ctx, "apps/web/overlays/prod/old-patch.yaml"); err != nil {
		t.Fatal(err)
	}
	if n := e.count("GET", e.repoPath("/contents/apps/web/overlays/prod/kustomization.yaml")); n != 1 {
		t.Errorf("kustomization.yaml fetched %d times, want once", n)
	}
	if n := e.count("GET", e.repoPath("/contents/apps/web/overlays/prod/old-patch.yaml")); n != 1 {
		t.Errorf("old-patch.yaml fetched %d times, want once", n)
	}

	if _, err := snap.ReadFile(e.ctx, "apps/web/overlays/prod/missing.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := snap.ReadFile(e.ctx, "apps/web"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a directory read as a file: %v", err)
	}
	if _, err := snap.ReadFile(e.ctx, "../secrets"); err == nil {
		t.Error("a path outside the repository was read")
	}
}

func TestSnapshotHistory(t *testing.T) {
	e := newChangeEnv(t)
	msg := "web/prod: scale to 3\n\n" + plan.TrailerAction + ": scale\n" + plan.TrailerRequester + ": alice\n"
	sha := e.gr.Commit("main", msg, map[string]string{"apps/web/overlays/prod/kustomization.yaml": "resources:\n- ../../base\n"})
	snap, err := githubapi.OpenSnapshot(e.ctx, e.repo.Client, "acme", "gitops", "main")
	if err != nil || snap.Commit() != sha {
		t.Fatalf("OpenSnapshot = %v, %v", snap, err)
	}
	log, err := snap.History().Log(e.ctx, []string{"apps/web/overlays/prod"}, 10)
	if err != nil || len(log) != 2 {
		t.Fatalf("Log = %+v, %v", log, err)
	}
	if log[0].SHA != sha || log[0].Trailers[plan.TrailerRequester] != "alice" {
		t.Fatalf("newest = %+v", log[0])
	}
	old, err := snap.History().At(e.ctx, log[1].SHA)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := old.ReadFile(e.ctx, "apps/web/overlays/prod/kustomization.yaml"); !strings.Contains(string(b), "count: 2") {
		t.Fatalf("file at the older commit: %q", b)
	}
	if _, err := githubapi.OpenSnapshot(e.ctx, e.repo.Client, "acme", "gitops", "no-such-branch"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unknown ref: %v", err)
	}
}

// TestHistoryOfSeveralPaths checks that a busy first path does not hide newer commits on
// the paths after it.
func TestHistoryOfSeveralPaths(t *testing.T) {
	e := newChangeEnv(t)
	for i := 3; i <= 5; i++ {
		e.gr.Commit("main", fmt.Sprintf("prod %d", i), map[string]string{"apps/web/overlays/prod/kustomization.yaml": fmt.Sprintf("resources:\n- ../../base\nreplicas:\n- name: web\n  count: %d\n", i)})
	}
	newest := e.gr.Commit("main", "staging", map[string]string{"apps/web/overlays/staging/kustomization.yaml": "resources:\n- ../../base\n# note\n"})
	snap, err := githubapi.OpenSnapshot(e.ctx, e.repo.Client, "acme", "gitops", "main")
	if err != nil {
		t.Fatal(err)
	}
	log, err := snap.History().Log(e.ctx, []string{"apps/web/overlays/prod", "apps/web/overlays/staging"}, 2)
	if err != nil || len(log) != 2 || log[0].SHA != newest || log[1].Message != "prod 5" {
		t.Fatalf("Log = %+v, %v", log, err)
	}
}
