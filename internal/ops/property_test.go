package ops_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

// FuzzConcurrentCommands asks two daytwo replicas for many changes to a few targets at
// once, from several issues, with repeats and GitHub faults, then checks GitHub's final
// state: every command has one final status, and a change answered "in PR #N" is in PR #N.
// The seed decides the commands, the repeats and the faults; scheduling still varies.
func FuzzConcurrentCommands(f *testing.F) {
	f.Add(int64(1))
	f.Fuzz(func(t *testing.T, seed int64) {
		runConcurrentCommands(t, seed)
	})
}

const (
	propCommands = 40
	propIssues   = 4
	propWorkers  = 6
	propSettle   = 60 * time.Second
)

var (
	propServices = []string{"checkout", "catalog"}
	propEnvs     = []string{"staging", "dev"}
)

// propDelivery is one webhook to send.
type propDelivery struct {
	app     *apptest.App
	id      string
	payload []byte
}

func runConcurrentCommands(t *testing.T, seed int64) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(uint64(seed), 0xda2))
	w := newWorld(t)
	apps := []*apptest.App{w.App, w.App.Replica(t)}
	var issues []int
	for i := range propIssues {
		issues = append(issues, w.repo.CreateIssue("alice", "day-2 request "+strconv.Itoa(i), ""))
	}

	// Workers send concurrently; a webhook that is not accepted is a violation of its own.
	var (
		mu       sync.Mutex
		sendErrs []string
		wg       sync.WaitGroup
	)
	jobs := make(chan propDelivery)
	for range propWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				res, err := w.GH.SendWebhookWithDelivery(d.app.Hook(), "issue_comment", d.id, d.payload)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						err = fmt.Errorf("answered %d", res.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					sendErrs = append(sendErrs, fmt.Sprintf("delivery %s: %v", d.id, err))
					mu.Unlock()
				}
			}
		}()
	}

	var (
		cmds                  []apptest.Cmd
		repeats               = map[int][]propDelivery{} // step → repeats sent then
		faults                []string
		sameIDs, newIDs, sent int
	)
	for i := range propCommands {
		c := randomCommand(rng, i, issues)
		c.Comment = w.repo.AddComment(c.Issue, c.Author, c.Line)
		cmds = append(cmds, c)
		d := propDelivery{app: apps[rng.IntN(2)], id: githubtest.NewDeliveryID(), payload: w.repo.IssueCommentPayload(c.Comment)}
		jobs <- d
		sent++
		// Replays (same delivery id) and redeliveries (new id), a few steps later, to either replica.
		if rng.IntN(5) == 0 {
			k := i + rng.IntN(4)
			repeats[k] = append(repeats[k], propDelivery{app: apps[rng.IntN(2)], id: d.id, payload: d.payload})
			sameIDs++
		}
		if rng.IntN(6) == 0 {
			k := i + rng.IntN(4)
			repeats[k] = append(repeats[k], propDelivery{app: apps[rng.IntN(2)], id: githubtest.NewDeliveryID(), payload: d.payload})
			newIDs++
		}
		for _, r := range repeats[i] {
			jobs <- r
			sent++
		}
		delete(repeats, i)
		if rng.IntN(4) == 0 {
			faults = append(faults, injectFault(rng, w.GH))
		}
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
	}
	for _, k := range slices.Sorted(maps.Keys(repeats)) {
		for _, r := range repeats[k] {
			jobs <- r
			sent++
		}
	}
	close(jobs)
	wg.Wait()
	t.Logf("seed %d: %d commands, %d deliveries (%d replays, %d redeliveries), %d faults: %s",
		seed, len(cmds), sent, sameIDs, newIDs, len(faults), strings.Join(faults, ", "))

	settled := settle(t, w, apps, issues)
	w.GH.ClearFaults()
	t.Logf("seed %d: settled=%v after %s", seed, settled, time.Since(start).Round(100*time.Millisecond))

	var violations []string
	for _, e := range sendErrs {
		violations = append(violations, "webhook not accepted: "+e)
	}
	violations = append(violations, checkFinalState(t, w, cmds, issues)...)
	for _, v := range violations {
		t.Errorf("seed %d: %s", seed, v)
	}
}

// randomCommand is command i: mostly changes over few targets, some by a reader, a few /cancel.
func randomCommand(rng *rand.Rand, i int, issues []int) apptest.Cmd {
	c := apptest.Cmd{
		Issue:   issues[rng.IntN(len(issues))],
		Author:  "alice",
		Service: propServices[rng.IntN(len(propServices))],
		Env:     propEnvs[rng.IntN(len(propEnvs))],
	}
	if rng.IntN(10) == 0 {
		c.Author, c.Refuse = "rita", "rita has read permission"
	}
	switch k := rng.IntN(20); {
	case k == 0:
		return apptest.Cmd{Kind: "cancel", Author: "alice", Issue: c.Issue, Line: "/cancel"}
	case k < 8:
		c.Kind, c.Value = "config", fmt.Sprintf("K%d=v%d", i, i)
		c.Line = "/config set " + c.Value
	case k < 14:
		// dev allows up to 3 replicas, staging 1 to 6.
		n := 1 + rng.IntN(5)
		c.Kind, c.Value = "scale", strconv.Itoa(n)
		c.Line = "/scale " + c.Value
		if c.Env == "dev" && n > 3 && c.Refuse == "" {
			c.Refuse = "dev allows at most 3 replicas"
		}
	default:
		c.Kind, c.Value = "image", fmt.Sprintf("9.%d.0", i) // no example runs 9.x
		c.Line = "/set-image " + c.Value
	}
	c.Line += " --service " + c.Service + " --env " + c.Env
	return c
}

var (
	propGraphQLOps = []string{"*", "daytwoAck", "daytwoDefaultBranch", "daytwoPrefetch", "daytwoChange", "daytwoFinish"}
	propRESTPaths  = []string{"/repos/acme/gitops/...", "/repos/acme/gitops/collaborators/*/permission",
		"/repos/acme/gitops/issues/...", "/repos/acme/gitops/pulls/...", "/repos/acme/gitops/git/..."}
)

// injectFault adds one transient fault and describes it.
func injectFault(rng *rand.Rand, gh *githubtest.Server) string {
	method, pattern := "*", propRESTPaths[rng.IntN(len(propRESTPaths))]
	if rng.IntN(2) == 0 {
		method, pattern = "POST", "/api/graphql/"+propGraphQLOps[rng.IntN(len(propGraphQLOps))]
	}
	var f githubtest.Fault
	var what string
	switch rng.IntN(6) {
	case 0:
		f, what = githubtest.Fault{Status: 502, Times: 1}, "502"
	case 5:
		f, what = githubtest.Fault{Status: 502, Times: 1, Lost: true}, "502 after doing it"
	case 1:
		f, what = githubtest.Fault{Status: 500, Times: 1}, "500"
	case 2:
		f, what = githubtest.SecondaryRateLimit(time.Second, 1), "403 secondary limit"
	case 3:
		f, what = githubtest.Fault{Status: 429, Times: 1, Headers: map[string]string{"Retry-After": "1"}}, "429"
	default:
		f = githubtest.Fault{Delay: time.Duration(200+rng.IntN(301)) * time.Millisecond, Times: 1 + rng.IntN(5)}
		what = fmt.Sprintf("delay %s ×%d", f.Delay, f.Times)
	}
	gh.Fault(method, pattern, f)
	return what + " on " + pattern
}

// settle waits until both replicas have nothing queued, GitHub has seen no request for a
// while, and no status says working; it reports whether that happened in time.
func settle(t *testing.T, w *world, apps []*apptest.App, issues []int) bool {
	deadline := time.Now().Add(propSettle)
	last, since := -1, time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		n := len(w.GH.Requests())
		if n != last {
			last, since = n, time.Now()
			continue
		}
		if time.Since(since) < 500*time.Millisecond {
			continue
		}
		quiet := true
		for _, a := range apps {
			quiet = quiet && strings.Contains(a.Metrics(t), "daytwo_webhook_queue_depth 0")
		}
		if quiet && !apptest.AnyWorking(w.GH, w.repo, issues) {
			return true
		}
	}
	return false
}

// checkFinalState checks the invariants (apptest.CheckFinalState) and returns every violation.
func checkFinalState(t *testing.T, w *world, cmds []apptest.Cmd, issues []int) []string {
	o := apptest.CheckFinalState(w.GH, w.repo, cmds, issues)
	t.Log(o)
	return o.Violations
}

// TestFinalStateChecker proves the checker on a hand-made final state: it accepts one that
// keeps the contract and reports each way of breaking it.
func TestFinalStateChecker(t *testing.T) {
	w := newWorld(t)
	n := w.repo.CreateIssue("alice", "day-2 request", "")
	var cmds []apptest.Cmd
	ask := func(kind, service, env, value, author string) apptest.Cmd {
		c := apptest.Cmd{Kind: kind, Service: service, Env: env, Value: value, Author: author, Issue: n, Line: kind + " " + value}
		c.Comment = w.repo.AddComment(n, author, c.Line)
		cmds = append(cmds, c)
		return c
	}
	answer := func(c apptest.Cmd, state string, pr int, by string) {
		m, _ := json.Marshal(apptest.Mark{Request: fmt.Sprintf("acme/gitops#%d/comment-%d/1", n, c.Comment), State: state, PR: pr, By: by})
		link := ""
		if pr != 0 {
			link = fmt.Sprintf("[PR #%d](%s/acme/gitops/pull/%d)", pr, w.GH.URL(), pr)
		}
		w.repo.AddComment(n, w.GH.BotLogin(), "status "+link+"\n\n<!-- daytwo-status: "+string(m)+" -->\n")
	}
	const kust = "apps/checkout/overlays/staging/kustomization.yaml"
	base, _ := w.repo.File("main", kust)
	changed := strings.Replace(base, "count: 2", "count: 4", 1)
	changed = strings.Replace(changed, "- FEATURE_EXPRESS_CHECKOUT=true", "- FEATURE_EXPRESS_CHECKOUT=true\n      - K1=v1", 1)
	w.repo.Commit("daytwo/staging/checkout/config-1", "change", map[string]string{kust: changed})
	pr := w.repo.OpenPull(w.GH.BotLogin(), "daytwo/staging/checkout/config-1", "main", "checkout/staging", "")

	k1 := ask("config", "checkout", "staging", "K1=v1", "alice")
	answer(k1, "open", pr, "")
	k1Commit := fmt.Sprintf("set K1\n\nDaytwo-Request: acme/gitops#%d/comment-%d/1\n", n, k1.Comment)
	w.repo.Commit("daytwo/staging/checkout/config-1", k1Commit, map[string]string{"notes/k1": "1"})
	scale4 := ask("scale", "checkout", "staging", "4", "alice")
	answer(scale4, "open", pr, "")
	answer(ask("scale", "checkout", "staging", "3", "alice"), "overridden", pr, fmt.Sprintf("acme/gitops#%d/comment-%d/1", n, scale4.Comment))
	rita := ask("config", "catalog", "dev", "K4=v4", "rita")
	rita.Refuse = "read permission"
	cmds[len(cmds)-1] = rita
	answer(rita, "refused", 0, "")
	answer(ask("image", "checkout", "dev", "9.5.0", "alice"), "failed", 0, "")
	if bad := checkFinalState(t, w, cmds, []int{n}); len(bad) != 0 {
		t.Fatalf("a state that keeps the contract was reported:\n%s", strings.Join(bad, "\n"))
	}

	// Break it: a change answered "open" that its PR lacks, one answered twice, one not
	// answered, one "merged" in a PR still open, a refusal carried out, a branch without a
	// PR, a request carried out twice.
	answer(ask("config", "checkout", "staging", "K6=v6", "alice"), "open", pr, "")
	twice := ask("image", "catalog", "staging", "9.7.0", "alice")
	answer(twice, "failed", 0, "")
	answer(twice, "failed", 0, "")
	ask("scale", "catalog", "dev", "2", "alice")
	answer(ask("config", "checkout", "staging", "K1=v1", "alice"), "merged", pr, "")
	answer(ask("scale", "checkout", "staging", "4", "rita"), "open", pr, "")
	cmds[len(cmds)-1].Refuse = "read permission"
	w.repo.Commit("daytwo/dev/catalog/restart-1", "stray", map[string]string{"x": "y"})
	w.repo.Commit("daytwo/staging/checkout/config-1", k1Commit, map[string]string{"notes/k1": "2"})
	want := [][2]string{ // invariant, text
		{"b: ", `(alice) "config K6=v6" is open in PR #2, but its head`},
		{"a: ", `(alice) "image 9.7.0" has 2 status comments`},
		{"a: ", `(alice) "scale 2" has 0 status comments`},
		{"c: ", `(alice) "config K1=v1" is merged in PR #2, which is open`},
		{"#", `(rita) "scale 4" is open, but must be refused`},
		{"d: ", "branch daytwo/dev/catalog/restart-1 has no open PR"},
		{"f: ", `(alice) "config K1=v1" (acme/gitops#`},
	}
	bad := checkFinalState(t, w, cmds, []int{n})
	if len(bad) != len(want) {
		t.Fatalf("want %d violations, got %d:\n%s", len(want), len(bad), strings.Join(bad, "\n"))
	}
	for i, v := range bad {
		if !strings.HasPrefix(v, want[i][0]) || !strings.Contains(v, want[i][1]) {
			t.Errorf("violation %d is %q, want %q…%q", i, v, want[i][0], want[i][1])
		}
	}
}
