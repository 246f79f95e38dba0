package ops

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// statusComment is the one comment a request gets in the thread that asked, edited in place as
// the request progresses (planned → PR opened → approved → merged) or fails. Its hidden
// mark names the request and how it stands.
type statusComment struct {
	thread githubapi.Thread
	id     int64
	nodeID string // GraphQL id, when it was posted through GraphQL
	head   string // first line: the command as asked and by whom
	steps  []string
	mark   githubapi.StatusMark
	// elsewhere is set on a repeat of a request another delivery is still working on: its
	// status changed recently and is not final. The repeat leaves the work to it.
	elsewhere bool
}

// abandonedAfter is how long a status may stay unfinished and unchanged before a repeat
// of its request takes the work over, as from a daytwo that died carrying it out.
const abandonedAfter = 10 * time.Minute

// done reports whether a repeat of the request has nothing to do: the request reached its
// end, or another delivery is on it.
func (s *statusComment) done() bool { return s.mark.Final() || s.elsewhere }

// statusRef is where st is, as the Daytwo-Status trailer holds it: owner/name#number/id.
func statusRef(st *statusComment) string {
	t := st.thread
	return fmt.Sprintf("%s/%s#%d/%d", t.Owner, t.Repo, t.Number, st.id)
}

func parseStatusRef(s string) (owner, name string, number int, id int64, ok bool) {
	repo, rest, ok1 := strings.Cut(s, "#")
	num, idStr, ok2 := strings.Cut(rest, "/")
	owner, name, ok3 := strings.Cut(repo, "/")
	n, err1 := strconv.Atoi(num)
	i, err2 := strconv.ParseInt(idStr, 10, 64)
	if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil || owner == "" || name == "" {
		return "", "", 0, 0, false
	}
	return owner, name, n, i, true
}

// reaction is the 👀 a request's text gets once, so the requester sees at once that daytwo
// is on it: with the first comment daytwo posts for the text, in the same GraphQL request,
// or, where the thread's node id is unknown, through REST alongside the work.
type reaction struct {
	thread  githubapi.Thread
	req     Request
	pending bool          // to go with the next comment posted
	done    chan struct{} // closed once a reaction sent alongside has its answer
}

func newReaction(ctx context.Context, thread githubapi.Thread, req Request) *reaction {
	e := &reaction{thread: thread, req: req, pending: true}
	if req.ThreadNodeID == "" {
		e.pending, e.done = false, make(chan struct{})
		go func() {
			defer close(e.done)
			e.send(ctx)
		}()
	}
	return e
}

// take returns the node id to react to with the comment about to be posted, and counts
// the reaction as sent; "" when it went already.
func (e *reaction) take() string {
	if e == nil || !e.pending {
		return ""
	}
	e.pending = false
	if e.req.CommentID == 0 {
		return e.req.ThreadNodeID
	}
	return e.req.CommentNodeID
}

// send reacts through REST: to the comment, or to the issue it opened. A failure is logged
// only; the answer that follows matters more.
func (e *reaction) send(ctx context.Context) {
	var err error
	if e.req.CommentID != 0 {
		err = e.thread.React(ctx, e.req.CommentID, "eyes")
	} else {
		err = e.thread.ReactToIssue(ctx, "eyes")
	}
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("could not acknowledge with a reaction")
	}
}

// wait returns once a reaction sent alongside the work has its answer.
func (e *reaction) wait() {
	if e.done != nil {
		<-e.done
	}
}

// startStatus posts the comment at once, so the requester sees that daytwo is on it. With
// the thread's node id it goes through GraphQL, together with the 👀 reaction when eyes
// has not been sent yet; otherwise (or should GraphQL fail) through REST.
//
// A request answered before (the same comment delivered again, on any replica) keeps its
// first status comment: the new one is deleted and the old one returned, with repeat set.
// A repeat has nothing left to do (done) unless the first attempt was abandoned.
func startStatus(ctx context.Context, thread githubapi.Thread, g *githubapi.GraphQL, req Request, eyes *reaction, line, now string) (s *statusComment, repeat bool, err error) {
	head := fmt.Sprintf("@%s asked for %s", req.Author, markdown.Code(line))
	if req.Restores != "" {
		head = fmt.Sprintf("⏰ The time-boxed change %s of @%s expired; restoring what was there before: %s", req.Restores, req.Author, markdown.Code(line))
	}
	s = &statusComment{thread: thread, head: head,
		mark: githubapi.StatusMark{Request: req.ID(), State: githubapi.StateWorking}}
	return postStatus(ctx, g, req, eyes, s, now)
}

// postStatus posts s showing now, once per request: see startStatus. GitHub refusing the
// comment is tried again a few times: without it the asker hears nothing.
func postStatus(ctx context.Context, g *githubapi.GraphQL, req Request, eyes *reaction, s *statusComment, now string) (_ *statusComment, repeat bool, err error) {
	s.mark.Attempt = newAttempt()
	for attempt := 1; ; attempt++ {
		st, repeat, err := postStatusOnce(ctx, g, req, eyes, s, now)
		if err == nil || attempt == 3 || ctx.Err() != nil {
			return st, repeat, err
		}
		zerolog.Ctx(ctx).Warn().Err(err).Int("attempt", attempt).Msg("cannot post the status comment; trying again")
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
}

func postStatusOnce(ctx context.Context, g *githubapi.GraphQL, req Request, eyes *reaction, s *statusComment, now string) (_ *statusComment, repeat bool, err error) {
	log := zerolog.Ctx(ctx)
	thread := s.thread
	body := s.render(now)
	// The reaction goes with this post, once: a later try of it reacted already, or will
	// fail as this one did.
	reactTo := eyes.take()
	if g != nil && req.ThreadNodeID != "" {
		p, priors, err := thread.PostStatus(ctx, g, req.ThreadNodeID, reactTo, body, s.mark.Request)
		if err == nil {
			if len(priors) == 0 {
				s.id, s.nodeID = p.ID, p.NodeID
				return s, false, nil
			}
			s.id = p.ID
			return s.keepEarliest(ctx, priors)
		}
		log.Warn().Err(err).Msg("GraphQL comment failed; posting through REST")
	}
	if reactTo != "" {
		eyes.send(ctx)
	}
	// The GraphQL post may have gone through even so; and without GraphQL nothing has
	// looked for an earlier answer yet.
	found, err := thread.FindStatus(ctx, s.mark.Request)
	if err != nil {
		return nil, false, err
	}
	if len(found) == 0 {
		id, err := thread.Comment(ctx, body)
		if err != nil {
			return nil, false, err
		}
		s.id = id
		// Another delivery may have posted at the same moment: the earliest comment stays.
		if found, err = thread.FindStatus(ctx, s.mark.Request); err != nil || len(found) == 0 || found[0].ID == id {
			return s, false, nil
		}
	}
	return s.keepEarliest(ctx, found)
}

// keepEarliest continues on the earliest of the request's status comments and deletes
// every later one: this attempt's own (its answer lost, or posted at the same moment as
// another delivery's), and any left by an attempt killed before it could delete its own.
// Whoever posted a later one saw the earliest when it looked, and gave its own up.
func (s *statusComment) keepEarliest(ctx context.Context, found []githubapi.Prior) (*statusComment, bool, error) {
	later := found[1:]
	if s.id != 0 && !slices.ContainsFunc(found, func(p githubapi.Prior) bool { return p.ID == s.id }) {
		later = append(slices.Clone(later), githubapi.Prior{Posted: githubapi.Posted{ID: s.id}})
	}
	for _, p := range later {
		if err := s.thread.DeleteComment(context.WithoutCancel(ctx), p.ID); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Int64("comment", p.ID).Msg("cannot delete a duplicate status comment")
		}
	}
	return s.adopt(ctx, &found[0])
}

// adopt continues on prior, the request's earlier status comment, instead of s. Posted by
// this very attempt (its answer was lost), it is s's own; posted by another delivery, this
// is a repeat.
func (s *statusComment) adopt(ctx context.Context, prior *githubapi.Prior) (*statusComment, bool, error) {
	old := parseStatus(s.thread, prior.ID, prior.Body)
	old.nodeID = prior.NodeID
	if old.mark.Attempt == s.mark.Attempt {
		return old, false, nil
	}
	// A delivery claimed from a replica that stopped takes its unfinished work over at once.
	old.elsewhere = !old.mark.Final() && time.Since(prior.UpdatedAt) < abandonedAfter && !coord.Claimed(ctx)
	zerolog.Ctx(ctx).Info().Int64("comment", prior.ID).Str("state", old.mark.State).Msg("the request was answered before; continuing on its status comment")
	if !old.done() {
		old.mark.Attempt = s.mark.Attempt // taken over
	}
	return old, true, nil
}

func newAttempt() string {
	var b [6]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// resumeStatus continues a status comment posted earlier: it keeps the head, the steps
// and the mark of the current body.
func resumeStatus(ctx context.Context, thread githubapi.Thread, id int64) (*statusComment, error) {
	body, err := thread.GetComment(ctx, id)
	if err != nil {
		return nil, err
	}
	return parseStatus(thread, id, body), nil
}

func parseStatus(thread githubapi.Thread, id int64, body string) *statusComment {
	s := &statusComment{thread: thread, id: id, head: firstLine(body)}
	s.mark, _ = githubapi.ParseStatusMark(body)
	for _, line := range strings.Split(body, "\n")[1:] {
		if st, ok := strings.CutPrefix(line, "- "); ok {
			s.steps = append(s.steps, st)
		}
	}
	return s
}

func (s *statusComment) render(now string) string {
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
func (s *statusComment) set(state string, pr int) *statusComment {
	s.mark.State = state
	if pr != 0 {
		s.mark.PR = pr
	}
	return s
}

// advance records a finished step and returns the body showing next, for a caller that
// writes it in a request of its own.
func (s *statusComment) advance(done, next string) string {
	if done != "" {
		s.steps = append(s.steps, done)
	}
	return s.render(next)
}

// step records a finished step and shows what happens next.
func (s *statusComment) step(ctx context.Context, done, next string) {
	if done != "" {
		s.steps = append(s.steps, done)
	}
	s.write(ctx, next)
}

// fail shows why the request was not carried out; the steps so far stay visible.
func (s *statusComment) fail(ctx context.Context, state, msg string) {
	s.set(state, 0)
	s.write(ctx, "❌ "+msg)
}

func (s *statusComment) write(ctx context.Context, now string) {
	zerolog.Ctx(ctx).Debug().Int64("comment", s.id).Str("of", s.mark.Request).Str("state", s.mark.State).Int("pr", s.mark.PR).Msg("status written")
	if err := s.thread.EditComment(ctx, s.id, s.render(now)); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Int64("comment", s.id).Msg("could not update the status comment")
	}
}

// statusComments are the status comments of every request a pull request carries, told the
// same news.
type statusComments []*statusComment

func (ss statusComments) step(ctx context.Context, done, next string) {
	for _, s := range ss {
		s.step(ctx, done, next)
	}
}

func (ss statusComments) set(state string, pr int) statusComments {
	for _, s := range ss {
		s.set(state, pr)
	}
	return ss
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// failWith reports err as the reason the request was not carried out: a refusal when it
// says what to change, a failure when it was daytwo's or GitHub's error.
func (s *statusComment) failWith(ctx context.Context, err error) {
	state := githubapi.StateRefused
	if c := plan.ErrorCode(err); c == plan.Internal || c == plan.Conflict {
		state = githubapi.StateFailed
	}
	s.fail(ctx, state, userMessage(ctx, err))
}
