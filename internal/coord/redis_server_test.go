package coord

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/daytwo-dev/daytwo/internal/config"
)

// These run against a real redis-server only: what miniredis cannot show.

// Open reads the real server's version from INFO server.
func TestRedisServerVersion(t *testing.T) {
	s := startRedisServer(t)
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`v=(\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("redis-server --version: %s", out)
	}
	r, err := Open(ctxFor(t, 5*time.Second), config.Redis{URL: "unix://" + s.sock}, "a", testTiming)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := fmt.Sprintf("%d.%d.%d", r.version[0], r.version[1], r.version[2]); got != m[1]+"."+m[2]+"."+m[3] {
		t.Fatalf("Open read version %s, the server is %s", got, m[0])
	}
}

// With the AOF on, a Redis that crashes (SIGKILL: no shutdown, no save) right after Add
// answered keeps every added entry, the dedupe keys, who had taken what, and the fencing
// counters. appendfsync always survives a host crash too; everysec survives this one, a
// crash of the process, once the AOF write is done: it precedes the answer except while a
// background fsync is slow, when Redis postpones it up to 2 s (docs/replicas.md says so).
func TestRedisServerAOFSurvivesCrash(t *testing.T) {
	for _, fsync := range []string{"always", "everysec"} {
		t.Run(fsync, func(t *testing.T) {
			s := startRedisServer(t, "--appendonly", "yes", "--appendfsync", fsync)
			cfg := config.Redis{URL: "unix://" + s.sock}
			ctx := ctxFor(t, 20*time.Second)
			a, err := Open(ctx, cfg, "a", testTiming)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if added, err := a.Add(ctx, Delivery{ID: fmt.Sprint("d", i), Event: "e", Payload: []byte{byte(i)}}); err != nil || !added {
					t.Fatal(added, err)
				}
			}
			taken, err := a.Next(ctx)
			if err != nil || taken.ID != "d0" {
				t.Fatal(taken, err)
			}
			l, err := a.Lock(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if fsync == "everysec" {
				waitAOFWritten(t, ctx, s.sock)
			}
			s.kill()
			a.Close()
			s.start(t)

			c, err := Open(ctx, cfg, "c", testTiming)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			st, err := c.Stats(ctx)
			if err != nil || st.Length != 3 || st.Lag != 2 || st.Pending["a"] != 1 {
				t.Fatalf("after the crash: %+v %v", st, err)
			}
			if added, err := c.Add(ctx, Delivery{ID: "d1", Event: "e"}); err != nil || added {
				t.Fatalf("the dedupe key was lost: added=%v %v", added, err)
			}
			for _, want := range []string{"d1", "d2", "d0"} { // d0 once a's claim expires
				d, err := c.Next(ctx)
				if err != nil || d.ID != want || (want == "d0") != (d.Attempts == 2) {
					t.Fatalf("want %s: %+v %v", want, d, err)
				}
				if err := c.Done(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			// a's lock expires as usual; the fencing counter went on from where it was.
			l2, err := c.Lock(ctx, "k")
			if err != nil || l2.Token() != l.Token()+1 {
				t.Fatalf("token after the crash: %v (before: %d) %v", l2, l.Token(), err)
			}
			l2.Unlock()
		})
	}
	// The control: without persistence the same crash loses it all, and the journal
	// recovers (its group is made anew).
	t.Run("off", func(t *testing.T) {
		s := startRedisServer(t)
		cfg := config.Redis{URL: "unix://" + s.sock}
		ctx := ctxFor(t, 10*time.Second)
		a, err := Open(ctx, cfg, "a", testTiming)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if _, err := a.Add(ctx, Delivery{ID: "d0", Event: "e"}); err != nil {
			t.Fatal(err)
		}
		s.kill()
		s.start(t)
		if st, err := a.Stats(ctx); err != nil || st.Length != 0 {
			t.Fatalf("without persistence: %+v %v", st, err)
		}
		if added, err := a.Add(ctx, Delivery{ID: "d0", Event: "e"}); err != nil || !added {
			t.Fatalf("re-add: %v %v", added, err)
		}
		if d, err := a.Next(ctx); err != nil || d.ID != "d0" {
			t.Fatalf("next: %+v %v", d, err)
		}
	})
}

// The ACL docs/replicas.md documents is enough for everything daytwo does.
func TestRedisServerACL(t *testing.T) {
	b := realBackend(t)
	ctx := ctxFor(t, 20*time.Second)
	rule := []any{"ACL", "SETUSER", "daytwo", "on", ">pw", "resetkeys", "~dt:*", "resetchannels", "-@all",
		"+ping", "+info", "+hello", "+select", "+auth", "+evalsha", "+eval", "+multi", "+exec", "+discard",
		"+xadd", "+xreadgroup", "+xautoclaim", "+xclaim", "+xack", "+xdel", "+xlen", "+xpending", "+xinfo", "+xgroup",
		"+set", "+get", "+exists", "+incr", "+pexpire", "+pttl", "+del"}
	if err := b.raw.Do(ctx, rule...).Err(); err != nil {
		t.Fatal(err)
	}
	cfg := config.Redis{URL: "unix://daytwo:pw@" + b.addr, KeyPrefix: "dt:"}
	open := func(name string) *Redis {
		r, err := Open(ctx, cfg, name, testTiming)
		if err != nil {
			t.Fatal(err)
		}
		r.block = 100 * time.Millisecond
		t.Cleanup(func() { r.Close() })
		return r
	}
	a, c := open("a"), open("c")
	for _, id := range []string{"x", "y"} {
		if _, err := a.Add(ctx, Delivery{ID: id, Event: "e"}); err != nil {
			t.Fatal(err)
		}
	}
	x, err := a.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Done(ctx, x); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close() // dies holding y: a claims it after ClaimIdle, renewing it meanwhile
	y, err := a.Next(ctx)
	if err != nil || y.Attempts != 2 {
		t.Fatal(y, err)
	}
	time.Sleep(testTTL / 2) // a renewal of y
	if err := a.Dead(ctx, y, "why"); err != nil {
		t.Fatal(err)
	}
	l, err := a.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(testTTL / 2) // a renewal
	select {
	case <-l.Lost():
		t.Fatal("lost")
	default:
	}
	l.Unlock()
	led := make(chan struct{})
	lctx, cancel := context.WithCancel(ctx)
	go a.Lead(lctx, func(context.Context) { close(led) })
	<-led
	cancel()
	if st, err := a.Stats(ctx); err != nil || st.DeadLetters != 1 {
		t.Fatal(st, err)
	}
	if n := b.raw.Exists(ctx, "dt:lock:k").Val(); n != 0 {
		t.Fatal("Unlock was refused")
	}
}

// waitAOFWritten waits until Redis has no AOF buffer left to write: under load, everysec
// postpones the write while the previous fsync runs.
func waitAOFWritten(t *testing.T, ctx context.Context, sock string) {
	t.Helper()
	raw := redis.NewClient(&redis.Options{Network: "unix", Addr: sock})
	defer raw.Close()
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		info, err := raw.Info(ctx, "persistence").Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, "aof_buffer_length:0\r\n") {
			if d := time.Since(start); d > 50*time.Millisecond {
				t.Logf("Redis postponed the AOF write for %s", d)
			}
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the AOF was not written within 5s:\n%s", info)
		}
	}
}
