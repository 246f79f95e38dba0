package command

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Spec describes one command: the parser, the generated help and the issue forms all read
// it. Who may run a command is repository policy and is not part of the Spec.
type Spec struct {
	Name        string    // the verb, lower case, without the slash: "scale"
	Args        string    // synopsis of the positional arguments: "<n>", "[command]"; "" for none
	Summary     string    // one line, for the command table
	Description string    // a paragraph or more, for /help <command>
	Mutating    bool      // changes something: gets --dry-run (and --break-glass unless Repository)
	Examples    []Example // each must parse; checked by Register
	// Repository marks a command that acts on the GitOps repository as a whole (/init,
	// /new-service): it takes no --service, --env or --break-glass, and its issue form asks
	// for neither.
	Repository bool
	// External marks a mutating command that acts outside Git (it runs a workflow) instead
	// of opening a pull request; --dry-run then checks it without acting.
	External bool
	// Environment marks a command that acts on an environment as a whole (/freeze): an
	// environment is resolved for it, never a service.
	Environment bool
	// ReadOnly marks a command that changes nothing and only answers (/status, /help):
	// where an environment's requesters do not name it, read access suffices.
	ReadOnly bool
	// Question marks a command whose arguments are a question in words (/ask): a line whose
	// quotes do not pair up ("what's wrong?") is split at white space instead.
	Question bool
	// EnvironmentPolicy marks a command on the whole repository that adds to environments
	// (/new-service): each environment's requesters may name it, and the rule of every
	// environment it touches applies.
	EnvironmentPolicy bool
	// Form describes the command's GitHub issue form; nil for commands without one.
	Form *FormSpec

	// Flags defines the command's own flags on fs, storing into c. Optional. The flags
	// every command has (--service, --env, and --dry-run and --break-glass on mutating
	// commands) are defined by the registry.
	Flags func(fs *FlagSet, c *Command)
	// Bind stores the positional arguments into c, after all flags were applied. Errors
	// about one argument should be ArgErrors. Nil means the command takes no arguments.
	Bind func(c *Command, args []string) error
}

// Example is one example line of a Spec and what it does.
type Example struct {
	Line string // "/scale 3 --env prod"
	Text string // "run 3 replicas in prod"
}

// ArgError is an error about the positional argument at Index (0-based), so that a
// form field or a reply can point at it.
type ArgError struct {
	Index int
	Err   error
}

func (e *ArgError) Error() string { return e.Err.Error() }
func (e *ArgError) Unwrap() error { return e.Err }

// ArgErrorf returns an *ArgError for argument i.
func ArgErrorf(i int, format string, a ...any) error {
	return &ArgError{Index: i, Err: fmt.Errorf(format, a...)}
}

// UsageError is why a line could not be parsed as a command.
type UsageError struct {
	Command string // verb of the command; "" when the verb itself is unknown
	Flag    string // long name of the flag at fault, or ""
	Arg     int    // index of the positional argument at fault, or -1
	Err     error  // what is wrong
	Usage   string // usage text of the command, or ""
}

func (e *UsageError) Error() string {
	if e.Command == "" {
		return e.Err.Error()
	}
	return "/" + e.Command + ": " + e.Err.Error()
}

func (e *UsageError) Unwrap() error { return e.Err }

// Limits on what one comment may ask for.
const (
	MaxLineLen  = 4096 // bytes in one command line
	MaxCommands = 10   // commands in one comment
)

// Names of the flags the registry defines on every command.
const (
	FlagService    = "service"
	FlagEnv        = "env"
	FlagDryRun     = "dry-run"
	FlagBreakGlass = "break-glass"
)

var verbRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Registry holds the command Specs. Register everything before parsing: a Registry is
// safe for concurrent parsing but not for Register during parsing.
type Registry struct {
	specs map[string]*Spec
	order []string // names in registration order
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return &Registry{specs: map[string]*Spec{}} }

// Register adds a command. The name must be new and well formed, the Spec's flags must not
// clash with the common ones, and every example must parse as this command.
func (r *Registry) Register(s Spec) error {
	switch {
	case !verbRE.MatchString(s.Name):
		return fmt.Errorf("command name %q must be lower-case letters, digits and -", s.Name)
	case r.specs[s.Name] != nil:
		return fmt.Errorf("command /%s is registered twice", s.Name)
	case strings.TrimSpace(s.Summary) == "":
		return fmt.Errorf("command /%s has no summary", s.Name)
	case s.Bind == nil && s.Args != "":
		return fmt.Errorf("command /%s documents arguments %q but has no Bind", s.Name, s.Args)
	case s.External && (!s.Mutating || s.Repository):
		return fmt.Errorf("command /%s acts outside Git, so it changes something and acts for a service and an environment: set Mutating, not Repository", s.Name)
	case s.Repository && s.Environment:
		return fmt.Errorf("command /%s acts on the whole repository or on an environment, not both", s.Name)
	case s.ReadOnly && s.Mutating:
		return fmt.Errorf("command /%s cannot both change something and only read", s.Name)
	case s.EnvironmentPolicy && !s.Repository:
		return fmt.Errorf("command /%s: only a command on the whole repository needs EnvironmentPolicy; the others are governed by their environment already", s.Name)
	}
	if _, err := r.flagSet(&s, &Command{}); err != nil {
		return fmt.Errorf("command /%s: %w", s.Name, err)
	}
	r.specs[s.Name] = &s
	r.order = append(r.order, s.Name)
	for _, ex := range s.Examples {
		c, err := r.ParseLine(ex.Line)
		if err == nil && c.Name != s.Name {
			err = fmt.Errorf("it parses as /%s", c.Name)
		}
		if err != nil {
			delete(r.specs, s.Name)
			r.order = r.order[:len(r.order)-1]
			return fmt.Errorf("command /%s: example %q: %w", s.Name, ex.Line, err)
		}
	}
	return nil
}

// Lookup returns the Spec of a verb (lower case, without the slash).
func (r *Registry) Lookup(name string) (Spec, bool) {
	s, ok := r.specs[name]
	if !ok {
		return Spec{}, false
	}
	return *s, true
}

// Names lists the registered verbs in alphabetical order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.specs))
	for n := range r.specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Governed lists the commands an environment's policy governs, which its requesters may
// name: every command but those on the whole repository. Those that change something come
// first, then the others, the read-only ones last; each group in registration order.
func (r *Registry) Governed() []string {
	var changes, others, reads []string
	for _, n := range r.order {
		switch s := r.specs[n]; {
		case s.Repository && !s.EnvironmentPolicy:
		case s.Mutating:
			changes = append(changes, n)
		case s.ReadOnly:
			reads = append(reads, n)
		default:
			others = append(others, n)
		}
	}
	return slices.Concat(changes, others, reads)
}

// ReadOnly reports whether name is a registered command that only reads.
func (r *Registry) ReadOnly(name string) bool {
	s, ok := r.specs[name]
	return ok && s.ReadOnly
}

// Flags lists the flags of a command, common ones included, in the order of its usage text.
func (r *Registry) Flags(name string) []Flag {
	s, ok := r.specs[name]
	if !ok {
		return nil
	}
	fs, _ := r.flagSet(s, &Command{})
	return fs.Flags()
}

// flagSet builds the flags of s bound to c: the command's own first, then the common ones.
func (r *Registry) flagSet(s *Spec, c *Command) (*FlagSet, error) {
	fs := newFlagSet()
	if s.Flags != nil {
		s.Flags(fs, c)
	}
	if !s.Repository {
		fs.Name(FlagService, "s", "<name>", "the service to act on (default: from the thread's service/<name> label, the repository, or the only service)", "service", &c.Service)
		fs.Name(FlagEnv, "e", "<name>", "the environment to act on (default: from the thread's env/<name> label, or the only environment)", "environment", &c.Env)
	}
	if s.Mutating {
		usage := "show the change and its rendered diff without opening a pull request"
		if s.External {
			usage = "check it and say what it would do, without acting"
		}
		fs.Bool(FlagDryRun, "", usage, &c.DryRun)
	}
	if s.Mutating && !s.Repository {
		fs.Bool(FlagBreakGlass, "", "emergency: act during a freeze and without waiting for approval where the repository allows it; a review issue follows", &c.BreakGlass)
	}
	return fs, fs.err
}

// ParseLine parses one command line ("/scale 3 --env prod"). The verb is matched without
// regard to case; the rest is split like a shell would and checked strictly. Errors are
// *UsageError.
func (r *Registry) ParseLine(line string) (Command, error) {
	line = strings.TrimSpace(line)
	if len(line) > MaxLineLen {
		verb := strings.ToLower(strings.TrimPrefix(firstWord(line), "/"))
		e := &UsageError{Arg: -1, Err: fmt.Errorf("the line is %d bytes long; the limit is %d", len(line), MaxLineLen)}
		if s, ok := r.specs[verb]; ok {
			e.Command, e.Usage = verb, r.Usage(s.Name)
		}
		return Command{}, e
	}
	word := firstWord(line)
	bare := strings.TrimLeftFunc(word, isHidden) // reported below by visibleText
	if !strings.HasPrefix(bare, "/") {
		return Command{}, &UsageError{Arg: -1, Err: errors.New("a command starts with /")}
	}
	verb := strings.ToLower(strings.Map(dropHidden, bare[1:]))
	s, ok := r.specs[verb]
	if !ok {
		return Command{}, r.unknownVerb(verb)
	}
	fail := func(flag string, arg int, err error) (Command, error) {
		return Command{}, &UsageError{Command: s.Name, Flag: flag, Arg: arg, Err: err, Usage: r.Usage(s.Name)}
	}
	if err := visibleText(line); err != nil {
		return fail("", -1, fmt.Errorf("the line %w; retype it", err))
	}
	words, err := splitArgs(line[len(word):])
	if err != nil && s.Question {
		words, err = strings.Fields(line[len(word):]), nil
	}
	if err != nil {
		return fail("", -1, err)
	}
	c := Command{Name: s.Name, Line: line}
	if help, ok := r.specs["help"]; ok && s.Name != "help" && askedForHelp(words) {
		return Command{Name: help.Name, Line: line, Topic: s.Name}, nil
	}
	if s.Repository {
		if w := targetFlag(words); w != "" {
			return fail("", -1, fmt.Errorf("/%s acts on the whole GitOps repository and takes no %s", s.Name, w))
		}
	}
	fs, err := r.flagSet(s, &c)
	if err != nil {
		return fail("", -1, err)
	}
	args, err := fs.parse(words)
	if err != nil {
		var fe *flagError
		if errors.As(err, &fe) {
			return fail(fe.flag, -1, fe.err)
		}
		return fail("", -1, err)
	}
	if s.Bind == nil {
		if len(args) > 0 {
			return fail("", 0, r.unexpectedArgs(s, args))
		}
		return c, nil
	}
	if err := s.Bind(&c, args); err != nil {
		var ae *ArgError
		if errors.As(err, &ae) {
			return fail("", ae.Index, ae.Err)
		}
		return fail("", -1, err)
	}
	return c, nil
}

// askedForHelp reports whether the words hold --help or -h as a flag.
func askedForHelp(words []string) bool {
	for _, w := range words {
		if w == "--" {
			return false
		}
		if w == "--help" || w == "-h" {
			return true
		}
	}
	return false
}

func (r *Registry) unknownVerb(verb string) error {
	if s := Suggest(verb, r.Names()); s != "" {
		return &UsageError{Arg: -1, Err: fmt.Errorf("/%s is not a command; did you mean /%s?", verb, s), Usage: r.Usage(s)}
	}
	return &UsageError{Arg: -1, Err: fmt.Errorf("/%s is not a command; /help lists them", verb)}
}

// unexpectedArgs explains arguments given to a command that takes none, guessing at the
// flag that was meant.
func (r *Registry) unexpectedArgs(s *Spec, args []string) error {
	a := args[0]
	if ValidateName("environment", a) == nil && !s.Repository {
		return fmt.Errorf("/%s takes no arguments, but got %q; to name an environment write --env %s (or --service %s for a service)", s.Name, a, a, a)
	}
	return fmt.Errorf("/%s takes no arguments, but got %q", s.Name, a)
}

// targetFlag is the first word naming a service or an environment (--service, -e …),
// or "".
func targetFlag(words []string) string {
	for _, w := range words {
		if w == "--" {
			return ""
		}
		name, _, _ := strings.Cut(w, "=")
		switch name {
		case "--" + FlagService, "-s", "--" + FlagEnv, "-e":
			return name
		}
	}
	return ""
}

// firstWord is s up to its first white space.
func firstWord(s string) string {
	if i := strings.IndexFunc(s, isSpace); i >= 0 {
		return s[:i]
	}
	return s
}

// dropHidden is a strings.Map function removing invisible and control characters.
func dropHidden(r rune) rune {
	if isHidden(r) {
		return -1
	}
	return r
}
