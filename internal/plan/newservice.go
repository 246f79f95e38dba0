package plan

import (
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// NewServiceChange is what /new-service proposes: the files the scaffold package wrote
// for the service, proven there, and the description of what it found and checked.
type NewServiceChange struct {
	Files       []FileChange
	Envs        []string // the environments the service is added to
	Description string   // markdown, after the title; the metadata comment follows it
}

// NewService is the ChangeSet of /new-service on base: one commit on a branch of the
// request (daytwo/<name>/new-service-<hash>), carrying the request's trailers like any
// change, so its status follows the pull request. It has a service and no environment.
func (p *Planner) NewService(req Input, base string, c NewServiceChange) (*ChangeSet, error) {
	cmd := req.Command
	if cmd.Name != "new-service" || cmd.Service == "" || len(c.Files) == 0 {
		return nil, Errorf(Internal, "NewService plans the files of /new-service <name>")
	}
	line := cmd.Line
	if line == "" {
		line = "/" + cmd.Name
	}
	cs := &ChangeSet{Service: cmd.Service, Action: cmd.Name, Base: base, Files: c.Files, Risk: RiskMedium}
	cs.FileDiff = filesDiff(c.Files)
	cs.Title = clip.Runes(oneLine(fmt.Sprintf("Add service %s (%s)", cmd.Service, cmd.Owner)), MaxTitleLen)
	cs.Summary = clip.Runes(oneLine(fmt.Sprintf("add %s, owned by @%s, to %s", cmd.Service, cmd.Owner, strings.Join(c.Envs, ", "))), maxSummaryLen)
	named := cmd
	named.Line, named.Env = line, ""
	cs.Branch = BranchFor(named, req)
	cs.Metadata = map[string]string{
		"service": cmd.Service, "action": cmd.Name, "command": line, "requester": req.Requester,
		"origin": req.Origin, "originKey": req.OriginKey, "base": base, "branch": cs.Branch, "risk": string(cs.Risk),
	}
	dropEmpty(cs.Metadata)
	var body strings.Builder
	fmt.Fprintf(&body, "## %s\n\n", cs.Title)
	if req.Requester != "" {
		fmt.Fprintf(&body, "Requested by @%s", req.Requester)
		if r := oneLine(cmd.Reason); r != "" {
			fmt.Fprintf(&body, ": %s", r)
		}
		body.WriteString(".\n\n")
	}
	body.WriteString(strings.TrimRight(c.Description, "\n") + "\n\n" + FormatMetadata(cs.Metadata))
	cs.Body = body.String()
	if len(cs.Body) > p.bodyLimit {
		return nil, Errorf(Invalid, "the pull request description would exceed %d characters", p.bodyLimit)
	}
	cs.CommitMessage = trailerMessage(cs.Title, cs.Summary, req, line)
	return cs, nil
}

// FreezeText says that env is frozen, by whom and why, for refusals.
func FreezeText(env string, f *repoconfig.Freeze) string { return freezeText(env, f) }
