package onboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// service is what the config says of one service: from discovery (overlay, Argo CD
// application, environments) and from its rendered overlays (the rest).
type service struct {
	name         string
	overlay      string   // template
	argocdApp    string   // template; "" when no Application was found
	environments []string // nil: every environment
	catalog      string   // path of its Backstage catalog-info.yaml; "" when none was found

	workload  *repoconfig.Workload // nil: the render leaves it open
	container string
	others    []string // the workload's other containers, for a comment
	image     string
	configMap string
	// open holds comment lines on what was left open and why: the choices.
	open []string
}

// rendered is one environment's overlay of a service, rendered.
type rendered struct {
	env            string
	inv            overlay.Inventory
	prefix, suffix string // the overlay's own namePrefix and nameSuffix
}

// infer fills a service from discovery's config and its rendered overlays. The notes are
// for the person running init; comments on the choices go into s.open.
func infer(ctx context.Context, r overlay.Reader, cfg *repoconfig.Config, svc *repoconfig.Service) (*service, []string, []Overlay) {
	s := &service{name: svc.Name, overlay: svc.Overlay, argocdApp: svc.ArgoCDApp, environments: svc.Environments}
	var notes []string
	var overlays []Overlay
	var envs []rendered
	for _, env := range cfg.EnvNames() {
		if !svc.Deploys(env) {
			continue
		}
		dir := svc.OverlayPath(env)
		tree, err := overlay.Load(ctx, r, dir)
		var out *overlay.Rendered
		if err == nil {
			out, err = tree.Render()
		}
		overlays = append(overlays, Overlay{Service: s.name, Env: env, Path: dir, Err: err})
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s in %s: %s does not render, so nothing was read from it: %v", s.name, env, dir, err))
			continue
		}
		e := rendered{env: env, inv: overlay.Inspect(tree, out)}
		if kp, ok := tree.KustomizationPath(dir); ok {
			b, _ := tree.File(kp)
			e.prefix, e.suffix = namePrefixSuffix(b)
		}
		envs = append(envs, e)
	}
	if len(envs) == 0 {
		s.open = append(s.open, "No overlay of this service renders: workload, container, image and configMap are left to you.")
		return s, notes, overlays
	}

	// The workload: the same one (as the overlays' patches name it) in every environment.
	picks := map[string][]string{} // kind/name → environments choosing it
	var candidates []string
	for _, e := range envs {
		w, cands, ok := e.inv.Choose(s.name, "")
		if !ok {
			for _, c := range cands {
				if id := c.Kind + "/" + e.patchName(c.Name); !slices.Contains(candidates, id) {
					candidates = append(candidates, id)
				}
			}
			continue
		}
		id := w.Kind + "/" + e.patchName(w.Name)
		picks[id] = append(picks[id], e.env)
	}
	switch {
	case len(candidates) > 0 || len(picks) > 1:
		for id := range picks {
			if !slices.Contains(candidates, id) {
				candidates = append(candidates, id)
			}
		}
		sort.Strings(candidates)
		if len(candidates) == 0 {
			s.open = append(s.open, "The overlays render no Deployment, StatefulSet, DaemonSet or Rollout: name the workload /restart and /scale act on.")
		} else {
			kind, name, _ := strings.Cut(candidates[0], "/")
			s.open = append(s.open,
				fmt.Sprintf("The overlays render %d workloads: %s.", len(candidates), strings.Join(candidates, ", ")),
				"Name the one /restart, /scale, /suspend and /resume act on (/redeploy and /set-image act on all), e.g.:",
				fmt.Sprintf("workload: {kind: %s, name: %s}", kind, name))
		}
		notes = append(notes, fmt.Sprintf("%s: the render does not say which workload /restart and /scale act on (%s); none was picked, choose one in %s",
			s.name, strings.Join(candidates, ", "), repoconfig.Path))
	case len(picks) == 1:
		for id := range picks {
			kind, name, _ := strings.Cut(id, "/")
			s.workload = &repoconfig.Workload{Kind: kind, Name: name}
		}
	}

	// Container, image and ConfigMap: what every environment agrees on.
	var containers, images, configMaps, others []string
	for _, e := range envs {
		var ws []overlay.Workload
		if s.workload != nil {
			for _, w := range e.inv.Workloads {
				if w.Kind == s.workload.Kind && e.patchName(w.Name) == s.workload.Name {
					ws = []overlay.Workload{w}
				}
			}
		} else {
			_, ws, _ = e.inv.Choose(s.name, "")
		}
		if len(ws) == 0 {
			continue
		}
		if len(ws) == 1 {
			c, rest := mainContainer(ws[0].Containers, s.name)
			containers = append(containers, c.Name)
			images = append(images, c.ImageName)
			others = rest
		} else {
			images = append(images, sharedImage(ws))
		}
		configMaps = append(configMaps, sharedConfigMap(ws, s.name))
	}
	var differs []string
	if c, ok := agreed(containers); ok {
		s.container, s.others = c, others
	} else if len(containers) > 0 {
		differs = append(differs, "container")
	}
	if im, ok := agreed(images); ok {
		s.image = im
	} else if len(images) > 0 && !allEmpty(images) {
		differs = append(differs, "image")
	}
	if cm, ok := agreed(configMaps); ok {
		s.configMap = cm
	} else if !allEmpty(configMaps) {
		differs = append(differs, "configMap")
	}
	if len(differs) > 0 {
		s.open = append(s.open, fmt.Sprintf("The environments disagree on %s: set %s by hand.", strings.Join(differs, ", "), plural(differs)))
		notes = append(notes, fmt.Sprintf("%s: the environments' overlays disagree on %s; left unset", s.name, strings.Join(differs, ", ")))
	}
	return s, notes, overlays
}

// patchName is a rendered name without the overlay's own prefix and suffix: how the
// overlay's patches, and the config, name the object.
func (e rendered) patchName(name string) string {
	if strings.HasPrefix(name, e.prefix) && strings.HasSuffix(name[len(e.prefix):], e.suffix) {
		return strings.TrimSuffix(strings.TrimPrefix(name, e.prefix), e.suffix)
	}
	return name
}

// mainContainer is the container /set-image changes by default: the only one, the one
// named after the service, the one whose image is named after it, else the first.
func mainContainer(cs []overlay.Container, svc string) (overlay.Container, []string) {
	pick := 0
	for i, c := range cs {
		if c.Name == svc {
			pick = i
			break
		}
		if path.Base(c.ImageName) == svc {
			pick = i
		}
	}
	var rest []string
	for i, c := range cs {
		if i != pick {
			rest = append(rest, fmt.Sprintf("%s (%s)", c.Name, c.ImageName))
		}
	}
	if len(cs) == 0 {
		return overlay.Container{}, nil
	}
	return cs[pick], rest
}

// sharedImage is the one image every workload runs, or "".
func sharedImage(ws []overlay.Workload) string {
	var common []string
	for i, w := range ws {
		var mine []string
		for _, c := range w.Containers {
			mine = append(mine, c.ImageName)
		}
		if i == 0 {
			common = mine
			continue
		}
		common = slices.DeleteFunc(common, func(im string) bool { return !slices.Contains(mine, im) })
	}
	if len(slices.Compact(common)) == 1 {
		return common[0]
	}
	return ""
}

// sharedConfigMap is the generated ConfigMap every workload uses: the only one, or the one
// named after the service; "" when there is none or no telling.
func sharedConfigMap(ws []overlay.Workload, svc string) string {
	common := slices.Clone(ws[0].ConfigMaps)
	for _, w := range ws[1:] {
		common = slices.DeleteFunc(common, func(g string) bool { return !slices.Contains(w.ConfigMaps, g) })
	}
	if len(common) == 1 {
		return common[0]
	}
	var named []string
	for _, g := range common {
		if strings.Contains(g, svc) {
			named = append(named, g)
		}
	}
	if len(named) == 1 {
		return named[0]
	}
	return ""
}

// agreed returns the value every environment gave, when they gave one and the same.
func agreed(vs []string) (string, bool) {
	if len(vs) == 0 || vs[0] == "" {
		return "", false
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return "", false
		}
	}
	return vs[0], true
}

func allEmpty(vs []string) bool {
	for _, v := range vs {
		if v != "" {
			return false
		}
	}
	return true
}

func plural(keys []string) string {
	if len(keys) == 1 {
		return "it"
	}
	return "them"
}

// namePrefixSuffix reads a kustomization's namePrefix and nameSuffix.
func namePrefixSuffix(kust []byte) (prefix, suffix string) {
	var k struct {
		NamePrefix string `yaml:"namePrefix"`
		NameSuffix string `yaml:"nameSuffix"`
	}
	_ = yaml.Unmarshal(kust, &k) // it rendered: it parses
	return k.NamePrefix, k.NameSuffix
}

// catalogNames are the file names Backstage's catalog reads by convention.
var catalogNames = []string{"catalog-info.yaml", "catalog-info.yml"}

// FindCatalogs maps each Backstage Component found in a catalog-info file of the
// repository to that file's path (the first, when several describe it).
func FindCatalogs(ctx context.Context, r overlay.Reader) (map[string]string, error) {
	return findCatalogs(ctx, r)
}

func findCatalogs(ctx context.Context, r overlay.Reader) (map[string]string, error) {
	var files []string
	if err := discovery.Walk(ctx, r, func(p string) {
		if slices.Contains(catalogNames, path.Base(p)) {
			files = append(files, p)
		}
	}); err != nil {
		return nil, fmt.Errorf("searching for Backstage catalog files: %w", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := r.ReadFile(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc struct {
				Kind     string `yaml:"kind"`
				Metadata struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				break // not daytwo's file to judge: it is simply not used
			}
			if doc.Kind == "Component" && doc.Metadata.Name != "" {
				if _, dup := out[doc.Metadata.Name]; !dup {
					out[doc.Metadata.Name] = f
				}
			}
		}
	}
	return out, nil
}
