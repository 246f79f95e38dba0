package command

import (
	"reflect"
	"strings"
	"testing"
)

func TestNewServiceParse(t *testing.T) {
	r := Default()
	c, err := r.ParseLine("/new-service ledger --owner @acme/payments-team --image ghcr.io/acme/ledger:0.1.0 --envs dev,prod --port 9000 --dry-run")
	if err != nil {
		t.Fatal(err)
	}
	want := Command{Name: "new-service", Service: "ledger", Owner: "acme/payments-team", Image: ImageRef{Name: "ghcr.io/acme/ledger", Tag: "0.1.0"},
		Port: 9000, Envs: []string{"dev", "prod"}, Lifecycle: "experimental", DryRun: true}
	c.Line = ""
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	c, err = r.ParseLine("/new-service web --owner acme/web --image nginx@sha256:" + strings.Repeat("a", 64) + " --system shop --lifecycle production")
	if err != nil {
		t.Fatal(err)
	}
	if c.Image != (ImageRef{Name: "nginx", Digest: "sha256:" + strings.Repeat("a", 64)}) || c.Port != DefaultServicePort || c.Envs != nil || c.System != "shop" || c.Lifecycle != "production" {
		t.Errorf("%+v", c)
	}
	// A registry with a port, and a tag and a digest together.
	c, err = r.ParseLine("/new-service web --owner acme/web --image localhost:5000/acme/web:1.2@sha256:" + strings.Repeat("b", 64))
	if err != nil || c.Image.Name != "localhost:5000/acme/web" || c.Image.Tag != "1.2" || c.Image.Digest == "" {
		t.Errorf("%+v %v", c.Image, err)
	}
}

// TestNewServiceRepliesGolden keeps what a bad /new-service line is told.
func TestNewServiceRepliesGolden(t *testing.T) {
	r := Default()
	var b strings.Builder
	for _, text := range []string{
		"/new-service",
		"/new-service Ledger --owner acme/x --image ghcr.io/acme/ledger:1",
		"/new-service ledger_v2 --owner acme/x --image ghcr.io/acme/ledger:1",
		"/new-service ledger --image ghcr.io/acme/ledger:1",
		"/new-service ledger --owner acme/x",
		"/new-service ledger --owner acme --image ghcr.io/acme/ledger:1",
		"/new-service ledger --owner acme/x --image ghcr.io/acme/ledger",
		"/new-service ledger --owner acme/x --image ghcr.io/Acme/ledger:1",
		"/new-service ledger --owner acme/x --image ghcr.io/acme/ledger:1 --port 70000",
		"/new-service ledger --owner acme/x --image ghcr.io/acme/ledger:1 --envs dev,dev",
		"/new-service ledger --owner acme/x --image ghcr.io/acme/ledger:1 --env prod",
		"/new-service ledger --owner acme/x --image ghcr.io/acme/ledger:1 --break-glass",
	} {
		for _, res := range r.Parse(text) {
			if res.Reply == nil {
				t.Errorf("%s was accepted", text)
				continue
			}
			b.WriteString("<!-- " + strings.ReplaceAll(text, "--", "- -") + " -->\n")
			b.WriteString(res.Reply.Markdown())
			b.WriteString("\n---\n\n")
		}
	}
	golden(t, "new-service-replies.md", b.String())
}

// TestNewServiceForm: the issue form is read into the same command as the line.
func TestNewServiceForm(t *testing.T) {
	set := embeddedForms(t)
	form := formByVerb(t, set, "new-service")
	body := submit(form, map[string]string{"name": "ledger", "owner": "acme/payments-team", "image": "ghcr.io/acme/ledger:0.1.0", "envs": "dev, prod", "reason": "new ledger"})
	got, err := set.ParseIssueForm([]string{"daytwo", "action/new-service"}, body)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Default().ParseLine("/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0 --envs dev,prod")
	if err != nil {
		t.Fatal(err)
	}
	if got.Reason != "new ledger" {
		t.Errorf("reason %q", got.Reason)
	}
	got.Line, want.Line, got.Reason = "", "", ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	_, err = set.ParseIssueForm([]string{"action/new-service"}, submit(form, map[string]string{"name": "ledger", "owner": "acme/x", "image": "ledger"}))
	if err == nil || !strings.Contains(err.Error(), "Image: the image \"ledger\" has no tag or digest") {
		t.Errorf("an image without a tag: %v", err)
	}
}
