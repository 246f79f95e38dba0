package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/report"
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

// propCmd is one command of a run, in its own comment.
type propCmd struct {
	kind         string // config, scale, image or cancel
	service, env string // "" for cancel
	value        string // K7=v7, 4, 9.7.0
	author, line string
	issue        int
	comment      int64
	refuse       string // why policy must refuse it, if it must
}

func (c propCmd) target() string { return c.env + "/" + c.service }

func (c propCmd) String() string {
	return fmt.Sprintf("#%d comment %d (%s) %q", c.issue, c.comment, c.author, c.line)
}

// propMarker is the hidden line of a status comment.
type propMarker struct {
	Request string `json:"request"`
	State   string `json:"state"`
	PR      int    `json:"pr"`
	By      string `json:"by"`
}

var propMarkerRE = regexp.MustCompile(`<!-- daytwo-status: (\{.*?\}) -->`)

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
		cmds                  []propCmd
		repeats               = map[int][]propDelivery{} // step → repeats sent then
		faults                []string
		sameIDs, newIDs, sent int
	)
	for i := range propCommands {
		c := randomCommand(rng, i, issues)
		c.comment = w.repo.AddComment(c.issue, c.author, c.line)
		cmds = append(cmds, c)
		d := propDelivery{app: apps[rng.IntN(2)], id: githubtest.NewDeliveryID(), payload: w.repo.IssueCommentPayload(c.comment)}
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
func randomCommand(rng *rand.Rand, i int, issues []int) propCmd {
	c := propCmd{
		issue:   issues[rng.IntN(len(issues))],
		author:  "alice",
		service: propServices[rng.IntN(len(propServices))],
		env:     propEnvs[rng.IntN(len(propEnvs))],
	}
	if rng.IntN(10) == 0 {
		c.author, c.refuse = "rita", "rita has read permission"
	}
	switch k := rng.IntN(20); {
	case k == 0:
		return propCmd{kind: "cancel", author: "alice", issue: c.issue, line: "/cancel"}
	case k < 8:
		c.kind, c.value = "config", fmt.Sprintf("K%d=v%d", i, i)
		c.line = "/config set " + c.value
	case k < 14:
		// dev allows up to 3 replicas, staging 1 to 6.
		n := 1 + rng.IntN(5)
		c.kind, c.value = "scale", strconv.Itoa(n)
		c.line = "/scale " + c.value
		if c.env == "dev" && n > 3 && c.refuse == "" {
			c.refuse = "dev allows at most 3 replicas"
		}
	default:
		c.kind, c.value = "image", fmt.Sprintf("9.%d.0", i) // no example runs 9.x
		c.line = "/set-image " + c.value
	}
	c.line += " --service " + c.service + " --env " + c.env
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
		if quiet && !anyWorking(w, issues) {
			return true
		}
	}
	return false
}

func anyWorking(w *world, issues []int) bool {
	for _, ms := range statusMarkers(w, issues) {
		for _, m := range ms {
			if m.State == "working" {
				return true
			}
		}
	}
	return false
}

// statusMarkers are the markers of the bot's comments in the asking issues, by request
// ("" collects the ones that do not parse).
func statusMarkers(w *world, issues []int) map[string][]propMarker {
	out := map[string][]propMarker{}
	for _, n := range issues {
		for _, c := range w.repo.Comments(n) {
			if c.User != w.GH.BotLogin() {
				continue
			}
			for _, m := range propMarkerRE.FindAllStringSubmatch(c.Body, -1) {
				var pm propMarker
				if err := json.Unmarshal([]byte(m[1]), &pm); err != nil {
					out[""] = append(out[""], propMarker{State: fmt.Sprintf("comment %d: %v", c.ID, err)})
					continue
				}
				out[pm.Request] = append(out[pm.Request], pm)
			}
		}
	}
	return out
}

// checkFinalState checks the invariants and returns every violation.
func checkFinalState(t *testing.T, w *world, cmds []propCmd, issues []int) []string {
	var bad []string
	badf := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	ctx := context.Background()
	cfgFile, _ := w.repo.File("main", repoconfig.Path)
	cfg, err := repoconfig.Load([]byte(cfgFile))
	if err != nil {
		return []string{"config on main: " + err.Error()}
	}
	pulls := map[int]githubtest.Pull{}
	openFor := map[string][]githubtest.Pull{} // target → open daytwo PRs
	landed := map[string][]githubtest.Pull{}  // target → its open and merged PRs
	heads := map[string]bool{}
	for _, p := range w.repo.Pulls() {
		pulls[p.Number] = p
		tg, ok := pullTarget(p.Head)
		if !ok || p.State != "open" && !p.Merged {
			continue
		}
		landed[tg] = append(landed[tg], p)
		if p.State == "open" {
			openFor[tg] = append(openFor[tg], p)
			heads[p.Head] = true
		}
	}
	mainSHA, _ := w.repo.BranchSHA("main")

	// Renders are cached by commit and target: many statuses name the same PR.
	renders := map[string]*report.Desired{}
	render := func(sha string, c propCmd) *report.Desired {
		key := sha + " " + c.target()
		if d, ok := renders[key]; ok {
			return d
		}
		d, err := report.ReadDesired(ctx, cfg, propSnapshot{sha: sha, files: w.repo.Files(sha)}, c.service, c.env)
		if err != nil {
			badf("rendering %s at %.7s: %v", c.target(), sha, err)
		}
		renders[key] = d
		return d
	}

	byRequest := statusMarkers(w, issues)
	for _, m := range byRequest[""] {
		badf("unparsable status marker in %s", m.State)
	}
	statuses := make([][]propMarker, len(cmds))
	requestOf := map[string]propCmd{}
	for i, c := range cmds {
		part := "/comment-" + strconv.FormatInt(c.comment, 10) + "/"
		for id, ms := range byRequest {
			if strings.Contains(id, part) {
				statuses[i] = append(statuses[i], ms...)
				requestOf[id] = c
			}
		}
	}

	states := map[string]int{}
	var unanswered, lost int
	for i, c := range cmds {
		// a. one status each, finished.
		ms := statuses[i]
		if len(ms) != 1 {
			badf("a: %s has %d status comments, want 1", c, len(ms))
			if len(ms) == 0 {
				unanswered++
				continue
			}
		}
		s := ms[0]
		states[s.State]++
		if s.State == "working" {
			badf("a: %s is still working", c)
			continue
		}
		if c.kind == "cancel" {
			if s.PR != 0 {
				checkPullState(badf, c, s, pulls)
			}
			continue
		}
		if c.refuse != "" && s.State != "refused" && s.State != "failed" {
			badf("%s is %s, but must be refused: %s", c, s.State, c.refuse)
		}
		switch s.State {
		case "open", "merged", "closed":
			if !checkPullState(badf, c, s, pulls) {
				if s.State != "closed" {
					lost++
				}
				continue
			}
			p := pulls[s.PR]
			if tg, _ := pullTarget(p.Head); tg != c.target() {
				badf("%s: %s in PR #%d, whose branch %s is for another target", c, s.State, s.PR, p.Head)
				continue
			}
			// b. the change is in the rendered head of its PR (and, merged config, on main).
			if s.State != "closed" {
				if d := render(p.HeadSHA, c); d != nil && !hasEffect(d, c) {
					badf("b: %s is %s in PR #%d, but its head %.7s renders without it", c, s.State, s.PR, p.HeadSHA)
					lost++
				}
			}
			if s.State == "merged" && c.kind == "config" {
				if d := render(mainSHA, c); d != nil && !hasEffect(d, c) {
					badf("c: %s is merged in PR #%d, but main renders without it", c, s.PR)
					lost++
				}
			}
			// e. and that PR is the target's open one.
			if open := openFor[c.target()]; s.State == "open" && len(open) == 1 && open[0].Number != s.PR {
				badf("e: %s is open in PR #%d, but %s's open PR is #%d", c, s.PR, c.target(), open[0].Number)
			}
		case "overridden":
			// By names a request setting the same field of the same target (the last writer
			// may have set it back to this value).
			by, ok := requestOf[s.By]
			switch {
			case c.kind == "config":
				badf("%s is overridden (by %q), but no other command sets its key", c, s.By)
			case s.By == "":
			case !ok:
				badf("%s is overridden by %q, not a request of this run", c, s.By)
			case by.kind != c.kind || by.target() != c.target() || by.comment == c.comment:
				badf("%s is overridden by %s, which does not set its field", c, by)
			}
		case "refused", "failed":
		default:
			badf("a: %s has state %q, not one a change ends in", c, s.State)
		}
		// A unique key or tag that was not carried out is nowhere: not on main, not in a PR.
		if (s.State == "closed" || s.State == "refused" || s.State == "failed") && c.kind != "scale" {
			var with []string
			if d := render(mainSHA, c); d != nil && hasEffect(d, c) {
				with = append(with, "main")
			}
			for _, p := range landed[c.target()] {
				if d := render(p.HeadSHA, c); d != nil && hasEffect(d, c) {
					with = append(with, fmt.Sprintf("PR #%d (%s)", p.Number, pullState(p)))
				}
			}
			if len(with) > 0 {
				badf("%s is %s, but it is in %s", c, s.State, strings.Join(with, ", "))
			}
		}
	}

	// d. one open PR per target, each carrying a request in state open, and no daytwo
	// branch without an open PR.
	named := map[int]bool{}
	for _, ms := range byRequest {
		for _, s := range ms {
			if s.State == "open" {
				named[s.PR] = true
			}
		}
	}
	var open int
	for _, tg := range slices.Sorted(maps.Keys(openFor)) {
		ps := openFor[tg]
		open += len(ps)
		if len(ps) > 1 {
			var ns []string
			for _, p := range ps {
				ns = append(ns, "#"+strconv.Itoa(p.Number))
			}
			badf("d: %s has %d open PRs: %s", tg, len(ps), strings.Join(ns, " "))
		}
		for _, p := range ps {
			if !named[p.Number] {
				badf("d: open PR #%d (%s) carries no request in state open", p.Number, p.Head)
			}
		}
	}
	for _, b := range w.daytwoBranches() {
		if !heads[b] {
			badf("d: branch %s has no open PR", b)
		}
	}

	var sum []string
	for _, k := range slices.Sorted(maps.Keys(states)) {
		sum = append(sum, fmt.Sprintf("%d %s", states[k], k))
	}
	if len(sum) == 0 {
		sum = []string{"no status"}
	}
	t.Logf("%d commands: %s; %d unanswered, %d lost; %d open PRs, %d PRs in all; %d violations",
		len(cmds), strings.Join(sum, ", "), unanswered, lost, open, len(pulls), len(bad))
	return bad
}

// checkPullState checks c. that the PR a status names is in the state it says.
func checkPullState(badf func(string, ...any), c propCmd, s propMarker, pulls map[int]githubtest.Pull) bool {
	p, ok := pulls[s.PR]
	switch {
	case !ok:
		badf("c: %s is %s in PR #%d, which does not exist", c, s.State, s.PR)
	case s.State == "open" && p.State != "open",
		s.State == "merged" && !p.Merged,
		s.State == "closed" && (p.State != "closed" || p.Merged):
		badf("c: %s is %s in PR #%d, which is %s", c, s.State, s.PR, pullState(p))
	default:
		return true
	}
	return false
}

func pullState(p githubtest.Pull) string {
	if p.Merged {
		return "merged"
	}
	return p.State
}

// pullTarget is "<env>/<service>" of a daytwo branch daytwo/<env>/<service>/….
func pullTarget(branch string) (string, bool) {
	parts := strings.SplitN(branch, "/", 4)
	if len(parts) < 4 || parts[0] != "daytwo" {
		return "", false
	}
	return parts[1] + "/" + parts[2], true
}

// hasEffect reports whether the render shows what c asked for.
func hasEffect(d *report.Desired, c propCmd) bool {
	switch c.kind {
	case "config":
		k, v, _ := strings.Cut(c.value, "=")
		got, ok := d.Config[c.service+"-config/"+k]
		return ok && got == v
	case "scale":
		for _, wl := range d.Workloads {
			if wl.Name == c.service && wl.Replicas != nil && strconv.Itoa(*wl.Replicas) == c.value {
				return true
			}
		}
	case "image":
		for _, ct := range d.Containers {
			if ct.Name == c.service && strings.HasSuffix(ct.Image, ":"+c.value) {
				return true
			}
		}
	}
	return false
}

// propSnapshot is a commit's files, for report.ReadDesired (which renders with krusty in memory).
type propSnapshot struct {
	sha   string
	files map[string]string
}

func (s propSnapshot) Commit() string { return s.sha }

func (s propSnapshot) ReadFile(_ context.Context, p string) ([]byte, error) {
	if b, ok := s.files[path.Clean(p)]; ok {
		return []byte(b), nil
	}
	return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

func (s propSnapshot) ReadDir(_ context.Context, p string) ([]string, error) {
	prefix := path.Clean(p) + "/"
	if prefix == "./" {
		prefix = ""
	}
	seen := map[string]bool{}
	for f := range s.files {
		if rest, ok := strings.CutPrefix(f, prefix); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				rest = rest[:i+1]
			}
			seen[rest] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// TestFinalStateChecker proves the checker on a hand-made final state: it accepts one that
// keeps the contract and reports each way of breaking it.
func TestFinalStateChecker(t *testing.T) {
	w := newWorld(t)
	n := w.repo.CreateIssue("alice", "day-2 request", "")
	var cmds []propCmd
	ask := func(kind, service, env, value, author string) propCmd {
		c := propCmd{kind: kind, service: service, env: env, value: value, author: author, issue: n, line: kind + " " + value}
		c.comment = w.repo.AddComment(n, author, c.line)
		cmds = append(cmds, c)
		return c
	}
	answer := func(c propCmd, state string, pr int, by string) {
		m, _ := json.Marshal(propMarker{Request: fmt.Sprintf("acme/gitops#%d/comment-%d/1", n, c.comment), State: state, PR: pr, By: by})
		w.repo.AddComment(n, w.GH.BotLogin(), "status\n\n<!-- daytwo-status: "+string(m)+" -->\n")
	}
	const kust = "apps/checkout/overlays/staging/kustomization.yaml"
	base, _ := w.repo.File("main", kust)
	changed := strings.Replace(base, "count: 2", "count: 4", 1)
	changed = strings.Replace(changed, "- FEATURE_EXPRESS_CHECKOUT=true", "- FEATURE_EXPRESS_CHECKOUT=true\n      - K1=v1", 1)
	w.repo.Commit("daytwo/staging/checkout/config-1", "change", map[string]string{kust: changed})
	pr := w.repo.OpenPull(w.GH.BotLogin(), "daytwo/staging/checkout/config-1", "main", "checkout/staging", "")

	answer(ask("config", "checkout", "staging", "K1=v1", "alice"), "open", pr, "")
	scale4 := ask("scale", "checkout", "staging", "4", "alice")
	answer(scale4, "open", pr, "")
	answer(ask("scale", "checkout", "staging", "3", "alice"), "overridden", pr, fmt.Sprintf("acme/gitops#%d/comment-%d/1", n, scale4.comment))
	rita := ask("config", "catalog", "dev", "K4=v4", "rita")
	rita.refuse = "read permission"
	cmds[len(cmds)-1] = rita
	answer(rita, "refused", 0, "")
	answer(ask("image", "checkout", "dev", "9.5.0", "alice"), "failed", 0, "")
	if bad := checkFinalState(t, w, cmds, []int{n}); len(bad) != 0 {
		t.Fatalf("a state that keeps the contract was reported:\n%s", strings.Join(bad, "\n"))
	}

	// Break it: a change answered "open" that its PR lacks, one answered twice, one not
	// answered, one "merged" in a PR still open, a refusal carried out, a branch without a PR.
	answer(ask("config", "checkout", "staging", "K6=v6", "alice"), "open", pr, "")
	twice := ask("image", "catalog", "staging", "9.7.0", "alice")
	answer(twice, "failed", 0, "")
	answer(twice, "failed", 0, "")
	ask("scale", "catalog", "dev", "2", "alice")
	answer(ask("config", "checkout", "staging", "K1=v1", "alice"), "merged", pr, "")
	answer(ask("scale", "checkout", "staging", "4", "rita"), "open", pr, "")
	cmds[len(cmds)-1].refuse = "read permission"
	w.repo.Commit("daytwo/dev/catalog/restart-1", "stray", map[string]string{"x": "y"})
	want := [][2]string{ // invariant, text
		{"b: ", `(alice) "config K6=v6" is open in PR #2, but its head`},
		{"a: ", `(alice) "image 9.7.0" has 2 status comments`},
		{"a: ", `(alice) "scale 2" has 0 status comments`},
		{"c: ", `(alice) "config K1=v1" is merged in PR #2, which is open`},
		{"#", `(rita) "scale 4" is open, but must be refused`},
		{"d: ", "branch daytwo/dev/catalog/restart-1 has no open PR"},
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
