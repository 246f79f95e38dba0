package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	yamlv3 "gopkg.in/yaml.v3"

	"github.com/daytwo-dev/daytwo/internal/plan"
)

// Catalog is what a service's Backstage entity (catalog-info.yaml) says about it.
type Catalog struct {
	Name, Title, Description string
	Owner, System, Lifecycle string
	DependsOn                []string
	Annotations              map[string]string
}

// TeamAnnotation is Backstage's annotation naming the GitHub team of an entity: "org/slug".
const TeamAnnotation = "github.com/team-slug"

// Team is the GitHub team the entity's owner may be, as "org/slug": the team-slug
// annotation, else an owner that names a group ("group:default/payments", "group:payments",
// "payments", or in a namespace named after org, "group:acme/payments") as a team of org. "" when neither names one. Whether the team exists is
// for GitHub to say.
func (c *Catalog) Team(org string) string {
	if c == nil {
		return ""
	}
	if t := strings.TrimPrefix(strings.TrimSpace(c.Annotations[TeamAnnotation]), "@"); strings.Count(t, "/") == 1 && !strings.HasPrefix(t, "/") && !strings.HasSuffix(t, "/") {
		return t
	}
	owner := strings.TrimSpace(c.Owner)
	kind, ref, ok := strings.Cut(owner, ":")
	if !ok {
		kind, ref = "group", owner
	}
	if !strings.EqualFold(kind, "group") || org == "" {
		return ""
	}
	if ns, name, ok := strings.Cut(ref, "/"); ok {
		if ns != "default" && !strings.EqualFold(ns, org) {
			return ""
		}
		ref = name
	}
	if ref == "" || strings.ContainsAny(ref, "/ \t") {
		return ""
	}
	return org + "/" + ref
}

// ReadCatalog reads the Component entity of the catalog file at path; nil, nil when the
// file does not exist.
func ReadCatalog(ctx context.Context, snap plan.Snapshot, path string) (*Catalog, error) {
	if path == "" {
		return nil, nil
	}
	data, err := snap.ReadFile(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var first *Catalog
	for {
		var e struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name        string            `yaml:"name"`
				Title       string            `yaml:"title"`
				Description string            `yaml:"description"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec struct {
				Owner     string   `yaml:"owner"`
				System    string   `yaml:"system"`
				Lifecycle string   `yaml:"lifecycle"`
				DependsOn []string `yaml:"dependsOn"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid Backstage catalog file: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		c := &Catalog{
			Name: e.Metadata.Name, Title: e.Metadata.Title, Description: e.Metadata.Description,
			Owner: e.Spec.Owner, System: e.Spec.System, Lifecycle: e.Spec.Lifecycle, DependsOn: e.Spec.DependsOn,
			Annotations: e.Metadata.Annotations,
		}
		if e.Kind == "Component" {
			return c, nil
		}
		if first == nil {
			first = c
		}
	}
	return first, nil
}
