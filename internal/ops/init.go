package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/daytwo-dev/daytwo/internal/codeowners"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/onboard"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// initBranches is the branch prefix of /init's pull requests: one open at a time.
const initBranches = "daytwo/init-"

// initRole is the least permission /init asks for: it writes the policy everyone else is
// judged by, so it is not for whoever may ask for a change.
const initRole = "maintain"

// onboard carries out /init: one pull request with the files that onboard the repository,
// the answer on st. A branch that moved under the write is read and written again.
func (r *Runner) onboard(ctx context.Context, client *gh.Client, req Request, cmd command.Command, st *statusComment) {
	log := zerolog.Ctx(ctx)
	repo := githubapi.Repo{Client: client, Owner: req.Owner, Name: req.Repo}
	g := r.graphql(client)
	var err error
	for attempt := 1; ; attempt++ {
		err = r.onboardOnce(ctx, g, repo, req, cmd, st)
		if plan.ErrorCode(err) != plan.Conflict || attempt == maxAttempts {
			break
		}
		log.Info().Err(err).Int("attempt", attempt).Msg("conflict; reading again")
		time.Sleep(time.Duration(attempt*attempt*20+rand.IntN(100)) * time.Millisecond)
	}
	if err != nil {
		if errors.Is(err, githubapi.ErrNoAnswer) {
			err = &plan.Error{Code: plan.Conflict, Msg: "GitHub did not answer daytwo's last write, after several tries. If a daytwo pull request titled \"Onboard\" is open, it carries this request; otherwise ask again.", Err: err}
		}
		st.failWith(ctx, err)
	}
}

func (r *Runner) onboardOnce(ctx context.Context, g *githubapi.GraphQL, repo githubapi.Repo, req Request, cmd command.Command, st *statusComment) error {
	lease, err := r.locks().Lock(ctx, repo.FullName()+"|init")
	if err != nil {
		return fmt.Errorf("lock /init of %s: %w", repo.FullName(), err)
	}
	defer lease.Unlock()

	// The default branch and who asked, in one round trip.
	var (
		read *githubapi.DefaultRead
		have string
	)
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) {
		read, err = repo.ReadDefault(gctx, g, append([]string{repoconfig.Path}, codeowners.Paths...))
		return err
	})
	eg.Go(func() (err error) {
		have, err = repo.Permission(gctx, req.Author)
		return err
	})
	if err := eg.Wait(); err != nil {
		return err
	}
	snap, head := read.Snap, read.Head
	data, err := snap.ReadFile(ctx, repoconfig.Path)
	switch {
	case err == nil:
		if pointer, ok, _ := repoconfig.ParsePointer(data); ok {
			return plan.Errorf(plan.Invalid, "%s is a service repository: its `%s` points at %s, the GitOps repository. Ask for `/init` there, if it has no config yet.", repo.FullName(), repoconfig.Path, pointer)
		}
		return plan.Errorf(plan.Invalid, "The repository already has `%s` on `%s`; `/init` only proposes a first one. Change that file instead (see docs/config.md).", repoconfig.Path, head.Branch)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if !repoconfig.PermissionAtLeast(have, initRole) {
		return plan.Errorf(plan.Forbidden, "@%s, only maintainers and admins of %s can run `/init` — you have %s.", req.Author, repo.FullName(), describePermission(have))
	}
	// One /init pull request at a time; a repeat of this request finds its own.
	open := read.OpenOn(head.Branch, initBranches)
	for _, pr := range open {
		if _, mine := carries(pr.Commits, req.ID()); mine {
			st.set(githubapi.StateOpen, pr.Number).step(ctx, "", fmt.Sprintf("🔀 In %s — review it, decide what is commented out, and merge it.", pr.URL))
			return nil
		}
	}
	if len(open) > 0 {
		return plan.Errorf(plan.Invalid, "%s already proposes daytwo's config for this repository: review and merge it, or close it and ask again.", open[0].URL)
	}

	if _, err := snap.ReadTree(ctx, g, repo); err != nil {
		return err
	}
	res, err := onboard.Generate(ctx, snap, r.Commands, onboard.Options{Org: repo.Owner, Repo: []string{repo.FullName()}})
	if err != nil {
		return plan.Errorf(plan.Invalid, "daytwo cannot onboard %s: %v", repo.FullName(), err)
	}
	var (
		chosen []onboard.File
		files  []plan.FileChange
		kept   []string
	)
	for _, f := range res.Files {
		if f.Path != repoconfig.Path {
			have, err := onboard.Exists(ctx, snap, f.Path) // from the tree read above
			if err != nil {
				return err
			}
			if have {
				kept = append(kept, f.Path) // never replaced: the repository's own
				continue
			}
		}
		chosen = append(chosen, f)
		files = append(files, plan.FileChange{Path: f.Path, Content: f.Content})
	}
	title, description, summary := res.Describe(repo.FullName(), chosen, kept)
	preq := plan.Input{
		Command: cmd, Requester: req.Author, Origin: req.URL, OriginKey: req.ID(), ID: req.ID(),
		Status: statusRef(st), Repo: req.FullRepo(), Now: r.now(),
	}
	cs, err := r.Planner.Onboard(preq, head.Commit, plan.Onboarding{Files: files, Title: title, Description: description, Summary: summary})
	if err != nil {
		return err
	}
	if cmd.DryRun {
		st.set(githubapi.StateDryRun, 0).step(ctx, "", onboardDryRun(cs, res))
		return nil
	}

	owners, err := githubapi.ReadCodeOwners(ctx, snap)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("cannot read CODEOWNERS; opening the PR without review requests")
	}
	reviewers := reviewersOf(owners, cs, req.Author)
	labels := []string{"daytwo", "action/" + cmd.Name}
	pr, err := repo.CreateChange(ctx, g, read.RepoID, cs, githubapi.ChangeOptions{Base: head, Labels: labels, Reviewers: reviewers, StackPrefix: initBranches})
	if err != nil {
		return err
	}
	next := fmt.Sprintf("🔀 Opened %s — review it, decide what is commented out, and merge it.", pr.URL)
	if len(reviewers) > 0 {
		next = fmt.Sprintf("🔀 Opened %s — review requested from %s; decide what is commented out, and merge it.", pr.URL, mentions(reviewers))
	}
	fin := githubapi.Finish{
		Labels: labels, Reviewers: reviewers, RepoID: read.RepoID, Check: renderCheck(res),
		CommentNodeID: st.nodeID,
		CommentBody:   st.set(githubapi.StateOpen, pr.Number).advance("📝 Planned: "+markdown.Text(summary), next),
	}
	if pr.NodeID == "" || st.nodeID == "" {
		fin.CommentNodeID = ""
	}
	done, err := repo.FinishChange(ctx, g, pr, fin)
	if err != nil {
		return err // withdrawn: nothing of the request stays
	}
	if !done.Commented {
		st.write(ctx, next)
	}
	return nil
}

// renderCheck is the check run of an /init pull request: every overlay rendered, or
// neutral with those that did not (they were broken before; the config still holds).
func renderCheck(res *onboard.Result) *githubapi.CheckRun {
	c := &githubapi.CheckRun{Name: "daytwo/render", Conclusion: "success", Title: "Every overlay renders"}
	var b strings.Builder
	broken := 0
	for _, o := range res.Overlays {
		if o.Err != nil {
			broken++
			fmt.Fprintf(&b, "- ❌ %s in %s: %s — %s\n", o.Service, o.Env, markdown.Code(o.Path), markdown.Text(firstLine(o.Err.Error())))
		} else {
			fmt.Fprintf(&b, "- ✅ %s in %s: %s\n", o.Service, o.Env, markdown.Code(o.Path))
		}
	}
	if broken > 0 {
		c.Conclusion, c.Title = "neutral", fmt.Sprintf("%d of %d overlays do not render", broken, len(res.Overlays))
	}
	c.Summary = "The overlays of the proposed config, rendered with kustomize:\n\n" + b.String()
	return c
}

func mentions(who []string) string {
	at := make([]string, len(who))
	for i, w := range who {
		at[i] = "@" + w
	}
	return strings.Join(at, ", ")
}

// onboardDryRun shows what /init would propose, the config whole.
func onboardDryRun(cs *plan.ChangeSet, res *onboard.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🧪 Dry run — nothing was changed. Without `--dry-run` this opens %s:\n\n", markdown.Code(cs.Title))
	for _, f := range cs.Files {
		fmt.Fprintf(&b, "- %s\n", markdown.Code(f.Path))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "\n> %s", markdown.Text(n))
	}
	for _, f := range cs.Files {
		if f.Path == repoconfig.Path {
			fmt.Fprintf(&b, "\n\n<details><summary>%s</summary>\n\n%s</details>\n", markdown.Text(f.Path), markdown.Fence("yaml", clipDiff(string(f.Content), 40000)))
		}
	}
	return b.String()
}
