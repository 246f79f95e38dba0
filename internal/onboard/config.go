package onboard

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// policyKey is one policy choice of an environment, written commented out: what it means
// (the schema's description) and its default.
type policyKey struct {
	key, value string
}

// policyKeys are the keys of an environment besides its name, in the order the reference
// lists them; requesters shows the read-only commands of cmds. A test checks them against
// the schema, so a new key cannot be left out.
func policyKeys(org string, cmds repoconfig.Commands) []policyKey {
	reqs := []string{`requesters:`, `  "*": {permission: write}`}
	for _, c := range cmds.Governed() {
		if cmds.ReadOnly(c) {
			reqs = append(reqs, fmt.Sprintf("  %s: {permission: read}", c))
		}
	}
	return []policyKey{
		{"requesters", strings.Join(reqs, "\n")},
		{"autoMerge", "autoMerge: false"},
		{"requireApproval", "requireApproval: true"},
		{"replicas", "replicas: {min: 0, max: 0}  # max 0: no upper bound"},
		{"promoteConfig", "promoteConfig: false"},
		{"breakGlass", fmt.Sprintf("breakGlass: {teams: [%s/sre]}", org)},
		{"argocd", fmt.Sprintf("argocd: {sync: false, timeout: %s}", durationText(repoconfig.DefaultArgoCDTimeout.String()))},
		{"freeze", `freeze: {reason: "release week"}`},
		{"workflows", "workflows: []  # e.g. [{name: smoke-test, workflow: smoke.yml}]"},
	}
}

// durationText writes a duration as the config does: "10m", not "10m0s".
func durationText(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// writeConfig builds the commented config as YAML nodes and encodes it.
//
// manual lists the environments whose Argo CD Applications all lack automated sync.
func writeConfig(cfg *repoconfig.Config, services []*service, manual map[string]bool, source string, cmds repoconfig.Commands, opt Options) ([]byte, error) {
	root := mapping()
	version := add(root, "version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(repoconfig.Version)})
	version.HeadComment = "yaml-language-server: $schema=" + repoconfig.SchemaID + "\n\n" + wrap(
		"daytwo's config for this GitOps repository, written by daytwo's init from "+source+
			" and the rendered overlays. daytwo reads it from the default branch only: a pull request cannot change the policy that judges it. "+
			"Commented keys are choices left to you, shown with daytwo's defaults: uncomment and edit to change one. Reference: docs/config.md", 88)

	envs := seq()
	for i, e := range cfg.Environments {
		m := mapping()
		name := add(m, "name", str(e.Name))
		var lines []string
		if i > 0 {
			lines = append(lines, fmt.Sprintf("The same choices as %s:", cfg.Environments[0].Name))
		}
		for _, k := range policyKeys(opt.Org, cmds) {
			value := k.value
			if k.key == "argocd" && manual[e.Name] {
				lines = append(lines, "Its Argo CD Applications have no automated sync: uncomment to have daytwo sync after a merge.")
				value = fmt.Sprintf("argocd: {sync: true, timeout: %s}", durationText(repoconfig.DefaultArgoCDTimeout.String()))
			} else if i == 0 {
				lines = append(lines, repoconfig.KeyDoc("Environment."+k.key))
			}
			lines = append(lines, strings.Split(value, "\n")...)
		}
		name.FootComment = strings.Join(lines, "\n")
		envs.Content = append(envs.Content, m)
	}
	add(root, "environments", envs).HeadComment = "\n" + wrap("Environments in promotion order: /promote <env> takes what the environment before it runs.", 88)

	// Templates every service follows go to defaults; a service that differs says so.
	overlayT := common(services, func(s *service) string { return s.overlay })
	appT := common(services, func(s *service) string { return s.argocdApp })
	catalogT := common(services, func(s *service) string { return templateOf(s.catalog, s.name) })
	defaults := mapping()
	last := add(defaults, "overlay", str(overlayT))
	if appT != "" {
		last = add(defaults, "argocdApp", str(appT))
	}
	if catalogT != "" {
		last = add(defaults, "catalog", str(catalogT))
	}
	var foot []string
	if appT == "" && allUnknown(services, func(s *service) string { return s.argocdApp }) {
		foot = append(foot, "No Argo CD Application names these overlays; name each service's (for rollout reports):",
			fmt.Sprintf("argocdApp: %q", repoconfig.DefaultArgoCDApp))
	}
	if catalogT == "" && allUnknown(services, func(s *service) string { return s.catalog }) {
		foot = append(foot, "No Backstage catalog-info.yaml names these services; /status reads the owner from:",
			fmt.Sprintf("catalog: %s", repoconfig.DefaultCatalog))
	}
	foot = append(foot,
		repoconfig.KeyDoc("ServiceDefaults.requesters"),
		`requesters: {"*": {permission: write}}`,
		repoconfig.KeyDoc("ServiceDefaults.argocd"),
		fmt.Sprintf("argocd: {sync: false, timeout: %s}", durationText(repoconfig.DefaultArgoCDTimeout.String())))
	last.FootComment = strings.Join(foot, "\n")
	add(root, "defaults", defaults).HeadComment = "\n" + wrap("Where the services' overlays, Argo CD Applications and catalog files are: {service} and {env} are filled in.", 88)

	list := seq()
	for _, s := range services {
		list.Content = append(list.Content, serviceNode(s, overlayT, appT, catalogT, opt.Org))
	}
	add(root, "services", list).HeadComment = "\nServices daytwo operates, with what their rendered overlays run."

	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// serviceNode is one entry of services: what differs from the defaults, and what the
// render showed. Comments carry what was left open.
func serviceNode(s *service, overlayT, appT, catalogT, org string) *yaml.Node {
	m := mapping()
	last := add(m, "name", str(s.name))
	var pending []string // comment lines for the next key
	put := func(key string, v *yaml.Node) *yaml.Node {
		k := add(m, key, v)
		if len(pending) > 0 {
			k.HeadComment = strings.Join(pending, "\n")
			pending = nil
		}
		last = k
		return k
	}
	if s.overlay != overlayT {
		put("overlay", str(s.overlay))
	}
	if s.argocdApp != "" && s.argocdApp != appT {
		put("argocdApp", str(s.argocdApp))
	}
	if len(s.environments) > 0 {
		l := seq()
		l.Style = yaml.FlowStyle
		for _, e := range s.environments {
			l.Content = append(l.Content, str(e))
		}
		put("environments", l)
	}
	pending = append(pending, s.open...)
	if w := s.workload; w != nil {
		wm := mapping()
		wm.Style = yaml.FlowStyle
		add(wm, "kind", str(w.Kind))
		add(wm, "name", str(w.Name))
		put("workload", wm)
	}
	if s.container != "" {
		v := str(s.container)
		if len(s.others) > 0 {
			v.LineComment = "also runs " + strings.Join(s.others, ", ")
		}
		put("container", v)
	}
	if s.image != "" {
		put("image", str(s.image))
	}
	if s.configMap != "" {
		put("configMap", str(s.configMap))
	}
	if c := templateOf(s.catalog, s.name); s.catalog != "" && c != catalogT {
		put("catalog", str(s.catalog))
	}
	pending = append(pending, repoconfig.KeyDoc("Service.repository"), fmt.Sprintf("repository: %s/%s", org, s.name))
	last.FootComment = strings.Join(pending, "\n")
	return m
}

// common is the value every service has, or "".
func common(services []*service, v func(*service) string) string {
	if len(services) == 0 {
		return ""
	}
	first := v(services[0])
	for _, s := range services[1:] {
		if v(s) != first {
			return ""
		}
	}
	return first
}

func allUnknown(services []*service, v func(*service) string) bool {
	for _, s := range services {
		if v(s) != "" {
			return false
		}
	}
	return true
}

// templateOf turns a path of a service into a template with {service}, in place of the
// directories named after the service and of a file named after it (checkout.yaml); ""
// when the path does not name the service so.
func templateOf(p, svc string) string {
	if p == "" {
		return ""
	}
	segs := strings.Split(p, "/")
	found := false
	for i, seg := range segs {
		stem, ext, _ := strings.Cut(seg, ".")
		if stem == svc && (ext == "" || i == len(segs)-1) {
			segs[i] = strings.Replace(seg, svc, "{service}", 1)
			found = true
		}
	}
	if !found {
		return ""
	}
	return strings.Join(segs, "/")
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func seq() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

// add appends key: v to m and returns the key node, which carries the comments.
func add(m *yaml.Node, key string, v *yaml.Node) *yaml.Node {
	k := str(key)
	m.Content = append(m.Content, k, v)
	return k
}

// str is a string scalar; the encoder quotes it when YAML would read it as anything else.
func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// wrap breaks text into lines of at most width bytes, between words.
func wrap(text string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
}
