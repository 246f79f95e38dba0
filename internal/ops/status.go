package ops

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/handler"
)

// status is the one comment a command gets in the thread that asked, edited in place as
// the command progresses (planned → PR opened → approved → merged) or fails.
type status struct {
	thread ghapi.Thread
	id     int64
	nodeID string // GraphQL id, when it was posted through GraphQL
	head   string // first line: the command as asked and by whom
	steps  []string
}

// startStatus posts the comment at once, so the requester sees that daytwo is on it. With
// the thread's node id it goes through GraphQL, together with the 👀 reaction when the
// request asks for it; otherwise (or should GraphQL fail) through REST.
func startStatus(ctx context.Context, thread ghapi.Thread, g *ghapi.GraphQL, req handler.Request, line, now string) (*status, error) {
	s := &status{thread: thread, head: fmt.Sprintf("@%s asked for `%s`", req.Author, strings.ReplaceAll(line, "`", "'"))}
	body := s.render(now)
	if g != nil && req.ThreadNodeID != "" {
		reactTo := ""
		if req.Ack {
			reactTo = req.CommentNodeID
			if req.CommentID == 0 {
				reactTo = req.ThreadNodeID
			}
		}
		p, err := thread.Acknowledge(ctx, g, req.ThreadNodeID, reactTo, body)
		if err == nil {
			s.id, s.nodeID = p.ID, p.NodeID
			return s, nil
		}
		zerolog.Ctx(ctx).Warn().Err(err).Msg("GraphQL comment failed; posting through REST")
		if req.Ack {
			handler.Acknowledge(ctx, thread, req)
		}
	} else if req.Ack {
		handler.Acknowledge(ctx, thread, req)
	}
	id, err := thread.Comment(ctx, body)
	if err != nil {
		return nil, err
	}
	s.id = id
	return s, nil
}

// resumeStatus continues a status comment posted earlier (its id is in the PR's metadata):
// it keeps the head and the steps of the current body.
func resumeStatus(ctx context.Context, thread ghapi.Thread, id int64) (*status, error) {
	body, err := thread.GetComment(ctx, id)
	if err != nil {
		return nil, err
	}
	s := &status{thread: thread, id: id, head: firstLine(body)}
	for _, line := range strings.Split(body, "\n")[1:] {
		if st, ok := strings.CutPrefix(line, "- "); ok {
			s.steps = append(s.steps, st)
		}
	}
	return s, nil
}

func (s *status) render(now string) string {
	var b strings.Builder
	b.WriteString(s.head)
	b.WriteString("\n\n")
	for _, st := range s.steps {
		b.WriteString("- ")
		b.WriteString(st)
		b.WriteString("\n")
	}
	if now != "" {
		if len(s.steps) > 0 {
			b.WriteString("\n")
		}
		b.WriteString(now)
		b.WriteString("\n")
	}
	return b.String()
}

// advance records a finished step and returns the body showing next, for a caller that
// writes it in a request of its own.
func (s *status) advance(done, next string) string {
	if done != "" {
		s.steps = append(s.steps, done)
	}
	return s.render(next)
}

// step records a finished step and shows what happens next.
func (s *status) step(ctx context.Context, done, next string) {
	if done != "" {
		s.steps = append(s.steps, done)
	}
	s.write(ctx, next)
}

// fail shows what went wrong and what to do; the steps so far stay visible.
func (s *status) fail(ctx context.Context, msg string) {
	s.write(ctx, "❌ "+msg)
}

func (s *status) write(ctx context.Context, now string) {
	if err := s.thread.EditComment(ctx, s.id, s.render(now)); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Int64("comment", s.id).Msg("could not update the status comment")
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
