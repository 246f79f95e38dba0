// Package redistest runs a real redis-server for tests, on a unix socket in a temporary
// directory. `make deps` installs redis-server; without it the test is skipped, except
// under CI, where its absence is a failure.
package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	Dir, Sock string
	TCP       string // host:port with StartTCP
	args      []string
	cmd       *exec.Cmd
}

// Start runs redis-server with extra arguments (e.g. "--appendonly", "yes") until the
// test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not on PATH: make deps installs it")
		}
		t.Skip("redis-server is not on PATH (make deps installs it)")
	}
	dir, err := os.MkdirTemp("", "rds") // short: unix socket paths are limited to about 100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{Dir: dir, Sock: filepath.Join(dir, "redis.sock")}
	s.args = append([]string{"--port", "0", "--unixsocket", s.Sock, "--dir", dir, "--save", "", "--appendonly", "no",
		"--logfile", filepath.Join(dir, "redis.log")}, extra...)
	s.Restart(t)
	t.Cleanup(s.Kill)
	return s
}

// URL is the server's address as daytwo's redis.url takes it.
func (s *Server) URL() string {
	if s.TCP != "" {
		return "redis://" + s.TCP
	}
	return "unix://" + s.Sock
}

// Restart starts the server again (after Kill) with the same directory, and waits for it.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command("redis-server", s.args...)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: s.Sock, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			t.Fatalf("redis-server did not start:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends the server at once, as a crash would: no shutdown save.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// StartTCP is Start listening on a loopback TCP port as well, as a Redis on the network
// is reached; URL is then its redis:// address.
func StartTCP(t testing.TB, extra ...string) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := Start(t, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1"}, extra...)...)
	s.TCP = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return s
}
