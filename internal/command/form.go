package command

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ActionLabelPrefix starts the label that ties an issue form to its command: action/<verb>.
const ActionLabelPrefix = "action/"

// Form is a GitHub issue form (.github/ISSUE_TEMPLATE/*.yml), as far as parsing the
// issues it submits needs it.
type Form struct {
	File        string // where it was loaded from, for messages
	Name        string
	Description string
	Title       string
	Labels      []string
	Verb        string  // the command, from the form's action/<verb> label
	Fields      []Field // the elements that submit a value, in form order
}

// Field is one element of a form that submits a value (not markdown).
type Field struct {
	Type     string // input, textarea, dropdown or checkboxes
	ID       string
	Label    string // the heading of its section in a submitted issue
	Required bool
	Render   string   // textarea: language of the code block the value is put in
	Multiple bool     // dropdown: several options may be chosen
	Options  []string // dropdown options, or the labels of the checkboxes
}

// Element types of GitHub's form schema.
const (
	typeMarkdown   = "markdown"
	typeInput      = "input"
	typeTextarea   = "textarea"
	typeDropdown   = "dropdown"
	typeCheckboxes = "checkboxes"
)

const maxLabelsLen = 4096

var formIDRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// The YAML shapes of GitHub's issue-form schema. Strings are yString so that a value
// YAML reads as a boolean or number ("yes", 1.0) is refused as GitHub refuses it.
type (
	formYAML struct {
		Name        *yString      `yaml:"name"`
		Description *yString      `yaml:"description"`
		Title       *yString      `yaml:"title"`
		Labels      stringList    `yaml:"labels"`
		Assignees   stringList    `yaml:"assignees"`
		Projects    []yString     `yaml:"projects"`
		Type        *yString      `yaml:"type"`
		Body        []elementYAML `yaml:"body"`
	}
	elementYAML struct {
		Type        *yString        `yaml:"type"`
		ID          *yString        `yaml:"id"`
		Attributes  *attributesYAML `yaml:"attributes"`
		Validations *struct {
			Required bool `yaml:"required"`
		} `yaml:"validations"`
	}
	attributesYAML struct {
		Label       *yString     `yaml:"label"`
		Description *yString     `yaml:"description"`
		Placeholder *yString     `yaml:"placeholder"`
		Value       *yString     `yaml:"value"`
		Render      *yString     `yaml:"render"`
		Multiple    *bool        `yaml:"multiple"`
		Options     []optionYAML `yaml:"options"`
		Default     *int         `yaml:"default"`
	}
	// optionYAML is a dropdown option (a string) or a checkbox ({label, required}).
	optionYAML struct {
		scalar   bool
		Label    string
		Required bool
	}
)

type yString string

func (s *yString) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || (n.Style == 0 && yaml11Bools[strings.ToLower(n.Value)]) {
		return fmt.Errorf("line %d: %q must be a string (quote it)", n.Line, n.Value)
	}
	*s = yString(n.Value)
	return nil
}

// yaml11Bools are the plain scalars GitHub's YAML reader (Ruby's, YAML 1.1) takes for
// booleans, compared in lower case.
var yaml11Bools = map[string]bool{"yes": true, "no": true, "true": true, "false": true, "on": true, "off": true}

// stringList is a list of strings, or one comma-separated string.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var s yString
		if err := s.UnmarshalYAML(n); err != nil {
			return err
		}
		for _, p := range strings.Split(string(s), ",") {
			if p = strings.TrimSpace(p); p != "" {
				*l = append(*l, p)
			}
		}
		return nil
	}
	var items []yString
	if err := n.Decode(&items); err != nil {
		return err
	}
	for _, it := range items {
		*l = append(*l, string(it))
	}
	return nil
}

func (o *optionYAML) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var s yString
		if err := s.UnmarshalYAML(n); err != nil {
			return fmt.Errorf("%w: options must not be booleans or numbers", err)
		}
		o.scalar, o.Label = true, string(s)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: an option is a string (dropdown) or a map with a label (checkboxes)", n.Line)
	}
	hasLabel := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "label":
			var s yString
			if err := s.UnmarshalYAML(v); err != nil {
				return err
			}
			o.Label, hasLabel = string(s), true
		case "required":
			if err := v.Decode(&o.Required); err != nil {
				return fmt.Errorf("line %d: required must be true or false", v.Line)
			}
		default:
			return fmt.Errorf("line %d: %q is not a permitted key of a checkbox option", k.Line, k.Value)
		}
	}
	if !hasLabel {
		return fmt.Errorf("line %d: a checkbox option needs a label", n.Line)
	}
	return nil
}

func blank(s *yString) bool { return s == nil || strings.TrimSpace(string(*s)) == "" }

// ParseForm reads one issue form and checks it against GitHub's issue-form schema: the
// required top-level keys, permitted keys and attributes per element type, unique ids
// ([a-zA-Z0-9_-]) and labels, dropdown options (non-empty, distinct, strings, not "None"),
// checkbox options with labels. The form must carry exactly one action/<verb> label.
func ParseForm(data []byte) (Form, error) {
	var y formYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		if errors.Is(err, io.EOF) {
			return Form{}, errors.New("the form is empty")
		}
		return Form{}, fmt.Errorf("reading the form: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Form{}, errors.New("the form holds more than one YAML document; remove the extra ---")
	}
	switch {
	case blank(y.Name):
		return Form{}, errors.New("required top-level key name is missing or empty")
	case blank(y.Description):
		return Form{}, errors.New("required top-level key description is missing or empty")
	case len(y.Body) == 0:
		return Form{}, errors.New("required top-level key body is missing or empty")
	}
	f := Form{Name: string(*y.Name), Description: string(*y.Description), Labels: y.Labels}
	if y.Title != nil {
		f.Title = string(*y.Title)
	}
	if len(strings.Join(f.Labels, ",")) > maxLabelsLen {
		return Form{}, fmt.Errorf("the labels are longer than %d bytes", maxLabelsLen)
	}
	ids, labels := map[string]bool{}, map[string]bool{}
	for i, e := range y.Body {
		field, err := parseElement(e, ids, labels)
		if err != nil {
			return Form{}, fmt.Errorf("body[%d]: %w", i, err)
		}
		if field != nil {
			f.Fields = append(f.Fields, *field)
		}
	}
	if len(f.Fields) == 0 {
		return Form{}, errors.New("the body must contain at least one non-markdown field")
	}
	for _, l := range f.Labels {
		if len(l) > len(ActionLabelPrefix) && strings.EqualFold(l[:len(ActionLabelPrefix)], ActionLabelPrefix) {
			if f.Verb != "" {
				return Form{}, fmt.Errorf("the form has several %s<verb> labels", ActionLabelPrefix)
			}
			f.Verb = strings.ToLower(l[len(ActionLabelPrefix):])
		}
	}
	if f.Verb == "" {
		return Form{}, fmt.Errorf("the form has no %s<verb> label naming its command", ActionLabelPrefix)
	}
	return f, nil
}

// parseElement checks one body element and returns its Field, or nil for markdown.
func parseElement(e elementYAML, ids, labels map[string]bool) (*Field, error) {
	if e.Type == nil {
		return nil, errors.New("required key type is missing")
	}
	if e.Attributes == nil {
		return nil, errors.New("required key attributes is missing")
	}
	a, typ := e.Attributes, string(*e.Type)
	permitted := map[string][]string{
		typeMarkdown:   {"value"},
		typeInput:      {"label", "description", "placeholder", "value"},
		typeTextarea:   {"label", "description", "placeholder", "value", "render"},
		typeDropdown:   {"label", "description", "multiple", "options", "default"},
		typeCheckboxes: {"label", "description", "options"},
	}[typ]
	if permitted == nil {
		return nil, fmt.Errorf("%q is not a valid input type", typ)
	}
	present := map[string]bool{
		"label": a.Label != nil, "description": a.Description != nil, "placeholder": a.Placeholder != nil,
		"value": a.Value != nil, "render": a.Render != nil, "multiple": a.Multiple != nil,
		"options": a.Options != nil, "default": a.Default != nil,
	}
	for _, k := range []string{"label", "description", "placeholder", "value", "render", "multiple", "options", "default"} {
		if present[k] && !contains(permitted, k) {
			return nil, fmt.Errorf("%s is not a permitted attribute of %s", k, typ)
		}
	}
	for k, s := range map[string]*yString{"description": a.Description, "placeholder": a.Placeholder, "render": a.Render} {
		if s != nil && blank(s) {
			return nil, fmt.Errorf("attribute %s must not be empty", k)
		}
	}
	if typ == typeMarkdown {
		switch {
		case blank(a.Value):
			return nil, errors.New("required attribute key value is missing")
		case e.ID != nil:
			return nil, errors.New("a markdown element takes no id")
		case e.Validations != nil:
			return nil, errors.New("a markdown element takes no validations")
		}
		return nil, nil
	}
	if blank(a.Label) {
		return nil, errors.New("required attribute key label is missing or empty")
	}
	f := &Field{Type: typ, Label: string(*a.Label), Required: e.Validations != nil && e.Validations.Required}
	if e.ID != nil {
		f.ID = string(*e.ID)
		if !formIDRE.MatchString(f.ID) {
			return nil, fmt.Errorf("id %q can only contain numbers, letters, - and _", f.ID)
		}
		if ids[f.ID] {
			return nil, fmt.Errorf("id %q is not unique", f.ID)
		}
		ids[f.ID] = true
	}
	if labels[f.Label] {
		return nil, fmt.Errorf("label %q is not unique", f.Label)
	}
	labels[f.Label] = true
	if a.Render != nil {
		f.Render = string(*a.Render)
	}
	if a.Multiple != nil {
		f.Multiple = *a.Multiple
	}
	switch typ {
	case typeDropdown:
		if len(a.Options) == 0 {
			return nil, errors.New("a dropdown needs options")
		}
		seen := map[string]bool{}
		for _, o := range a.Options {
			switch {
			case !o.scalar:
				return nil, errors.New("dropdown options are strings")
			case strings.TrimSpace(o.Label) == "":
				return nil, errors.New("a dropdown option is empty")
			case strings.EqualFold(strings.TrimSpace(o.Label), "None"):
				return nil, errors.New(`options must not include the reserved word "None"`)
			case seen[o.Label]:
				return nil, fmt.Errorf("option %q is not unique", o.Label)
			}
			seen[o.Label] = true
			f.Options = append(f.Options, o.Label)
		}
		if a.Default != nil && (*a.Default < 0 || *a.Default >= len(f.Options)) {
			return nil, fmt.Errorf("default %d is not the index of an option", *a.Default)
		}
	case typeCheckboxes:
		if len(a.Options) == 0 {
			return nil, errors.New("checkboxes need options")
		}
		for _, o := range a.Options {
			switch {
			case o.scalar:
				return nil, errors.New("each checkbox option is a map with a label")
			case strings.TrimSpace(o.Label) == "":
				return nil, errors.New("a checkbox option has an empty label")
			case labels[o.Label]:
				return nil, fmt.Errorf("checkbox label %q is not unique", o.Label)
			}
			labels[o.Label] = true
			f.Options = append(f.Options, o.Label)
		}
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// LoadForms parses the *.yml and *.yaml files of dir in fsys (for example the embedded
// templates), in name order.
func LoadForms(fsys fs.FS, dir string) ([]Form, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("listing issue forms: %w", err)
	}
	var forms []Form
	for _, e := range entries {
		if e.IsDir() || (path.Ext(e.Name()) != ".yml" && path.Ext(e.Name()) != ".yaml") {
			continue
		}
		p := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("reading issue form %s: %w", p, err)
		}
		f, err := ParseForm(data)
		if err != nil {
			return nil, fmt.Errorf("issue form %s: %w", p, err)
		}
		f.File = p
		forms = append(forms, f)
	}
	sort.SliceStable(forms, func(i, j int) bool { return forms[i].File < forms[j].File })
	return forms, nil
}
