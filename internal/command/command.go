// Package command turns text a person wrote (a comment, or a submitted issue form) into
// day-2 commands. It is pure: no I/O, no GitHub, no Argo CD. Every command describes itself
// in a Registry, and both the parser and the generated help read that one registry.
package command

import "github.com/daytwo-dev/daytwo/internal/valid"

// Command is one parsed request, e.g. "/scale 3 --env prod".
// Service and Env are empty when the text did not name them; the planner fills them
// from context (issue-form field, labels, repo mapping, the only one that exists).
type Command struct {
	Name string // canonical verb, lower case: "promote", "scale", ...
	// Line is the line as written (trimmed), for replies and commit trailers. For an issue
	// form it is the equivalent comment line; parsing Line gives the same Command, except
	// that a form's free-text Reason is not part of it.
	Line string

	Service    string
	Env        string
	DryRun     bool
	BreakGlass bool

	// Workload is --workload of the commands acting on one workload: "<name>" or
	// "<Kind>/<name>", as the render or the overlay's patches name it; "" when not given.
	Workload string

	// Per-verb parameters; only the ones of Name are set.
	From     string     // promote --from <env>
	Replicas int        // scale <n>
	Image    ImageRef   // set-image; --container is Image.Container
	Set      []KeyValue // config set KEY=VALUE..., in the order given
	Unset    []string   // config unset KEY...
	To       string     // rollback --to <commit>
	Reason   string     // freeze --reason, and the free-text reason of an issue form
	Topic    string     // help [command]
	Limit    int        // history --limit <n>
	Workflow string     // run <workflow>: the name listed in the config
	Inputs   []KeyValue // run key=value..., in the order given
	Ref      string     // run --ref <ref>
	Hard     bool       // refresh --hard
	Question string     // ask <question>: its words, joined by spaces

	// new-service: Service is the new name and Image its image (Name with Tag or Digest).
	Owner     string   // --owner <org>/<team>
	Port      int      // --port
	Envs      []string // --envs; nil: every environment
	System    string   // --system
	Lifecycle string   // --lifecycle
}

// ImageRef is the argument of /set-image: [<container>=]<tag|image:tag|image@digest>.
type ImageRef struct {
	Container string // empty: the service's configured container
	Name      string // empty: keep the image name, change only tag/digest
	Tag       string
	Digest    string // "sha256:<64 hex>"
}

// KeyValue is one ConfigMap literal.
type KeyValue = valid.KeyValue
