package coord

// Redis coordination. Keys, under the prefix (default "daytwo:"):
//
//	journal            stream of accepted deliveries (fields id, event, payload), group "workers"
//	dead               stream of dead letters (id, event, payload, why, attempts, ref), capped near 10000
//	delivery:<id>      a delivery id seen (value: its journal entry), expiring after DedupeTTL
//	lock:<key>         a target's lock (value: the holder's random token), expiring after LockTTL
//	fence:<key>        the target's fencing counter, never expiring
//	leader             the leader's lease (value: its random token), expiring after LeaseTTL
//
// Durability. An entry Add returned for is in Redis's memory; whether it survives a Redis
// restart is the operator's choice of persistence (docs/replicas.md says more):
//   - appendonly yes + appendfsync always: the AOF is fsynced before Redis answers, so an
//     answered Add survives a crash of Redis or of its host. Every write waits for the disk.
//   - appendonly yes + appendfsync everysec: an answered Add survives a crash of the Redis
//     process (its AOF write precedes the answer), except while a slow disk makes Redis
//     postpone AOF writes (up to 2s, logged); a crash of the host or a power loss can lose
//     the last second or two of writes.
//   - no AOF (RDB snapshots only, or none): a restart loses every entry since the last
//     snapshot, and the fencing counters restart, so tokens can repeat.
//
// With Sentinel, replication is asynchronous: a failover can lose the writes the old master
// answered and had not yet replicated, whatever the AOF setting. Redis Cluster is not
// supported (the scripts touch keys of different slots).

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/daytwo-dev/daytwo/internal/config"
)

// Defaults of Timing.
const (
	DefaultLockTTL   = 30 * time.Second
	DefaultLeaseTTL  = 15 * time.Second
	DefaultClaimIdle = 2 * time.Minute
	DefaultDedupeTTL = 72 * time.Hour
)

const (
	group         = "workers"
	readBlock     = 2 * time.Second // a blocked read notices ctx ending within this
	deadLetterMax = 10000           // dead letters kept, about
	openTimeout   = 10 * time.Second
)

// minRedisVersion is the oldest Redis Open accepts (XAUTOCLAIM came in 6.2).
var minRedisVersion = [3]int{6, 2, 0}

// Redis coordinates replicas through one Redis server: it is a Journal, a Locker and an
// Elector. Open it once per process; Close it last.
type Redis struct {
	c        redis.UniversalClient
	prefix   string
	consumer string
	t        Timing
	version  [3]int
	block    time.Duration

	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	mu       sync.Mutex
	inFlight map[string]struct{} // journal refs this consumer took and has not finished
}

var (
	_ Journal = (*Redis)(nil)
	_ Locker  = (*Redis)(nil)
	_ Elector = (*Redis)(nil)
)

// ConsumerName names this process among the replicas: $POD_NAME when set, else
// hostname-pid.
func ConsumerName() string {
	if p := strings.TrimSpace(os.Getenv("POD_NAME")); p != "" {
		return p
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "daytwo"
	}
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}

// withDefaults fills t's zero fields from cfg, then from the defaults.
func withDefaults(t Timing, cfg config.Redis) Timing {
	pick := func(v time.Duration, c config.Duration, def time.Duration) time.Duration {
		switch {
		case v > 0:
			return v
		case c > 0:
			return time.Duration(c)
		}
		return def
	}
	t.LockTTL = pick(t.LockTTL, cfg.LockTTL, DefaultLockTTL)
	t.LeaseTTL = pick(t.LeaseTTL, cfg.LeaseTTL, DefaultLeaseTTL)
	t.ClaimIdle = pick(t.ClaimIdle, cfg.ClaimIdle, DefaultClaimIdle)
	t.DedupeTTL = pick(t.DedupeTTL, 0, DefaultDedupeTTL)
	return t
}

// Open connects to the Redis cfg names as the replica consumer (unique per process, see
// ConsumerName). t's non-zero fields win over cfg's lock_ttl, lease_ttl and claim_idle,
// which win over the defaults. It refuses a Redis it cannot reach or older than 6.2, and
// creates the journal's consumer group.
func Open(ctx context.Context, cfg config.Redis, consumer string, t Timing) (*Redis, error) {
	if !cfg.Enabled() {
		return nil, errors.New("redis: no server configured (url, address or sentinel)")
	}
	if strings.TrimSpace(consumer) == "" {
		return nil, errors.New("redis: the consumer name is empty")
	}
	c, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("redis %s: %w", cfg, err)
	}
	r := &Redis{
		c: c, prefix: cfg.Prefix(), consumer: consumer, t: withDefaults(t, cfg), block: readBlock,
		closed: make(chan struct{}), inFlight: map[string]struct{}{},
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := r.start(octx); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis %s: %w", cfg, err)
	}
	r.track()
	go r.keepInFlight()
	return r, nil
}

func (r *Redis) start(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("unreachable: %w", err)
	}
	info, err := r.c.Info(ctx, "server").Result()
	if err != nil {
		return fmt.Errorf("INFO server: %w", err)
	}
	if r.version, err = parseRedisVersion(info); err != nil {
		return err
	}
	if versionLess(r.version, minRedisVersion) {
		return fmt.Errorf("version %d.%d.%d is too old: daytwo needs Redis %d.%d or newer (XAUTOCLAIM)",
			r.version[0], r.version[1], r.version[2], minRedisVersion[0], minRedisVersion[1])
	}
	return r.ensureGroup(ctx)
}

func newClient(cfg config.Redis) (redis.UniversalClient, error) {
	var tlsConf *tls.Config
	if cfg.UseTLS() {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_file %s holds no PEM certificate", cfg.CAFile)
			}
			tlsConf.RootCAs = pool
		}
	}
	noMaint := &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if cfg.Sentinel.Master != "" {
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:       cfg.Sentinel.Master,
			SentinelAddrs:    cfg.Sentinel.Addresses,
			SentinelPassword: cfg.Sentinel.Password,
			Username:         cfg.Username,
			Password:         cfg.Password,
			DB:               cfg.DB,
			TLSConfig:        tlsConf,
			// Honour deadlines of contexts (Unlock and releases bound their calls).
			ContextTimeoutEnabled: true,
			DisableIdentity:       true, // no CLIENT SETINFO: one permission less to grant
		}), nil
	}
	var opt *redis.Options
	if cfg.URL != "" {
		var err error
		if opt, err = redis.ParseURL(cfg.URL); err != nil {
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err // url.Error quotes the URL, password included
			}
			return nil, fmt.Errorf("url: %w", err)
		}
		if tlsConf != nil && opt.TLSConfig != nil {
			tlsConf.ServerName = opt.TLSConfig.ServerName
			opt.TLSConfig = tlsConf
		}
		if cfg.Username != "" {
			opt.Username = cfg.Username
		}
		if cfg.Password != "" {
			opt.Password = cfg.Password
		}
	} else {
		opt = &redis.Options{Addr: cfg.Address, Username: cfg.Username, Password: cfg.Password, DB: cfg.DB, TLSConfig: tlsConf}
	}
	opt.ContextTimeoutEnabled = true
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = noMaint
	return redis.NewClient(opt), nil
}

// parseRedisVersion reads redis_version from INFO server.
func parseRedisVersion(info string) ([3]int, error) {
	var v [3]int
	for _, line := range strings.Split(info, "\n") {
		val, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:")
		if !ok {
			continue
		}
		parts := strings.SplitN(val, ".", 3)
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil {
				return v, fmt.Errorf("INFO server: redis_version %q is not a version", val)
			}
			v[i] = n
		}
		return v, nil
	}
	return v, errors.New("INFO server reports no redis_version")
}

func versionLess(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// Close stops renewals and leading (releasing the leader lease), then disconnects. Locks
// still held are not released: their Lost channels close, and they expire after LockTTL.
func (r *Redis) Close() error {
	first := false
	r.mu.Lock()
	r.closeOnce.Do(func() { close(r.closed); first = true })
	r.mu.Unlock()
	r.wg.Wait()
	if !first {
		return nil
	}
	return r.c.Close()
}

// errClosed is returned by calls on a closed Redis.
var errClosed = errors.New("redis coordination is closed")

// track counts a goroutine Close waits for; false once r is closed.
func (r *Redis) track() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.closed:
		return false
	default:
		r.wg.Add(1)
		return true
	}
}

func (r *Redis) key(parts ...string) string { return r.prefix + strings.Join(parts, ":") }

func randomToken(owner string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return owner + ":" + hex.EncodeToString(b)
}

// sleep waits d, or until ctx ends or r is closed; it reports whether d passed.
func (r *Redis) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-r.closed:
	}
	return false
}

// bounded is a context for a call that must end even when ctx already did (releases).
func bounded(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), min(d, 5*time.Second))
}

// ---- Journal ----

func (r *Redis) stream() string { return r.key("journal") }

func (r *Redis) ensureGroup(ctx context.Context) error {
	err := r.c.XGroupCreateMkStream(ctx, r.stream(), group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("creating the journal's consumer group: %w", err)
	}
	return nil
}

func isNoGroup(err error) bool {
	return err != nil && (strings.HasPrefix(err.Error(), "NOGROUP") || strings.Contains(err.Error(), "no such key"))
}

// addScript records a delivery once: the journal entry and the id's dedupe key, atomically
// (no crash between the two can lose a delivery or remember one that was not added).
var addScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local ref = redis.call('XADD', KEYS[2], '*', 'id', ARGV[2], 'event', ARGV[3], 'payload', ARGV[4])
redis.call('SET', KEYS[1], ref, 'PX', ARGV[1])
return ref
`)

// Add appends d to the journal unless its id was added within DedupeTTL.
func (r *Redis) Add(ctx context.Context, d Delivery) (bool, error) {
	if d.ID == "" {
		return false, errors.New("journal: a delivery without an id")
	}
	err := addScript.Run(ctx, r.c, []string{r.key("delivery", d.ID), r.stream()},
		r.t.DedupeTTL.Milliseconds(), d.ID, d.Event, d.Payload).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("journal add %s: %w", d.ID, err)
	}
	return true, nil
}

// Next returns a delivery to handle: first one another consumer took and stopped renewing
// for ClaimIdle (it died), else a new one, waiting in short blocks until ctx ends. A Redis
// error is returned after a short pause, so a caller that retries does not spin.
func (r *Redis) Next(ctx context.Context) (Delivery, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Delivery{}, err
		}
		select {
		case <-r.closed:
			return Delivery{}, errClosed
		default:
		}
		d, ok, err := r.claim(ctx)
		if err == nil && !ok {
			d, ok, err = r.read(ctx)
		}
		if ok {
			r.mu.Lock()
			r.inFlight[d.Ref] = struct{}{}
			r.mu.Unlock()
			return d, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return Delivery{}, ctx.Err()
			}
			if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
				return Delivery{}, context.DeadlineExceeded // the socket's deadline came first
			}
			if isNoGroup(err) { // the stream went (a Redis without persistence restarted)
				if gerr := r.ensureGroup(ctx); gerr == nil {
					continue
				}
			}
			r.sleep(ctx, 500*time.Millisecond)
			return Delivery{}, fmt.Errorf("journal next: %w", err)
		}
	}
}

// claim takes over one entry idle for ClaimIdle, scanning the whole pending list.
func (r *Redis) claim(ctx context.Context) (Delivery, bool, error) {
	start := "0-0"
	for {
		msgs, next, err := r.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: r.stream(), Group: group, Consumer: r.consumer,
			MinIdle: r.t.ClaimIdle, Start: start, Count: 1,
		}).Result()
		if err != nil {
			return Delivery{}, false, err
		}
		for _, m := range msgs {
			if m.Values == nil { // deleted behind the group's back (6.2 reports it so): forget it
				r.c.XAck(ctx, r.stream(), group, m.ID)
				continue
			}
			d := toDelivery(m)
			p, err := r.c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: r.stream(), Group: group, Start: m.ID, End: m.ID, Count: 1}).Result()
			if err != nil {
				return Delivery{}, false, err
			}
			d.Attempts = 2 // at least: it was taken before
			if len(p) == 1 && p[0].RetryCount > 1 {
				d.Attempts = int(p[0].RetryCount)
			}
			return d, true, nil
		}
		if next == "0-0" || next == "" || next == start {
			return Delivery{}, false, nil
		}
		start = next
	}
}

func (r *Redis) read(ctx context.Context) (Delivery, bool, error) {
	block := r.block
	if dl, ok := ctx.Deadline(); ok {
		block = min(block, time.Until(dl)-20*time.Millisecond) // answered before the socket's deadline
	}
	block = max(block, time.Millisecond) // BLOCK 0 would wait for ever
	res, err := r.c.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: group, Consumer: r.consumer, Streams: []string{r.stream(), ">"}, Count: 1, Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return Delivery{}, false, nil
	}
	if err != nil {
		return Delivery{}, false, err
	}
	for _, s := range res {
		for _, m := range s.Messages {
			d := toDelivery(m)
			d.Attempts = 1
			return d, true, nil
		}
	}
	return Delivery{}, false, nil
}

func toDelivery(m redis.XMessage) Delivery {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	return Delivery{ID: str("id"), Event: str("event"), Payload: []byte(str("payload")), Ref: m.ID}
}

// Done acknowledges and deletes d's entry, in one transaction.
func (r *Redis) Done(ctx context.Context, d Delivery) error {
	pipe := r.c.TxPipeline()
	pipe.XAck(ctx, r.stream(), group, d.Ref)
	pipe.XDel(ctx, r.stream(), d.Ref)
	_, err := pipe.Exec(ctx)
	r.forget(d.Ref)
	if err != nil {
		return fmt.Errorf("journal done %s: %w", d.ID, err)
	}
	return nil
}

// Dead copies d to the dead letters and removes it from the journal, in one transaction.
func (r *Redis) Dead(ctx context.Context, d Delivery, why string) error {
	pipe := r.c.TxPipeline()
	pipe.XAdd(ctx, &redis.XAddArgs{
		Stream: r.key("dead"), MaxLen: deadLetterMax, Approx: true,
		Values: []any{"id", d.ID, "event", d.Event, "payload", d.Payload, "why", why, "attempts", d.Attempts, "ref", d.Ref, "consumer", r.consumer},
	})
	pipe.XAck(ctx, r.stream(), group, d.Ref)
	pipe.XDel(ctx, r.stream(), d.Ref)
	_, err := pipe.Exec(ctx)
	r.forget(d.Ref)
	if err != nil {
		return fmt.Errorf("journal dead %s: %w", d.ID, err)
	}
	return nil
}

// Release stops keeping d alive: after ClaimIdle it is claimed again, by this consumer or
// another, with its delivery count one higher.
func (r *Redis) Release(_ context.Context, d Delivery) error {
	r.forget(d.Ref)
	return nil
}

func (r *Redis) forget(ref string) {
	r.mu.Lock()
	delete(r.inFlight, ref)
	r.mu.Unlock()
}

// touchScript resets the idle time of the entries still pending for this consumer, keeping
// their delivery counts, so a live consumer's work is never claimed by another.
var touchScript = redis.NewScript(`
local n = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'RETRYCOUNT', p[1][4], 'JUSTID')
    n = n + 1
  end
end
return n
`)

// keepInFlight renews, every ClaimIdle/3, the entries this consumer is handling.
func (r *Redis) keepInFlight() {
	defer r.wg.Done()
	tick := time.NewTicker(r.t.ClaimIdle / 3)
	defer tick.Stop()
	for {
		select {
		case <-r.closed:
			return
		case <-tick.C:
		}
		r.mu.Lock()
		args := []any{group, r.consumer}
		for ref := range r.inFlight {
			args = append(args, ref)
		}
		r.mu.Unlock()
		if len(args) == 2 {
			continue
		}
		ctx, cancel := bounded(r.t.ClaimIdle / 3)
		_ = touchScript.Run(ctx, r.c, []string{r.stream()}, args...).Err() // the next tick tries again
		cancel()
	}
}

// Stats reads the journal's figures. Lag is the group's lag where Redis reports it (7.0+);
// otherwise entries kept less entries pending, which is the same: Done and Dead acknowledge
// and delete together, so every entry is either not yet taken or pending.
func (r *Redis) Stats(ctx context.Context) (Stats, error) {
	pipe := r.c.Pipeline()
	xlen := pipe.XLen(ctx, r.stream())
	pending := pipe.XPending(ctx, r.stream(), group)
	groups := pipe.XInfoGroups(ctx, r.stream())
	dead := pipe.XLen(ctx, r.key("dead"))
	_, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		if isNoGroup(err) {
			_ = r.ensureGroup(ctx)
			return Stats{Pending: map[string]int64{}, DeadLetters: dead.Val()}, nil
		}
		return Stats{}, fmt.Errorf("journal stats: %w", err)
	}
	s := Stats{Length: xlen.Val(), Pending: map[string]int64{}, DeadLetters: dead.Val()}
	var total int64
	if p := pending.Val(); p != nil {
		for c, n := range p.Consumers {
			s.Pending[c] = n
		}
		total = p.Count
	}
	s.Lag = max(s.Length-total, 0)
	if r.version[0] >= 7 {
		for _, g := range groups.Val() {
			if g.Name == group && g.Lag >= 0 {
				s.Lag = g.Lag
			}
		}
	}
	return s, nil
}

// ---- Locker ----

// lockScript grants the lock and its next fencing token together.
var lockScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false
`)

// renewScript extends a lock or lease that is still ours.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript deletes a lock or lease that is still ours.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Lock waits for key's lock, polling with a growing pause (10ms to 250ms), until ctx ends.
func (r *Redis) Lock(ctx context.Context, key string) (Lease, error) {
	l := &redisLease{r: r, key: r.key("lock", key), value: randomToken(r.consumer), lost: make(chan struct{}), stop: make(chan struct{})}
	pause := 10 * time.Millisecond
	for {
		select {
		case <-r.closed:
			return nil, errClosed
		default:
		}
		started := time.Now()
		tok, err := lockScript.Run(ctx, r.c, []string{l.key, r.key("fence", key)}, l.value, r.t.LockTTL.Milliseconds()).Int64()
		if err == nil {
			l.token = tok
			l.renewed = started
			if !r.track() {
				l.Unlock()
				return nil, errClosed
			}
			go l.renew()
			return l, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, redis.Nil) {
			l.waited = true
		}
		// On a Redis error too: keep trying until ctx ends, as a held lock would make us.
		if !r.sleep(ctx, pause+jitter(pause)) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, errClosed
		}
		pause = min(pause*2, 250*time.Millisecond)
	}
}

func jitter(d time.Duration) time.Duration { return mrand.N(d/2 + 1) }

type redisLease struct {
	r       *Redis
	key     string
	value   string
	token   int64
	waited  bool
	renewed time.Time // when the last successful grant or renewal was sent

	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{}
	once     sync.Once
}

func (l *redisLease) Token() int64          { return l.token }
func (l *redisLease) Lost() <-chan struct{} { return l.lost }
func (l *redisLease) Waited() bool          { return l.waited }

func (l *redisLease) markLost() { l.lostOnce.Do(func() { close(l.lost) }) }

// renew keeps the lock until Unlock; Lost closes when keepAlive gives it up.
func (l *redisLease) renew() {
	defer l.r.wg.Done()
	if l.r.keepAlive(l.stop, l.key, l.value, l.r.t.LockTTL, l.renewed) {
		l.markLost()
	}
}

// keepAlive extends key, while it holds value, to ttl every ttl/3, from renewed (when the
// grant was sent) on. It returns false when stop closes, and true when the key is lost: a
// renewal found another value, no renewal got through for ttl (it may have expired: the
// deadline counts from when a renewal was sent, so it falls before Redis's expiry), or r
// closed.
func (r *Redis) keepAlive(stop <-chan struct{}, key, value string, ttl time.Duration, renewed time.Time) bool {
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	deadline := time.NewTimer(time.Until(renewed.Add(ttl)))
	defer deadline.Stop()
	for {
		select {
		case <-stop:
			return false
		case <-r.closed:
			return true
		case <-deadline.C:
			return true
		case <-tick.C:
		}
		started := time.Now()
		ctx, cancel := context.WithDeadline(context.Background(), renewed.Add(ttl))
		n, err := renewScript.Run(ctx, r.c, []string{key}, value, ttl.Milliseconds()).Int64()
		cancel()
		switch {
		case err != nil: // try again at the next tick, until the deadline
		case n != 1:
			return true
		default:
			renewed = started
			deadline.Reset(time.Until(renewed.Add(ttl)))
		}
	}
}

// Unlock stops renewals and deletes the lock if it is still ours (never another's).
func (l *redisLease) Unlock() {
	l.once.Do(func() {
		close(l.stop)
		ctx, cancel := bounded(l.r.t.LockTTL)
		defer cancel()
		_ = releaseScript.Run(ctx, l.r.c, []string{l.key}, l.value).Err() // else it expires
	})
}

// ---- Elector ----

// acquireScript takes the lease if it is free; else it tells how long the holder's lasts.
var acquireScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return -3
end
return redis.call('PTTL', KEYS[1])
`)

// Lead competes for the lease until ctx ends or r closes. Holding it, it runs fn with a
// context that ends when the lease is lost (a renewal finds another holder, or none
// succeeded for LeaseTTL) or ctx ends, holds on until then should fn return early, and
// releases the lease. Not holding it, it tries again when the holder's lease would expire,
// and at least every LeaseTTL/3: a dead leader is replaced within one LeaseTTL.
func (r *Redis) Lead(ctx context.Context, fn func(ctx context.Context)) {
	if !r.track() {
		return
	}
	defer r.wg.Done()
	key := r.key("leader")
	ttl := r.t.LeaseTTL
	for {
		if ctx.Err() != nil {
			return
		}
		select {
		case <-r.closed:
			return
		default:
		}
		value := randomToken(r.consumer)
		started := time.Now()
		pttl, err := acquireScript.Run(ctx, r.c, []string{key}, value, ttl.Milliseconds()).Int64()
		if err == nil && pttl == -3 {
			r.leadTerm(ctx, key, value, started, fn)
			continue
		}
		wait := ttl / 3
		if err == nil && pttl >= 0 {
			wait = min(wait, time.Duration(pttl)*time.Millisecond+5*time.Millisecond)
		}
		r.sleep(ctx, wait)
	}
}

func (r *Redis) leadTerm(ctx context.Context, key, value string, renewed time.Time, fn func(context.Context)) {
	ttl := r.t.LeaseTTL
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		r.keepAlive(lctx.Done(), key, value, ttl, renewed)
		cancel()
	}()
	fn(lctx)
	<-lctx.Done()
	<-kept
	rctx, rcancel := bounded(ttl)
	defer rcancel()
	_ = releaseScript.Run(rctx, r.c, []string{key}, value).Err() // else it expires
}
