// Package coord is how daytwo replicas share work. One process needs nothing but itself
// (Embedded); several coordinate through Redis (Open): a journal of accepted deliveries
// that outlives the process that answered them, locks per target, and one leader for the
// loops that must run once.
package coord

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Delivery is a verified webhook delivery, as the journal keeps it.
type Delivery struct {
	ID      string // X-GitHub-Delivery
	Event   string // X-GitHub-Event
	Payload []byte
	// Attempts is how often the delivery was taken to be handled, this time included.
	Attempts int
	// Ref is the journal's own id of the entry.
	Ref string
}

// Journal keeps verified deliveries from before they are answered until they have been
// handled, whichever replica answered them and whichever handles them.
type Journal interface {
	// Add records d before it is answered; added is false when a delivery with the same
	// id was recorded before (a replay, on any replica).
	Add(ctx context.Context, d Delivery) (added bool, err error)
	// Next waits for a delivery to handle: a new one, or one that its consumer took and did
	// not finish within the claim time (it died). ctx ending returns ctx.Err().
	Next(ctx context.Context) (Delivery, error)
	// Done removes d: it reached its end.
	Done(ctx context.Context, d Delivery) error
	// Release gives d up after a failed attempt: it is taken again (by any replica, its
	// Attempts one higher) once the claim time has passed.
	Release(ctx context.Context, d Delivery) error
	// Dead moves d out of the journal into the dead letters, with why, after it failed
	// too often.
	Dead(ctx context.Context, d Delivery, why string) error
	// Stats are the journal's figures for metrics.
	Stats(ctx context.Context) (Stats, error)
}

// Stats describe a journal.
type Stats struct {
	Length      int64            // entries kept
	Lag         int64            // entries not yet taken by any consumer
	Pending     map[string]int64 // entries taken and not done, by consumer
	DeadLetters int64
}

// Locker serialises work on a key (a target) across everything sharing it.
type Locker interface {
	// Lock waits for key's lock until ctx ends.
	Lock(ctx context.Context, key string) (Lease, error)
}

// Lease is a held lock.
type Lease interface {
	// Token is the fencing token: it grows with every grant of the key, so a write can be
	// told from a holder that lost the lock meanwhile.
	Token() int64
	// Lost is closed when the lease ended without Unlock (it expired unrenewed).
	Lost() <-chan struct{}
	// Waited reports whether another holder had the lock when it was asked for.
	Waited() bool
	Unlock()
}

type attemptKey struct{}

// WithAttempt marks ctx as the attempts-th handling of a journaled delivery.
func WithAttempt(ctx context.Context, attempts int) context.Context {
	return context.WithValue(ctx, attemptKey{}, attempts)
}

// Claimed reports whether ctx handles a delivery taken over from a replica that stopped
// before finishing it: whatever that replica left unfinished is this one's to finish.
func Claimed(ctx context.Context) bool {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n > 1
}

// ErrLost is returned by work that stopped because its lease was lost.
var ErrLost = errors.New("the lock was lost")

// Elector lets one replica at a time run the loops that must run once.
type Elector interface {
	// Lead runs fn whenever this replica leads, with a context that ends when it stops
	// leading; it returns when ctx ends.
	Lead(ctx context.Context, fn func(ctx context.Context))
}

// Embedded is coordination inside one process: locks are mutexes and the process always
// leads. It keeps no journal: deliveries live in the process's queue.
type Embedded struct {
	mu     sync.Mutex
	locks  map[string]*embeddedLock
	tokens map[string]int64
}

type embeddedLock struct {
	sync.Mutex
	users int
}

// Lock takes key's mutex.
func (e *Embedded) Lock(ctx context.Context, key string) (Lease, error) {
	e.mu.Lock()
	if e.locks == nil {
		e.locks, e.tokens = map[string]*embeddedLock{}, map[string]int64{}
	}
	l := e.locks[key]
	if l == nil {
		l = &embeddedLock{}
		e.locks[key] = l
	}
	l.users++
	waited := l.users > 1
	e.mu.Unlock()

	got := make(chan struct{})
	go func() { l.Lock(); close(got) }()
	select {
	case <-got:
	case <-ctx.Done():
		go func() { <-got; e.release(key, l) }()
		return nil, ctx.Err()
	}
	e.mu.Lock()
	e.tokens[key]++
	token := e.tokens[key]
	e.mu.Unlock()
	return &embeddedLease{token: token, waited: waited, lost: make(chan struct{}), unlock: func() { e.release(key, l) }}, nil
}

func (e *Embedded) release(key string, l *embeddedLock) {
	l.Unlock()
	e.mu.Lock()
	if l.users--; l.users == 0 {
		delete(e.locks, key)
	}
	e.mu.Unlock()
}

type embeddedLease struct {
	token  int64
	waited bool
	lost   chan struct{} // never closed: a mutex is not lost
	once   sync.Once
	unlock func()
}

func (l *embeddedLease) Token() int64          { return l.token }
func (l *embeddedLease) Lost() <-chan struct{} { return l.lost }
func (l *embeddedLease) Waited() bool          { return l.waited }
func (l *embeddedLease) Unlock()               { l.once.Do(l.unlock) }

// Lead runs fn at once: a lone process leads.
func (e *Embedded) Lead(ctx context.Context, fn func(ctx context.Context)) {
	fn(ctx)
	<-ctx.Done()
}

// Timing of Redis coordination; zero values take the defaults.
type Timing struct {
	LockTTL   time.Duration // a lock not renewed for this long is free (default 30s)
	LeaseTTL  time.Duration // a leader not renewing for this long is replaced (default 15s)
	ClaimIdle time.Duration // a delivery taken and not done for this long is claimed by another consumer (default 2m)
	DedupeTTL time.Duration // how long a delivery id is remembered (default 72h, GitHub's redelivery window)
}
