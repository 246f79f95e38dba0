package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/scaffold"
)

// NewServiceOptions is what /new-service needs besides the request.
type NewServiceOptions struct {
	// Repo names the repository read ("owner/name" or its clone URLs), for ApplicationSet
	// git generators.
	Repo []string
	// TeamNote says how the owning team was checked, for the description ("" when it was
	// found on GitHub).
	TeamNote string
}

// NewService is the ChangeSet of /new-service on snap: the files scaffold writes for the
// service, proven there (every new overlay renders, the repository validates), as one
// commit carrying the request's trailers. cfg is the repository's config and configFile
// its bytes, nil when the config was discovered.
func (p *Planner) NewService(ctx context.Context, cfg *repoconfig.Config, configFile []byte, snap Snapshot, req Request, opt NewServiceOptions) (*ChangeSet, *scaffold.Result, error) {
	cmd := req.Command
	if cmd.Name != "new-service" || cmd.Service == "" {
		return nil, nil, Errorf(Internal, "NewService plans /new-service <name> only")
	}
	envs := cmd.Envs
	if len(envs) == 0 {
		envs = cfg.EnvNames()
	}
	for _, e := range envs {
		if f, frozen := cfg.Frozen(e); frozen {
			return nil, nil, Errorf(Forbidden, "%s; leave it out with --envs, or ask for /unfreeze --env %s first", freezeText(e, f), e)
		}
	}
	res, err := scaffold.Generate(ctx, snap, cfg, configFile, scaffold.Request{
		Name: cmd.Service, Owner: cmd.Owner, Image: cmd.Image, Port: cmd.Port, Envs: cmd.Envs,
		System: cmd.System, Lifecycle: cmd.Lifecycle, Repo: opt.Repo,
	})
	var se *scaffold.Error
	switch {
	case errors.As(err, &se) && se.Broken:
		return nil, nil, &Error{Code: Broken, Msg: se.Msg, Err: err}
	case errors.As(err, &se):
		return nil, nil, &Error{Code: Invalid, Msg: se.Msg, Err: err}
	case ctx.Err() != nil:
		return nil, nil, &Error{Code: Internal, Msg: "planning was cancelled", Err: err}
	case err != nil:
		return nil, nil, &Error{Code: Internal, Msg: "reading the repository failed", Err: err}
	}
	line := cmd.Line
	if line == "" {
		line = "/" + cmd.Name
	}
	cs := &ChangeSet{Service: cmd.Service, Action: cmd.Name, Base: snap.Commit(), Risk: RiskMedium}
	var fd strings.Builder
	for _, f := range res.Files {
		cs.Files = append(cs.Files, FileChange{Path: f.Path, Content: f.Content, Before: f.Before})
		fd.WriteString(overlay.FileDiff(f.Path, f.Before, f.Content))
	}
	cs.FileDiff = fd.String()
	cs.Title = clipRunes(oneLine(fmt.Sprintf("Add service %s (%s)", cmd.Service, cmd.Owner)), MaxTitleLen)
	cs.Summary = clipRunes(oneLine(fmt.Sprintf("add %s, owned by @%s, to %s", cmd.Service, cmd.Owner, strings.Join(res.Envs, ", "))), maxSummaryLen)
	named := cmd
	named.Line, named.Env = line, ""
	cs.Branch = BranchFor(named, req)
	cs.Metadata = map[string]string{
		"service": cmd.Service, "action": cmd.Name, "command": line, "requester": req.Requester,
		"origin": req.Origin, "originKey": req.OriginKey, "base": cs.Base, "branch": cs.Branch, "risk": string(cs.Risk),
	}
	for k, v := range cs.Metadata {
		if v == "" {
			delete(cs.Metadata, k)
		}
	}
	cs.Body = NewServiceDescription(cs, res, cmd.Reason, req.Requester, opt.TeamNote) + "\n" + FormatMetadata(cs.Metadata)
	if len(cs.Body) > p.bodyLimit {
		return nil, nil, Errorf(Invalid, "the pull request description would exceed %d characters", p.bodyLimit)
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s\n\n%s\n\n", cs.Title, cs.Summary)
	for _, t := range [][2]string{
		{TrailerAction, cmd.Name},
		{TrailerCommand, line},
		{TrailerService, cmd.Service},
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
	return cs, res, nil
}

// NewServiceDescription is the pull request description of a new service: what it adds
// where, how Argo CD deploys it, and the proof.
func NewServiceDescription(cs *ChangeSet, res *scaffold.Result, reason, requester, teamNote string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", markdown.Text(cs.Title))
	if requester != "" {
		fmt.Fprintf(&b, "Requested by @%s", requester)
		if r := strings.TrimSpace(reason); r != "" {
			fmt.Fprintf(&b, ": %s", markdown.Text(oneLine(r)))
		}
		b.WriteString(".\n\n")
	}
	l := res.Layout
	fmt.Fprintf(&b, "Laid out like %s: base %s, overlays %s", markdown.Code(l.Reference), markdown.Code(l.Base), markdown.Code(l.Overlay))
	if l.Namespace != "" {
		fmt.Fprintf(&b, ", namespace %s", markdown.Code(l.Namespace))
	}
	if len(l.Components) > 0 {
		fmt.Fprintf(&b, ", components %s", markdown.Code(strings.Join(l.Components, ", ")))
	}
	fmt.Fprintf(&b, "; catalog %s (system %s).\n\n", markdown.Code(l.Catalog), markdown.Code(res.System))
	if teamNote != "" {
		fmt.Fprintf(&b, "> %s\n\n", markdown.Text(teamNote))
	}
	b.WriteString("| environment | overlay | renders | Argo CD |\n|---|---|---|---|\n")
	for _, o := range res.Overlays {
		how := "—"
		for _, a := range res.Apps {
			if a.Env == o.Env {
				how = markdown.Cell(a.Name + ": " + a.How)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | ✅ | %s |\n", markdown.Cell(o.Env), markdown.Code(o.Path), how)
	}
	ok := 0
	for _, o := range res.Checked {
		if o.Err == nil {
			ok++
		}
	}
	fmt.Fprintf(&b, "\n`daytwo validate` on this branch: %d of %d overlays of %d services render.\n", ok, len(res.Checked), countServices(res))
	if len(res.Notes) > 0 {
		b.WriteString("\n### Notes\n\n")
		for _, n := range res.Notes {
			fmt.Fprintf(&b, "- %s\n", markdown.Text(n))
		}
	}
	b.WriteString("\n### Files\n\n")
	for _, f := range cs.Files {
		status := "added"
		if f.Before != nil {
			status = "modified"
		}
		fmt.Fprintf(&b, "- %s (%s)\n", markdown.Code(f.Path), status)
	}
	return b.String()
}

func countServices(res *scaffold.Result) int {
	seen := map[string]bool{}
	for _, o := range res.Checked {
		seen[o.Service] = true
	}
	return len(seen)
}
