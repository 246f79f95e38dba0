package command

import (
	"fmt"
	"sort"
	"strings"
)

// FlagSet is the strict flag parser of one command. Flags are written --name, --name=value
// or --name value, and -x / -x value for those with a short name; they may come before,
// between or after the positional arguments, and "--" ends them. Unknown flags, missing
// values and flags given twice are errors.
type FlagSet struct {
	flags []*flagDef
	long  map[string]*flagDef
	short map[string]*flagDef
	err   error // first definition error, reported by Register
}

// Flag describes one flag, for help and usage text.
type Flag struct {
	Name  string // long name, without dashes
	Short string // one-letter short name, or ""
	Arg   string // placeholder of the value ("<env>"), or "" for a switch
	Usage string // one line
	// Required: the command refuses to run without it (its Bind says so); the synopsis
	// shows it without brackets.
	Required bool
}

type flagKind int

const (
	switchFlag flagKind = iota // no value
	valueFlag                  // one word
	textFlag                   // the words up to the next flag
)

type flagDef struct {
	Flag
	kind    flagKind
	set     func(string) error
	setBool func()
}

func newFlagSet() *FlagSet {
	return &FlagSet{long: map[string]*flagDef{}, short: map[string]*flagDef{}}
}

// Bool defines a switch (--name, or --name=true|false) that sets *p.
func (fs *FlagSet) Bool(name, short, usage string, p *bool) {
	fs.add(&flagDef{Flag: Flag{Name: name, Short: short, Usage: usage}, kind: switchFlag, setBool: func() { *p = true }})
}

// Func defines a flag taking one word; set validates and stores it.
func (fs *FlagSet) Func(name, short, arg, usage string, set func(value string) error) {
	fs.add(&flagDef{Flag: Flag{Name: name, Short: short, Arg: arg, Usage: usage}, kind: valueFlag, set: set})
}

// Name defines a flag taking a service, environment or container name (see ValidateName);
// kind names it in messages.
func (fs *FlagSet) Name(name, short, arg, usage, kind string, p *string) {
	fs.Func(name, short, arg, usage, func(v string) error {
		if err := ValidateName(kind, v); err != nil {
			return err
		}
		*p = v
		return nil
	})
}

// Text defines a flag whose value is free text: the words after it up to the next flag,
// joined by single spaces (quote the text to keep other spacing or words starting with -).
func (fs *FlagSet) Text(name, short, arg, usage string, p *string) {
	fs.add(&flagDef{Flag: Flag{Name: name, Short: short, Arg: arg, Usage: usage}, kind: textFlag, set: func(v string) error {
		if err := visibleText(v); err != nil {
			return fmt.Errorf("the text %w", err)
		}
		*p = v
		return nil
	}})
}

// Require marks the flag name as one the command needs, for its synopsis.
func (fs *FlagSet) Require(name string) {
	if f := fs.long[name]; f != nil {
		f.Required = true
	}
}

// Flags lists the defined flags in the order they were defined.
func (fs *FlagSet) Flags() []Flag {
	out := make([]Flag, len(fs.flags))
	for i, f := range fs.flags {
		out[i] = f.Flag
	}
	return out
}

// Lookup returns the flag with the long name name.
func (fs *FlagSet) Lookup(name string) (Flag, bool) {
	f, ok := fs.long[name]
	if !ok {
		return Flag{}, false
	}
	return f.Flag, true
}

func (fs *FlagSet) add(f *flagDef) {
	if fs.err != nil {
		return
	}
	switch {
	case !verbRE.MatchString(f.Name):
		fs.err = fmt.Errorf("flag name %q must be lower-case letters, digits and -", f.Name)
	case fs.long[f.Name] != nil:
		fs.err = fmt.Errorf("flag --%s is defined twice", f.Name)
	case f.Short != "" && (len(f.Short) != 1 || !isLetter(f.Short[0])):
		fs.err = fmt.Errorf("short flag %q of --%s must be one letter", f.Short, f.Name)
	case f.Short != "" && fs.short[f.Short] != nil:
		fs.err = fmt.Errorf("short flag -%s is defined twice", f.Short)
	case f.Usage == "":
		fs.err = fmt.Errorf("flag --%s has no usage text", f.Name)
	}
	if fs.err != nil {
		return
	}
	fs.flags = append(fs.flags, f)
	fs.long[f.Name] = f
	if f.Short != "" {
		fs.short[f.Short] = f
	}
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// flagError is a parse error caused by one flag.
type flagError struct {
	flag string // long name; "" for an unknown flag
	err  error
}

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// looksLikeFlag reports whether w is written as a flag rather than a value: "-x..." or
// "--x...", but not "-" or a negative number.
func looksLikeFlag(w string) bool {
	if len(w) < 2 || w[0] != '-' {
		return false
	}
	return w[1] == '-' || !(w[1] >= '0' && w[1] <= '9')
}

// parse applies the flags in args and returns the positional arguments in order.
func (fs *FlagSet) parse(args []string) ([]string, error) {
	var pos []string
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		w := args[i]
		if w == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if !looksLikeFlag(w) {
			pos = append(pos, w)
			continue
		}
		f, value, hasValue, err := fs.find(w)
		if err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, &flagError{f.Name, fmt.Errorf("--%s is given twice", f.Name)}
		}
		seen[f.Name] = true
		switch f.kind {
		case switchFlag:
			if hasValue {
				switch strings.ToLower(value) {
				case "true":
				case "false":
					continue
				default:
					return nil, &flagError{f.Name, fmt.Errorf("--%s is a switch and takes no value (got %q)", f.Name, value)}
				}
			}
			f.setBool()
			continue
		case valueFlag:
			if !hasValue {
				if i+1 >= len(args) || looksLikeFlag(args[i+1]) {
					return nil, &flagError{f.Name, fmt.Errorf("--%s needs a value: --%s %s", f.Name, f.Name, f.Arg)}
				}
				i++
				value = args[i]
			}
		case textFlag:
			words := []string{}
			if hasValue {
				words = append(words, value)
			}
			for i+1 < len(args) && !looksLikeFlag(args[i+1]) && args[i+1] != "--" {
				i++
				words = append(words, args[i])
			}
			value = strings.TrimSpace(strings.Join(words, " "))
		}
		if value == "" {
			return nil, &flagError{f.Name, fmt.Errorf("--%s needs a value: --%s %s", f.Name, f.Name, f.Arg)}
		}
		if err := f.set(value); err != nil {
			return nil, &flagError{f.Name, err}
		}
	}
	return pos, nil
}

// find resolves a word written as a flag to its definition and inline value.
func (fs *FlagSet) find(w string) (f *flagDef, value string, hasValue bool, err error) {
	if strings.HasPrefix(w, "--") {
		name, v, has := strings.Cut(w[2:], "=")
		if f := fs.long[name]; f != nil {
			return f, v, has, nil
		}
		return nil, "", false, fs.unknown("--"+name, name)
	}
	name, v, has := strings.Cut(w[1:], "=")
	if f := fs.short[name]; f != nil {
		return f, v, has, nil
	}
	if fs.long[name] != nil {
		return nil, "", false, &flagError{err: fmt.Errorf("unknown flag -%s; long flags take two dashes: --%s", name, name)}
	}
	if len(name) > 1 && fs.short[name[:1]] != nil && fs.short[name[:1]].kind != switchFlag {
		return nil, "", false, &flagError{err: fmt.Errorf("unknown flag -%s; write a space after the flag: -%s %s", name, name[:1], name[1:])}
	}
	return nil, "", false, fs.unknown("-"+name, name)
}

func (fs *FlagSet) unknown(written, name string) error {
	names := make([]string, 0, len(fs.flags))
	for _, f := range fs.flags {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	if s := Suggest(name, names); s != "" {
		return &flagError{err: fmt.Errorf("unknown flag %s; did you mean --%s?", written, s)}
	}
	return &flagError{err: fmt.Errorf("unknown flag %s", written)}
}
