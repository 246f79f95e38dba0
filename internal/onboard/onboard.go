// Package onboard writes what a GitOps repository needs to start with daytwo: a commented
// .github/daytwo.yml from what its Argo CD manifests (or its directory layout) and its
// rendered overlays show, issue forms offering its services and environments, and a
// CODEOWNERS suggestion when it has none. It reads the repository through a Reader and
// knows nothing of GitHub; `daytwo init` and /init write what it returns.
package onboard

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/codeowners"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Where the files go.
const (
	FormsDir       = ".github/ISSUE_TEMPLATE"
	FormPrefix     = "daytwo-" // keeps the forms apart from the repository's own templates
	CodeOwnersPath = ".github/CODEOWNERS"
)

// File is one file to write, at a repository-relative path.
type File struct {
	Path    string
	Content []byte
}

// Options tune what Generate writes.
type Options struct {
	// Org owns the repository on GitHub; the suggested teams are placeholders under it.
	// "" writes "your-org".
	Org string
	// Repo names the repository r reads ("owner/name" or its clone URLs): ApplicationSet git
	// generators reading another repository are skipped. None takes every repoURL to be r.
	Repo []string
}

// Result is what Generate made of a repository.
type Result struct {
	Files  []File             // the config, the issue forms, and CODEOWNERS when the repository has none
	Config *repoconfig.Config // the written config, as daytwo loads it
	Found  discovery.Report   // the deployments discovery found
	Source string             // where the services and environments came from, for people
	// Notes are what a person has to decide: workloads the render leaves open, overlays
	// that do not render, values that differ between environments.
	Notes []string
	// Open are the services whose workload the render leaves to a person.
	Open map[string]bool
	// Overlays are every overlay of the config, and whether it rendered.
	Overlays []Overlay
}

// Overlay is one service's overlay in one environment.
type Overlay struct {
	Service, Env, Path string
	Err                error // why it does not render; nil when it does
}

// Generate reads the repository through r and returns the files that onboard it. reg is
// the command registry (command.All): the config's policy names its commands, and every
// command with an issue form gets one. It fails when the
// repository shows no service in any environment.
func Generate(ctx context.Context, r overlay.Reader, reg *command.Registry, opt Options) (*Result, error) {
	if opt.Org == "" {
		opt.Org = "your-org"
	}
	deps, skipped, err := discovery.Find(ctx, r, opt.Repo...)
	if err != nil {
		return nil, fmt.Errorf("reading the Argo CD manifests: %w", err)
	}
	res := &Result{Source: "its Argo CD Applications"}
	if !anyPlaced(deps) {
		res.Source = "its directory layout (no Argo CD Application names a service and an environment)"
		layout, err := discovery.FindOverlays(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("searching the repository for overlays: %w", err)
		}
		if len(layout) == 0 {
			return nil, fmt.Errorf("found no service to operate: no Argo CD Application names a service and an environment, "+
				"and no kustomization lies in a directory laid out as apps/<service>/overlays/<env>, envs/<env>/<service> or <service>/<env>; "+
				"write %s by hand (see docs/config.md)", repoconfig.Path)
		}
		deps = append(deps, layout...)
	}
	cfg, rep, err := discovery.Config(deps, skipped, reg)
	if err != nil {
		return nil, err
	}
	res.Found = rep

	catalogs, err := findCatalogs(ctx, r)
	if err != nil {
		return nil, err
	}
	withApp := map[string]bool{} // services an Application was found for
	manual := map[string]bool{}  // environments whose Applications all lack automated sync
	synced := map[string]bool{}
	for _, d := range rep.Placed {
		if d.App == "" {
			continue
		}
		withApp[d.Service] = true
		if d.AutoSync {
			synced[d.Env] = true
		} else {
			manual[d.Env] = true
		}
	}
	for e := range synced {
		delete(manual, e)
	}
	var services []*service
	for i := range cfg.Services {
		s, notes, overlays := infer(ctx, r, cfg, &cfg.Services[i])
		res.Overlays = append(res.Overlays, overlays...)
		s.catalog = catalogs[s.name]
		if !withApp[s.name] {
			s.argocdApp = "" // the loaded config's default, not something found
		}
		services = append(services, s)
		res.Notes = append(res.Notes, notes...)
		if s.workload == nil {
			if res.Open == nil {
				res.Open = map[string]bool{}
			}
			res.Open[s.name] = true
		}
	}
	data, err := writeConfig(cfg, services, manual, res.Source, reg, opt)
	if err != nil {
		return nil, err
	}
	loaded, err := repoconfig.Load(data, reg)
	if err != nil {
		// A defect of this package, not of the repository: say so plainly.
		return nil, fmt.Errorf("the config written for this repository does not load (%v); please report this", err)
	}
	res.Config = loaded
	res.Files = append(res.Files, File{Path: repoconfig.Path, Content: data})

	forms, err := reg.IssueForms(command.FormChoices{Services: loaded.ServiceNames(), Environments: loaded.EnvNames()})
	if err != nil {
		return nil, err
	}
	for _, f := range forms {
		res.Files = append(res.Files, File{Path: path.Join(FormsDir, FormPrefix+f.File), Content: f.YAML})
	}

	has, err := hasCodeOwners(ctx, r)
	if err != nil {
		return nil, err
	}
	if !has {
		res.Files = append(res.Files, File{Path: CodeOwnersPath, Content: suggestCodeOwners(loaded, opt.Org)})
	}
	for _, d := range rep.Unplaced {
		res.Notes = append(res.Notes, fmt.Sprintf("%s (%s) was left out: %s", d.App, d.Path, d.Why))
	}
	for _, s := range rep.Skipped {
		res.Notes = append(res.Notes, "skipped "+s.String())
	}
	return res, nil
}

func anyPlaced(deps []discovery.Deployment) bool {
	for _, d := range deps {
		if d.Service != "" && d.Env != "" {
			return true
		}
	}
	return false
}

// hasCodeOwners reports whether GitHub finds a CODEOWNERS file in the repository.
func hasCodeOwners(ctx context.Context, r overlay.Reader) (bool, error) {
	for _, p := range codeowners.Paths {
		if ok, err := Exists(ctx, r, p); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// Exists reports whether the repository has a file at p. It lists the directories on the
// way, which a reader that listed the whole repository answers without asking again.
func Exists(ctx context.Context, r overlay.Reader, p string) (bool, error) {
	segs := strings.Split(p, "/")
	dir := "."
	for i, seg := range segs {
		names, err := r.ReadDir(ctx, dir)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("listing %s: %w", dir, err)
		}
		want := seg
		if i < len(segs)-1 {
			want += "/"
		}
		if !slices.Contains(names, want) {
			return false, nil
		}
		dir = path.Join(dir, seg)
	}
	return true, nil
}
