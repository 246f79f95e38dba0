package githubapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/codeowners"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// The reads a command needs, batched into GraphQL documents: one round trip for the
// default branch (head, config, CODEOWNERS, open pull requests) and one for the overlay
// (its files and its neighbours', label and reviewer ids) instead of a REST request each.
// What a batch returns is put into the Snapshot's memo; anything a batch did not cover is
// still read through the contents API on demand.

// DefaultRead is the default branch of a repository and what was read from it.
type DefaultRead struct {
	RepoID string // GraphQL node id, for mutations
	Head   Head
	Snap   *Snapshot // holds the files asked for (or their absence)
	// Open are the repository's open pull requests from its own branches, oldest first;
	// OpenComplete is false when there were more than one page of them.
	Open         []PR
	OpenBase     map[int]string // base branch by PR number
	OpenComplete bool
}

const fileFields = `type object { ... on Blob { text isBinary isTruncated } }`

// ReadDefault reads the default branch's head and the given files at it, and the open pull
// requests, in one request.
func (r Repo) ReadDefault(ctx context.Context, g *GraphQL, files []string) (*DefaultRead, error) {
	vars := map[string]any{"owner": r.Owner, "name": r.Name}
	var decl, sel strings.Builder
	for i, f := range files {
		p, err := cleanPath(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&decl, ", $f%d: String!", i)
		fmt.Fprintf(&sel, " f%d: file(path: $f%d) { %s }", i, i, fileFields)
		vars[fmt.Sprintf("f%d", i)] = p
	}
	q := `query daytwoDefaultBranch($owner: String!, $name: String!` + decl.String() + `) {
  repository(owner: $owner, name: $name) {
    id
    defaultBranchRef { name target { ... on Commit { oid tree { oid }` + sel.String() + ` } } }
    pullRequests(states: [OPEN], first: 100, orderBy: {field: CREATED_AT, direction: ASC}) {
      pageInfo { hasNextPage }
      nodes { number url title body headRefName headRefOid baseRefName isCrossRepository id
        labels(first: 50) { nodes { name } }
        commits(last: 100) { nodes { commit { oid message } } } }
    }
  }
}`
	var data struct {
		Repository *struct {
			ID               string `json:"id"`
			DefaultBranchRef *struct {
				Name   string                     `json:"name"`
				Target map[string]json.RawMessage `json:"target"`
			} `json:"defaultBranchRef"`
			PullRequests struct {
				PageInfo struct {
					HasNextPage bool `json:"hasNextPage"`
				} `json:"pageInfo"`
				Nodes []struct {
					Number            int    `json:"number"`
					URL               string `json:"url"`
					Title             string `json:"title"`
					Body              string `json:"body"`
					HeadRefName       string `json:"headRefName"`
					HeadRefOid        string `json:"headRefOid"`
					BaseRefName       string `json:"baseRefName"`
					IsCrossRepository bool   `json:"isCrossRepository"`
					ID                string `json:"id"`
					Labels            struct {
						Nodes []struct {
							Name string `json:"name"`
						} `json:"nodes"`
					} `json:"labels"`
					Commits struct {
						Nodes []struct {
							Commit struct {
								Oid     string `json:"oid"`
								Message string `json:"message"`
							} `json:"commit"`
						} `json:"nodes"`
					} `json:"commits"`
				} `json:"nodes"`
			} `json:"pullRequests"`
		} `json:"repository"`
	}
	ferrs, err := g.Do(repeatableCtx(ctx), q, vars, &data)
	if err != nil {
		return nil, r.notFoundOr(err, "read the default branch of %s", r.FullName())
	}
	if data.Repository == nil {
		return nil, r.notFoundOr(ferrs, "read %s", r.FullName())
	}
	ref := data.Repository.DefaultBranchRef
	if ref == nil {
		return nil, plan.Errorf(plan.NotFound, "repository %s has no default branch (is it empty?)", r.FullName())
	}
	var c struct {
		Oid  string `json:"oid"`
		Tree struct {
			Oid string `json:"oid"`
		} `json:"tree"`
	}
	if err := decodeFields(ref.Target, &c); err != nil || c.Oid == "" || c.Tree.Oid == "" {
		return nil, fmt.Errorf("default branch of %s: GitHub's answer lacks the commit or tree id", r.FullName())
	}
	out := &DefaultRead{
		RepoID:       data.Repository.ID,
		Head:         Head{Branch: ref.Name, Commit: c.Oid, Tree: c.Tree.Oid},
		Snap:         newSnapshot(r.Client, r.Owner, r.Name, c.Oid),
		OpenBase:     map[int]string{},
		OpenComplete: !data.Repository.PullRequests.PageInfo.HasNextPage,
	}
	for i, f := range files {
		p, _ := cleanPath(f)
		var e *treeEntryJSON
		if err := decodeField(ref.Target, fmt.Sprintf("f%d", i), &e); err != nil || ferrs.At("repository") != nil {
			continue // not seeded: read on demand
		}
		out.Snap.seedEntry(p, e, 0)
	}
	for _, n := range data.Repository.PullRequests.Nodes {
		if n.IsCrossRepository {
			continue
		}
		pr := PR{Number: n.Number, URL: n.URL, Branch: n.HeadRefName, HeadSHA: n.HeadRefOid, Body: n.Body, NodeID: n.ID}
		for _, l := range n.Labels.Nodes {
			pr.Labels = append(pr.Labels, l.Name)
		}
		for _, c := range n.Commits.Nodes {
			pr.Commits = append(pr.Commits, Commit{SHA: c.Commit.Oid, Message: c.Commit.Message})
		}
		out.Open = append(out.Open, pr)
		out.OpenBase[n.Number] = n.BaseRefName
	}
	sort.Slice(out.Open, func(i, j int) bool { return out.Open[i].Number < out.Open[j].Number })
	return out, nil
}

// OpenOn filters the open pull requests to those into base whose branch starts with prefix.
func (d *DefaultRead) OpenOn(base, prefix string) []PR {
	var out []PR
	for _, p := range d.Open {
		if d.OpenBase[p.Number] == base && strings.HasPrefix(p.Branch, prefix) {
			out = append(out, p)
		}
	}
	return out
}

// treeEntryJSON is a TreeEntry with its object: a blob's text or a tree's entries.
type treeEntryJSON struct {
	Name   string `json:"name"`
	Type   string `json:"type"` // blob, tree, commit
	Object *struct {
		Text        *string          `json:"text"`
		IsBinary    bool             `json:"isBinary"`
		IsTruncated bool             `json:"isTruncated"`
		Entries     []*treeEntryJSON `json:"entries"`
	} `json:"object"`
}

// seedEntry records what a batch learned about p: a file's text, a directory's listing
// and, depth levels down, its entries. A null entry means p does not exist.
func (s *Snapshot) seedEntry(p string, e *treeEntryJSON, depth int) {
	if e == nil {
		s.seedFile(p, nil, fmt.Errorf("%s at %s: %w", p, clip.SHA(s.commit), fs.ErrNotExist))
		return
	}
	switch e.Type {
	case "blob":
		if e.Object != nil && e.Object.Text != nil && !e.Object.IsBinary && !e.Object.IsTruncated {
			s.seedFile(p, []byte(*e.Object.Text), nil)
		}
	case "tree":
		s.seedFile(p, nil, fmt.Errorf("%s at %s is a directory: %w", p, clip.SHA(s.commit), fs.ErrNotExist))
		if e.Object == nil || e.Object.Entries == nil {
			return
		}
		names := make([]string, 0, len(e.Object.Entries))
		for _, c := range e.Object.Entries {
			if c == nil {
				continue
			}
			n := c.Name
			if c.Type == "tree" {
				n += "/"
			}
			names = append(names, n)
			if depth > 0 {
				s.seedEntry(path.Join(p, c.Name), c, depth-1)
			}
		}
		s.mu.Lock()
		s.dirs[p] = names
		s.mu.Unlock()
	}
}

// seedFile fills p's memo entry unless it is already being read.
func (s *Snapshot) seedFile(p string, data []byte, err error) {
	e, owner := s.entry(p)
	if !owner {
		return
	}
	e.data, e.err = data, err
	close(e.done)
}

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

// ChangeRead are the node ids a change's mutations need, by name; a name GitHub does not
// know is missing from its map.
type ChangeRead struct {
	Labels map[string]string // label name → id
	Users  map[string]string // login → id
	Teams  map[string]string // "org/slug" → id
}

func (c *ChangeRead) userID(login string) (string, bool) {
	if c == nil {
		return "", false
	}
	id, ok := c.Users[strings.ToLower(login)]
	return id, ok
}

func (c *ChangeRead) teamID(orgTeam string) (string, bool) {
	if c == nil {
		return "", false
	}
	id, ok := c.Teams[strings.ToLower(orgTeam)]
	return id, ok
}

// ReadSpec says what to read ahead of planning a change at a commit.
type ReadSpec struct {
	Dirs   []string // directories read two levels deep, with the text of their files
	Files  []string
	Labels []string
	Users  []string
	Teams  []string // "org/slug"
}

// Prefetch reads spec in one request: the directories and files at snap's commit go into
// snap's memo, and the ids come back.
func (r Repo) Prefetch(ctx context.Context, g *GraphQL, snap *Snapshot, spec ReadSpec) (*ChangeRead, error) {
	vars := map[string]any{"owner": r.Owner, "name": r.Name, "oid": snap.commit}
	var decl, inCommit, inRepo, top strings.Builder
	var paths []string
	for i, d := range spec.Dirs {
		p, err := cleanPath(d)
		if err != nil {
			return nil, err
		}
		if p == "." {
			continue // the whole repository is never read ahead
		}
		fmt.Fprintf(&decl, ", $d%d: String!", i)
		fmt.Fprintf(&inCommit, " d%d: file(path: $d%d) { ...dir }", i, i)
		vars[fmt.Sprintf("d%d", i)] = p
		paths = append(paths, p)
	}
	for i, f := range spec.Files {
		p, err := cleanPath(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&decl, ", $f%d: String!", i)
		fmt.Fprintf(&inCommit, " f%d: file(path: $f%d) { %s }", i, i, fileFields)
		vars[fmt.Sprintf("f%d", i)] = p
	}
	for i, l := range spec.Labels {
		fmt.Fprintf(&decl, ", $l%d: String!", i)
		fmt.Fprintf(&inRepo, " l%d: label(name: $l%d) { id name }", i, i)
		vars[fmt.Sprintf("l%d", i)] = l
	}
	for i, u := range spec.Users {
		fmt.Fprintf(&decl, ", $u%d: String!", i)
		fmt.Fprintf(&top, " u%d: user(login: $u%d) { id login }", i, i)
		vars[fmt.Sprintf("u%d", i)] = u
	}
	for i, t := range spec.Teams {
		org, slug, ok := strings.Cut(t, "/")
		if !ok || org == "" || slug == "" {
			continue
		}
		fmt.Fprintf(&decl, ", $o%d: String!, $t%d: String!", i, i)
		fmt.Fprintf(&top, " t%d: organization(login: $o%d) { team(slug: $t%d) { id } }", i, i, i)
		vars[fmt.Sprintf("o%d", i)], vars[fmt.Sprintf("t%d", i)] = org, slug
	}
	commitSel, frag := "", ""
	if inCommit.Len() > 0 {
		commitSel = "\n    commit: object(oid: $oid) { ... on Commit {" + inCommit.String() + " } }"
	} else {
		delete(vars, "oid") // declared only when used, as GraphQL requires
	}
	if len(paths) > 0 {
		frag = `
fragment dir on TreeEntry { name type object { ... on Tree { entries { name type object {
  ... on Blob { text isBinary isTruncated }
  ... on Tree { entries { name type object { ... on Blob { text isBinary isTruncated } } } } } } } } }`
	}
	oidDecl := ", $oid: GitObjectID!"
	if commitSel == "" {
		oidDecl = ""
	}
	q := `query daytwoPrefetch($owner: String!, $name: String!` + oidDecl + decl.String() + `) {
  repository(owner: $owner, name: $name) {
    id` + commitSel + inRepo.String() + `
  }` + top.String() + `
}` + frag
	var data map[string]json.RawMessage
	ferrs, err := g.Do(repeatableCtx(ctx), q, vars, &data)
	if err != nil {
		return nil, fmt.Errorf("read ahead in %s: %w", r.FullName(), err)
	}
	out := &ChangeRead{Labels: map[string]string{}, Users: map[string]string{}, Teams: map[string]string{}}
	var repo map[string]json.RawMessage
	if decodeField(data, "repository", &repo) != nil || repo == nil {
		return out, nil // nothing seeded; reads fall back to the contents API
	}
	var commit map[string]json.RawMessage
	if decodeField(repo, "commit", &commit) == nil && commit != nil && ferrs.At("repository") == nil {
		for i, d := range spec.Dirs {
			p, _ := cleanPath(d)
			var e *treeEntryJSON
			if p != "." && decodeField(commit, fmt.Sprintf("d%d", i), &e) == nil {
				snap.seedEntry(p, e, 2)
			}
		}
		for i, f := range spec.Files {
			p, _ := cleanPath(f)
			var e *treeEntryJSON
			if decodeField(commit, fmt.Sprintf("f%d", i), &e) == nil {
				snap.seedEntry(p, e, 0)
			}
		}
	}
	for i := range spec.Labels {
		var l *struct{ ID, Name string }
		if decodeField(repo, fmt.Sprintf("l%d", i), &l) == nil && l != nil && l.ID != "" {
			out.Labels[l.Name] = l.ID
		}
	}
	for i, login := range spec.Users {
		var u *struct{ ID string }
		if decodeField(data, fmt.Sprintf("u%d", i), &u) == nil && u != nil && u.ID != "" {
			out.Users[strings.ToLower(login)] = u.ID
		}
	}
	for i, t := range spec.Teams {
		var o *struct{ Team *struct{ ID string } }
		if decodeField(data, fmt.Sprintf("t%d", i), &o) == nil && o != nil && o.Team != nil && o.Team.ID != "" {
			out.Teams[strings.ToLower(t)] = o.Team.ID
		}
	}
	return out, nil
}

func (r Repo) notFoundOr(err error, format string, args ...any) error {
	var ge GraphQLErrors
	if errors.As(err, &ge) {
		for _, e := range ge {
			if e.Type == "NOT_FOUND" && len(e.Path) == 1 && e.Path[0] == "repository" {
				return plan.Errorf(plan.NotFound, "repository %s does not exist or the app is not installed on it", r.FullName())
			}
		}
	}
	return fmt.Errorf(fmt.Sprintf(format, args...)+": %w", err)
}

// decodeField decodes m[key] into out; a missing key is an error.
func decodeField(m map[string]json.RawMessage, key string, out any) error {
	raw, ok := m[key]
	if !ok {
		return fmt.Errorf("no field %q in GitHub's answer", key)
	}
	return json.Unmarshal(raw, out)
}

// decodeFields decodes an object already split into fields (e.g. the Commit fragment of a
// GitObject) into out.
func decodeFields(m map[string]json.RawMessage, out any) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}
