package command

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds of a time-boxed change (--for) and of an extension (/extend).
const (
	MinFor = time.Minute
	MaxFor = 90 * 24 * time.Hour
)

// ParseDuration reads a duration as Go writes it (30m, 2h, 1h30m) or in whole days (3d,
// which Go's parser does not know), between MinFor and MaxFor.
func ParseDuration(s string) (time.Duration, error) {
	rangeText := "from 1m to 90d (e.g. 30m, 2h, 1h30m, 3d)"
	var d time.Duration
	days, rest, hasDays := strings.Cut(s, "d")
	if !hasDays {
		days, rest = "0", s
	}
	n, err := strconv.Atoi(days)
	if err != nil || s == "" || strings.HasPrefix(days, "+") || hasDays && strings.HasPrefix(days, "-") && rest != "" {
		return 0, fmt.Errorf("%q is not a duration; give one %s", s, rangeText)
	}
	if n > 1000 || n < -1000 {
		n = 1000 // out of range either way, without overflow
	}
	d = time.Duration(n) * 24 * time.Hour
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration; give one %s", s, rangeText)
		}
		d += r
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("the duration must be positive, not %s; give one %s", s, rangeText)
	case d < MinFor || d > MaxFor:
		return 0, fmt.Errorf("%s is out of range; give a duration %s", s, rangeText)
	}
	return d, nil
}

// FormatDuration writes d the way ParseDuration reads it, shortest first: "2h",
// "1h30m", "3d", "1d2h".
func FormatDuration(d time.Duration) string {
	days := d / (24 * time.Hour)
	rest := d - days*24*time.Hour
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	if rest > 0 || days == 0 {
		s := rest.Round(time.Second).String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}

// forFlag defines --for on the commands whose change may be time-boxed.
func forFlag(fs *FlagSet, c *Command) {
	fs.Func("for", "", "<duration>", "time-box the change: once merged, restore what was there after this long (1m to 90d: 30m, 2h, 3d)", func(v string) error {
		d, err := ParseDuration(v)
		if err != nil {
			return fmt.Errorf("--for: %w", err)
		}
		c.For = d
		return nil
	})
}

// forField is the issue-form field of --for.
var forField = FormField{
	ID: "for", Type: "input", Label: "Restore after", Placeholder: "2h",
	Description: "Optional: time-box the change. Once it is merged, daytwo restores what was there before after this long (1m to 90d: 30m, 2h, 3d). Leave empty to keep the change.",
}

// withFor adds --for to a Spec's own flags.
func withFor(flags func(fs *FlagSet, c *Command)) func(fs *FlagSet, c *Command) {
	return func(fs *FlagSet, c *Command) {
		if flags != nil {
			flags(fs, c)
		}
		forFlag(fs, c)
	}
}

// extendSpec acts on the pending expiry of a time-boxed change, like /cancel: it is
// neither a change to plan nor read-only.
func extendSpec() Spec {
	return Spec{
		Name:    "extend",
		Args:    "<duration>",
		Summary: "Postpone the expiry of a time-boxed change asked for in this thread",
		Description: "On the thread of a change made with `--for`, moves its expiry later by <duration> (1m to 90d: " +
			"`30m`, `2h`, `3d`), before or after the merge; the status comment of this request records it, and the " +
			"change's status shows the new time. Whoever may ask for the time-boxed command in that environment may " +
			"extend it. `/cancel` drops a merged change's expiry and keeps the change.",
		Examples: []Example{{Line: "/extend 1h", Text: "restore what was there an hour later than planned"}},
		Bind: func(c *Command, args []string) error {
			if len(args) != 1 {
				return ArgErrorf(min(len(args), 1), "give how much longer: /extend <duration>, e.g. /extend 1h")
			}
			d, err := ParseDuration(args[0])
			if err != nil {
				return &ArgError{Index: 0, Err: err}
			}
			c.For = d
			return nil
		},
	}
}

// notTimeboxed explains an unknown --for: the command's change cannot be time-boxed.
func notTimeboxed(verb string, err error) error {
	if m := err.Error(); m == "unknown flag --for" || strings.HasPrefix(m, "unknown flag --for=") || strings.HasPrefix(m, "unknown flag --for;") {
		return fmt.Errorf("--for time-boxes only /scale, /suspend, /config set, /set-image and /freeze; /%s cannot be time-boxed", verb)
	}
	return err
}
