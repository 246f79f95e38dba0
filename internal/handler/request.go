// Package handler has one event handler per GitHub webhook event. Each decodes the
// go-github event type, returns early on what daytwo ignores, normalises what is left into
// a Request, and hands it on. Handlers hold no domain logic.
package handler

import (
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Request is a comment or an issue body that may hold commands, whatever event carried it:
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
	// Ack asks the runner to react 👀 to the request together with its first comment;
	// the Responder leaves the reaction to it.
	Ack bool
	// Index is the command's place among the commands of the text (1-based): with the
	// comment it identifies the request, however often it is delivered.
	Index int
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

func labelNames(ls []*gh.Label) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	return out
}

func fromIssueComment(ev *gh.IssueCommentEvent, deliveryID string) Request {
	c, is := ev.GetComment(), ev.GetIssue()
	return Request{
		InstallationID: ev.GetInstallation().GetID(),
		Owner:          ev.GetRepo().GetOwner().GetLogin(),
		Repo:           ev.GetRepo().GetName(),
		Number:         is.GetNumber(),
		IsPR:           is.IsPullRequest(),
		CommentID:      c.GetID(),
		Author:         c.GetUser().GetLogin(),
		AuthorType:     c.GetUser().GetType(),
		Association:    c.GetAuthorAssociation(),
		Body:           c.GetBody(),
		Labels:         labelNames(is.Labels),
		URL:            c.GetHTMLURL(),
		DeliveryID:     deliveryID,
		ThreadNodeID:   is.GetNodeID(),
		CommentNodeID:  c.GetNodeID(),
	}
}

func fromIssue(ev *gh.IssuesEvent, deliveryID string) Request {
	is := ev.GetIssue()
	return Request{
		InstallationID: ev.GetInstallation().GetID(),
		Owner:          ev.GetRepo().GetOwner().GetLogin(),
		Repo:           ev.GetRepo().GetName(),
		Number:         is.GetNumber(),
		Author:         is.GetUser().GetLogin(),
		AuthorType:     is.GetUser().GetType(),
		Association:    is.GetAuthorAssociation(),
		Body:           is.GetBody(),
		Labels:         labelNames(is.Labels),
		URL:            is.GetHTMLURL(),
		DeliveryID:     deliveryID,
		ThreadNodeID:   is.GetNodeID(),
	}
}
