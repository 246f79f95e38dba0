package main

import (
	"strings"
	"testing"
)

// On a clone of examples/shared-bases, which has no daytwo config: validate says what it
// inferred per service and environment and from where; plan acts on the inferred
// workload and ConfigMap, refuses with the choices where the render has several, and
// apply writes a promotion moving both images of payments.
func TestZeroConfigInferenceOnSharedBases(t *testing.T) {
	dir := exampleClone(t, "shared-bases")

	code, out, stderr := runCLI(t, nil, "validate", "--repo", dir)
	if code != exitOK {
		t.Fatalf("validate: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"ok   ledger       staging    envs/staging/ledger                  argocd: ledger-staging\n" +
			"       workload   StatefulSet/ledger-staging (the only workload in the render)\n" +
			"       container  ledger in StatefulSet/ledger-staging, image ghcr.io/acme/ledger (the only container of `StatefulSet/ledger-staging`)\n",
		"       workload   StatefulSet/ledger-prod (the only workload in the render)\n",
		"       configMap  payments-config (the only ConfigMap the overlay generates)\n",
		"       promote    ghcr.io/acme/payments-api, ghcr.io/acme/payments-worker (every image the dev overlay of payments pins that runs here)\n",
		"       workload   none: which workload of payments in prod? it runs `Deployment/payments-api` and `Deployment/payments-worker`;",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate does not say\n%s\nin:\n%s", want, out)
		}
	}

	code, out, stderr = runCLI(t, nil, "plan", "--repo", dir, "--as", "alice", "/scale 4 --service ledger --env staging")
	if code != exitOK || !strings.Contains(out, "scale ledger in staging: 1 → 4 replicas") {
		t.Fatalf("plan /scale: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "+replicas:\n+  - name: ledger\n+    count: 4\n") || !strings.Contains(out, "-  replicas: 1\n+  replicas: 4\n") {
		t.Errorf("plan /scale does not set ledger's replicas and show the StatefulSet scaled:\n%s", out)
	}

	code, out, stderr = runCLI(t, nil, "plan", "--repo", dir, "/config set LOG_LEVEL=debug --service payments --env staging")
	if code != exitOK || !strings.Contains(out, "config set LOG_LEVEL of payments in staging (ConfigMap payments-config)") || !strings.Contains(out, "+      - LOG_LEVEL=debug") {
		t.Fatalf("plan /config: exit %d\n%s\n%s", code, out, stderr)
	}

	for line, want := range map[string]string{
		"/restart --service payments --env staging": "daytwo: which workload of payments in staging? it runs `Deployment/payments-api` and `Deployment/payments-worker`; " +
			"repeat the command with one of them, like `/restart --service payments --env staging --workload payments-api`",
		"/set-image 1.6.0 --service payments --env dev": "daytwo: which container of payments in dev? it runs `api` in `Deployment/payments-api` (`ghcr.io/acme/payments-api:1.5.0`), " +
			"`envoy` in `Deployment/payments-api` (`docker.io/envoyproxy/envoy:v1.31.2`) and `worker` in `Deployment/payments-worker` (`ghcr.io/acme/payments-worker:1.5.0`)",
	} {
		code, out, stderr = runCLI(t, nil, "plan", "--repo", dir, line)
		if code != exitUser || !strings.Contains(stderr, want) || out != "" {
			t.Errorf("plan %s: exit %d\nstdout %s\nstderr %s", line, code, out, stderr)
		}
	}
	code, out, stderr = runCLI(t, nil, "plan", "--repo", dir, "/set-image ghcr.io/acme/payments-api:1.6.0 --service payments --env dev")
	if code != exitOK || !strings.Contains(out, "-    newTag: 1.5.0\n+    newTag: 1.6.0\n") || strings.Count(out, "newTag: 1.6.0") != 1 {
		t.Fatalf("plan /set-image by image name: exit %d\n%s\n%s", code, out, stderr)
	}

	head := gitOut(t, dir, "rev-parse", "HEAD")
	code, out, stderr = runCLI(t, nil, "apply", "--repo", dir, "--as", "alice", "/promote staging --service payments")
	if code != exitOK || !strings.Contains(out, "promote payments from dev to staging: ghcr.io/acme/payments-api 1.4.2 → 1.5.0, ghcr.io/acme/payments-worker 1.4.2 → 1.5.0") {
		t.Fatalf("apply /promote: exit %d\n%s\n%s", code, out, stderr)
	}
	branch := gitOut(t, dir, "branch", "--list", "--format=%(refname:short)", "daytwo/staging/payments/*")
	kust := gitOut(t, dir, "show", branch+":envs/staging/payments/kustomization.yaml")
	if strings.Count(kust, "newTag: 1.5.0") != 2 || strings.Contains(kust, "1.4.2") {
		t.Errorf("the promotion branch does not move both images:\n%s", kust)
	}
	if gitOut(t, dir, "rev-parse", "HEAD") != head {
		t.Error("apply moved HEAD")
	}
}
