package repoconfig

import (
	"fmt"
	"strings"
)

// AllowedWorkflow is a workflow /run may dispatch for a service in an environment.
type AllowedWorkflow struct {
	Workflow        // as listed; Repository as written
	Repo     string // owner/repo holding the workflow
	From     string // where it is listed: `service "checkout"` or `environment "prod"`
}

// RunRef is the branch or tag the run uses: the listed ref, which requested may only repeat,
// else requested; "" means the repository's default branch.
func (w AllowedWorkflow) RunRef(requested string) (string, error) {
	switch {
	case w.Workflow.Ref == "":
		return requested, nil
	case requested == "" || requested == w.Workflow.Ref:
		return w.Workflow.Ref, nil
	}
	return "", &WorkflowRefusal{Name: w.Name, Msg: fmt.Sprintf(
		"workflow %q runs from %s only (ref: of its entry under %s in %s), not from %s",
		w.Name, w.Workflow.Ref, w.From, Path, requested)}
}

// WorkflowRefusal is why /run may not dispatch a workflow, in words for the requester.
type WorkflowRefusal struct {
	Name    string   // the workflow asked for
	Allowed []string // the names that may run there, when the name is not one of them
	Msg     string
}

func (e *WorkflowRefusal) Error() string { return e.Msg }

// Workflows lists what /run may dispatch for service in env, by name: the environment's
// workflows, then the service's. An empty service, or one that does not deploy to env,
// has only the environment's.
func (c *Config) Workflows(service, env string) []Workflow {
	var out []Workflow
	if e, ok := c.Env(env); ok {
		out = append(out, e.Workflows...)
	}
	if s, ok := c.Service(service); ok && s.Deploys(env) {
		out = append(out, s.Workflows...)
	}
	return out
}

// FindWorkflow is the workflow named name that /run may dispatch for service in env, with
// its repository resolved; gitops is the GitOps repository's owner/repo. Anything else is
// a *WorkflowRefusal that names what may run.
func (c *Config) FindWorkflow(gitops, service, env, name string) (AllowedWorkflow, error) {
	e, ok := c.Env(env)
	if !ok {
		return AllowedWorkflow{}, &WorkflowRefusal{Name: name, Msg: fmt.Sprintf("there is no environment %q in %s%s", env, Path, didYouMean(env, c.EnvNames()))}
	}
	where := "in " + env
	s, hasService := c.Service(service)
	if hasService && s.Deploys(env) {
		where = fmt.Sprintf("for %s in %s", service, env)
	}
	var found *Workflow
	from := fmt.Sprintf("environment %q", e.Name)
	for i := range e.Workflows {
		if e.Workflows[i].Name == name {
			found = &e.Workflows[i]
		}
	}
	if found == nil && hasService && s.Deploys(env) {
		for i := range s.Workflows {
			if s.Workflows[i].Name == name {
				found, from = &s.Workflows[i], fmt.Sprintf("service %q", s.Name)
			}
		}
	}
	if found == nil {
		var names []string
		for _, w := range c.Workflows(service, env) {
			names = append(names, w.Name)
		}
		if len(names) == 0 {
			return AllowedWorkflow{}, &WorkflowRefusal{Name: name, Msg: fmt.Sprintf(
				"no workflow may be run %s: list the ones people may run under workflows: of the service or the environment in %s", where, Path)}
		}
		return AllowedWorkflow{}, &WorkflowRefusal{Name: name, Allowed: names, Msg: fmt.Sprintf(
			"%q is not a workflow that may be run %s%s; the ones that may: %s", name, where, didYouMean(name, names), strings.Join(names, ", "))}
	}
	w := AllowedWorkflow{Workflow: *found, From: from}
	switch found.Repository {
	case "", WorkflowRepoGitOps:
		w.Repo = gitops
	case WorkflowRepoService:
		if !hasService {
			return AllowedWorkflow{}, &WorkflowRefusal{Name: name, Msg: fmt.Sprintf(
				"workflow %q runs in the service's repository: name the service with --service", name)}
		}
		if s.Repository == "" {
			return AllowedWorkflow{}, &WorkflowRefusal{Name: name, Msg: fmt.Sprintf(
				"workflow %q runs in the service's repository, and service %q names none; set its repository: (owner/repo) in %s", name, s.Name, Path)}
		}
		w.Repo = s.Repository
	default:
		w.Repo = found.Repository
	}
	return w, nil
}
