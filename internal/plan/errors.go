package plan

import (
	"errors"
	"fmt"
)

// Code classifies an error so the edge decides what the user sees.
type Code string

const (
	Invalid   Code = "invalid"   // the request is wrong: usage, unknown env, out of bounds
	Forbidden Code = "forbidden" // policy refuses: frozen env, not allowed
	NotFound  Code = "not_found" // service/env/overlay/commit not found
	Conflict  Code = "conflict"  // the repo changed under us
	NoChange  Code = "no_change" // the command would change nothing
	Broken    Code = "broken"    // the overlay does not render (before or after)
	Internal  Code = "internal"
)

// Error is a domain error with a message safe to show the requester.
type Error struct {
	Code Code
	Msg  string
	Err  error // cause, for logs
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Msg, e.Err)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an *Error with a formatted user-facing message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the Code of err, Internal when it carries none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}
