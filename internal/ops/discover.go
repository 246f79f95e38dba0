package ops

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// maxDiscovered bounds the configs remembered per repository commit.
const maxDiscovered = 64

// discover makes the config of a repository without one from its Argo CD manifests. It
// lists the repository in one request and reads its YAML files in batches; the result is
// remembered per commit, as the commit never changes.
func (r *Runner) discover(ctx context.Context, repo githubapi.Repo, g *githubapi.GraphQL, snap *githubapi.Snapshot) (*repoconfig.Config, error) {
	key := strings.ToLower(repo.FullName()) + "@" + snap.Commit()
	r.discoveredMu.Lock()
	if c, ok := r.discovered[key]; ok {
		r.discoveredMu.Unlock()
		return c, nil
	}
	r.discoveredMu.Unlock()

	if n, err := snap.ReadTree(ctx, g, repo); err != nil {
		return nil, err
	} else if n > 300 {
		return nil, fmt.Errorf("it holds %d YAML files, too many to search for Applications on every command", n)
	}
	deps, skipped, err := discovery.Find(ctx, snap, repo.FullName())
	if err != nil {
		return nil, err
	}
	cfg, rep, err := discovery.Config(deps, skipped, r.Commands)
	if err != nil {
		return nil, err
	}
	zerolog.Ctx(ctx).Info().Str("repo", repo.FullName()).Int("services", len(cfg.Services)).Int("environments", len(cfg.Environments)).
		Int("unplaced", len(rep.Unplaced)).Msg("no daytwo config: discovered one from the Argo CD manifests")
	r.discoveredMu.Lock()
	if r.discovered == nil || len(r.discovered) >= maxDiscovered {
		r.discovered = map[string]*repoconfig.Config{}
	}
	r.discovered[key] = cfg
	r.discoveredMu.Unlock()
	return cfg, nil
}
