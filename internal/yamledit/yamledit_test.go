package yamledit

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// edit parses src, sets the scalar at path in its first document to value, and encodes
// it back.
func edit(t *testing.T, src, value string, path ...string) string {
	t.Helper()
	docs, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	n, err := yaml.NewRNode(docs[0].Content[0]).Pipe(yaml.Lookup(path...))
	if err != nil || n == nil {
		t.Fatalf("%v not found: %v", path, err)
	}
	SetString(n.YNode(), value)
	out, err := Encode([]byte(src), docs)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestEncodeKeepsLayout: an edit changes its own line; blank lines, the leading "---",
// comment spacing, indentation and sequence style of the rest stay as written.
func TestEncodeKeepsLayout(t *testing.T) {
	tests := []struct {
		name, src, want string
		path            []string
	}{
		{
			name: "blank lines and comments",
			src:  "---\n# head\nnamePrefix: a-   # prefix\n\nimages:\n  - name: web\n    newTag: v1    # pinned\n\nreplicas:\n  - name: web\n    count: 2\n",
			path: []string{"images", "[name=web]", "newTag"},
			want: "---\n# head\nnamePrefix: a-   # prefix\n\nimages:\n  - name: web\n    newTag: v2 # pinned\n\nreplicas:\n  - name: web\n    count: 2\n",
		},
		{
			name: "four spaces, wide sequences",
			src:  "a:\n    b:\n        c: x\n    list:\n        - name: one\n          v: 1\n",
			path: []string{"a", "list", "[name=one]", "v"},
			want: "a:\n    b:\n        c: x\n    list:\n        - name: one\n          v: v2\n",
		},
		{
			name: "compact sequences",
			src:  "list:\n- name: one\n  v: old\nother:\n  - x\n",
			path: []string{"list", "[name=one]", "v"},
			want: "list:\n- name: one\n  v: v2\nother:\n  - x\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := edit(t, tt.src, "v2", tt.path...); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s\ndiff:\n%s", got, tt.want, Unified([]byte(tt.want), []byte(got)))
			}
		})
	}
}

func TestDeriveStyle(t *testing.T) {
	for src, want := range map[string]style{
		"a:\n  b: 1\nl:\n  - x\n":                       {indent: 2},
		"a:\n    b: 1\nl:\n- x\n":                       {indent: 4, compact: true},
		"l:\n    - name: x\n      m:\n          k: v\n": {indent: 4},
		"a: 1\n": {indent: 2, compact: true},
	} {
		docs, err := Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := deriveStyle([]byte(src), docs); got != want {
			t.Errorf("deriveStyle(%q) = %+v, want %+v", src, got, want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g"} {
		bomb += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	for src, want := range map[string]string{
		bomb:            "aliases expand to more than 1000000 YAML nodes",
		"a: [\n":        "line",
		"a: 1\n b: 2\n": "line 2",
		"a: *missing\n": "unknown anchor",
	} {
		if _, err := Parse([]byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%.30q) = %v, want it to say %q", src, err, want)
		}
	}
}
