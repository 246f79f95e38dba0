package inspect_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/inspect"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// dirSnapshot serves a directory as a plan.Snapshot, so benchmarks measure rendering and
// not git processes.
type dirSnapshot struct{ fsys fs.FS }

func (s dirSnapshot) Commit() string { return "0000000000000000000000000000000000000000" }

func (s dirSnapshot) ReadFile(_ context.Context, p string) ([]byte, error) {
	return fs.ReadFile(s.fsys, path.Clean(p))
}

func (s dirSnapshot) ReadDir(_ context.Context, p string) ([]string, error) {
	entries, err := fs.ReadDir(s.fsys, path.Clean(p))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name()+"/")
		} else {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func benchExample(b *testing.B) (*repoconfig.Config, dirSnapshot) {
	b.Helper()
	snap := dirSnapshot{os.DirFS("../../examples/gitops")}
	data, err := snap.ReadFile(context.Background(), repoconfig.Path)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := repoconfig.Load(data)
	if err != nil {
		b.Fatal(err)
	}
	return cfg, snap
}

// BenchmarkReadDesired: one render of checkout's prod overlay (base, patch, generator).
func BenchmarkReadDesired(b *testing.B) {
	cfg, snap := benchExample(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := inspect.ReadDesired(ctx, cfg, snap, "checkout", "prod"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatus: what /status of one service costs besides GitHub and Argo CD: the
// catalog, three renders and the markdown.
func BenchmarkStatus(b *testing.B) {
	cfg, snap := benchExample(b)
	ctx := context.Background()
	for b.Loop() {
		cat, err := inspect.ReadCatalog(ctx, cfg, snap, "checkout")
		if err != nil {
			b.Fatal(err)
		}
		v := inspect.StatusView{Service: "checkout", Catalog: cat}
		for _, env := range cfg.EnvNames() {
			d, err := inspect.ReadDesired(ctx, cfg, snap, "checkout", env)
			if err != nil {
				b.Fatal(err)
			}
			v.Envs = append(v.Envs, inspect.EnvStatus{Env: env, Desired: d, Live: &inspect.Live{Sync: "Synced", Health: "Healthy"}})
		}
		if md := v.Markdown(); len(md) == 0 {
			b.Fatal("empty status")
		}
	}
}

// BenchmarkHistoryMarkdown: the largest history answer, 100 actions.
func BenchmarkHistoryMarkdown(b *testing.B) {
	actions := make([]inspect.Action, inspect.MaxHistoryLimit)
	for i := range actions {
		actions[i] = inspect.Action{Commit: fmt.Sprintf("%040x", i), Action: "scale", Command: "/scale 3 --env prod",
			Service: "checkout", Env: "prod", Requester: "alice", PR: i + 1, Summary: "checkout/prod: scale to 3 replicas"}
	}
	for b.Loop() {
		inspect.HistoryMarkdown(actions, "https://github.com/acme/gitops")
	}
}
