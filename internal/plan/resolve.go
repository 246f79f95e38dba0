package plan

import (
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Label prefixes that name a service or an environment on the origin issue or PR.
const (
	ServiceLabelPrefix = "service/"
	EnvLabelPrefix     = "env/"
)

// Resolve fills the Service and Env of req.Command from context and validates every name.
// Each is taken from the first source that gives one: the command's own flag or argument,
// the origin's labels (service/<name>, env/<name>), for the service the one whose
// Repository is req.Repo, and finally the only one there is (the only environment the
// service deploys to). Ambiguity and unknown names are Invalid errors that list the
// choices or suggest the closest name. /promote's target is Command.Env; its --from is
// validated too. /freeze and /unfreeze need an environment only; help needs nothing.
func (p *Planner) Resolve(cfg *repoconfig.Config, req Input) (command.Command, error) {
	cmd := req.Command
	if cfg == nil {
		return cmd, Errorf(Internal, "resolving needs the repository config")
	}
	if cmd.Name == "help" {
		return cmd, nil
	}
	if envOnly(cmd.Name) {
		env, err := resolveEnv(cfg, nil, cmd.Env, req.Labels)
		if err != nil {
			return cmd, err
		}
		cmd.Env, cmd.Service = env, ""
		return cmd, nil
	}
	svc, err := resolveService(cfg, cmd.Service, req.Labels, req.Repo)
	if err != nil {
		return cmd, err
	}
	env, err := resolveEnv(cfg, svc, cmd.Env, req.Labels)
	if err != nil {
		return cmd, err
	}
	if !svc.Deploys(env) {
		return cmd, Errorf(Invalid, "%s is not deployed to %s (it deploys to %s)", svc.Name, env, strings.Join(svc.Environments, ", "))
	}
	cmd.Service, cmd.Env = svc.Name, env
	if cmd.Name == "promote" && cmd.From != "" {
		if _, ok := cfg.Env(cmd.From); !ok {
			return cmd, unknown("environment", cmd.From, cfg.EnvNames())
		}
		if cmd.From == env {
			return cmd, Errorf(Invalid, "cannot promote %s from itself; name another environment with --from", env)
		}
		if !svc.Deploys(cmd.From) {
			return cmd, Errorf(Invalid, "%s is not deployed to %s, so there is nothing to promote from it", svc.Name, cmd.From)
		}
	}
	return cmd, nil
}

func resolveService(cfg *repoconfig.Config, flag string, labels []string, repo string) (*repoconfig.Service, error) {
	names := cfg.ServiceNames()
	pick := func(name string) (*repoconfig.Service, error) {
		if s, ok := cfg.Service(name); ok {
			return s, nil
		}
		return nil, unknown("service", name, names)
	}
	if flag != "" {
		return pick(flag)
	}
	fromLabels := labelValues(labels, ServiceLabelPrefix)
	switch len(fromLabels) {
	case 0:
	case 1:
		return pick(fromLabels[0])
	default:
		return nil, Errorf(Invalid, "this thread has several service labels (%s); name one with --service <name>", strings.Join(fromLabels, ", "))
	}
	if repo != "" {
		var owned []string
		for _, s := range cfg.Services {
			if s.Repository != "" && strings.EqualFold(s.Repository, repo) {
				owned = append(owned, s.Name)
			}
		}
		switch len(owned) {
		case 0:
		case 1:
			return pick(owned[0])
		default:
			return nil, Errorf(Invalid, "%s builds several services (%s); name one with --service <name>", repo, choices(owned))
		}
	}
	switch len(names) {
	case 0:
		return nil, Errorf(Invalid, "%s lists no services", repoconfig.Path)
	case 1:
		return pick(names[0])
	}
	return nil, Errorf(Invalid, "which service? name one with --service <name> (%s)", choices(names))
}

func resolveEnv(cfg *repoconfig.Config, svc *repoconfig.Service, flag string, labels []string) (string, error) {
	all := cfg.EnvNames()
	pick := func(name string) (string, error) {
		if _, ok := cfg.Env(name); ok {
			return name, nil
		}
		return "", unknown("environment", name, all)
	}
	if flag != "" {
		return pick(flag)
	}
	fromLabels := labelValues(labels, EnvLabelPrefix)
	switch len(fromLabels) {
	case 0:
	case 1:
		return pick(fromLabels[0])
	default:
		return "", Errorf(Invalid, "this thread has several environment labels (%s); name one with --env <name>", strings.Join(fromLabels, ", "))
	}
	candidates := all
	if svc != nil {
		candidates = nil
		for _, e := range all {
			if svc.Deploys(e) {
				candidates = append(candidates, e)
			}
		}
	}
	switch len(candidates) {
	case 0:
		return "", Errorf(Invalid, "%s lists no environments", repoconfig.Path)
	case 1:
		return candidates[0], nil
	}
	return "", Errorf(Invalid, "which environment? name one with --env <name> (%s)", choices(candidates))
}

// labelValues returns the distinct names of labels "<prefix><name>", prefix matched
// case-insensitively as GitHub labels are.
func labelValues(labels []string, prefix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range labels {
		if len(l) <= len(prefix) || !strings.EqualFold(l[:len(prefix)], prefix) {
			continue
		}
		v := strings.TrimSpace(l[len(prefix):])
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func unknown(kind, name string, known []string) *Error {
	if s := command.Suggest(name, known); s != "" {
		return Errorf(Invalid, "unknown %s %q; did you mean %q?", kind, name, s)
	}
	return Errorf(Invalid, "unknown %s %q (%s)", kind, name, choices(known))
}

// choices lists names for a message, cut short when a repository has many.
func choices(names []string) string {
	const max = 10
	if len(names) == 0 {
		return "none configured"
	}
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}

// ResolveView resolves a read-only command (/status, /history, /diff): the service as
// Resolve does, except that with optional set an undecidable service is left empty (all
// services); an environment is only validated, never defaulted, since these commands show
// every environment unless one is named. /diff's two environments are validated too.
func (p *Planner) ResolveView(cfg *repoconfig.Config, req Input, optional bool) (command.Command, error) {
	cmd := req.Command
	if cfg == nil {
		return cmd, Errorf(Internal, "resolving needs the repository config")
	}
	svc, err := resolveService(cfg, cmd.Service, req.Labels, req.Repo)
	switch {
	case err == nil:
		cmd.Service = svc.Name
	case optional && cmd.Service == "":
		cmd.Service = ""
	default:
		return cmd, err
	}
	for _, e := range []string{cmd.Env, cmd.From} {
		if e == "" {
			continue
		}
		if _, ok := cfg.Env(e); !ok {
			return cmd, unknown("environment", e, cfg.EnvNames())
		}
	}
	return cmd, nil
}
