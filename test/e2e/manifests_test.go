package e2e

// The checks of manifests/ that need no cluster live here, untagged, so `make test` runs
// them; manifests_e2e_test.go applies the same rendering to the real API server.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const (
	manifestsDir = "../../manifests"
	imageName    = "ghcr.io/daytwo-dev/daytwo"
	secretName   = "daytwo-github"
)

// appSecrets are the files `daytwo setup --out manifests/secrets` writes.
type appSecrets struct {
	appID, webhookSecret string
	privateKey           []byte
}

func newSecrets(t testing.TB, webhookSecret string) appSecrets {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return appSecrets{
		appID: "123456", webhookSecret: webhookSecret,
		privateKey: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}
}

// copyManifests copies manifests/ into a temporary directory, leaving out whatever a
// developer's `daytwo setup` put in manifests/secrets, and writes sec there when given.
func copyManifests(t testing.TB, sec *appSecrets) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(manifestsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, to := filepath.Join(manifestsDir, e.Name()), filepath.Join(dst, e.Name())
		switch {
		case e.Name() == "secrets":
			if err := os.Mkdir(to, 0o700); err != nil {
				t.Fatal(err)
			}
		case e.IsDir():
			err = os.CopyFS(to, os.DirFS(src))
		default:
			var b []byte
			if b, err = os.ReadFile(src); err == nil {
				err = os.WriteFile(to, b, 0o600)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if sec != nil {
		env := fmt.Sprintf("GITHUB_APP_INTEGRATION_ID=%s\nGITHUB_APP_WEBHOOK_SECRET=%s\n", sec.appID, sec.webhookSecret)
		for name, data := range map[string][]byte{"github.env": []byte(env), "private-key.pem": sec.privateKey} {
			if err := os.WriteFile(filepath.Join(dst, "secrets", name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dst
}

// render builds a kustomization as `kustomize build` and `kubectl apply -k` do (their
// legacy order puts Namespaces and ServiceAccounts before the workloads using them).
func render(dir string) (resmap.ResMap, error) {
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	return krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
}

func mustRender(t testing.TB, dir string) resmap.ResMap {
	t.Helper()
	rm, err := render(dir)
	if err != nil {
		t.Fatalf("render %s: %v", dir, err)
	}
	return rm
}

// strict decodes YAML into the registered Kubernetes type, refusing unknown and
// duplicate fields as the API server's strict field validation does.
var strict = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme, kjson.SerializerOptions{Yaml: true, Strict: true})

// rendered is a rendering decoded into Kubernetes' types.
type rendered struct {
	objects []runtime.Object
	ns      *corev1.Namespace
	sa      *corev1.ServiceAccount
	secrets []*corev1.Secret
	svc     *corev1.Service
	deploy  *appsv1.Deployment
	pdb     *policyv1.PodDisruptionBudget
	netpol  *networkingv1.NetworkPolicy
}

func decode(t testing.TB, rm resmap.ResMap) rendered {
	t.Helper()
	var r rendered
	for _, res := range rm.Resources() {
		data, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		obj, _, err := strict.Decode(data, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v\n%s", res.CurId(), err, data)
		}
		r.objects = append(r.objects, obj)
		twice := false
		switch o := obj.(type) {
		case *corev1.Namespace:
			twice, r.ns = r.ns != nil, o
		case *corev1.ServiceAccount:
			twice, r.sa = r.sa != nil, o
		case *corev1.Secret:
			r.secrets = append(r.secrets, o)
		case *corev1.Service:
			twice, r.svc = r.svc != nil, o
		case *appsv1.Deployment:
			twice, r.deploy = r.deploy != nil, o
		case *policyv1.PodDisruptionBudget:
			twice, r.pdb = r.pdb != nil, o
		case *networkingv1.NetworkPolicy:
			twice, r.netpol = r.netpol != nil, o
		default:
			t.Errorf("unexpected object %s", res.CurId())
		}
		if twice {
			t.Errorf("more than one %s", res.CurId())
		}
	}
	for what, missing := range map[string]bool{
		"Namespace": r.ns == nil, "ServiceAccount": r.sa == nil, "Service": r.svc == nil, "Deployment": r.deploy == nil,
		"PodDisruptionBudget": r.pdb == nil, "NetworkPolicy": r.netpol == nil,
	} {
		if missing {
			t.Errorf("no %s rendered", what)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return r
}

// validateNames checks every object's metadata as the API server does (names, namespace,
// labels, annotations), and the label selectors.
func validateNames(t *testing.T, r rendered) {
	t.Helper()
	for _, obj := range r.objects {
		m, _ := obj.(metav1.Object)
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		nameFn, namespaced := apivalidation.NameIsDNSSubdomain, true
		switch kind {
		case "Namespace":
			nameFn, namespaced = apivalidation.ValidateNamespaceName, false
		case "Service":
			nameFn = apivalidation.NameIsDNS1035Label
		}
		errs := apivalidation.ValidateObjectMetaAccessor(m, namespaced, nameFn, field.NewPath("metadata"))
		if namespaced && m.GetNamespace() != r.ns.Name {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "namespace"), m.GetNamespace(), "want "+r.ns.Name))
		}
		for _, err := range errs {
			t.Errorf("%s %s: %v", kind, m.GetName(), err)
		}
	}
	opts := metav1validation.LabelSelectorValidationOptions{}
	for what, sel := range map[string]*metav1.LabelSelector{
		"Deployment": r.deploy.Spec.Selector, "PodDisruptionBudget": r.pdb.Spec.Selector, "NetworkPolicy": &r.netpol.Spec.PodSelector,
	} {
		for _, err := range metav1validation.ValidateLabelSelector(sel, opts, field.NewPath(what, "selector")) {
			t.Error(err)
		}
	}
}

// selects reports whether a selector picks the Deployment's pods.
func selects(t *testing.T, sel *metav1.LabelSelector, pod map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	return !s.Empty() && s.Matches(labels.Set(pod))
}

// baseImage reads manifests/base's image entry with kustomize's own types, as `make image` does.
func baseImage(t *testing.T) types.Image {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(manifestsDir, "base", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k types.Kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("manifests/base/kustomization.yaml: %v", err)
	}
	var found []types.Image
	for _, im := range k.Images {
		if im.Name == imageName {
			found = append(found, im)
		}
	}
	if len(found) != 1 {
		t.Fatalf("manifests/base/kustomization.yaml: want one images entry for %s, have %+v", imageName, k.Images)
	}
	return found[0]
}

var release = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)

func TestManifestsRender(t *testing.T) {
	sec := newSecrets(t, "webhook-secret-1")
	r := decode(t, mustRender(t, copyManifests(t, &sec)))
	validateNames(t, r)

	// The generated Secret: both env keys, the key file, and a content-hash suffix.
	if len(r.secrets) != 1 {
		t.Fatalf("want one Secret, have %d", len(r.secrets))
	}
	s := r.secrets[0]
	if !strings.HasPrefix(s.Name, secretName+"-") || len(s.Name) <= len(secretName)+1 {
		t.Errorf("Secret %q: want %s-<hash>", s.Name, secretName)
	}
	wantData := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": sec.appID, "GITHUB_APP_WEBHOOK_SECRET": sec.webhookSecret, "private-key.pem": string(sec.privateKey),
	}
	if len(s.Data) != len(wantData) {
		t.Errorf("Secret keys %v, want those of %v", keys(s.Data), keys(wantData))
	}
	for k, v := range wantData {
		if got, ok := s.Data[k]; !ok || string(got) != v {
			t.Errorf("Secret key %s (present: %v): not the content written to manifests/secrets", k, ok)
		}
	}

	// The Deployment reads that Secret under its hashed name, each key it names existing.
	pod := r.deploy.Spec.Template
	c := pod.Spec.Containers[0]
	refs := 0
	for _, e := range c.Env {
		ref := e.ValueFrom
		if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Optional != nil && *ref.SecretKeyRef.Optional {
			continue
		}
		refs++
		if ref.SecretKeyRef.Name != s.Name {
			t.Errorf("env %s reads Secret %q, want %q", e.Name, ref.SecretKeyRef.Name, s.Name)
		}
		if _, ok := s.Data[ref.SecretKeyRef.Key]; !ok {
			t.Errorf("env %s reads key %q, not in the Secret", e.Name, ref.SecretKeyRef.Key)
		}
	}
	if refs != 2 {
		t.Errorf("want 2 env values from the Secret, have %d", refs)
	}
	var keyVol *corev1.SecretVolumeSource
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil && strings.HasPrefix(v.Secret.SecretName, secretName) {
			keyVol = v.Secret
		}
	}
	if keyVol == nil || keyVol.SecretName != s.Name || len(keyVol.Items) != 1 || keyVol.Items[0].Key != "private-key.pem" {
		t.Errorf("key file volume %+v: want private-key.pem of Secret %s", keyVol, s.Name)
	} else if file := filepath.Join(mountPath(c, pod.Spec.Volumes, keyVol), keyVol.Items[0].Path); file != envValue(c, "GITHUB_APP_PRIVATE_KEY_FILE") {
		t.Errorf("key mounted at %s, GITHUB_APP_PRIVATE_KEY_FILE = %s", file, envValue(c, "GITHUB_APP_PRIVATE_KEY_FILE"))
	}

	// A rotated secret is a new Secret name, hence a new pod template: the pods roll.
	sec2 := sec
	sec2.webhookSecret = "webhook-secret-2"
	r2 := decode(t, mustRender(t, copyManifests(t, &sec2)))
	if r2.secrets[0].Name == s.Name {
		t.Errorf("a rotated webhook secret kept the Secret name %s", s.Name)
	}
	if envSecret(r2.deploy, "GITHUB_APP_WEBHOOK_SECRET") != r2.secrets[0].Name {
		t.Errorf("after rotation the Deployment reads %s, want %s", envSecret(r2.deploy, "GITHUB_APP_WEBHOOK_SECRET"), r2.secrets[0].Name)
	}

	// The image is the release manifests/base names, the one Argo CD's Application deploys.
	im := baseImage(t)
	if !release.MatchString(im.NewTag) || im.NewName != "" || im.Digest != "" {
		t.Errorf("base image entry %+v: want only a release tag vX.Y.Z", im)
	}
	if want := imageName + ":" + im.NewTag; c.Image != want {
		t.Errorf("image %q, want %q", c.Image, want)
	}

	// Every selector picks the pods; every port is the container's.
	if len(c.Ports) != 1 {
		t.Fatalf("want one container port, have %+v", c.Ports)
	}
	port := c.Ports[0]
	for what, sel := range map[string]*metav1.LabelSelector{
		"Deployment": r.deploy.Spec.Selector, "PodDisruptionBudget": r.pdb.Spec.Selector, "NetworkPolicy": &r.netpol.Spec.PodSelector,
		"Service": {MatchLabels: r.svc.Spec.Selector},
	} {
		if !selects(t, sel, pod.Labels) {
			t.Errorf("%s selector %v does not select the pods %v", what, sel, pod.Labels)
		}
	}
	var ingressPorts []string
	for _, rule := range r.netpol.Spec.Ingress {
		if len(rule.From) != 0 {
			t.Errorf("ingress rule limited to %+v: webhooks come from outside the cluster", rule.From)
		}
		for _, p := range rule.Ports {
			ingressPorts = append(ingressPorts, fmt.Sprintf("%s/%s", *p.Protocol, p.Port))
		}
	}
	if want := []string{fmt.Sprintf("TCP/%d", port.ContainerPort)}; !slices.Equal(ingressPorts, want) {
		t.Errorf("NetworkPolicy ingress ports %v, want the container's %v", ingressPorts, want)
	}
	if !slices.Equal(r.netpol.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("NetworkPolicy policyTypes %v: want both Ingress and Egress", r.netpol.Spec.PolicyTypes)
	}
	if got := egress(r.netpol); !slices.Equal(got, wantEgress) {
		t.Errorf("NetworkPolicy egress:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantEgress, "\n"))
	}
	svcPort := r.svc.Spec.Ports
	if len(svcPort) != 1 || svcPort[0].TargetPort.String() != port.Name {
		t.Errorf("Service ports %+v: want target port %q", svcPort, port.Name)
	}
	for what, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != port.Name {
			t.Errorf("%s probe %+v: want HTTP on port %q", what, p, port.Name)
		}
	}
	if r.deploy.Spec.Replicas == nil || *r.deploy.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", r.deploy.Spec.Replicas)
	}
	if r.pdb.Spec.MaxUnavailable == nil || r.pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget maxUnavailable %v, want 1", r.pdb.Spec.MaxUnavailable)
	}

	// The pods run as daytwo's ServiceAccount, without a token.
	if pod.Spec.ServiceAccountName != r.sa.Name {
		t.Errorf("serviceAccountName %q, want %q", pod.Spec.ServiceAccountName, r.sa.Name)
	}
	if a := r.sa.AutomountServiceAccountToken; a == nil || *a {
		t.Errorf("ServiceAccount automountServiceAccountToken %v, want false", a)
	}
}

// wantEgress: DNS, GitHub outside the cluster, argocd-server and argocd-redis; nothing else.
var wantEgress = []string{
	"to [ns kubernetes.io/metadata.name=kube-system pods k8s-app=kube-dns] ports [UDP/53 TCP/53]",
	"to [ipBlock 0.0.0.0/0 except [10.0.0.0/8 172.16.0.0/12 192.168.0.0/16]] ports [TCP/443]",
	"to [ns kubernetes.io/metadata.name=argocd pods app.kubernetes.io/name=argocd-server] ports [TCP/8080 TCP/443]",
	"to [ns kubernetes.io/metadata.name=argocd pods app.kubernetes.io/name=argocd-redis] ports [TCP/6379]",
}

func egress(np *networkingv1.NetworkPolicy) []string {
	sel := func(s *metav1.LabelSelector) string {
		if s == nil {
			return "<any>"
		}
		return metav1.FormatLabelSelector(s)
	}
	var out []string
	for _, rule := range np.Spec.Egress {
		var to, ports []string
		for _, peer := range rule.To {
			if peer.IPBlock != nil {
				to = append(to, fmt.Sprintf("ipBlock %s except %v", peer.IPBlock.CIDR, peer.IPBlock.Except))
				continue
			}
			to = append(to, fmt.Sprintf("ns %s pods %s", sel(peer.NamespaceSelector), sel(peer.PodSelector)))
		}
		for _, p := range rule.Ports {
			ports = append(ports, fmt.Sprintf("%s/%s", *p.Protocol, p.Port))
		}
		out = append(out, fmt.Sprintf("to %v ports %v", to, ports))
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func envSecret(d *appsv1.Deployment, name string) string {
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return e.ValueFrom.SecretKeyRef.Name
		}
	}
	return ""
}

func mountPath(c corev1.Container, vols []corev1.Volume, src *corev1.SecretVolumeSource) string {
	for _, v := range vols {
		if v.Secret != src {
			continue
		}
		for _, m := range c.VolumeMounts {
			if m.Name == v.Name {
				return m.MountPath
			}
		}
	}
	return ""
}

// manifests/base is what Argo CD deploys from Git: it must render with no secret files,
// naming the Secret created beside it.
func TestManifestsBaseWithoutSecrets(t *testing.T) {
	r := decode(t, mustRender(t, filepath.Join(manifestsDir, "base")))
	validateNames(t, r)
	if len(r.secrets) != 0 {
		t.Errorf("manifests/base holds %d Secret(s): secrets stay out of Git", len(r.secrets))
	}
	for _, env := range []string{"GITHUB_APP_INTEGRATION_ID", "GITHUB_APP_WEBHOOK_SECRET"} {
		if got := envSecret(r.deploy, env); got != secretName {
			t.Errorf("env %s reads Secret %q, want %q", env, got, secretName)
		}
	}

	// Without the files `daytwo setup` writes, manifests/ is refused, naming the file.
	_, err := render(copyManifests(t, nil))
	if err == nil || !strings.Contains(err.Error(), "secrets/github.env") {
		t.Errorf("manifests/ without secret files: want an error naming secrets/github.env, got %v", err)
	}
}

func TestArgoCDApplication(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(manifestsDir, "argocd", "application.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var app v1alpha1.Application
	if err := yaml.UnmarshalStrict(data, &app); err != nil {
		t.Fatalf("manifests/argocd/application.yaml: %v", err)
	}
	if app.APIVersion != "argoproj.io/v1alpha1" || app.Kind != "Application" || app.Namespace != "argocd" {
		t.Errorf("%s %s in namespace %q: want an argoproj.io/v1alpha1 Application in argocd", app.APIVersion, app.Kind, app.Namespace)
	}
	src := app.Spec.Source
	if src == nil || len(app.Spec.Sources) != 0 {
		t.Fatalf("want one source, have %+v %+v", src, app.Spec.Sources)
	}
	if src.RepoURL != "https://github.com/daytwo-dev/daytwo" || src.Path != "manifests/base" {
		t.Errorf("source %s path %s: want daytwo's repository, manifests/base", src.RepoURL, src.Path)
	}
	if im := baseImage(t); src.TargetRevision != im.NewTag {
		t.Errorf("targetRevision %q: want the release whose image manifests/base names, %q", src.TargetRevision, im.NewTag)
	}
	base := decode(t, mustRender(t, filepath.Join("../..", src.Path))) // a path in this repository
	if d := app.Spec.Destination; d.Namespace != base.ns.Name || d.Server != "https://kubernetes.default.svc" {
		t.Errorf("destination %+v: want namespace %s in the cluster Argo CD runs in", d, base.ns.Name)
	}
	sp := app.Spec.SyncPolicy
	if sp == nil || sp.Automated == nil || !sp.Automated.Prune || !sp.Automated.SelfHeal {
		t.Errorf("syncPolicy %+v: want automated with prune and selfHeal", sp)
	} else if !sp.SyncOptions.HasOption("CreateNamespace=true") {
		t.Errorf("syncOptions %v: want CreateNamespace=true", sp.SyncOptions)
	}
}
