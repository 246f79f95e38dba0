package plan

import (
	"fmt"
	"maps"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/overlay"
)

// Onboarding is what /init proposes: the files that onboard a repository, and the pull
// request's title and description (written by the onboarding package, which knows what
// it found).
type Onboarding struct {
	Files       []FileChange
	Title       string
	Description string // markdown; the metadata comment is added after it
	Summary     string // one line, for the commit and the status
}

// Onboard is the ChangeSet of /init on base: one commit on a branch of the request,
// carrying the request's trailers like any change, so its status follows the pull
// request. It touches no overlay, so it has neither service nor environment.
func (p *Planner) Onboard(req Input, base string, o Onboarding) (*ChangeSet, error) {
	if len(o.Files) == 0 {
		return nil, Errorf(NoChange, "every file /init would write exists already; there is nothing to propose")
	}
	cmd := req.Command
	line := cmd.Line
	if line == "" {
		line = "/" + cmd.Name
	}
	cs := &ChangeSet{
		Action:  cmd.Name,
		Base:    base,
		Files:   o.Files,
		Title:   clip.Runes(oneLine(o.Title), MaxTitleLen),
		Summary: clip.Runes(oneLine(o.Summary), maxSummaryLen),
		Risk:    RiskMedium,
	}
	named := cmd
	named.Line, named.Env, named.Service = line, "", ""
	cs.Branch = BranchFor(named, req)
	cs.FileDiff = filesDiff(o.Files)
	cs.Metadata = map[string]string{
		"action": cmd.Name, "command": line, "requester": req.Requester, "origin": req.Origin,
		"originKey": req.OriginKey, "base": base, "branch": cs.Branch,
	}
	dropEmpty(cs.Metadata)
	cs.Body = strings.TrimRight(o.Description, "\n") + "\n\n" + FormatMetadata(cs.Metadata)
	if len(cs.Body) > p.bodyLimit {
		return nil, Errorf(Invalid, "the pull request description would exceed %d characters; the repository has too many services to list", p.bodyLimit)
	}
	cs.CommitMessage = trailerMessage(cs.Title, cs.Summary, req, line)
	return cs, nil
}

// trailerMessage is the commit message of a change written without the PR templates (/init,
// /new-service): title, summary, then the request's Daytwo-* trailers that are set, the
// service's where there is one.
func trailerMessage(title, summary string, req Input, line string) string {
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s\n\n%s\n\n", title, summary)
	for _, t := range []prTrailer{
		{TrailerAction, req.Command.Name},
		{TrailerCommand, line},
		{TrailerService, req.Command.Service},
		{TrailerRequester, req.Requester},
		{TrailerOrigin, req.Origin},
		{TrailerRequest, req.ID},
		{TrailerStatus, req.Status},
	} {
		if v := oneLine(t.Value); v != "" {
			fmt.Fprintf(&msg, "%s: %s\n", t.Key, v)
		}
	}
	return msg.String()
}

// filesDiff is the unified diff of new and changed files.
func filesDiff(files []FileChange) string {
	var fd strings.Builder
	for _, f := range files {
		fd.WriteString(overlay.FileDiff(f.Path, f.Before, f.Content))
	}
	return fd.String()
}

// dropEmpty removes the metadata keys without a value.
func dropEmpty(m map[string]string) {
	maps.DeleteFunc(m, func(_, v string) bool { return v == "" })
}
