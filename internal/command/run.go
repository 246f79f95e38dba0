package command

import (
	"strings"

	"github.com/daytwo-dev/daytwo/internal/workflow"
)

// RunSpec is /run <workflow> [key=value...] [--ref REF]: a GitHub Actions workflow the
// repository's config allows, dispatched with inputs. It acts outside Git, so it is
// External.
func RunSpec() Spec {
	return Spec{
		Name:    "run",
		Args:    "<workflow> [key=value...]",
		Summary: "Run a GitHub Actions workflow the repository allows",
		Description: "Dispatches <workflow>, one of those `.github/daytwo.yml` lists under `workflows:` for the service " +
			"or the environment, with the inputs given as key=value. The inputs are checked against the workflow's own " +
			"`workflow_dispatch` inputs first: their types, required ones and defaults. Quote a value that holds spaces " +
			"(`notes='hello world'`); put `--` before a key that starts with `-`. The workflow runs from the ref the config " +
			"lists, else from --ref or the repository's default branch. The status comment follows the run to its end.",
		Mutating: true,
		External: true,
		Examples: []Example{
			{"/run smoke-test --env prod", "run the smoke-test workflow for the service in prod"},
			{"/run migrate dry_run=false --service checkout --env staging", "run migrate with one input"},
			{"/run e2e suite='checkout api' --ref release/2.4 --env staging", "run e2e from a release branch"},
		},
		Flags: func(fs *FlagSet, c *Command) {
			fs.Func("ref", "", "<ref>", "the branch or tag to run the workflow from (default: the one the config lists, else the default branch)", func(v string) error {
				if err := workflow.ValidateRef(v); err != nil {
					return err
				}
				c.Ref = v
				return nil
			})
		},
		Bind: bindRun,
		Form: &FormSpec{
			Name:        "run workflow",
			Description: "Run a GitHub Actions workflow the repository allows, for a service in one environment.",
			Intro:       "Runs one of the workflows the repository's .github/daytwo.yml lists for the service or the environment, with the inputs you give, checked against the workflow's own inputs.",
			Env:         "The environment to run the workflow for.",
			EnvExample:  "staging",
			Fields: []FormField{
				{ID: "workflow", Type: "input", Label: "Workflow", Required: true, Placeholder: "smoke-test",
					Description: "The name .github/daytwo.yml lists under workflows: for the service or the environment."},
				{ID: "inputs", Type: "textarea", Label: "Inputs", Render: "text", Placeholder: "suite=checkout\ndry_run=false\n",
					Description: "One per line: KEY=VALUE, for the workflow's inputs. Leave empty to run with the defaults."},
				{ID: "ref", Type: "input", Label: "Ref", Placeholder: "main",
					Description: "The branch or tag to run the workflow from. Leave empty for the one the config lists, or the default branch."},
			},
		},
	}
}

func bindRun(c *Command, args []string) error {
	if len(args) == 0 {
		return ArgErrorf(0, "name the workflow to run: /run <workflow> [key=value...]; the repository's .github/daytwo.yml lists those that may run under workflows:")
	}
	if err := ValidateName("workflow", args[0]); err != nil {
		if strings.Contains(args[0], "=") {
			return ArgErrorf(0, "name the workflow before its inputs: /run <workflow> %s", args[0])
		}
		return &ArgError{Index: 0, Err: err}
	}
	c.Workflow = args[0]
	seen := map[string]bool{}
	for i, a := range args[1:] {
		i++ // index in args
		k, v, ok := strings.Cut(a, "=")
		switch {
		case !ok:
			return ArgErrorf(i, "%q is not KEY=VALUE; the workflow's inputs are given as key=value", a)
		case !workflow.ValidInputName(k):
			return ArgErrorf(i, "%q is not an input name: inputs start with a letter or _ and hold letters, digits, - and _", k)
		case seen[k]:
			return ArgErrorf(i, "the input %s is given twice", k)
		}
		seen[k] = true
		c.Inputs = append(c.Inputs, KeyValue{Key: k, Value: v})
	}
	return nil
}

// RunArgs are the inputs of a /run command as the workflow package takes them.
func (c Command) RunArgs() []workflow.Arg {
	out := make([]workflow.Arg, len(c.Inputs))
	for i, kv := range c.Inputs {
		out[i] = workflow.Arg{Key: kv.Key, Value: kv.Value}
	}
	return out
}
