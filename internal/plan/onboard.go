package plan

import (
	"fmt"
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
	var fd strings.Builder
	for _, f := range o.Files {
		fd.WriteString(overlay.FileDiff(f.Path, f.Before, f.Content))
	}
	cs.FileDiff = fd.String()
	cs.Metadata = map[string]string{
		"action": cmd.Name, "command": line, "requester": req.Requester, "origin": req.Origin,
		"originKey": req.OriginKey, "base": base, "branch": cs.Branch,
	}
	for k, v := range cs.Metadata {
		if v == "" {
			delete(cs.Metadata, k)
		}
	}
	cs.Body = strings.TrimRight(o.Description, "\n") + "\n\n" + FormatMetadata(cs.Metadata)
	if len(cs.Body) > p.bodyLimit {
		return nil, Errorf(Invalid, "the pull request description would exceed %d characters; the repository has too many services to list", p.bodyLimit)
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s\n\n%s\n\n", cs.Title, cs.Summary)
	for _, t := range [][2]string{
		{TrailerAction, cmd.Name},
		{TrailerCommand, line},
		{TrailerRequester, req.Requester},
		{TrailerOrigin, req.Origin},
		{TrailerRequest, req.ID},
		{TrailerStatus, req.Status},
	} {
		if v := oneLine(t[1]); v != "" {
			fmt.Fprintf(&msg, "%s: %s\n", t[0], v)
		}
	}
	cs.CommitMessage = msg.String()
	return cs, nil
}
