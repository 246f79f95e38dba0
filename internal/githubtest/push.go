package githubtest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"os"
	"path/filepath"
)

// PushTo copies the repository's objects into the bare git repository gitDir (as loose
// objects) and points its branch at the same commit as here, as a push mirror would: the
// commit ids are the same on both sides, so what a deployer reports can be compared with
// the merge commits of this repository.
func (r *Repo) PushTo(gitDir, branch string) error {
	var (
		objects = map[string]object{}
		head    string
		ok      bool
	)
	r.with(func(rs *repoState) {
		for sha, o := range rs.objects {
			objects[sha] = o
		}
		head, ok = rs.refs["refs/heads/"+branch]
	})
	if !ok {
		return fmt.Errorf("githubtest: %s has no branch %s", r.FullName(), branch)
	}
	for sha, o := range objects {
		p := filepath.Join(gitDir, "objects", sha[:2], sha[2:])
		if _, err := os.Stat(p); err == nil {
			continue
		}
		var b bytes.Buffer
		zw := zlib.NewWriter(&b)
		fmt.Fprintf(zw, "%s %d\x00", o.typ, len(o.data))
		zw.Write(o.data)
		if err := zw.Close(); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b.Bytes(), 0o444); err != nil {
			return err
		}
	}
	ref := filepath.Join(gitDir, "refs", "heads", branch)
	if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
		return err
	}
	return os.WriteFile(ref, []byte(head+"\n"), 0o644)
}
