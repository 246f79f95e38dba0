package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// Trailers daytwo writes into its commit messages.
const (
	TrailerAction    = "Daytwo-Action"
	TrailerCommand   = "Daytwo-Command"
	TrailerService   = "Daytwo-Service"
	TrailerEnv       = "Daytwo-Env"
	TrailerRequester = "Daytwo-Requester"
	TrailerOrigin    = "Daytwo-Origin"
	// TrailerRequest is the request's identity (the asking comment and the command's place
	// in it): a change PR carries a request at most once, however often it is delivered.
	TrailerRequest = "Daytwo-Request"
	// TrailerStatus is where the request's status comment is, so every asker of a
	// stacked pull request hears what becomes of it.
	TrailerStatus = "Daytwo-Status"
	// TrailerSets names what the change sets (Fields), to tell when a later request in
	// the same pull request overrides an earlier one.
	TrailerSets = "Daytwo-Sets"
	// TrailerExpires is the --for of a time-boxed change ("2h"): counted from its merge,
	// what it set is restored after that long. The latest commit's value wins (/extend).
	TrailerExpires = "Daytwo-Expires"
	// TrailerRestores is on the commit that restores a time-boxed change: the owner/name#number
	// of the pull request that merged it.
	TrailerRestores = "Daytwo-Restores"
)

// buildRollback restores the overlay's own files (those under its directory) to their
// content at an earlier commit: files changed since are rewritten, files created since
// are deleted. It is a restore of known-good files, not a replay of inverse edits, so it
// stays right whatever happened in between. Shared bases outside the directory are left
// alone.
//
// Without --to, the commit restored is the one just before the last daytwo change to the
// overlay (the newest commit carrying a Daytwo-Action trailer for this service and env).
// A rollback is a daytwo change too, so a second /rollback undoes the first and brings
// back what it removed; going further back takes --to <sha>.
func buildRollback(ctx context.Context, j *job) (*edit, error) {
	if j.hist == nil {
		return nil, Errorf(Internal, "rollback needs the repository history")
	}
	log, err := j.hist.Log(ctx, []string{j.dir}, historyLimit)
	if err != nil {
		return nil, &Error{Code: Internal, Msg: fmt.Sprintf("reading the history of %s failed", j.dir), Err: err}
	}

	var (
		target  Snapshot
		sha     string
		subject string
		undone  []CommitInfo
		known   = true // whether undone lists every commit since the target
	)
	if to := j.cmd.To; to != "" {
		if target, err = j.hist.At(ctx, to); err != nil {
			return nil, &Error{Code: NotFound, Msg: fmt.Sprintf("commit %s not found", to), Err: err}
		}
		sha = target.Commit()
		known = false
		for i, c := range log {
			if c.SHA == sha {
				undone, subject, known = log[:i], firstLine(c.Message), true
				break
			}
		}
	} else {
		i := lastDaytwoChange(log, j.cmd.Service, j.cmd.Env)
		switch {
		case i < 0:
			return nil, Errorf(Invalid, "found no daytwo change to %s in its last %s; name the commit to restore with --to <sha>",
				j.where(), plural(len(log), "commit", "commits"))
		case i+1 >= len(log) && len(log) >= historyLimit:
			return nil, Errorf(Invalid, "the commit before %s is beyond the %d commits searched; name the commit to restore with --to <sha>", clip.SHA(log[i].SHA), historyLimit)
		case i+1 >= len(log):
			return nil, Errorf(Invalid, "%s (%s) created %s; there is no earlier version to restore", clip.SHA(log[i].SHA), firstLine(log[i].Message), j.where())
		}
		prev := log[i+1]
		undone, sha, subject = log[:i+1], prev.SHA, firstLine(prev.Message)
		if target, err = j.hist.At(ctx, sha); err != nil {
			return nil, &Error{Code: Internal, Msg: fmt.Sprintf("reading commit %s failed", clip.SHA(sha)), Err: err}
		}
	}

	old, err := loadOverlay(ctx, target, j.dir, j.where(), " at "+clip.SHA(sha))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, p := range ownPaths(j.dir, j.tree.Paths(), old.Paths()) {
		b, ok := old.File(p)
		if !ok {
			// Under the directory at HEAD but not used by the old kustomization: keep the
			// file if it existed then, delete it if it was created since.
			b, err = target.ReadFile(ctx, p)
			switch {
			case err == nil:
				ok = true
			case !errors.Is(err, fs.ErrNotExist):
				return nil, &Error{Code: Internal, Msg: fmt.Sprintf("reading %s at %s failed", p, clip.SHA(sha)), Err: err}
			}
		}
		if ok {
			files[p] = b
		} else {
			files[p] = nil
		}
	}

	restored := markdown.Code(clip.SHA(sha))
	if subject != "" {
		restored += " (" + markdown.Text(subject) + ")"
	}
	details := []string{"restores the files of the overlay directory `" + j.dir + "` as of " + restored}
	const maxListed = 20
	for i, c := range undone {
		if i == maxListed {
			details = append(details, fmt.Sprintf("… and %d more commits", len(undone)-maxListed))
			break
		}
		details = append(details, "undoes "+describeCommit(c))
	}
	if !known {
		details = append(details, fmt.Sprintf("undoes every change to the overlay since %s (not among its last %s)", clip.SHA(sha), plural(len(log), "commit", "commits")))
	}
	e := &edit{
		files:    files,
		what:     "roll back to " + clip.SHA(sha),
		summary:  fmt.Sprintf("roll back %s in %s to %s", j.svc.Name, j.cmd.Env, clip.SHA(sha)),
		details:  details,
		noChange: fmt.Sprintf("%s already matches %s", j.where(), clip.SHA(sha)),
		meta:     map[string]string{"restores": sha},
	}
	if len(undone) > 0 && known {
		e.summary += ", undoing " + plural(len(undone), "commit", "commits")
	}
	if j.isLastEnv() {
		e.risk = RiskHigh
	}
	return e, nil
}

// lastDaytwoChange is the index of the newest commit daytwo made for this service and env.
func lastDaytwoChange(log []CommitInfo, service, env string) int {
	for i, c := range log {
		tr := trailersOf(c)
		if trailer(tr, TrailerAction) == "" {
			continue
		}
		if s := trailer(tr, TrailerService); s != "" && s != service {
			continue
		}
		if e := trailer(tr, TrailerEnv); e != "" && e != env {
			continue
		}
		return i
	}
	return -1
}

func trailersOf(c CommitInfo) map[string]string {
	if c.Trailers != nil {
		return c.Trailers
	}
	return ParseTrailers(c.Message)
}

// trailer looks a key up case-insensitively, as git treats trailer keys.
func trailer(tr map[string]string, key string) string {
	if v, ok := tr[key]; ok {
		return v
	}
	for k, v := range tr {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

func describeCommit(c CommitInfo) string {
	s := markdown.Code(clip.SHA(c.SHA)) + " " + markdown.Text(firstLine(c.Message))
	tr := trailersOf(c)
	if trailer(tr, TrailerAction) == "" {
		return s + " (not made by daytwo)"
	}
	if who := trailer(tr, TrailerRequester); who != "" {
		s += " (asked by " + mention(who) + ")"
	}
	return s
}

// ownPaths are the paths under dir in either tree, sorted.
func ownPaths(dir string, trees ...[]string) []string {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	seen := map[string]bool{}
	var out []string
	for _, paths := range trees {
		for _, p := range paths {
			if strings.HasPrefix(p, prefix) && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}
