package repoconfig

import (
	"strings"
	"testing"
)

func TestParsePointer(t *testing.T) {
	cases := []struct {
		in      string
		want    string
		pointer bool
		err     string
	}{
		{"gitops: acme/gitops\n", "acme/gitops", true, ""},
		{"# points at the GitOps repo\ngitops: acme/platform.gitops\n", "acme/platform.gitops", true, ""},
		{"gitops: ../etc\n", "", true, "not a repository name"},
		{"gitops: [a]\n", "", true, "not a repository name"},
		{"version: 1\ngitops: acme/gitops\n", "", false, ""},
		{"version: 1\n", "", false, ""},
		{"not yaml: [\n", "", false, ""},
	}
	for _, tc := range cases {
		got, ok, err := ParsePointer([]byte(tc.in))
		if got != tc.want || ok != tc.pointer || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParsePointer(%q) = %q, %v, %v", tc.in, got, ok, err)
		}
	}
}
