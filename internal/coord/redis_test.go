package coord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"
	"github.com/redis/go-redis/v9"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/coord/redistest"
)

// The behaviour tests run against miniredis and, when redis-server is on PATH, against a
// real one each (a fresh server per test). Short real durations drive them; with miniredis,
// whose keys expire only when told, elapse also moves its clock (FastForward) step by step,
// so TTLs run out exactly where a real server's would. Idle times of stream entries follow
// the wall clock in both.

const testTTL = 600 * time.Millisecond

var testTiming = Timing{LockTTL: testTTL, LeaseTTL: testTTL, ClaimIdle: testTTL}

type backend struct {
	name    string
	mini    *miniredis.Miniredis // nil: a real redis-server
	network string               // how to reach it: "tcp" or "unix"
	addr    string
	raw     *redis.Client // for looking behind the API
}

func (b *backend) cfg() config.Redis {
	if b.network == "unix" {
		return config.Redis{URL: "unix://" + b.addr}
	}
	return config.Redis{Address: b.addr}
}

// elapse lets d pass, for the server's clock too.
func (b *backend) elapse(d time.Duration) {
	if b.mini == nil {
		time.Sleep(d)
		return
	}
	const step = 20 * time.Millisecond
	for d > 0 {
		s := min(step, d)
		time.Sleep(s)
		b.mini.FastForward(s)
		d -= s
	}
}

// expire makes key's TTL run out now: as if ttl passed with nobody renewing it.
func (b *backend) expire(t *testing.T, key string, ttl time.Duration) {
	t.Helper()
	if b.mini != nil {
		b.mini.FastForward(ttl)
	} else if err := b.raw.PExpire(context.Background(), key, time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if n, _ := b.raw.Exists(context.Background(), key).Result(); n != 0 {
		t.Fatalf("%s did not expire", key)
	}
}

// waitFor polls cond while time elapses, up to limit; it returns how long it took.
func (b *backend) waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		b.elapse(10 * time.Millisecond)
	}
	return time.Since(start)
}

// infoServer answers INFO server, which miniredis lacks, as a Redis of version v would.
func infoServer(v string) server.Hook {
	return func(c *server.Peer, cmd string, args ...string) bool {
		if cmd == "INFO" && len(args) == 1 && strings.EqualFold(args[0], "server") {
			c.WriteBulk("# Server\r\nredis_version:" + v + "\r\nredis_mode:standalone\r\n")
			return true
		}
		return false
	}
}

// miniVersion is what miniredis passes for. 6.2 rather than 7: miniredis's XINFO GROUPS
// reports the stream's length as every group's lag, so Stats must compute the lag as it
// does for 6.2 (entries less pending); the real server tests cover Redis 7's lag.
const miniVersion = "6.2.14"

func startMini(t *testing.T) *miniredis.Miniredis {
	t.Helper()
	m := miniredis.RunT(t)
	m.Server().SetPreHook(infoServer(miniVersion))
	return m
}

func miniBackend(t *testing.T) *backend {
	m := startMini(t)
	raw := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { raw.Close() })
	return &backend{name: "miniredis", mini: m, network: "tcp", addr: m.Addr(), raw: raw}
}

// redisServer is a real redis-server on a unix socket in dir.
type redisServer struct {
	*redistest.Server
	dir, sock string
	t         *testing.T
}

func startRedisServer(t *testing.T, extra ...string) *redisServer {
	t.Helper()
	s := redistest.Start(t, extra...)
	return &redisServer{Server: s, dir: s.Dir, sock: s.Sock, t: t}
}

func (s *redisServer) start(t *testing.T) { s.Restart(t) }

// kill ends the server at once, as a crash would: no shutdown save.
func (s *redisServer) kill() { s.Kill() }

func realBackend(t *testing.T) *backend {
	s := startRedisServer(t)
	raw := redis.NewClient(&redis.Options{Network: "unix", Addr: s.sock})
	t.Cleanup(func() { raw.Close() })
	return &backend{name: "redis-server", network: "unix", addr: s.sock, raw: raw}
}

// eachBackend runs f against miniredis, then against redis-server.
func eachBackend(t *testing.T, f func(t *testing.T, b *backend)) {
	t.Run("miniredis", func(t *testing.T) { f(t, miniBackend(t)) })
	t.Run("redis-server", func(t *testing.T) { f(t, realBackend(t)) })
}

// replica opens the API as one replica would, optionally through a proxy.
func replica(t *testing.T, b *backend, name string, p *proxy) *Redis {
	t.Helper()
	cfg := b.cfg()
	if p != nil {
		cfg = config.Redis{Address: p.addr()}
	}
	r, err := Open(context.Background(), cfg, name, testTiming)
	if err != nil {
		t.Fatal(err)
	}
	r.block = 100 * time.Millisecond // claims are looked for between blocked reads
	t.Cleanup(func() { r.Close() })
	return r
}

// proxy forwards TCP connections to the server; cut drops them and refuses new ones (a
// replica cut off from Redis: its renewals fail), restore lets them through again.
type proxy struct {
	ln              net.Listener
	network, target string
	mu              sync.Mutex
	conns           []net.Conn
	cut             bool
}

func newProxy(t *testing.T, b *backend) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, network: b.network, target: b.addr}
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			u, err := net.Dial(p.network, p.target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) setCut(v bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = v
	if v {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// ---- Journal ----

// The same delivery added twice, on two replicas, is recorded and handed out once.
func TestJournalDedupe(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		a, c := replica(t, b, "a", nil), replica(t, b, "c", nil)
		ctx := ctxFor(t, 10*time.Second)
		d := Delivery{ID: "guid-1", Event: "issue_comment", Payload: []byte(`{"x":1}`)}
		if added, err := a.Add(ctx, d); err != nil || !added {
			t.Fatalf("first add: %v %v", added, err)
		}
		if added, err := c.Add(ctx, d); err != nil || added {
			t.Fatalf("replay on another replica: added=%v err=%v", added, err)
		}
		if n := b.raw.XLen(ctx, "daytwo:journal").Val(); n != 1 {
			t.Fatalf("journal holds %d entries", n)
		}
		ttl := b.raw.PTTL(ctx, "daytwo:delivery:guid-1").Val()
		if ttl <= DefaultDedupeTTL-time.Minute || ttl > DefaultDedupeTTL {
			t.Fatalf("dedupe key TTL %s, want about %s", ttl, DefaultDedupeTTL)
		}
		got, err := a.Next(ctx)
		if err != nil || got.ID != "guid-1" {
			t.Fatalf("next: %+v %v", got, err)
		}
		if _, err := c.Next(ctxFor(t, 300*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the replay was handed out again: %v", err)
		}
	})
}

// Add, Next, Done: the delivery comes back whole, in order, once, and Done removes it.
// Next ends with ctx: at its deadline, and within one short block after a cancel.
func TestJournalRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		r := replica(t, b, "a", nil)
		ctx := ctxFor(t, 10*time.Second)
		binary := []byte{0, 1, 2, 0xff, '\n'}
		for i, p := range [][]byte{[]byte(`{"action":"created"}`), binary, nil} {
			if added, err := r.Add(ctx, Delivery{ID: fmt.Sprint("d", i), Event: "e", Payload: p}); err != nil || !added {
				t.Fatal(added, err)
			}
		}
		for i, p := range [][]byte{[]byte(`{"action":"created"}`), binary, nil} {
			d, err := r.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != fmt.Sprint("d", i) || d.Event != "e" || !bytes.Equal(d.Payload, p) || d.Attempts != 1 || d.Ref == "" {
				t.Fatalf("entry %d: %+v", i, d)
			}
			if err := r.Done(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		st, err := r.Stats(ctx)
		if err != nil || st.Length != 0 || st.Lag != 0 || len(st.Pending) != 0 {
			t.Fatalf("after Done: %+v %v", st, err)
		}

		start := time.Now()
		if _, err := r.Next(ctxFor(t, 250*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("empty journal: %v", err)
		}
		if el := time.Since(start); el > time.Second {
			t.Fatalf("Next overran its deadline by %s", el)
		}
		r.block = readBlock
		cctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start = time.Now()
		if _, err := r.Next(cctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v", err)
		}
		if el := time.Since(start); el > readBlock+time.Second {
			t.Fatalf("Next ended %s after its context", el)
		}
	})
}

// A consumer that takes an entry and dies: after ClaimIdle another takes it over, with
// Attempts 2, and can dead-letter it. A live consumer keeps its entry however long it works.
func TestJournalClaimAndDead(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		a, c := replica(t, b, "a", nil), replica(t, b, "c", nil)
		ctx := ctxFor(t, 20*time.Second)
		for _, id := range []string{"slow", "lost"} {
			if _, err := a.Add(ctx, Delivery{ID: id, Event: "e", Payload: []byte(id)}); err != nil {
				t.Fatal(err)
			}
		}
		slow, err := a.Next(ctx)
		if err != nil || slow.ID != "slow" {
			t.Fatal(slow, err)
		}
		// a is alive and busy with slow for three claim periods: c must not take it.
		if d, err := c.Next(ctxFor(t, 3*testTTL)); d.ID != "lost" || err != nil {
			t.Fatalf("c got %+v %v, want the fresh entry only", d, err)
		}
		if _, err := c.Next(ctxFor(t, 3*testTTL)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("c took a live consumer's entry: %v", err)
		}
		if err := a.Done(ctx, slow); err != nil {
			t.Fatal(err)
		}
		// c took "lost" and dies (no more renewals): a takes it over after ClaimIdle.
		c.Close()
		start := time.Now()
		d, err := a.Next(ctx)
		el := time.Since(start)
		if err != nil || d.ID != "lost" || string(d.Payload) != "lost" || d.Attempts != 2 {
			t.Fatalf("claimed: %+v %v", d, err)
		}
		if el < testTTL/2 || el > testTTL+time.Second {
			t.Fatalf("claimed after %s, ClaimIdle is %s", el, testTTL)
		}
		st, _ := a.Stats(ctx)
		if st.Pending["a"] != 1 || st.Pending["c"] != 0 {
			t.Fatalf("the claim did not move the entry to a: %+v", st)
		}
		// The claimed entry is a's now, and a's renewals keep it from a third replica.
		third := replica(t, b, "third", nil)
		if _, err := third.Next(ctxFor(t, 3*testTTL)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a live consumer's claimed entry was claimed again: %v", err)
		}
		if err := a.Dead(ctx, d, "failed twice"); err != nil {
			t.Fatal(err)
		}
		dead := b.raw.XRange(ctx, "daytwo:dead", "-", "+").Val()
		if len(dead) != 1 {
			t.Fatalf("dead letters: %v", dead)
		}
		v := dead[0].Values
		if v["id"] != "lost" || v["event"] != "e" || v["payload"] != "lost" || v["why"] != "failed twice" || v["attempts"] != "2" || v["ref"] != d.Ref {
			t.Fatalf("dead letter: %v", v)
		}
		st, err = a.Stats(ctx)
		if err != nil || st.Length != 0 || st.DeadLetters != 1 || len(st.Pending) != 0 {
			t.Fatalf("after Dead: %+v %v", st, err)
		}
		if _, err := a.Next(ctxFor(t, 2*testTTL)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a dead letter came back: %v", err)
		}
	})
}

func TestJournalStats(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		a, c := replica(t, b, "a", nil), replica(t, b, "c", nil)
		ctx := ctxFor(t, 10*time.Second)
		redisLag := 0
		want := func(what string, length, lag, dead int64, pending map[string]int64) {
			t.Helper()
			st, err := a.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Length != length || st.Lag != lag || st.DeadLetters != dead || fmt.Sprint(st.Pending) != fmt.Sprint(pending) {
				t.Fatalf("%s: %+v, want length %d lag %d dead %d pending %v", what, st, length, lag, dead, pending)
			}
			if b.mini == nil { // Redis 7 reports the lag itself; where it can, it agrees
				for _, g := range b.raw.XInfoGroups(ctx, "daytwo:journal").Val() {
					if g.Lag >= 0 {
						redisLag++
						if g.Lag != lag {
							t.Fatalf("%s: Redis says lag %d, want %d", what, g.Lag, lag)
						}
					}
				}
			}
		}
		defer func() {
			if b.mini == nil && redisLag == 0 {
				t.Error("Redis never reported the lag: only the fallback was tested")
			}
		}()
		want("empty", 0, 0, 0, map[string]int64{})
		for i := range 5 {
			if _, err := a.Add(ctx, Delivery{ID: fmt.Sprint(i), Event: "e"}); err != nil {
				t.Fatal(err)
			}
		}
		want("added", 5, 5, 0, map[string]int64{})
		a1, _ := a.Next(ctx)
		a2, _ := a.Next(ctx)
		c1, _ := c.Next(ctx)
		want("taken", 5, 2, 0, map[string]int64{"a": 2, "c": 1})
		if err := c.Dead(ctx, c1, "x"); err != nil {
			t.Fatal(err)
		}
		want("dead", 4, 2, 1, map[string]int64{"a": 2})
		if err := a.Done(ctx, a2); err != nil {
			t.Fatal(err)
		}
		want("done", 3, 2, 1, map[string]int64{"a": 1})
		_ = a.Done(ctx, a1)
		for range 2 {
			d, _ := c.Next(ctx)
			_ = c.Done(ctx, d)
		}
		want("all done", 0, 0, 1, map[string]int64{})
	})
}

// The journal's stream and group come back if Redis loses them (a restart without
// persistence): Next and Stats recreate them.
func TestJournalRecreatesLostGroup(t *testing.T) {
	b := miniBackend(t)
	r := replica(t, b, "a", nil)
	ctx := ctxFor(t, 5*time.Second)
	b.mini.FlushAll()
	if st, err := r.Stats(ctx); err != nil || st.Length != 0 {
		t.Fatalf("stats after the stream went: %+v %v", st, err)
	}
	b.mini.FlushAll()
	if _, err := r.Add(ctx, Delivery{ID: "x", Event: "e"}); err != nil {
		t.Fatal(err)
	}
	if d, err := r.Next(ctx); err != nil || d.ID != "x" {
		t.Fatalf("next after the group went: %+v %v", d, err)
	}
}

// ---- Locker ----

// Two replicas, two workers each: one holder at a time, tokens growing with each grant.
func TestLockMutualExclusion(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		reps := []*Redis{replica(t, b, "a", nil), replica(t, b, "c", nil)}
		ctx := ctxFor(t, 30*time.Second)
		var (
			inside  atomic.Int32
			mu      sync.Mutex
			tokens  []int64
			waited  atomic.Int32
			wg      sync.WaitGroup
			failure atomic.Value
		)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					l, err := reps[w%2].Lock(ctx, "org/repo#env")
					if err != nil {
						failure.Store(err.Error())
						return
					}
					if n := inside.Add(1); n != 1 {
						failure.Store(fmt.Sprintf("%d holders at once", n))
					}
					mu.Lock()
					tokens = append(tokens, l.Token())
					mu.Unlock()
					if l.Waited() {
						waited.Add(1)
					}
					time.Sleep(5 * time.Millisecond)
					inside.Add(-1)
					l.Unlock()
				}
			}()
		}
		wg.Wait()
		if f := failure.Load(); f != nil {
			t.Fatal(f)
		}
		if len(tokens) != 20 {
			t.Fatalf("%d grants", len(tokens))
		}
		for i := 1; i < len(tokens); i++ {
			if tokens[i] <= tokens[i-1] {
				t.Fatalf("tokens do not grow: %v", tokens)
			}
		}
		if waited.Load() == 0 {
			t.Fatal("four workers on one key and nobody waited")
		}
		// Another key is not held by any of it.
		l, err := reps[0].Lock(ctx, "org/repo#other")
		if err != nil || l.Waited() || l.Token() != 1 {
			t.Fatalf("other key: %v %v", l, err)
		}
		l.Unlock()
		if n := b.raw.Exists(ctx, "daytwo:lock:org/repo#env", "daytwo:lock:org/repo#other").Val(); n != 0 {
			t.Fatalf("%d locks left after Unlock", n)
		}
	})
}

// A holder that renews keeps its lock past its TTL; a waiter's ctx ends first.
func TestLockRenewalKeepsIt(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		a, c := replica(t, b, "a", nil), replica(t, b, "c", nil)
		l, err := a.Lock(ctxFor(t, 5*time.Second), "k")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Unlock()
		b.elapse(3 * testTTL)
		select {
		case <-l.Lost():
			t.Fatal("a renewed lock was lost")
		default:
		}
		if _, err := c.Lock(ctxFor(t, 200*time.Millisecond), "k"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a held lock was granted: %v", err)
		}
	})
}

// The holder's lock expires unrenewed (its TTL ran out: FastForward on miniredis): the other
// replica gets it with a higher token; the holder's next renewal finds it gone and closes
// Lost; its Unlock leaves the new holder's lock alone.
func TestLockExpiredIsLost(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		a, c := replica(t, b, "a", nil), replica(t, b, "c", nil)
		ctx := ctxFor(t, 10*time.Second)
		la, err := a.Lock(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		b.expire(t, "daytwo:lock:k", testTTL)
		lc, err := c.Lock(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if lc.Token() <= la.Token() || lc.Waited() {
			t.Fatalf("tokens %d then %d, waited %v", la.Token(), lc.Token(), lc.Waited())
		}
		select {
		case <-la.Lost():
		case <-time.After(testTTL/3 + time.Second):
			t.Fatal("the expired holder's Lost did not close")
		}
		la.Unlock()
		held := b.raw.Get(ctx, "daytwo:lock:k").Val()
		if held != lc.(*redisLease).value {
			t.Fatalf("the lost lease's Unlock touched the new holder's lock: %q", held)
		}
		b.elapse(2 * testTTL)
		select {
		case <-lc.Lost():
			t.Fatal("the new holder lost its lock")
		default:
		}
		lc.Unlock()
	})
}

// A holder cut off from Redis (dead, or partitioned): Lost closes within LockTTL of its last
// renewal, by its own clock, and the other replica gets the lock once Redis expires it; back
// in touch, the old holder's Unlock leaves the new lock alone.
func TestLockHolderCutOff(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		p := newProxy(t, b)
		a, c := replica(t, b, "a", p), replica(t, b, "c", nil)
		ctx := ctxFor(t, 10*time.Second)
		la, err := a.Lock(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		p.setCut(true)
		cut := time.Now()
		got := make(chan Lease, 1)
		go func() {
			l, err := c.Lock(ctx, "k")
			if err != nil {
				t.Error(err)
			}
			got <- l
		}()
		var lc Lease
		b.waitFor(t, testTTL+time.Second, "the cut-off holder's lock expires and is granted", func() bool {
			select {
			case lc = <-got:
				return true
			default:
				return false
			}
		})
		select {
		case <-la.Lost():
		default:
			t.Fatalf("the other replica holds the lock %s after the cut, and the cut-off holder does not know", time.Since(cut))
		}
		if lc.Token() != la.Token()+1 || !lc.Waited() {
			t.Fatalf("tokens %d then %d, waited %v", la.Token(), lc.Token(), lc.Waited())
		}
		p.setCut(false)
		la.Unlock()
		if held := b.raw.Get(ctx, "daytwo:lock:k").Val(); held != lc.(*redisLease).value {
			t.Fatalf("the lost lease's Unlock touched the new holder's lock: %q", held)
		}
		lc.Unlock()
	})
}

// A waiter whose ctx ends gets ctx's error and holds nothing.
func TestLockWaitEndsWithContext(t *testing.T) {
	b := miniBackend(t)
	a, c := replica(t, b, "a", nil), replica(t, b, "c", nil)
	la, err := a.Lock(ctxFor(t, time.Second), "k")
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := c.Lock(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	la.Unlock()
	if lc, err := c.Lock(ctxFor(t, time.Second), "k"); err != nil || lc.Token() != 2 {
		t.Fatalf("after the holder unlocked: %v %v", lc, err)
	}
}

// ---- Elector ----

type leaders struct {
	mu      sync.Mutex
	leading map[string]bool
	starts  map[string]time.Time
	stops   map[string]time.Time
	overlap bool
}

func newLeaders() *leaders {
	return &leaders{leading: map[string]bool{}, starts: map[string]time.Time{}, stops: map[string]time.Time{}}
}

func (l *leaders) fn(name string) func(context.Context) {
	return func(ctx context.Context) {
		l.mu.Lock()
		for _, on := range l.leading {
			if on {
				l.overlap = true
			}
		}
		l.leading[name], l.starts[name] = true, time.Now()
		l.mu.Unlock()
		<-ctx.Done()
		l.mu.Lock()
		l.leading[name], l.stops[name] = false, time.Now()
		l.mu.Unlock()
	}
}

func (l *leaders) current() (names []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for n, on := range l.leading {
		if on {
			names = append(names, n)
		}
	}
	return names
}

// lead runs r.Lead(ctx, fn) until the test ends; done closes when Lead returns.
func lead(t *testing.T, ctx context.Context, r *Redis, fn func(context.Context)) (done chan struct{}) {
	ctx, cancel := context.WithCancel(ctx)
	done = make(chan struct{})
	go func() { r.Lead(ctx, fn); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return done
}

// Exactly one of two leads, and keeps leading while it renews; when its Lead ctx ends, and
// then when its replica closes, the other takes over within one lease period, never while
// the former still runs.
func TestLeaderElection(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		ls := newLeaders()
		reps := map[string]*Redis{"a": replica(t, b, "a", nil), "c": replica(t, b, "c", nil)}
		ctxs := map[string]context.CancelFunc{}
		dones := map[string]chan struct{}{}
		for name, r := range reps {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			ctxs[name] = cancel
			dones[name] = lead(t, ctx, r, ls.fn(name))
		}
		b.waitFor(t, 2*time.Second, "a leader", func() bool { return len(ls.current()) == 1 })
		first := ls.current()[0]
		b.elapse(3 * testTTL)
		if cur := ls.current(); len(cur) != 1 || cur[0] != first || len(ls.starts) != 1 {
			t.Fatalf("leaders %v (started: %v), want %s alone throughout", cur, ls.starts, first)
		}
		other := map[string]string{"a": "c", "c": "a"}[first]

		// The leader's ctx ends: it stops, releases, and the other leads.
		ctxs[first]()
		took := b.waitFor(t, 2*testTTL, "take-over after the leader's ctx ended", func() bool {
			cur := ls.current()
			return len(cur) == 1 && cur[0] == other
		})
		if took > testTTL {
			t.Fatalf("take-over took %s, lease %s", took, testTTL)
		}
		select {
		case <-dones[first]:
		case <-time.After(time.Second):
			t.Fatal("Lead did not return when its ctx ended")
		}
		if b.raw.Get(context.Background(), "daytwo:leader").Val() == "" {
			t.Fatal("no lease held by the new leader")
		}

		// A third replica; the leader's replica closes: the third takes over.
		third := replica(t, b, "third", nil)
		ctx3, cancel3 := context.WithCancel(context.Background())
		t.Cleanup(cancel3)
		lead(t, ctx3, third, ls.fn("third"))
		b.elapse(testTTL)
		if cur := ls.current(); len(cur) != 1 || cur[0] != other {
			t.Fatalf("a newcomer displaced the leader: %v", cur)
		}
		reps[other].Close()
		took = b.waitFor(t, 2*testTTL, "take-over after the leader closed", func() bool {
			cur := ls.current()
			return len(cur) == 1 && cur[0] == "third"
		})
		if took > testTTL {
			t.Fatalf("take-over took %s after Close, lease %s", took, testTTL)
		}
		if ls.overlap {
			t.Fatal("two leaders at once")
		}
	})
}

// A leader cut off from Redis (dead or partitioned, so it cannot release): its fn's context
// ends within a lease of its last renewal, by its own clock, and the other replica leads
// within one lease period of the cut, not before the old leader stopped.
func TestLeaderCutOff(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		ls := newLeaders()
		p := newProxy(t, b)
		a := replica(t, b, "a", p)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		lead(t, ctx, a, ls.fn("a"))
		b.waitFor(t, 2*time.Second, "a leads", func() bool { return len(ls.current()) == 1 })
		c := replica(t, b, "c", nil)
		lead(t, ctx, c, ls.fn("c"))
		b.elapse(testTTL)

		p.setCut(true)
		cut := time.Now()
		b.waitFor(t, testTTL+time.Second, "c leads", func() bool {
			cur := ls.current()
			return len(cur) == 1 && cur[0] == "c"
		})
		ls.mu.Lock()
		defer ls.mu.Unlock()
		if took := ls.starts["c"].Sub(cut); took > testTTL+100*time.Millisecond {
			t.Fatalf("c took over %s after the cut, lease %s", took, testTTL)
		}
		if stop := ls.stops["a"]; stop.IsZero() || stop.After(ls.starts["c"].Add(50*time.Millisecond)) {
			t.Fatalf("a stopped at %v, c started at %v", stop, ls.starts["c"])
		}
	})
}

// ---- Open ----

func TestOpenRefusesUnreachableAndOld(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Open(ctxFor(t, 5*time.Second), config.Redis{Address: addr, Password: "hunter2"}, "a", Timing{})
	if err == nil || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("unreachable: %v", err)
	}

	m := miniredis.RunT(t)
	m.Server().SetPreHook(infoServer("6.0.16"))
	_, err = Open(ctxFor(t, 5*time.Second), config.Redis{Address: m.Addr()}, "a", Timing{})
	if err == nil || !strings.Contains(err.Error(), "6.0.16 is too old") || !strings.Contains(err.Error(), "6.2") {
		t.Fatalf("old: %v", err)
	}
	m.Server().SetPreHook(infoServer("6.2.0"))
	r, err := Open(ctxFor(t, 5*time.Second), config.Redis{Address: m.Addr()}, "a", Timing{})
	if err != nil {
		t.Fatalf("6.2.0: %v", err)
	}
	r.Close()

	if _, err := Open(context.Background(), config.Redis{}, "a", Timing{}); err == nil {
		t.Fatal("opened without a server")
	}
	if _, err := Open(context.Background(), config.Redis{Address: m.Addr()}, " ", Timing{}); err == nil {
		t.Fatal("opened without a consumer name")
	}
}

func TestParseRedisVersion(t *testing.T) {
	for info, want := range map[string]string{
		"# Server\r\nredis_version:7.2.4\r\nredis_git_sha1:0\r\n": "[7 2 4] ok",
		"redis_version:6.2.14\n":                                  "[6 2 14] ok",
		"# Server\r\nredis_version:6.0.16\r\n":                    "[6 0 16] old",
		"redis_version:5.0.7\r\n":                                 "[5 0 7] old",
		"redis_version:7.2.4\r\nvalkey_version:8.0.1\r\n":         "[7 2 4] ok",
		"redis_version:255.255.255\r\n":                           "[255 255 255] ok",
		"redis_version:8.0\r\n":                                   "[8 0 0] ok",
		"# Server\r\nredis_mode:standalone\r\n":                   "error",
		"redis_version:seven\r\n":                                 "error",
		"redis_version:6.2.x\r\n":                                 "error",
	} {
		v, err := parseRedisVersion(info)
		got := "error"
		if err == nil {
			got = fmt.Sprint(v, " ok")
			if versionLess(v, minRedisVersion) {
				got = fmt.Sprint(v, " old")
			}
		}
		if got != want {
			t.Errorf("%q: %s, want %s", info, got, want)
		}
	}
}

// The password field (DAYTWO_REDIS_PASSWORD) wins over the URL's; a wrong one is refused
// without being shown.
func TestOpenAuthAndURL(t *testing.T) {
	m := startMini(t)
	m.RequireAuth("s3cret")
	ctx := ctxFor(t, 5*time.Second)
	for _, cfg := range []config.Redis{
		{Address: m.Addr(), Password: "s3cret"},
		{URL: "redis://:s3cret@" + m.Addr() + "/0"},
		{URL: "redis://:stale@" + m.Addr() + "/0", Password: "s3cret"},
	} {
		r, err := Open(ctx, cfg, "a", Timing{})
		if err != nil {
			t.Fatalf("%s: %v", cfg, err)
		}
		if _, err := r.Add(ctx, Delivery{ID: "x"}); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	_, err := Open(ctx, config.Redis{URL: "redis://:wr0ng@" + m.Addr()}, "a", Timing{})
	if err == nil || strings.Contains(err.Error(), "wr0ng") {
		t.Fatalf("wrong password: %v", err)
	}
}

// Keys live under the prefix, and two prefixes on one server are two separate systems.
func TestKeyPrefix(t *testing.T) {
	m := startMini(t)
	ctx := ctxFor(t, 5*time.Second)
	open := func(prefix string) *Redis {
		r, err := Open(ctx, config.Redis{Address: m.Addr(), KeyPrefix: prefix}, "a", testTiming)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	one, two := open("one:"), open("")
	if _, err := one.Add(ctx, Delivery{ID: "x"}); err != nil {
		t.Fatal(err)
	}
	if added, _ := two.Add(ctx, Delivery{ID: "x"}); !added {
		t.Fatal("the prefixes share dedupe keys")
	}
	l, err := one.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	l2, err := two.Lock(ctx, "k")
	if err != nil || l2.Waited() {
		t.Fatalf("the prefixes share locks: %v", err)
	}
	l.Unlock()
	l2.Unlock()
	for _, k := range m.Keys() {
		if !strings.HasPrefix(k, "one:") && !strings.HasPrefix(k, "daytwo:") {
			t.Errorf("key %q outside the prefixes", k)
		}
	}
}

// Timing: the caller's values win, then the config's, then the defaults.
func TestTimingDefaults(t *testing.T) {
	got := withDefaults(Timing{LockTTL: time.Second}, config.Redis{LockTTL: config.Duration(time.Minute), LeaseTTL: config.Duration(7 * time.Second)})
	want := Timing{LockTTL: time.Second, LeaseTTL: 7 * time.Second, ClaimIdle: DefaultClaimIdle, DedupeTTL: DefaultDedupeTTL}
	if got != want {
		t.Fatalf("%+v, want %+v", got, want)
	}
}

// Close ends Lead, marks held locks lost, and refuses new locks.
func TestClose(t *testing.T) {
	b := miniBackend(t)
	r := replica(t, b, "a", nil)
	ctx := ctxFor(t, 5*time.Second)
	l, err := r.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	ls := newLeaders()
	done := lead(t, ctx, r, ls.fn("a"))
	b.waitFor(t, time.Second, "leads", func() bool { return len(ls.current()) == 1 })
	r.Close()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Lead did not return on Close")
	}
	select {
	case <-l.Lost():
	default:
		t.Fatal("a lock held at Close is not marked lost")
	}
	if b.raw.Exists(ctx, "daytwo:leader").Val() != 0 {
		t.Fatal("Close did not release the leader lease")
	}
	if _, err := r.Lock(ctx, "other"); err == nil {
		t.Fatal("locked after Close")
	}
}

// A released delivery (its handling failed) is taken again after ClaimIdle, by the same
// consumer or another, one attempt higher; until then it is kept from everyone.
func TestJournalRelease(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		a := replica(t, b, "a", nil)
		ctx := ctxFor(t, 20*time.Second)
		if _, err := a.Add(ctx, Delivery{ID: "flaky", Event: "e", Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		d, err := a.Next(ctx)
		if err != nil || d.Attempts != 1 {
			t.Fatal(d, err)
		}
		if err := a.Release(ctx, d); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		again, err := a.Next(ctx)
		if err != nil || again.ID != "flaky" || again.Attempts != 2 {
			t.Fatalf("after release: %+v %v", again, err)
		}
		if el := time.Since(start); el < testTTL/2 {
			t.Fatalf("taken again after %s, before ClaimIdle (%s)", el, testTTL)
		}
	})
}
