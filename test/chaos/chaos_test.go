//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/daytwo-dev/daytwo/internal/apptest"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
)

const (
	numCommands = 200
	numIssues   = 10
	numReplicas = 3
	numSenders  = 6
	// meanGap is the mean time between two commands: 200 commands take about 100 s.
	meanGap = 500 * time.Millisecond
	// settleTimeout bounds the wait, once the load and the chaos stop, for daytwo to finish.
	settleTimeout = 2 * time.Minute
	secret        = "chaos-webhook-secret"
	// The journal's keys under daytwo's default prefix (docs/replicas.md, "Keys").
	journalKey = "daytwo:journal"
	deadKey    = "daytwo:dead"
	group      = "workers"
)

// target is a service in an environment, who may change it, and the replica counts the
// environment allows (examples/gitops/.github/daytwo.yml).
type target struct {
	service, env string
	changer      string // config and image changes
	scaler       string // scale
	min, max     int
}

// targets are the example's 9: 3 services × dev, staging and prod. dev and staging take
// changes from anyone with write (alice); prod's need maintain (mo), and its scaling the
// acme/sre team (sam). dev auto-merges; staging and prod PRs stay open (prod needs approval).
func targets() []target {
	var out []target
	for _, env := range []struct {
		name             string
		changer, scaler  string
		minimum, maximum int
	}{{"dev", "alice", "alice", 1, 3}, {"staging", "alice", "alice", 1, 6}, {"prod", "mo", "sam", 2, 8}} {
		for _, svc := range []string{"checkout", "catalog", "payments"} {
			out = append(out, target{service: svc, env: env.name, changer: env.changer, scaler: env.scaler, min: env.minimum, max: env.maximum})
		}
	}
	return out
}

// delivery is one webhook the test sends.
type delivery struct {
	cmd     int
	id      string
	payload []byte
	to      int    // replica index, or -1: through the proxy
	kind    string // first, same-id, new-id
	tries   int
}

// TestChaos is the issue's chaos test; see the package comment.
func TestChaos(t *testing.T) {
	seed := time.Now().UnixNano() % 1_000_000
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("chaos: seed %d (CHAOS_SEED=%d make chaos runs these commands, repeats, faults and kills again; timing still varies)", seed, seed)
	// CHAOS_KILLS=off keeps the replicas alive (Redis still restarts, faults still come):
	// a control run, to tell what the kills break from the rest.
	killing := os.Getenv("CHAOS_KILLS") != "off"
	if !killing {
		t.Logf("chaos: CHAOS_KILLS=off: no replica is killed")
	}
	loadRng := rand.New(rand.NewPCG(uint64(seed), 1))
	chaosRng := rand.New(rand.NewPCG(uint64(seed), 2))
	start := time.Now()

	// CHAOS_DIR keeps the logs (replica-N.log, redis.log) after the run.
	dir := os.Getenv("CHAOS_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "daytwo")

	// The test GitHub, seeded as internal/ops's end-to-end tests seed it. Its rate budget is
	// out of the way: the rate limits daytwo meets are the injected ones.
	gh := githubtest.New(t, githubtest.WithWebhookSecret(secret), githubtest.WithRateLimit(1_000_000))
	repo := seedGitHub(gh)

	// Runs after every process is stopped (cleanups run last registered first).
	var redisPattern string
	t.Cleanup(func() {
		for _, pat := range []string{bin + " serve", redisPattern} {
			if left := leftovers(pat); pat != "" && left != "" {
				t.Errorf("processes left running (%q):\n%s", pat, left)
			}
		}
	})

	build := exec.Command("go", "build", "-ldflags", "-s -w", "-o", bin, "./cmd/app")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/app: %v\n%s", err, out)
	}
	rds := startRedis(t, dir)
	redisPattern = "redis-server " + rds.addr()
	cl := newCluster(t, dir, bin, numReplicas, map[string]string{
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_WEBHOOK_SECRET": secret,
		"GITHUB_APP_PRIVATE_KEY":    string(gh.PrivateKeyPEM()),
		"GITHUB_V3_API_URL":         gh.V3URL(),
		"GITHUB_V4_API_URL":         gh.V4URL(),
		"DAYTWO_REDIS_URL":          "redis://" + rds.addr() + "/0",
		"DAYTWO_LOG_LEVEL":          "debug",
	})
	px := newProxy(cl.replicas)
	front := httptest.NewServer(px)
	t.Cleanup(front.Close)
	rc := redis.NewClient(&redis.Options{Addr: rds.addr()})
	t.Cleanup(func() { rc.Close() })
	t.Logf("chaos: %d replicas of %s on Redis %s behind %s; setup took %s", numReplicas, bin, rds.addr(), front.URL,
		time.Since(start).Round(100*time.Millisecond))

	var issues []int
	for i := range numIssues {
		issues = append(issues, repo.CreateIssue("alice", fmt.Sprintf("day-2 requests, batch %d", i+1), ""))
	}
	cmds := drawCommands(loadRng, issues)

	loadStart := time.Now()
	// What the test sent and saw, by command.
	var (
		mu        sync.Mutex
		byComment = map[int64]int{}
		sentAt    = make([]time.Time, len(cmds)) // first delivery sent
		prAt      = make([]time.Time, len(cmds)) // status first open or merged
		ids       = make([][]string, len(cmds))  // delivery ids
	)
	s := newSender(gh, front.URL+"/api/github/hook", cl.replicas, func(d delivery) {
		mu.Lock()
		if d.kind == "first" && sentAt[d.cmd].IsZero() {
			sentAt[d.cmd] = time.Now()
		}
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for range numSenders {
		go s.work(ctx)
	}

	// The latency poller: when each status first says open or merged.
	pollDone := make(chan struct{})
	stopPoll := make(chan struct{})
	go func() {
		defer close(pollDone)
		for {
			select {
			case <-stopPoll:
				return
			case <-time.After(200 * time.Millisecond):
			}
			now := time.Now()
			marks := apptest.StatusMarks(gh, repo, issues)
			mu.Lock()
			for req, ms := range marks {
				i, ok := byComment[apptest.RequestComment(req)]
				if !ok || !prAt[i].IsZero() {
					continue
				}
				for _, m := range ms {
					if m.State == "open" || m.State == "merged" {
						prAt[i] = now
					}
				}
			}
			mu.Unlock()
		}
	}()

	// The chaos: a replica (sometimes two, or all three) killed with SIGKILL every few
	// seconds and started again on its port; Redis crashed and restarted once, halfway.
	var (
		issued         atomic.Int64
		redisRestarts  int
		chaosErrs      []string
		chaosDone      = make(chan struct{})
		chaosCtx, halt = context.WithCancel(ctx)
	)
	go func() {
		defer close(chaosDone)
		for {
			select {
			case <-chaosCtx.Done():
				return
			case <-time.After(2*time.Second + time.Duration(chaosRng.IntN(3000))*time.Millisecond):
			}
			if err := cl.heal(); err != nil {
				chaosErrs = append(chaosErrs, err.Error())
			}
			if redisRestarts == 0 && issued.Load() >= numCommands/2 {
				rds.crash()
				time.Sleep(time.Second + time.Duration(chaosRng.IntN(1000))*time.Millisecond)
				if err := rds.start(); err != nil {
					chaosErrs = append(chaosErrs, err.Error())
				}
				redisRestarts++
				continue
			}
			if !killing {
				continue
			}
			k := 1
			switch n := chaosRng.IntN(10); {
			case n == 9:
				k = 3
			case n >= 7:
				k = 2
			}
			for _, i := range chaosRng.Perm(numReplicas)[:k] {
				cl.kill(cl.replicas[i])
			}
			time.Sleep(300*time.Millisecond + time.Duration(chaosRng.IntN(1700))*time.Millisecond)
			if err := cl.heal(); err != nil {
				chaosErrs = append(chaosErrs, err.Error())
			}
		}
	}()

	// The load: each command in a new comment, delivered through the proxy; some
	// delivered again a little later straight to a replica, under the same delivery id (a
	// replay, to another replica than the one that took the first) or under a new one
	// (another delivery of the same comment); GitHub faults now and then.
	var faults []string
	var sameIDs, newIDs int
	for i := range cmds {
		c := &cmds[i]
		c.Comment = repo.AddComment(c.Issue, c.Author, c.Line)
		mu.Lock()
		byComment[c.Comment] = i
		mu.Unlock()
		payload := repo.IssueCommentPayload(c.Comment)
		d := delivery{cmd: i, id: githubtest.NewDeliveryID(), payload: payload, to: -1, kind: "first"}
		mu.Lock()
		ids[i] = append(ids[i], d.id)
		mu.Unlock()
		s.send(d, 0)
		if loadRng.IntN(5) == 0 {
			s.send(delivery{cmd: i, id: d.id, payload: payload, to: loadRng.IntN(numReplicas), kind: "same-id"},
				500*time.Millisecond+time.Duration(loadRng.IntN(4500))*time.Millisecond)
			sameIDs++
		}
		if loadRng.IntN(6) == 0 {
			r := delivery{cmd: i, id: githubtest.NewDeliveryID(), payload: payload, to: loadRng.IntN(numReplicas), kind: "new-id"}
			mu.Lock()
			ids[i] = append(ids[i], r.id)
			mu.Unlock()
			s.send(r, 500*time.Millisecond+time.Duration(loadRng.IntN(4500))*time.Millisecond)
			newIDs++
		}
		if loadRng.IntN(5) == 0 {
			faults = append(faults, injectFault(loadRng, gh))
		}
		issued.Add(1)
		time.Sleep(time.Duration(loadRng.Int64N(int64(2 * meanGap))))
	}
	loadTook := time.Since(loadStart)

	// Stop the chaos with every replica up, clear the faults, and wait for daytwo to finish.
	halt()
	<-chaosDone
	if err := cl.heal(); err != nil {
		t.Errorf("restarting the replicas: %v", err)
	}
	gh.ClearFaults()
	settleStart := time.Now()
	settled, why := settle(gh, repo, rc, s, cmds, issues)
	settleTook := time.Since(settleStart)
	close(stopPoll)
	<-pollDone
	cancel()

	// The verdict, from GitHub's final state.
	o := apptest.CheckFinalState(gh, repo, cmds, issues)
	kills, restarts, unexpected := cl.figures()
	st := s.figures()
	var latencies []time.Duration
	mu.Lock()
	for i := range cmds {
		if !prAt[i].IsZero() && !sentAt[i].IsZero() {
			latencies = append(latencies, prAt[i].Sub(sentAt[i]))
		}
	}
	mu.Unlock()
	slices.Sort(latencies)
	deadLetters := readDeadLetters(rc)

	verdict := "finished"
	if !settled {
		verdict = "NOT finished"
	}
	t.Logf("chaos: seed %d: %d commands on %d targets from %d issues; load %s; daytwo %s %s after it",
		seed, len(cmds), len(targets()), len(issues), loadTook.Round(time.Second), verdict, settleTook.Round(100*time.Millisecond))
	t.Logf("chaos: %d kills (SIGKILL) and %d restarts of replicas, %d Redis restart (AOF on); proxy: %d forwarded, %d connections refused, %d broken, %d times all replicas refused",
		kills, restarts, redisRestarts, px.forwarded.Load(), px.refused.Load(), px.broken.Load(), px.allRefused.Load())
	t.Logf("chaos: %d deliveries sent (%d first, %d same-id repeats, %d new-id repeats to a replica directly); %d not accepted and sent again",
		st.attempts, len(cmds), sameIDs, newIDs, st.failed)
	t.Logf("chaos: %d faults: %s", len(faults), strings.Join(faults, ", "))
	t.Logf("chaos: %s", o)
	t.Logf("chaos: %d commands lost, %d acted on twice (%d requests carried out twice, %d commands with several status comments), %d duplicate open PRs, %d orphan daytwo/* branches, %d dead letters",
		o.Lost, o.Twice+o.ManyStatuses, o.Twice, o.ManyStatuses, o.DuplicateOpen, o.Orphans, len(deadLetters))
	if n := len(latencies); n > 0 {
		t.Logf("chaos: comment → PR (first delivery sent → status open or merged, polled every 200 ms) over %d commands: p50 %s, p99 %s, max %s",
			n, pct(latencies, 50), pct(latencies, 99), latencies[n-1].Round(10*time.Millisecond))
	}

	logs := []string{rds.log}
	for _, r := range cl.replicas {
		logs = append(logs, r.log)
	}
	if !settled {
		t.Errorf("daytwo did not finish within %s of the load's end: %s", settleTimeout, why)
	}
	for _, e := range chaosErrs {
		t.Errorf("chaos: %s", e)
	}
	for _, u := range unexpected {
		t.Errorf("%s", u)
	}
	for _, e := range st.notAccepted {
		t.Errorf("never accepted: %s", e)
	}
	for _, d := range deadLetters {
		t.Errorf("dead letter: %s", d)
	}
	commentRE := regexp.MustCompile(`comment (\d+) `)
	for _, v := range o.Violations {
		t.Errorf("%s", v)
		// What the replicas logged about the command.
		if m := commentRE.FindStringSubmatch(v); m != nil {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			mu.Lock()
			needles := append([]string{"comment-" + m[1] + "/"}, ids[byComment[id]]...)
			mu.Unlock()
			t.Logf("logs of comment %s:\n%s", m[1], strings.Join(grepLogs(logs, needles, 40), "\n"))
		}
	}
	for _, p := range logs {
		if panics := grepLogs([]string{p}, []string{"panic:", "fatal error:"}, 5); len(panics) > 0 {
			t.Errorf("%s panicked:\n%s", filepath.Base(p), strings.Join(panics, "\n"))
		}
	}
	if t.Failed() {
		for _, p := range logs {
			t.Logf("the end of %s:\n%s", filepath.Base(p), tail(p, 12))
		}
	}
	t.Logf("chaos: seed %d done in %s", seed, time.Since(start).Round(time.Second))
}

// drawCommands draws the commands: on the 9 targets, from the issues, mostly config keys (unique,
// so each is checkable on its own), some scales within the environment's bounds, some
// image tags (unique), and a few by rita, who may only read, which must be refused.
func drawCommands(rng *rand.Rand, issues []int) []apptest.Cmd {
	tgs := targets()
	cmds := make([]apptest.Cmd, numCommands)
	for i := range cmds {
		tg := tgs[rng.IntN(len(tgs))]
		c := apptest.Cmd{Issue: issues[rng.IntN(len(issues))], Service: tg.service, Env: tg.env, Author: tg.changer}
		switch k := rng.IntN(20); {
		case k < 13:
			c.Kind, c.Value = "config", fmt.Sprintf("K%d=v%d", i, i)
			c.Line = "/config set " + c.Value
		case k < 16:
			c.Kind, c.Value, c.Author = "scale", strconv.Itoa(tg.min+rng.IntN(tg.max-tg.min+1)), tg.scaler
			c.Line = "/scale " + c.Value
		case k < 19:
			c.Kind, c.Value = "image", fmt.Sprintf("9.%d.0", i) // no example runs 9.x
			c.Line = "/set-image " + c.Value
		default:
			c.Kind, c.Value, c.Author = "config", fmt.Sprintf("K%d=v%d", i, i), "rita"
			c.Line, c.Refuse = "/config set "+c.Value, "rita has read permission"
		}
		c.Line += " --service " + c.Service + " --env " + c.Env
		cmds[i] = c
	}
	return cmds
}

// seedGitHub puts the example GitOps repository and its people on the test GitHub, as
// internal/ops's seedWorld does: alice (write), mo (maintain), sam (write, member of
// acme/sre), rita (read), and the teams the CODEOWNERS name, with write access.
func seedGitHub(gh *githubtest.Server) *githubtest.Repo {
	repo := gh.CreateRepo("acme", "gitops")
	repo.SeedDir(repo.DefaultBranch(), "../../examples/gitops")
	gh.Install("acme")
	repo.SetPermission("alice", githubtest.RoleWrite)
	repo.SetPermission("mo", githubtest.RoleMaintain)
	repo.SetPermission("sam", githubtest.RoleWrite)
	repo.SetPermission("rita", githubtest.RoleRead)
	gh.AddTeamMember("acme", "sre", "sam", "member", "active")
	for _, team := range []string{"platform", "checkout-team", "catalog-team", "payments-team"} {
		gh.AddTeamMember("acme", team, team+"-lead", "maintainer", "active")
	}
	// The code owners' teams can review: GitHub asks only teams with access to the repository.
	for _, team := range []string{"platform", "sre", "checkout-team", "catalog-team", "payments-team"} {
		repo.SetTeamPermission(team, githubtest.RoleWrite)
	}
	return repo
}

var (
	graphQLOps = []string{"*", "daytwoAck", "daytwoDefaultBranch", "daytwoPrefetch", "daytwoChange", "daytwoFinish"}
	restPaths  = []string{"/repos/acme/gitops/...", "/repos/acme/gitops/collaborators/*/permission",
		"/repos/acme/gitops/issues/...", "/repos/acme/gitops/pulls/...", "/repos/acme/gitops/git/...",
		"/app/installations/*/access_tokens"}
)

// injectFault adds one fault on a REST path or a GraphQL operation and describes it: a
// 5xx once, one done but its answer lost, a rate limit (secondary with retry-after, primary
// until a reset 2-4 s away, 429 with Retry-After), or 3 s delays.
func injectFault(rng *rand.Rand, gh *githubtest.Server) string {
	method, pattern := "*", restPaths[rng.IntN(len(restPaths))]
	if rng.IntN(2) == 0 {
		method, pattern = "POST", "/api/graphql/"+graphQLOps[rng.IntN(len(graphQLOps))]
	}
	var f githubtest.Fault
	var what string
	switch rng.IntN(7) {
	case 0:
		f, what = githubtest.Fault{Status: 502, Times: 1}, "502"
	case 1:
		f, what = githubtest.Fault{Status: 500, Times: 1}, "500"
	case 2:
		f, what = githubtest.Fault{Status: 502, Times: 1, Lost: true}, "502 after doing it"
	case 3:
		d := time.Duration(1+rng.IntN(2)) * time.Second
		f, what = githubtest.SecondaryRateLimit(d, 1), fmt.Sprintf("403 secondary limit (retry-after %s)", d)
	case 4:
		d := time.Duration(2+rng.IntN(3)) * time.Second
		f, what = githubtest.PrimaryRateLimit(time.Now().Add(d), 1), fmt.Sprintf("403 primary limit (reset in %s)", d)
	case 5:
		d := 1 + rng.IntN(2)
		f = githubtest.Fault{Status: 429, Times: 1, Headers: map[string]string{"Retry-After": strconv.Itoa(d)}}
		what = fmt.Sprintf("429 (Retry-After %d)", d)
	default:
		f = githubtest.Fault{Delay: 3 * time.Second, Times: 1 + rng.IntN(3)}
		what = fmt.Sprintf("3s delay ×%d", f.Times)
	}
	gh.Fault(method, pattern, f)
	return what + " on " + pattern
}

// settle waits until every delivery was accepted, the journal is empty with nothing
// pending, every command has a status and none says working, and GitHub has seen no
// request for 2 s. It reports whether that happened within settleTimeout, and if not, why.
func settle(gh *githubtest.Server, repo *githubtest.Repo, rc *redis.Client, s *sender, cmds []apptest.Cmd, issues []int) (bool, string) {
	deadline := time.Now().Add(settleTimeout)
	last, since := -1, time.Now()
	why := ""
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		n := gh.CountRequests("", "")
		if n != last {
			last, since = n, time.Now()
			why = "GitHub is still asked"
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		length, lerr := rc.XLen(ctx, journalKey).Result()
		pending, perr := rc.XPending(ctx, journalKey, group).Result()
		cancel()
		var waiting []string
		marks := apptest.StatusMarks(gh, repo, issues)
		answered := map[int64]bool{}
		for req, ms := range marks {
			for _, m := range ms {
				if m.State != "working" {
					answered[apptest.RequestComment(req)] = true
				}
			}
		}
		for _, c := range cmds {
			if !answered[c.Comment] {
				waiting = append(waiting, c.String())
			}
		}
		out := s.outstanding.Load()
		switch {
		case out > 0:
			why = fmt.Sprintf("%d deliveries not accepted yet", out)
		case lerr != nil || perr != nil:
			why = fmt.Sprintf("cannot read the journal: %v %v", lerr, perr)
		case length > 0 || pending.Count > 0:
			why = fmt.Sprintf("the journal holds %d deliveries, %d pending (by consumer %v)", length, pending.Count, pending.Consumers)
		case len(waiting) > 0:
			why = fmt.Sprintf("%d commands without a final status: %s", len(waiting), strings.Join(waiting[:min(len(waiting), 10)], "; "))
		case time.Since(since) < 2*time.Second:
			why = "GitHub was asked less than 2 s ago"
		default:
			return true, ""
		}
	}
	return false, why
}

// readDeadLetters describes the dead letters daytwo set aside.
func readDeadLetters(rc *redis.Client) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := rc.XRange(ctx, deadKey, "-", "+").Result()
	if err != nil {
		return []string{"cannot read the dead letters: " + err.Error()}
	}
	var out []string
	for _, m := range msgs {
		out = append(out, fmt.Sprintf("delivery %v (%v attempts, consumer %v): %v", m.Values["id"], m.Values["attempts"], m.Values["consumer"], m.Values["why"]))
	}
	return out
}

// pct is the p-th percentile (nearest rank) of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)].Round(10 * time.Millisecond)
}

// ---- sending webhooks ----

// sender delivers webhooks as GitHub does, from a few workers at once. A delivery that is
// not accepted (refused, 5xx, no answer) is sent again 2-4 s later through the proxy, under
// the same delivery id: that is what GitHub's redelivery does when daytwo's leader sweeps
// the failed deliveries, but its first sweep waits 5 minutes, longer than this test, so
// the test stands in for it.
type sender struct {
	gh       *githubtest.Server
	hook     string
	replicas []*replica
	sent     func(delivery)
	jobs     chan delivery

	outstanding atomic.Int64 // deliveries not accepted yet

	mu          sync.Mutex
	took        map[string]int // delivery id → the replica that accepted it
	attempts    int
	failed      int
	notAccepted []string
}

type sendFigures struct {
	attempts, failed int
	notAccepted      []string
}

func newSender(gh *githubtest.Server, hook string, replicas []*replica, sent func(delivery)) *sender {
	return &sender{gh: gh, hook: hook, replicas: replicas, sent: sent, jobs: make(chan delivery, 4096), took: map[string]int{}}
}

// send queues d after a while.
func (s *sender) send(d delivery, after time.Duration) {
	s.outstanding.Add(1)
	if after <= 0 {
		s.jobs <- d
		return
	}
	time.AfterFunc(after, func() { s.jobs <- d })
}

func (s *sender) work(ctx context.Context) {
	for {
		var d delivery
		select {
		case <-ctx.Done():
			return
		case d = <-s.jobs:
		}
		s.mu.Lock()
		if took, ok := s.took[d.id]; ok && d.kind == "same-id" && d.tries == 0 && d.to == took {
			d.to = (d.to + 1) % len(s.replicas) // a replay goes to another replica than the first
		}
		s.mu.Unlock()
		url := s.hook
		if d.to >= 0 {
			url = s.replicas[d.to].url() + "/api/github/hook"
		}
		s.sent(d)
		d.tries++
		res, err := s.gh.SendWebhookWithDelivery(url, "issue_comment", d.id, d.payload)
		status, by := 0, ""
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			status, by = res.StatusCode, res.Header.Get("X-Chaos-Replica")
		}
		s.mu.Lock()
		s.attempts++
		ok := err == nil && status >= 200 && status < 300
		if !ok {
			s.failed++
		}
		for i, r := range s.replicas {
			if ok && (r.name == by || d.to == i) {
				s.took[d.id] = i
			}
		}
		s.mu.Unlock()
		if ok {
			s.outstanding.Add(-1)
			continue
		}
		if d.tries >= 60 {
			s.mu.Lock()
			s.notAccepted = append(s.notAccepted, fmt.Sprintf("delivery %s (%s) of command %d, %d tries, last: %d %v", d.id, d.kind, d.cmd, d.tries, status, err))
			s.mu.Unlock()
			s.outstanding.Add(-1)
			continue
		}
		d.to = -1 // GitHub redelivers to the app's URL
		time.AfterFunc(2*time.Second+time.Duration(rand.IntN(2000))*time.Millisecond, func() { s.jobs <- d })
	}
}

func (s *sender) figures() sendFigures {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sendFigures{attempts: s.attempts, failed: s.failed, notAccepted: append([]string(nil), s.notAccepted...)}
}
