package main

import (
	"strings"
	"testing"
)

// daytwo apply writes a time-boxed change on a branch of its own with Daytwo-Expires, and
// says what the server restores when it expires: what the overlay holds now.
func TestApplyTimeboxed(t *testing.T) {
	dir := exampleRepo(t)
	code, out, stderr := runCLI(t, nil, "apply", "--repo", dir, "--as", "erin", "/scale 5 --for 2h --service checkout --env staging")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "expires 2h after merge; the server then restores it with: /scale 2 --service checkout --env staging\n") {
		t.Errorf("output:\n%s", out)
	}
	branch := gitOut(t, dir, "branch", "--list", "--format=%(refname:short)", "daytwo/*")
	if !strings.HasPrefix(branch, "daytwo/_for/staging/checkout/scale-") {
		t.Fatalf("branch %q", branch)
	}
	if got := gitOut(t, dir, "log", "-1", "--format=%(trailers:key=Daytwo-Expires,valueonly)", branch); got != "2h" {
		t.Errorf("Daytwo-Expires %q", got)
	}
	code, _, stderr = runCLI(t, nil, "plan", "--repo", dir, "/config unset FEATURE_EXPRESS_CHECKOUT --for 1h --service checkout --env staging")
	if code != exitUser || !strings.Contains(stderr, "--for time-boxes /config set only") {
		t.Errorf("/config unset --for: exit %d\n%s", code, stderr)
	}
}
