package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"text/template"

	yamlv3 "gopkg.in/yaml.v3"

	"github.com/daytwo-dev/daytwo/templates"
)

// Data is what a scaffold template sees.
type Data struct {
	Name      string // the service
	Owner     string // the owning team, org/team
	Org, Team string // its two parts
	Image     string // the image as given: name with tag and/or digest
	ImageName string // without tag and digest
	Tag       string
	Digest    string
	Port      int
	System    string
	Lifecycle string

	// Overlay templates only.
	Env        string
	Namespace  string   // "" when the repository's overlays set none
	Base       string   // the base, relative to the overlay
	Components []string // the shared components, relative to the overlay
	Replicas   int      // within the environment's replica bounds
}

// scaffoldTemplate is one template and where it came from.
type scaffoldTemplate struct {
	rel  string // "base/deployment.yaml.tmpl"
	from string // "daytwo's" or the repository path of the override
	tmpl *template.Template
}

var templateFuncs = template.FuncMap{
	// quote writes a YAML double-quoted string (JSON's quoting is valid YAML).
	"quote": strconv.Quote,
}

// templates loads daytwo's scaffold templates and, over them, the repository's: a file of
// the same name replaces daytwo's, a new one under base/ or overlay/ is added.
func (g *gen) templates() ([]scaffoldTemplate, error) {
	byRel := map[string]scaffoldTemplate{}
	err := fs.WalkDir(templates.Scaffold, templates.ScaffoldDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.Scaffold, p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, templates.ScaffoldDir+"/")
		t, err := parseTemplate(rel, b)
		if err != nil {
			return fmt.Errorf("daytwo's scaffold template %s: %w", rel, err) // a defect of daytwo
		}
		byRel[rel] = scaffoldTemplate{rel: rel, from: "daytwo's", tmpl: t}
		return nil
	})
	if err != nil {
		return nil, err
	}
	overrides, err := g.walkOverrides(OverrideDir, 0)
	if err != nil {
		return nil, err
	}
	for _, p := range overrides {
		rel := strings.TrimPrefix(p, OverrideDir+"/")
		dir := path.Dir(rel)
		switch {
		case !strings.HasSuffix(rel, ".tmpl"):
			return nil, refusef("%s is not a scaffold template: name templates <file>.tmpl (see docs/config.md, Scaffold templates).", p)
		case dir != "base" && dir != "overlay" && rel != "catalog-info.yaml.tmpl":
			return nil, refusef("%s is not where scaffold templates go: base/, overlay/ or catalog-info.yaml.tmpl under %s.", p, OverrideDir)
		}
		b, err := g.r.ReadFile(g.ctx, p)
		if err != nil {
			return nil, err
		}
		t, err := parseTemplate(rel, b)
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("The repository's scaffold template %s does not parse: %v. Fix it on the default branch.", p, err), Broken: true, Err: err}
		}
		byRel[rel] = scaffoldTemplate{rel: rel, from: p, tmpl: t}
	}
	out := make([]scaffoldTemplate, 0, len(byRel))
	for _, rel := range sortedKeys(byRel) {
		out = append(out, byRel[rel])
	}
	return out, nil
}

func parseTemplate(name string, b []byte) (*template.Template, error) {
	return template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(string(b))
}

// walkOverrides lists the files under dir, two levels deep at most.
func (g *gen) walkOverrides(dir string, depth int) ([]string, error) {
	names, err := g.r.ReadDir(g.ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		p := path.Join(dir, strings.TrimSuffix(n, "/"))
		if strings.HasSuffix(n, "/") {
			if depth == 0 {
				sub, err := g.walkOverrides(p, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
			}
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// render writes the base, an overlay per environment and the catalog file from the
// templates; each must be YAML.
func (g *gen) render() error {
	tmpls, err := g.templates()
	if err != nil {
		return err
	}
	org, team, _ := strings.Cut(g.req.Owner, "/")
	img := g.req.Image
	base := Data{
		Name: g.req.Name, Owner: g.req.Owner, Org: org, Team: team, Image: img.String(), ImageName: img.Name,
		Tag: img.Tag, Digest: img.Digest, Port: g.req.Port, System: g.system, Lifecycle: g.req.Lifecycle,
	}
	baseDir := expand(g.lay.Base, g.req.Name, "")
	for _, t := range tmpls {
		switch dir := path.Dir(t.rel); {
		case dir == "base":
			if err := g.execute(t, base, path.Join(baseDir, fileName(t.rel))); err != nil {
				return err
			}
		case dir == "overlay":
			for _, env := range g.chosen {
				d := base
				dir := expand(g.lay.Overlay, g.req.Name, env)
				d.Env, d.Base, d.Replicas = env, relPath(dir, baseDir), g.replicas(env)
				d.Namespace = expand(g.lay.Namespace, g.req.Name, env)
				for _, c := range g.lay.Components {
					d.Components = append(d.Components, relPath(dir, c))
				}
				if err := g.execute(t, d, path.Join(dir, fileName(t.rel))); err != nil {
					return err
				}
			}
		default:
			if err := g.execute(t, base, expand(g.lay.Catalog, g.req.Name, "")); err != nil {
				return err
			}
		}
	}
	return nil
}

func fileName(rel string) string { return strings.TrimSuffix(path.Base(rel), ".tmpl") }

// replicas is one replica, or the environment's minimum when that is more.
func (g *gen) replicas(env string) int {
	if e, ok := g.cfg.Env(env); ok && e.Replicas.Min > 1 {
		return e.Replicas.Min
	}
	return 1
}

func (g *gen) execute(t scaffoldTemplate, d Data, to string) error {
	var b bytes.Buffer
	if err := t.tmpl.Execute(&b, d); err != nil {
		return &Error{Msg: fmt.Sprintf("The scaffold template %s (%s) fails for %s: %v", t.rel, t.from, to, err), Broken: true, Err: err}
	}
	if err := checkYAML(b.Bytes()); err != nil {
		return &Error{Msg: fmt.Sprintf("The scaffold template %s (%s) gives %s, which is not YAML: %v", t.rel, t.from, to, err), Broken: true, Err: err}
	}
	return g.write(to, b.Bytes())
}

// checkYAML decodes every document of b.
func checkYAML(b []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(b))
	for {
		var n yamlv3.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
