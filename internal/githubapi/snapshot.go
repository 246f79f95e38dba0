package githubapi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	gh "github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// Snapshot reads a repository at one commit through the contents API. Reads are memoised:
// the planner may ask for a file twice, and a commit never changes.
type Snapshot struct {
	client      *gh.Client
	owner, repo string
	commit      string
	mu          sync.Mutex
	files       map[string]*fileEntry
	dirs        map[string][]string
}

var _ plan.Snapshot = (*Snapshot)(nil)

// OpenSnapshot resolves ref (a branch, tag or sha) to a commit and reads from it.
func OpenSnapshot(ctx context.Context, client *gh.Client, owner, repo, ref string) (*Snapshot, error) {
	sha, _, err := client.Repositories.GetCommitSHA1(ctx, owner, repo, ref, "")
	if err != nil {
		// GitHub answers an unknown ref with 422 "No commit found for SHA".
		var er *gh.ErrorResponse
		if isNotFound(err) || errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity {
			return nil, fmt.Errorf("%w: no commit %q in %s/%s", fs.ErrNotExist, ref, owner, repo)
		}
		return nil, fmt.Errorf("resolve %s in %s/%s: %w", ref, owner, repo, err)
	}
	return newSnapshot(client, owner, repo, sha), nil
}

// SnapshotAt reads from a commit already known (e.g. a branch head read with Repo.Head).
func SnapshotAt(client *gh.Client, owner, repo, sha string) *Snapshot {
	return newSnapshot(client, owner, repo, sha)
}

func newSnapshot(client *gh.Client, owner, repo, sha string) *Snapshot {
	return &Snapshot{client: client, owner: owner, repo: repo, commit: sha, files: map[string]*fileEntry{}, dirs: map[string][]string{}}
}

// Commit is the full sha.
func (s *Snapshot) Commit() string { return s.commit }

// ReadFile returns a file's bytes, falling back to the blob API for files over the
// contents API's 1 MB inline limit. A file being prefetched is waited for, not fetched twice.
func (s *Snapshot) ReadFile(ctx context.Context, p string) ([]byte, error) {
	p, err := cleanPath(p)
	if err != nil {
		return nil, err
	}
	e, owner := s.entry(p)
	if owner {
		e.data, e.err = s.fetch(ctx, p)
		close(e.done)
		return e.data, e.err
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if e.err != nil && !errors.Is(e.err, fs.ErrNotExist) {
		return s.fetch(ctx, p) // a prefetch failed; this read gets its own attempt
	}
	return e.data, e.err
}

// fileEntry is one file read or being read.
type fileEntry struct {
	done chan struct{}
	data []byte
	err  error
}

// entry returns the entry of p, and whether the caller created it and must fill it.
func (s *Snapshot) entry(p string) (*fileEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.files[p]; ok {
		return e, false
	}
	e := &fileEntry{done: make(chan struct{})}
	s.files[p] = e
	return e, true
}

// prefetchLimit bounds the files fetched ahead per directory listed.
const prefetchLimit = 16

// prefetch starts reading the YAML files of a directory just listed: an overlay reads most
// of them next, and reading them at once turns a chain of round trips into one.
func (s *Snapshot) prefetch(ctx context.Context, dir string, entries []*gh.RepositoryContent) {
	n := 0
	for _, e := range entries {
		name := e.GetName()
		if e.GetType() != "file" || e.GetSize() > 256<<10 || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") || name == "Kustomization") {
			continue
		}
		if n++; n > prefetchLimit {
			return
		}
		p := path.Join(dir, name)
		if dir == "." {
			p = name
		}
		fe, owner := s.entry(p)
		if !owner {
			continue
		}
		go func() {
			fe.data, fe.err = s.fetch(context.WithoutCancel(ctx), p)
			close(fe.done)
		}()
	}
}

func (s *Snapshot) fetch(ctx context.Context, p string) ([]byte, error) {
	file, dir, _, err := s.client.Repositories.GetContents(ctx, s.owner, s.repo, p, &gh.RepositoryContentGetOptions{Ref: s.commit})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s at %s: %w", p, clip.SHA(s.commit), fs.ErrNotExist)
		}
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if file == nil || dir != nil {
		return nil, fmt.Errorf("%s at %s is a directory: %w", p, clip.SHA(s.commit), fs.ErrNotExist)
	}
	if file.GetEncoding() == "none" || (file.Content == nil && file.GetSize() > 0) {
		rc, _, err := s.client.Git.GetBlobRaw(ctx, s.owner, s.repo, file.GetSHA())
		if err != nil {
			return nil, fmt.Errorf("read blob of %s: %w", p, err)
		}
		return rc, nil
	}
	text, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", p, err)
	}
	return []byte(text), nil
}

// ReadDir lists a directory; subdirectories end in "/".
func (s *Snapshot) ReadDir(ctx context.Context, p string) ([]string, error) {
	p, err := cleanPath(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	names, ok := s.dirs[p]
	s.mu.Unlock()
	if ok {
		return names, nil
	}
	apiPath := p
	if p == "." {
		apiPath = ""
	}
	_, entries, _, err := s.client.Repositories.GetContents(ctx, s.owner, s.repo, apiPath, &gh.RepositoryContentGetOptions{Ref: s.commit})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s at %s: %w", p, clip.SHA(s.commit), fs.ErrNotExist)
		}
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	if entries == nil {
		return nil, fmt.Errorf("%s at %s is a file: %w", p, clip.SHA(s.commit), fs.ErrNotExist)
	}
	s.prefetch(ctx, p, entries)
	names = make([]string, 0, len(entries))
	for _, e := range entries {
		n := e.GetName()
		if e.GetType() == "dir" {
			n += "/"
		}
		names = append(names, n)
	}
	s.mu.Lock()
	s.dirs[p] = names
	s.mu.Unlock()
	return names, nil
}

// History lists the commits that led to the snapshot.
func (s *Snapshot) History() *History { return &History{snap: s} }

// History implements plan.History with the commits API.
type History struct{ snap *Snapshot }

var _ plan.History = (*History)(nil)

// Log lists commits touching paths (merged, newest first).
func (h *History) Log(ctx context.Context, paths []string, limit int) ([]plan.CommitInfo, error) {
	s := h.snap
	seen := map[string]bool{}
	var out []plan.CommitInfo
	for _, p := range paths {
		p, err := cleanPath(p)
		if err != nil {
			return nil, err
		}
		// Each path's newest limit commits: a later path may hold newer commits than an
		// earlier one, so no path is cut short by what the others returned.
		opts := &gh.CommitsListOptions{SHA: s.commit, Path: p, ListOptions: gh.ListOptions{PerPage: min(limit, 100)}}
		for read := 0; read < limit; {
			commits, res, err := s.client.Repositories.ListCommits(ctx, s.owner, s.repo, opts)
			if err != nil {
				return nil, fmt.Errorf("list commits of %s: %w", p, err)
			}
			read += len(commits)
			for _, c := range commits {
				if seen[c.GetSHA()] {
					continue
				}
				seen[c.GetSHA()] = true
				msg := c.GetCommit().GetMessage()
				out = append(out, plan.CommitInfo{
					SHA: c.GetSHA(), Message: msg, Trailers: plan.ParseTrailers(msg),
					Time: c.GetCommit().GetCommitter().GetDate().Time,
				})
			}
			if res.NextPage == 0 {
				break
			}
			opts.Page = res.NextPage
		}
	}
	sortNewestFirst(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// At opens the snapshot at commit.
func (h *History) At(ctx context.Context, commit string) (plan.Snapshot, error) {
	return OpenSnapshot(ctx, h.snap.client, h.snap.owner, h.snap.repo, commit)
}

func sortNewestFirst(cs []plan.CommitInfo) {
	// Insertion sort: logs are short and mostly ordered already.
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].Time.After(cs[j-1].Time); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func isNotFound(err error) bool {
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}

func cleanPath(p string) (string, error) {
	if p == "" || p == "." || p == "/" {
		return ".", nil
	}
	c := path.Clean(strings.TrimSuffix(p, "/"))
	if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") || strings.ContainsAny(c, "\x00\n\r?#") {
		return "", fmt.Errorf("path %q is outside the repository", p)
	}
	return c, nil
}

// maxTreeYAML bounds the YAML files ReadTree reads ahead.
const maxTreeYAML = 300

// ReadTree lists the whole repository in one request (the recursive tree), so that walking
// it costs no more listings, and reads its YAML files ahead in batches through g. It returns
// how many YAML files there are; with more than maxTreeYAML nothing is read ahead.
func (s *Snapshot) ReadTree(ctx context.Context, g *GraphQL, r Repo) (int, error) {
	tree, _, err := s.client.Git.GetTree(ctx, s.owner, s.repo, s.commit, true)
	if err != nil {
		return 0, fmt.Errorf("list the files of %s at %s: %w", r.FullName(), clip.SHA(s.commit), err)
	}
	if tree.GetTruncated() {
		return 0, fmt.Errorf("%s is too large to list in one request", r.FullName())
	}
	dirs := map[string][]string{".": nil}
	var yamls []string
	for _, e := range tree.Entries {
		p := e.GetPath()
		dir, name := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" {
			dir = "."
		}
		if e.GetType() == "tree" {
			name += "/"
			if _, ok := dirs[p]; !ok {
				dirs[p] = nil
			}
		} else if strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") {
			yamls = append(yamls, p)
		}
		dirs[dir] = append(dirs[dir], name)
	}
	s.mu.Lock()
	for d, names := range dirs {
		if _, ok := s.dirs[d]; !ok {
			s.dirs[d] = names
		}
	}
	s.mu.Unlock()
	if len(yamls) > maxTreeYAML {
		return len(yamls), nil
	}
	for i := 0; i < len(yamls); i += 100 {
		if _, err := r.Prefetch(ctx, g, s, ReadSpec{Files: yamls[i:min(i+100, len(yamls))]}); err != nil {
			return len(yamls), err
		}
	}
	return len(yamls), nil
}
