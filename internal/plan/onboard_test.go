package plan

import (
	"strings"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
)

func TestOnboard(t *testing.T) {
	req := Input{
		Command:   command.Command{Name: "init", Line: "/init"},
		Requester: "mo", Origin: "https://github.com/acme/gitops/issues/3#issuecomment-9",
		OriginKey: "acme/gitops#3/comment-9/1", ID: "acme/gitops#3/comment-9/1", Status: "acme/gitops#3/77",
	}
	o := Onboarding{
		Files:       []FileChange{{Path: ".github/daytwo.yml", Content: []byte("version: 1\n")}},
		Title:       "Onboard acme/gitops to daytwo",
		Description: "**what**\n",
		Summary:     "daytwo's config for 1 environment",
	}
	cs, err := New().Onboard(req, "abc123", o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cs.Branch, "daytwo/init-") || !validRef(cs.Branch) || cs.Branch != BranchFor(req.Command, req) {
		t.Errorf("branch %q: want daytwo/init-<hash of the request>", cs.Branch)
	}
	if cs.Service != "" || cs.Env != "" || cs.Action != "init" || cs.Base != "abc123" || cs.Title != o.Title {
		t.Errorf("change set %+v", cs)
	}
	tr := ParseTrailers(cs.CommitMessage)
	for k, v := range map[string]string{TrailerAction: "init", TrailerCommand: "/init", TrailerRequester: "mo", TrailerRequest: req.ID, TrailerStatus: req.Status, TrailerOrigin: req.Origin} {
		if tr[k] != v {
			t.Errorf("trailer %s = %q, want %q\n%s", k, tr[k], v, cs.CommitMessage)
		}
	}
	if tr[TrailerService] != "" || tr[TrailerEnv] != "" {
		t.Errorf("an onboarding names no service or environment:\n%s", cs.CommitMessage)
	}
	meta, ok := ParseMetadata(cs.Body)
	if !ok || meta["action"] != "init" || meta["branch"] != cs.Branch || !strings.HasPrefix(cs.Body, "**what**\n\n<!-- daytwo: ") {
		t.Errorf("body %q, metadata %v", cs.Body, meta)
	}
	if !strings.Contains(cs.FileDiff, "+version: 1") {
		t.Errorf("file diff %q", cs.FileDiff)
	}

	if _, err := New().Onboard(req, "abc123", Onboarding{Title: "x"}); ErrorCode(err) != NoChange {
		t.Errorf("no files: %v", err)
	}
	o.Description = strings.Repeat("x", MaxBodyLen)
	if _, err := New().Onboard(req, "abc123", o); ErrorCode(err) != Invalid {
		t.Errorf("a description over GitHub's limit: %v", err)
	}
}
