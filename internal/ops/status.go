package ops

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/handler"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// status is the one comment a request gets in the thread that asked, edited in place as
// the request progresses (planned → PR opened → approved → merged) or fails. Its hidden
// mark names the request and how it stands.
type status struct {
	thread ghapi.Thread
	id     int64
	nodeID string // GraphQL id, when it was posted through GraphQL
	head   string // first line: the command as asked and by whom
	steps  []string
	mark   ghapi.StatusMark
}

// startStatus posts the comment at once, so the requester sees that daytwo is on it. With
// the thread's node id it goes through GraphQL, together with the 👀 reaction when the
// request asks for it; otherwise (or should GraphQL fail) through REST.
//
// A request answered before (the same comment delivered again, on any replica) keeps its
// first status comment: the new one is deleted and the old one returned, with repeat set.
// A repeat of a request that reached its end has nothing left to do.
func startStatus(ctx context.Context, thread ghapi.Thread, g *ghapi.GraphQL, req handler.Request, line, now string) (s *status, repeat bool, err error) {
	s = &status{thread: thread, head: fmt.Sprintf("@%s asked for %s", req.Author, codeSpan(line)),
		mark: ghapi.StatusMark{Request: req.ID(), State: ghapi.StateWorking}}
	body := s.render(now)
	if g != nil && req.ThreadNodeID != "" {
		reactTo := ""
		if req.Ack {
			reactTo = req.CommentNodeID
			if req.CommentID == 0 {
				reactTo = req.ThreadNodeID
			}
		}
		p, prior, err := thread.Acknowledge(ctx, g, req.ThreadNodeID, reactTo, body, s.mark.Request)
		if err == nil {
			if prior != nil {
				if err := thread.DeleteComment(context.WithoutCancel(ctx), p.ID); err != nil {
					zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot delete a duplicate status comment")
				}
				old := parseStatus(thread, prior.ID, prior.Body)
				old.nodeID = prior.NodeID
				zerolog.Ctx(ctx).Info().Int64("comment", prior.ID).Str("state", old.mark.State).Msg("the request was answered before; continuing on its status comment")
				return old, true, nil
			}
			s.id, s.nodeID = p.ID, p.NodeID
			return s, false, nil
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
		return nil, false, err
	}
	s.id = id
	return s, false, nil
}

// resumeStatus continues a status comment posted earlier: it keeps the head, the steps
// and the mark of the current body.
func resumeStatus(ctx context.Context, thread ghapi.Thread, id int64) (*status, error) {
	body, err := thread.GetComment(ctx, id)
	if err != nil {
		return nil, err
	}
	return parseStatus(thread, id, body), nil
}

func parseStatus(thread ghapi.Thread, id int64, body string) *status {
	s := &status{thread: thread, id: id, head: firstLine(body)}
	s.mark, _ = ghapi.ParseStatusMark(body)
	for _, line := range strings.Split(body, "\n")[1:] {
		if st, ok := strings.CutPrefix(line, "- "); ok {
			s.steps = append(s.steps, st)
		}
	}
	return s
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
	b.WriteString("\n")
	b.WriteString(s.mark.String())
	b.WriteString("\n")
	return b.String()
}

// set records how the request stands; pr 0 keeps the pull request known so far.
func (s *status) set(state string, pr int) *status {
	s.mark.State = state
	if pr != 0 {
		s.mark.PR = pr
	}
	return s
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

// fail shows why the request was not carried out; the steps so far stay visible.
func (s *status) fail(ctx context.Context, state, msg string) {
	s.set(state, 0)
	s.write(ctx, "❌ "+msg)
}

func (s *status) write(ctx context.Context, now string) {
	if err := s.thread.EditComment(ctx, s.id, s.render(now)); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Int64("comment", s.id).Msg("could not update the status comment")
	}
}

// statuses are the status comments of every request a pull request carries, told the
// same news.
type statuses []*status

func (ss statuses) step(ctx context.Context, done, next string) {
	for _, s := range ss {
		s.step(ctx, done, next)
	}
}

func (ss statuses) set(state string, pr int) statuses {
	for _, s := range ss {
		s.set(state, pr)
	}
	return ss
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// codeSpan shows s literally as inline code, whatever backticks it holds.
func codeSpan(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	run, longest := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || longest > 0 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// failWith reports err as the reason the request was not carried out: a refusal when it
// says what to change, a failure when it was daytwo's or GitHub's error.
func (s *status) failWith(ctx context.Context, err error) {
	state := ghapi.StateRefused
	if c := plan.ErrorCode(err); c == plan.Internal || c == plan.Conflict {
		state = ghapi.StateFailed
	}
	s.fail(ctx, state, userMessage(ctx, err))
}
