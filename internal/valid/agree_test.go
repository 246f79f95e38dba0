package valid_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/valid"
)

// TestPackagesAgree: the command parser, the kustomization editor and the config loader
// accept and refuse the same keys, names and images, the ones the API server would.
func TestPackagesAgree(t *testing.T) {
	keys := []string{"A", "a.b", ".x", "x..y", "..x", ".", "..", "A B", "a/b", "", strings.Repeat("k", 253), strings.Repeat("k", 254)}
	for _, k := range keys {
		want := valid.ConfigMapKey(k) == nil
		_, cmdErr := command.ParseConfigLiteral(k + "=v")
		_, ovErr := overlay.SetLiterals(nil, "cfg", []valid.KeyValue{{Key: k, Value: "v"}}, nil)
		_, unsetErr := overlay.SetLiterals(nil, "cfg", nil, []string{k})
		if got := [3]bool{cmdErr == nil, ovErr == nil, unsetErr == nil}; got != [3]bool{want, want, want} {
			t.Errorf("key %q: command, overlay set, overlay unset accept = %v; the API server's rule says %v (%v, %v, %v)", k, got, want, cmdErr, ovErr, unsetErr)
		}
	}

	names := []string{"prod", "eu-west-1", "a", "Prod", "-a", "a-", "a..b", "a.b", "a_b", strings.Repeat("a", 63), strings.Repeat("a", 64)}
	for _, n := range names {
		want := valid.IsDNSLabel(n)
		cmdOK := command.ValidateName("service", n) == nil
		cfg := fmt.Sprintf("version: 1\nenvironments:\n  - name: %q\nservices:\n  - name: %q\n    container: %q\n", n, n, n)
		_, cfgErr := repoconfig.Load([]byte(cfg), command.All())
		if cmdOK != want || (cfgErr == nil) != want {
			t.Errorf("name %q: command accepts %v, config accepts %v (%v); a DNS label: %v", n, cmdOK, cfgErr == nil, cfgErr, want)
		}
	}

	annotations := []string{"kubectl.kubernetes.io/restartedAt", "Example.com/x", "a", "-a", "a/b/c", "/a", strings.Repeat("n", 64)}
	for _, k := range annotations {
		want := valid.AnnotationKey(k) == nil
		_, err := overlay.SetWorkloadAnnotation(nil, "apps/v1", "Deployment", "web", k, "v")
		if (err == nil) != want {
			t.Errorf("annotation key %q: overlay accepts %v (%v), the API server's rule %v", k, err == nil, err, want)
		}
	}

	dg := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	images := []struct{ name, tag, digest string }{
		{"ghcr.io/acme/web", "v1", ""},
		{"Registry.Example.com/a", "1", ""},
		{"acme/web_-x", "1", ""},
		{"ghcr.io/acme/web", ".v1", ""},
		{"ghcr.io/acme/web", "", dg},
		{"ghcr.io/acme/web", "", "md5:" + strings.Repeat("a", 64)},
		{"ghcr.io/acme/web", "", "sha256:" + strings.Repeat("A", 64)},
	}
	for _, img := range images {
		ref := img.name
		if img.tag != "" {
			ref += ":" + img.tag
		}
		if img.digest != "" {
			ref += "@" + img.digest
		}
		_, cmdErr := command.ParseImageRef(ref)
		_, ovErr := overlay.SetImage(nil, "web", overlay.ImageEdit{NewName: img.name, NewTag: img.tag, Digest: img.digest})
		if (cmdErr == nil) != (ovErr == nil) {
			t.Errorf("image %q: command says %v, overlay says %v", ref, cmdErr, ovErr)
		}
	}
}
