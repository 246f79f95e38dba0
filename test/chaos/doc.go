// Package chaos runs daytwo on real parts and breaks them while it works: three replicas of
// the real binary (killed with SIGKILL and restarted every few seconds) behind a
// round-robin proxy, a real redis-server with the AOF on (crashed and restarted once), and
// the test GitHub answering with injected faults. 200 commands on 9 targets from 10 issues
// go through it, some deliveries repeated; the test then checks GitHub's final state with
// the property test's checker (internal/apptest.CheckFinalState) and prints comment → PR
// latencies. The test carries the build tag chaos; `make chaos` runs it.
package chaos
