package ops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
	ghapi "github.com/daytwo-dev/daytwo/internal/github"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// mayRequest checks who asked against the environment's policy for the command (and for
// --break-glass). It returns a refusal naming what is required, or "".
func (r *Runner) mayRequest(ctx context.Context, repo ghapi.Repo, login string, cmd command.Command, env *repoconfig.Environment) (string, error) {
	// Breaking glass is judged by the environment's breakGlass rule alone: it names who may
	// act in an emergency, whatever the everyday rule of the command.
	if cmd.BreakGlass {
		if env.BreakGlass == nil {
			return fmt.Sprintf("%s does not allow `--break-glass` (no `breakGlass` rule in `%s`); repeat without it.", env.Name, repoconfig.Path), nil
		}
		ok, _, err := qualifies(ctx, repo, login, *env.BreakGlass)
		if err != nil || ok {
			return "", err
		}
		return fmt.Sprintf("@%s, `--break-glass` in %s is for people with %s; repeat without it.", login, env.Name, env.BreakGlass), nil
	}
	rule := env.Allowed(cmd.Name)
	ok, have, err := qualifies(ctx, repo, login, rule)
	if err != nil || ok {
		return "", err
	}
	return fmt.Sprintf("@%s, `/%s` in %s may be requested by people with %s on %s; you have %s. "+
		"Ask someone who qualifies, or the repository admins to change `requesters` in `%s`.",
		login, cmd.Name, env.Name, rule, repo.FullName(), describePermission(have), repoconfig.Path), nil
}

// qualifies reports whether login meets any one part of rule, and their permission.
func qualifies(ctx context.Context, repo ghapi.Repo, login string, rule repoconfig.Rule) (bool, string, error) {
	if slices.ContainsFunc(rule.Users, func(u string) bool { return strings.EqualFold(u, login) }) {
		return true, "", nil
	}
	perm, err := repo.Permission(ctx, login)
	if err != nil {
		return false, "", err
	}
	want := rule.Permission
	if rule.Empty() {
		want = "write"
	}
	if want != "" && repoconfig.PermissionAtLeast(perm, want) {
		return true, perm, nil
	}
	for _, team := range rule.Teams {
		org, slug, _ := strings.Cut(team, "/")
		member, err := repo.TeamMember(ctx, org, slug, login)
		if err != nil {
			return false, perm, err
		}
		if member {
			return true, perm, nil
		}
	}
	return false, perm, nil
}

func describePermission(p string) string {
	if p == "" || p == "none" {
		return "no access"
	}
	return p + " permission"
}
