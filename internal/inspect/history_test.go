package inspect_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/inspect"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// apply plans line with daytwo's planner and commits the change as a squash merge of PR
// pr would (the PR number appended to the subject, the trailers kept); pr 0 commits it as
// the branch commit itself.
func (e *example) apply(t *testing.T, line, requester string, pr int) string {
	t.Helper()
	ctx := context.Background()
	cmd, err := command.Default().ParseLine(line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	snap := e.snap(t)
	req := plan.Request{Command: cmd, Requester: requester, Now: e.clock,
		Origin: fmt.Sprintf("https://github.com/acme/gitops/issues/%d#issuecomment-%d", pr+100, pr+1000)}
	cs, err := plan.New().Plan(ctx, e.cfg, nil, snap, snap.History(), req)
	if err != nil {
		t.Fatalf("planning %s: %v", line, err)
	}
	files := map[string]string{}
	for _, f := range cs.Files {
		files[f.Path] = string(f.Content) // "" for a deletion
	}
	subject, rest, _ := strings.Cut(cs.CommitMessage, "\n")
	if pr > 0 {
		subject += fmt.Sprintf(" (#%d)", pr)
	}
	sha := e.commit(t, subject+"\n"+rest, files)
	if strings.Contains(line, "freeze") {
		e.reloadConfig(t)
	}
	return sha
}

func TestHistoryFromTrailers(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	ctx := context.Background()
	start := e.clock
	e.apply(t, "/scale 3 --service checkout --env staging", "alice", 12)
	e.commit(t, "staging: a hand edit, no trailers", map[string]string{
		"apps/checkout/overlays/staging/kustomization.yaml": e.read(t, "apps/checkout/overlays/staging/kustomization.yaml") + "# reviewed\n",
	})
	e.apply(t, "/promote prod --service checkout", "bob", 13)
	e.apply(t, "/restart --service payments --env dev", "carol", 0)
	e.apply(t, "/freeze --env prod --reason release week", "sre-dana", 15)
	e.commit(t, "docs only", map[string]string{"README.md": "changed\n"})
	restart := e.apply(t, "/restart -s catalog -e staging", "erin", 16)

	hist := e.snap(t).History()
	all, err := inspect.History(ctx, hist, e.cfg, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range all {
		got = append(got, fmt.Sprintf("%s %s/%s by %s #%d", a.Action, orAll(a.Service), a.Env, a.Requester, a.PR))
	}
	want := []string{
		"restart catalog/staging by erin #16",
		"freeze all/prod by sre-dana #15",
		"restart payments/dev by carol #0",
		"promote checkout/prod by bob #13",
		"scale checkout/staging by alice #12",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	first := all[len(all)-1]
	if first.Command != "/scale 3 --service checkout --env staging" || !strings.HasPrefix(first.Origin, "https://github.com/acme/gitops/issues/112") {
		t.Errorf("scale: %+v", first)
	}
	if !first.When.Equal(start.Add(time.Minute)) || first.When.Location() != time.UTC {
		t.Errorf("scale happened at %v, want %v", first.When, start.Add(time.Minute))
	}
	if strings.Contains(first.Summary, "(#12)") || !strings.Contains(first.Summary, "scale") {
		t.Errorf("summary %q keeps the subject without the PR number", first.Summary)
	}
	if all[0].Commit != restart {
		t.Errorf("commit %s, want %s", all[0].Commit, restart)
	}

	filter := func(service, env string, limit int) []string {
		t.Helper()
		as, err := inspect.History(ctx, hist, e.cfg, service, env, limit)
		if err != nil {
			t.Fatalf("%s/%s: %v", service, env, err)
		}
		var out []string
		for _, a := range as {
			out = append(out, a.Action+" "+orAll(a.Service)+"/"+a.Env)
		}
		return out
	}
	for _, c := range []struct {
		service, env string
		limit        int
		want         string
	}{
		{"checkout", "", 0, "freeze all/prod, promote checkout/prod, scale checkout/staging"},
		{"checkout", "staging", 0, "scale checkout/staging"},
		{"", "prod", 0, "freeze all/prod, promote checkout/prod"},
		{"payments", "", 0, "freeze all/prod, restart payments/dev"},
		{"payments", "staging", 0, ""},
		{"", "", 2, "restart catalog/staging, freeze all/prod"},
		{"", "dev", 1, "restart payments/dev"},
	} {
		if got := strings.Join(filter(c.service, c.env, c.limit), ", "); got != c.want {
			t.Errorf("service %q env %q limit %d: %q, want %q", c.service, c.env, c.limit, got, c.want)
		}
	}

	for _, bad := range []int{-1, inspect.MaxHistoryLimit + 1} {
		if _, err := inspect.History(ctx, hist, e.cfg, "", "", bad); plan.ErrorCode(err) != plan.Invalid {
			t.Errorf("limit %d: %v", bad, err)
		}
	}
	if _, err := inspect.History(ctx, hist, e.cfg, "nope", "", 0); plan.ErrorCode(err) != plan.NotFound {
		t.Errorf("unknown service: %v", err)
	}
	if _, err := inspect.History(ctx, hist, e.cfg, "", "qa", 0); plan.ErrorCode(err) != plan.NotFound {
		t.Errorf("unknown environment: %v", err)
	}
}

func orAll(service string) string {
	if service == "" {
		return "all"
	}
	return service
}

// TestHistoryReadsPastOtherCommits: the actions asked for lie behind more hand edits than
// the first window of commits History reads.
func TestHistoryReadsPastOtherCommits(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	e.apply(t, "/scale 2 -s checkout -e dev", "alice", 1)
	e.apply(t, "/scale 3 -s checkout -e dev", "alice", 2)
	// 60 hand edits of the overlay, written by one git process.
	kust := "apps/checkout/overlays/dev/kustomization.yaml"
	var stream strings.Builder
	body := e.read(t, kust)
	for i := range 60 {
		e.clock = e.clock.Add(time.Minute)
		msg := fmt.Sprintf("hand edit %d", i)
		body += fmt.Sprintf("# %d\n", i)
		fmt.Fprintf(&stream, "commit refs/heads/main\ncommitter t <t@example.com> %d +0000\ndata %d\n%s\n", e.clock.Unix(), len(msg), msg)
		if i == 0 {
			stream.WriteString("from refs/heads/main^0\n")
		}
		fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", kust, len(body), body)
	}
	imp := exec.Command("git", "-C", e.dir, "fast-import", "--quiet")
	imp.Stdin = strings.NewReader(stream.String())
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	if n := e.git(t, "rev-list", "--count", "HEAD", "--", kust); n != "63" {
		t.Fatalf("%s commits touch the overlay, want 63", n)
	}
	got, err := inspect.History(context.Background(), e.snap(t).History(), e.cfg, "checkout", "dev", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].PR != 2 || got[1].PR != 1 {
		t.Errorf("history behind 60 hand edits: %+v", got)
	}
}

// fakeHistory serves a fixed log, newest first, and records what was asked.
type fakeHistory struct {
	log   []plan.CommitInfo
	paths [][]string
}

func (f *fakeHistory) Log(_ context.Context, paths []string, limit int) ([]plan.CommitInfo, error) {
	f.paths = append(f.paths, paths)
	return f.log[:min(limit, len(f.log))], nil
}

func (f *fakeHistory) At(context.Context, string) (plan.Snapshot, error) {
	return nil, fmt.Errorf("not needed")
}

func TestHistoryTrailerForms(t *testing.T) {
	t.Parallel()
	e := newExample(t)
	when := time.Date(2026, 11, 20, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	h := &fakeHistory{log: []plan.CommitInfo{
		// Trailers parsed from the message (no Trailers map), keys in another case.
		{SHA: "a1", Time: when, Message: "Merge pull request #41 from acme/daytwo/prod/checkout/scale-x\n\ndaytwo-action: scale\nDAYTWO-SERVICE: checkout\nDaytwo-Env: prod\nDaytwo-Requester: alice"},
		// A service the config does not name.
		{SHA: "a2", Time: when, Message: "x", Trailers: map[string]string{plan.TrailerAction: "restart", plan.TrailerService: "legacy", plan.TrailerEnv: "prod"}},
		// An environment the config does not name.
		{SHA: "a3", Time: when, Message: "x", Trailers: map[string]string{plan.TrailerAction: "restart", plan.TrailerService: "checkout", plan.TrailerEnv: "qa"}},
		// Other tools' trailers only.
		{SHA: "a4", Time: when, Message: "bump\n\nSigned-off-by: bot <bot@example.com>"},
		{SHA: "a5", Time: when, Message: "checkout/dev: restart (#7) (#9)\n\nDaytwo-Action: restart\nDaytwo-Service: checkout\nDaytwo-Env: dev"},
	}}
	got, err := inspect.History(context.Background(), h, e.cfg, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Commit != "a1" || got[0].PR != 41 || got[0].Requester != "alice" || got[0].Env != "prod" || got[1].PR != 9 || got[1].Summary != "checkout/dev: restart (#7)" {
		t.Errorf("%+v", got)
	}
	// Every overlay of every service and environment, and the config for freezes.
	paths := h.paths[0]
	if len(paths) != 10 || paths[0] != "apps/checkout/overlays/dev" || paths[9] != repoconfig.Path {
		t.Errorf("paths %v", paths)
	}
	if _, err := inspect.History(context.Background(), h, e.cfg, "payments", "prod", 0); err != nil || strings.Join(h.paths[1], " ") != "apps/payments/overlays/prod "+repoconfig.Path {
		t.Errorf("paths of payments in prod: %v %v", h.paths[1], err)
	}
}
