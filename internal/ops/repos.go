package ops

import (
	"context"
	"errors"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
)

// eachRepo calls fn with every repository of every installation of the app, reading every
// page of both lists: the leader's loops (Resume, Expire, the incident scan) walk them all.
// An installation that cannot be read is skipped, its error joined to fn's.
func (r *Runner) eachRepo(ctx context.Context, fn func(installation int64, repo githubapi.Repo) error) error {
	app, err := r.Clients.NewAppClient()
	if err != nil {
		return err
	}
	var insts []*gh.Installation
	for opts := (&gh.ListOptions{PerPage: 100}); ; {
		page, resp, err := app.Apps.ListInstallations(ctx, opts)
		if err != nil {
			return fmt.Errorf("list installations: %w", err)
		}
		insts = append(insts, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	var errs []error
	for _, inst := range insts {
		client, err := r.Clients.NewInstallationClient(inst.GetID())
		if err != nil {
			errs = append(errs, fmt.Errorf("installation %d: %w", inst.GetID(), err))
			continue
		}
		for opts := (&gh.ListOptions{PerPage: 100}); ; {
			repos, resp, err := client.Apps.ListRepos(ctx, opts)
			if err != nil {
				errs = append(errs, fmt.Errorf("list repositories of installation %d: %w", inst.GetID(), err))
				break
			}
			for _, gr := range repos.Repositories {
				if err := fn(inst.GetID(), githubapi.Repo{Client: client, Owner: gr.GetOwner().GetLogin(), Name: gr.GetName()}); err != nil {
					errs = append(errs, err)
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
	}
	return errors.Join(errs...)
}
