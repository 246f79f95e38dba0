package argoapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Options say how to reach Argo CD's API server (argocd-server).
type Options struct {
	Server          string // host:port
	Token           string // an API token of an Argo CD account allowed to get, sync and refresh apps
	PlainText       bool   // no TLS (a server run with --insecure behind a TLS-terminating proxy)
	Insecure        bool   // TLS without verifying the certificate
	CAFile          string // PEM of the CA that signed the server's certificate
	GRPCWeb         bool   // gRPC-web over HTTP/1.1, for ingresses that do not pass HTTP/2
	GRPCWebRootPath string // path prefix when Argo CD is served under one
	AppNamespace    string // namespace of the Applications when not Argo CD's own
	// PollInterval paces polling when the watch stream is not available (default 2s).
	PollInterval time.Duration
	// ReassessEvery paces the refreshes Wait asks for while the app is synced but its
	// health was not assessed since (default 1s: Argo CD's times are whole seconds).
	ReassessEvery time.Duration
}

// Errors a caller can act on. ErrPermanent wraps errors retrying cannot fix.
var (
	ErrPermanent = errors.New("permanent")
	ErrUnhealthy = errors.New("the rollout is unhealthy")
	// ErrOperationInProgress: Argo CD is running another operation on the app (a sync,
	// automated or asked by someone); a sync can be asked again once it ends.
	ErrOperationInProgress = errors.New("another operation is in progress")
)

// Client is a connection to Argo CD's API. gRPC connects on first use and again whenever
// the connection is lost, so daytwo starts and keeps running while Argo CD is away. It is
// safe for concurrent use.
type Client struct {
	opts Options
	conn *grpc.ClientConn
	apps application.ApplicationServiceClient
	web  *grpcWebProxy // with GRPCWeb: the in-process bridge conn talks to
}

// maxMessageSize is argo-cd's own client default (ARGOCD_GRPC_MAX_SIZE_MB, 200 MB): an
// Application with many resources is far larger than gRPC's 4 MB default.
const maxMessageSize = 200 << 20

// retryPolicy retries calls Argo CD could not take (UNAVAILABLE: restarting, connection
// lost) up to three times, as argo-cd's own client does; other errors are answers.
const retryPolicy = `{"methodConfig": [{
	"name": [{"service": "application.ApplicationService"}],
	"retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.5s", "maxBackoff": "1s",
		"backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}
}]}`

// New prepares the connection to Argo CD without contacting it. It does not read the
// argocd CLI's local config.
func New(opts Options) (*Client, error) {
	if strings.TrimSpace(opts.Server) == "" {
		return nil, errors.New("argocd: the server address is empty (set argocd.server, e.g. argocd.example.com:443)")
	}
	if opts.Token == "" {
		return nil, errors.New("argocd: no API token (set argocd.token or DAYTWO_ARGOCD_TOKEN to a token of an account allowed to get, sync and refresh applications)")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.ReassessEvery <= 0 {
		opts.ReassessEvery = time.Second
	}
	var tlsConf *tls.Config
	if !opts.PlainText {
		var err error
		if tlsConf, err = clientTLS(opts); err != nil {
			return nil, err
		}
	}
	dial := []grpc.DialOption{
		grpc.WithPerRPCCredentials(tokenCredentials(opts.Token)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)),
		grpc.WithDefaultServiceConfig(retryPolicy),
		grpc.WithUserAgent("daytwo"),
	}
	target := opts.Server
	c := &Client{opts: opts}
	if opts.GRPCWeb || opts.GRPCWebRootPath != "" {
		// gRPC-web is HTTP/1.1 requests, not a gRPC transport: the connection goes to an
		// in-process bridge that makes them.
		c.web = newGRPCWebProxy(opts, tlsConf)
		target = "passthrough:///argocd-grpc-web"
		dial = append(dial, grpc.WithContextDialer(c.web.dial), grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else if tlsConf != nil {
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewTLS(tlsConf)))
	} else {
		dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	conn, err := grpc.NewClient(target, dial...)
	if err != nil {
		if c.web != nil {
			c.web.close()
		}
		return nil, fmt.Errorf("argocd: %s: %w (check argocd.server)", opts.Server, err)
	}
	c.conn, c.apps = conn, application.NewApplicationServiceClient(conn)
	return c, nil
}

// clientTLS is the TLS configuration argo-cd's client builds: the system roots plus
// ca_file, or no verification with insecure.
func clientTLS(opts Options) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: opts.Insecure}
	if opts.CAFile == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(opts.CAFile)
	if err != nil {
		return nil, fmt.Errorf("argocd: read argocd.ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("argocd: argocd.ca_file %s holds no PEM certificate", opts.CAFile)
	}
	conf.RootCAs = pool
	return conf, nil
}

// tokenCredentials sends the API token as argo-cd's client does: metadata "token", which
// argocd-server reads before the authorization header.
type tokenCredentials string

func (t tokenCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"token": string(t)}, nil
}

// RequireTransportSecurity is false: plaintext serves an argocd-server behind a TLS proxy.
func (tokenCredentials) RequireTransportSecurity() bool { return false }

// Close ends the connection.
func (c *Client) Close() error {
	err := c.conn.Close()
	if c.web != nil {
		c.web.close()
	}
	return err
}

func (c *Client) query(app string, refresh string) *application.ApplicationQuery {
	q := &application.ApplicationQuery{Name: &app}
	if refresh != "" {
		q.Refresh = &refresh
	}
	if c.opts.AppNamespace != "" {
		q.AppNamespace = &c.opts.AppNamespace
	}
	return q
}

// Get reads the app's current state.
func (c *Client) Get(ctx context.Context, app string) (State, error) {
	a, err := c.apps.Get(ctx, c.query(app, ""))
	if err != nil {
		return State{}, c.explain(app, err)
	}
	return StateOf(a), nil
}

// Refresh asks Argo CD to compare the app with Git now rather than at its next poll, and
// returns the state it answered with.
func (c *Client) Refresh(ctx context.Context, app string) (State, error) {
	a, err := c.apps.Get(ctx, c.query(app, string(v1alpha1.RefreshTypeNormal)))
	if err != nil {
		return State{}, c.explain(app, err)
	}
	return StateOf(a), nil
}

// Sync starts a sync of the app to revision ("" for its target revision).
func (c *Client) Sync(ctx context.Context, app, revision string) error {
	req := &application.ApplicationSyncRequest{Name: &app}
	if revision != "" {
		req.Revision = &revision
	}
	if c.opts.AppNamespace != "" {
		req.AppNamespace = &c.opts.AppNamespace
	}
	if _, err := c.apps.Sync(ctx, req); err != nil {
		return c.explain(app, err)
	}
	return nil
}

// Wait follows the app until its rollout of revision ends: synced to it and Healthy (nil),
// Degraded or a failed sync (an error wrapping ErrUnhealthy, with the last state), or ctx
// ends (ctx's error, with the last state seen). A health counts only once Argo CD assessed
// it after the sync (State.HealthAssessed); until then Wait asks for a refresh every
// ReassessEvery. It uses the watch stream and falls back to polling when the stream is
// refused or breaks; onChange sees each new state.
func (c *Client) Wait(ctx context.Context, app, revision string, onChange func(State)) (State, error) {
	return c.follow(ctx, app, onChange,
		func(s State) bool { return s.SyncedTo(revision) && !s.HealthAssessed(revision) },
		func(s State) (bool, error) {
			done, healthy := s.Done(revision)
			switch {
			case !done:
				return false, nil
			case healthy:
				return true, nil
			}
			return true, fmt.Errorf("%s: %w (%s, %s)", app, ErrUnhealthy, orUnknown(s.Sync), orUnknown(s.Health))
		})
}

// follow observes app until ended says it is done, with the error to return. It asks for
// a refresh every ReassessEvery while unassessed holds (the health is older than the
// sync). It uses the watch stream and falls back to polling when the stream is refused or
// breaks; onChange sees each new state.
func (c *Client) follow(ctx context.Context, app string, onChange func(State), unassessed func(State) bool, ended func(State) (bool, error)) (State, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stale atomic.Bool
	go c.reassess(ctx, app, &stale)
	var last State
	seen := func(s State) (bool, error) {
		if onChange != nil && !sameState(s, last) {
			onChange(s)
		}
		last = s
		stale.Store(unassessed(s))
		return ended(s)
	}
	if s, err := c.Get(ctx, app); err == nil {
		if done, err := seen(s); done {
			return last, err
		}
	} else if errors.Is(err, ErrPermanent) {
		return last, err
	}

	// The watch stream first: it reports each change as it happens.
	if stream, err := c.apps.Watch(ctx, c.query(app, "")); err == nil {
		for {
			ev, err := stream.Recv()
			if err != nil {
				break // fall back to polling
			}
			if done, err := seen(StateOf(&ev.Application)); done {
				return last, err
			}
		}
	}
	if ctx.Err() != nil {
		return last, ctx.Err()
	}

	// Polling, with backoff while Argo CD does not answer.
	wait := c.opts.PollInterval
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(wait):
		}
		s, err := c.Get(ctx, app)
		if err != nil {
			if errors.Is(err, ErrPermanent) {
				return last, err
			}
			wait = min(wait*2, 30*time.Second)
			continue
		}
		wait = c.opts.PollInterval
		if done, err := seen(s); done {
			return last, err
		}
	}
}

// reassess asks Argo CD to refresh app, every ReassessEvery while unassessed is set (the
// app is synced but its health is older than the sync), until ctx ends. The refresh makes
// the controller reconcile the app, which stamps status.reconciledAt; the watch or the
// polling sees the result.
func (c *Client) reassess(ctx context.Context, app string, unassessed *atomic.Bool) {
	t := time.NewTicker(c.opts.ReassessEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if unassessed.Load() {
				_, _ = c.Refresh(ctx, app) // a failed refresh is asked again on the next tick
			}
		}
	}
}

// explain turns a gRPC error into one that says what to check.
func (c *Client) explain(app string, err error) error {
	st := status.Convert(err)
	msg := st.Message()
	switch st.Code() {
	case codes.NotFound:
		return fmt.Errorf("%w: application %q not found in Argo CD at %s; check argocdApp in .github/daytwo.yml", ErrPermanent, app, c.opts.Server)
	case codes.PermissionDenied:
		return c.denied(app, msg)
	case codes.Unauthenticated:
		return fmt.Errorf("%w: Argo CD at %s refused daytwo's token; check argocd.token", ErrPermanent, c.opts.Server)
	case codes.FailedPrecondition:
		if strings.Contains(msg, "another operation is already in progress") {
			return c.busy(app, State{})
		}
		if strings.HasPrefix(msg, "Cannot sync to ") {
			// argocd-server syncs an app with automated sync to its target revision only.
			return fmt.Errorf("%w: Argo CD at %s refused to sync application %q: %s (it has automated sync: sync it to its target revision)", ErrPermanent, c.opts.Server, app, msg)
		}
		return fmt.Errorf("argocd %s refused the request for application %q: %s", c.opts.Server, app, msg)
	case codes.Unavailable:
		return fmt.Errorf("argocd %s, application %q: %w (is Argo CD up? check argocd.server, plaintext, insecure, ca_file and grpc_web)", c.opts.Server, app, err)
	}
	return fmt.Errorf("argocd %s, application %q: %w", c.opts.Server, app, err)
}

// busy says Argo CD is running another operation on app; running is the app's state seen
// before, describing the operation when it shows one running.
func (c *Client) busy(app string, running State) error {
	what := "an operation"
	if running.OperationPhase == "Running" {
		what = describeOperation(running)
	}
	return fmt.Errorf("%w: Argo CD at %s is already running %s on application %q; ask again once it ends", ErrOperationInProgress, c.opts.Server, what, app)
}

// denied explains argocd-server's PermissionDenied answers: a bare "permission denied" for
// an app it will not say exists (missing, or not readable by the account), RBAC's
// "permission denied: applications, <action>, <project>/<app>, sub: <account>, iat:
// …" for an action the account may not take on an app it may read, and sync windows.
func (c *Client) denied(app, msg string) error {
	if strings.Contains(msg, "sync window") {
		return fmt.Errorf("%w: Argo CD at %s does not sync application %q now (%s): its project's sync windows forbid it; sync once the window opens", ErrPermanent, c.opts.Server, app, msg)
	}
	fields := strings.Split(strings.TrimPrefix(msg, "permission denied: "), ", ")
	if !strings.HasPrefix(msg, "permission denied: ") || len(fields) < 3 {
		return fmt.Errorf("%w: application %q not found in Argo CD at %s, or daytwo's account may not get it (Argo CD answers %q to both): check argocdApp in .github/daytwo.yml, and the account's get permission in argocd-rbac-cm", ErrPermanent, app, c.opts.Server, msg)
	}
	account := "<daytwo's account>"
	for _, f := range fields[3:] {
		if sub, ok := strings.CutPrefix(f, "sub: "); ok {
			account = sub
		}
	}
	return fmt.Errorf("%w: Argo CD at %s does not let daytwo's account (%s) %s application %q (%s); allow it in argocd-rbac-cm's policy.csv, e.g. \"p, %s, %s, %s, %s, allow\"",
		ErrPermanent, c.opts.Server, account, fields[1], app, msg, account, fields[0], fields[1], fields[2])
}

func sameState(a, b State) bool {
	return a.Sync == b.Sync && a.Health == b.Health && a.Revision == b.Revision && a.OperationPhase == b.OperationPhase && len(a.Unhealthy) == len(b.Unhealthy)
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}
