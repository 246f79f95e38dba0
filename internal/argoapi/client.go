package argoapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"google.golang.org/grpc/codes"
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
)

// Client is a connection to Argo CD's API, made on first use and again after it could not
// be made: daytwo starts and keeps running while Argo CD is away. It is safe for
// concurrent use.
type Client struct {
	opts Options
	api  apiclient.Client

	mu     sync.Mutex
	closer io.Closer
	conn   application.ApplicationServiceClient
}

// New connects to Argo CD. It does not read the argocd CLI's local config.
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
	api, err := apiclient.NewClient(&apiclient.ClientOptions{
		ServerAddr:      opts.Server,
		AuthToken:       opts.Token,
		PlainText:       opts.PlainText,
		Insecure:        opts.Insecure,
		CertFile:        opts.CAFile,
		GRPCWeb:         opts.GRPCWeb,
		GRPCWebRootPath: opts.GRPCWebRootPath,
		UserAgent:       "daytwo",
		// Never the argocd CLI's own config of whoever runs daytwo.
		ConfigPath: filepath.Join(os.TempDir(), "daytwo-no-argocd-config", "config"),
	})
	if err != nil {
		return nil, fmt.Errorf("argocd: %s: %w (check argocd.server, TLS settings and grpc_web)", opts.Server, err)
	}
	return &Client{opts: opts, api: api}, nil
}

// apps returns the application service, connecting first when there is no connection.
func (c *Client) apps() (application.ApplicationServiceClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		return c.conn, nil
	}
	closer, apps, err := c.api.NewApplicationClient()
	if err != nil {
		if closer != nil {
			_ = closer.Close()
		}
		return nil, fmt.Errorf("argocd: connect to %s: %w (is Argo CD up? check argocd.server, TLS settings and grpc_web)", c.opts.Server, err)
	}
	c.closer, c.conn = closer, apps
	return apps, nil
}

// Close ends the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closer == nil {
		return nil
	}
	err := c.closer.Close()
	c.closer, c.conn = nil, nil
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
	apps, err := c.apps()
	if err != nil {
		return State{}, err
	}
	a, err := apps.Get(ctx, c.query(app, ""))
	if err != nil {
		return State{}, c.explain(app, err)
	}
	return StateOf(a), nil
}

// Refresh asks Argo CD to compare the app with Git now rather than at its next poll, and
// returns the state it answered with.
func (c *Client) Refresh(ctx context.Context, app string) (State, error) {
	apps, err := c.apps()
	if err != nil {
		return State{}, err
	}
	a, err := apps.Get(ctx, c.query(app, string(v1alpha1.RefreshTypeNormal)))
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
	apps, err := c.apps()
	if err != nil {
		return err
	}
	if _, err := apps.Sync(ctx, req); err != nil {
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var unassessed atomic.Bool
	go c.reassess(ctx, app, &unassessed)
	var last State
	seen := func(s State) (bool, error) {
		if onChange != nil && !sameState(s, last) {
			onChange(s)
		}
		last = s
		unassessed.Store(s.SyncedTo(revision) && !s.HealthAssessed(revision))
		done, healthy := s.Done(revision)
		switch {
		case !done:
			return false, nil
		case healthy:
			return true, nil
		}
		return true, fmt.Errorf("%s: %w (%s, %s)", app, ErrUnhealthy, orUnknown(s.Sync), orUnknown(s.Health))
	}
	if s, err := c.Get(ctx, app); err == nil {
		if done, err := seen(s); done {
			return last, err
		}
	} else if errors.Is(err, ErrPermanent) {
		return last, err
	}

	// The watch stream first: it reports each change as it happens.
	if apps, err := c.apps(); err != nil {
		// no connection yet: poll until there is one
	} else if stream, err := apps.Watch(ctx, c.query(app, "")); err == nil {
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
	switch status.Code(err) {
	case codes.NotFound:
		return fmt.Errorf("%w: application %q not found in Argo CD at %s; check argocdApp in .github/daytwo.yml", ErrPermanent, app, c.opts.Server)
	case codes.PermissionDenied:
		return fmt.Errorf("%w: Argo CD at %s denies access to application %q: grant daytwo's account get, sync and update on it in argocd-rbac-cm", ErrPermanent, c.opts.Server, app)
	case codes.Unauthenticated:
		return fmt.Errorf("%w: Argo CD at %s refused daytwo's token; check argocd.token", ErrPermanent, c.opts.Server)
	}
	return fmt.Errorf("argocd %s, application %q: %w", c.opts.Server, app, err)
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
