package main

import (
	"strings"
	"testing"
)

// TestApplyNewService: daytwo apply writes /new-service as a branch of the clone, saying
// the team was not checked; daytwo validate passes on that branch with the new service in
// it; a taken name and a bad image are refused with exit status 2.
func TestApplyNewService(t *testing.T) {
	dir := exampleRepo(t)
	head := gitOut(t, dir, "rev-parse", "HEAD")
	code, out, stderr := runCLI(t, nil, "apply", "--repo", dir, "--as", "mo", "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "note: @acme/payments-team was not checked: the command line has no GitHub to ask") || !strings.Contains(out, "+++ b/argocd/apps/ledger-prod.yaml") {
		t.Errorf("output:\n%s", out)
	}
	branch := gitOut(t, dir, "branch", "--list", "--format=%(refname:short)", "daytwo/*")
	if !strings.HasPrefix(branch, "daytwo/ledger/new-service-") || !strings.Contains(out, "branch "+branch) {
		t.Fatalf("branch %q", branch)
	}
	if gitOut(t, dir, "rev-parse", "HEAD") != head || gitOut(t, dir, "status", "--porcelain") != "" {
		t.Fatal("apply moved HEAD or touched the working tree")
	}
	gitOut(t, dir, "checkout", "-q", branch)
	code, out, stderr = runCLI(t, nil, "validate", "--repo", dir)
	if code != exitOK || strings.Count(out, "\nok ") != 12 || !strings.Contains(out, "argocd: ledger-prod") {
		t.Fatalf("validate on the branch: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, nil, "plan", "--repo", dir, "/new-service ledger --owner acme/x --image ghcr.io/acme/ledger:0.2.0")
	if code != exitUser || !strings.Contains(stderr, "The name ledger is taken") {
		t.Errorf("a taken name: exit %d\n%s\n%s", code, out, stderr)
	}
	code, _, stderr = runCLI(t, nil, "plan", "--repo", dir, "/new-service mail --owner acme/x --image ghcr.io/acme/mail")
	if code != exitUser || !strings.Contains(stderr, "has no tag or digest") {
		t.Errorf("an image without a tag: exit %d\n%s", code, stderr)
	}
}
