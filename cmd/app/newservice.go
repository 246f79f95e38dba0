package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/gitlocal"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/scaffold"
)

// localTeamNote is what the command line says about the owning team: it has no GitHub to
// ask, so the team is taken as written.
const localTeamNote = "The owning team was not checked: the command line has no GitHub to ask. On GitHub, /new-service refuses a team that does not exist."

// newService plans /new-service on the clone and, with write, commits it to a new branch.
func newService(ctx context.Context, planner *plan.Planner, lr *localRepo, cmd command.Command, as string, write bool, stdout, stderr io.Writer) int {
	cs, _, err := scaffold.Plan(ctx, planner, lr.cfg, lr.cfgFile, lr.snap, plan.Input{
		Command: cmd, Requester: as, OriginKey: "local:" + as + ":" + cmd.Line,
	}, scaffold.Options{Repo: lr.repo.RemoteURLs(ctx), TeamNote: localTeamNote})
	if err != nil {
		return exitFor(err, stderr)
	}
	fmt.Fprintf(stdout, "note: @%s was not checked: the command line has no GitHub to ask\n\n", cmd.Owner)
	printChangeSet(stdout, cs)
	if !write || cmd.DryRun {
		return exitOK
	}
	commit, err := lr.repo.WriteBranch(ctx, cs.Base, cs.Branch, cs.Files, cs.CommitMessage,
		gitlocal.Author{Name: "daytwo", Email: "daytwo@users.noreply.github.com"})
	if err != nil {
		if errors.Is(err, gitlocal.ErrBranchExists) {
			err = userError{fmt.Errorf("%w; delete it or merge it before applying the same change again", err)}
		}
		return exitFor(err, stderr)
	}
	fmt.Fprintf(stdout, "\nbranch %s\ncommit %s\n", cs.Branch, commit)
	return exitOK
}
