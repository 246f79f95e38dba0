package command

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1m": time.Minute, "30m": 30 * time.Minute, "2h": 2 * time.Hour, "1h30m": 90 * time.Minute,
		"3d": 72 * time.Hour, "90d": 90 * 24 * time.Hour, "2160h": 90 * 24 * time.Hour,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"59s": "out of range", "91d": "out of range", "2161h": "out of range", "0": "must be positive",
		"-1h": "must be positive", "0d": "must be positive", "-2d": "must be positive", "soon": "not a duration",
		"1w": "not a duration", "1.5d": "not a duration", "+3d": "not a duration", "99999999999d": "out of range", "": "not a duration",
	} {
		_, err := ParseDuration(in)
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "from 1m to 90d") {
			t.Errorf("ParseDuration(%q) = %v; want an error saying %q and the range", in, err, msg)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute: "1m", 2 * time.Hour: "2h", 90 * time.Minute: "1h30m", 72 * time.Hour: "3d", 26 * time.Hour: "1d2h",
		90 * time.Second: "1m30s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if d%time.Minute == 0 {
			if back, err := ParseDuration(FormatDuration(d)); d >= MinFor && (err != nil || back != d) {
				t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", d, back, err)
			}
		}
	}
}

// --for is on exactly the five commands whose change can be undone later.
func TestForFlag(t *testing.T) {
	r := All()
	for _, n := range r.Names() {
		_, has := func() (Flag, bool) {
			for _, f := range r.Flags(n) {
				if f.Name == "for" {
					return f, true
				}
			}
			return Flag{}, false
		}()
		want := n == "scale" || n == "suspend" || n == "config" || n == "set-image" || n == "freeze"
		if has != want {
			t.Errorf("/%s has --for: %v, want %v", n, has, want)
		}
	}
	for line, want := range map[string]time.Duration{
		"/scale 5 --for 2h --env staging":              2 * time.Hour,
		"/suspend --for=3d -e staging":                 72 * time.Hour,
		"/config set A=b --for 30m":                    30 * time.Minute,
		"/set-image v2 --for 1h30m":                    90 * time.Minute,
		"/freeze prod --reason deploy window --for 2h": 2 * time.Hour,
		"/freeze prod --for 2h --reason deploy window": 2 * time.Hour,
		"/scale 5 --for 2h --dry-run --env staging":    2 * time.Hour,
		"/scale 5 --env staging":                       0,
	} {
		c, err := r.ParseLine(line)
		if err != nil || c.For != want {
			t.Errorf("%s: For %v, err %v; want %v", line, c.For, err, want)
		}
	}
	for line, msg := range map[string]string{
		"/scale 5 --for 30s":         "--for: 30s is out of range; give a duration from 1m to 90d",
		"/scale 5 --for 100d":        "--for: 100d is out of range",
		"/scale 5 --for 0":           "--for: the duration must be positive",
		"/scale 5 --for":             "--for needs a value",
		"/restart --for 2h":          "--for time-boxes only /scale, /suspend, /config set, /set-image and /freeze; /restart cannot be time-boxed",
		"/promote prod --for=2h":     "/promote cannot be time-boxed",
		"/config unset A --for 1h":   "--for time-boxes /config set only",
		"/scale 5 --for 1h --for 2h": "--for is given twice",
	} {
		_, err := r.ParseLine(line)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v; want %q", line, err, msg)
		}
	}
}

func TestExtend(t *testing.T) {
	r := All()
	c, err := r.ParseLine("/extend 1h")
	if err != nil || c.Name != "extend" || c.For != time.Hour {
		t.Fatalf("/extend 1h: %+v %v", c, err)
	}
	if c, err := r.ParseLine("/extend 2d"); err != nil || c.For != 48*time.Hour {
		t.Errorf("/extend 2d: %+v %v", c, err)
	}
	for line, msg := range map[string]string{
		"/extend":              "give how much longer: /extend <duration>",
		"/extend 1h 2h":        "give how much longer",
		"/extend forever":      `"forever" is not a duration`,
		"/extend 30s":          "30s is out of range",
		"/extend 1h --dry-run": "unknown flag --dry-run",
	} {
		if _, err := r.ParseLine(line); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v; want %q", line, err, msg)
		}
	}
}
