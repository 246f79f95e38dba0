package report_test

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func sampleStatus() report.StatusView {
	three, two := 3, 2
	synced := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	return report.StatusView{
		Service: "checkout",
		Catalog: &report.Catalog{Description: "Takes the orders", Owner: "group:acme/checkout-team", System: "system:shop",
			Lifecycle: "production", DependsOn: []string{"component:catalog", "component:payments"}},
		Envs: []report.EnvStatus{
			{Env: "dev", Desired: &report.Desired{Deployed: true, ConfigHash: "a1b2c3d4",
				Containers: []report.Container{{Workload: "checkout", Name: "app", Image: "ghcr.io/acme/checkout:1.8.0"}},
				Workloads:  []report.Workload{{Kind: "Deployment", Name: "checkout", Replicas: &two}}},
				Live: &report.Live{App: "checkout-dev", Sync: "OutOfSync", Health: "Progressing", Revision: "89abcdef01234567", LastSynced: synced}},
			{Env: "staging", Desired: &report.Desired{Deployed: true, Frozen: true, FreezeReason: "release 2.4 | week",
				Containers: []report.Container{{Workload: "checkout", Name: "app", Image: "ghcr.io/acme/checkout:1.7.1"}, {Workload: "checkout", Name: "proxy", Image: "ghcr.io/acme/proxy@sha256:" + strings.Repeat("ab", 32)}},
				Workloads:  []report.Workload{{Kind: "Deployment", Name: "checkout", Replicas: &three}, {Kind: "Deployment", Name: "worker"}}},
				Live:    &report.Live{Err: "Argo CD is not reachable"},
				OpenPRs: []report.PRRef{{Number: 7, URL: "https://github.com/acme/gitops/pull/7"}, {Number: 9, URL: "https://github.com/acme/gitops/pull/9"}}},
			{Env: "prod", Desired: &report.Desired{}, Live: &report.Live{App: "checkout-prod", Sync: "Synced", Health: "Healthy", Revision: "0123456"}},
		},
	}
}

func sampleHistory() []report.Action {
	return []report.Action{
		{When: time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC), SHA: "0123456789abcdef", Action: "scale", Command: "/scale 4 --service checkout --env staging",
			Service: "checkout", Env: "staging", Requester: "sam", PR: 13},
		{When: time.Date(2026, 11, 23, 17, 5, 0, 0, time.UTC), SHA: "fedcba9876543210", Action: "freeze", Env: "prod"},
	}
}

func sampleDiff() *report.EnvDiff {
	return &report.EnvDiff{Service: "checkout", A: "staging", B: "prod",
		Images:   []report.Change{{What: "checkout app", A: "ghcr.io/acme/checkout:1.8.0", B: "ghcr.io/acme/checkout:1.7.1"}},
		Config:   []report.Change{{What: "checkout-config/API_TOKEN", A: "••• (differs)", B: "•••"}, {What: "checkout-config/FEATURE_X", A: "on", B: ""}},
		Replicas: []report.Change{{What: "Deployment/checkout", A: "2", B: "5"}},
	}
}

// The answers to /status, /history and /diff as posted on GitHub.
func TestMarkdownGolden(t *testing.T) {
	v := sampleStatus()
	gitOnly := sampleStatus()
	for i := range gitOnly.Envs {
		gitOnly.Envs[i].Live, gitOnly.Envs[i].OpenPRs = nil, nil
	}
	gitOnly.Catalog = nil
	same := &report.EnvDiff{Service: "checkout", A: "dev", B: "staging"}
	for name, got := range map[string]string{
		"status.md":          v.Markdown(),
		"status-git-only.md": gitOnly.Markdown(),
		"history.md":         report.HistoryMarkdown(sampleHistory(), "https://github.com/acme/gitops"),
		"history-no-url.md":  report.HistoryMarkdown(sampleHistory(), ""),
		"history-empty.md":   report.HistoryMarkdown(nil, ""),
		"diff.md":            sampleDiff().Markdown(),
		"diff-same.md":       same.Markdown(),
	} {
		mdtest.AssertSafe(t, got)
		mdtest.Golden(t, filepath.Join("testdata", name), got, *update)
	}
}

// The same answers as the command line prints them: plain text, no markup.
func TestPlainGolden(t *testing.T) {
	v := sampleStatus()
	v.Envs[1].Desired.FreezeReason += "\x1b[2J\u202e" // a terminal escape and a bidi override
	for name, got := range map[string]string{
		"status.txt":         v.Render(markdown.Plain),
		"history.txt":        report.RenderHistory(markdown.Plain, sampleHistory(), "https://github.com/acme/gitops"),
		"history-no-url.txt": report.RenderHistory(markdown.Plain, sampleHistory(), ""),
		"diff.txt":           sampleDiff().Render(markdown.Plain),
	} {
		for _, markup := range []string{"**", "`", "| ---", `\|`, "&lt;", "```", "[#", "\x1b", "\u202e"} {
			if strings.Contains(got, markup) {
				t.Errorf("%s holds %q:\n%s", name, markup, got)
			}
		}
		mdtest.Golden(t, filepath.Join("testdata", name), got, *update)
	}
}
