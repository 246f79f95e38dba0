package plan

import (
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

const resolveConfig = `version: 1
environments:
  - name: dev
  - name: staging
  - name: prod
services:
  - name: checkout
    repository: acme/checkout
  - name: cart
    repository: acme/shop
  - name: wishlist
    repository: acme/shop
  - name: search
    environments: [prod]
`

func TestResolve(t *testing.T) {
	cfg, err := repoconfig.Load([]byte(resolveConfig), command.All())
	if err != nil {
		t.Fatal(err)
	}
	p := New()
	for _, c := range []struct {
		name     string
		cmd      command.Command
		labels   []string
		repo     string
		service  string
		env      string
		code     Code
		msg      string
		contains []string
	}{
		{name: "flags", cmd: cmd("scale", "cart", "staging"), labels: []string{"service/checkout", "env/prod"}, service: "cart", env: "staging"},
		{name: "labels", cmd: cmd("scale", "", ""), labels: []string{"bug", "Service/checkout", "env/prod"}, service: "checkout", env: "prod"},
		{name: "repository", cmd: cmd("restart", "", "dev"), repo: "ACME/Checkout", service: "checkout", env: "dev"},
		{name: "only env of the service", cmd: cmd("restart", "search", ""), service: "search", env: "prod"},
		{
			name: "repository with two services", cmd: cmd("restart", "", "dev"), repo: "acme/shop", code: Invalid,
			msg: "acme/shop builds several services (cart, wishlist); name one with --service <name>",
		},
		{
			name: "no hint", cmd: cmd("restart", "", "dev"), repo: "acme/other", code: Invalid,
			msg: "which service? name one with --service <name> (checkout, cart, wishlist, search)",
		},
		{
			name: "two service labels", cmd: cmd("restart", "", "dev"), labels: []string{"service/cart", "service/checkout"}, code: Invalid,
			msg: "this thread has several service labels (cart, checkout); name one with --service <name>",
		},
		{
			name: "two env labels", cmd: cmd("restart", "cart", ""), labels: []string{"env/dev", "env/prod"}, code: Invalid,
			msg: "this thread has several environment labels (dev, prod); name one with --env <name>",
		},
		{
			name: "no env", cmd: cmd("restart", "cart", ""), code: Invalid,
			msg: "which environment? name one with --env <name> (dev, staging, prod)",
		},
		{name: "typo in env", cmd: cmd("restart", "cart", "prdo"), code: Invalid, contains: []string{`unknown environment "prdo"`, `"prod"`}},
		{name: "typo in label", cmd: cmd("restart", "", "dev"), labels: []string{"service/wishlits"}, code: Invalid, contains: []string{`unknown service "wishlits"`, `"wishlist"`}},
		{
			name: "not deployed there", cmd: cmd("restart", "search", "dev"), code: Invalid,
			msg: "search is not deployed to dev (it deploys to prod)",
		},
		{name: "freeze needs only an env", cmd: cmd("freeze", "", ""), labels: []string{"env/staging"}, env: "staging"},
		{
			name: "promote from itself", cmd: command.Command{Name: "promote", Service: "cart", Env: "prod", From: "prod"}, code: Invalid,
			msg: "cannot promote prod from itself; name another environment with --from",
		},
		{
			name: "promote from unknown", cmd: command.Command{Name: "promote", Service: "cart", Env: "prod", From: "stagign"}, code: Invalid,
			contains: []string{`unknown environment "stagign"`, `"staging"`},
		},
		{
			name: "promote from undeployed", cmd: command.Command{Name: "promote", Service: "search", Env: "prod", From: "dev"}, code: Invalid,
			msg: "search is not deployed to dev, so there is nothing to promote from it",
		},
		{name: "help", cmd: command.Command{Name: "help"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := p.Resolve(cfg, Input{Command: c.cmd, Labels: c.labels, Repo: c.repo})
			if c.code != "" {
				assertError(t, err, c.code, c.msg, c.contains...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Service != c.service || got.Env != c.env {
				t.Errorf("resolved %q/%q, want %q/%q", got.Service, got.Env, c.service, c.env)
			}
		})
	}
}

func TestResolveOnlyOne(t *testing.T) {
	cfg, err := repoconfig.Load([]byte("version: 1\nenvironments:\n  - name: prod\nservices:\n  - name: api\n"), command.All())
	if err != nil {
		t.Fatal(err)
	}
	got, err := New().Resolve(cfg, Input{Command: command.Command{Name: "restart"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Service != "api" || got.Env != "prod" {
		t.Errorf("resolved %q/%q, want api/prod", got.Service, got.Env)
	}
}
