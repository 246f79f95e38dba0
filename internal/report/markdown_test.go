package report_test

import (
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/markdown/mdtest"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// hostile is text from a person or a repository, with markup of each kind.
const hostile = "<img src=x onerror=alert(1)> | @acme/everyone #123 `x` ``` [x](javascript:alert(1)) **bold** <!--"

// What a person wrote (a freeze reason, a command in a trailer) and what a repository or
// Argo CD says show as written in every report, and mention no one.
func TestReportsShowTextAsWritten(t *testing.T) {
	three := 3
	v := report.StatusView{
		Service: "checkout",
		Catalog: &report.Catalog{Description: hostile, Owner: "group:" + hostile, System: hostile, Lifecycle: hostile, DependsOn: []string{hostile}},
		Envs: []report.EnvStatus{
			{Env: "staging", Desired: &report.Desired{Deployed: true, Frozen: true, FreezeReason: hostile,
				Containers: []report.Container{{Workload: "checkout", Name: "app", Image: "ghcr.io/acme/checkout:1.0`x"}},
				Workloads:  []report.Workload{{Kind: "Deployment", Name: "checkout", Replicas: &three}}},
				Live: &report.Live{Err: hostile}},
			{Env: "prod", Desired: &report.Desired{Deployed: true},
				Live: &report.Live{Sync: hostile, Health: hostile, Revision: "0123456789"}},
		},
	}
	mdtest.AssertSafe(t, v.Markdown(), hostile, "1.0`x")

	history := report.HistoryMarkdown([]report.Action{{
		When: time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC), SHA: "0123456789",
		Action: hostile, Command: "/scale 3 " + hostile, Service: hostile, Env: hostile, Requester: "@acme/everyone",
	}}, "https://github.com/acme/gitops")
	mdtest.Policy{InCode: true}.AssertSafe(t, history, "/scale 3 "+hostile)
	mdtest.AssertSafe(t, history, hostile, "@acme/everyone")

	d := &report.EnvDiff{Service: "checkout", A: "staging", B: "prod",
		Config: []report.Change{{What: "cm/" + hostile, A: hostile, B: ""}}}
	mdtest.Policy{InCode: true}.AssertSafe(t, d.Markdown(), "cm/"+hostile)
}
