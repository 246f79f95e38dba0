package codeowners

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestFor(t *testing.T) {
	const file = `# Global owners
*                       @acme/platform admin@acme.example

# Each environment has its owners; the last matching rule wins.
/overlays/prod/         @acme/sre @Alice
/overlays/staging/      @bob
/overlays/staging/generated/
apps/**/values.yaml     @carol @alice    # inline comment
docs/my\ notes.md       @dave
`
	o, err := Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.rules) != 6 {
		t.Errorf("read %d rules, want 6", len(o.rules))
	}
	for _, tc := range []struct {
		name  string
		paths []string
		want  []string
	}{
		{"catch-all, e-mail dropped", []string{"README.md"}, []string{"acme/platform"}},
		{"later rule wins over the catch-all", []string{"overlays/prod/kustomization.yaml"}, []string{"acme/sre", "Alice"}},
		{"leading slash is tolerated", []string{"/overlays/prod/kustomization.yaml"}, []string{"acme/sre", "Alice"}},
		{"unclean path is cleaned", []string{"overlays/./prod//patch.yaml"}, []string{"acme/sre", "Alice"}},
		{"rule without owners leaves the path unowned", []string{"overlays/staging/generated/all.yaml"}, nil},
		{"its parent directory keeps its owner", []string{"overlays/staging/kustomization.yaml"}, []string{"bob"}},
		{"double star in the middle", []string{"apps/web/chart/values.yaml"}, []string{"carol", "alice"}},
		{"escaped space in a pattern", []string{"docs/my notes.md"}, []string{"dave"}},
		{
			"union in first-seen order, duplicates dropped regardless of case",
			[]string{"overlays/prod/a.yaml", "apps/x/values.yaml", "overlays/prod/b.yaml", "README.md"},
			[]string{"acme/sre", "Alice", "carol", "acme/platform"},
		},
		{"unowned and owned together", []string{"overlays/staging/generated/x", "overlays/staging/y"}, []string{"bob"}},
		{"no paths", nil, nil},
		{"empty path is ignored", []string{""}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := o.For(tc.paths...); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("For(%q) = %q, want %q", tc.paths, got, tc.want)
			}
		})
	}
}

func TestParseSkipsWhatGitHubSkips(t *testing.T) {
	file := strings.Join([]string{
		"\ufeff* @everyone",                 // 1: a byte order mark is not part of the pattern
		"!keep.txt @nobody",                 // 2: negation is not supported
		"[ab].txt @nobody",                  // 3: character classes are not supported
		"lib/ @not an owner",                // 4: "an" is not an owner
		"/overlays/ @acme/sre\r",            // 5: CRLF line ending
		"foo/***/bar @nobody",               // 6: three asterisks
		"   ",                               // 7: blank
		"   # indented comment",             // 8
		"/overlays/dev/ @dev-team_1",        // 9
		"/ @root",                           // 10: the root is no file
		"/docs/ @writers ops@corp.internal", // 11: a long top-level domain
	}, "\n")
	o, err := Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, s := range o.Skipped() {
		lines = append(lines, s.Line)
		if !strings.HasPrefix(s.Error(), "CODEOWNERS line ") || s.Err == nil {
			t.Errorf("skipped line error %q lacks its cause", s.Error())
		}
	}
	if want := []int{2, 3, 4, 6, 10}; !reflect.DeepEqual(lines, want) {
		t.Errorf("skipped lines %v, want %v (%v)", lines, want, o.Skipped())
	}
	var invalidOwner error
	for _, s := range o.Skipped() {
		if s.Line == 4 {
			invalidOwner = s
		}
	}
	if !strings.Contains(invalidOwner.Error(), "invalid owner format 'an'") {
		t.Errorf("line 4 reason = %v", invalidOwner)
	}
	for path, want := range map[string][]string{
		"x.txt":                 {"everyone"},
		"keep.txt":              {"everyone"},
		"a.txt":                 {"everyone"},
		"lib/x.go":              {"everyone"},
		"overlays/prod/k.yaml":  {"acme/sre"},
		"overlays/dev/k.yaml":   {"dev-team_1"},
		"docs/guide.md":         {"writers"},
		"other/overlays/k.yaml": {"everyone"},
	} {
		if got := o.For(path); !reflect.DeepEqual(got, want) {
			t.Errorf("For(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	big := []byte(strings.Repeat("# padding\n", MaxSize/10+1))
	if _, err := Parse(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse(%d bytes) error = %v, want ErrTooLarge", len(big), err)
	}

	long := "/a/ " + strings.Repeat("@someone ", maxLine/9+1)
	o, err := Parse([]byte(long + "\n/b/ @bee\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := o.Skipped(); len(s) != 1 || s[0].Line != 1 {
		t.Errorf("a line over the limit is not the one skipped: %v", s)
	}
	if got := o.For("b/x"); !reflect.DeepEqual(got, []string{"bee"}) {
		t.Errorf("rules after an overlong line are lost: For(b/x) = %q", got)
	}

	o, err = Parse([]byte("/a/ @x\xff\n/b/ @bee\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := o.Skipped(); len(s) != 1 || !strings.Contains(s[0].Error(), "UTF-8") {
		t.Errorf("invalid UTF-8 not reported: %v", s)
	}
}

func TestEmptyAndNil(t *testing.T) {
	o, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.For("anything"); got != nil {
		t.Errorf("empty file owns %q", got)
	}
	var none *Owners
	if none.For("x") != nil || none.Skipped() != nil {
		t.Error("a nil *Owners must own nothing")
	}
}

// TestPatterns asserts every case of the pattern table shipped with
// github.com/hmarr/codeowners v1.2.1 (testdata/README.md), through Parse and For.
func TestPatterns(t *testing.T) {
	data, err := os.ReadFile("testdata/patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name    string          `json:"name"`
		Pattern string          `json:"pattern"`
		Paths   map[string]bool `json:"paths"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 25 {
		t.Fatalf("only %d cases read from patterns.json", len(cases))
	}
	total := 0
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			o, err := Parse([]byte(tc.Pattern + " @owner\n"))
			if err != nil {
				t.Fatal(err)
			}
			if s := o.Skipped(); len(s) > 0 {
				t.Fatalf("pattern %q skipped: %v", tc.Pattern, s)
			}
			paths := make([]string, 0, len(tc.Paths))
			for p := range tc.Paths {
				paths = append(paths, p)
			}
			sort.Strings(paths)
			for _, p := range paths {
				total++
				got := len(o.For(p)) == 1
				if got != tc.Paths[p] {
					t.Errorf("pattern %q on %q: matched %v, want %v", tc.Pattern, p, got, tc.Paths[p])
				}
			}
		})
	}
	if total < 140 {
		t.Errorf("only %d pattern/path pairs asserted", total)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"* @a\n/b/ @org/team x@y.example\n",
		"\\\n",
		"a\\ b @c # comment\n!x @y\n[a] @b\n",
		"/ @root\n** @all\n***/x @nope\n",
	} {
		f.Add(seed, "b/c")
	}
	f.Fuzz(func(t *testing.T, file, p string) {
		o, err := Parse([]byte(file))
		if err != nil {
			return
		}
		for _, owner := range o.For(p, "x/"+p) {
			if owner == "" || strings.HasPrefix(owner, "@") || strings.Contains(owner, "@") {
				t.Fatalf("owner %q is not a login or team", owner)
			}
		}
	})
}
