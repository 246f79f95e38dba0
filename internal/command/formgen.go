package command

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// FormSpec is what a command's issue form asks besides what every form of a command
// asks: the service and the environment first (not for a command on the whole
// repository), then Fields, then a free-text reason and,
// for a command that changes something, a dry-run checkbox.
type FormSpec struct {
	Name        string // the form's name after "daytwo: " in the template chooser: "set image"
	Description string // one line under the name in the template chooser
	Intro       string // the form's first paragraph: what the command does
	Env         string // what the environment field asks: "The environment to scale the service in."
	EnvExample  string // placeholder of a free-text environment field
	Reason      string // what the reason field says; "" for the default of the command's kind
	Outro       string // what follows the intro; "" for the default of the command's kind
	Fields      []FormField
}

// FormField is one field of a form: a flag of the command (its ID is the flag's long
// name) or, in order, its positional arguments.
type FormField struct {
	ID          string
	Type        string // "input", "textarea" or "dropdown"
	Label       string // the heading of its section in a submitted issue
	Description string
	Placeholder string   // input and textarea
	Options     []string // dropdown
	Render      string   // textarea: the language its value is fenced as
	Required    bool
	// Environment makes the field, in a repository's forms, a dropdown of its
	// environments (the field names one, like --from).
	Environment bool
}

// FormChoices are a repository's services and environments, offered in dropdowns by the
// forms generated for it. The zero value gives the generic forms, with free-text fields.
type FormChoices struct {
	Services, Environments []string
}

// IssueForm is one generated issue form.
type IssueForm struct {
	Verb string
	File string // name in .github/ISSUE_TEMPLATE/: "<verb>.yml"
	YAML []byte
}

// Fixed fields every command's form has.
const (
	formReasonDescription = "Why this is needed. It is shown in the pull request for reviewers."
	formDryRunOption      = "Only show the change; do not open a pull request"
	formOutro             = "daytwo answers here and opens a pull request against the GitOps repository; approval happens on that pull request."
)

// IssueForms generates the issue form of every command with a FormSpec, in name order.
// Each is checked as GitHub and NewFormSet would check it, so an issue opened from it is
// read by ParseIssueForm.
func (r *Registry) IssueForms(c FormChoices) ([]IssueForm, error) {
	var out []IssueForm
	var forms []Form
	for _, name := range r.Names() {
		s := r.specs[name]
		if s.Form == nil {
			continue
		}
		doc := formNode(s, c)
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(doc); err != nil {
			return nil, fmt.Errorf("issue form of /%s: %w", name, err)
		}
		f, err := ParseForm(b.Bytes())
		if err != nil {
			return nil, fmt.Errorf("the generated issue form of /%s is not valid: %w", name, err)
		}
		f.File = name + ".yml"
		forms = append(forms, f)
		out = append(out, IssueForm{Verb: name, File: f.File, YAML: b.Bytes()})
	}
	if _, err := r.NewFormSet(forms); err != nil {
		return nil, err
	}
	return out, nil
}

// formNode builds the form of s as a YAML document.
func formNode(s *Spec, c FormChoices) *yaml.Node {
	f := s.Form
	outro, reasonDesc := formOutro, formReasonDescription
	if s.External {
		outro = "daytwo answers here, runs it and follows it to its end; no pull request is opened."
		reasonDesc = "Why this is needed. daytwo keeps it with the record of the run."
	}
	if s.ReadOnly {
		outro = "daytwo answers here; nothing is changed."
	}
	if f.Reason != "" {
		reasonDesc = f.Reason
	}
	if f.Outro != "" {
		outro = f.Outro
	}
	body := seq()
	body.Content = append(body.Content, mapping(
		"type", str("markdown"),
		"attributes", mapping("value", literal(strings.TrimSpace(f.Intro)+"\n\n"+outro+"\n")),
	))
	if !s.Repository {
		body.Content = append(body.Content,
			fieldNode(FormField{ID: FlagService, Type: "input", Label: "Service", Required: true,
				Description: "The service, as named in the repository's .github/daytwo.yml.", Placeholder: "checkout"}, c.Services),
			fieldNode(FormField{ID: FlagEnv, Type: "input", Label: "Environment", Required: true,
				Description: f.Env, Placeholder: f.EnvExample}, c.Environments),
		)
	}
	for _, fd := range f.Fields {
		var choices []string
		if fd.Environment {
			choices = c.Environments
		}
		body.Content = append(body.Content, fieldNode(fd, choices))
	}
	body.Content = append(body.Content, fieldNode(FormField{ID: reasonID, Type: "textarea", Label: "Reason", Description: reasonDesc}, nil))
	if s.Mutating {
		desc, option := "Check to see the change and its rendered diff as a comment here, without a pull request.", formDryRunOption
		if s.External {
			desc, option = "Check to see what would run, as a comment here, without running it.", "Only check it; do not run it"
		}
		body.Content = append(body.Content, mapping(
			"type", str(typeCheckboxes),
			"id", str(FlagDryRun),
			"attributes", mapping(
				"label", str("Dry run"),
				"description", str(desc),
				"options", seq(mapping("label", str(option))),
			),
		))
	}
	labels := seq(str("daytwo"), str(ActionLabelPrefix+s.Name))
	labels.Style = yaml.FlowStyle
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{mapping(
		"name", str("daytwo: "+f.Name),
		"description", str(f.Description),
		"title", str("[daytwo] "+s.Name+": "),
		"labels", labels,
		"body", body,
	)}}
}

// fieldNode is one form element. With choices, a free-text input becomes a dropdown of
// them, unless one is GitHub's reserved "None".
func fieldNode(fd FormField, choices []string) *yaml.Node {
	typ, options := fd.Type, fd.Options
	if len(choices) > 0 && fd.Type == typeInput && !reservedOption(choices) {
		typ, options = typeDropdown, choices
	}
	attrs := mapping("label", str(fd.Label))
	if fd.Description != "" {
		add(attrs, "description", str(fd.Description))
	}
	switch typ {
	case typeDropdown:
		opts := seq()
		for _, o := range options {
			opts.Content = append(opts.Content, str(o))
		}
		add(attrs, "options", opts)
		if len(options) == 1 && fd.Required {
			add(attrs, "default", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "0"})
		}
	default:
		if fd.Placeholder != "" {
			v := str(fd.Placeholder)
			if strings.Contains(fd.Placeholder, "\n") {
				v = literal(fd.Placeholder)
			}
			add(attrs, "placeholder", v)
		}
		if fd.Render != "" {
			add(attrs, "render", str(fd.Render))
		}
	}
	return mapping(
		"type", str(typ),
		"id", str(fd.ID),
		"attributes", attrs,
		"validations", mapping("required", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(fd.Required)}),
	)
}

func reservedOption(options []string) bool {
	for _, o := range options {
		if strings.EqualFold(strings.TrimSpace(o), "None") {
			return true
		}
	}
	return false
}

func mapping(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		add(m, kv[i].(string), kv[i+1].(*yaml.Node))
	}
	return m
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

// str is a string scalar. Words GitHub's YAML 1.1 reader takes for booleans are quoted:
// YAML 1.2 writers leave them plain.
func str(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if yaml11Bools[strings.ToLower(v)] || strings.EqualFold(v, "y") || strings.EqualFold(v, "n") {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func literal(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: yaml.LiteralStyle}
}
