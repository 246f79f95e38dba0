package github

import (
	"encoding/json"
	"strings"
)

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
	StateAnswered   = "answered" // read-only commands, /cancel, replies
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
