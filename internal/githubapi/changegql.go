package githubapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// ErrGaveWay is wrapped by the Conflict CreateChange returns when an older open pull
// request of the same target turned up: the request is to be planned again on top of it.
var ErrGaveWay = errors.New("an older open change for the same target exists")

// WithdrawnError is wrapped by a Conflict after which daytwo closed a pull request of the
// request's own that nobody was told of (it gave way, or was opened on a leftover branch):
// its closing is not an answer to the request.
type WithdrawnError struct{ PR int }

func (e *WithdrawnError) Error() string { return fmt.Sprintf("pull request #%d was withdrawn", e.PR) }

// ErrNoAnswer is wrapped by the Conflict a write returns when GitHub did not answer it:
// whether it happened is learnt by reading again.
var ErrNoAnswer = errors.New("GitHub did not answer the write")

// PR is a pull request daytwo opened or found.
type PR struct {
	Number  int
	URL     string // html_url
	Branch  string
	HeadSHA string
	Body    string
	NodeID  string
	// Fresh is set when CreateChange opened it: FinishChange adds labels and reviewers.
	Fresh bool
	// Commits are the pull request's commits, oldest first, and Labels its labels, where
	// they were read (the open pull requests of ReadDefault): a stack's requests are in
	// the commits' trailers.
	Commits []Commit
	Labels  []string
}

// Commit is one commit of a pull request.
type Commit struct{ SHA, Message string }

// ChangeOptions say where a change goes and who looks at it.
type ChangeOptions struct {
	Base      Head     // where the change was planned: its Commit must equal the ChangeSet's Base
	Labels    []string // e.g. daytwo, env/prod, action/scale
	Reviewers []string // "user" or "org/team" to request review from (the caller leaves out the requester)
	Draft     bool
	// StackPrefix is the branch prefix of the target's changes (daytwo/<env>/<service>/):
	// a new pull request that finds an older open one with it gives way to it.
	StackPrefix string
}

// fileChanges is cs's files as createCommitOnBranch's additions and deletions.
func fileChanges(cs *plan.ChangeSet) (map[string]any, error) {
	additions := []map[string]any{}
	deletions := []map[string]any{}
	seen := map[string]bool{}
	for _, f := range cs.Files {
		p, err := cleanPath(f.Path)
		if err != nil || p == "." || p != f.Path || seen[p] {
			return nil, plan.Errorf(plan.Invalid, "the change writes %q, which is not a clean file path relative to the repository root, or writes it twice", f.Path)
		}
		seen[p] = true
		if f.Delete {
			deletions = append(deletions, map[string]any{"path": p})
			continue
		}
		additions = append(additions, map[string]any{"path": p, "contents": base64.StdEncoding.EncodeToString(f.Content)})
	}
	return map[string]any{"additions": additions, "deletions": deletions}, nil
}

func commitMessage(cs *plan.ChangeSet) map[string]any {
	msg := cs.CommitMessage
	if strings.TrimSpace(msg) == "" {
		msg = cs.Title
	}
	headline, body, _ := strings.Cut(msg, "\n")
	return map[string]any{"headline": headline, "body": strings.TrimLeft(body, "\n")}
}

// commitResult is createCommitOnBranch's answer, with the pull requests open on the branch
// after the commit: a commit that landed on a branch whose pull request was merged or
// closed meanwhile is not in any open change.
type commitResult struct {
	Commit struct {
		Oid  string `json:"oid"`
		Tree struct {
			Oid string `json:"oid"`
		} `json:"tree"`
	} `json:"commit"`
	Ref *struct {
		AssociatedPullRequests struct {
			Nodes []struct {
				Number int `json:"number"`
			} `json:"nodes"`
		} `json:"associatedPullRequests"`
	} `json:"ref"`
}

const commitFields = `commit { oid tree { oid } } ref { associatedPullRequests(states: [OPEN], first: 10) { nodes { number } } }`

// maxBodyRunes is GitHub's limit on a pull request body.
const maxBodyRunes = 65536

// checkChange refuses a ChangeSet GitHub would refuse, or that was planned elsewhere.
func checkChange(cs *plan.ChangeSet, opts ChangeOptions) error {
	if cs == nil {
		return errors.New("CreateChange needs a ChangeSet")
	}
	b := opts.Base
	switch {
	case b.Branch == "" || b.Commit == "" || b.Tree == "":
		return fmt.Errorf("the base of change %s lacks its branch, commit or tree (%+v); read it with Head", cs.Branch, b)
	case cs.Base != "" && cs.Base != b.Commit:
		return plan.Errorf(plan.Conflict, "the change was planned on %s, not on %s at %s; plan it again", clip.SHA(cs.Base), b.Branch, clip.SHA(b.Commit))
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

// CreateChange starts a new change for a target without an open one, the way the GraphQL
// API allows in one request: createRef at the base commit, createCommitOnBranch with the
// files (GitHub signs the commit, so it shows as Verified; expectedHeadOid guards the
// branch) and createPullRequest, run in that order as one mutation. The answer also lists
// the open pull requests into the base, read after the new one exists: when an older one
// of the same target (opts.StackPrefix) is among them, two requests raced to start the
// target's change, and the newer gives way. Labels and reviewers follow with FinishChange.
//
// cs.Branch is named after the request, so only this request's deliveries write it. Every
// failure leaves nothing behind and is a Conflict where planning again can succeed: the
// branch exists already (another delivery of the request made it), the branch moved, or
// an older change of the target turned up.
func (r Repo) CreateChange(ctx context.Context, g *GraphQL, repoID string, cs *plan.ChangeSet, opts ChangeOptions) (*PR, error) {
	if err := checkChange(cs, opts); err != nil {
		return nil, err
	}
	changes, err := fileChanges(cs)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{
		"ref": map[string]any{"repositoryId": repoID, "name": "refs/heads/" + cs.Branch, "oid": opts.Base.Commit},
		"commit": map[string]any{
			"branch":          map[string]any{"repositoryNameWithOwner": r.FullName(), "branchName": cs.Branch},
			"expectedHeadOid": opts.Base.Commit,
			"message":         commitMessage(cs),
			"fileChanges":     changes,
		},
		"pull": map[string]any{
			"repositoryId": repoID, "baseRefName": opts.Base.Branch, "headRefName": cs.Branch,
			"title": cs.Title, "body": cs.Body, "draft": opts.Draft,
		},
		"base": opts.Base.Branch,
	}
	const q = `mutation daytwoChange($ref: CreateRefInput!, $commit: CreateCommitOnBranchInput!, $pull: CreatePullRequestInput!, $base: String!) {
  ref: createRef(input: $ref) { ref { id } }
  commit: createCommitOnBranch(input: $commit) { ` + commitFields + ` }
  pull: createPullRequest(input: $pull) { pullRequest { id number url headRefOid
    repository { pullRequests(states: [OPEN], baseRefName: $base, first: 100) { nodes { number headRefName isCrossRepository } } } } }
}`
	var data struct {
		Ref *struct {
			Ref struct{ ID string } `json:"ref"`
		} `json:"ref"`
		Commit *commitResult `json:"commit"`
		Pull   *struct {
			PullRequest struct {
				ID         string    `json:"id"`
				Number     int       `json:"number"`
				URL        string    `json:"url"`
				HeadRefOid string    `json:"headRefOid"`
				Repository openPulls `json:"repository"`
			} `json:"pullRequest"`
		} `json:"pull"`
	}
	// Not repeatable: sent again after its answer was lost, it would open the change once
	// more if the first one's branch was merged and deleted meanwhile. The caller reads
	// again instead, and finds the request where it is.
	ferrs, err := g.Do(ctx, q, vars, &data)
	if err != nil {
		if ctx.Err() == nil {
			// An attempt whose answer was lost may have made all of it, and others may
			// have added to its pull request since: reading again tells, and finds this
			// request there or not.
			return nil, &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("writing %s got no answer; read again", cs.Branch), Err: errors.Join(ErrNoAnswer, err)}
		}
		return nil, r.cleanUp(ctx, cs.Branch, 0, fmt.Errorf("write %s in %s: %w", cs.Branch, r.FullName(), err))
	}
	// The mutation's fields all run even when an earlier one failed: a pull request may
	// have been opened on a branch this call did not create or write. It is this call's own
	// (nobody was told of it), so every failure below closes it.
	opened := 0
	if data.Pull != nil {
		opened = data.Pull.PullRequest.Number
	}
	if e := ferrs.At("ref"); e != nil || data.Ref == nil {
		if e != nil && strings.Contains(e.Message, "already exists") {
			return nil, r.branchTaken(ctx, cs.Branch, opts.Base.Branch, opened, ferrs)
		}
		return nil, fmt.Errorf("create branch %s in %s: %w", cs.Branch, r.FullName(), ferrs)
	}
	if e := ferrs.At("commit"); e != nil || data.Commit == nil {
		if e != nil && e.Type == "STALE_DATA" {
			return nil, r.cleanUp(ctx, cs.Branch, opened, &plan.Error{Code: plan.Conflict,
				Msg: fmt.Sprintf("branch `%s` of %s moved while daytwo wrote to it; plan again", cs.Branch, r.FullName()), Err: ferrs})
		}
		return nil, r.cleanUp(ctx, cs.Branch, opened, fmt.Errorf("commit to %s in %s: %w", cs.Branch, r.FullName(), ferrs))
	}
	if data.Commit.Commit.Tree.Oid == opts.Base.Tree {
		return nil, r.cleanUp(ctx, cs.Branch, opened, plan.Errorf(plan.NoChange, "the change leaves every file of %s as it is on `%s`; there is nothing to propose", r.FullName(), opts.Base.Branch))
	}
	if e := ferrs.At("pull"); e != nil || data.Pull == nil {
		if e != nil && strings.Contains(e.Message, "A pull request already exists") {
			// Another delivery of this request opened it: that pull request carries it.
			return nil, &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("a pull request of `%s` was opened meanwhile; plan again", cs.Branch), Err: ferrs}
		}
		return nil, r.cleanUp(ctx, cs.Branch, 0, fmt.Errorf("open the pull request for %s in %s: %w", cs.Branch, r.FullName(), ferrs))
	}
	p := data.Pull.PullRequest
	pr := &PR{Number: p.Number, URL: p.URL, Branch: cs.Branch, HeadSHA: data.Commit.Commit.Oid, Body: cs.Body, NodeID: p.ID, Fresh: true}
	if older := p.Repository.olderOf(p.Number, opts.StackPrefix); opts.StackPrefix != "" && older > 0 {
		if !r.GiveWay(ctx, pr, older) {
			return pr, nil // the older one closed meanwhile: this is the target's change now
		}
		return nil, &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("#%d of the same target was opened at the same time; plan again on top of it", older),
			Err: errors.Join(ErrGaveWay, &WithdrawnError{PR: pr.Number})}
	}
	return pr, nil
}

// openPulls are a repository's open pull requests, as a mutation's answer reads them after
// its writes.
type openPulls struct {
	PullRequests struct {
		Nodes []struct {
			Number            int    `json:"number"`
			HeadRefName       string `json:"headRefName"`
			IsCrossRepository bool   `json:"isCrossRepository"`
		} `json:"nodes"`
	} `json:"pullRequests"`
}

// olderOf is an open pull request of the same target (branch prefix) opened before number,
// or 0.
func (o openPulls) olderOf(number int, prefix string) int {
	for _, n := range o.PullRequests.Nodes {
		if n.Number < number && !n.IsCrossRepository && strings.HasPrefix(n.HeadRefName, prefix) {
			return n.Number
		}
	}
	return 0
}

// GiveWay withdraws a pull request that raced an older one of the same target, and
// reports whether it did. Nobody was told of it yet, and its branch is this request's own;
// while the older one is open, requests added to it are planned again (AppendChange). So it
// gives way only while the older one is still open, and it reopens when a request got in
// between the last look and the close.
func (r Repo) GiveWay(ctx context.Context, pr *PR, older int) bool {
	ctx = context.WithoutCancel(ctx)
	log := zerolog.Ctx(ctx).With().Int("pr", pr.Number).Int("older", older).Logger()
	if ms, err := r.MergeState(ctx, older); err == nil && !ms.Open {
		return false
	}
	if _, _, err := r.Client.PullRequests.Edit(ctx, r.Owner, r.Name, pr.Number, &gh.PullRequest{State: gh.String("closed")}); err != nil {
		log.Warn().Err(err).Msg("cannot withdraw a pull request that gave way")
		return true
	}
	if ms, err := r.MergeState(ctx, pr.Number); err == nil && ms.HeadSHA != pr.HeadSHA {
		if _, _, err := r.Client.PullRequests.Edit(ctx, r.Owner, r.Name, pr.Number, &gh.PullRequest{State: gh.String("open")}); err == nil {
			log.Info().Msg("a request was added while giving way: reopened")
			return false
		}
	}
	note := fmt.Sprintf("daytwo opened this at the same moment as #%d, which changes the same service and environment. The request moves there; this one is closed.", older)
	if _, err := (Thread{Client: r.Client, Owner: r.Owner, Repo: r.Name, Number: pr.Number}).Comment(ctx, note); err != nil {
		log.Warn().Err(err).Msg("cannot say why the pull request was closed")
	}
	if err := r.deleteBranch(ctx, pr.Branch); err != nil {
		log.Warn().Err(err).Msg("cannot delete the branch of a pull request that gave way")
	}
	return true
}

// branchTaken handles a request's own branch that exists already. opened is a pull
// request the same mutation opened from that branch (createPullRequest runs although
// createRef failed): nobody was told of it, so it is closed first. With another open pull
// request, another delivery of the request got there first: plan again and find it. With
// none, an earlier attempt of the request was cut off before its pull request: the branch
// is the request's own and nobody was told of it, so it is removed before planning again.
func (r Repo) branchTaken(ctx context.Context, branch, base string, opened int, cause error) error {
	if opened > 0 {
		if _, _, err := r.Client.PullRequests.Edit(context.WithoutCancel(ctx), r.Owner, r.Name, opened, &gh.PullRequest{State: gh.String("closed")}); err != nil {
			return fmt.Errorf("close pull request #%d, opened on the existing branch %s: %w (%v)", opened, branch, err, cause)
		}
	}
	pr, err := r.findPull(ctx, branch, base)
	if err != nil {
		return err
	}
	if pr == nil {
		if err := r.deleteBranch(ctx, branch); err != nil {
			return err
		}
	}
	if opened > 0 {
		cause = errors.Join(cause, &WithdrawnError{PR: opened})
	}
	return &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("branch `%s` exists already; plan again", branch), Err: cause}
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

// ErrNotCleanedUp is wrapped by the error of a failed change whose pull request or branch
// could not be removed: they may still be there.
var ErrNotCleanedUp = errors.New("what the failed change created could not be removed")

// cleanUp removes what a failed change created: the pull request (closed) and the
// branch. It runs even when ctx is done, since that is often why the change failed. Only
// a branch named after this very request is ever passed here (a new stack's own), so no
// other request's commit is deleted with it.
func (r Repo) cleanUp(ctx context.Context, branch string, number int, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errs []error
	if number > 0 {
		if _, _, err := r.Client.PullRequests.Edit(ctx, r.Owner, r.Name, number, &gh.PullRequest{State: gh.String("closed")}); err != nil {
			errs = append(errs, fmt.Errorf("close pull request #%d: %w", number, err))
		}
	}
	if err := r.deleteBranch(ctx, branch); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		zerolog.Ctx(ctx).Error().Err(errors.Join(errs...)).Str("branch", branch).Msg("cleaning up a failed change failed")
		return fmt.Errorf("%w (cleaning up also failed: %w)", cause, errors.Join(append([]error{ErrNotCleanedUp}, errs...)...))
	}
	return cause
}

// AppendChange adds cs as one more commit to the open change stack, the pull request of a
// target that already has one: createCommitOnBranch with expectedHeadOid = stack.HeadSHA,
// the head cs was planned on, so the branch only moves if nobody moved it since. A moved
// branch, a deleted one, or a pull request no longer open after the commit is a Conflict:
// read again and plan on what is there now.
func (r Repo) AppendChange(ctx context.Context, g *GraphQL, cs *plan.ChangeSet, stack PR) (*PR, error) {
	if cs == nil || len(cs.Files) == 0 {
		return nil, plan.Errorf(plan.NoChange, "the change writes no file")
	}
	if cs.Base != "" && cs.Base != stack.HeadSHA {
		return nil, plan.Errorf(plan.Conflict, "the change was planned on %s, not on the head %s of #%d; plan it again", clip.SHA(cs.Base), clip.SHA(stack.HeadSHA), stack.Number)
	}
	changes, err := fileChanges(cs)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{"commit": map[string]any{
		"branch":          map[string]any{"repositoryNameWithOwner": r.FullName(), "branchName": stack.Branch},
		"expectedHeadOid": stack.HeadSHA,
		"message":         commitMessage(cs),
		"fileChanges":     changes,
	}}
	// The open pull requests are read after the commit too: when an older one of the
	// same target is among them, stack is a newer one giving way to it, and closes with
	// whatever was added meanwhile.
	const q = `mutation daytwoStack($commit: CreateCommitOnBranchInput!) {
  commit: createCommitOnBranch(input: $commit) { ` + commitFields + `
    repo: commit { repository { pullRequests(states: [OPEN], first: 100) { nodes { number headRefName isCrossRepository } } } } }
}`
	var data struct {
		Commit *struct {
			commitResult
			Repo struct {
				Repository openPulls `json:"repository"`
			} `json:"repo"`
		} `json:"commit"`
	}
	// Not repeatable: a commit sent twice would land twice. A lost answer is a conflict
	// on the next attempt, which then finds the request in the stack.
	ferrs, err := g.Do(ctx, q, vars, &data)
	if err != nil {
		if ctx.Err() == nil {
			// Whether the commit landed is unknown: reading again tells, as the request
			// is then either in the stack or not.
			return nil, &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("adding to #%d got no answer; read again", stack.Number), Err: errors.Join(ErrNoAnswer, err)}
		}
		return nil, fmt.Errorf("add to %s in %s: %w", stack.Branch, r.FullName(), err)
	}
	if e := ferrs.At("commit"); e != nil || data.Commit == nil {
		if e != nil && (e.Type == "STALE_DATA" || e.Type == "NOT_FOUND") {
			return nil, &plan.Error{Code: plan.Conflict, Msg: fmt.Sprintf("#%d moved while daytwo added to it; plan again", stack.Number), Err: ferrs}
		}
		return nil, fmt.Errorf("add to %s in %s: %w", stack.Branch, r.FullName(), ferrs)
	}
	open := false
	if data.Commit.Ref != nil {
		for _, n := range data.Commit.Ref.AssociatedPullRequests.Nodes {
			open = open || n.Number == stack.Number
		}
	}
	if !open {
		return nil, plan.Errorf(plan.Conflict, "#%d was merged or closed while daytwo added to it; plan again", stack.Number)
	}
	if older := data.Commit.Repo.Repository.olderOf(stack.Number, path.Dir(stack.Branch)+"/"); older > 0 {
		return nil, plan.Errorf(plan.Conflict, "#%d gives way to #%d, opened before it for the same target; plan again", stack.Number, older)
	}
	out := stack
	out.HeadSHA, out.Fresh = data.Commit.Commit.Oid, false
	out.Commits = append(append([]Commit(nil), stack.Commits...), Commit{SHA: data.Commit.Commit.Oid, Message: cs.CommitMessage})
	return &out, nil
}

// Finish says what to add to a pull request just opened, in one request where GitHub's
// ids are known. Names without an id (a label not created yet, a reviewer not looked up)
// go through REST alongside it.
type Finish struct {
	Labels    []string
	Reviewers []string // "user" or "org/team"
	IDs       *ChangeRead
	RepoID    string
	// Check, when set, is a completed check run on the pull request's head.
	Check *CheckRun
	// Comment, when set, edits that comment (node id) to Body in the same request.
	CommentNodeID, CommentBody string
	// Title and Body, when set, replace the pull request's (a stack's grew by one request).
	Title, Body string
}

// Finished is what FinishChange did.
type Finished struct {
	Commented bool // the status comment was updated
	// HeadAfterEdit is the pull request's head right after Title and Body were written: when
	// it is not the head they were made for, a newer request was added meanwhile and the
	// text may be stale.
	HeadAfterEdit string
	// Refused are the steps GitHub did not carry out, in GitHub's words: review requests
	// it refused (one Refusal per reviewer), the labels, the render check, the
	// description. A pull request whose labels failed is withdrawn when new (the error).
	Refused []*Refusal
	// HeadAfter and State (OPEN, MERGED, CLOSED) are the pull request's, read after the
	// status comment was written; "" when they could not be read.
	HeadAfter, State string
}

// CheckRun is a completed check run.
type CheckRun struct {
	Name, Conclusion, Title, Summary string
}

// FinishChange labels the pull request, asks the code owners to review, publishes the
// check run and updates the status comment. What GitHub refuses is in done.Refused. A new
// pull request whose labels failed, or whose review requests failed for another reason
// than a reviewer without access, is withdrawn: closed, its branch deleted, as it would
// be merged unnoticed; the error then says why (a *Refusal) and wraps ErrNotCleanedUp when
// the withdrawal failed too. The comment only logs its failure; done.Commented says
// whether it was updated.
func (r Repo) FinishChange(ctx context.Context, g *GraphQL, pr *PR, f Finish) (done Finished, err error) {
	users, teams, err := r.splitReviewers(ctx, f.Reviewers)
	if err != nil {
		return done, r.withdraw(ctx, pr, err)
	}
	ids := f.IDs
	if ids == nil {
		ids = &ChangeRead{}
	}
	var labelIDs, restLabels []string
	for _, l := range f.Labels {
		if id, ok := ids.Labels[l]; ok {
			labelIDs = append(labelIDs, id)
		} else {
			restLabels = append(restLabels, l)
		}
	}
	var userIDs, teamIDs, restUsers, restTeams []string
	for _, u := range users {
		if id, ok := ids.Users[strings.ToLower(u)]; ok {
			userIDs = append(userIDs, id)
		} else {
			restUsers = append(restUsers, u)
		}
	}
	for _, t := range teams {
		if id, ok := ids.Teams[strings.ToLower(r.Owner+"/"+t)]; ok {
			teamIDs = append(teamIDs, id)
		} else {
			restTeams = append(restTeams, t)
		}
	}

	var decl, sel []string
	vars := map[string]any{}
	// Mutations run in order: the status comment first, then what reads the PR after it.
	if f.CommentNodeID != "" {
		decl, sel = append(decl, "$status: UpdateIssueCommentInput!"), append(sel, "status: updateIssueComment(input: $status) { issueComment { id } }")
		vars["status"] = map[string]any{"id": f.CommentNodeID, "body": Truncate(f.CommentBody, MaxCommentBytes)}
	}
	if len(labelIDs) > 0 {
		decl, sel = append(decl, "$labels: AddLabelsToLabelableInput!"), append(sel, "labels: addLabelsToLabelable(input: $labels) { clientMutationId }")
		vars["labels"] = map[string]any{"labelableId": pr.NodeID, "labelIds": labelIDs}
	}
	if len(userIDs)+len(teamIDs) > 0 {
		decl, sel = append(decl, "$reviews: RequestReviewsInput!"), append(sel, "reviews: requestReviews(input: $reviews) { clientMutationId }")
		vars["reviews"] = map[string]any{"pullRequestId": pr.NodeID, "userIds": userIDs, "teamIds": teamIDs, "union": true}
	}
	if c := f.Check; c != nil && f.RepoID != "" {
		// Read after the status comment was written: the caller learns whether the pull
		// request moved on (a later request, a merge) before its news reached the comment.
		decl, sel = append(decl, "$check: CreateCheckRunInput!", "$number: Int!"),
			append(sel, "check: createCheckRun(input: $check) { checkRun { id repository { pullRequest(number: $number) { headRefOid state } } } }")
		vars["number"] = pr.Number
		vars["check"] = map[string]any{
			"repositoryId": f.RepoID, "headSha": pr.HeadSHA, "name": c.Name,
			"status": "COMPLETED", "conclusion": strings.ToUpper(c.Conclusion),
			"completedAt": time.Now().UTC().Format(time.RFC3339),
			"output":      map[string]any{"title": c.Title, "summary": clip.Runes(c.Summary, MaxCheckSummary)},
		}
	}
	if f.Title != "" || f.Body != "" {
		in := map[string]any{"pullRequestId": pr.NodeID}
		if f.Title != "" {
			in["title"] = f.Title
		}
		if f.Body != "" {
			in["body"] = f.Body
		}
		decl, sel = append(decl, "$pull: UpdatePullRequestInput!"), append(sel, "pull: updatePullRequest(input: $pull) { pullRequest { headRefOid } }")
		vars["pull"] = in
	}

	var (
		mu    sync.Mutex
		fatal *Refusal // a step the pull request is not left open without
	)
	refuse := func(ref *Refusal, isFatal bool) {
		mu.Lock()
		defer mu.Unlock()
		done.Refused = append(done.Refused, ref)
		if isFatal && fatal == nil {
			fatal = ref
		}
	}
	var eg errgroup.Group
	if len(sel) > 0 {
		eg.Go(func() error {
			q := "mutation daytwoFinish(" + strings.Join(decl, ", ") + ") {\n  " + strings.Join(sel, "\n  ") + "\n}"
			var data struct {
				Pull *struct {
					PullRequest struct {
						HeadRefOid string `json:"headRefOid"`
					} `json:"pullRequest"`
				} `json:"pull"`
				Check *struct {
					CheckRun struct {
						Repository struct {
							PullRequest *struct {
								HeadRefOid string `json:"headRefOid"`
								State      string `json:"state"`
							} `json:"pullRequest"`
						} `json:"repository"`
					} `json:"checkRun"`
				} `json:"check"`
			}
			// Repeatable: labels and reviews add, the comment and PR edits set; a second
			// render check on the same head only repeats the first.
			ferrs, err := g.Do(repeatableCtx(ctx), q, vars, &data)
			if err != nil {
				// Nothing of it is known to have happened.
				err = fmt.Errorf("label and request reviews on #%d of %s: %w", pr.Number, r.FullName(), err)
				if _, ok := vars["labels"]; ok {
					refuse(RefusalOf(StepLabels, labelNames(f.Labels, ids), err), true)
				}
				if _, ok := vars["reviews"]; ok {
					refuse(RefusalOf(StepReviews, reviewerNames(r.Owner, users, teams, ids), err), true)
				}
				if _, ok := vars["check"]; ok {
					refuse(RefusalOf(StepCheck, nil, err), false)
				}
				if _, ok := vars["pull"]; ok {
					refuse(RefusalOf(StepDescription, nil, err), false)
				}
				return nil
			}
			log := zerolog.Ctx(ctx)
			if e := ferrs.At("pull"); e != nil {
				log.Warn().Str("error", e.Message).Msg("cannot update the pull request's description")
				refuse(fieldRefusal(StepDescription, nil, e), false)
			} else if data.Pull != nil {
				done.HeadAfterEdit = data.Pull.PullRequest.HeadRefOid
			}
			if e := ferrs.At("check"); e != nil {
				log.Warn().Str("error", e.Message).Msg("cannot publish the render check")
				refuse(fieldRefusal(StepCheck, nil, e), false)
			} else if data.Check != nil && data.Check.CheckRun.Repository.PullRequest != nil {
				p := data.Check.CheckRun.Repository.PullRequest
				done.HeadAfter, done.State = p.HeadRefOid, p.State
			}
			if e := ferrs.At("status"); e != nil {
				log.Warn().Str("error", e.Message).Msg("cannot update the status comment")
			} else if f.CommentNodeID != "" {
				done.Commented = true
			}
			if e := ferrs.At("labels"); e != nil {
				refuse(fieldRefusal(StepLabels, labelNames(f.Labels, ids), e), true)
			}
			if e := ferrs.At("reviews"); e != nil {
				// GitHub refuses the whole request when one reviewer cannot review; REST
				// asks each alone and skips those refused.
				log.Warn().Str("error", e.Message).Msg("review request refused; asking reviewers one by one")
				refused, err := r.requestReviews(ctx, pr.Number, users, teams)
				for _, ref := range refused {
					refuse(ref, false)
				}
				if err != nil {
					refuse(RefusalOf(StepReviews, reviewerNames(r.Owner, users, teams, nil), err), true)
				}
			}
			return nil
		})
	}
	if len(restLabels) > 0 {
		eg.Go(func() error {
			if _, _, err := r.Client.Issues.AddLabelsToIssue(ctx, r.Owner, r.Name, pr.Number, restLabels); err != nil {
				refuse(RefusalOf(StepLabels, restLabels, fmt.Errorf("label pull request #%d of %s: %w", pr.Number, r.FullName(), err)), true)
			}
			return nil
		})
	}
	if len(restUsers)+len(restTeams) > 0 {
		eg.Go(func() error {
			refused, err := r.requestReviews(ctx, pr.Number, restUsers, restTeams)
			for _, ref := range refused {
				refuse(ref, false)
			}
			if err != nil {
				refuse(RefusalOf(StepReviews, reviewerNames(r.Owner, restUsers, restTeams, nil), err), true)
			}
			return nil
		})
	}
	_ = eg.Wait() // the steps report what failed through refuse
	if fatal != nil && pr.Fresh {
		return done, r.withdraw(ctx, pr, fatal)
	}
	return done, nil
}

// labelNames are the labels of names that went by id (through GraphQL).
func labelNames(names []string, ids *ChangeRead) []string {
	var out []string
	for _, l := range names {
		if _, ok := ids.Labels[l]; ok {
			out = append(out, l)
		}
	}
	return out
}

// reviewerNames are users and teams (slugs of owner's teams) as "user" and "org/team";
// with ids, only those that went by id.
func reviewerNames(owner string, users, teams []string, ids *ChangeRead) []string {
	var out []string
	for _, u := range users {
		if _, ok := ids.userID(u); ok || ids == nil {
			out = append(out, u)
		}
	}
	for _, t := range teams {
		if _, ok := ids.teamID(owner + "/" + t); ok || ids == nil {
			out = append(out, owner+"/"+t)
		}
	}
	return out
}

// withdraw closes a new change whose labels or reviewers failed; a stack that grew keeps
// its earlier requests and only reports the error.
//
// A new change is withdrawn only while it holds nothing but this request: once another
// request was added to it, closing it would lose that one. It then stays open, the error
// logged, and the next request for the target labels it.
func (r Repo) withdraw(ctx context.Context, pr *PR, err error) error {
	if !pr.Fresh {
		return err
	}
	if ms, merr := r.MergeState(context.WithoutCancel(ctx), pr.Number); merr == nil && ms.HeadSHA != pr.HeadSHA {
		zerolog.Ctx(ctx).Error().Err(err).Int("pr", pr.Number).Msg("labelling or review requests failed, and another request was added meanwhile: the PR stays")
		return nil
	}
	return r.cleanUp(ctx, pr.Branch, pr.Number, err)
}

// EditChange replaces a pull request's title and body and returns its head right after.
func (r Repo) EditChange(ctx context.Context, number int, title, body string) (string, error) {
	p, _, err := r.Client.PullRequests.Edit(ctx, r.Owner, r.Name, number, &gh.PullRequest{Title: gh.String(title), Body: gh.String(body)})
	if err != nil {
		return "", fmt.Errorf("update pull request #%d of %s: %w", number, r.FullName(), err)
	}
	return p.GetHead().GetSHA(), nil
}

// PullCommits reads a pull request's commits, oldest first (at most 250, GitHub's limit).
func (r Repo) PullCommits(ctx context.Context, number int) ([]Commit, error) {
	opt := &gh.ListOptions{PerPage: 100}
	var out []Commit
	for {
		cs, res, err := r.Client.PullRequests.ListCommits(ctx, r.Owner, r.Name, number, opt)
		if err != nil {
			return nil, fmt.Errorf("list the commits of #%d of %s: %w", number, r.FullName(), err)
		}
		for _, c := range cs {
			out = append(out, Commit{SHA: c.GetSHA(), Message: c.GetCommit().GetMessage()})
		}
		if res.NextPage == 0 {
			return out, nil
		}
		opt.Page = res.NextPage
	}
}

// PullBody reads a pull request's description.
func (r Repo) PullBody(ctx context.Context, number int) (string, error) {
	p, _, err := r.Client.PullRequests.Get(ctx, r.Owner, r.Name, number)
	if err != nil {
		return "", fmt.Errorf("read pull request #%d of %s: %w", number, r.FullName(), err)
	}
	return p.GetBody(), nil
}

// requestReviews asks users and teams to review and returns GitHub's refusals of those it
// would not ask (422: no access to the repository), one per reviewer. GitHub refuses the
// whole request when one of them cannot review; then each is asked alone and those
// refused are skipped, as GitHub skips such code owners itself.
func (r Repo) requestReviews(ctx context.Context, number int, users, teams []string) (refused []*Refusal, err error) {
	_, _, err = r.Client.PullRequests.RequestReviewers(ctx, r.Owner, r.Name, number, gh.ReviewersRequest{Reviewers: users, TeamReviewers: teams})
	switch {
	case err == nil:
		return nil, nil
	case statusOf(err) != http.StatusUnprocessableEntity:
		return nil, fmt.Errorf("request reviews on #%d of %s: %w", number, r.FullName(), err)
	}
	one := func(req gh.ReviewersRequest, who string) error {
		_, _, err := r.Client.PullRequests.RequestReviewers(ctx, r.Owner, r.Name, number, req)
		if err != nil && statusOf(err) == http.StatusUnprocessableEntity {
			zerolog.Ctx(ctx).Warn().Err(err).Int("pr", number).Str("reviewer", who).Msg("GitHub refused a reviewer; skipped")
			refused = append(refused, RefusalOf(StepReviews, []string{who}, err))
			return nil
		}
		if err != nil {
			return fmt.Errorf("request review from %s on #%d of %s: %w", who, number, r.FullName(), err)
		}
		return nil
	}
	if len(users)+len(teams) == 1 {
		who := r.Owner + "/" + strings.Join(teams, "")
		if len(users) == 1 {
			who = users[0]
		}
		zerolog.Ctx(ctx).Warn().Err(err).Int("pr", number).Msg("GitHub refused the reviewer; the pull request stays without the review request")
		return []*Refusal{RefusalOf(StepReviews, []string{who}, err)}, nil
	}
	for _, u := range users {
		if err := one(gh.ReviewersRequest{Reviewers: []string{u}}, u); err != nil {
			return refused, err
		}
	}
	for _, t := range teams {
		if err := one(gh.ReviewersRequest{TeamReviewers: []string{t}}, r.Owner+"/"+t); err != nil {
			return refused, err
		}
	}
	return refused, nil
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
