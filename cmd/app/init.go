package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/gitlocal"
	"github.com/daytwo-dev/daytwo/internal/onboard"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

func init() { localCommands["init"] = initRepo }

// initRepo writes .github/daytwo.yml, the issue forms and a CODEOWNERS suggestion into a
// GitOps checkout, from the files on disk (committed or not).
func initRepo(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("init", flag.ContinueOnError)
	fset.SetOutput(stderr)
	dir := fset.String("repo", ".", "the GitOps repository (a checkout; the files on disk are read)")
	force := fset.Bool("force", false, "overwrite files that exist")
	dryRun := fset.Bool("dry-run", false, "print what would be written; write nothing")
	org := fset.String("org", "your-org", "the GitHub organization, for the placeholder teams of the suggestions")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "Usage: daytwo init --repo DIR [--force] [--dry-run] [--org NAME]")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return exitUser
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "daytwo init: unexpected argument %q\n", fset.Arg(0))
		fset.Usage()
		return exitUser
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "daytwo init: %s is not a directory; give the GitOps checkout with --repo DIR\n", *dir)
		return exitUser
	}
	ctx := context.Background()
	opt := onboard.Options{Org: *org}
	if repo, err := gitlocal.Open(ctx, *dir); err == nil { // a plain directory has no remotes to tell
		opt.Repo = repo.RemoteURLs(ctx)
	}
	res, err := onboard.Generate(ctx, onboard.FSReader(os.DirFS(*dir)), command.All(), opt)
	if err != nil {
		return exitFor(userError{fmt.Errorf("init %s: %w", *dir, err)}, stderr)
	}

	var exist []string
	for _, f := range res.Files {
		if _, err := os.Lstat(filepath.Join(*dir, filepath.FromSlash(f.Path))); err == nil {
			exist = append(exist, f.Path)
		}
	}
	if len(exist) > 0 && !*force && !*dryRun {
		fmt.Fprintf(stderr, "daytwo init: nothing was written: these files exist already in %s:\n", *dir)
		for _, p := range exist {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		fmt.Fprintln(stderr, "Move them away, or repeat with --force to overwrite them (--dry-run shows what would be written).")
		return exitUser
	}

	printSummary(stdout, res, *dir)
	if *dryRun {
		for _, f := range res.Files {
			verb := "new"
			if contains(exist, f.Path) {
				verb = "overwrites the existing file"
			}
			fmt.Fprintf(stdout, "\n== %s (%s)\n%s", f.Path, verb, f.Content)
		}
		fmt.Fprintln(stdout, "\n--dry-run: nothing was written.")
		return exitOK
	}
	if err := writeAll(*dir, res.Files); err != nil {
		fmt.Fprintf(stderr, "daytwo init: nothing was written: %v\n", err)
		return exitInternal
	}
	fmt.Fprintln(stdout)
	for _, f := range res.Files {
		verb := "wrote      "
		if contains(exist, f.Path) {
			verb = "overwrote  "
		}
		fmt.Fprintf(stdout, "%s%s\n", verb, f.Path)
	}
	fmt.Fprintf(stdout, "\nNext: read %s and decide what is commented out, commit the files, and check with\n  daytwo validate --repo %s\n", repoconfig.Path, *dir)
	return exitOK
}

// printSummary says what init found, and what is left to a person.
func printSummary(w io.Writer, res *onboard.Result, dir string) {
	cfg := res.Config
	fmt.Fprintf(w, "%s: %d environments (%s) and %d services, from %s and the rendered overlays:\n",
		dir, len(cfg.Environments), strings.Join(cfg.EnvNames(), ", "), len(cfg.Services), res.Source)
	for _, s := range cfg.Services {
		var envs []string
		for _, e := range cfg.EnvNames() {
			if s.Deploys(e) {
				envs = append(envs, e)
			}
		}
		workload := s.Workload.Kind + "/" + s.Workload.Name
		if res.Open[s.Name] {
			workload = "workload left to you"
		}
		fmt.Fprintf(w, "  %-14s %-24s %-28s %s\n", s.Name, strings.Join(envs, ","), workload, orDash(s.Image))
	}
	if len(res.Notes) > 0 {
		fmt.Fprintln(w, "\nTo decide:")
		for _, n := range res.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeAll writes every file or none: each is first written to a temporary file beside
// its destination, then all are renamed into place; a failure undoes what was done.
func writeAll(dir string, files []onboard.File) (err error) {
	type staged struct{ tmp, dest, backup string }
	var done []staged
	var made []string // directories created, deepest last
	defer func() {
		if err == nil {
			for _, s := range done {
				if s.backup != "" {
					os.Remove(s.backup)
				}
			}
			return
		}
		for i := len(done) - 1; i >= 0; i-- {
			s := done[i]
			os.Remove(s.tmp)
			if s.backup != "" {
				os.Rename(s.backup, s.dest)
			}
		}
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i]) // only empty ones go
		}
	}()
	for _, f := range files {
		dest := filepath.Join(dir, filepath.FromSlash(f.Path))
		created, err := mkdirAll(filepath.Dir(dest))
		made = append(made, created...)
		if err != nil {
			return err
		}
		tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".daytwo-init-*")
		if err != nil {
			return err
		}
		done = append(done, staged{tmp: tmp.Name(), dest: dest})
		_, err = tmp.Write(f.Content)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}
	for i := range done {
		s := &done[i]
		if _, err := os.Lstat(s.dest); err == nil {
			s.backup = s.tmp + ".old"
			if err := os.Rename(s.dest, s.backup); err != nil {
				s.backup = ""
				return err
			}
		}
		if err := os.Rename(s.tmp, s.dest); err != nil {
			return err
		}
		// Renamed into place: undoing it removes the new file, as the temporary one.
		s.tmp = s.dest
	}
	return nil
}

// mkdirAll is os.MkdirAll that also returns the directories it created, outermost first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append([]string{d}, missing...)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i, d := range missing {
		if err := os.Mkdir(d, 0o755); err != nil {
			return missing[:i], err
		}
	}
	return missing, nil
}
