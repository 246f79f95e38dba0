package discovery_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/discovery"
)

// The expected values below follow argo-cd v2.14.21; where a test checks a rule of Argo CD,
// the comment names the file of argo-cd that states it.

func exampleAt(t *testing.T, root string) tree {
	t.Helper()
	tr := tree{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		tr[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// kept is a tree with an ApplicationSet and empty overlays at dirs.
func kept(set string, dirs ...string) tree {
	tr := tree{"argocd/set.yaml": set}
	for _, d := range dirs {
		tr[d+"/kustomization.yaml"] = "resources: []\n"
	}
	return tr
}

func find(t *testing.T, tr tree, repo ...string) ([]discovery.Deployment, []discovery.Skip) {
	t.Helper()
	deps, skipped, err := discovery.Find(context.Background(), tr, repo...)
	if err != nil {
		t.Fatal(err)
	}
	return deps, skipped
}

// names lists "app=path" for each deployment.
func names(deps []discovery.Deployment) string {
	var out []string
	for _, d := range deps {
		out = append(out, d.App+"="+d.Path)
	}
	return strings.Join(out, ",")
}

func TestSharedBasesExample(t *testing.T) {
	deps, skipped := find(t, exampleAt(t, "../../examples/shared-bases"))
	if len(skipped) != 0 {
		t.Fatalf("skipped: %v", skipped)
	}
	// The set names each Application '{{ .path.basename | lower }}-{{ index .path.segments 1 | lower }}'.
	want := "ledger-dev=ledger/dev@envs/dev/ledger auto=false,ledger-prod=ledger/prod@envs/prod/ledger auto=false," +
		"ledger-staging=ledger/staging@envs/staging/ledger auto=false,payments-dev=payments/dev@envs/dev/payments auto=false," +
		"payments-prod=payments/prod@envs/prod/payments auto=false,payments-staging=payments/staging@envs/staging/payments auto=false"
	if got := strings.Join(placed(deps), ","); got != want {
		t.Fatalf("got\n%s\nwant\n%s", strings.ReplaceAll(got, ",", "\n"), strings.ReplaceAll(want, ",", "\n"))
	}
	for _, d := range deps {
		if d.Namespace != d.Service+"-"+d.Env || d.Labels["acme.dev/environment"] != d.Env || d.From != "ApplicationSet acme (argocd/applicationset.yaml)" {
			t.Errorf("%s: namespace %q labels %v from %q", d.App, d.Namespace, d.Labels, d.From)
		}
	}
	cfg, _, err := discovery.Config(deps, skipped, command.All())
	if err != nil {
		t.Fatal(err)
	}
	if svc, _ := cfg.Service("ledger"); svc.OverlayPath("staging") != "envs/staging/ledger" || svc.ArgoCDAppName("prod") != "ledger-prod" {
		t.Errorf("ledger: %s %s", svc.OverlayPath("staging"), svc.ArgoCDAppName("prod"))
	}
}

// A directory "_svc" is "svc" in path.basenameNormalized: utils.SanitizeName lower-cases,
// turns what is not [-a-z0-9.] into "-" and trims "-" and "." at both ends
// (applicationset/utils/template_functions.go; generators/git_test.go has "app_3" → "app-3",
// generators/cluster_test.go TestSanitizeClusterName trims the ends).
func TestBasenameNormalizedAsArgoCD(t *testing.T) {
	dirs := []string{"envs/dev/_svc", "envs/prod/Web_API.v2", "envs/prod/-.x-"}
	for _, tc := range []struct{ name, goTemplate, metaName, path string }{
		{"goTemplate", "true", "{{ .path.basenameNormalized }}-{{ index .path.segments 1 }}", "{{ .path.path }}"},
		{"fasttemplate", "false", "{{path.basenameNormalized}}-{{path[1]}}", "{{path}}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: s}
spec:
  goTemplate: ` + tc.goTemplate + `
  generators:
  - git: {repoURL: https://example.com/r.git, revision: HEAD, directories: [{path: 'envs/*/*'}]}
  template:
    metadata: {name: '` + tc.metaName + `'}
    spec:
      project: default
      source: {repoURL: https://example.com/r.git, path: '` + tc.path + `'}
      destination: {server: https://kubernetes.default.svc, namespace: x}
`
			deps, skipped := find(t, kept(set, dirs...))
			if len(skipped) != 0 {
				t.Fatalf("skipped: %v", skipped)
			}
			if got := names(deps); got != "svc-dev=envs/dev/_svc,web-api.v2-prod=envs/prod/Web_API.v2,x-prod=envs/prod/-.x-" {
				t.Errorf("%s", got)
			}
		})
	}
}

// Argo CD's Go templates have sprig's functions (utils.Render.Replace: sprig.GenericFuncMap)
// and its own normalize and slugify (applicationset/utils/utils.go init).
func TestSprigFunctions(t *testing.T) {
	set := `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: sprig}
spec:
  goTemplate: true
  generators:
  - list:
      elements:
      - {svc: Web_API, env: PROD}
      - {svc: worker, env: dev, ns: jobs}
  template:
    metadata:
      name: '{{ .svc | replace "_" "-" | lower }}-{{ .env | lower | trunc 4 }}'
      labels: {team: '{{ .svc | normalize }}', slug: '{{ slugify 63 true .svc }}'}
    spec:
      project: default
      source: {repoURL: https://example.com/r.git, path: 'apps/{{ .svc | snakecase }}/{{ lower .env }}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{ .ns | default (printf "%s-ns" (lower .env)) }}'}
`
	deps, skipped := find(t, tree{"argocd/set.yaml": set})
	if len(skipped) != 0 {
		t.Fatalf("skipped: %v", skipped)
	}
	if got := names(deps); got != "web-api-prod=apps/web_api/prod,worker-dev=apps/worker/dev" {
		t.Fatalf("%s", got)
	}
	if deps[0].Namespace != "prod-ns" || deps[1].Namespace != "jobs" || deps[0].Labels["team"] != "web-api" || deps[0].Labels["slug"] != "web-api" {
		t.Errorf("namespace %q %q labels %v", deps[0].Namespace, deps[1].Namespace, deps[0].Labels)
	}
}

// With goTemplate false, fasttemplate replaces {{name}} (spaces trimmed) with string
// parameters and leaves what it cannot fill as written (utils.Render.Replace); a git
// generator's values are templated from its parameters (generators/value_interpolation.go)
// and a list element's "values" become values.<key> (generators/list.go).
func TestFasttemplate(t *testing.T) {
	set := func(name, generator, metaName string) string {
		return `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: ` + name + `}
spec:
  generators:
  - ` + generator + `
  template:
    metadata:
      name: '` + metaName + `'
      labels: {team: '{{values.team}}'}
    spec:
      project: default
      source: {repoURL: https://example.com/r.git, path: 'apps/{{ path[1] }}{{svc}}/overlays/{{path.basename}}{{env}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{path.basename}}{{env}}'}
`
	}
	git := `git: {repoURL: https://example.com/r.git, revision: HEAD, directories: [{path: 'apps/*/overlays/*'}], values: {team: '{{path[1]}}-team'}}`
	list := `list: {elements: [{svc: billing, env: prod, values: {team: money}}]}`
	tr := kept("", "apps/web/overlays/dev")
	delete(tr, "argocd/set.yaml")
	tr["argocd/git.yaml"] = set("git", git, "{{ path[1] }}-{{path.basename}}")
	tr["argocd/list.yaml"] = set("list", list, "{{svc}}-{{env}}")
	tr["argocd/unfilled.yaml"] = set("unfilled", list, "{{svc}}-{{path.basename}}")
	deps, skipped := find(t, tr)
	var got []string
	for _, d := range deps {
		got = append(got, fmt.Sprintf("%s %s %s %s", d.App, d.Path, d.Namespace, d.Labels["team"]))
	}
	if strings.Join(got, ";") != "billing-prod apps/{{ path[1] }}billing/overlays/{{path.basename}}prod {{path.basename}}prod money;"+
		"web-dev apps/web{{svc}}/overlays/dev{{env}} dev{{env}} web-team" {
		t.Errorf("%q", got)
	}
	if len(skipped) != 1 || skipped[0].From != "ApplicationSet unfilled (argocd/unfilled.yaml)" ||
		!strings.Contains(skipped[0].Reason, `generates the Application name "billing-{{path.basename}}", which Kubernetes refuses`) {
		t.Errorf("skipped: %v", skipped)
	}
}

func appSet(name, spec string) string {
	return "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: " + name + ", namespace: argocd}\nspec:\n" + spec
}

// templatePatch is rendered with the same parameters and merged into each Application as a
// strategic merge patch (controllers/template/template.go renderTemplatePatch,
// controllers/template/patch.go applyTemplatePatch).
func TestTemplatePatch(t *testing.T) {
	set := appSet("patched", `  goTemplate: true
  generators:
  - list: {elements: [{svc: api, env: dev}, {svc: api, env: prod}]}
  template:
    metadata: {name: '{{.svc}}-{{.env}}', labels: {app.kubernetes.io/name: '{{.svc}}'}}
    spec:
      project: default
      source: {repoURL: https://example.com/r.git, path: 'apps/{{.svc}}/overlays/{{.env}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{.svc}}'}
  templatePatch: |
    metadata:
      labels:
        environment: {{ .env | quote }}
    {{- if eq .env "dev" }}
    spec:
      destination:
        namespace: {{ .svc }}-sandbox
      syncPolicy:
        automated: {prune: true}
    {{- end }}
`)
	deps, skipped := find(t, tree{"argocd/set.yaml": set})
	if len(skipped) != 0 {
		t.Fatalf("skipped: %v", skipped)
	}
	var got []string
	for _, d := range deps {
		got = append(got, fmt.Sprintf("%s ns=%s auto=%v placed=%s/%s by %s", d.App, d.Namespace, d.AutoSync, d.Service, d.Env, d.Why))
	}
	if want := "api-dev ns=api-sandbox auto=true placed=api/dev by labels;api-prod ns=api auto=false placed=api/prod by labels"; strings.Join(got, ";") != want {
		t.Errorf("got  %q\nwant %q", strings.Join(got, ";"), want)
	}
}

// A template Argo CD cannot render (missingkey=error, an unknown function) fails the whole
// set: the controller's GenerateApplications returns the error and no Application
// (controllers/applicationset_controller.go Reconcile). Discovery says which set, in which
// file, with argo-cd's error; other sets are still found.
func TestTemplateErrorsBreakTheSet(t *testing.T) {
	good := appSet("good", `  goTemplate: true
  generators: [{list: {elements: [{svc: web, env: dev}]}}]
  template:
    metadata: {name: '{{.svc}}-{{.env}}'}
    spec: {project: default, source: {repoURL: r, path: 'apps/{{.svc}}/overlays/{{.env}}'}, destination: {namespace: x}}
`)
	for _, tc := range []struct{ name, options, metaName, want string }{
		{"missingkey", `  goTemplateOptions: ["missingkey=error"]` + "\n", "{{.svc}}-{{.environment}}",
			`failed to execute go template {{.svc}}-{{.environment}}: template: :1:11: executing "" at <.environment>: map has no entry for key "environment"`},
		{"unknown function", "", "{{.svc | shout}}-{{.env}}",
			`failed to parse template {{.svc | shout}}-{{.env}}: template: :1: function "shout" not defined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := appSet("broken", `  goTemplate: true
`+tc.options+`  generators:
  - list: {elements: [{svc: api, env: dev}]}
  - list: {elements: [{svc: api, env: prod, environment: prod}]}
  template:
    metadata: {name: '`+tc.metaName+`'}
    spec: {project: default, source: {repoURL: r, path: 'apps/{{.svc}}/overlays/{{.env}}'}, destination: {namespace: x}}
`)
			deps, skipped := find(t, tree{"argocd/good.yaml": good, "argocd/broken.yaml": bad})
			if names(deps) != "web-dev=apps/web/overlays/dev" {
				t.Errorf("deployments: %s", names(deps))
			}
			if len(skipped) != 1 || !skipped[0].Broken || skipped[0].From != "ApplicationSet broken (argocd/broken.yaml)" || !strings.Contains(skipped[0].Reason, tc.want) {
				t.Fatalf("skipped: %#v", skipped)
			}
			// Alone, the broken set is the reason no service is found.
			deps, skipped = find(t, tree{"argocd/broken.yaml": bad})
			_, _, err := discovery.Config(deps, skipped, command.All())
			if err == nil || !strings.HasPrefix(err.Error(), "ApplicationSet broken (argocd/broken.yaml): Argo CD cannot render it and creates none of its Applications: ") ||
				!strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "says which service") {
				t.Errorf("config error: %v", err)
			}
		})
	}
}

// A git files generator reads the files a pathspec matches, as `git ls-files -- <pattern>`
// does (reposerver/repository/repository.go GetGitFiles; util/git/git_test.go TestLsFiles:
// "*.yaml" also matches "subdir/b.yaml"); each file gives its keys and path.* (generators/git.go).
func TestGitFilesGenerator(t *testing.T) {
	set := appSet("files", `  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - git:
      repoURL: https://github.com/acme/gitops.git
      revision: HEAD
      files: [{path: 'clusters/*/config.json'}, {path: 'teams/**/team.yaml'}]
  template:
    metadata: {name: '{{.service}}-{{.path.basename}}'}
    spec:
      project: default
      source: {repoURL: https://github.com/acme/gitops.git, path: '{{.path.path}}/{{.service}}'}
      destination: {namespace: '{{.path.filenameNormalized}}'}
`)
	tr := tree{
		"argocd/set.yaml":                  set,
		"clusters/dev/config.json":         `{"service": "api"}`,
		"clusters/eu/prod/config.json":     `{"service": "api"}`,
		"clusters/dev/other.json":          `{"service": "nope"}`,
		"teams/pay/team.yaml":              "- service: ledger\n- service: payments\n",
		"teams/config.json":                `{"service": "nope"}`,
		".hidden/clusters/x/config.json":   `{"service": "nope"}`,
		"clusters/dev/api/kustomization.y": "",
	}
	deps, skipped := find(t, tr, "git@github.com:acme/gitops.git")
	if len(skipped) != 0 {
		t.Fatalf("skipped: %v", skipped)
	}
	if got := names(deps); got != "api-dev=clusters/dev/api,api-prod=clusters/eu/prod/api,ledger-pay=teams/pay/ledger,payments-pay=teams/pay/payments" {
		t.Errorf("%s", got)
	}
	if deps[0].Namespace != "config.json" || deps[2].Namespace != "team.yaml" {
		t.Errorf("namespaces %q %q", deps[0].Namespace, deps[2].Namespace)
	}
}

// The matrix generator renders its second generator with each parameter set of the first
// and merges both (generators/matrix.go); merge joins on mergeKeys (generators/merge.go).
// The git directories generator matches every directory but hidden ones with path.Match,
// and an exclude wins wherever it is listed (generators/git.go filterApps).
func TestMatrixAndMerge(t *testing.T) {
	matrix := appSet("matrix", `  goTemplate: true
  generators:
  - matrix:
      generators:
      - list: {elements: [{env: dev, replicas: "1"}, {env: prod, replicas: "3"}]}
      - git:
          repoURL: https://example.com/acme/gitops
          revision: HEAD
          directories: [{path: 'legacy/*', exclude: true}, {path: 'envs/{{.env}}/*'}, {path: '*/*/.git*'}]
  template:
    metadata: {name: '{{.path.basename}}-{{.env}}', labels: {replicas: '{{.replicas}}'}}
    spec: {project: default, source: {repoURL: r, path: '{{.path.path}}'}, destination: {namespace: x}}
`)
	merge := appSet("merge", `  goTemplate: true
  generators:
  - merge:
      mergeKeys: [svc]
      generators:
      - list: {elements: [{svc: billing, env: dev}, {svc: search, env: dev}]}
      - list: {elements: [{svc: search, env: staging}]}
  template:
    metadata: {name: '{{.svc}}-{{.env}}'}
    spec: {project: default, source: {repoURL: r, path: 'apps/{{.svc}}/{{.env}}'}, destination: {namespace: x}}
`)
	tr := kept(matrix, "envs/dev/api", "envs/dev/web", "envs/prod/api", "envs/prod/.git-crypt", "legacy/web")
	tr["argocd/merge.yaml"] = merge
	tr["envs/dev/.cache/x/kustomization.yaml"] = ""
	deps, skipped := find(t, tr, "acme/gitops")
	if len(skipped) != 0 {
		t.Fatalf("skipped: %v", skipped)
	}
	if got := names(deps); got != "api-dev=envs/dev/api,api-prod=envs/prod/api,billing-dev=apps/billing/dev,search-staging=apps/search/staging,web-dev=envs/dev/web" {
		t.Errorf("%s", got)
	}
	for _, d := range deps {
		if d.From == "ApplicationSet matrix (argocd/set.yaml)" && d.Labels["replicas"] != map[string]string{"dev": "1", "prod": "3"}[d.Env] {
			t.Errorf("%s: labels %v", d.App, d.Labels)
		}
	}
}

// What discovery cannot run is skipped with the reason, alone: generators that need a
// cluster or a service, nested ones too, and git generators reading another repository.
func TestSkippedGenerators(t *testing.T) {
	set := appSet("mixed", `  goTemplate: true
  generators:
  - list: {elements: [{svc: web, env: dev}]}
  - clusters: {selector: {matchLabels: {env: prod}}}
  - matrix:
      generators:
      - clusters: {}
      - list: {elements: [{svc: web}]}
  - git: {repoURL: 'https://github.com/acme/other.git', revision: HEAD, directories: [{path: '*'}]}
  - git: {repoURL: 'git@github.com:ACME/GitOps.git', revision: HEAD, directories: [{path: 'apps/*/overlays/*'}]}
  - pullRequest: {github: {owner: acme, repo: gitops}}
  - scmProvider: {github: {organization: acme}}
  - plugin: {configMapRef: {name: p}}
  - clusterDecisionResource: {configMapRef: c}
  template:
    metadata: {name: '{{.svc}}-{{.env}}'}
    spec: {project: default, source: {repoURL: r, path: 'apps/{{.svc}}/overlays/{{.env}}'}, destination: {namespace: x}}
  templatePatch: '{}'
`)
	set = strings.Replace(set, "  - git: {repoURL: 'git@", "  - git: {template: {metadata: {name: '{{index .path.segments 1}}-{{.path.basename}}'}, spec: {project: default, source: {repoURL: r, path: '{{.path.path}}'}, destination: {}}}, repoURL: 'git@", 1)
	deps, skipped := find(t, kept(set, "apps/shop/overlays/prod"), "https://github.com/acme/gitops")
	if got := names(deps); got != "shop-prod=apps/shop/overlays/prod,web-dev=apps/web/overlays/dev" {
		t.Errorf("deployments: %s", got)
	}
	want := []string{
		"generator 2: a cluster generator lists the clusters registered in Argo CD, which daytwo cannot see",
		"generator 3: a cluster generator lists the clusters registered in Argo CD, which daytwo cannot see",
		"generator 4: it reads https://github.com/acme/other.git, not this repository (acme/gitops); daytwo reads only the GitOps repository",
		"generator 6: a pull request generator lists open pull requests, which discovery does not read",
		"generator 7: an SCM provider generator lists repositories through the provider's API, which discovery does not call",
		"generator 8: a plugin generator asks a plugin service, which daytwo cannot reach",
		"generator 9: a cluster decision resource generator reads a resource in the cluster, which daytwo cannot see",
	}
	var got []string
	for _, s := range skipped {
		if s.Broken || s.From != "ApplicationSet mixed (argocd/set.yaml)" {
			t.Errorf("%#v", s)
		}
		got = append(got, s.Reason)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("skipped:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Without knowing its own URL, discovery takes every repoURL to be the repository.
	_, skipped = find(t, kept(set, "apps/shop/overlays/prod"))
	if all := fmt.Sprint(skipped); strings.Contains(all, "not this repository") || !strings.Contains(all, "generator 9:") {
		t.Errorf("without a repository URL: %v", skipped)
	}
}

// The controller refuses a second Application of the same name
// (controllers/applicationset_controller.go validateGeneratedApplications).
func TestDuplicateNames(t *testing.T) {
	set := appSet("dup", `  goTemplate: true
  generators:
  - list: {elements: [{svc: web, env: dev}, {svc: web, env: dev, other: "1"}]}
  template:
    metadata: {name: '{{.svc}}-{{.env}}'}
    spec: {project: default, source: {repoURL: r, path: 'apps/{{.svc}}/overlays/{{.env}}{{with .other}}-{{.}}{{end}}'}, destination: {namespace: x}}
`)
	deps, skipped := find(t, tree{"argocd/set.yaml": set})
	if names(deps) != "web-dev=apps/web/overlays/dev" || len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "duplicate name: web-dev") {
		t.Errorf("%s %v", names(deps), skipped)
	}
}

// failing is a tree whose listing of one directory fails, as a GitHub read can.
type failing struct {
	tree
	dir string
}

func (f failing) ReadDir(ctx context.Context, p string) ([]string, error) {
	if p == f.dir {
		return nil, fmt.Errorf("GET contents/%s: 502 Bad Gateway", p)
	}
	return f.tree.ReadDir(ctx, p)
}

// A failed read of the repository is daytwo's error, not a fault of the set; a repository
// too large to list for a git generator skips the generator.
func TestReadFailuresAndLimits(t *testing.T) {
	set := appSet("dirs", `  goTemplate: true
  generators: [{git: {repoURL: r, revision: HEAD, directories: [{path: 'apps/*'}]}}]
  template:
    metadata: {name: '{{.path.basename}}'}
    spec: {project: default, source: {repoURL: r, path: '{{.path.path}}'}, destination: {namespace: x}}
`)
	tr := kept(set, "apps/web", ".config") // discovery's own walk skips .config; a git generator's does not
	_, _, err := discovery.Find(context.Background(), failing{tr, ".config"})
	if err == nil || err.Error() != "ApplicationSet dirs (argocd/set.yaml): list .config: GET contents/.config: 502 Bad Gateway" {
		t.Errorf("err %v", err)
	}
	for i := 0; i <= 20000; i++ {
		tr[fmt.Sprintf("many/f%05d", i)] = ""
	}
	deps, skipped := find(t, tr)
	if len(deps) != 0 || len(skipped) != 1 || skipped[0].Broken ||
		skipped[0].Reason != "generator 1: the repository has more than 20000 files and directories, more than daytwo lists for a git generator" {
		t.Errorf("%s %v", names(deps), skipped)
	}
}
