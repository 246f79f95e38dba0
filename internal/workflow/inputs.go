package workflow

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// Arg is one key=value of a /run request, as written.
type Arg struct{ Key, Value string }

// Options adapt Check to the server the workflow runs on.
type Options struct {
	// MaxInputs is how many inputs one dispatch may carry; 0 means MaxInputs (GitHub.com).
	MaxInputs int
	// Environments, when not nil, are the repository's environments: an environment input
	// must name one of them.
	Environments []string
}

// Dispatch is a request whose arguments fit the workflow's inputs.
type Dispatch struct {
	// Inputs are what to send: the inputs given, booleans written true or false. GitHub
	// fills the defaults of the others itself.
	Inputs map[string]string
	// Values are every input that has a value when the run starts, given or by default,
	// for the reply and the record of the run.
	Values map[string]string
	// Given names the inputs given, in the order given.
	Given []string
}

// NotDispatchableError is a workflow without a workflow_dispatch trigger: GitHub refuses
// to run it by hand.
type NotDispatchableError struct{ Workflow *Workflow }

func (e *NotDispatchableError) Error() string {
	return fmt.Sprintf("%s (%s) has no workflow_dispatch trigger, so it cannot be run by hand; add workflow_dispatch to its on: events",
		e.Workflow.Name, e.Workflow.Path)
}

// InputError is a request whose arguments do not fit the workflow's inputs: every problem
// found, and the workflow, whose inputs the answer lists.
type InputError struct {
	Workflow *Workflow
	Problems []string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%s: %s", e.Workflow.Name, strings.Join(e.Problems, "; "))
}

// Markdown is the answer to the request: the problems, then the workflow's inputs.
func (e *InputError) Markdown(rd markdown.Renderer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The inputs do not fit the workflow %s (%s):\n\n", rd.Text(e.Workflow.Name), rd.Code(e.Workflow.Path))
	for _, p := range e.Problems {
		b.WriteString("- " + rd.Text(p) + "\n")
	}
	b.WriteString("\n" + e.Workflow.InputsTable(rd))
	return b.String()
}

// InputsTable lists the workflow's inputs: name, type, whether required, default, options
// and description. Everything read from the file is escaped by rd.
func (w *Workflow) InputsTable(rd markdown.Renderer) string {
	if len(w.Inputs) == 0 {
		return "The workflow takes no inputs.\n"
	}
	rows := make([][]string, len(w.Inputs))
	for i, in := range w.Inputs {
		req := "no"
		if in.Required {
			req = "yes"
		}
		def := ""
		if in.HasDefault {
			def = rd.Code(in.Default)
		}
		opts := make([]string, len(in.Options))
		for j, o := range in.Options {
			opts[j] = rd.Code(o)
		}
		rows[i] = []string{rd.Code(in.Name), in.Type, req, def, strings.Join(opts, ", "), rd.Text(in.Description)}
	}
	return rd.Table([]string{"Input", "Type", "Required", "Default", "Options", "Description"}, rows)
}

// Check fits key=value arguments to the workflow's inputs as GitHub would, and more
// strictly where GitHub would start a run bound to fail: a required input given empty, a
// number that is not one. Every problem is reported at once, as an *InputError; a workflow
// that cannot be run by hand is a *NotDispatchableError.
func (w *Workflow) Check(args []Arg, opt Options) (*Dispatch, error) {
	if !w.Dispatchable {
		return nil, &NotDispatchableError{Workflow: w}
	}
	limit := opt.MaxInputs
	if limit <= 0 {
		limit = MaxInputs
	}
	d := &Dispatch{Inputs: map[string]string{}, Values: map[string]string{}}
	var problems []string
	names := make([]string, len(w.Inputs))
	for i, in := range w.Inputs {
		names[i] = in.Name
	}
	for _, a := range args {
		in, ok := w.Input(a.Key)
		if !ok {
			p := fmt.Sprintf("there is no input %s", quote(a.Key))
			if s := similar(a.Key, names); s != "" {
				p += fmt.Sprintf("; did you mean %s?", quote(s))
			}
			problems = append(problems, p)
			continue
		}
		if slices.Contains(d.Given, in.Name) {
			problems = append(problems, fmt.Sprintf("%s is given twice", quote(in.Name)))
			continue
		}
		d.Given = append(d.Given, in.Name)
		if in.Required && a.Value == "" {
			problems = append(problems, fmt.Sprintf("%s is required and cannot be empty", quote(in.Name)))
			continue
		}
		v, problem := check(in, a.Value, opt.Environments)
		if problem != "" {
			problems = append(problems, quote(in.Name)+" "+problem)
			continue
		}
		d.Inputs[in.Name], d.Values[in.Name] = v, v
	}
	for _, in := range w.Inputs {
		if slices.Contains(d.Given, in.Name) {
			continue
		}
		switch {
		case in.HasDefault:
			d.Values[in.Name] = in.Default
		case in.Required:
			problems = append(problems, fmt.Sprintf("%s is required; give it as %s", quote(in.Name), quote(in.Name+"="+placeholder(in))))
		}
	}
	if len(problems) == 0 {
		if len(d.Inputs) > limit {
			problems = append(problems, fmt.Sprintf("%d inputs are given; GitHub accepts at most %d in one run", len(d.Inputs), limit))
		} else if n := payloadSize(d.Inputs); n > MaxPayload {
			problems = append(problems, fmt.Sprintf("the inputs take %d characters; GitHub accepts at most %d in one run", n, MaxPayload))
		}
	}
	if len(problems) > 0 {
		return nil, &InputError{Workflow: w, Problems: problems}
	}
	return d, nil
}

// payloadSize is the length of the inputs as the JSON object sent.
func payloadSize(inputs map[string]string) int {
	b, _ := json.Marshal(inputs)
	return len(b)
}

func placeholder(in Input) string {
	switch in.Type {
	case TypeBoolean:
		return "true"
	case TypeChoice:
		return in.Options[0]
	case TypeNumber:
		return "<number>"
	}
	return "<" + in.Type + ">"
}

// numberRE is a decimal number as people write one; Go's ParseFloat would also take hex,
// underscores, Inf and NaN, which a workflow's number input does not mean.
var numberRE = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$`)

// check fits one value to an input, returning it as GitHub passes it, or what is wrong
// with it (a phrase following the input's name).
func check(in Input, v string, environments []string) (string, string) {
	switch in.Type {
	case TypeBoolean:
		if b := strings.ToLower(v); b == "true" || b == "false" {
			return b, ""
		}
		return "", fmt.Sprintf("must be true or false, not %s", quote(v))
	case TypeChoice:
		if slices.Contains(in.Options, v) {
			return v, ""
		}
		p := fmt.Sprintf("must be one of %s, not %s", codeList(in.Options), quote(v))
		if s := similar(v, in.Options); s != "" {
			p += fmt.Sprintf(" (did you mean %s?)", quote(s))
		}
		return "", p
	case TypeNumber:
		if numberRE.MatchString(v) {
			return v, ""
		}
		return "", fmt.Sprintf("must be a number, not %s", quote(v))
	case TypeEnvironment:
		switch {
		case v == "" && !in.Required:
			return v, ""
		case environments != nil && !slices.Contains(environments, v):
			if len(environments) == 0 {
				return "", fmt.Sprintf("must name an environment of the repository, which has none, not %s", quote(v))
			}
			return "", fmt.Sprintf("must name an environment of the repository (%s), not %s", codeList(environments), quote(v))
		case strings.TrimSpace(v) == "":
			return "", "must name an environment"
		}
	}
	return v, ""
}

// quote writes a value in a problem, which goes through markdown.Text before it is shown.
func quote(s string) string { return fmt.Sprintf("%q", s) }

func codeList(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = quote(s)
	}
	return strings.Join(out, ", ")
}

// similar is the candidate equal to s but for case, or one edit away from it; "" if none.
func similar(s string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, s) {
			return c
		}
	}
	for _, c := range candidates {
		if len(s) > 2 && oneEdit(strings.ToLower(s), strings.ToLower(c)) {
			return c
		}
	}
	return ""
}

// oneEdit reports whether a and b differ by one inserted, deleted, replaced or swapped
// character.
func oneEdit(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a)-len(b) > 1 {
		return false
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	if len(a) != len(b) {
		return a[i+1:] == b[i:]
	}
	if i == len(a) {
		return false
	}
	if a[i+1:] == b[i+1:] {
		return true
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}
