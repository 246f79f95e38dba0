package setup

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The embedded app.yml is a copy (go:embed cannot reach the repository root): it must
// stay the repository's. `go generate ./internal/setup` copies it again.
func TestEmbeddedAppYMLIsTheRepositorys(t *testing.T) {
	repo, err := os.ReadFile("../../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(repo, appYML) {
		t.Fatal("internal/setup/app.yml differs from app.yml: run go generate ./internal/setup")
	}
}

func TestManifestReasonsAreAppYMLComments(t *testing.T) {
	m, err := DefaultManifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "daytwo" || !strings.Contains(m.Description, "Day-2 operations") {
		t.Fatalf("name %q, description %q", m.Name, m.Description)
	}
	wantEvents := map[string]string{
		"issue_comment":       "commands in issue and pull request comments",
		"issues":              "requests submitted through the issue forms, boxes ticked on the dashboard",
		"pull_request":        "merged or closed change PRs: report back, take over after merge",
		"pull_request_review": "approvals move the status comment and allow merging",
		"workflow_run":        "workflows started by /run: the status comment follows each run to its end",
	}
	if len(m.Events) != len(wantEvents) {
		t.Fatalf("events %+v", m.Events)
	}
	for _, e := range m.Events {
		if wantEvents[e.Name] != e.Reason {
			t.Errorf("event %s: reason %q, want %q", e.Name, e.Reason, wantEvents[e.Name])
		}
	}
	wantPerms := map[string]string{
		"metadata":      "read Read repository metadata: required by every GitHub App.",
		"contents":      "write Read the daytwo config, CODEOWNERS and overlays; write the change branch and commit.",
		"pull_requests": "write Open, update, merge and close change PRs; request code-owner reviews; read review decisions.",
		"issues":        "write Reply and react to commands, edit the status comment, label and close request issues.",
		"members":       "read Check team membership for per-environment request policies (organization permission).",
		"checks":        `write Publish the "daytwo/render" check run proving the change renders.`,
		"actions":       "write Run the GitHub Actions workflows .github/daytwo.yml allows for /run (workflow_dispatch), read their inputs and runs.",
	}
	if len(m.Permissions) != len(wantPerms) {
		t.Fatalf("permissions %+v", m.Permissions)
	}
	for _, p := range m.Permissions {
		if got := p.Access + " " + p.Reason; got != wantPerms[p.Name] {
			t.Errorf("permission %s: %q, want %q", p.Name, got, wantPerms[p.Name])
		}
	}

	data, err := m.JSON("https://d2.example.com/api/github/hook", "http://127.0.0.1:3000/callback")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Name           string `json:"name"`
		URL            string `json:"url"`
		Public         *bool  `json:"public"`
		HookAttributes struct {
			URL    string `json:"url"`
			Active bool   `json:"active"`
		} `json:"hook_attributes"`
		RedirectURL        string            `json:"redirect_url"`
		DefaultEvents      []string          `json:"default_events"`
		DefaultPermissions map[string]string `json:"default_permissions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Name != "daytwo" || doc.URL != "https://github.com/daytwo-dev/daytwo" || doc.Public == nil || *doc.Public ||
		doc.HookAttributes.URL != "https://d2.example.com/api/github/hook" || !doc.HookAttributes.Active ||
		doc.RedirectURL != "http://127.0.0.1:3000/callback" || len(doc.DefaultEvents) != 5 || doc.DefaultPermissions["contents"] != "write" {
		t.Fatalf("manifest JSON: %s", data)
	}
	// Building one registration's JSON leaves the manifest as it was.
	if m.doc["hook_attributes"].(map[string]any)["url"] != "https://daytwo.example.com/api/github/hook" {
		t.Fatal("JSON changed the parsed app.yml")
	}
}

func TestManifestWithoutReasonsIsRefused(t *testing.T) {
	for name, tc := range map[string]struct{ yml, want string }{
		"event":        {"name: x\nurl: https://x.example\ndefault_events:\n  - issues\n", "event issues has no comment"},
		"permission":   {"name: x\nurl: https://x.example\ndefault_permissions:\n  issues: write\n", "permission issues has no comment"},
		"access":       {"name: x\nurl: https://x.example\ndefault_permissions:\n  issues: admin # why\n", `permission issues is "admin"`},
		"no url":       {"name: x\n", "url is missing"},
		"not yaml":     {"name: [x\n", "app.yml"},
		"line comment": {"name: x\nurl: https://x.example\ndefault_permissions:\n  issues: write # answer\n", ""},
	} {
		m, err := ParseManifest([]byte(tc.yml))
		if tc.want == "" {
			if err != nil || m.Permissions[0].Reason != "answer" {
				t.Errorf("%s: %v %+v", name, err, m)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

func TestGitHubAt(t *testing.T) {
	for _, in := range []string{"", "https://github.com", "https://github.com/"} {
		g, err := GitHubAt(in)
		if err != nil || g.Enterprise() || g.V3APIURL != "https://api.github.com/" || g.V4APIURL != "https://api.github.com/graphql" {
			t.Errorf("%q: %+v %v", in, g, err)
		}
	}
	g, err := GitHubAt("https://ghe.example.com/")
	if err != nil || !g.Enterprise() || g.WebURL != "https://ghe.example.com" || g.V3APIURL != "https://ghe.example.com/api/v3/" || g.V4APIURL != "https://ghe.example.com/api/graphql" {
		t.Fatalf("GHES: %+v %v", g, err)
	}
	if g.NewAppURL("", "a b") != "https://ghe.example.com/settings/apps/new?state=a+b" ||
		g.NewAppURL("acme", "s") != "https://ghe.example.com/organizations/acme/settings/apps/new?state=s" ||
		g.InstallURL("day-two") != "https://ghe.example.com/apps/day-two/installations/new" {
		t.Fatal(g.NewAppURL("", "a b"), g.NewAppURL("acme", "s"), g.InstallURL("day-two"))
	}
	for _, bad := range []string{"ghe.example.com", "ftp://ghe.example.com", "https://", "https://ghe.example.com/?x=1"} {
		if _, err := GitHubAt(bad); err == nil || !strings.Contains(err.Error(), "--github-url") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
