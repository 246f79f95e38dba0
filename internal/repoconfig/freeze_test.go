package repoconfig

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

var since = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// TestSetFreezeGolden edits testdata/freeze/<case>/in.yml and compares with out.yml.
func TestSetFreezeGolden(t *testing.T) {
	tests := []struct {
		dir    string
		env    string
		freeze *Freeze
	}{
		{"add-middle", "staging", &Freeze{Reason: "release week", By: "alice", Since: since}},
		{"add-last-env", "prod", &Freeze{Reason: "incident #42: db failover", By: "bob", Since: since}},
		{"remove-with-comment", "prod", nil},
		{"replace", "prod", &Freeze{Reason: "new", By: "carol"}},
		{"flow-style", "prod", &Freeze{Reason: "flow", Since: since}},
		{"crlf", "prod", &Freeze{Reason: "windows", By: "dave", Since: since}},
		{"add-compact-seq", "prod", &Freeze{Reason: "yes", By: "erin", Since: since.Add(1500 * time.Millisecond)}},
		{"add-end-of-file", "prod", &Freeze{}},
		{"unfreeze-not-frozen", "prod", nil},
		{"block-reason", "prod", nil},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "freeze", tt.dir)
			in, err := os.ReadFile(filepath.Join(dir, "in.yml"))
			if err != nil {
				t.Fatal(err)
			}
			out, err := SetFreeze(in, tt.env, tt.freeze)
			if err != nil {
				t.Fatalf("SetFreeze: %v", err)
			}
			golden := filepath.Join(dir, "out.yml")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("SetFreeze(%s) =\n%s\nwant\n%s", tt.env, out, want)
			}
			// The result loads and says what was asked.
			c, err := Load(out, commands)
			if err != nil {
				t.Fatalf("result does not load: %v", err)
			}
			f, frozen := c.Frozen(tt.env)
			if frozen != (tt.freeze != nil) {
				t.Fatalf("frozen = %v after SetFreeze(%v)", frozen, tt.freeze)
			}
			if tt.freeze != nil && !reflect.DeepEqual(f, tt.freeze) {
				t.Errorf("freeze reads back as %+v, want %+v", f, tt.freeze)
			}
			// Freezing and then unfreezing the original leaves it as it was, where the
			// file is edited in place.
			if tt.freeze != nil && !strings.Contains(tt.dir, "flow") && !strings.Contains(tt.dir, "replace") {
				back, err := SetFreeze(out, tt.env, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(back, in) {
					t.Errorf("unfreezing again gives\n%s\nwant the original\n%s", back, in)
				}
			}
		})
	}
}

func TestSetFreezeErrors(t *testing.T) {
	tests := []struct {
		name, src, env, want string
	}{
		{"unknown env", "version: 1\nenvironments:\n  - name: dev\n", "prod", `.github/daytwo.yml has no environment "prod"`},
		{"no environments", "version: 1\n", "prod", ".github/daytwo.yml has no environments list"},
		{"environments not a list", "version: 1\nenvironments: {dev: {}}\n", "dev", ".github/daytwo.yml has no environments list"},
		{"not a mapping", "- a\n", "dev", ".github/daytwo.yml is not a mapping"},
		{"not YAML", "version: [\n", "dev", "parsing .github/daytwo.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SetFreeze([]byte(tt.src), tt.env, &Freeze{Reason: "x"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSetFreezeQuoting: reasons that look like other YAML types stay text.
func TestSetFreezeQuoting(t *testing.T) {
	src := []byte("version: 1\nenvironments:\n  - name: prod\nservices:\n  - name: web\n")
	for _, reason := range []string{"true", "123", "null", "- a", "a: b", "#hash", "multi\nline", `"quoted"`, "  padded  ", "ünïcode ✓"} {
		out, err := SetFreeze(src, "prod", &Freeze{Reason: reason})
		if err != nil {
			t.Fatalf("%q: %v", reason, err)
		}
		c, err := Load(out, commands)
		if err != nil {
			t.Fatalf("%q: %v\n%s", reason, err, out)
		}
		// Load trims the surrounding white space of a reason; the rest reads back exactly.
		if f, _ := c.Frozen("prod"); f == nil || f.Reason != strings.TrimSpace(reason) {
			t.Errorf("reason %q reads back as %+v\n%s", reason, f, out)
		}
	}
}
