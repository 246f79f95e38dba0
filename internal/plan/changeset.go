package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"text/template"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/templates"
)

// prTemplates are the embedded PR templates; a parse error is a build defect, caught by
// every test that plans.
var prTemplates = template.Must(template.New("pr").Funcs(prFuncs).ParseFS(templates.PR, "pr/*.tmpl"))

// prData is what the PR templates see.
type prData struct {
	Target, What, Title, Summary string
	Service, Env, Action         string
	Command                      string
	Requester, Origin, OriginKey string
	Reason                       string
	Base                         string
	Details                      []string
	Risk                         Risk
	RiskNote                     string
	BreakGlass                   bool
	Frozen                       string // the freeze break-glass went through, "" when none
	Files                        []prFile
	RenderedDiff, RenderedNote   string
	FileDiff, FileNote           string
	Metadata                     string
	Trailers                     []prTrailer
	Expires                      string // --for of a time-boxed change
}

type prFile struct{ Path, Status string }

type prTrailer struct{ Key, Value string }

var riskNotes = map[Risk]string{
	RiskLow:    "a routine change",
	RiskMedium: "review before merging",
	RiskHigh:   "two owners must approve this pull request before it merges",
}

// finish assembles the ChangeSet of a proven edit.
func (p *Planner) finish(j *job, e *edit, files []FileChange, rendered string) (*ChangeSet, error) {
	cmd := j.cmd
	var fd strings.Builder
	pf := make([]prFile, 0, len(files))
	for _, f := range files {
		fd.WriteString(overlay.FileDiff(f.Path, f.Before, f.Content))
		status := "modified"
		switch {
		case f.Delete:
			status = "deleted"
		case f.Before == nil:
			status = "added"
		}
		pf = append(pf, prFile{Path: f.Path, Status: status})
	}
	line := cmd.Line
	if line == "" {
		line = "/" + cmd.Name
	}
	cs := &ChangeSet{
		Service:      cmd.Service,
		Env:          cmd.Env,
		Action:       cmd.Name,
		Base:         j.snap.Commit(),
		Files:        files,
		Summary:      clip.Runes(oneLine(e.summary), maxSummaryLen),
		FileDiff:     fd.String(),
		RenderedDiff: rendered,
		Risk:         j.risk(e),
	}
	named := cmd
	named.Line = line
	cs.Branch = BranchFor(named, j.req)

	cs.Metadata = map[string]string{
		"service":    cmd.Service,
		"env":        cmd.Env,
		"action":     cmd.Name,
		"command":    line,
		"requester":  j.req.Requester,
		"origin":     j.req.Origin,
		"originKey":  j.req.OriginKey,
		"base":       cs.Base,
		"branch":     cs.Branch,
		"risk":       string(cs.Risk),
		"breakGlass": fmt.Sprint(cmd.BreakGlass),
		"expires":    expiresValue(cmd),
	}
	for k, v := range e.meta {
		cs.Metadata[k] = v
	}
	dropEmpty(cs.Metadata)
	meta := FormatMetadata(cs.Metadata)

	d := prData{
		Target:       j.target(),
		What:         e.what,
		Summary:      cs.Summary,
		Service:      cmd.Service,
		Env:          cmd.Env,
		Action:       cmd.Name,
		Command:      line,
		Requester:    j.req.Requester,
		Origin:       j.req.Origin,
		OriginKey:    j.req.OriginKey,
		Reason:       strings.TrimSpace(cmd.Reason),
		Base:         cs.Base,
		Details:      capDetails(e.details),
		Risk:         cs.Risk,
		RiskNote:     riskNotes[cs.Risk],
		BreakGlass:   cmd.BreakGlass,
		Files:        pf,
		RenderedDiff: rendered,
		FileDiff:     cs.FileDiff,
		Metadata:     meta,
		Expires:      expiresValue(cmd),
	}
	if cmd.BreakGlass {
		if f, frozen := j.cfg.Frozen(cmd.Env); frozen {
			d.Frozen = freezeText(cmd.Env, f)
		}
	}
	for _, t := range []prTrailer{
		{TrailerAction, cmd.Name},
		{TrailerCommand, line},
		{TrailerService, cmd.Service},
		{TrailerEnv, cmd.Env},
		{TrailerRequester, j.req.Requester},
		{TrailerOrigin, j.req.Origin},
		{TrailerRequest, j.req.ID},
		{TrailerStatus, j.req.Status},
		{TrailerSets, strings.Join(e.fields(cmd), " ")},
		{TrailerExpires, expiresValue(cmd)},
		{TrailerRestores, j.req.Restores},
	} {
		if t.Value = oneLine(t.Value); t.Value != "" {
			d.Trailers = append(d.Trailers, t)
		}
	}

	title, err := p.exec(templates.PRTitle, d)
	if err != nil {
		return nil, err
	}
	cs.Title = clip.Runes(oneLine(title), MaxTitleLen)
	d.Title = cs.Title
	msg, err := p.exec(templates.PRCommit, d)
	if err != nil {
		return nil, err
	}
	cs.CommitMessage = strings.TrimSpace(msg) + "\n"
	if cs.Body, err = p.body(d, j.dir); err != nil {
		return nil, err
	}
	return cs, nil
}

// Bounds on the prose of a ChangeSet, so that a command touching many things still leaves
// room for the diffs in the body.
const (
	maxSummaryLen = 500
	maxDetails    = 50
)

func capDetails(ds []string) []string {
	if len(ds) <= maxDetails {
		return ds
	}
	out := append([]string(nil), ds[:maxDetails]...)
	return append(out, fmt.Sprintf("… and %d more (see the file diff)", len(ds)-maxDetails))
}

// risk is the tier of a change: high for break-glass and what an action marks high,
// low for restarts and anything in the first of several environments, medium otherwise.
func (j *job) risk(e *edit) Risk {
	if j.cmd.BreakGlass {
		return RiskHigh
	}
	if e.risk != "" {
		return e.risk
	}
	switch j.cmd.Name {
	case "restart", "redeploy":
		return RiskLow
	}
	if names := j.cfg.EnvNames(); len(names) > 1 && names[0] == j.cmd.Env {
		return RiskLow
	}
	return RiskMedium
}

func (p *Planner) exec(name string, d prData) (string, error) {
	var b bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&b, name, d); err != nil {
		return "", &Error{Code: Internal, Msg: "rendering the pull request failed", Err: err}
	}
	return b.String(), nil
}

// body renders the PR body within the body limit: when too long, the diffs are cut at
// line boundaries, each with a note saying so; the metadata is never cut.
func (p *Planner) body(d prData, dir string) (string, error) {
	out, err := p.exec(templates.PRBody, d)
	if err != nil || len(out) <= p.bodyLimit {
		return out, err
	}
	rd, fd := d.RenderedDiff, d.FileDiff
	rdLines, fdLines := countLines(rd), countLines(fd)
	d.RenderedNote = cutNote("rendered diff", rdLines, rdLines, p.bodyLimit, dir)
	d.FileNote = cutNote("file diff", fdLines, fdLines, p.bodyLimit, "")
	d.RenderedDiff, d.FileDiff = "", ""
	skeleton, err := p.exec(templates.PRBody, d)
	if err != nil {
		return "", err
	}
	const fenceSlack = 64 // longer fences when a diff holds backticks
	budget := p.bodyLimit - len(skeleton) - fenceSlack
	for try := 0; try < 8; try++ {
		if budget < 0 {
			budget = 0
		}
		fdShare := min(len(fd), budget/2)
		rdShare := min(len(rd), budget-fdShare)
		fdShare = min(len(fd), budget-rdShare)
		var rdShown, fdShown int
		d.RenderedDiff, rdShown = cutLines(rd, rdShare)
		d.FileDiff, fdShown = cutLines(fd, fdShare)
		d.RenderedNote, d.FileNote = "", ""
		if rdShown < rdLines {
			d.RenderedNote = cutNote("rendered diff", rdShown, rdLines, p.bodyLimit, dir)
		}
		if fdShown < fdLines {
			d.FileNote = cutNote("file diff", fdShown, fdLines, p.bodyLimit, "")
		}
		if out, err = p.exec(templates.PRBody, d); err != nil {
			return "", err
		}
		if len(out) <= p.bodyLimit {
			return out, nil
		}
		if budget == 0 {
			break
		}
		budget -= len(out) - p.bodyLimit + fenceSlack
	}
	return "", Errorf(Invalid, "the pull request body would exceed %d characters even without its diffs; shorten the reason or the command", p.bodyLimit)
}

func cutNote(what string, shown, total, limit int, dir string) string {
	s := fmt.Sprintf("The %s is cut to fit GitHub's %d-character limit: %d of %d lines shown.", what, limit, shown, total)
	if dir != "" {
		s += fmt.Sprintf(" Run `kustomize build %s` on this branch to see all of it.", dir)
	} else {
		s += " The commit holds the complete change."
	}
	return s
}

func countLines(s string) int {
	if s == "" {
		return 0
	}
	n := strings.Count(s, "\n")
	if !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// cutLines keeps the whole lines of s that fit in max bytes.
func cutLines(s string, max int) (string, int) {
	if len(s) <= max {
		return s, countLines(s)
	}
	i := strings.LastIndexByte(s[:max], '\n')
	if i < 0 {
		return "", 0
	}
	kept := s[:i+1]
	return kept, countLines(kept)
}

// branchName is daytwo/<env>/<service>/<action>-<8 hex of sha256(seed)>: one branch per
// target and intent, so a redelivered request finds its branch instead of opening another.
// A change of the whole repository (/init) has neither: daytwo/<action>-<hash>.
func branchName(env, service, action, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	parts := []string{"daytwo"}
	if env != "" {
		parts = append(parts, refPart(env))
	}
	if service != "" {
		parts = append(parts, refPart(service))
	}
	parts = append(parts, refPart(action)+"-"+hex.EncodeToString(sum[:4]))
	return strings.Join(parts, "/")
}

// refPart makes one component of a git ref name: [A-Za-z0-9._-] only, not starting with
// '.' or '-', no "..", not ending in ".lock" or '.', at most 60 bytes.
func refPart(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c == '.' || c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	out := b.String()
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	if len(out) > 60 {
		out = out[:60]
	}
	out = strings.TrimLeft(out, ".-")
	for strings.HasSuffix(out, ".lock") || strings.HasSuffix(out, ".") {
		out = strings.TrimSuffix(strings.TrimSuffix(out, ".lock"), ".")
	}
	if out == "" {
		return "_"
	}
	return out
}

// oneLine folds whitespace runs, newlines included, to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// expiresValue is the Daytwo-Expires trailer of a time-boxed command, "" for others.
func expiresValue(cmd command.Command) string {
	if cmd.For <= 0 {
		return ""
	}
	return command.FormatDuration(cmd.For)
}
