package ops

import (
	"sort"
	"sync"
	"testing"
	"time"
)

// fakeTimers is a clock whose timers fire when the test advances it.
type fakeTimers struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Duration
	f       func()
	stopped bool
	fired   bool
}

func (c *fakeTimers) after(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now + d, f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.fired || t.stopped {
			return false
		}
		t.stopped = true
		return true
	}
}

// advance moves the clock by d, firing due timers in order, each to its end.
func (c *fakeTimers) advance(d time.Duration) {
	c.mu.Lock()
	end := c.now + d
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at < c.timers[j].at })
		var due *fakeTimer
		for _, t := range c.timers {
			if !t.fired && !t.stopped && t.at <= end {
				due = t
				break
			}
		}
		if due == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		due.fired, c.now = true, due.at
		c.mu.Unlock()
		due.f()
	}
}

func TestCoalescerAtMostOncePerIntervalWithATrailingRun(t *testing.T) {
	clock := &fakeTimers{}
	c := &coalescer{every: 30 * time.Second, after: clock.after, pending: map[string]func() bool{}}
	var mu sync.Mutex
	var runs []time.Duration // when a run of "a" happened
	runsB := 0
	runA := func() {
		mu.Lock()
		defer mu.Unlock()
		runs = append(runs, clock.now)
	}

	// A burst of calls is one run, every after the first.
	for range 5 {
		c.soon("a", runA)
		clock.advance(time.Second)
	}
	c.soon("b", func() { runsB++ })
	clock.advance(25 * time.Second)
	if len(runs) != 1 || runs[0] != 30*time.Second || runsB != 0 {
		t.Fatalf("runs %v, b %d", runs, runsB)
	}
	clock.advance(10 * time.Second)
	if runsB != 1 {
		t.Fatalf("another repository waited for the first: b ran %d times", runsB)
	}
	// A call during a run schedules the next one, every later: the last call is served.
	c.soon("a", func() {
		runA()
		c.soon("a", runA)
	})
	clock.advance(time.Minute)
	if len(runs) != 3 || runs[1] != 70*time.Second || runs[2] != 100*time.Second {
		t.Fatalf("runs %v", runs)
	}
	for i := 1; i < len(runs); i++ {
		if runs[i]-runs[i-1] < c.every {
			t.Errorf("runs %v closer than %v", runs, c.every)
		}
	}
	c.wait()

	// Closing drops what has not started, and nothing is scheduled after.
	c.soon("a", runA)
	c.close()
	c.soon("a", runA)
	clock.advance(time.Hour)
	if len(runs) != 3 {
		t.Errorf("runs after close: %v", runs)
	}
	c.wait()
}
