package command

import (
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// Synopsis is the one-line form of a command with its own flags: "/promote <env> [--from <env>]".
// The flags every command has are left out.
func (r *Registry) Synopsis(name string) string {
	s, ok := r.specs[name]
	if !ok {
		return ""
	}
	parts := []string{"/" + s.Name}
	if s.Args != "" {
		parts = append(parts, s.Args)
	}
	for _, f := range r.Flags(name) {
		if isCommonFlag(f.Name) {
			continue
		}
		if f.Required {
			parts = append(parts, "--"+f.Name+" "+f.Arg)
		} else if f.Arg == "" {
			parts = append(parts, "[--"+f.Name+"]")
		} else {
			parts = append(parts, "[--"+f.Name+" "+f.Arg+"]")
		}
	}
	return strings.Join(parts, " ")
}

func isCommonFlag(name string) bool {
	switch name {
	case FlagService, FlagEnv, FlagDryRun, FlagBreakGlass:
		return true
	}
	return false
}

// Usage is the plain-text usage of a command, for replies to a line that could not be
// parsed: synopsis, summary, every flag and the examples.
func (r *Registry) Usage(name string) string {
	s, ok := r.specs[name]
	if !ok {
		return ""
	}
	var b strings.Builder
	flags := r.Flags(name)
	if len(flags) == 0 {
		fmt.Fprintf(&b, "%s\n\n%s.\n", r.Synopsis(name), s.Summary)
	} else {
		fmt.Fprintf(&b, "%s [flags]\n\n%s.\n", r.Synopsis(name), s.Summary)
	}
	cols := make([]string, len(flags))
	width := 0
	for i, f := range flags {
		cols[i] = flagColumn(f)
		width = max(width, len(cols[i]))
	}
	if len(flags) > 0 {
		b.WriteString("\nFlags:\n")
	}
	for i, f := range flags {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, cols[i], f.Usage)
	}
	if len(s.Examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, ex := range s.Examples {
			fmt.Fprintf(&b, "  %s\n", ex.Line)
		}
	}
	return b.String()
}

func flagColumn(f Flag) string {
	col := "    --" + f.Name
	if f.Short != "" {
		col = "-" + f.Short + ", --" + f.Name
	}
	if f.Arg != "" {
		col += " " + f.Arg
	}
	return col
}

// Help is the markdown answer to /help: with an empty topic, a table of every command,
// the flags they share and examples; with a command name, that command's full usage. An
// unknown topic gets the overview after a line saying so. Everything comes from the Specs.
func (r *Registry) Help(topic string) string { return r.RenderHelp(markdown.GitHub, topic) }

// RenderHelp is Help written with rd, such as markdown.Plain for a terminal.
func (r *Registry) RenderHelp(rd markdown.Renderer, topic string) string {
	topic = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(topic), "/"))
	if topic == "" {
		return r.overview(rd)
	}
	if _, ok := r.specs[topic]; ok {
		return r.commandHelp(rd, topic)
	}
	note := fmt.Sprintf("There is no command %s.", rd.Code("/"+topic))
	if s := Suggest(topic, r.Names()); s != "" {
		note = fmt.Sprintf("There is no command %s; did you mean %s?", rd.Code("/"+topic), rd.Code("/"+s))
	}
	return note + "\n\n" + r.overview(rd)
}

func (r *Registry) overview(rd markdown.Renderer) string {
	var b strings.Builder
	b.WriteString(rd.Heading(2, "daytwo commands") + "\n")
	var direct []string // commands acting outside Git
	for _, n := range r.Names() {
		if r.specs[n].External {
			direct = append(direct, rd.Code("/"+n))
		}
	}
	fmt.Fprintf(&b, "Write a command at the start of a line of a comment on an issue or a pull request, one command per line, "+
		"at most %d per comment. Lines in code blocks (fenced or indented), in inline code, in HTML comments and in quotes are ignored. "+
		"Commands that change something open a pull request against the GitOps repository", MaxCommands)
	switch len(direct) {
	case 0:
		b.WriteString(".\n\n")
	case 1:
		fmt.Fprintf(&b, ", except %s, which acts directly.\n\n", direct[0])
	default:
		fmt.Fprintf(&b, ", except %s, which act directly.\n\n", strings.Join(direct, ", "))
	}
	var rows [][]string
	for _, n := range r.Names() {
		s := r.specs[n]
		changes := "no"
		if s.Mutating {
			changes = "yes"
		}
		rows = append(rows, []string{rd.Code(r.Synopsis(n)), rd.Prose(s.Summary), changes})
	}
	b.WriteString(rd.Table([]string{"Command", "What it does", "Changes something"}, rows))
	common := r.commonFlags()
	var whole []string // commands on the whole repository take no target
	for _, n := range r.Names() {
		if r.specs[n].Repository {
			whole = append(whole, rd.Code("/"+n))
		}
	}
	b.WriteString("\n" + rd.Heading(3, "Flags of every command") + "\n")
	writeFlagTable(&b, rd, common.all)
	if len(whole) > 0 {
		verb := "acts on the whole GitOps repository and takes"
		if len(whole) > 1 {
			verb = "act on the whole GitOps repository and take"
		}
		fmt.Fprintf(&b, "\n%s %s neither of these, nor %s.\n", strings.Join(whole, ", "), verb, rd.Code("--break-glass"))
	}
	if len(common.mutating) > 0 {
		b.WriteString("\n" + rd.Heading(3, "Flags of every command that changes something") + "\n")
		writeFlagTable(&b, rd, common.mutating)
	}
	b.WriteString("\n" + rd.Heading(3, "Examples") + "\n")
	var lines []string
	for _, n := range r.Names() {
		if ex := r.specs[n].Examples; len(ex) > 0 {
			lines = append(lines, ex[0].Line)
		}
	}
	b.WriteString(rd.Fence("", strings.Join(lines, "\n")))
	b.WriteString("\nWrite " + rd.Code("/help <command>") + " (or " + rd.Code("/<command> --help") + ") for the details of one command.\n")
	return b.String()
}

type commonFlagSets struct{ all, mutating []Flag }

// commonFlags reads the shared flags from a flag set built like any command's, so the help
// cannot drift from the parser.
func (r *Registry) commonFlags() commonFlagSets {
	fs, _ := r.flagSet(&Spec{Mutating: true}, &Command{})
	var c commonFlagSets
	for _, f := range fs.Flags() {
		if f.Name == FlagDryRun || f.Name == FlagBreakGlass {
			c.mutating = append(c.mutating, f)
		} else {
			c.all = append(c.all, f)
		}
	}
	return c
}

func (r *Registry) commandHelp(rd markdown.Renderer, name string) string {
	s := r.specs[name]
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\n%s.", rd.Heading(2, "/"+s.Name), rd.Code(r.Synopsis(name)), rd.Prose(s.Summary))
	switch {
	case s.External:
		b.WriteString(" Acts directly, without a pull request; add " + rd.Code("--dry-run") + " to check it without acting.")
	case s.Mutating:
		b.WriteString(" Opens a pull request; add " + rd.Code("--dry-run") + " to see the change without one.")
	}
	b.WriteString("\n\n")
	if s.Description != "" {
		b.WriteString(rd.Prose(s.Description) + "\n\n")
	}
	if flags := r.Flags(name); len(flags) > 0 {
		b.WriteString(rd.Heading(3, "Flags") + "\n")
		writeFlagTable(&b, rd, flags)
	} else {
		b.WriteString("It takes no flags.\n")
	}
	if len(s.Examples) > 0 {
		b.WriteString("\n" + rd.Heading(3, "Examples") + "\n")
		rows := make([][]string, len(s.Examples))
		for i, ex := range s.Examples {
			rows[i] = []string{rd.Code(ex.Line), rd.Prose(ex.Text)}
		}
		b.WriteString(rd.Table([]string{"Example", "What it does"}, rows))
	}
	return b.String()
}

func writeFlagTable(b *strings.Builder, rd markdown.Renderer, flags []Flag) {
	rows := make([][]string, len(flags))
	for i, f := range flags {
		rows[i] = []string{rd.Code(strings.TrimSpace(flagColumn(f))), rd.Prose(f.Usage)}
	}
	b.WriteString(rd.Table([]string{"Flag", "Meaning"}, rows))
}

// text writes daytwo's own prose (a Spec's summary, description or flag usage), which may
// hold code spans, for GitHub. A person's text goes through markdown.Text instead.
func text(s string) string { return markdown.GitHub.Prose(s) }
