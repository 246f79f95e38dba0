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
