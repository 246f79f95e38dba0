// Package workflow reads what a GitHub Actions workflow file says about being run by hand
// (its on.workflow_dispatch trigger and inputs) and checks the key=value arguments of a
// /run request against those inputs, as GitHub would, before anything is dispatched. It
// knows nothing of GitHub's API: the caller reads the file and sends the dispatch.
package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits GitHub sets on a dispatch (docs.github.com, "Workflow syntax": on.workflow_dispatch.inputs).
const (
	// MaxInputs is how many inputs a workflow_dispatch trigger may declare, and a dispatch
	// carry, on GitHub.com. GitHub Enterprise Server 3.17 to 3.19 allow MaxInputsGHES.
	MaxInputs     = 25
	MaxInputsGHES = 10
	// MaxPayload is the most characters the inputs of one dispatch may take, counted here
	// as their JSON object.
	MaxPayload = 65535
	// MaxFileSize bounds the workflow file read; real ones are a few KiB.
	MaxFileSize = 512 << 10
)

// Input types of on.workflow_dispatch.inputs.<id>.type.
const (
	TypeString      = "string"
	TypeBoolean     = "boolean"
	TypeChoice      = "choice"
	TypeNumber      = "number"
	TypeEnvironment = "environment"
)

// Types lists the input types GitHub accepts.
var Types = []string{TypeString, TypeBoolean, TypeChoice, TypeNumber, TypeEnvironment}

// Input is one input of a workflow_dispatch trigger.
type Input struct {
	Name        string
	Type        string // one of Types; "string" when the file says none
	Description string
	Required    bool
	Default     string // as GitHub passes it: booleans "true"/"false", numbers as written
	HasDefault  bool
	Options     []string // choice inputs
}

// Workflow is what a workflow file says about being dispatched.
type Workflow struct {
	Path string // ".github/workflows/deploy.yml", for messages
	Name string // the file's name:, else its path (as GitHub names runs)
	// Dispatchable reports whether on: includes workflow_dispatch.
	Dispatchable bool
	Inputs       []Input // in file order
}

// Input returns the input named name.
func (w *Workflow) Input(name string) (Input, bool) {
	for _, in := range w.Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}

// inputIDRE is GitHub's rule for input ids: a letter or _ first, then letters, digits, - or _.
var inputIDRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// FileError is a workflow file daytwo cannot read as GitHub would, with the line at fault.
type FileError struct {
	Path string
	Line int // 0 when the problem is the file as a whole
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// Parse reads a workflow file. A file GitHub would refuse to run (an input of an unknown
// type, a choice without options, more than MaxInputs inputs) is a *FileError; a file
// without workflow_dispatch parses, with Dispatchable false.
func Parse(path string, data []byte) (w *Workflow, err error) {
	fail := func(line int, format string, args ...any) (*Workflow, error) {
		return nil, &FileError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) > MaxFileSize {
		return fail(0, "the file is %d KiB; daytwo reads workflow files of at most %d KiB", (len(data)+1023)>>10, MaxFileSize>>10)
	}
	defer func() {
		// The parser is not ours; a panic in it must still be an answer, not a crash.
		if r := recover(); r != nil {
			w, err = nil, &FileError{Path: path, Msg: fmt.Sprintf("cannot parse the YAML: %v", r)}
		}
	}()
	// yaml.v3 reads YAML 1.2's core schema: the key "on" stays the string "on", where a
	// YAML 1.1 parser would read it as true.
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(0, "the file is empty")
		}
		return fail(0, "not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return fail(root.Line, "a workflow file is a mapping of keys (name, on, jobs), not %s", describe(root))
	}
	w = &Workflow{Path: path, Name: path}
	if n := lookup(root, "name"); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
		w.Name = n.Value
	}
	on := lookup(root, "on")
	if on == nil {
		return fail(root.Line, "the file has no on: key, so nothing triggers it")
	}
	var dispatch *yaml.Node
	switch on.Kind {
	case yaml.ScalarNode:
		w.Dispatchable = on.Value == "workflow_dispatch"
	case yaml.SequenceNode:
		for _, ev := range on.Content {
			if ev = resolve(ev); ev.Kind == yaml.ScalarNode && ev.Value == "workflow_dispatch" {
				w.Dispatchable = true
			}
		}
	case yaml.MappingNode:
		if key := lookupKey(on, "workflow_dispatch"); key != nil {
			w.Dispatchable = true
			dispatch = lookup(on, "workflow_dispatch")
		}
	default:
		return fail(on.Line, "on: must name events (a word, a list or a mapping), not %s", describe(on))
	}
	if dispatch == nil || isNull(dispatch) {
		return w, nil
	}
	if dispatch.Kind != yaml.MappingNode {
		return fail(dispatch.Line, "on.workflow_dispatch must be a mapping (with inputs:) or empty, not %s", describe(dispatch))
	}
	inputs := lookup(dispatch, "inputs")
	if inputs == nil || isNull(inputs) {
		return w, nil
	}
	if inputs.Kind != yaml.MappingNode {
		return fail(inputs.Line, "on.workflow_dispatch.inputs must be a mapping of input ids, not %s", describe(inputs))
	}
	if n := len(inputs.Content) / 2; n > MaxInputs {
		return fail(lookupKey(dispatch, "inputs").Line, "on.workflow_dispatch declares %d inputs; GitHub allows at most %d", n, MaxInputs)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(inputs.Content); i += 2 {
		k, v := resolve(inputs.Content[i]), resolve(inputs.Content[i+1])
		if k.Kind != yaml.ScalarNode || !inputIDRE.MatchString(k.Value) {
			return fail(k.Line, "input id %s must start with a letter or _ and hold only letters, digits, - and _", describe(k))
		}
		// GitHub's inputs context is case-insensitive: two ids differing in case clash.
		if first, dup := seen[strings.ToLower(k.Value)]; dup {
			return fail(k.Line, "input %q is declared twice (first on line %d)", k.Value, first)
		}
		seen[strings.ToLower(k.Value)] = k.Line
		in, ferr := parseInput(k.Value, v)
		if ferr != nil {
			ferr.Path = path
			return nil, ferr
		}
		w.Inputs = append(w.Inputs, in)
	}
	return w, nil
}

func parseInput(name string, n *yaml.Node) (Input, *FileError) {
	in := Input{Name: name, Type: TypeString}
	fail := func(line int, format string, args ...any) (Input, *FileError) {
		return Input{}, &FileError{Line: line, Msg: fmt.Sprintf("input %q: ", name) + fmt.Sprintf(format, args...)}
	}
	if isNull(n) {
		return in, nil
	}
	if n.Kind != yaml.MappingNode {
		return fail(n.Line, "must be a mapping (description, required, default, type, options), not %s", describe(n))
	}
	if t := lookup(n, "type"); t != nil {
		if t.Kind != yaml.ScalarNode || !contains(Types, t.Value) {
			return fail(t.Line, "type must be one of %s, not %s", strings.Join(Types, ", "), describe(t))
		}
		in.Type = t.Value
	}
	if d := lookup(n, "description"); d != nil && d.Kind == yaml.ScalarNode && !isNull(d) {
		in.Description = d.Value
	}
	if r := lookup(n, "required"); r != nil && !isNull(r) {
		if r.Kind != yaml.ScalarNode || r.ShortTag() != "!!bool" {
			return fail(r.Line, "required must be true or false, not %s", describe(r))
		}
		in.Required = strings.EqualFold(r.Value, "true")
	}
	if o := lookup(n, "options"); o != nil && !isNull(o) {
		if o.Kind != yaml.SequenceNode {
			return fail(o.Line, "options must be a list, not %s", describe(o))
		}
		for _, opt := range o.Content {
			if opt = resolve(opt); opt.Kind != yaml.ScalarNode {
				return fail(opt.Line, "each option must be a single value, not %s", describe(opt))
			}
			in.Options = append(in.Options, opt.Value)
		}
	}
	if in.Type == TypeChoice && len(in.Options) == 0 {
		return fail(n.Line, "a choice input needs options")
	}
	if d := lookup(n, "default"); d != nil && !isNull(d) {
		if d.Kind != yaml.ScalarNode {
			return fail(d.Line, "default must be a single value, not %s", describe(d))
		}
		v, problem := check(in, d.Value, nil)
		if problem != "" {
			return fail(d.Line, "the default %s", problem)
		}
		in.Default, in.HasDefault = v, true
	}
	return in, nil
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// lookupKey returns the key node of key in mapping m, or nil.
func lookupKey(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return k
		}
	}
	return nil
}

// lookup returns the value of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("%q", v)
	}
	return "nothing"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
