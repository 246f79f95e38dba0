// Package repoconfig is the schema and loader of the GitOps repository's daytwo config
// (.github/daytwo.yml). It is read from the default branch only; the loader is strict.
package repoconfig

import "time"

// Path is where the config lives in the GitOps repository.
const Path = ".github/daytwo.yml"

// Config is the whole file after defaults are applied.
type Config struct {
	Version      int             `yaml:"version" json:"version"`
	Environments []Environment   `yaml:"environments" json:"environments"` // promotion order
	Services     []Service       `yaml:"services" json:"services"`
	Defaults     ServiceDefaults `yaml:"defaults,omitempty" json:"defaults,omitempty"`
}

// Environment is one stage of the promotion order and its policy.
type Environment struct {
	Name string `yaml:"name" json:"name"`
	// Who may request which command; key "*" is the fallback for commands not listed.
	Requesters map[string]Rule `yaml:"requesters,omitempty" json:"requesters,omitempty"`
	Replicas   Bounds          `yaml:"replicas,omitempty" json:"replicas,omitempty"`
	AutoMerge  bool            `yaml:"autoMerge,omitempty" json:"autoMerge,omitempty"`
	// RequireApproval: the PR waits for code-owner review even when AutoMerge is set.
	RequireApproval *bool `yaml:"requireApproval,omitempty" json:"requireApproval,omitempty"`
	// PromoteConfig: /promote into this env also carries ConfigMap literals.
	PromoteConfig bool      `yaml:"promoteConfig,omitempty" json:"promoteConfig,omitempty"`
	BreakGlass    *Rule     `yaml:"breakGlass,omitempty" json:"breakGlass,omitempty"`
	Freeze        *Freeze   `yaml:"freeze,omitempty" json:"freeze,omitempty"`
	ArgoCD        EnvArgoCD `yaml:"argocd,omitempty" json:"argocd,omitempty"`
	// Workflows /run may dispatch for any service in this environment.
	Workflows []Workflow `yaml:"workflows,omitempty" json:"workflows,omitempty"`

	readOnly map[string]bool // the read-only commands, from the Commands Load was given
}

// Rule says who qualifies: a person meeting any one part (at least Permission, active
// membership of one of Teams, being one of Users). Permission is one of read, triage,
// write, maintain, admin. Load turns an empty rule into write.
type Rule struct {
	Permission string   `yaml:"permission,omitempty" json:"permission,omitempty"`
	Teams      []string `yaml:"teams,omitempty" json:"teams,omitempty"` // "org/slug"
	Users      []string `yaml:"users,omitempty" json:"users,omitempty"`
}

// Bounds limits replicas in an environment; zero Max means no upper bound.
type Bounds struct {
	Min int `yaml:"min,omitempty" json:"min,omitempty"`
	Max int `yaml:"max,omitempty" json:"max,omitempty"`
}

// Freeze blocks mutating commands to an environment; kept in Git by /freeze and /unfreeze.
type Freeze struct {
	Reason string    `yaml:"reason,omitempty" json:"reason,omitempty"`
	By     string    `yaml:"by,omitempty" json:"by,omitempty"`
	Since  time.Time `yaml:"since,omitempty" json:"since,omitempty"`
}

// EnvArgoCD is the per-environment Argo CD behaviour after a merge.
type EnvArgoCD struct {
	Sync    bool          `yaml:"sync,omitempty" json:"sync,omitempty"` // trigger a sync when the app has no automated sync
	Timeout time.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// ServiceDefaults fill what services and environments leave out; Load replaces what the
// file leaves out here with the built-in defaults. Templates take {service} and {env}.
type ServiceDefaults struct {
	Overlay   string `yaml:"overlay,omitempty" json:"overlay,omitempty"`     // default "apps/{service}/overlays/{env}"
	ArgoCDApp string `yaml:"argocdApp,omitempty" json:"argocdApp,omitempty"` // default "{service}-{env}"
	Catalog   string `yaml:"catalog,omitempty" json:"catalog,omitempty"`     // default "apps/{service}/catalog-info.yaml"
	// Workload of every service that names none; the name takes {service}. Empty: inferred
	// from each environment's render.
	Workload Workload `yaml:"workload,omitempty" json:"workload,omitempty"`
	// Requesters copied into every environment that has no "*" rule, for the commands it does not list.
	Requesters map[string]Rule `yaml:"requesters,omitempty" json:"requesters,omitempty"`
	// ArgoCD of every environment: a timeout fills environments without one; sync: true turns sync on everywhere.
	ArgoCD EnvArgoCD `yaml:"argocd,omitempty" json:"argocd,omitempty"`
}

// Service is one deployable thing with an overlay per environment.
type Service struct {
	Name       string   `yaml:"name" json:"name"`
	Overlay    string   `yaml:"overlay,omitempty" json:"overlay,omitempty"`
	Workload   Workload `yaml:"workload,omitempty" json:"workload,omitempty"`     // empty: inferred from the render
	Container  string   `yaml:"container,omitempty" json:"container,omitempty"`   // empty: inferred from the render
	Image      string   `yaml:"image,omitempty" json:"image,omitempty"`           // /set-image's default image, as in kustomization images[].name
	Images     []string `yaml:"images,omitempty" json:"images,omitempty"`         // the images /promote carries; empty: every one the overlays pin
	ConfigMap  string   `yaml:"configMap,omitempty" json:"configMap,omitempty"`   // configMapGenerator name; empty: inferred from the render
	Repository string   `yaml:"repository,omitempty" json:"repository,omitempty"` // "owner/repo" of the service's source
	ArgoCDApp  string   `yaml:"argocdApp,omitempty" json:"argocdApp,omitempty"`
	Catalog    string   `yaml:"catalog,omitempty" json:"catalog,omitempty"`
	// Environments limits the service to some of the environments; empty = all.
	Environments []string `yaml:"environments,omitempty" json:"environments,omitempty"`
	// Workflows /run may dispatch for this service, in every environment it deploys to.
	Workflows []Workflow `yaml:"workflows,omitempty" json:"workflows,omitempty"`
}

// Workflow is a GitHub Actions workflow /run may dispatch: nothing outside these lists runs.
type Workflow struct {
	Name string `yaml:"name" json:"name"` // what people write after /run
	// Repository holds the workflow: WorkflowRepoGitOps (the default), WorkflowRepoService
	// (the service's repository:) or "owner/repo".
	Repository string `yaml:"repository,omitempty" json:"repository,omitempty"`
	Workflow   string `yaml:"workflow" json:"workflow"`           // file name under .github/workflows, or the workflow's id
	Ref        string `yaml:"ref,omitempty" json:"ref,omitempty"` // branch or tag it runs from, pinned; "" = the default branch, --ref may pick another
}

// Values of Workflow.Repository naming a repository by its role.
const (
	WorkflowRepoGitOps  = "gitops"
	WorkflowRepoService = "service"
)

// Workload names the Kubernetes object day-2 commands act on. What it leaves empty is
// inferred from each environment's render.
type Workload struct {
	Kind string `yaml:"kind,omitempty" json:"kind,omitempty"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
}
