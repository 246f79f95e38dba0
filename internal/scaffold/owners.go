package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/daytwo-dev/daytwo/internal/codeowners"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// ownerPatterns are the CODEOWNERS patterns covering the new service's files: each
// template cut after its {service} segment, {env} matching any environment.
func (g *gen) ownerPatterns() []string {
	var out []string
	for i, t := range []string{g.lay.Base, g.lay.Overlay, g.lay.Catalog} {
		at := strings.Index(t, "{service}")
		if at < 0 {
			continue
		}
		cut := t
		if j := strings.IndexByte(t[at:], '/'); j >= 0 {
			cut = t[:at+j]
		}
		p := "/" + expand(cut, g.req.Name, "*")
		if i < 2 || cut != t { // a directory: the base, an overlay, or the one holding the catalog file
			p += "/"
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// codeOwners gives the new service's directories to its team in the repository's
// CODEOWNERS, after the lines of the existing services so that lines the repository wrote
// to come later (prod to an SRE team) still do; a repository without one gets
// .github/CODEOWNERS.
func (g *gen) codeOwners() error {
	file, data := codeowners.Paths[0], []byte(nil)
	for _, p := range codeowners.Paths {
		b, err := g.r.ReadFile(g.ctx, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		file, data = p, b
		break
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	insert, width := len(lines), 0
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		for _, s := range g.cfg.Services {
			if hasBounded(f[0], s.Name) {
				insert = i + 1
				width = strings.Index(l, f[1])
			}
		}
	}
	var add []string
	for _, p := range g.ownerPatterns() {
		pad := max(width-len(p), 1)
		add = append(add, p+strings.Repeat(" ", pad)+"@"+g.req.Owner+"\n")
	}
	if insert == len(lines) && len(lines) > 0 {
		if !strings.HasSuffix(lines[len(lines)-1], "\n") {
			lines[len(lines)-1] += "\n"
		}
		if strings.TrimSpace(lines[len(lines)-1]) != "" {
			add = append([]string{"\n"}, add...)
		}
	}
	out := strings.Join(lines[:insert], "") + strings.Join(add, "") + strings.Join(lines[insert:], "")
	owners, err := codeowners.Parse([]byte(out))
	if err != nil {
		return &Error{Msg: fmt.Sprintf("%s does not parse with the new lines: %v", file, err), Err: err}
	}
	for _, e := range g.chosen {
		p := path.Join(expand(g.lay.Overlay, g.req.Name, e), "kustomization.yaml")
		g.notes = append(g.notes, fmt.Sprintf("%s is owned by %s", path.Dir(p), ownerList(owners.For(p))))
	}
	return g.write(file, []byte(out))
}

func ownerList(os []string) string {
	if len(os) == 0 {
		return "none"
	}
	at := make([]string, len(os))
	for i, o := range os {
		at[i] = "@" + o
	}
	return strings.Join(at, ", ")
}

// configEntry adds the service to .github/daytwo.yml, when the repository has one: the
// entry goes after the last service, the file otherwise unchanged.
func (g *gen) configEntry() error {
	if g.cfgFile == nil {
		return nil
	}
	entry := g.entry()
	out, err := appendService(g.cfgFile, entry)
	if err != nil {
		return &Error{Msg: fmt.Sprintf("daytwo cannot add %s to %s: %v", g.req.Name, repoconfig.Path, err), Err: err}
	}
	cfg, err := repoconfig.Load(out, command.All())
	if err != nil {
		return &Error{Msg: fmt.Sprintf("%s does not load with %s added: %v", repoconfig.Path, g.req.Name, err), Err: err}
	}
	s, ok := cfg.Service(g.req.Name)
	if !ok || s.OverlayPath(g.chosen[0]) != expand(g.lay.Overlay, g.req.Name, g.chosen[0]) {
		return fmt.Errorf("the service entry written for %s does not read back", g.req.Name)
	}
	return g.write(repoconfig.Path, out)
}

// entry is the service's config entry: what differs from the defaults.
func (g *gen) entry() [][2]string {
	e := [][2]string{{"name", g.req.Name}, {"image", g.req.Image.Name}, {"container", g.req.Name}}
	if g.lay.Overlay != g.cfg.Defaults.Overlay {
		e = append(e, [2]string{"overlay", g.lay.Overlay})
	}
	if g.lay.Catalog != g.cfg.Defaults.Catalog {
		e = append(e, [2]string{"catalog", g.lay.Catalog})
	}
	for _, a := range g.apps {
		if a.Name != expand(g.cfg.Defaults.ArgoCDApp, g.req.Name, a.Env) {
			e = append(e, [2]string{"argocdApp", templatize(a.Name, g.req.Name, a.Env)})
			break
		}
	}
	if len(g.chosen) < len(g.cfg.Environments) {
		e = append(e, [2]string{"environments", "[" + strings.Join(g.chosen, ", ") + "]"})
	}
	return e
}

// appendService writes entry as the last item of the top-level services list, as text
// after the last line of that list, indented like its items.
func appendService(file []byte, entry [][2]string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(file, &doc); err != nil {
		return nil, err
	}
	root := at(&doc)
	services := field(root, "services")
	if services == nil || services.Kind != yaml.SequenceNode || services.Style&yaml.FlowStyle != 0 || len(services.Content) == 0 {
		return nil, errors.New("it has no block list of services to add to")
	}
	first := services.Content[0]
	col := first.Column - 1 // the item's keys
	dash := col - 2
	if dash < 0 {
		return nil, errors.New("its services list is laid out in a way daytwo does not edit")
	}
	last := lastLine(services)
	lines := strings.SplitAfter(string(file), "\n")
	var b strings.Builder
	if len(services.Content) > 1 && services.Content[1].Line-lastLine(services.Content[0]) > 1 {
		b.WriteString("\n") // the items are apart: this one too
	}
	for i, kv := range entry {
		lead := strings.Repeat(" ", col)
		if i == 0 {
			lead = strings.Repeat(" ", dash) + "- "
		}
		fmt.Fprintf(&b, "%s%s: %s\n", lead, kv[0], kv[1])
	}
	var out bytes.Buffer
	for i, l := range lines {
		out.WriteString(l)
		if i == last-1 {
			if !strings.HasSuffix(l, "\n") {
				out.WriteString("\n")
			}
			out.WriteString(b.String())
		}
	}
	return out.Bytes(), nil
}

// lastLine is the last line a node or its children start on.
func lastLine(n *yaml.Node) int {
	l := n.Line
	for _, c := range n.Content {
		l = max(l, lastLine(c))
	}
	return l
}
