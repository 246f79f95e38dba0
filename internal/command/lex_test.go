package command

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"  a  b\tc ", []string{"a", "b", "c"}, ""},
		{`'a b' "c d"`, []string{"a b", "c d"}, ""},
		{`a'b c'd`, []string{"ab cd"}, ""},
		{`'' ""`, []string{"", ""}, ""},
		{`"a \"b\" \\ \n"`, []string{`a "b" \ \n`}, ""},
		{`'it'\''s'`, []string{"it's"}, ""},
		{`a\ b`, []string{"a b"}, ""},
		{`'\'`, []string{`\`}, ""},
		{"a\u00a0b", []string{"a", "b"}, ""},
		{`'open`, nil, "single quote"},
		{`"open`, nil, "double quote"},
		{`"esc\"`, nil, "double quote"},
		{`trail\`, nil, "backslash"},
	}
	for _, tt := range tests {
		got, err := splitArgs(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("splitArgs(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestJoinArgsRoundTrip checks that joinArgs quotes any words so splitArgs returns them.
func TestJoinArgsRoundTrip(t *testing.T) {
	alphabet := []rune("ab =-'\"\\\t$`é#*;|&<>()")
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		words := make([]string, 1+rng.Intn(4))
		for j := range words {
			w := make([]rune, rng.Intn(6))
			for k := range w {
				w[k] = alphabet[rng.Intn(len(alphabet))]
			}
			words[j] = string(w)
		}
		line := joinArgs(words)
		got, err := splitArgs(line)
		if err != nil || !reflect.DeepEqual(got, words) {
			t.Fatalf("joinArgs(%q) = %q, which splits to %q, %v", words, line, got, err)
		}
	}
}
