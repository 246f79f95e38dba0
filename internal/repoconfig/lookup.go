package repoconfig

import "strings"

// Env returns the named environment (case-sensitive names, as written in the file).
func (c *Config) Env(name string) (*Environment, bool) {
	for i := range c.Environments {
		if c.Environments[i].Name == name {
			return &c.Environments[i], true
		}
	}
	return nil, false
}

// Service returns the named service.
func (c *Config) Service(name string) (*Service, bool) {
	for i := range c.Services {
		if c.Services[i].Name == name {
			return &c.Services[i], true
		}
	}
	return nil, false
}

// EnvNames lists environments in promotion order.
func (c *Config) EnvNames() []string {
	out := make([]string, len(c.Environments))
	for i, e := range c.Environments {
		out[i] = e.Name
	}
	return out
}

// ServiceNames lists services in file order.
func (c *Config) ServiceNames() []string {
	out := make([]string, len(c.Services))
	for i, s := range c.Services {
		out[i] = s.Name
	}
	return out
}

// Previous is the environment before env in the promotion order ("" for the first).
func (c *Config) Previous(env string) string {
	for i, e := range c.Environments {
		if e.Name == env && i > 0 {
			return c.Environments[i-1].Name
		}
	}
	return ""
}

// Deploys reports whether the service has an overlay in env.
func (s *Service) Deploys(env string) bool {
	if len(s.Environments) == 0 {
		return true
	}
	for _, e := range s.Environments {
		if e == env {
			return true
		}
	}
	return false
}

// OverlayPath is the repo-relative directory of the service's overlay in env.
func (s *Service) OverlayPath(env string) string { return expand(s.Overlay, s.Name, env) }

// ArgoCDAppName is the Argo CD Application of the service in env.
func (s *Service) ArgoCDAppName(env string) string { return expand(s.ArgoCDApp, s.Name, env) }

// CatalogPath is the repo-relative path of the service's Backstage catalog-info.yaml.
func (s *Service) CatalogPath() string { return expand(s.Catalog, s.Name, "") }

func expand(tmpl, service, env string) string {
	return strings.NewReplacer("{service}", service, "{env}", env).Replace(tmpl)
}
