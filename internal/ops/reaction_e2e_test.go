package ops_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
)

// reactions counts the 👀 daytwo asked GitHub for: addReaction in a GraphQL mutation, or a
// REST reaction.
func (w *world) reactions() (graphql, rest int) {
	for _, r := range w.GH.Requests() {
		switch {
		case r.OperationType == "mutation" && bytes.Contains(r.Body, []byte("addReaction")):
			graphql++
		case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/reactions"):
			rest++
		}
	}
	return graphql, rest
}

func (w *world) eyesOn(n int, comment int64) int {
	eyes := 0
	for _, c := range w.repo.Comments(n) {
		for _, r := range c.Reactions {
			if c.ID == comment && r.Content == "eyes" {
				eyes++
			}
		}
	}
	return eyes
}

// A comment gets one 👀, asked for once, in the same GraphQL request as the first comment
// daytwo posts for it, however many commands and lines it cannot run it holds.
func TestOneReactionPerComment(t *testing.T) {
	w := newWorld(t)
	w.GH.ResetLog()
	n := w.repo.CreateIssue("alice", "day-2 request", "")
	id := w.comment(t, n, "alice", "/scale 3 --service checkout --env staging\n/scael 2\n/restart --service catalog --env staging\n/help scale\n")
	if g, r := w.reactions(); g != 1 || r != 0 {
		t.Errorf("reactions asked: %d through GraphQL, %d through REST; want one, with the first status", g, r)
	}
	if e := w.eyesOn(n, id); e != 1 {
		t.Errorf("%d 👀 on the comment", e)
	}
	var states []string
	for _, c := range w.repo.Comments(n) {
		if m, ok := githubapi.ParseStatusMark(c.Body); ok {
			states = append(states, m.State)
		}
	}
	if strings.Join(states, ",") != "open,open,refused" {
		t.Errorf("statuses %v: want the two commands' and the reply", states)
	}
}

// Without the thread's node id (a payload that lacks it), the 👀 goes through REST at
// once, alongside the work, and the status comments through REST.
func TestReactionWithoutNodeIDs(t *testing.T) {
	w := newWorld(t)
	n := w.repo.CreateIssue("alice", "day-2 request", "")
	id := w.repo.AddComment(n, "alice", "/scale 3 --service checkout --env staging\n/help\n")
	var ev map[string]any
	if err := json.Unmarshal(w.repo.IssueCommentPayload(id), &ev); err != nil {
		t.Fatal(err)
	}
	delete(ev["issue"].(map[string]any), "node_id")
	delete(ev["comment"].(map[string]any), "node_id")
	payload, _ := json.Marshal(ev)
	w.GH.ResetLog()
	w.Send(t, "issue_comment", payload)
	w.Quiet(t)
	if g, r := w.reactions(); g != 0 || r != 1 {
		t.Errorf("reactions asked: %d through GraphQL, %d through REST; want one through REST", g, r)
	}
	if e := w.eyesOn(n, id); e != 1 {
		t.Errorf("%d 👀 on the comment", e)
	}
	if got := w.GH.CountRequests(http.MethodPost, "/repos/acme/gitops/issues/"); got < 3 {
		t.Errorf("%d REST posts in the thread; want the reaction, the status and the reply", got)
	}
	if pulls := w.openPulls(); len(pulls) != 1 {
		t.Errorf("open pulls %+v", pulls)
	}
}
