package github

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/daytwo-dev/daytwo/internal/plan"
)

// CreateChange writes cs the way the GraphQL API allows in one request: createRef at the
// base commit, createCommitOnBranch with the files (GitHub signs the commit, so it shows
// as Verified; expectedHeadOid guards the branch) and createPullRequest, run in that order
// as one mutation. Labels and reviewers follow with FinishChange.
//
// When the branch exists already (a redelivery, a repeated request, a concurrent delivery)
// the REST path of OpenChange takes over, which finds and reuses or updates the pull
// request. A failure after the branch was created removes it and any pull request.
func (r Repo) CreateChange(ctx context.Context, g *GraphQL, repoID string, cs *plan.ChangeSet, opts ChangeOptions) (*PR, error) {
	if err := checkChange(cs, opts); err != nil {
		return nil, err
	}
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
	msg := cs.CommitMessage
	if strings.TrimSpace(msg) == "" {
		msg = cs.Title
	}
	headline, body, _ := strings.Cut(msg, "\n")
	vars := map[string]any{
		"ref": map[string]any{"repositoryId": repoID, "name": "refs/heads/" + cs.Branch, "oid": opts.Base.Commit},
		"commit": map[string]any{
			"branch":          map[string]any{"repositoryNameWithOwner": r.FullName(), "branchName": cs.Branch},
			"expectedHeadOid": opts.Base.Commit,
			"message":         map[string]any{"headline": headline, "body": strings.TrimLeft(body, "\n")},
			"fileChanges":     map[string]any{"additions": additions, "deletions": deletions},
		},
		"pull": map[string]any{
			"repositoryId": repoID, "baseRefName": opts.Base.Branch, "headRefName": cs.Branch,
			"title": cs.Title, "body": cs.Body, "draft": opts.Draft,
		},
	}
	const q = `mutation daytwoChange($ref: CreateRefInput!, $commit: CreateCommitOnBranchInput!, $pull: CreatePullRequestInput!) {
  ref: createRef(input: $ref) { ref { id } }
  commit: createCommitOnBranch(input: $commit) { commit { oid tree { oid } } }
  pull: createPullRequest(input: $pull) { pullRequest { id number url headRefOid } }
}`
	var data struct {
		Ref *struct {
			Ref struct{ ID string } `json:"ref"`
		} `json:"ref"`
		Commit *struct {
			Commit struct {
				Oid  string `json:"oid"`
				Tree struct {
					Oid string `json:"oid"`
				} `json:"tree"`
			} `json:"commit"`
		} `json:"commit"`
		Pull *struct {
			PullRequest struct {
				ID         string `json:"id"`
				Number     int    `json:"number"`
				URL        string `json:"url"`
				HeadRefOid string `json:"headRefOid"`
			} `json:"pullRequest"`
		} `json:"pull"`
	}
	// Repeatable: sent twice, createRef refuses the second time and the REST path below
	// finds what the first one made.
	ferrs, err := g.Do(repeatableCtx(ctx), q, vars, &data)
	if err != nil {
		return nil, r.cleanUp(ctx, cs.Branch, 0, fmt.Errorf("write %s in %s: %w", cs.Branch, r.FullName(), err))
	}
	if e := ferrs.At("ref"); e != nil || data.Ref == nil {
		if e != nil && strings.Contains(e.Message, "already exists") {
			return r.OpenChange(ctx, cs, opts)
		}
		return nil, fmt.Errorf("create branch %s in %s: %w", cs.Branch, r.FullName(), ferrs)
	}
	if e := ferrs.At("commit"); e != nil || data.Commit == nil {
		if e != nil && e.Type == "STALE_DATA" {
			// The branch moved between its creation and the commit: another writer.
			return nil, r.cleanUp(ctx, cs.Branch, 0, &plan.Error{Code: plan.Conflict,
				Msg: fmt.Sprintf("branch `%s` of %s moved while daytwo wrote to it; plan again", cs.Branch, r.FullName()), Err: ferrs})
		}
		return nil, r.cleanUp(ctx, cs.Branch, 0, fmt.Errorf("commit to %s in %s: %w", cs.Branch, r.FullName(), ferrs))
	}
	if data.Commit.Commit.Tree.Oid == opts.Base.Tree {
		return nil, r.cleanUp(ctx, cs.Branch, 0, plan.Errorf(plan.NoChange, "the change leaves every file of %s as it is on `%s`; there is nothing to propose", r.FullName(), opts.Base.Branch))
	}
	if e := ferrs.At("pull"); e != nil || data.Pull == nil {
		if e != nil && strings.Contains(e.Message, "A pull request already exists") {
			// A concurrent delivery of the same request got there first; its pull request
			// now owns the branch, which must stay.
			w := &changeWrite{r: r, cs: cs, opts: opts}
			return w.existingPull(ctx, ferrs)
		}
		return nil, r.cleanUp(ctx, cs.Branch, 0, fmt.Errorf("open the pull request for %s in %s: %w", cs.Branch, r.FullName(), ferrs))
	}
	p := data.Pull.PullRequest
	return &PR{Number: p.Number, URL: p.URL, Branch: cs.Branch, HeadSHA: data.Commit.Commit.Oid, Body: cs.Body, NodeID: p.ID, Fresh: true}, nil
}

// cleanUp deletes a branch (and closes a pull request) a failed change left behind.
func (r Repo) cleanUp(ctx context.Context, branch string, number int, cause error) error {
	w := &changeWrite{r: r, cs: &plan.ChangeSet{Branch: branch}}
	return w.rollback(ctx, number, cause)
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
}

// CheckRun is a completed check run.
type CheckRun struct {
	Name, Conclusion, Title, Summary string
}

// FinishChange labels the pull request, asks the code owners to review, publishes the
// check run and updates the status comment. A label or review request that fails is an
// error, and so is the whole pull request: it is closed and its branch deleted, as a
// change without its labels and reviewers would be merged unnoticed. The check and the
// comment only log their failures; commented says whether the comment was updated.
func (r Repo) FinishChange(ctx context.Context, g *GraphQL, pr *PR, f Finish) (commented bool, err error) {
	users, teams, err := r.splitReviewers(ctx, f.Reviewers)
	if err != nil {
		return false, r.cleanUp(ctx, pr.Branch, pr.Number, err)
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
	if len(labelIDs) > 0 {
		decl, sel = append(decl, "$labels: AddLabelsToLabelableInput!"), append(sel, "labels: addLabelsToLabelable(input: $labels) { clientMutationId }")
		vars["labels"] = map[string]any{"labelableId": pr.NodeID, "labelIds": labelIDs}
	}
	if len(userIDs)+len(teamIDs) > 0 {
		decl, sel = append(decl, "$reviews: RequestReviewsInput!"), append(sel, "reviews: requestReviews(input: $reviews) { clientMutationId }")
		vars["reviews"] = map[string]any{"pullRequestId": pr.NodeID, "userIds": userIDs, "teamIds": teamIDs, "union": true}
	}
	if c := f.Check; c != nil && f.RepoID != "" {
		decl, sel = append(decl, "$check: CreateCheckRunInput!"), append(sel, "check: createCheckRun(input: $check) { checkRun { id } }")
		vars["check"] = map[string]any{
			"repositoryId": f.RepoID, "headSha": pr.HeadSHA, "name": c.Name,
			"status": "COMPLETED", "conclusion": strings.ToUpper(c.Conclusion),
			"completedAt": time.Now().UTC().Format(time.RFC3339),
			"output":      map[string]any{"title": c.Title, "summary": clipRunes(c.Summary, MaxCheckSummary)},
		}
	}
	if f.CommentNodeID != "" {
		decl, sel = append(decl, "$status: UpdateIssueCommentInput!"), append(sel, "status: updateIssueComment(input: $status) { issueComment { id } }")
		vars["status"] = map[string]any{"id": f.CommentNodeID, "body": Truncate(f.CommentBody, MaxCommentBytes)}
	}

	eg, gctx := errgroup.WithContext(ctx)
	if len(sel) > 0 {
		eg.Go(func() error {
			q := "mutation daytwoFinish(" + strings.Join(decl, ", ") + ") {\n  " + strings.Join(sel, "\n  ") + "\n}"
			var data map[string]any
			ferrs, err := g.Do(gctx, q, vars, &data)
			if err != nil {
				return fmt.Errorf("label and request reviews on #%d of %s: %w", pr.Number, r.FullName(), err)
			}
			log := zerolog.Ctx(gctx)
			if e := ferrs.At("check"); e != nil {
				log.Warn().Str("error", e.Message).Msg("cannot publish the render check")
			}
			if e := ferrs.At("status"); e != nil {
				log.Warn().Str("error", e.Message).Msg("cannot update the status comment")
			} else if f.CommentNodeID != "" {
				commented = true
			}
			if e := ferrs.At("labels"); e != nil {
				return fmt.Errorf("label pull request #%d of %s: %s", pr.Number, r.FullName(), e.Message)
			}
			if e := ferrs.At("reviews"); e != nil {
				// GitHub refuses the whole request when one reviewer cannot review; REST
				// asks each alone and skips those refused.
				log.Warn().Str("error", e.Message).Msg("review request refused; asking reviewers one by one")
				return r.requestReviews(gctx, pr.Number, users, teams)
			}
			return nil
		})
	}
	if len(restLabels) > 0 {
		eg.Go(func() error {
			if _, _, err := r.Client.Issues.AddLabelsToIssue(gctx, r.Owner, r.Name, pr.Number, restLabels); err != nil {
				return fmt.Errorf("label pull request #%d of %s: %w", pr.Number, r.FullName(), err)
			}
			return nil
		})
	}
	if len(restUsers)+len(restTeams) > 0 {
		eg.Go(func() error { return r.requestReviews(gctx, pr.Number, restUsers, restTeams) })
	}
	if err := eg.Wait(); err != nil {
		return false, r.cleanUp(ctx, pr.Branch, pr.Number, err)
	}
	return commented, nil
}
