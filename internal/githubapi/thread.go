package githubapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
)

// MaxCommentBytes is GitHub's limit on an issue comment body (65,536 characters).
const MaxCommentBytes = 65536

// Thread is one issue or pull request conversation, where daytwo replies and reacts.
type Thread struct {
	Client *gh.Client
	Owner  string
	Repo   string
	Number int
}

// React adds a reaction ("eyes", "+1", "confused", ...) to a comment; an existing
// reaction is not an error.
func (t Thread) React(ctx context.Context, commentID int64, content string) error {
	_, _, err := t.Client.Reactions.CreateIssueCommentReaction(ctx, t.Owner, t.Repo, commentID, content)
	if err != nil {
		return fmt.Errorf("react %s to comment %d in %s/%s#%d: %w", content, commentID, t.Owner, t.Repo, t.Number, err)
	}
	return nil
}

// ReactToIssue adds a reaction to the issue (or PR) itself, for requests made in its body.
func (t Thread) ReactToIssue(ctx context.Context, content string) error {
	_, _, err := t.Client.Reactions.CreateIssueReaction(ctx, t.Owner, t.Repo, t.Number, content)
	if err != nil {
		return fmt.Errorf("react %s to %s/%s#%d: %w", content, t.Owner, t.Repo, t.Number, err)
	}
	return nil
}

// Comment posts body (truncated to GitHub's limit) and returns the new comment's id.
func (t Thread) Comment(ctx context.Context, body string) (int64, error) {
	c, _, err := t.Client.Issues.CreateComment(ctx, t.Owner, t.Repo, t.Number, &gh.IssueComment{Body: gh.String(Truncate(body, MaxCommentBytes))})
	if err != nil {
		return 0, fmt.Errorf("comment on %s/%s#%d: %w", t.Owner, t.Repo, t.Number, err)
	}
	return c.GetID(), nil
}

// GetComment returns the body of a comment.
func (t Thread) GetComment(ctx context.Context, id int64) (string, error) {
	c, _, err := t.Client.Issues.GetComment(ctx, t.Owner, t.Repo, id)
	if err != nil {
		return "", fmt.Errorf("read comment %d on %s/%s: %w", id, t.Owner, t.Repo, err)
	}
	return c.GetBody(), nil
}

// EditComment replaces the body of a comment daytwo posted earlier.
func (t Thread) EditComment(ctx context.Context, id int64, body string) error {
	_, _, err := t.Client.Issues.EditComment(ctx, t.Owner, t.Repo, id, &gh.IssueComment{Body: gh.String(Truncate(body, MaxCommentBytes))})
	if err != nil {
		return fmt.Errorf("edit comment %d on %s/%s#%d: %w", id, t.Owner, t.Repo, t.Number, err)
	}
	return nil
}

const truncatedNote = "\n\n…(truncated to fit GitHub's comment size limit)"

// Truncate cuts s to at most limit bytes on a rune boundary, saying so at the end.
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len(truncatedNote)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncatedNote
}

// Posted is a comment daytwo wrote, by both of its ids.
type Posted struct {
	ID     int64  // REST id
	NodeID string // GraphQL id
}

// Prior is a status comment of the same request posted before this one.
type Prior struct {
	Posted
	Body      string
	UpdatedAt time.Time // when it was last edited
}

// PostStatus posts body in the thread whose node id is threadNode and, when reactTo is
// set (the asking comment's or issue's node id), reacts 👀 to it in the same request. The
// answer also holds the thread's newest comments, read after this one was added: when
// daytwo answered request (the StatusMark's) there before, priors are those earlier
// comments, oldest first, and this one is a duplicate the caller removes. Two deliveries
// posting at the same moment both see the older comment, so exactly one survives.
func (t Thread) PostStatus(ctx context.Context, g *GraphQL, threadNode, reactTo, body, request string) (Posted, []Prior, error) {
	vars := map[string]any{"comment": map[string]any{"subjectId": threadNode, "body": Truncate(body, MaxCommentBytes)}}
	const comments = `comments(last: 100) { nodes { id databaseId viewerDidAuthor body updatedAt } }`
	sel := `comment: addComment(input: $comment) { commentEdge { node { id databaseId } }
    subject { ... on Issue { ` + comments + ` } ... on PullRequest { ` + comments + ` } } }`
	q := `mutation daytwoAck($comment: AddCommentInput!) {
  ` + sel + `
}`
	if reactTo != "" {
		vars["eyes"] = map[string]any{"subjectId": reactTo, "content": "EYES"}
		q = `mutation daytwoAck($eyes: AddReactionInput!, $comment: AddCommentInput!) {
  eyes: addReaction(input: $eyes) { reaction { content } }
  ` + sel + `
}`
	}
	type node struct {
		ID              string    `json:"id"`
		DatabaseID      int64     `json:"databaseId"`
		ViewerDidAuthor bool      `json:"viewerDidAuthor"`
		Body            string    `json:"body"`
		UpdatedAt       time.Time `json:"updatedAt"`
	}
	var data struct {
		Comment *struct {
			CommentEdge struct {
				Node node `json:"node"`
			} `json:"commentEdge"`
			Subject *struct {
				Comments struct {
					Nodes []node `json:"nodes"`
				} `json:"comments"`
			} `json:"subject"`
		} `json:"comment"`
	}
	ferrs, err := g.Do(ctx, q, vars, &data)
	if err != nil {
		return Posted{}, nil, fmt.Errorf("comment in %s/%s#%d: %w", t.Owner, t.Repo, t.Number, err)
	}
	if e := ferrs.At("eyes"); e != nil {
		zerolog.Ctx(ctx).Warn().Str("error", e.Message).Msg("could not acknowledge with a reaction")
	}
	if data.Comment == nil || data.Comment.CommentEdge.Node.DatabaseID == 0 {
		return Posted{}, nil, fmt.Errorf("comment in %s/%s#%d: %w", t.Owner, t.Repo, t.Number, ferrs)
	}
	n := data.Comment.CommentEdge.Node
	mine := Posted{ID: n.DatabaseID, NodeID: n.ID}
	var priors []Prior
	if s := data.Comment.Subject; s != nil && request != "" {
		for _, c := range s.Comments.Nodes {
			if !c.ViewerDidAuthor || c.DatabaseID >= mine.ID {
				continue
			}
			if m, ok := ParseStatusMark(c.Body); ok && m.Request == request {
				priors = append(priors, Prior{Posted: Posted{ID: c.DatabaseID, NodeID: c.ID}, Body: c.Body, UpdatedAt: c.UpdatedAt})
			}
		}
	}
	slices.SortFunc(priors, func(a, b Prior) int { return cmp.Compare(a.ID, b.ID) })
	return mine, priors, nil
}

// FindStatus finds daytwo's status comments for request among the thread's newest
// comments, oldest first, through REST: for when GraphQL, which finds them while posting,
// failed.
func (t Thread) FindStatus(ctx context.Context, request string) ([]Prior, error) {
	return t.FindMarked(ctx, func(m StatusMark) bool { return m.Request == request })
}

// FindMarked finds daytwo's comments among the thread's newest whose mark keep accepts,
// oldest first.
func (t Thread) FindMarked(ctx context.Context, keep func(StatusMark) bool) ([]Prior, error) {
	opt := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	cs, res, err := t.Client.Issues.ListComments(ctx, t.Owner, t.Repo, t.Number, opt)
	if err == nil && res.LastPage > 1 {
		opt.Page = res.LastPage
		var last []*gh.IssueComment
		if last, _, err = t.Client.Issues.ListComments(ctx, t.Owner, t.Repo, t.Number, opt); err == nil {
			cs = append(cs, last...)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list the comments of %s/%s#%d: %w", t.Owner, t.Repo, t.Number, err)
	}
	var out []Prior
	seen := map[int64]bool{}
	for _, c := range cs {
		if c.GetUser().GetType() != "Bot" || seen[c.GetID()] {
			continue
		}
		seen[c.GetID()] = true
		if m, ok := ParseStatusMark(c.GetBody()); ok && keep(m) {
			out = append(out, Prior{Posted: Posted{ID: c.GetID(), NodeID: c.GetNodeID()}, Body: c.GetBody(), UpdatedAt: c.GetUpdatedAt().Time})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DeleteComment deletes a comment daytwo posted; one already gone is fine.
func (t Thread) DeleteComment(ctx context.Context, id int64) error {
	_, err := t.Client.Issues.DeleteComment(ctx, t.Owner, t.Repo, id)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete comment %d on %s/%s#%d: %w", id, t.Owner, t.Repo, t.Number, err)
	}
	return nil
}

// StatusMark is the hidden last line of a status comment: which request it answers and how
// that request stands, so that a repeated delivery finds the comment instead of posting
// another, and so that anyone (a person's script, a test) can read the outcome.
type StatusMark struct {
	Request string `json:"request"`
	State   string `json:"state"`        // see the State* constants
	PR      int    `json:"pr,omitempty"` // the pull request carrying (or that carried) the change
	By      string `json:"by,omitempty"` // overridden: the request that overrode it
	// Attempt tells one delivery's work on the request from another's: a comment whose
	// post seemed to fail but went through is recognised as the same attempt's.
	Attempt string `json:"attempt,omitempty"`
	// Run is the workflow run a /run request started: what the workflow_run webhooks
	// and /history find the request by.
	Run *RunMark `json:"run,omitempty"`
	// Expiry is what an /extend or a /cancel did to the expiry of a time-boxed change:
	// the record the leader reads, beside the change's Daytwo-Expires trailer.
	Expiry *ExpiryMark `json:"expiry,omitempty"`
}

// ExpiryMark records one /extend (Extend, a duration) or a /cancel of the expiry (Cancel)
// of the time-boxed change merged, or to be merged, by pull request PR (owner/name#number).
type ExpiryMark struct {
	PR     string `json:"pr"`
	Extend string `json:"extend,omitempty"`
	Cancel bool   `json:"cancel,omitempty"`
	By     string `json:"by"`
}

// RunMark records a workflow run /run started, in its request's status comment: it is
// not a change in Git, so this is its record.
type RunMark struct {
	Repo       string            `json:"repo"`     // owner/name holding the workflow
	ID         int64             `json:"id"`       // the run's id
	Workflow   string            `json:"workflow"` // the name .github/daytwo.yml lists
	File       string            `json:"file"`     // its file under .github/workflows, or its id
	Ref        string            `json:"ref"`
	Inputs     map[string]string `json:"inputs,omitempty"` // given, and defaults of the others
	Service    string            `json:"service,omitempty"`
	Env        string            `json:"env"`
	By         string            `json:"by"`               // who asked
	Reason     string            `json:"reason,omitempty"` // from the issue form
	Status     string            `json:"status,omitempty"` // queued, in_progress, completed
	Conclusion string            `json:"conclusion,omitempty"`
}

// The states of a request.
const (
	StateWorking    = "working"    // not finished
	StateOpen       = "open"       // the change is in open pull request PR
	StateMerged     = "merged"     // its pull request PR was merged
	StateClosed     = "closed"     // its pull request PR was closed unmerged or cancelled
	StateOverridden = "overridden" // a later request in PR set the same field; By names it
	StateRefused    = "refused"    // not carried out, and the comment says why
	StateFailed     = "failed"     // not carried out because of an error; nothing of it is in a PR
	StateDryRun     = "dry-run"
	StateAnswered   = "answered"  // read-only commands, /cancel, replies
	StateRunning    = "running"   // the workflow run in Run was started and has not completed
	StateCompleted  = "completed" // the workflow run in Run completed; Run.Conclusion says how
)

const statusMarkOpen = "<!-- daytwo-status: "

// String is the mark as an HTML comment; json.Marshal escapes <, > and &, so no value
// can end the comment early.
func (m StatusMark) String() string {
	b, _ := json.Marshal(m) // strings and an int always encode
	return statusMarkOpen + string(b) + " -->"
}

// Final reports whether the request reached its end: a repeat has nothing left to do.
func (m StatusMark) Final() bool { return m.State != "" && m.State != StateWorking }

// ParseStatusMark reads the mark of a status comment; false when it has none.
func ParseStatusMark(body string) (StatusMark, bool) {
	i := strings.LastIndex(body, statusMarkOpen)
	if i < 0 {
		return StatusMark{}, false
	}
	rest := body[i+len(statusMarkOpen):]
	end := strings.Index(rest, " -->")
	var m StatusMark
	if end < 0 || json.Unmarshal([]byte(rest[:end]), &m) != nil || m.Request == "" {
		return StatusMark{}, false
	}
	return m, true
}
