package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/gitlocal"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/report"
	validation "github.com/daytwo-dev/daytwo/internal/validate"
)

func init() {
	localCommands["plan"] = func(args []string, stdout, stderr io.Writer) int { return change(args, false, stdout, stderr) }
	localCommands["apply"] = func(args []string, stdout, stderr io.Writer) int { return change(args, true, stdout, stderr) }
	localCommands["validate"] = validate
}

// localRepo is a GitOps clone opened at a revision with its daytwo config loaded.
type localRepo struct {
	repo    *gitlocal.Repo
	snap    *gitlocal.Snapshot
	cfg     *repoconfig.Config
	cfgFile []byte
	// discovered is set when the config came from the Argo CD manifests; merged is what
	// discovery added to a config that exists.
	discovered, merged *discovery.Report
	// deps are the Applications found, kept and generated; depsErr why there are none.
	deps    []discovery.Deployment
	depsErr error
}

func openLocal(ctx context.Context, dir, rev string) (*localRepo, error) {
	repo, err := gitlocal.Open(ctx, dir)
	if err != nil {
		return nil, userError{err}
	}
	snap, err := repo.Snapshot(ctx, rev)
	if err != nil {
		return nil, userError{err}
	}
	deps, skipped, derr := discovery.Find(ctx, snap, repo.RemoteURLs(ctx)...)
	data, err := snap.ReadFile(ctx, repoconfig.Path)
	if errors.Is(err, fs.ErrNotExist) {
		// Zero-config: what the Argo CD manifests deploy is the config.
		if derr != nil {
			return nil, userError{fmt.Errorf("%s has no %s at %s, and its Argo CD manifests cannot be read: %v", dir, repoconfig.Path, rev, derr)}
		}
		cfg, rep, cerr := discovery.Config(deps, skipped, command.All())
		if cerr != nil {
			return nil, userError{fmt.Errorf("%s has no %s at %s: %v", dir, repoconfig.Path, rev, cerr)}
		}
		return &localRepo{repo: repo, snap: snap, cfg: cfg, discovered: &rep, deps: deps}, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := repoconfig.Load(data, command.All())
	if err != nil {
		return nil, userError{err}
	}
	lr := &localRepo{repo: repo, snap: snap, cfg: cfg, cfgFile: data, deps: deps, depsErr: derr}
	if derr == nil {
		rep := discovery.Merge(cfg, deps, skipped)
		lr.merged = &rep
	}
	return lr, nil
}

// userError marks an error as the user's to fix (exit status 2).
type userError struct{ error }

func (e userError) Unwrap() error { return e.error }

func exitFor(err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "daytwo: %v\n", err)
	var ue userError
	if errors.As(err, &ue) || (plan.ErrorCode(err) != plan.Internal) {
		return exitUser
	}
	return exitInternal
}

func change(args []string, write bool, stdout, stderr io.Writer) int {
	name := "plan"
	if write {
		name = "apply"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("repo", ".", "the GitOps repository (a local git clone)")
	rev := fs.String("rev", "HEAD", "the commit to plan on")
	as := fs.String("as", defaultUser(), "the requester recorded in the change")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: daytwo %s --repo DIR [--as USER] [--rev REV] \"<comment text>\"\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUser
	}
	text := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(text) == "" {
		fs.Usage()
		return exitUser
	}
	ctx := context.Background()
	reg := localRegistry()
	results := reg.Parse(text)
	if len(results) == 0 {
		fmt.Fprintf(stderr, "daytwo: no command in %q; commands are lines starting with /, e.g. \"/scale 3 --service checkout --env prod\" (try \"/help\")\n", text)
		return exitUser
	}
	lr, err := openLocal(ctx, *dir, *rev)
	if err != nil {
		return exitFor(err, stderr)
	}
	planner := plan.New()
	status := exitOK
	for _, res := range results {
		if res.Reply != nil {
			fmt.Fprint(stderr, res.Reply.Render(markdown.Plain))
			status = exitUser
			continue
		}
		cmd := *res.Command
		if cmd.Name == "help" {
			fmt.Fprint(stdout, reg.RenderHelp(markdown.Plain, cmd.Topic))
			continue
		}
		if s, _ := reg.Lookup(cmd.Name); s.ReadOnly {
			status = max(status, answer(ctx, planner, lr, cmd, *as, stdout, stderr))
			continue
		}
		if cmd.Name == "new-service" {
			status = max(status, newService(ctx, planner, lr, cmd, *as, write, stdout, stderr))
			continue
		}
		cs, err := planner.Plan(ctx, lr.cfg, lr.cfgFile, lr.snap, lr.snap.History(), plan.Input{
			Command: cmd, Requester: *as, OriginKey: "local:" + *as + ":" + cmd.Line,
		})
		if err != nil {
			status = max(status, exitFor(err, stderr))
			continue
		}
		printChangeSet(stdout, cs)
		if cmd.For > 0 {
			printExpiry(ctx, stdout, planner, lr, cmd, *as)
		}
		if !write || cmd.DryRun {
			continue
		}
		commit, err := lr.repo.WriteBranch(ctx, cs.Base, cs.Branch, cs.Files, cs.CommitMessage,
			gitlocal.Author{Name: "daytwo", Email: "daytwo@users.noreply.github.com"})
		if err != nil {
			if errors.Is(err, gitlocal.ErrBranchExists) {
				err = userError{fmt.Errorf("%w; delete it or merge it before applying the same change again", err)}
			}
			status = max(status, exitFor(err, stderr))
			continue
		}
		fmt.Fprintf(stdout, "\nbranch %s\ncommit %s\n", cs.Branch, commit)
	}
	return status
}

// localRegistry is the commands the command line carries out on a clone: the read-only
// ones and the Git changes, /new-service among them. /cancel closes pull requests, what
// acts outside Git needs GitHub or Argo CD, and /init is `daytwo init` here.
func localRegistry() *command.Registry {
	return command.Where(func(s command.Spec) bool {
		return s.ReadOnly || s.Mutating && !s.External && (!s.Repository || s.EnvironmentPolicy)
	})
}

// answer prints a read-only command's answer from Git, as the server answers it without
// Argo CD: no live state, no pull requests.
func answer(ctx context.Context, planner *plan.Planner, lr *localRepo, cmd command.Command, as string, stdout, stderr io.Writer) int {
	resolved, err := report.Resolve(planner, lr.cfg, plan.Input{Command: cmd, Requester: as})
	if err != nil {
		return exitFor(err, stderr)
	}
	v, err := report.Read(ctx, lr.cfg, lr.snap, lr.snap.History(), resolved)
	if err != nil {
		return exitFor(userError{err}, stderr)
	}
	if v.Status != nil {
		v.Status.NoLive = "the command line reads Git only"
	}
	fmt.Fprint(stdout, v.Render(markdown.Plain))
	return exitOK
}

// printExpiry says when a time-boxed change expires and what daytwo then restores: what
// the overlay holds now.
func printExpiry(ctx context.Context, w io.Writer, planner *plan.Planner, lr *localRepo, cmd command.Command, as string) {
	fmt.Fprintf(w, "expires %s after merge", command.FormatDuration(cmd.For))
	resolved, err := planner.Resolve(lr.cfg, plan.Input{Command: cmd, Requester: as})
	var before plan.Values
	if err == nil {
		before, err = planner.ValuesAt(ctx, lr.cfg, lr.snap, resolved)
	}
	var lines []string
	if err == nil {
		lines, err = plan.Restore(resolved, before)
	}
	if err != nil {
		fmt.Fprintf(w, "; what it restores cannot be told: %v\n", err)
		return
	}
	fmt.Fprintf(w, "; the server then restores it with: %s\n", strings.Join(lines, " and "))
}

func printChangeSet(w io.Writer, cs *plan.ChangeSet) {
	fmt.Fprintf(w, "# %s\n\n%s\nrisk: %s\nbase: %s\n\n", cs.Title, cs.Summary, cs.Risk, cs.Base)
	fmt.Fprintf(w, "## Files\n\n%s\n", cs.FileDiff)
	if cs.RenderedDiff != "" {
		fmt.Fprintf(w, "## Rendered\n\n%s\n", cs.RenderedDiff)
	}
}

func validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("repo", ".", "the GitOps repository (a local git clone)")
	rev := fs.String("rev", "HEAD", "the commit to check")
	if err := fs.Parse(args); err != nil {
		return exitUser
	}
	ctx := context.Background()
	lr, err := openLocal(ctx, *dir, *rev)
	if err != nil {
		return exitFor(err, stderr)
	}
	switch {
	case lr.discovered != nil:
		fmt.Fprintf(stdout, "%s: absent; discovered from the Argo CD manifests (%d environments, %d services):\n%s\n", repoconfig.Path, len(lr.cfg.Environments), len(lr.cfg.Services), lr.discovered)
	default:
		fmt.Fprintf(stdout, "%s: valid (%d environments, %d services)\n", repoconfig.Path, len(lr.cfg.Environments), len(lr.cfg.Services))
		if lr.merged != nil {
			fmt.Fprint(stdout, lr.merged.Notes())
		}
	}
	if lr.depsErr != nil {
		return exitFor(userError{fmt.Errorf("reading Argo CD Applications: %w", lr.depsErr)}, stderr)
	}
	planner := plan.New()
	status := exitOK
	for _, o := range validation.Overlays(ctx, lr.snap, lr.cfg, lr.deps) {
		if o.Err != nil {
			fmt.Fprintf(stdout, "FAIL %-12s %-10s %s: %v\n", o.Service, o.Env, o.Path, o.Err)
			status = exitUser
			continue
		}
		fmt.Fprintf(stdout, "ok   %-12s %-10s %-36s %s\n", o.Service, o.Env, o.Path, o.DescribeApps())
		in, err := planner.Infer(ctx, lr.cfg, lr.snap, o.Service, o.Env)
		if err != nil {
			fmt.Fprintf(stdout, "FAIL %-12s %-10s %s: %v\n", o.Service, o.Env, o.Path, err)
			status = exitUser
			continue
		}
		if !printInference(stdout, in) {
			status = exitUser
		}
	}
	return status
}

// printInference says what commands act on in one overlay and where that came from; it
// reports false when the config names something the render does not hold.
func printInference(w io.Writer, in *plan.Inference) bool {
	ok := true
	for _, f := range []struct {
		what string
		plan.Finding
	}{{"workload", in.Workload}, {"container", in.Container}, {"configMap", in.ConfigMap}, {"promote", in.Images}} {
		switch {
		case f.Wrong:
			fmt.Fprintf(w, "  FAIL %-10s %s\n", f.what, f.From)
			ok = false
		case f.Value == "":
			fmt.Fprintf(w, "       %-10s none: %s\n", f.what, f.From)
		default:
			fmt.Fprintf(w, "       %-10s %s (%s)\n", f.what, f.Value, f.From)
		}
	}
	return ok
}

func defaultUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "local"
}
