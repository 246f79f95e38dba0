package repoconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Version is the only config version this daytwo reads.
const Version = 1

// MaxFileSize bounds the config file; a real one is a few KiB.
const MaxFileSize = 256 << 10

// Built-in defaults, replaced by the file's `defaults:` where it sets them.
const (
	DefaultOverlay       = "apps/{service}/overlays/{env}"
	DefaultArgoCDApp     = "{service}-{env}"
	DefaultCatalog       = "apps/{service}/catalog-info.yaml"
	DefaultArgoCDTimeout = 10 * time.Minute
)

// WorkloadKinds are the kinds a service's workload may be.
var WorkloadKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "Rollout"}

// Load parses and validates a config file and applies the defaults. cmds are daytwo's
// commands, which requesters keys name (nil: none). A file it refuses yields an *Error
// listing every problem with its line.
func Load(data []byte, cmds Commands) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{Problems: []Problem{{Message: fmt.Sprintf(
			"the file is %d KiB; daytwo reads config files of at most %d KiB", (len(data)+1023)>>10, MaxFileSize>>10)}}}
	}
	root, p := parseDocument(data)
	if p != nil {
		return nil, &Error{Problems: []Problem{*p}}
	}
	d := &decoder{lines: map[string]int{"": root.Line}}
	var c Config
	d.value(root, reflect.ValueOf(&c).Elem(), place{})
	if d.tooBig {
		return nil, &Error{Problems: []Problem{{Message: fmt.Sprintf(
			"the file expands to more than %d values once aliases are resolved; write it out without nesting aliases", maxNodes)}}}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	v := &validator{lines: d.lines}
	readOnly := map[string]bool{}
	if cmds != nil {
		v.commands = cmds.Governed()
		for _, n := range v.commands {
			readOnly[n] = cmds.ReadOnly(n)
		}
	}
	v.config(&c)
	if err := v.err(); err != nil {
		return nil, err
	}
	c.applyDefaults()
	for i := range c.Environments {
		c.Environments[i].readOnly = readOnly
	}
	v.expanded(&c)
	if err := v.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses the one YAML document of the file and returns its root node.
func parseDocument(data []byte) (root *yaml.Node, problem *Problem) {
	defer func() {
		// The parser is not ours; a panic in it must still be a refusal, not a crash.
		if r := recover(); r != nil {
			root, problem = nil, &Problem{Message: fmt.Sprintf("cannot parse the YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Problem{Message: "the file is empty; it needs version: 1, environments and services"}
		}
		return nil, syntaxProblem(err)
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxProblem(err)
	default:
		return nil, &Problem{Line: more.Line, Message: "a second YAML document starts here; the file must hold one"}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, &Problem{Message: "the file is empty; it needs version: 1, environments and services"}
	}
	return doc.Content[0], nil
}

func syntaxProblem(err error) *Problem {
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Problem{Line: line, Message: "invalid YAML: " + m[2]}
	}
	return &Problem{Message: "invalid YAML: " + err.Error()}
}

// applyDefaults fills what the file leaves out; applying it twice changes nothing.
func (c *Config) applyDefaults() {
	d := &c.Defaults
	fill(&d.Overlay, DefaultOverlay)
	fill(&d.ArgoCDApp, DefaultArgoCDApp)
	fill(&d.Catalog, DefaultCatalog)
	if d.ArgoCD.Timeout == 0 {
		d.ArgoCD.Timeout = DefaultArgoCDTimeout
	}
	for k, r := range d.Requesters {
		d.Requesters[k] = normalRule(r)
	}

	for i := range c.Environments {
		e := &c.Environments[i]
		// A reason is shown inline in replies; surrounding blank lines carry nothing.
		if e.Freeze != nil {
			e.Freeze.Reason = strings.TrimSpace(e.Freeze.Reason)
		}
		for k, r := range e.Requesters {
			e.Requesters[k] = normalRule(r)
		}
		// An environment's "*" covers every command it does not list, so nothing of the
		// defaults can apply to it.
		if _, all := e.Requesters[AnyCommand]; !all {
			for k, r := range d.Requesters {
				if _, ok := e.Requesters[k]; ok {
					continue
				}
				if e.Requesters == nil {
					e.Requesters = map[string]Rule{}
				}
				e.Requesters[k] = r
			}
		}
		if e.BreakGlass != nil {
			r := normalRule(*e.BreakGlass)
			e.BreakGlass = &r
		}
		if e.RequireApproval == nil {
			v := !e.AutoMerge
			e.RequireApproval = &v
		}
		if e.ArgoCD.Timeout == 0 {
			e.ArgoCD.Timeout = d.ArgoCD.Timeout
		}
		e.ArgoCD.Sync = e.ArgoCD.Sync || d.ArgoCD.Sync
	}

	for i := range c.Services {
		s := &c.Services[i]
		fill(&s.Overlay, d.Overlay)
		fill(&s.ArgoCDApp, d.ArgoCDApp)
		fill(&s.Catalog, d.Catalog)
		// A workload the file does not name stays empty: the planner infers it from the
		// render of each environment, where names differ (ledger-staging, ledger-prod).
		fill(&s.Workload.Kind, d.Workload.Kind)
		fill(&s.Workload.Name, d.Workload.Name)
		s.Workload.Name = expand(s.Workload.Name, s.Name, "")
	}
}

func fill(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

// normalRule makes the empty rule explicit: it means write permission.
func normalRule(r Rule) Rule {
	if r.Empty() {
		r.Permission = "write"
	}
	return r
}
