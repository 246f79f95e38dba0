//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/kustomize/api/resmap"
)

const fieldManager = "daytwo-e2e"

// TestManifestsOnAPIServer applies manifests/, rendered with a Secret as `daytwo setup`
// writes it, to the real API server with server-side apply, and waits for the two
// replicas to run on the kwok node behind their Service, PodDisruptionBudget and
// NetworkPolicy. With DAYTWO_E2E_IMAGE_LAYOUT (the OCI layout `make image` writes) it
// also checks the image built is the image deployed.
func TestManifestsOnAPIServer(t *testing.T) {
	sec := newSecrets(t, "e2e-webhook-secret")
	rm := mustRender(t, copyManifests(t, &sec))
	want := decode(t, rm)
	image := want.deploy.Spec.Template.Spec.Containers[0].Image

	// Checked before the stack starts: a mismatch needs no cluster to be seen.
	if layout := os.Getenv("DAYTWO_E2E_IMAGE_LAYOUT"); layout != "" {
		same := true
		for _, ref := range imageRefs(t, layout) {
			if ref != image {
				same = false
				t.Errorf("%s names the image %q; manifests/ deploys %q", layout, ref, image)
			}
		}
		if same {
			t.Logf("image built (%s) = image deployed: %s", layout, image)
		}
	} else {
		t.Logf("DAYTWO_E2E_IMAGE_LAYOUT not set: the image built by `make image` was not compared with the image deployed (%s)", image)
	}

	s := StartStack(t)
	ctx := context.Background()
	applyAll(t, s, rm)
	ns := want.ns.Name

	// The Deployment's two pods are scheduled on the kwok node, admitted under the
	// namespace's "restricted" Pod Security level, and become Ready.
	d := waitFor(t, "Deployment daytwo with 2 available replicas", func() (*appsv1.Deployment, bool, string) {
		d, err := s.kube.AppsV1().Deployments(ns).Get(ctx, want.deploy.Name, metav1.GetOptions{})
		if err != nil {
			return nil, false, err.Error()
		}
		return d, d.Status.AvailableReplicas == 2 && d.Status.UpdatedReplicas == 2, deploymentState(ctx, s, d)
	})
	if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
		t.Errorf("Deployment runs %s, want %s", got, image)
	}
	sel := metav1.FormatLabelSelector(d.Spec.Selector)
	pods, err := s.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Fatalf("want the 2 pods, have %d:\n%s", len(pods.Items), (&world{Stack: s}).pods(ns))
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "kwok-node-0" || !podReady(&p) {
			t.Errorf("pod %s on %q ready %v: want Ready on kwok-node-0", p.Name, p.Spec.NodeName, podReady(&p))
		}
		if p.Spec.ServiceAccountName != want.sa.Name {
			t.Errorf("pod %s runs as %q, want ServiceAccount %s", p.Name, p.Spec.ServiceAccountName, want.sa.Name)
		}
		for _, v := range p.Spec.Volumes {
			if v.Projected != nil || strings.HasPrefix(v.Name, "kube-api-access-") {
				t.Errorf("pod %s got a service account token volume %s", p.Name, v.Name)
			}
		}
	}

	// The Service finds both pods on the container's port.
	waitFor(t, "2 ready endpoints of Service daytwo", func() (string, bool, string) {
		list, err := s.kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + want.svc.Name})
		if err != nil {
			return "", false, err.Error()
		}
		ready, ports := 0, []string{}
		for _, es := range list.Items {
			for _, e := range es.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					ready++
				}
			}
			for _, p := range es.Ports {
				if p.Port != nil {
					ports = append(ports, fmt.Sprint(*p.Port))
				}
			}
		}
		state := fmt.Sprintf("%d ready endpoints, ports %v", ready, ports)
		return state, ready == 2 && strings.Join(ports, ",") == "8080", state
	})

	// The PodDisruptionBudget is accepted as written and counts both pods: one may go.
	pdb := waitFor(t, "PodDisruptionBudget daytwo counting 2 healthy pods", func() (string, bool, string) {
		p, err := s.kube.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, want.pdb.Name, metav1.GetOptions{})
		if err != nil {
			return "", false, err.Error()
		}
		if !apiequality.Semantic.DeepEqual(p.Spec, want.pdb.Spec) {
			t.Fatalf("PodDisruptionBudget spec on the server %+v, applied %+v", p.Spec, want.pdb.Spec)
		}
		st := p.Status
		state := fmt.Sprintf("expected %d healthy %d desired %d disruptions allowed %d", st.ExpectedPods, st.CurrentHealthy, st.DesiredHealthy, st.DisruptionsAllowed)
		return state, st.ObservedGeneration == p.Generation && st.ExpectedPods == 2 && st.CurrentHealthy == 2 && st.DesiredHealthy == 1 && st.DisruptionsAllowed == 1, state
	})
	t.Logf("PodDisruptionBudget: %s", pdb)

	// The NetworkPolicy is accepted as written and selects exactly the daytwo pods.
	np, err := s.kube.NetworkingV1().NetworkPolicies(ns).Get(ctx, want.netpol.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(np.Spec, want.netpol.Spec) {
		t.Errorf("NetworkPolicy spec on the server %+v, applied %+v", np.Spec, want.netpol.Spec)
	}
	selected, err := s.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(&np.Spec.PodSelector)})
	if err != nil {
		t.Fatal(err)
	}
	if len(selected.Items) != 2 {
		t.Errorf("NetworkPolicy selects %d pods, want the 2 daytwo pods", len(selected.Items))
	}

	// Applying the same rendering again changes nothing.
	applyAll(t, s, rm)
	again, err := s.kube.AppsV1().Deployments(ns).Get(ctx, d.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Generation != d.Generation {
		t.Errorf("a second apply of the same manifests changed the Deployment: generation %d → %d", d.Generation, again.Generation)
	}
}

// applyAll server-side applies every object, in the rendering's order, and checks the
// API server recorded the apply under our field manager.
func applyAll(t *testing.T, s *Stack, rm resmap.ResMap) {
	t.Helper()
	ctx := context.Background()
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(s.kube.Discovery()))
	for _, res := range rm.Resources() {
		obj, err := res.Map()
		if err != nil {
			t.Fatal(err)
		}
		body, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		gvk := res.GetGvk()
		mapping, err := mapper.RESTMapping(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, gvk.Version)
		if err != nil {
			t.Fatalf("%s: %v", res.CurId(), err)
		}
		client := s.dyn.Resource(mapping.Resource)
		opts := metav1.PatchOptions{FieldManager: fieldManager, FieldValidation: metav1.FieldValidationStrict}
		var out metav1.Object
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			out, err = client.Namespace(res.GetNamespace()).Patch(ctx, res.GetName(), types.ApplyPatchType, body, opts)
		} else {
			out, err = client.Patch(ctx, res.GetName(), types.ApplyPatchType, body, opts)
		}
		if err != nil {
			t.Fatalf("apply %s: %v", res.CurId(), err)
		}
		applied := false
		for _, mf := range out.GetManagedFields() {
			applied = applied || mf.Manager == fieldManager && mf.Operation == metav1.ManagedFieldsOperationApply
		}
		if !applied {
			t.Errorf("%s: no Apply by %s in managedFields %+v", res.CurId(), fieldManager, out.GetManagedFields())
		}
	}
}

// imageRefs reads the reference names of an OCI image layout's index.json.
func imageRefs(t *testing.T, layout string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatalf("DAYTWO_E2E_IMAGE_LAYOUT: %v (run `make image` first, or unset it)", err)
	}
	var index ocispec.Index
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatalf("%s/index.json: %v", layout, err)
	}
	var refs []string
	for _, m := range index.Manifests {
		if ref := m.Annotations[ocispec.AnnotationRefName]; ref != "" {
			refs = append(refs, ref)
		}
	}
	if len(refs) == 0 {
		t.Fatalf("%s/index.json: no manifest carries %s", layout, ocispec.AnnotationRefName)
	}
	return refs
}

// waitFor polls check for up to 2 minutes; state describes what was last seen.
func waitFor[T any](t *testing.T, what string, check func() (T, bool, string)) T {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v, ok, state := check()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 2 minutes; last: %s", what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// deploymentState says why a Deployment is not available yet: its counts, its
// ReplicaSets' failures (a pod refused by admission shows there), and its pods.
func deploymentState(ctx context.Context, s *Stack, d *appsv1.Deployment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "available %d updated %d ready %d\n", d.Status.AvailableReplicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas)
	if rss, err := s.kube.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(d.Spec.Selector)}); err == nil {
		for _, rs := range rss.Items {
			for _, c := range rs.Status.Conditions {
				fmt.Fprintf(&b, "ReplicaSet %s %s: %s\n", rs.Name, c.Type, c.Message)
			}
		}
	}
	b.WriteString((&world{Stack: s}).pods(d.Namespace))
	return b.String()
}
