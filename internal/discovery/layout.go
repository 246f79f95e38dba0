package discovery

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/argocd"
)

// maxLayoutDirs bounds the directories FindOverlays walks.
const maxLayoutDirs = 5000

// FindOverlays finds the services and environments of a repository without Argo CD
// manifests from its layout: every directory holding a kustomization whose path names an
// environment (…/<service>/overlays/<env>, …/<env>/<service>, …/<service>/<env>) is one
// deployment. Directories that name no environment (bases) and kustomizations that only
// gather other overlays (envs/prod holding envs/prod/api) are left out. Hidden directories
// are not searched.
func FindOverlays(ctx context.Context, r argocd.Reader) ([]Deployment, error) {
	var dirs []string
	queue := []string{"."}
	seen := 0
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if seen++; seen > maxLayoutDirs {
			return nil, fmt.Errorf("the repository has more than %d directories; name the overlays in %s", maxLayoutDirs, ".github/daytwo.yml")
		}
		names, err := r.ReadDir(ctx, dir)
		if err != nil {
			if dir == "." {
				return nil, err
			}
			continue
		}
		for _, n := range names {
			switch {
			case strings.HasSuffix(n, "/") && !strings.HasPrefix(n, "."):
				queue = append(queue, path.Join(dir, strings.TrimSuffix(n, "/")))
			case n == "kustomization.yaml" || n == "kustomization.yml" || n == "Kustomization":
				dirs = append(dirs, dir)
			}
		}
	}
	var placed []Deployment
	for _, d := range dirs {
		dep := Deployment{Path: d, From: "the layout (" + d + ")"}
		place(&dep)
		if dep.Service != "" && dep.Env != "" {
			placed = append(placed, dep)
		}
	}
	var out []Deployment
	for _, d := range placed {
		gathers := false
		for _, o := range placed {
			if strings.HasPrefix(o.Path, d.Path+"/") {
				gathers = true
			}
		}
		if !gathers {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
