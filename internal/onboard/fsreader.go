package onboard

import (
	"context"
	"io/fs"
	"path"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/overlay"
)

// FSReader reads a repository from a file system, e.g. os.DirFS of a checkout: what is
// on disk, committed or not.
func FSReader(fsys fs.FS) overlay.Reader { return fsReader{fsys} }

type fsReader struct{ fsys fs.FS }

func (r fsReader) ReadFile(_ context.Context, p string) ([]byte, error) {
	return fs.ReadFile(r.fsys, clean(p))
}

func (r fsReader) ReadDir(_ context.Context, p string) ([]string, error) {
	entries, err := fs.ReadDir(r.fsys, clean(p))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name()+"/")
		} else {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// clean makes a repository path an fs.FS name: relative, no "./", "." for the root.
func clean(p string) string {
	p = path.Clean("/" + strings.TrimPrefix(p, "./"))
	if p == "/" {
		return "."
	}
	return p[1:]
}
