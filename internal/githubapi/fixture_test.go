package githubapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/plan"
)

// changeEnv is a fake GitHub with acme/gitops seeded, and a real installation client
// (go-githubapp: app JWT exchanged for an installation token) with the Retry middleware.
type changeEnv struct {
	s    *githubtest.Server
	gr   *githubtest.Repo
	repo githubapi.Repo
	base githubapi.Head
	ctx  context.Context
	t    *testing.T

	// sent counts the API requests the client completed (token exchanges aside), so that
	// reading the fake's log can wait until it holds them all: the fake may log a request
	// just after its answer reached the client.
	sent    atomic.Int64
	resetAt int64
}

var seedFiles = map[string]string{
	"README.md":                                    "# gitops\n",
	"apps/web/base/deployment.yaml":                "kind: Deployment\nmetadata:\n  name: web\n",
	"apps/web/overlays/prod/kustomization.yaml":    "resources:\n- ../../base\nreplicas:\n- name: web\n  count: 2\n",
	"apps/web/overlays/prod/old-patch.yaml":        "kind: Deployment\n",
	"apps/web/overlays/staging/kustomization.yaml": "resources:\n- ../../base\n",
}

// testPolicy retries quickly, so that fault tests take milliseconds.
var testPolicy = githubapi.RetryPolicy{Attempts: 4, Base: 5 * time.Millisecond, MaxWait: 10 * time.Second}

func newChangeEnv(t *testing.T) *changeEnv {
	t.Helper()
	s := githubtest.New(t)
	gr := s.CreateRepo("acme", "gitops")
	gr.Commit("main", "initial layout", seedFiles)
	gr.SetPermission("alice", githubtest.RoleWrite)
	gr.SetPermission("bob", githubtest.RoleMaintain)
	s.AddTeamMember("acme", "sre", "carol", "member", "active")
	gr.SetTeamPermission("sre", githubtest.RoleWrite)
	id := s.Install("acme")
	e := &changeEnv{s: s, gr: gr, ctx: context.Background(), t: t}
	cc := githubapp.NewClientCreator(s.V3URL(), s.V4URL(), s.AppID(), s.PrivateKeyPEM(),
		githubapp.WithClientMiddleware(githubapi.Retry(testPolicy), e.countSent))
	client, err := cc.NewInstallationClient(id)
	if err != nil {
		t.Fatalf("NewInstallationClient: %v", err)
	}
	e.repo = githubapi.Repo{Client: client, Owner: "acme", Name: "gitops"}
	if e.base, err = e.repo.Head(e.ctx, ""); err != nil {
		t.Fatalf("Head: %v", err)
	}
	e.reset() // the token exchange and the Head reads are not part of what tests count
	return e
}

// countSent is a client middleware inside Retry: it counts every attempt GitHub answered.
func (e *changeEnv) countSent(next http.RoundTripper) http.RoundTripper {
	return promhttp.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		res, err := next.RoundTrip(r)
		if err == nil && !isTokenPath(r.URL.Path) {
			e.sent.Add(1)
		}
		return res, err
	})
}

func isTokenPath(p string) bool { return strings.Contains(p, "/app/") }

// requests is the fake's log since the last reset, once it holds every completed request.
func (e *changeEnv) requests() []githubtest.Request {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out []githubtest.Request
		for _, r := range e.s.Requests() {
			if !isTokenPath(r.Path) {
				out = append(out, r)
			}
		}
		if int64(len(out)) >= e.sent.Load()-e.resetAt {
			return out
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the fake logged %d requests, the client completed %d", len(out), e.sent.Load()-e.resetAt)
		}
		time.Sleep(time.Millisecond)
	}
}

// reset empties the fake's log after it holds every request made so far.
func (e *changeEnv) reset() {
	e.requests()
	e.s.ResetLog()
	e.resetAt = e.sent.Load()
}

// count counts logged requests with method ("" for any) whose path starts with prefix.
func (e *changeEnv) count(method, prefix string) int {
	n := 0
	for _, r := range e.requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// changeSet is a scale of web in prod as the planner would make it.
func (e *changeEnv) changeSet(replicas int) *plan.ChangeSet {
	kust := fmt.Sprintf("resources:\n- ../../base\nreplicas:\n- name: web\n  count: %d\n", replicas)
	title := fmt.Sprintf("Scale web in prod to %d replicas", replicas)
	return &plan.ChangeSet{
		Service: "web", Env: "prod", Action: "scale",
		Base: e.base.Commit,
		Files: []plan.FileChange{
			{Path: "apps/web/overlays/prod/kustomization.yaml", Content: []byte(kust), Before: []byte(seedFiles["apps/web/overlays/prod/kustomization.yaml"])},
			{Path: "apps/web/overlays/prod/old-patch.yaml", Delete: true, Before: []byte(seedFiles["apps/web/overlays/prod/old-patch.yaml"])},
			{Path: "apps/web/overlays/prod/NOTES.md", Content: []byte("scaled by daytwo\r\n")},
		},
		Branch: "daytwo/prod/web/scale-0a1b2c3d",
		Title:  title,
		Body:   fmt.Sprintf("Scales web in prod to %d.\n\n<!-- daytwo: {\"action\":\"scale\",\"env\":\"prod\",\"service\":\"web\"} -->", replicas),
		CommitMessage: fmt.Sprintf("%s\n\nscale web in prod: 2 → %d replicas\n\n%s: scale\n%s: web\n%s: prod\n%s: alice\n",
			title, replicas, plan.TrailerAction, plan.TrailerService, plan.TrailerEnv, plan.TrailerRequester),
		Metadata: map[string]string{"action": "scale", "env": "prod", "service": "web"},
	}
}

// expectedFiles is the base's files with cs applied.
func expectedFiles(cs *plan.ChangeSet) map[string]string {
	out := map[string]string{}
	for k, v := range seedFiles {
		out[k] = v
	}
	for _, f := range cs.Files {
		if f.Delete {
			delete(out, f.Path)
		} else {
			out[f.Path] = string(f.Content)
		}
	}
	return out
}

// calls lists "METHOD path" of the logged API requests.
func (e *changeEnv) calls() []string {
	var out []string
	for _, r := range e.requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (e *changeEnv) repoPath(p string) string { return "/repos/acme/gitops" + p }

func (e *changeEnv) hasBranch(name string) bool {
	for _, b := range e.gr.Branches() {
		if b == name {
			return true
		}
	}
	return false
}

// openPulls lists the fake's open pull requests.
func (e *changeEnv) openPulls() []githubtest.Pull {
	var out []githubtest.Pull
	for _, p := range e.gr.Pulls() {
		if p.State == "open" {
			out = append(out, p)
		}
	}
	return out
}

func sameStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func codeOf(err error) plan.Code { return plan.ErrorCode(err) }

type (
	ghPull   = gh.PullRequest
	ghBranch = gh.PullRequestBranch
)

func strPtr(s string) *string { return &s }
