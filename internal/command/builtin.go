package command

import (
	"fmt"
	"strings"
)

// Default returns a new Registry holding the built-in commands. Each call returns a fresh
// Registry, so callers may Register more commands on it.
func Default() *Registry {
	r := NewRegistry()
	for _, s := range builtins(r) {
		if err := r.Register(s); err != nil {
			panic("command: built-in " + err.Error()) // a programming error, caught by the tests
		}
	}
	return r
}

func builtins(r *Registry) []Spec {
	return []Spec{
		{
			Name:    "promote",
			Args:    "<env>",
			Summary: "Promote a service into <env> from the environment before it",
			Description: "Copies what the service runs in the source environment into the overlay of <env>: " +
				"image names, tags and digests, and ConfigMap literals where <env> enables it. The source is the " +
				"environment before <env> in the promotion order unless --from names another. " +
				"`--env <env>` is accepted in place of the argument; giving both with different values is an error.",
			Mutating: true,
			Examples: []Example{
				{"/promote staging", "promote into staging from the environment before it"},
				{"/promote prod --from staging --service checkout", "promote checkout from staging into prod"},
				{"/promote prod --dry-run", "show what promoting into prod would change"},
			},
			Flags: func(fs *FlagSet, c *Command) {
				fs.Name("from", "", "<env>", "the environment to promote from (default: the one before <env>)", "environment", &c.From)
			},
			Bind: bindPromote,
			Form: &FormSpec{
				Name:        "promote",
				Description: "Promote a service into an environment from the one before it.",
				Intro:       "Copies what the service runs in the source environment (images, and config where the target enables it) into the target environment's overlay.",
				Env:         "The environment to promote into.",
				EnvExample:  "prod",
				Fields: []FormField{{
					ID: "from", Type: "input", Label: "Source environment", Environment: true, Placeholder: "staging",
					Description: "The environment to promote from. Leave empty for the one before the target in the promotion order.",
				}},
			},
		},
		{
			Name:    "restart",
			Summary: "Restart the pods of a service",
			Description: "Sets the pod-template annotation `kubectl rollout restart` sets on the service's workload, " +
				"in the environment's overlay, so Argo CD rolls the pods and Git stays the source of truth. " + workloadText,
			Mutating: true,
			Examples: []Example{
				{"/restart --env prod", "restart the service's pods in prod"},
				{"/restart -s checkout -e staging --dry-run", "show the change a restart of checkout in staging makes"},
				{"/restart --workload payments-worker --env staging", "restart one of the service's workloads"},
			},
			Flags: workloadFlag,
			Form: &FormSpec{
				Name:        "restart",
				Description: "Restart the pods of a service in one environment.",
				Intro:       "Restarts the pods of a service by changing its pod template in Git, so Argo CD rolls them.",
				Env:         "The environment to restart the service in.",
				EnvExample:  "staging",
				Fields:      []FormField{workloadField},
			},
		},
		{
			Name:        "redeploy",
			Summary:     "Restart every workload of a service",
			Description: "Like /restart, but for every Deployment, StatefulSet and DaemonSet the service's overlay renders.",
			Mutating:    true,
			Examples:    []Example{{"/redeploy --env staging", "restart every workload of the service in staging"}},
		},
		{
			Name:    "scale",
			Args:    "<n>",
			Summary: "Set the replica count of a service",
			Description: fmt.Sprintf("Sets the replicas of the service's workload in the environment's overlay to <n>, "+
				"a whole number from 0 to %d. Environments may set tighter bounds. ", MaxReplicas) + workloadText,
			Mutating: true,
			Examples: []Example{
				{"/scale 3 --env prod", "run 3 replicas in prod"},
				{"/scale 0 -e staging -s checkout", "stop checkout in staging"},
				{"/scale 4 --workload payments-api --env prod", "scale one of the service's workloads"},
				{"/scale 5 --for 2h --env staging", "run 5 replicas in staging for two hours, then restore the count"},
			},
			Flags: withFor(workloadFlag),
			Bind:  bindScale,
			Form: &FormSpec{
				Name:        "scale",
				Description: "Set the number of replicas of a service in one environment.",
				Intro:       "Sets the replica count of a service in one environment's overlay.",
				Env:         "The environment to scale the service in.",
				EnvExample:  "prod",
				Fields: []FormField{{
					ID: "replicas", Type: "input", Label: "Replicas", Required: true, Placeholder: "3",
					Description: fmt.Sprintf("A whole number from 0 to %d; the environment may set tighter bounds.", MaxReplicas),
				}, workloadField, forField},
			},
		},
		{
			Name:    "set-image",
			Args:    "[<container>=]<image>",
			Summary: "Change the image tag or digest a service runs",
			Description: "<image> is a tag (`v1.2.3`), an image with a tag (`ghcr.io/acme/web:v1.2.3`), an image with " +
				"a digest (`ghcr.io/acme/web@sha256:<64 hex digits>`), or a digest alone (`@sha256:<64 hex digits>`). " +
				"A tag alone keeps the image name. The container is the one running the named image, the one " +
				"`<container>=` or --container names, or the service's main one; --workload narrows the search " +
				"to one workload. Every container running the same image changes with it.",
			Mutating: true,
			Examples: []Example{
				{"/set-image v1.4.2 --env staging", "run tag v1.4.2 in staging"},
				{"/set-image sidecar=ghcr.io/acme/proxy:2.0 --env prod", "change the sidecar container's image in prod"},
				{"/set-image ghcr.io/acme/payments-api:1.6.0 --env dev", "change the image of the container running ghcr.io/acme/payments-api"},
				{"/set-image 1.6.0 --container worker --env dev", "change the tag of the worker container's image"},
			},
			Flags: func(fs *FlagSet, c *Command) {
				fs.Name("container", "", "<name>", "the container whose image changes, like <container>= (default: the one running the named image, or the service's main one)", "container", &c.Image.Container)
				workloadFlag(fs, c)
				forFlag(fs, c)
			},
			Bind: bindSetImage,
			Form: &FormSpec{
				Name:        "set image",
				Description: "Change the image tag or digest a service runs in one environment.",
				Intro:       "Changes the image of a service in one environment's overlay.",
				Env:         "The environment to change the image in.",
				EnvExample:  "staging",
				Fields: []FormField{{
					ID: "image", Type: "input", Label: "Image", Required: true, Placeholder: "v1.4.2",
					Description: "A tag (v1.4.2), an image with a tag (ghcr.io/acme/web:v1.4.2) or a digest (ghcr.io/acme/web@sha256:...). Prefix container= to change a container other than the main one.",
				}, {
					ID: "container", Type: "input", Label: "Container", Placeholder: "api",
					Description: "The container whose image changes. Leave empty for the one running the image you name, or the service's main one.",
				}, workloadField, forField},
			},
		},
		{
			Name:    "config",
			Args:    "set KEY=VALUE... | unset KEY...",
			Summary: "Set or remove ConfigMap literals of a service",
			Description: "`set` adds or changes literals of the service's ConfigMap generator; `unset` removes them. " +
				"Keys use letters, digits, `-`, `_` and `.`; quote a value that holds spaces (`MSG='hello world'`). " +
				"Put `--` before a key that starts with `-`.",
			Mutating: true,
			Examples: []Example{
				{"/config set LOG_LEVEL=debug FEATURE_X=on --env staging", "set two literals in staging"},
				{"/config unset FEATURE_X --env staging", "remove a literal"},
				{"/config set LOG_LEVEL=debug --for 30m --env staging", "debug logging for 30 minutes, then the old value again"},
			},
			Flags: func(fs *FlagSet, c *Command) {
				fs.Func("workload", "w", "<name>", "the workload whose ConfigMap to edit, when the overlay generates several (default: the service's configMap, or the only one)", func(v string) error {
					if err := ValidateWorkload(v); err != nil {
						return err
					}
					c.Workload = v
					return nil
				})
				forFlag(fs, c)
			},
			Bind: bindConfig,
			Form: &FormSpec{
				Name:        "config",
				Description: "Set or remove ConfigMap literals of a service in one environment.",
				Intro:       "Sets or removes literals of the service's ConfigMap generator in one environment's overlay.",
				Env:         "The environment whose config to change.",
				EnvExample:  "staging",
				Fields: []FormField{
					{ID: "operation", Type: "dropdown", Label: "Operation", Required: true, Options: []string{"set", "unset"},
						Description: "Set adds or changes literals; unset removes them."},
					{ID: "literals", Type: "textarea", Label: "Literals", Required: true, Render: "text", Placeholder: "LOG_LEVEL=debug\nFEATURE_X=on\n",
						Description: "One per line: KEY=VALUE to set, or KEY to unset. Keys use letters, digits, -, _ and ."},
					forField,
				},
			},
		},
		{
			Name:        "suspend",
			Summary:     "Scale a service to zero, remembering its replica count",
			Description: "Sets the replicas of the service's workload to 0 and keeps the previous count in an annotation, for /resume. " + workloadText,
			Mutating:    true,
			Examples:    []Example{{"/suspend --env staging", "stop the service in staging"}, {"/suspend --for 3d --env staging", "stop it for three days"}},
			Flags:       withFor(workloadFlag),
		},
		{
			Name:        "resume",
			Summary:     "Bring a suspended service back to its replica count",
			Description: "Restores the replica count /suspend kept. " + workloadText,
			Mutating:    true,
			Examples:    []Example{{"/resume --env staging", "start the service in staging again"}},
			Flags:       workloadFlag,
		},
		{
			Name:    "rollback",
			Summary: "Restore the overlay of a service as it was before a change",
			Description: "Restores the environment's overlay of the service as it was before the last daytwo change to it, " +
				"or as it was at --to <commit>. The earlier content is restored; the change is not re-applied on top.",
			Mutating: true,
			Examples: []Example{
				{"/rollback --env prod", "undo the last change to the service in prod"},
				{"/rollback --to 3f2a9c1 --env prod", "restore the overlay as of commit 3f2a9c1"},
			},
			Form: &FormSpec{
				Name:        "rollback",
				Description: "Restore the overlay of a service as it was before a change.",
				Intro:       "Restores the environment's overlay of the service as it was before the last daytwo change, or as of a commit you name.",
				Env:         "The environment to roll back.",
				EnvExample:  "prod",
				Fields: []FormField{{
					ID: "to", Type: "input", Label: "Commit to restore", Placeholder: "3f2a9c1",
					Description: "7 to 40 hex digits of a commit of the GitOps repository. Leave empty to undo the last daytwo change.",
				}},
			},
			Flags: func(fs *FlagSet, c *Command) {
				fs.Func("to", "", "<commit>", "the commit to restore (7 to 40 hex digits)", func(v string) error {
					sha, err := ValidateCommit(v)
					c.To = sha
					return err
				})
			},
			Bind: func(c *Command, args []string) error {
				if len(args) == 0 {
					return nil
				}
				if _, err := ValidateCommit(args[0]); err == nil {
					return ArgErrorf(0, "/rollback takes no arguments; to restore a commit write --to %s", args[0])
				}
				return ArgErrorf(0, "/rollback takes no arguments, but got %q", args[0])
			},
		},
		{
			Name:    "freeze",
			Args:    "[<env>]",
			Summary: "Block changes to an environment",
			Description: "Records a freeze of the environment in the repository config; mutating commands are refused " +
				"until /unfreeze, except with --break-glass. Name the environment as the argument or with --env, not both " +
				"with different values. The reason is the words after --reason up to the next flag, quoted or not (quote " +
				"it if it holds words starting with -).",
			Mutating:    true,
			Environment: true,
			Examples: []Example{
				{"/freeze prod --reason release 2.4 in progress", "freeze prod, saying why"},
				{`/freeze -e prod --reason "incident #231"`, "a quoted reason"},
				{"/freeze prod --for 2h --reason deploy window", "freeze prod for two hours"},
			},
			Flags: func(fs *FlagSet, c *Command) {
				fs.Text("reason", "", "<text>", "why the environment is frozen, shown to whoever is refused", &c.Reason)
				forFlag(fs, c)
			},
			Bind: bindEnv("freeze", "; give a reason with --reason <text>"),
		},
		{
			Name:        "unfreeze",
			Args:        "[<env>]",
			Summary:     "Lift the freeze of an environment",
			Description: "Removes the freeze /freeze recorded. Name the environment as the argument or with --env.",
			Mutating:    true,
			Environment: true,
			Examples:    []Example{{"/unfreeze prod", "allow changes to prod again"}},
			Bind:        bindEnv("unfreeze", ""),
		},
		newServiceSpec(),
		dashboardSpec(),
		askSpec(),
		RunSpec(),
		syncSpec(),
		refreshSpec(),
		{
			Name:        "help",
			Args:        "[command]",
			Summary:     "Show the commands, or how to use one",
			Description: "Without an argument, lists every command. With one, shows its usage, flags and examples; `/<command> --help` does the same.",
			ReadOnly:    true,
			Examples:    []Example{{"/help", "list the commands"}, {"/help scale", "how to use /scale"}},
			Bind: func(c *Command, args []string) error {
				switch len(args) {
				case 0:
					return nil
				case 1:
				default:
					return ArgErrorf(1, "/help takes one command name, but got %d words", len(args))
				}
				t := strings.ToLower(strings.TrimPrefix(args[0], "/"))
				if _, ok := r.specs[t]; ok {
					c.Topic = t
					return nil
				}
				if s := Suggest(t, r.Names()); s != "" {
					return ArgErrorf(0, "there is no command %q; did you mean %s?", args[0], s)
				}
				return ArgErrorf(0, "there is no command %q; /help lists them", args[0])
			},
		},
	}
}

// workloadText tells how the commands acting on one workload find it.
const workloadText = "The workload is the one the repository config names, else the only one the overlay renders " +
	"(or the one named after the service); when the service runs several, --workload names one."

// workloadFlag defines --workload on the commands acting on one workload.
func workloadFlag(fs *FlagSet, c *Command) {
	fs.Func("workload", "w", "<name>", "the workload to act on, as the overlay renders it (kind/name or name; default: the configured or only one)", func(v string) error {
		if err := ValidateWorkload(v); err != nil {
			return err
		}
		c.Workload = v
		return nil
	})
}

// workloadField is the issue-form field of --workload.
var workloadField = FormField{
	ID: "workload", Type: "input", Label: "Workload", Placeholder: "payments-api",
	Description: "The workload to act on, for a service running several. Leave empty for the one the repository config names, or the only one.",
}

func bindPromote(c *Command, args []string) error {
	switch {
	case len(args) > 1:
		return ArgErrorf(1, "/promote takes one environment, but got %d words", len(args))
	case len(args) == 0 && c.Env == "":
		return ArgErrorf(0, "name the environment to promote into: /promote <env>")
	case len(args) == 0:
		return nil
	}
	if err := ValidateName("environment", args[0]); err != nil {
		return &ArgError{Index: 0, Err: err}
	}
	if c.Env != "" && c.Env != args[0] {
		return ArgErrorf(0, "the target environment is given twice, as %q and as --env %s; give it once", args[0], c.Env)
	}
	c.Env = args[0]
	return nil
}

// bindEnv binds the optional environment argument of a command that acts on a whole
// environment, in place of --env; hint follows an error about the argument.
func bindEnv(verb, hint string) func(c *Command, args []string) error {
	return func(c *Command, args []string) error {
		switch {
		case len(args) == 0:
			return nil
		case len(args) > 1:
			return ArgErrorf(1, "/%s takes one environment, but got %d words%s", verb, len(args), hint)
		}
		if err := ValidateName("environment", args[0]); err != nil {
			return &ArgError{Index: 0, Err: fmt.Errorf("%w%s", err, hint)}
		}
		if c.Env != "" && c.Env != args[0] {
			return ArgErrorf(0, "the environment is given twice, as %q and as --env %s; give it once", args[0], c.Env)
		}
		c.Env = args[0]
		return nil
	}
}

func bindScale(c *Command, args []string) error {
	if len(args) != 1 {
		if len(args) == 0 {
			return ArgErrorf(0, "give the number of replicas: /scale <n>")
		}
		return ArgErrorf(1, "/scale takes one number, but got %d words", len(args))
	}
	n, err := ParseReplicas(args[0])
	if err != nil {
		return &ArgError{Index: 0, Err: err}
	}
	c.Replicas = n
	return nil
}

func bindSetImage(c *Command, args []string) error {
	if len(args) != 1 {
		if len(args) == 0 {
			return ArgErrorf(0, "give the image: /set-image [<container>=]<tag|image:tag|image@sha256:digest>")
		}
		return ArgErrorf(1, "/set-image takes one image, but got %d words", len(args))
	}
	flag := c.Image.Container // --container, applied before the argument
	ref, err := ParseImageRef(args[0])
	if err != nil {
		return &ArgError{Index: 0, Err: err}
	}
	if flag != "" {
		if ref.Container != "" && ref.Container != flag {
			return ArgErrorf(0, "the container is given twice, as %s= and as --container %s; give it once", ref.Container, flag)
		}
		ref.Container = flag
	}
	c.Image = ref
	return nil
}

func bindConfig(c *Command, args []string) error {
	if len(args) == 0 {
		return ArgErrorf(0, "say what to do: /config set KEY=VALUE... or /config unset KEY...")
	}
	op := strings.ToLower(args[0])
	if op != "set" && op != "unset" {
		if s := Suggest(op, []string{"set", "unset"}); s != "" {
			return ArgErrorf(0, "%q is not set or unset; did you mean %s?", args[0], s)
		}
		if strings.Contains(args[0], "=") {
			return ArgErrorf(0, "write set before the literals: /config set %s", args[0])
		}
		return ArgErrorf(0, "%q is not set or unset", args[0])
	}
	if op == "unset" && c.For > 0 {
		return ArgErrorf(0, "--for time-boxes /config set only; to remove a literal for a while, /config set it to an empty value with --for")
	}
	if len(args) == 1 {
		if op == "set" {
			return ArgErrorf(1, "give at least one KEY=VALUE after set")
		}
		return ArgErrorf(1, "give at least one KEY after unset")
	}
	seen := map[string]bool{}
	for i, a := range args[1:] {
		i++ // index in args
		var key string
		if op == "set" {
			kv, err := ParseConfigLiteral(a)
			if err != nil {
				return &ArgError{Index: i, Err: err}
			}
			c.Set = append(c.Set, kv)
			key = kv.Key
		} else {
			if strings.Contains(a, "=") {
				return ArgErrorf(i, "unset takes keys only, but got %q", a)
			}
			if err := ValidateConfigKey(a); err != nil {
				return &ArgError{Index: i, Err: err}
			}
			c.Unset = append(c.Unset, a)
			key = a
		}
		if seen[key] {
			return ArgErrorf(i, "the key %s is given twice", key)
		}
		seen[key] = true
	}
	return nil
}
