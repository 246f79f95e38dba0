// Package argocd is daytwo's adapter to Argo CD: it reads Application manifests kept in the
// GitOps repository with Argo CD's own v1alpha1 types, so daytwo knows which Application
// deploys which overlay.
package argomanifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	yamlv3 "gopkg.in/yaml.v3"
	"sigs.k8s.io/yaml"
)

// Reader reads a repository at one commit (plan.Snapshot satisfies it).
type Reader interface {
	ReadFile(ctx context.Context, path string) ([]byte, error)
	ReadDir(ctx context.Context, path string) ([]string, error)
}

// Found is an Application manifest and the file it came from.
type Found struct {
	File string
	App  v1alpha1.Application
}

// Paths lists the repository paths the Application deploys (one per source).
func (f Found) Paths() []string {
	var out []string
	if s := f.App.Spec.Source; s != nil && s.Path != "" {
		out = append(out, path.Clean(s.Path))
	}
	for _, s := range f.App.Spec.Sources {
		if s.Path != "" {
			out = append(out, path.Clean(s.Path))
		}
	}
	return out
}

const (
	maxManifestBytes = 512 << 10
	maxFiles         = 5000
)

// FoundSet is an ApplicationSet manifest and the file it came from.
type FoundSet struct {
	File string
	Set  v1alpha1.ApplicationSet
}

// Manifests are the Argo CD manifests found in a repository.
type Manifests struct {
	Apps []Found
	Sets []FoundSet
}

// ParseManifests returns the Application and ApplicationSet documents of a YAML file.
func ParseManifests(file string, data []byte) (Manifests, error) {
	var out Manifests
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		kind := doc["kind"]
		if (kind != "Application" && kind != "ApplicationSet") || !strings.HasPrefix(fmt.Sprint(doc["apiVersion"]), "argoproj.io/") {
			continue
		}
		j, err := yaml.Marshal(doc)
		if err != nil {
			return out, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		if kind == "ApplicationSet" {
			var set v1alpha1.ApplicationSet
			if err := yaml.UnmarshalStrict(j, &set); err != nil {
				return out, fmt.Errorf("%s: ApplicationSet %v: %w", file, doc["metadata"], err)
			}
			out.Sets = append(out.Sets, FoundSet{File: file, Set: set})
			continue
		}
		var app v1alpha1.Application
		if err := yaml.UnmarshalStrict(j, &app); err != nil {
			return out, fmt.Errorf("%s: Application %v: %w", file, doc["metadata"], err)
		}
		out.Apps = append(out.Apps, Found{File: file, App: app})
	}
}

// DiscoverAll walks the repository from root for YAML files holding Application and
// ApplicationSet manifests. Hidden directories are skipped; the walk is bounded.
func DiscoverAll(ctx context.Context, r Reader, root string) (Manifests, error) {
	var out Manifests
	seen := 0
	var walk func(dir string) error
	walk = func(dir string) error {
		names, err := r.ReadDir(ctx, dir)
		if err != nil {
			return err
		}
		sort.Strings(names)
		for _, n := range names {
			if strings.HasPrefix(n, ".") {
				continue
			}
			p := path.Join(dir, strings.TrimSuffix(n, "/"))
			if strings.HasSuffix(n, "/") {
				if err := walk(p); err != nil {
					return err
				}
				continue
			}
			if ext := path.Ext(n); ext != ".yaml" && ext != ".yml" {
				continue
			}
			if seen++; seen > maxFiles {
				return fmt.Errorf("more than %d YAML files under %s; stopped looking for Applications", maxFiles, root)
			}
			data, err := r.ReadFile(ctx, p)
			if err != nil {
				return err
			}
			if len(data) > maxManifestBytes || !bytes.Contains(data, []byte("argoproj.io")) {
				continue
			}
			found, err := ParseManifests(p, data)
			if err != nil {
				return err
			}
			out.Apps = append(out.Apps, found.Apps...)
			out.Sets = append(out.Sets, found.Sets...)
		}
		return nil
	}
	if err := walk(root); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Manifests{}, err
	}
	return out, nil
}
