// Command daytwo is the daytwo GitHub App server and its local command line:
//
//	daytwo serve [--config FILE]            run the GitHub App
//	daytwo setup --public-url URL [...]     register the GitHub App on GitHub
//	daytwo plan --repo DIR [--as USER] TEXT show the change a command would make, or
//	                                        answer /status, /history and /diff from Git
//	daytwo apply --repo DIR [--as USER] TEXT write it as a branch and commit
//	daytwo validate --repo DIR              check the config and that every overlay renders
//	daytwo init --repo DIR [--force]        write .github/daytwo.yml, issue forms, CODEOWNERS
//	daytwo version
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"
)

// Exit codes: 0 ok, 1 internal error, 2 user error (usage, invalid request, refused).
const (
	exitOK       = 0
	exitInternal = 1
	exitUser     = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUser
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "setup":
		return setupCmd(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "daytwo", version())
		return exitOK
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	if cmd, ok := localCommands[args[0]]; ok {
		routeLogrus(zerolog.Nop())
		return cmd(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "daytwo: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUser
}

// localCommands work on a local clone of a GitOps repo, with no GitHub involved.
var localCommands = map[string]func(args []string, stdout, stderr io.Writer) int{}

func usage(w io.Writer) {
	fmt.Fprint(w, `daytwo turns day-2 requests into reviewed GitOps pull requests.

Usage:
  daytwo serve [--config FILE]              run the GitHub App server
  daytwo setup --public-url URL [--org ORG] [--github-url URL] [--out DIR] [--force] [--addr ADDR]
                                            register the GitHub App from a local page and
                                            write its credentials (see README.md)
  daytwo plan --repo DIR [--as USER] TEXT   print the change a command would make, or
                                            the answer to /status, /history or /diff
  daytwo apply --repo DIR [--as USER] TEXT  write it as a new branch and commit
  daytwo validate --repo DIR                check the config; render every overlay
  daytwo init --repo DIR [--force] [--dry-run]
                                            write .github/daytwo.yml, issue forms and a
                                            CODEOWNERS suggestion from what the repo deploys
  daytwo version

TEXT is written as in a comment, e.g. "/scale 3 --service checkout --env prod".
Exit status: 0 ok, 1 internal error, 2 user error.
`)
}
