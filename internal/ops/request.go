package ops

import (
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
)

// Request is a comment or an issue body that holds commands, whatever event carried it:
// issue comments, PR comments and issue-form submissions all meet in this type.
type Request struct {
	InstallationID int64
	Owner, Repo    string
	Number         int   // issue or PR number (they share one sequence)
	IsPR           bool  // the thread is a pull request
	CommentID      int64 // 0 when the request is the issue body itself
	Author         string
	AuthorType     string // "User", "Bot", "Organization"
	Association    string // author_association: a pre-filter only, never authority
	Body           string
	Labels         []string
	URL            string // html_url of the comment or issue: the origin to link back to
	DeliveryID     string
	// GraphQL node ids of the thread (issue or pull request) and of the asking comment.
	ThreadNodeID, CommentNodeID string
	// Index is the command's place among the commands of the text (1-based): with the
	// comment it identifies the request, however often it is delivered.
	Index int
}

// Asked is one command of a text, at its place among the text's commands (1-based).
type Asked struct {
	Index   int
	Command command.Command
}

// Reply is the one answer to the parts of a text that are not carried out: help, and
// usage errors (then Refused).
type Reply struct {
	Body    string // markdown; "" when there is nothing to say
	Refused bool
}

// ID identifies one command of a comment or issue body: the same text delivered again,
// under any delivery id, is the same request; another comment is another request.
func (r Request) ID() string {
	src := "body"
	if r.CommentID != 0 {
		src = fmt.Sprintf("comment-%d", r.CommentID)
	}
	return fmt.Sprintf("%s#%d/%s/%d", r.FullRepo(), r.Number, src, max(r.Index, 1))
}

// ReplyID identifies the one reply to the parts of the text that are not carried out
// (help, usage errors).
func (r Request) ReplyID() string {
	id := r.ID()
	return id[:strings.LastIndexByte(id, '/')] + "/reply"
}

// FullRepo is "owner/name".
func (r Request) FullRepo() string { return r.Owner + "/" + r.Repo }

// FromBot reports whether a bot wrote it: daytwo's own replies and every other app.
func (r Request) FromBot() bool {
	return r.AuthorType == "Bot" || strings.HasSuffix(r.Author, "[bot]")
}
