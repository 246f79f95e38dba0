package github

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/codeowners"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// CodeOwnersPaths are where GitHub looks for CODEOWNERS, in its order; the first found
// is the only one used.
var CodeOwnersPaths = codeowners.Paths

// ReadCodeOwners reads and parses the CODEOWNERS file of snap, which should be the default
// branch: owners are never taken from the branch under review. It returns nil, nil when
// the repository has none.
func ReadCodeOwners(ctx context.Context, snap plan.Snapshot) (*codeowners.Owners, error) {
	for _, p := range CodeOwnersPaths {
		data, err := snap.ReadFile(ctx, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		o, err := codeowners.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s at %s: %w", p, clip.SHA(snap.Commit()), err)
		}
		return o, nil
	}
	return nil, nil
}
