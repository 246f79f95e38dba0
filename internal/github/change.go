package github

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/daytwo-dev/daytwo/internal/plan"
)

// PR is a pull request daytwo opened or found.
type PR struct {
	Number  int
	URL     string // html_url
	Branch  string
	HeadSHA string
	Body    string
	Reused  bool // an open PR of the same branch already existed (redelivery or a repeated request)
	NodeID  string
	// Fresh is set when CreateChange opened it and FinishChange must still add labels and
	// reviewers; the REST path adds them itself.
	Fresh bool
}

// ChangeOptions say where a change goes and who looks at it.
type ChangeOptions struct {
	Base      Head     // where the change was planned: its Commit must equal the ChangeSet's Base
	Labels    []string // e.g. daytwo, env/prod, action/scale
	Reviewers []string // "user" or "org/team" to request review from (the caller leaves out the requester)
	Draft     bool
}

// maxBodyRunes is GitHub's limit on a pull request body.
const maxBodyRunes = 65536

// OpenChange writes cs as one commit on the new branch cs.Branch, whose parent is
// opts.Base.Commit, and opens a pull request into opts.Base.Branch. A new change costs at
// most six requests: POST git/trees (base tree plus inline contents, null shas for
// deletions), POST git/commits, POST git/refs, POST pulls, POST labels when there are
// labels, POST requested_reviewers when there are reviewers. Files that are not UTF-8
// text cost one blob each, as JSON cannot carry them inline.
//
// Running it again for the same branch is safe. When the branch exists already, the open
// pull request of that branch is found: if its head has the same tree, it is returned
// with Reused set and nothing is written; otherwise the branch is moved to the new commit
// (forced: the branch is daytwo's own, which the head commit's trailers confirm) and the
// pull request's title and body are updated. Without an open pull request the branch is
// moved and one is opened. A failure after this call created the branch removes the
// branch and any pull request opened from it, so nothing half-made stays behind.
func (r Repo) OpenChange(ctx context.Context, cs *plan.ChangeSet, opts ChangeOptions) (*PR, error) {
	if err := checkChange(cs, opts); err != nil {
		return nil, err
	}
	users, teams, err := r.splitReviewers(ctx, opts.Reviewers)
	if err != nil {
		return nil, err
	}
	entries, err := r.treeEntries(ctx, cs.Files)
	if err != nil {
		return nil, err
	}
	tree, _, err := r.Client.Git.CreateTree(ctx, r.Owner, r.Name, opts.Base.Tree, entries)
	if err != nil {
		return nil, fmt.Errorf("write the tree of %s in %s: %w", cs.Branch, r.FullName(), err)
	}
	if tree.GetSHA() == opts.Base.Tree {
		return nil, plan.Errorf(plan.NoChange, "the change leaves every file of %s as it is on `%s`; there is nothing to propose", r.FullName(), opts.Base.Branch)
	}
	msg := cs.CommitMessage
	if strings.TrimSpace(msg) == "" {
		msg = cs.Title
	}
	// No author or committer: GitHub then records the app and signs the commit.
	commit, _, err := r.Client.Git.CreateCommit(ctx, r.Owner, r.Name, &gh.Commit{
		Message: gh.String(msg),
		Tree:    &gh.Tree{SHA: tree.SHA},
		Parents: []*gh.Commit{{SHA: gh.String(opts.Base.Commit)}},
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("write the commit of %s in %s: %w", cs.Branch, r.FullName(), err)
	}
	w := &changeWrite{r: r, cs: cs, opts: opts, tree: tree.GetSHA(), commit: commit.GetSHA(), users: users, teams: teams}
	_, _, err = r.Client.Git.CreateRef(ctx, r.Owner, r.Name, &gh.Reference{Ref: gh.String("refs/heads/" + cs.Branch), Object: &gh.GitObject{SHA: commit.SHA}})
	switch {
	case err == nil:
		return w.openNew(ctx)
	case statusOf(err) == http.StatusUnprocessableEntity && saysGitHub(err, "Reference already exists"):
		return w.update(ctx)
	default:
		return nil, fmt.Errorf("create branch %s in %s: %w", cs.Branch, r.FullName(), err)
	}
}

// changeWrite is one OpenChange after its tree and commit exist.
type changeWrite struct {
	r            Repo
	cs           *plan.ChangeSet
	opts         ChangeOptions
	tree, commit string
	users, teams []string
}

// openNew opens the pull request of a branch this call created; any failure removes both.
func (w *changeWrite) openNew(ctx context.Context) (*PR, error) {
	r, cs := w.r, w.cs
	pr, _, err := r.Client.PullRequests.Create(ctx, r.Owner, r.Name, w.newPull())
	if err != nil {
		if pullExists(err) {
			// A concurrent delivery of the same request opened the pull request first: the
			// branch now belongs to that pull request, which is ours too. Never delete it.
			return w.existingPull(ctx, err)
		}
		return nil, w.rollback(ctx, 0, fmt.Errorf("open the pull request for %s in %s: %w", cs.Branch, r.FullName(), err))
	}
	if err := w.decorate(ctx, pr, true); err != nil {
		return nil, w.rollback(ctx, pr.GetNumber(), err)
	}
	out := toPR(pr)
	out.HeadSHA, out.Body = w.commit, cs.Body
	return &out, nil
}

// existingPull returns the open pull request GitHub said exists for the branch.
func (w *changeWrite) existingPull(ctx context.Context, cause error) (*PR, error) {
	found, err := w.r.findPull(ctx, w.cs.Branch, w.opts.Base.Branch)
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("GitHub says a pull request of %s exists in %s, but none is open: %w", w.cs.Branch, w.r.FullName(), cause)
	}
	out := toPR(found)
	out.Reused = true
	return &out, nil
}

func (w *changeWrite) newPull() *gh.NewPullRequest {
	return &gh.NewPullRequest{
		Title: gh.String(w.cs.Title),
		Head:  gh.String(w.cs.Branch),
		Base:  gh.String(w.opts.Base.Branch),
		Body:  gh.String(w.cs.Body),
		Draft: gh.Bool(w.opts.Draft),
	}
}

// update handles a branch that already exists: the same request delivered again, the
// request repeated after its pull request closed, or a newer plan for the same branch.
func (w *changeWrite) update(ctx context.Context) (*PR, error) {
	r, cs := w.r, w.cs
	pr, err := r.findPull(ctx, cs.Branch, w.opts.Base.Branch)
	if err != nil {
		return nil, err
	}
	headSHA := ""
	if pr != nil {
		headSHA = pr.GetHead().GetSHA()
	} else {
		ref, _, err := r.Client.Git.GetRef(ctx, r.Owner, r.Name, "heads/"+cs.Branch)
		if err != nil {
			return nil, fmt.Errorf("read branch %s of %s: %w", cs.Branch, r.FullName(), err)
		}
		headSHA = ref.GetObject().GetSHA()
	}
	head, _, err := r.Client.Git.GetCommit(ctx, r.Owner, r.Name, headSHA)
	if err != nil {
		return nil, fmt.Errorf("read the head commit %s of %s: %w", shortSHA(headSHA), cs.Branch, err)
	}
	same := head.GetTree().GetSHA() == w.tree
	if !same {
		if !ownCommit(head) {
			return nil, plan.Errorf(plan.Conflict, "branch `%s` already exists in %s and its last commit (%s) was not made by daytwo, so daytwo will not overwrite it. Merge or close its pull request and delete the branch, then ask again.", cs.Branch, r.FullName(), shortSHA(headSHA))
		}
		if _, _, err := r.Client.Git.UpdateRef(ctx, r.Owner, r.Name, &gh.Reference{Ref: gh.String("refs/heads/" + cs.Branch), Object: &gh.GitObject{SHA: gh.String(w.commit)}}, true); err != nil {
			return nil, fmt.Errorf("move branch %s of %s to the new commit: %w", cs.Branch, r.FullName(), err)
		}
		headSHA = w.commit
	}

	if pr == nil {
		created, _, err := r.Client.PullRequests.Create(ctx, r.Owner, r.Name, w.newPull())
		if err != nil {
			if pullExists(err) {
				return w.existingPull(ctx, err)
			}
			return nil, fmt.Errorf("open the pull request for %s in %s: %w", cs.Branch, r.FullName(), err)
		}
		if err := w.decorate(ctx, created, true); err != nil {
			return nil, err
		}
		out := toPR(created)
		out.HeadSHA, out.Body = headSHA, cs.Body
		return &out, nil
	}

	out := toPR(pr)
	out.Reused, out.HeadSHA = true, headSHA
	if same {
		// Nothing changed; only labels lost to an interrupted earlier attempt are added.
		if err := w.decorate(ctx, pr, false); err != nil {
			return nil, err
		}
		return &out, nil
	}
	if pr.GetTitle() != cs.Title || pr.GetBody() != cs.Body {
		if _, _, err := r.Client.PullRequests.Edit(ctx, r.Owner, r.Name, pr.GetNumber(), &gh.PullRequest{Title: gh.String(cs.Title), Body: gh.String(cs.Body)}); err != nil {
			return nil, fmt.Errorf("update pull request #%d of %s: %w", pr.GetNumber(), r.FullName(), err)
		}
	}
	out.Body = cs.Body
	// The content changed, so review is asked for again.
	if err := w.decorate(ctx, pr, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// decorate adds the labels pr lacks and, with review, requests the reviewers.
func (w *changeWrite) decorate(ctx context.Context, pr *gh.PullRequest, review bool) error {
	r := w.r
	have := map[string]bool{}
	for _, l := range pr.Labels {
		have[strings.ToLower(l.GetName())] = true
	}
	var missing []string
	for _, l := range w.opts.Labels {
		if !have[strings.ToLower(l)] {
			have[strings.ToLower(l)] = true
			missing = append(missing, l)
		}
	}
	// Labels and review requests are independent: one round trip for both.
	g, gctx := errgroup.WithContext(ctx)
	if len(missing) > 0 {
		g.Go(func() error {
			if _, _, err := r.Client.Issues.AddLabelsToIssue(gctx, r.Owner, r.Name, pr.GetNumber(), missing); err != nil {
				return fmt.Errorf("label pull request #%d of %s: %w", pr.GetNumber(), r.FullName(), err)
			}
			return nil
		})
	}
	if review && len(w.users)+len(w.teams) > 0 {
		g.Go(func() error { return r.requestReviews(gctx, pr.GetNumber(), w.users, w.teams) })
	}
	return g.Wait()
}

// requestReviews asks users and teams to review. GitHub refuses the whole request when one
// of them cannot review (not a collaborator, a team without access); then each is asked
// alone and those refused are skipped, as GitHub skips such code owners itself.
func (r Repo) requestReviews(ctx context.Context, number int, users, teams []string) error {
	_, _, err := r.Client.PullRequests.RequestReviewers(ctx, r.Owner, r.Name, number, gh.ReviewersRequest{Reviewers: users, TeamReviewers: teams})
	switch {
	case err == nil:
		return nil
	case statusOf(err) != http.StatusUnprocessableEntity:
		return fmt.Errorf("request reviews on #%d of %s: %w", number, r.FullName(), err)
	case len(users)+len(teams) == 1:
		zerolog.Ctx(ctx).Warn().Err(err).Int("pr", number).Msg("GitHub refused the reviewer; the pull request stays without the review request")
		return nil
	}
	one := func(req gh.ReviewersRequest, who string) error {
		_, _, err := r.Client.PullRequests.RequestReviewers(ctx, r.Owner, r.Name, number, req)
		if err != nil && statusOf(err) == http.StatusUnprocessableEntity {
			zerolog.Ctx(ctx).Warn().Err(err).Int("pr", number).Str("reviewer", who).Msg("GitHub refused a reviewer; skipped")
			return nil
		}
		if err != nil {
			return fmt.Errorf("request review from %s on #%d of %s: %w", who, number, r.FullName(), err)
		}
		return nil
	}
	for _, u := range users {
		if err := one(gh.ReviewersRequest{Reviewers: []string{u}}, u); err != nil {
			return err
		}
	}
	for _, t := range teams {
		if err := one(gh.ReviewersRequest{TeamReviewers: []string{t}}, r.Owner+"/"+t); err != nil {
			return err
		}
	}
	return nil
}

// rollback removes what a failed OpenChange created: the pull request (closed) and the
// branch. It runs even when ctx is done, since that is often why the change failed.
func (w *changeWrite) rollback(ctx context.Context, number int, cause error) error {
	r := w.r
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errs []error
	if number > 0 {
		if _, _, err := r.Client.PullRequests.Edit(ctx, r.Owner, r.Name, number, &gh.PullRequest{State: gh.String("closed")}); err != nil {
			errs = append(errs, fmt.Errorf("close pull request #%d: %w", number, err))
		}
	}
	if err := r.deleteBranch(ctx, w.cs.Branch); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		zerolog.Ctx(ctx).Error().Err(errors.Join(errs...)).Str("branch", w.cs.Branch).Msg("cleaning up a failed change failed")
		return fmt.Errorf("%w (cleaning up also failed: %v)", cause, errors.Join(errs...))
	}
	return cause
}

// DeleteBranch deletes a branch; one already gone is fine.
func (r Repo) DeleteBranch(ctx context.Context, branch string) error {
	return r.deleteBranch(ctx, branch)
}

// HeadMessage is the message of a commit.
func (r Repo) HeadMessage(ctx context.Context, sha string) (string, error) {
	c, _, err := r.Client.Git.GetCommit(ctx, r.Owner, r.Name, sha)
	if err != nil {
		return "", fmt.Errorf("read commit %s of %s: %w", shortSHA(sha), r.FullName(), err)
	}
	return c.GetMessage(), nil
}

// deleteBranch deletes a branch; one already gone is fine (GitHub answers 422 or 404).
func (r Repo) deleteBranch(ctx context.Context, branch string) error {
	_, err := r.Client.Git.DeleteRef(ctx, r.Owner, r.Name, "heads/"+branch)
	if err == nil || isNotFound(err) || (statusOf(err) == http.StatusUnprocessableEntity && saysGitHub(err, "Reference does not exist")) {
		return nil
	}
	return fmt.Errorf("delete branch %s of %s: %w", branch, r.FullName(), err)
}

// findPull returns the open pull request from branch (in this repository), or nil. One
// open into another base is a conflict daytwo does not resolve by itself.
func (r Repo) findPull(ctx context.Context, branch, base string) (*gh.PullRequest, error) {
	prs, _, err := r.Client.PullRequests.List(ctx, r.Owner, r.Name, &gh.PullRequestListOptions{State: "open", Head: r.Owner + ":" + branch})
	if err != nil {
		return nil, fmt.Errorf("find the pull request of %s in %s: %w", branch, r.FullName(), err)
	}
	for _, pr := range prs {
		if pr.GetHead().GetRef() != branch || !r.sameRepo(pr.GetHead().GetRepo()) {
			continue
		}
		if b := pr.GetBase().GetRef(); b != base {
			return nil, plan.Errorf(plan.Conflict, "branch `%s` already has pull request #%d, into `%s` instead of `%s`; close it and ask again", branch, pr.GetNumber(), b, base)
		}
		return pr, nil
	}
	return nil, nil
}

func (r Repo) sameRepo(repo *gh.Repository) bool {
	return repo != nil && strings.EqualFold(repo.GetFullName(), r.FullName())
}

// ownCommit reports whether c is a commit daytwo wrote: one parent and daytwo's trailers.
// Only such a head is overwritten; someone's own commit on the branch is never lost.
func ownCommit(c *gh.Commit) bool {
	if len(c.Parents) != 1 {
		return false
	}
	t := plan.ParseTrailers(c.GetMessage())
	return t[plan.TrailerAction] != ""
}

func pullExists(err error) bool {
	return statusOf(err) == http.StatusUnprocessableEntity && saysGitHub(err, "A pull request already exists")
}

func toPR(p *gh.PullRequest) PR {
	return PR{Number: p.GetNumber(), URL: p.GetHTMLURL(), Branch: p.GetHead().GetRef(), HeadSHA: p.GetHead().GetSHA(), Body: p.GetBody(), NodeID: p.GetNodeID()}
}

// treeEntries turns the files into tree entries: text inline, deletions as null shas,
// other bytes as blobs written first.
func (r Repo) treeEntries(ctx context.Context, files []plan.FileChange) ([]*gh.TreeEntry, error) {
	seen := map[string]bool{}
	out := make([]*gh.TreeEntry, 0, len(files))
	for _, f := range files {
		p, err := cleanPath(f.Path)
		if err != nil {
			return nil, &plan.Error{Code: plan.Invalid, Msg: fmt.Sprintf("the change writes %q, which is not a file path in the repository", f.Path), Err: err}
		}
		if p == "." || p != f.Path {
			return nil, plan.Errorf(plan.Invalid, "the change writes %q; file paths must be clean and relative to the repository root (%q)", f.Path, p)
		}
		if seen[p] {
			return nil, plan.Errorf(plan.Invalid, "the change writes %s twice", p)
		}
		seen[p] = true
		e := &gh.TreeEntry{Path: gh.String(p), Mode: gh.String("100644"), Type: gh.String("blob")}
		switch {
		case f.Delete:
			// Neither sha nor content: go-github sends "sha": null, which deletes the path.
		case utf8.Valid(f.Content):
			e.Content = gh.String(string(f.Content))
		default:
			blob, _, err := r.Client.Git.CreateBlob(ctx, r.Owner, r.Name, &gh.Blob{
				Content:  gh.String(base64.StdEncoding.EncodeToString(f.Content)),
				Encoding: gh.String("base64"),
			})
			if err != nil {
				return nil, fmt.Errorf("write %s to %s: %w", p, r.FullName(), err)
			}
			e.SHA = blob.SHA
		}
		out = append(out, e)
	}
	return out, nil
}

// checkChange refuses a ChangeSet GitHub would refuse, or that was planned elsewhere.
func checkChange(cs *plan.ChangeSet, opts ChangeOptions) error {
	if cs == nil {
		return errors.New("OpenChange needs a ChangeSet")
	}
	b := opts.Base
	switch {
	case b.Branch == "" || b.Commit == "" || b.Tree == "":
		return fmt.Errorf("the base of change %s lacks its branch, commit or tree (%+v); read it with Head", cs.Branch, b)
	case cs.Base != "" && cs.Base != b.Commit:
		return plan.Errorf(plan.Conflict, "the change was planned on %s, not on %s at %s; plan it again", shortSHA(cs.Base), b.Branch, shortSHA(b.Commit))
	case len(cs.Files) == 0:
		return plan.Errorf(plan.NoChange, "the change writes no file")
	case !validBranch(cs.Branch):
		return plan.Errorf(plan.Invalid, "%q is not a valid branch name (at most 255 characters of letters, digits, ., _, - and /)", cs.Branch)
	case cs.Branch == b.Branch:
		return plan.Errorf(plan.Invalid, "the change's branch %s is its own base", cs.Branch)
	case strings.TrimSpace(cs.Title) == "":
		return plan.Errorf(plan.Invalid, "the change has no title")
	case utf8.RuneCountInString(cs.Title) > maxTitleRunes:
		return plan.Errorf(plan.Invalid, "the change's title is longer than GitHub's %d characters", maxTitleRunes)
	case utf8.RuneCountInString(cs.Body) > maxBodyRunes:
		return plan.Errorf(plan.Invalid, "the change's description is longer than GitHub's %d characters", maxBodyRunes)
	}
	return nil
}

// branchRE is the ref names daytwo writes: a subset of what git allows.
var branchRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$`)

func validBranch(b string) bool {
	return len(b) <= 255 && branchRE.MatchString(b) && !strings.Contains(b, "..") &&
		!strings.HasSuffix(b, ".lock") && !strings.HasSuffix(b, ".") && !strings.Contains(b, ".lock/")
}

var (
	loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,98})$`)
	slugRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$`)
)

// splitReviewers separates users from team slugs. Teams of another organization cannot
// review in this repository; they are skipped with a warning, as GitHub ignores such code
// owners. Anything else malformed is a caller's mistake.
func (r Repo) splitReviewers(ctx context.Context, reviewers []string) (users, teams []string, err error) {
	seen := map[string]bool{}
	for _, rv := range reviewers {
		name := strings.TrimPrefix(strings.TrimSpace(rv), "@")
		key := strings.ToLower(name)
		if seen[key] {
			continue
		}
		seen[key] = true
		org, slug, isTeam := strings.Cut(name, "/")
		switch {
		case !isTeam && loginRE.MatchString(name):
			users = append(users, name)
		case isTeam && loginRE.MatchString(org) && slugRE.MatchString(slug):
			if !strings.EqualFold(org, r.Owner) {
				zerolog.Ctx(ctx).Warn().Str("team", name).Str("repo", r.FullName()).Msg("a team of another organization cannot review; skipped")
				continue
			}
			teams = append(teams, slug)
		default:
			return nil, nil, fmt.Errorf("reviewer %q is neither a GitHub login nor an org/team", rv)
		}
	}
	return users, teams, nil
}

// OpenChanges lists the open pull requests into base whose head branch, in this
// repository, starts with prefix, oldest first. Pull requests from forks never count:
// anyone can name a fork's branch like daytwo's.
func (r Repo) OpenChanges(ctx context.Context, base, prefix string) ([]PR, error) {
	opt := &gh.PullRequestListOptions{State: "open", Base: base, ListOptions: gh.ListOptions{PerPage: 100}}
	var out []PR
	for {
		prs, res, err := r.Client.PullRequests.List(ctx, r.Owner, r.Name, opt)
		if err != nil {
			return nil, fmt.Errorf("list open pull requests into %s of %s: %w", base, r.FullName(), err)
		}
		for _, p := range prs {
			if strings.HasPrefix(p.GetHead().GetRef(), prefix) && r.sameRepo(p.GetHead().GetRepo()) {
				out = append(out, toPR(p))
			}
		}
		if res.NextPage == 0 {
			break
		}
		opt.Page = res.NextPage
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

// CloseChange closes a pull request, first saying why when comment is not empty, and
// deletes its branch (one already gone is fine).
func (r Repo) CloseChange(ctx context.Context, pr PR, comment string) error {
	if pr.Number <= 0 {
		return fmt.Errorf("close pull request: %d is not a pull request number", pr.Number)
	}
	if strings.TrimSpace(comment) != "" {
		if _, err := (Thread{Client: r.Client, Owner: r.Owner, Repo: r.Name, Number: pr.Number}).Comment(ctx, comment); err != nil {
			return err
		}
	}
	if _, _, err := r.Client.PullRequests.Edit(ctx, r.Owner, r.Name, pr.Number, &gh.PullRequest{State: gh.String("closed")}); err != nil {
		return fmt.Errorf("close pull request #%d of %s: %w", pr.Number, r.FullName(), err)
	}
	if pr.Branch == "" {
		return nil
	}
	return r.deleteBranch(ctx, pr.Branch)
}

// MergeState is GitHub's view of whether a pull request can merge now.
type MergeState struct {
	Mergeable   *bool  // nil while GitHub is still computing it: ask again shortly
	State       string // mergeable_state: clean (approvals and required checks satisfied), blocked, dirty, draft, unstable, unknown…
	HeadSHA     string
	Merged      bool
	MergeCommit string // set once merged
}

// MergeState reads whether GitHub considers pull request number mergeable now.
func (r Repo) MergeState(ctx context.Context, number int) (MergeState, error) {
	p, _, err := r.Client.PullRequests.Get(ctx, r.Owner, r.Name, number)
	if err != nil {
		if isNotFound(err) {
			return MergeState{}, &plan.Error{Code: plan.NotFound, Msg: fmt.Sprintf("pull request #%d does not exist in %s", number, r.FullName()), Err: err}
		}
		return MergeState{}, fmt.Errorf("read pull request #%d of %s: %w", number, r.FullName(), err)
	}
	ms := MergeState{Mergeable: p.Mergeable, State: p.GetMergeableState(), HeadSHA: p.GetHead().GetSHA(), Merged: p.GetMerged()}
	if ms.Merged {
		ms.MergeCommit = p.GetMergeCommitSHA()
	}
	return ms, nil
}

// Merge merges pull request number with method (squash when ""), only while its head is
// still sha, and returns the merge commit. title and message, when set, are the commit's
// title and body (a squash keeps daytwo's trailers only when given them).
func (r Repo) Merge(ctx context.Context, number int, sha, method, title, message string) (string, error) {
	if method == "" {
		method = "squash"
	}
	switch {
	case method != "merge" && method != "squash" && method != "rebase":
		return "", fmt.Errorf("merge #%d: method %q is not merge, squash or rebase", number, method)
	case sha == "":
		return "", fmt.Errorf("merge #%d: the head commit it was checked at is required", number)
	}
	res, _, err := r.Client.PullRequests.Merge(ctx, r.Owner, r.Name, number, message, &gh.PullRequestOptions{CommitTitle: title, SHA: sha, MergeMethod: method})
	if err == nil {
		if !res.GetMerged() || res.GetSHA() == "" {
			return "", fmt.Errorf("merge #%d of %s: GitHub did not merge it: %s", number, r.FullName(), res.GetMessage())
		}
		return res.GetSHA(), nil
	}
	switch statusOf(err) {
	case http.StatusConflict:
		return "", &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("pull request #%d changed after it was checked (its head is no longer %s); it was not merged", number, shortSHA(sha)), Err: err}
	case http.StatusMethodNotAllowed:
		// A retried merge whose first attempt succeeded is refused as not mergeable.
		if ms, gerr := r.MergeState(ctx, number); gerr == nil && ms.Merged && ms.HeadSHA == sha && ms.MergeCommit != "" {
			return ms.MergeCommit, nil
		}
		return "", &plan.Error{Code: plan.Forbidden, Msg: fmt.Sprintf("GitHub refuses to merge pull request #%d: %s", number, ghMessage(err)), Err: err}
	case http.StatusNotFound:
		return "", &plan.Error{Code: plan.NotFound, Msg: fmt.Sprintf("pull request #%d does not exist in %s", number, r.FullName()), Err: err}
	}
	return "", fmt.Errorf("merge #%d of %s: %w", number, r.FullName(), err)
}

// ghMessage is GitHub's own message of an error answer.
func ghMessage(err error) string {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Message != "" {
		return er.Message
	}
	return err.Error()
}
