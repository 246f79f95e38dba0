package workflow

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Dir is where GitHub reads a repository's workflows from.
const Dir = ".github/workflows"

var (
	fileRE = regexp.MustCompile(`^[A-Za-z0-9._-]+\.ya?ml$`)
	idRE   = regexp.MustCompile(`^[1-9][0-9]{0,18}$`)
)

// ValidateFile checks how a workflow is named to GitHub's API: the file name under
// .github/workflows ("deploy.yml"), or the workflow's numeric id.
func ValidateFile(s string) error {
	switch {
	case fileRE.MatchString(s) || idRE.MatchString(s):
		return nil
	case strings.HasPrefix(s, Dir+"/") && fileRE.MatchString(path.Base(s)):
		return fmt.Errorf("write the workflow file's name without its folder: %q, not %q", path.Base(s), s)
	case strings.Contains(s, "/"):
		return fmt.Errorf("%q is not a file of %s: GitHub runs workflows from that folder only", s, Dir)
	}
	return fmt.Errorf("%q is neither a workflow file name ending in .yml or .yaml nor a workflow id", s)
}

// ValidInputName reports whether s may name a workflow_dispatch input.
func ValidInputName(s string) bool { return inputIDRE.MatchString(s) }

// ValidateRef checks a branch or tag name as git check-ref-format does, so that a ref
// that cannot exist is refused before anything asks GitHub about it.
func ValidateRef(ref string) error {
	bad := func(why string) error { return fmt.Errorf("%q is not a branch or tag name: %s", ref, why) }
	switch {
	case ref == "":
		return fmt.Errorf("the ref is empty")
	case len(ref) > 255:
		return bad("it is longer than 255 characters")
	case strings.HasPrefix(ref, "-"):
		return bad("it starts with -")
	case strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") || strings.Contains(ref, "//"):
		return bad("it has an empty part between slashes")
	case strings.HasSuffix(ref, ".") || strings.HasSuffix(ref, ".lock"):
		return bad("it ends with . or .lock")
	case strings.Contains(ref, "..") || strings.Contains(ref, "@{") || ref == "@":
		return bad(`it holds "..", "@{" or is "@"`)
	}
	for _, part := range strings.Split(ref, "/") {
		if strings.HasPrefix(part, ".") {
			return bad("a part starts with .")
		}
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return bad(fmt.Sprintf("it holds %q", r))
		}
	}
	return nil
}
