package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/argoproj/argo-cd/v2/applicationset/controllers/template"
	"github.com/argoproj/argo-cd/v2/applicationset/generators"
	"github.com/argoproj/argo-cd/v2/applicationset/utils"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/sirupsen/logrus"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/daytwo-dev/daytwo/internal/argomanifest"
)

// expand generates the Applications of an ApplicationSet the way the ApplicationSet
// controller does (template.GenerateApplications: generators, template, templatePatch), one
// generator at a time so that a generator daytwo cannot run is skipped alone. As in the
// controller, an error in any other generator or template means no Application at all, and
// generated Applications with a duplicate or invalid name are left out.
// A failed read of the repository is an error.
func expand(src *repository, f argomanifest.FoundSet) ([]Deployment, []Skip, error) {
	set := f.Set
	from := fmt.Sprintf("ApplicationSet %s (%s)", set.Name, f.File)
	gens := generatorsFor(src)
	var apps []v1alpha1.Application
	var skips []Skip
	for i, g := range set.Spec.Generators {
		one := set.DeepCopy()
		one.Spec.Generators = []v1alpha1.ApplicationSetGenerator{g}
		got, err := generate(*one, gens)
		var cs *cannotSee
		var other *otherRepo
		var rf *readFailed
		switch {
		case errors.As(err, &rf):
			return nil, nil, fmt.Errorf("%s: %w", from, rf)
		case errors.As(err, &cs):
			skips = append(skips, Skip{From: from, Reason: fmt.Sprintf("generator %d: %s", i+1, cs.why)})
		case errors.As(err, &other):
			skips = append(skips, Skip{From: from, Reason: fmt.Sprintf("generator %d: %v; daytwo reads only the GitOps repository", i+1, other)})
		case err != nil:
			return nil, []Skip{{From: from, Broken: true, Reason: "Argo CD cannot render it and creates none of its Applications: " + err.Error()}}, nil
		default:
			apps = append(apps, got...)
		}
	}
	var out []Deployment
	names := map[string]bool{}
	for _, a := range apps {
		// The checks of the controller's validateGeneratedApplications that need no cluster,
		// and the API server's on the name.
		if names[a.Name] {
			skips = append(skips, Skip{From: from, Reason: fmt.Sprintf("contains applications with duplicate name: %s; Argo CD creates only the first", a.Name)})
			continue
		}
		names[a.Name] = true
		if errs := validation.IsDNS1123Subdomain(a.Name); len(errs) > 0 {
			skips = append(skips, Skip{From: from, Reason: fmt.Sprintf("generates the Application name %q, which Kubernetes refuses: %s", a.Name, strings.Join(errs, "; "))})
			continue
		}
		out = append(out, deployments(a, from)...)
	}
	return out, skips, nil
}

// generate runs argo-cd's GenerateApplications on a set; a panic in it is an error of the set.
func generate(set v1alpha1.ApplicationSet, gens map[string]generators.Generator) (apps []v1alpha1.Application, err error) {
	defer func() {
		if p := recover(); p != nil {
			apps, err = nil, fmt.Errorf("argo-cd's ApplicationSet code failed on it: %v", p)
		}
	}()
	apps, _, err = template.GenerateApplications(quiet, set, gens, &utils.Render{}, noCluster{})
	return apps, err
}

// quiet takes the controller's log lines: discovery returns what they say.
var quiet = logrus.NewEntry(&logrus.Logger{Out: io.Discard, Formatter: new(logrus.TextFormatter), Hooks: logrus.LevelHooks{}, Level: logrus.PanicLevel})

// generatorsFor wires argo-cd's generators as generators.GetGenerators does, with the
// repository for git generators and cannotSee for those that need a cluster or a service.
func generatorsFor(src *repository) map[string]generators.Generator {
	terminal := map[string]generators.Generator{
		"List": generators.NewListGenerator(),
		"Git":  generators.NewGitGenerator(src, ""),
	}
	for kind, why := range cannotRun {
		terminal[kind] = &cannotSee{kind: kind, why: why}
	}
	nested := map[string]generators.Generator{
		"Matrix": generators.NewMatrixGenerator(terminal),
		"Merge":  generators.NewMergeGenerator(terminal),
	}
	top := map[string]generators.Generator{
		"Matrix": generators.NewMatrixGenerator(nested),
		"Merge":  generators.NewMergeGenerator(nested),
	}
	for k, g := range terminal {
		nested[k], top[k] = g, g
	}
	return top
}

// cannotRun are the generators whose parameters come from a cluster or another service,
// by their field name in ApplicationSetGenerator.
var cannotRun = map[string]string{
	"Clusters":                "a cluster generator lists the clusters registered in Argo CD, which daytwo cannot see",
	"ClusterDecisionResource": "a cluster decision resource generator reads a resource in the cluster, which daytwo cannot see",
	"SCMProvider":             "an SCM provider generator lists repositories through the provider's API, which discovery does not call",
	"PullRequest":             "a pull request generator lists open pull requests, which discovery does not read",
	"Plugin":                  "a plugin generator asks a plugin service, which daytwo cannot reach",
}

// cannotSee stands for one of cannotRun: its parameters are an error saying why.
type cannotSee struct{ kind, why string }

func (c *cannotSee) Error() string { return c.why }

func (c *cannotSee) GenerateParams(*v1alpha1.ApplicationSetGenerator, *v1alpha1.ApplicationSet, client.Client) ([]map[string]any, error) {
	return nil, c
}

func (c *cannotSee) GetRequeueAfter(*v1alpha1.ApplicationSetGenerator) time.Duration {
	return generators.NoRequeueAfter
}

func (c *cannotSee) GetTemplate(g *v1alpha1.ApplicationSetGenerator) *v1alpha1.ApplicationSetTemplate {
	switch c.kind {
	case "Clusters":
		return &g.Clusters.Template
	case "ClusterDecisionResource":
		return &g.ClusterDecisionResource.Template
	case "SCMProvider":
		return &g.SCMProvider.Template
	case "PullRequest":
		return &g.PullRequest.Template
	}
	return &g.Plugin.Template
}

// noCluster answers the one question the git generator asks the cluster: the template's
// AppProject, whose signature keys decide whether commits are verified. Discovery reads the
// commit it is given, so every project is one without keys. Other calls would panic on the
// nil Client, which generate turns into an error.
type noCluster struct{ client.Client }

func (noCluster) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	p, ok := obj.(*v1alpha1.AppProject)
	if !ok {
		return fmt.Errorf("discovery reads no %T from a cluster", obj)
	}
	p.Name, p.Namespace = key.Name, key.Namespace
	return nil
}
