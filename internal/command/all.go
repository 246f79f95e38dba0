package command

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Bounds of /history --limit.
const (
	DefaultHistoryLimit = 10
	MaxHistoryLimit     = 100
)

// All returns a new Registry holding every command daytwo answers on GitHub: the read-only
// answers (/status, /history, /diff), the built-in commands, /cancel and /init. It is the
// one list of verbs: the config's requesters keys, the planner and the server read it.
func All() *Registry { return Where(nil) }

// Where returns a new Registry holding the commands of All that keep accepts (all when
// keep is nil), for a caller that carries out only some of them. The commands kept must
// include those the examples of the others name (/help's: /scale).
func Where(keep func(Spec) bool) *Registry {
	r := NewRegistry()
	for _, s := range slices.Concat(answers(), builtins(r), []Spec{cancelSpec(), extendSpec(), initSpec()}) {
		if keep != nil && !keep(s) {
			continue
		}
		if err := r.Register(s); err != nil {
			panic("command: " + err.Error()) // a programming error, caught by the tests
		}
	}
	return r
}

// answers are the read-only commands that answer from Git and Argo CD; /ask is askSpec.
func answers() []Spec {
	return []Spec{
		{
			Name:    "status",
			Summary: "Show what runs where: desired (Git) and live (Argo CD) state per environment",
			Description: "For each environment of the service: the images, replicas and config Git says it runs, " +
				"whether it is frozen, what Argo CD reports (sync, health, revision, last sync), the open daytwo PRs, " +
				"and the owner and dependencies from the service's Backstage catalog-info.yaml, with a diagram of " +
				"the promotion path.",
			ReadOnly: true,
			Examples: []Example{
				{Line: "/status --service checkout", Text: "checkout in every environment"},
				{Line: "/status -s payments -e prod", Text: "payments in prod only"},
			},
		},
		{
			Name:    "history",
			Summary: "List the day-2 actions recorded in Git history",
			Description: "The changes daytwo made, read from the trailers of the commits on the overlays: when, what, " +
				"who asked, and the pull request. Without --service, every service; without --env, every environment.",
			ReadOnly: true,
			Examples: []Example{
				{Line: "/history --service checkout --env prod", Text: "what was done to checkout in prod"},
				{Line: "/history --limit 30", Text: "the last 30 actions on anything"},
			},
			Flags: func(fs *FlagSet, c *Command) {
				fs.Func("limit", "n", "<n>", fmt.Sprintf("how many actions to show, 1 to %d (default %d)", MaxHistoryLimit, DefaultHistoryLimit), func(v string) error {
					n, err := strconv.Atoi(v)
					if err != nil || n < 1 || n > MaxHistoryLimit {
						return fmt.Errorf("--limit takes a number from 1 to %d, not %q", MaxHistoryLimit, v)
					}
					c.Limit = n
					return nil
				})
			},
		},
		{
			Name:    "diff",
			Args:    "<env> <env>",
			Summary: "Show what differs between two environments of a service",
			Description: "Images, config and replicas of the service in the first environment against the second: " +
				"what `/promote <second> --from <first>` would carry.",
			ReadOnly: true,
			Examples: []Example{{Line: "/diff staging prod --service checkout", Text: "what promoting checkout to prod would change"}},
			Bind: func(c *Command, args []string) error {
				if len(args) != 2 {
					return ArgErrorf(min(len(args), 2), "/diff compares two environments: /diff <env> <env>, e.g. /diff staging prod")
				}
				for i, a := range args {
					if err := ValidateName("environment", a); err != nil {
						return &ArgError{Index: i, Err: err}
					}
				}
				if c.Env != "" {
					return ArgErrorf(0, "/diff takes its environments as arguments, not --env")
				}
				c.From, c.Env = args[0], args[1]
				return nil
			},
		},
	}
}

// askSpec answers a question about a service from the facts /status, /history and /diff
// show, with an AI-written answer where the server config names an endpoint.
func askSpec() Spec {
	return Spec{
		Name:    "ask",
		Args:    "<question>",
		Summary: "Ask about a service: answered from its /status, /history and /diff, by AI where configured",
		Description: "Gathers what /status, /history and /diff show of the service — in the environment --env names, " +
			"else the one the question names, else every one — and answers with those facts. Where daytwo's server " +
			"config names an AI endpoint (`ai:`), a short answer written from those facts alone comes first, labelled " +
			"as AI-written, with the commands it suggests that parse; nothing runs until a person replies with one. " +
			"The service is the one --service names, else the one the question names.",
		ReadOnly: true,
		Question: true,
		Examples: []Example{
			{Line: "/ask why is checkout slow in prod?", Text: "answered from checkout's status, history and differences in prod"},
			{Line: "/ask what changed last? --service payments --env staging", Text: "name the service and environment with flags"},
		},
		Bind: func(c *Command, args []string) error {
			if len(args) == 0 {
				return ArgErrorf(0, "ask a question: /ask <question>, e.g. /ask why is checkout slow in prod?")
			}
			c.Question = strings.Join(args, " ")
			if len(c.Question) > MaxQuestionLen {
				return ArgErrorf(0, "the question is %d bytes long; keep it within %d", len(c.Question), MaxQuestionLen)
			}
			return nil
		},
		Form: &FormSpec{
			Name:        "ask",
			Description: "Ask a question about a service, answered from its status, history and differences.",
			Intro:       "Answers from what /status, /history and /diff show of the service, with a short AI-written answer where daytwo is configured for one.",
			Env:         "The environment the question is about.",
			EnvExample:  "prod",
			Reason:      "Anything else worth noting. It is not part of the question.",
			Fields: []FormField{{
				ID: "question", Type: "textarea", Label: "Question", Required: true, Placeholder: "Why is checkout slow in prod?",
				Description: "Your question, in words.",
			}},
		},
	}
}

// MaxQuestionLen bounds the question of /ask.
const MaxQuestionLen = 500

// cancelSpec changes something without a change of its own to plan: it closes pull
// requests, so it is neither mutating (no --dry-run) nor read-only.
func cancelSpec() Spec {
	return Spec{
		Name:    "cancel",
		Summary: "Close the open change PR of this thread and delete its branch",
		Description: "On a daytwo pull request, closes it; on the issue or PR that asked for a change, closes the open " +
			"change PRs carrying its requests. The branch is deleted; nothing reaches the cluster, and every request " +
			"the PR carried is told. The requester of every request in the PR, or whoever the environment's policy " +
			"allows to cancel, may use it. With no open change, it cancels the pending expiry of a merged time-boxed " +
			"change (`--for`) asked for in the thread: the change stays and nothing is restored.",
		Examples: []Example{{Line: "/cancel", Text: "drop the pending change asked for here"}},
	}
}

func initSpec() Spec {
	return Spec{
		Name:    "init",
		Summary: "Propose daytwo's config, issue forms and a CODEOWNERS suggestion for this GitOps repository",
		Description: "Reads the default branch — the Argo CD Applications and ApplicationSets, or the directory layout, and every overlay " +
			"rendered with kustomize — and opens a pull request with `.github/daytwo.yml` (environments, services, their workloads, " +
			"containers, images and ConfigMaps; the policy commented out with daytwo's defaults), an issue form per command offering " +
			"the repository's services and environments, and a commented-out `.github/CODEOWNERS` when the repository has none. " +
			"Only in a GitOps repository without `.github/daytwo.yml`, and only for its maintainers and admins.",
		Mutating:   true,
		Repository: true,
		Examples: []Example{
			{Line: "/init", Text: "open the pull request that onboards this repository"},
			{Line: "/init --dry-run", Text: "show what it would propose"},
		},
	}
}
