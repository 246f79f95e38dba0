//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The real parts: OS processes (redis-server and the daytwo binary), each in its own
// process group so that a kill takes all of it, and the round-robin proxy in front of the
// replicas.

// proc is one process the test started.
type proc struct {
	name   string
	cmd    *exec.Cmd
	done   chan struct{} // closed once it exited
	killed atomic.Bool   // the test killed it (any other exit is unexpected)
	err    error         // Wait's answer, once done
}

// startProc runs exe in a new process group, appending its output to logPath. Pdeathsig
// takes it down with the test process, whatever happens to the test.
func startProc(name, logPath string, env []string, exe string, args ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "=== %s chaos: starting %s\n", time.Now().Format(time.RFC3339Nano), name)
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		fmt.Fprintf(f, "=== %s chaos: %s ended: %v\n", time.Now().Format(time.RFC3339Nano), name, p.err)
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// kill sends SIGKILL to the whole process group and waits for the process to go.
func (p *proc) kill() {
	p.killed.Store(true)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ---- redis-server ----

// redisServer is a redis-server with the AOF fsynced on every write, on a fixed port and
// directory, so that a restart after kill -9 finds what it had answered.
type redisServer struct {
	port int
	dir  string
	log  string

	mu sync.Mutex
	p  *proc
}

func startRedis(t *testing.T, dir string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: `make deps` installs it (Debian's redis-server)")
	}
	r := &redisServer{port: freePort(t), dir: filepath.Join(dir, "redis"), log: filepath.Join(dir, "redis.log")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server and waits until it answers PING.
func (r *redisServer) start() error {
	p, err := startProc("redis-server", r.log, os.Environ(), "redis-server",
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no")
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.p = p
	r.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if p.exited() || time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer PING: %v\n%s", r.addr(), err, tail(r.log, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crash kills redis-server with SIGKILL: no shutdown, no save.
func (r *redisServer) crash() {
	r.mu.Lock()
	p := r.p
	r.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

func (r *redisServer) stop() { r.crash() }

// ---- daytwo replicas ----

// replica is one `daytwo serve` on a fixed port; restarts keep the port.
type replica struct {
	name string
	port int
	log  string

	mu     sync.Mutex
	p      *proc
	starts int
}

func (r *replica) url() string { return "http://127.0.0.1:" + strconv.Itoa(r.port) }

func (r *replica) current() *proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p
}

// cluster is the replicas and what happened to them.
type cluster struct {
	bin      string
	config   string
	env      []string
	replicas []*replica

	mu         sync.Mutex
	kills      int
	restarts   int
	unexpected []string // exits the test did not cause
	stopping   bool
}

func newCluster(t *testing.T, dir, bin string, n int, env map[string]string) *cluster {
	t.Helper()
	// Short coordination times (the minimum is 1s): a killed replica's deliveries are
	// claimed 3 s after it stopped renewing them, its locks and its lease expire as soon.
	cfg := "redis:\n  claim_idle: 3s\n  lock_ttl: 3s\n  lease_ttl: 3s\nwebhook:\n  workers: 4\n"
	c := &cluster{bin: bin, config: filepath.Join(dir, "daytwo.yaml")}
	if err := os.WriteFile(c.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	base := os.Environ()
	for k, v := range env {
		base = append(base, k+"="+v)
	}
	c.env = base
	for i := range n {
		c.replicas = append(c.replicas, &replica{
			name: fmt.Sprintf("replica-%d", i+1), port: freePort(t), log: filepath.Join(dir, fmt.Sprintf("replica-%d.log", i+1)),
		})
	}
	t.Cleanup(c.stop)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, r := range c.replicas {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.start(r) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return c
}

// start runs the replica and waits until it is ready.
func (c *cluster) start(r *replica) error {
	env := append(append([]string(nil), c.env...),
		"DAYTWO_ADDR=127.0.0.1:"+strconv.Itoa(r.port), "POD_NAME="+r.name)
	p, err := startProc(r.name, r.log, env, c.bin, "serve", "--config", c.config)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.p = p
	r.starts++
	first := r.starts == 1
	r.mu.Unlock()
	if !first {
		c.mu.Lock()
		c.restarts++
		c.mu.Unlock()
	}
	go c.watch(r, p)
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		res, err := client.Get(r.url() + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p.exited() || time.Now().After(deadline) {
			return fmt.Errorf("%s is not ready: %v\n%s", r.name, err, tail(r.log, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watch records an exit the test did not cause.
func (c *cluster) watch(r *replica, p *proc) {
	<-p.done
	if p.killed.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopping {
		c.unexpected = append(c.unexpected, fmt.Sprintf("%s exited by itself (%v); its log ends:\n%s", r.name, p.err, tail(r.log, 15)))
	}
}

// kill sends SIGKILL to the replica's process group.
func (c *cluster) kill(r *replica) {
	if p := r.current(); p != nil && !p.exited() {
		p.kill()
		c.mu.Lock()
		c.kills++
		c.mu.Unlock()
	}
}

// heal starts every replica that is not running, at once.
func (c *cluster) heal() error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, r := range c.replicas {
		if p := r.current(); p != nil && !p.exited() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.start(r); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *cluster) stop() {
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	for _, r := range c.replicas {
		if p := r.current(); p != nil {
			p.kill()
		}
	}
}

func (c *cluster) figures() (kills, restarts int, unexpected []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kills, c.restarts, append([]string(nil), c.unexpected...)
}

// ---- the round-robin proxy ----

// proxy forwards each webhook to the next replica, and to the one after when a replica
// refuses the connection (killed: nothing listens on its port). When all refuse it answers
// 503; GitHub would show the delivery as failed, and the test sends it again later.
type proxy struct {
	replicas []*replica
	next     atomic.Uint64
	client   *http.Client

	forwarded, refused, allRefused, broken atomic.Int64
}

func newProxy(replicas []*replica) *proxy {
	// No kept-alive connections: a connection to a killed replica would fail on reuse,
	// after the request was (maybe) written, instead of being refused.
	tr := &http.Transport{DisableKeepAlives: true}
	return &proxy{replicas: replicas, client: &http.Client{Transport: tr, Timeout: 9 * time.Second}}
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "proxy: "+err.Error(), http.StatusBadRequest)
		return
	}
	first := p.next.Add(1)
	for i := range len(p.replicas) {
		to := p.replicas[(int(first)+i)%len(p.replicas)]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, to.url()+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, "proxy: "+err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header = r.Header.Clone()
		res, err := p.client.Do(req)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				p.refused.Add(1)
				continue
			}
			// Sent, and the replica died (or hung) before answering: a load balancer's 502.
			p.broken.Add(1)
			http.Error(w, "proxy: "+to.name+": "+err.Error(), http.StatusBadGateway)
			return
		}
		p.forwarded.Add(1)
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.Header().Set("X-Chaos-Replica", to.name)
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
		res.Body.Close()
		return
	}
	p.allRefused.Add(1)
	http.Error(w, "proxy: every replica refused the connection", http.StatusServiceUnavailable)
}

// ---- helpers ----

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// grepLogs returns the lines of the files holding any of needles, at most max of them.
func grepLogs(paths []string, needles []string, max int) []string {
	var out []string
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(b), "\n") {
			for _, n := range needles {
				if n != "" && strings.Contains(line, n) {
					out = append(out, filepath.Base(p)+": "+line)
					break
				}
			}
		}
	}
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("… %d more lines", len(out)-max))
	}
	return out
}

// leftovers lists the processes still running whose command line holds pattern: pgrep's
// answer, or where there is no pgrep (procps is not in every image), /proc's.
func leftovers(pattern string) string {
	if _, err := exec.LookPath("pgrep"); err == nil {
		out, err := exec.Command("pgrep", "-a", "-f", pattern).Output()
		if err != nil { // exit status 1: none
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if cmd := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " ")); err == nil && strings.Contains(cmd, pattern) {
			out = append(out, filepath.Base(d)+" "+cmd)
		}
	}
	return strings.Join(out, "\n")
}
