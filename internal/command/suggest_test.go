package command

import "testing"

func TestSuggest(t *testing.T) {
	verbs := Default().Names()
	tests := []struct {
		word  string
		cands []string
		want  string
	}{
		{"scael", verbs, "scale"},
		{"restrat", verbs, "restart"},
		{"promte", verbs, "promote"},
		{"hlep", verbs, "help"},
		{"SCALE", verbs, "scale"},
		{"setimage", verbs, "set-image"},
		{"unfreez", verbs, "unfreeze"},
		{"deploy", verbs, "redeploy"},
		{"redep", verbs, "redeploy"},
		{"res", verbs, ""}, // prefix of restart and resume
		{"usr", verbs, ""},
		{"tmp", verbs, ""},
		{"hold", verbs, ""},
		{"lgtm", verbs, ""},
		{"retest", verbs, ""},
		{"", verbs, ""},
		{"x", []string{"y"}, ""},
		{"prdo", []string{"dev", "staging", "prod"}, "prod"},
		{"stagign", []string{"dev", "staging", "prod"}, "staging"},
		{"Prod", []string{"dev", "prod"}, "prod"},
		{"production", []string{"dev", "prod"}, ""},
		{"qa", []string{"dev", "prod"}, ""},
		{"checkuot", []string{"cart", "checkout"}, "checkout"},
		{"evn", []string{"break-glass", "dry-run", "env", "service"}, "env"},
		{"dryrun", []string{"break-glass", "dry-run", "env", "service"}, "dry-run"},
		{"a-very-long-word-that-is-longer-than-anything-we-would-ever-compare-against-x", []string{"a"}, ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.word, tt.cands); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"ab", "ba", 1},
		{"scale", "scael", 1},
		{"ca", "abc", 3}, // optimal string alignment, not unrestricted Damerau
		{"é", "e", 1},
	}
	for _, tt := range tests {
		if got := distance([]rune(tt.a), []rune(tt.b)); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
