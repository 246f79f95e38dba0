package discovery

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/argomanifest"
)

// maxLayoutDirs bounds the directories FindOverlays walks.
const maxLayoutDirs = 5000

// FindOverlays finds the services and environments of a repository without Argo CD
// manifests from its layout: every directory holding a kustomization whose path names an
// environment (…/<service>/overlays/<env>, …/<env>/<service>, …/<service>/<env>) is one
// deployment. Directories that name no environment (bases) and kustomizations that only
// gather other overlays (envs/prod holding envs/prod/api) are left out. Hidden directories
// are not searched.
func FindOverlays(ctx context.Context, r argomanifest.Reader) ([]Deployment, error) {
	var dirs []string
	err := Walk(ctx, r, func(p string) {
		switch path.Base(p) {
		case "kustomization.yaml", "kustomization.yml", "Kustomization":
			dirs = append(dirs, path.Dir(p))
		}
	})
	if err != nil {
		return nil, err
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

// Walk calls fn with the path of every file of the repository, directory by directory,
// leaving out hidden files and directories (.git, .github). It stops with an error past
// maxLayoutDirs directories, or when the root cannot be listed.
func Walk(ctx context.Context, r argomanifest.Reader, fn func(path string)) error {
	queue := []string{"."}
	for seen := 0; len(queue) > 0; seen++ {
		if seen == maxLayoutDirs {
			return fmt.Errorf("the repository has more than %d directories, too many to search", maxLayoutDirs)
		}
		dir := queue[0]
		queue = queue[1:]
		names, err := r.ReadDir(ctx, dir)
		if err != nil {
			if dir == "." {
				return err
			}
			continue
		}
		for _, n := range names {
			switch {
			case strings.HasPrefix(n, "."):
			case strings.HasSuffix(n, "/"):
				queue = append(queue, path.Join(dir, strings.TrimSuffix(n, "/")))
			default:
				fn(path.Join(dir, n))
			}
		}
	}
	return nil
}
