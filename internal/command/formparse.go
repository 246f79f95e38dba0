package command

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// ErrNotForm is returned for an issue that carries no action/<verb> label of a known form:
// it is not a daytwo request, stay silent.
var ErrNotForm = errors.New("the issue was not opened from a daytwo issue form")

// maxBodyLen bounds the issue bodies read; GitHub's own limit is 65,536 characters.
const maxBodyLen = 256 << 10

// reasonID is the id of the form field that carries a free-text reason.
const reasonID = "reason"

// FormSet is a registry's issue forms, checked against its commands and ready to read
// submitted issues.
type FormSet struct {
	reg   *Registry
	forms []Form
}

// FormProblem is one thing wrong with a submitted issue, named by the field's label
// (Label is "" for the issue as a whole).
type FormProblem struct {
	Label   string
	Message string
}

func (p FormProblem) String() string {
	if p.Label == "" {
		return p.Message
	}
	return p.Label + ": " + p.Message
}

// FormError lists what is wrong with a submitted issue.
type FormError struct {
	Form     string // name of the form
	Problems []FormProblem
}

func (e *FormError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// Markdown renders the problems for a comment on the issue. Labels and messages are plain
// text, so a person's text (quoted in a message) shows as written and pings no one.
func (e *FormError) Markdown() string {
	var b strings.Builder
	if e.Form != "" {
		fmt.Fprintf(&b, "This issue could not be read as a %s request:\n\n", markdown.Code(e.Form))
	} else {
		b.WriteString("This issue could not be read as a daytwo request:\n\n")
	}
	for _, p := range e.Problems {
		if p.Label != "" {
			fmt.Fprintf(&b, "- **%s**: %s\n", markdown.Text(p.Label), markdown.Text(p.Message))
		} else {
			fmt.Fprintf(&b, "- %s\n", markdown.Text(p.Message))
		}
	}
	b.WriteString("\nFix the issue body, or open a new issue from the form.\n")
	return b.String()
}

// NewFormSet checks forms against the registry: each form's verb is a registered command
// with no other form, every field has an id, and each id maps to something the command
// takes: a flag of the same name (a checkbox to a switch, with one option), "reason" (free
// text), or else the next positional argument (a textarea gives one argument per line).
func (r *Registry) NewFormSet(forms []Form) (*FormSet, error) {
	verbs := map[string]string{}
	for _, f := range forms {
		name := f.Name
		if f.File != "" {
			name = f.File
		}
		s, ok := r.specs[f.Verb]
		if !ok {
			return nil, fmt.Errorf("issue form %s: %s%s names no command", name, ActionLabelPrefix, f.Verb)
		}
		if other, dup := verbs[f.Verb]; dup {
			return nil, fmt.Errorf("issue forms %s and %s are both for /%s", other, name, f.Verb)
		}
		verbs[f.Verb] = name
		fs, _ := r.flagSet(s, &Command{})
		for _, fd := range f.Fields {
			if err := checkField(fs, s, fd); err != nil {
				return nil, fmt.Errorf("issue form %s: field %q: %w", name, fd.Label, err)
			}
		}
	}
	return &FormSet{reg: r, forms: append([]Form(nil), forms...)}, nil
}

func checkField(fs *FlagSet, s *Spec, fd Field) error {
	if fd.ID == "" {
		return errors.New("needs an id naming the flag or argument it fills")
	}
	if f := fs.long[fd.ID]; f != nil {
		switch {
		case f.kind == switchFlag && (fd.Type != typeCheckboxes || len(fd.Options) != 1):
			return fmt.Errorf("--%s is a switch: use checkboxes with one option", f.Name)
		case f.kind != switchFlag && fd.Type == typeCheckboxes:
			return fmt.Errorf("--%s takes a value: checkboxes cannot give one", f.Name)
		case f.kind == valueFlag && (fd.Type == typeTextarea || fd.Multiple):
			return fmt.Errorf("--%s takes one value: use an input or a single-choice dropdown", f.Name)
		}
		return nil
	}
	switch {
	case fd.Type == typeCheckboxes:
		return fmt.Errorf("/%s has no switch --%s", s.Name, fd.ID)
	case fd.ID == reasonID:
		if fd.Type != typeTextarea && fd.Type != typeInput {
			return errors.New("a reason is an input or a textarea")
		}
	case s.Bind == nil:
		return fmt.Errorf("/%s has no flag --%s and takes no arguments", s.Name, fd.ID)
	}
	return nil
}

// Forms returns the forms of the set.
func (s *FormSet) Forms() []Form { return append([]Form(nil), s.forms...) }

// ParseIssueForm reads an issue opened from one of the forms: the form is the one whose
// action/<verb> label the issue carries; each "### <label>" section of the body fills the
// field with that label; sections of no field are ignored. The Command is built by
// ParseLine from a synthesized line (Command.Line, e.g. "/scale 3 --service checkout
// --env prod"), so it is validated as a comment would be; the reason field goes to
// Command.Reason. Every problem found is returned in a *FormError naming the field.
// ErrNotForm means the issue is not a daytwo request.
func (s *FormSet) ParseIssueForm(labels []string, body string) (Command, error) {
	form, err := s.match(labels)
	if err != nil {
		return Command{}, err
	}
	fail := func(ps ...FormProblem) (Command, error) {
		return Command{}, &FormError{Form: form.Name, Problems: ps}
	}
	if len(body) > maxBodyLen {
		return fail(FormProblem{Message: fmt.Sprintf("the issue body is %d bytes long; the limit is %d", len(body), maxBodyLen)})
	}
	sections, problems := formSections(form, body)
	if len(sections) == 0 && len(problems) == 0 {
		heads := make([]string, len(form.Fields))
		for i, f := range form.Fields {
			heads[i] = "### " + f.Label
		}
		return fail(FormProblem{Message: fmt.Sprintf("the issue body has none of the sections of the %q form (%s); "+
			"it may have been edited: restore them, or open a new issue from the form", form.Name, strings.Join(heads, ", "))})
	}

	spec := s.reg.specs[form.Verb]
	scratch := &Command{}
	fs, _ := s.reg.flagSet(spec, scratch)
	var (
		flagWords, argWords []string
		argField            []Field // field of each positional word
		reason              string
	)
	for _, fd := range form.Fields {
		raw, present := sections[fd.Label]
		values, perr := fieldValues(fd, raw, present)
		if perr != "" {
			problems = append(problems, FormProblem{fd.Label, perr})
			continue
		}
		if len(values) == 0 {
			if fd.Required {
				msg := "is required but has no value"
				if !present {
					msg = "is required but its section is missing"
				}
				problems = append(problems, FormProblem{fd.Label, msg})
			}
			continue
		}
		switch f := fs.long[fd.ID]; {
		case f != nil && f.kind == switchFlag:
			flagWords = append(flagWords, "--"+f.Name)
		case f != nil:
			v := strings.Join(values, "\n")
			if f.kind == textFlag {
				v = strings.Join(strings.Fields(v), " ")
			}
			if err := f.set(v); err != nil {
				problems = append(problems, FormProblem{fd.Label, sentence(err.Error())})
				continue
			}
			flagWords = append(flagWords, "--"+f.Name, v)
		case fd.ID == reasonID:
			reason = values[0]
			if err := visibleReason(reason); err != nil {
				problems = append(problems, FormProblem{fd.Label, sentence(err.Error())})
			}
		default:
			for _, v := range values {
				argWords = append(argWords, v)
				argField = append(argField, fd)
			}
		}
	}
	if len(problems) > 0 {
		return fail(problems...)
	}

	// Arguments first reads best; an argument that looks like a flag needs "--" before it.
	var words []string
	needSep := false
	for _, w := range argWords {
		needSep = needSep || looksLikeFlag(w) || w == "--"
	}
	if needSep {
		words = append(append(append(words, flagWords...), "--"), argWords...)
	} else {
		words = append(append(words, argWords...), flagWords...)
	}
	line := "/" + form.Verb
	if len(words) > 0 {
		line += " " + joinArgs(words)
	}
	c, err := s.reg.ParseLine(line)
	if err != nil {
		return fail(attribute(form, argField, err))
	}
	if c.Name != form.Verb {
		// Only /<verb> --help changes the verb, and forms never write --help.
		return fail(FormProblem{Message: fmt.Sprintf("the form asks for /%s, not /%s", c.Name, form.Verb)})
	}
	if reason != "" {
		c.Reason = reason
	}
	return c, nil
}

// match finds the form of an issue's labels.
func (s *FormSet) match(labels []string) (Form, error) {
	var found []Form
	for _, l := range labels {
		l = strings.TrimSpace(l)
		if len(l) <= len(ActionLabelPrefix) || !strings.EqualFold(l[:len(ActionLabelPrefix)], ActionLabelPrefix) {
			continue
		}
		verb := strings.ToLower(l[len(ActionLabelPrefix):])
		for _, f := range s.forms {
			if f.Verb == verb && !containsForm(found, f) {
				found = append(found, f)
			}
		}
	}
	switch len(found) {
	case 0:
		return Form{}, ErrNotForm
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = ActionLabelPrefix + f.Verb
	}
	return Form{}, &FormError{Problems: []FormProblem{{Message: fmt.Sprintf(
		"the issue has several action labels (%s); keep the one of the form it was opened from", strings.Join(names, ", "))}}}
}

func containsForm(forms []Form, f Form) bool {
	for _, x := range forms {
		if x.Verb == f.Verb {
			return true
		}
	}
	return false
}

// attribute turns a ParseLine error into a problem of the field that caused it.
func attribute(form Form, argField []Field, err error) FormProblem {
	var ue *UsageError
	if !errors.As(err, &ue) {
		return FormProblem{Message: sentence(err.Error())}
	}
	msg := sentence(ue.Err.Error())
	if ue.Flag != "" {
		for _, f := range form.Fields {
			if f.ID == ue.Flag {
				return FormProblem{f.Label, msg}
			}
		}
	}
	if ue.Arg >= 0 && len(argField) > 0 {
		return FormProblem{argField[min(ue.Arg, len(argField)-1)].Label, msg}
	}
	if ue.Arg >= 0 {
		// The command wanted an argument no field gave: name the positional fields.
		var ls []string
		for _, f := range form.Fields {
			if f.Type != typeCheckboxes && f.ID != reasonID && !isCommonFlag(f.ID) {
				ls = append(ls, f.Label)
			}
		}
		if len(ls) > 0 {
			return FormProblem{strings.Join(ls, ", "), msg}
		}
	}
	return FormProblem{Message: msg}
}

var headingRE = regexp.MustCompile(`^ {0,3}###[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)

// formSections splits a submitted body into the sections of the form's fields, keyed by
// the field's label. Headings inside fenced code blocks are content. Sections whose
// heading is no field's label are ignored.
func formSections(form Form, body string) (map[string]string, []FormProblem) {
	byLabel := map[string]string{}
	for _, f := range form.Fields {
		byLabel[foldLabel(f.Label)] = f.Label
	}
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	sections := map[string]string{}
	var (
		problems  []FormProblem
		cur       string // label of the open section; "" when ignoring
		buf       []string
		fenceChar byte
		fenceLen  int
	)
	end := func() {
		if cur != "" {
			sections[cur] = strings.Join(buf, "\n")
		}
		buf = buf[:0]
	}
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimLeft(line, " \t")
		if fenceLen > 0 {
			if closesFence(t, fenceChar, fenceLen) {
				fenceLen = 0
			}
			buf = append(buf, line)
			continue
		}
		if n := opensFence(t); n > 0 {
			fenceChar, fenceLen = t[0], n
			buf = append(buf, line)
			continue
		}
		m := headingRE.FindStringSubmatch(line)
		if m == nil {
			buf = append(buf, line)
			continue
		}
		end()
		label, ok := byLabel[foldLabel(m[1])]
		if !ok {
			cur = ""
			continue
		}
		if _, dup := sections[label]; dup {
			problems = append(problems, FormProblem{label, "the section appears twice; keep one"})
		}
		cur = label
	}
	end()
	return sections, problems
}

func foldLabel(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

var checkboxRE = regexp.MustCompile(`^[-*+][ \t]+\[([ xX])\][ \t]+(.*?)[ \t]*$`)

// fieldValues reads the values of one section: none when it is empty (or "_No response_",
// or "None" for a dropdown), one for an input or a single-choice dropdown, the chosen
// options of a multiple dropdown, the checked options of checkboxes, and for a textarea
// its text (one value per non-empty line when it fills positional arguments, as the caller
// decides). The second result is a problem, or "".
func fieldValues(f Field, raw string, present bool) ([]string, string) {
	if !present {
		return nil, ""
	}
	text := strings.TrimSpace(raw)
	if text == "" || text == "_No response_" || (f.Type == typeDropdown && text == "None") {
		return nil, ""
	}
	switch f.Type {
	case typeInput:
		if strings.Contains(text, "\n") {
			return nil, "expected a single line"
		}
		return []string{text}, ""
	case typeDropdown:
		if strings.Contains(text, "\n") {
			return nil, "expected one line with the chosen option"
		}
		chosen := []string{text}
		if f.Multiple {
			chosen = strings.Split(text, ", ")
		}
		var out []string
		for _, c := range chosen {
			o, ok := option(f.Options, c)
			if !ok {
				return nil, fmt.Sprintf("%q is not one of: %s", c, strings.Join(f.Options, ", "))
			}
			out = append(out, o)
		}
		if !f.Multiple && len(out) > 1 {
			return nil, "expected one option"
		}
		return out, ""
	case typeCheckboxes:
		var out []string
		for _, l := range strings.Split(text, "\n") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			m := checkboxRE.FindStringSubmatch(strings.TrimSpace(l))
			if m == nil {
				return nil, fmt.Sprintf("%q is not a checkbox line like \"- [X] %s\"", clip.Bytes(strings.TrimSpace(l), maxQuotedLine, "…"), f.Options[0])
			}
			o, ok := option(f.Options, m[2])
			if !ok {
				return nil, fmt.Sprintf("%q is not one of the checkboxes of the form", clip.Bytes(m[2], maxQuotedLine, "…"))
			}
			if m[1] != " " {
				out = append(out, o)
			}
		}
		return out, ""
	}
	// textarea
	text = unfence(text)
	if f.ID == reasonID {
		if text == "" {
			return nil, ""
		}
		return []string{text}, ""
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, ""
}

// option finds s among the options, ignoring case and surrounding space.
func option(options []string, s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, o := range options {
		if strings.EqualFold(strings.TrimSpace(o), s) {
			return o, true
		}
	}
	return "", false
}

// unfence returns the content of text when it is one fenced code block, as GitHub writes a
// textarea with render:, and text otherwise.
func unfence(text string) string {
	lines := strings.Split(text, "\n")
	if len(lines) < 2 {
		return text
	}
	first, last := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[len(lines)-1])
	n := opensFence(first)
	if n == 0 || !closesFence(last, first[0], n) {
		return text
	}
	return strings.TrimSpace(strings.Join(lines[1:len(lines)-1], "\n"))
}

// visibleReason allows line breaks and tabs in a free-text reason, but no other control or
// invisible characters.
func visibleReason(s string) error {
	return visibleText(strings.NewReplacer("\n", " ", "\t", " ").Replace(s))
}

// opensFence returns the length of the fence t opens, or 0: three or more backticks not
// followed by another backtick on the line, or three or more tildes.
func opensFence(t string) int {
	if t == "" || (t[0] != '`' && t[0] != '~') {
		return 0
	}
	n := len(t) - len(strings.TrimLeft(t, t[:1]))
	if n < 3 || (t[0] == '`' && strings.Contains(t[n:], "`")) {
		return 0
	}
	return n
}

func closesFence(t string, c byte, n int) bool {
	run := len(t) - len(strings.TrimLeft(t, string(c)))
	return run >= n && strings.TrimSpace(t[run:]) == ""
}
