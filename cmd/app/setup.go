package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/daytwo-dev/daytwo/internal/setup"
)

// setupCmd registers the GitHub App through GitHub's manifest flow (internal/setup).
func setupCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := setup.Options{Stdout: stdout}
	fs.StringVar(&opts.Addr, "addr", setup.DefaultAddr, "address of the local setup page")
	fs.StringVar(&opts.PublicURL, "public-url", "", "public base URL of the daytwo server; GitHub sends webhooks to URL/api/github/hook (required)")
	fs.StringVar(&opts.Org, "org", "", "register the app for this organization instead of your personal account")
	fs.StringVar(&opts.GitHubURL, "github-url", "", "GitHub Enterprise Server URL, e.g. https://ghe.example.com (default github.com)")
	fs.StringVar(&opts.Out, "out", ".", "directory to write private-key.pem, github.env, config.yml and secret.yaml to")
	fs.BoolVar(&opts.Force, "force", false, "replace those files when they exist")
	if err := fs.Parse(args); err != nil {
		return exitUser
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "daytwo setup: unexpected argument %q\n", fs.Arg(0))
		return exitUser
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := setup.Run(ctx, opts); err != nil {
		fmt.Fprintf(stderr, "daytwo setup: %v\n", err)
		if setup.IsInputError(err) {
			return exitUser
		}
		return exitInternal
	}
	return exitOK
}
