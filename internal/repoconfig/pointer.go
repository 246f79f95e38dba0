package repoconfig

import (
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"
)

// A service's own repository may hold a .github/daytwo.yml that only points at the GitOps
// repository (`gitops: acme/gitops`): commands asked there are carried out in the GitOps
// repository, whose config stays the authority.

var repoName = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$`)

// ParsePointer reports whether data is such a pointer and returns the repository it names
// ("owner/name"). A file with any other top-level key is a full config, not a pointer.
func ParsePointer(data []byte) (string, bool, error) {
	if len(data) > MaxFileSize {
		return "", false, nil
	}
	var top map[string]any
	if err := yaml.Unmarshal(data, &top); err != nil || len(top) != 1 {
		return "", false, nil
	}
	v, ok := top["gitops"]
	if !ok {
		return "", false, nil
	}
	name, _ := v.(string)
	if !repoName.MatchString(name) {
		return "", true, fmt.Errorf("%s: gitops: %v is not a repository name like acme/gitops", Path, v)
	}
	return name, true, nil
}
