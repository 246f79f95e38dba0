package plan

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Patches reach namespaced workloads whichever kustomization sets the namespace.
func TestPatchesReachNamespacedWorkloads(t *testing.T) {
	const (
		baseDeploy = "apps/cart/base/deployment.yaml"
		prodKust   = "apps/cart/overlays/prod/kustomization.yaml"
	)
	for _, c := range []struct {
		name          string
		baseNS, envNS string
		wantPatchNS   string
	}{
		{name: "base sets it", baseNS: "shop", wantPatchNS: "shop"},
		{name: "overlay sets it", envNS: "shop-prod"},
		{name: "both set it", baseNS: "shop", envNS: "shop-prod", wantPatchNS: "shop"},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := readTree(t, filepath.Join("testdata", "set-image-cart", "input"))
			if c.baseNS != "" {
				replace(t, files, baseDeploy, "  name: cart-api\n", "  name: cart-api\n  namespace: "+c.baseNS+"\n")
			}
			if c.envNS != "" {
				replace(t, files, prodKust, "resources:\n", "namespace: "+c.envNS+"\nresources:\n")
			}
			cfg := loadConfig(t, files)
			for _, name := range []string{"restart", "redeploy", "suspend"} {
				cs, err := New().Plan(context.Background(), cfg, files[repoconfig.Path], newMemSnapshot(baseSHA, files), nil, request("/"+name, cmd(name, "cart", "prod")))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				out := apply(t, files, cs)
				patch := string(out["apps/cart/overlays/prod/"+PatchFile])
				want := c.wantPatchNS != ""
				if strings.Contains(patch, "namespace: ") != want || want && !strings.Contains(patch, "namespace: "+c.wantPatchNS+"\n") {
					t.Errorf("%s: patch file does not name namespace %q:\n%s", name, c.wantPatchNS, patch)
				}
				after := renderAt(t, out, "apps/cart/overlays/prod")
				d := find(t, after, "Deployment", "cart-api")
				switch name {
				case "suspend":
					if got := field(t, d, "metadata", "annotations", SuspendedReplicasAnnotation); got != "2" {
						t.Errorf("suspend: annotation = %q", got)
					}
				default:
					if got := field(t, d, "spec", "template", "metadata", "annotations", RestartedAtAnnotation); got == "" {
						t.Errorf("%s: no restart annotation", name)
					}
				}
			}
		})
	}
}
