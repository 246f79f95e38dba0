package argomanifest

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"
)

type memRepo map[string]string

func (m memRepo) ReadFile(_ context.Context, p string) ([]byte, error) {
	if c, ok := m[p]; ok {
		return []byte(c), nil
	}
	return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

func (m memRepo) ReadDir(_ context.Context, dir string) ([]string, error) {
	set := map[string]bool{}
	prefix := dir + "/"
	if dir == "." {
		prefix = ""
	}
	for p := range m {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		rest := strings.TrimPrefix(p, prefix)
		if i := strings.Index(rest, "/"); i >= 0 {
			set[rest[:i+1]] = true
		} else {
			set[rest] = true
		}
	}
	if len(set) == 0 {
		return nil, fs.ErrNotExist
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

const apps = `# two apps and a stray Deployment
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: checkout-prod
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/acme/gitops.git
    path: apps/checkout/overlays/prod/
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: checkout
  syncPolicy:
    automated: {prune: true, selfHeal: true}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: not-an-app}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: multi}
spec:
  project: default
  sources:
    - {repoURL: https://github.com/acme/gitops.git, path: a}
    - {repoURL: https://github.com/acme/gitops.git, path: b}
  destination: {name: in-cluster, namespace: x}
`

func TestParseApplications(t *testing.T) {
	m, err := ParseManifests("argocd/apps.yaml", []byte(apps))
	if err != nil {
		t.Fatal(err)
	}
	got := m.Apps
	if len(got) != 2 {
		t.Fatalf("got %d applications, want 2", len(got))
	}
	a := got[0].App
	if a.Name != "checkout-prod" || a.Spec.Destination.Namespace != "checkout" || a.Spec.SyncPolicy.Automated == nil || !a.Spec.SyncPolicy.Automated.SelfHeal {
		t.Fatalf("fields not read into v1alpha1 types: %+v", a.Spec)
	}
	if p := got[0].Paths(); len(p) != 1 || p[0] != "apps/checkout/overlays/prod" {
		t.Fatalf("paths = %v", p)
	}
	if p := got[1].Paths(); strings.Join(p, ",") != "a,b" {
		t.Fatalf("multi-source paths = %v", p)
	}
}

func TestParseApplicationsRejectsUnknownFields(t *testing.T) {
	bad := "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec:\n  sauce: {path: a}\n  destination: {}\n"
	if _, err := ParseManifests("x.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "sauce") {
		t.Fatalf("unknown field not reported: %v", err)
	}
	if _, err := ParseManifests("y.yaml", []byte("kind: [")); err == nil || !strings.Contains(err.Error(), "y.yaml") {
		t.Fatalf("broken YAML not reported with the file: %v", err)
	}
}

func TestDiscoverWalksAndSkipsHidden(t *testing.T) {
	repo := memRepo{
		"argocd/apps.yaml":          apps,
		"argocd/nested/one.yml":     strings.Replace(apps, "checkout-prod", "nested-app", 1),
		".github/app.yaml":          apps, // hidden: skipped
		"apps/checkout/README.md":   "argoproj.io",
		"apps/checkout/base/x.yaml": "kind: ConfigMap\n",
	}
	m, err := DiscoverAll(context.Background(), repo, ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Apps {
		names = append(names, path.Base(f.File)+":"+f.App.Name)
	}
	if strings.Join(names, " ") != "apps.yaml:checkout-prod apps.yaml:multi one.yml:nested-app one.yml:multi" {
		t.Fatalf("discovered %v", names)
	}
}
