package argoapi

import (
	"context"
	"errors"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"k8s.io/apimachinery/pkg/watch"
)

// AppEvent is one application's state from WatchApps; Deleted when the application is gone.
type AppEvent struct {
	State
	Deleted bool
}

// WatchOptions narrow WatchApps.
type WatchOptions struct {
	// Selector is a Kubernetes label selector of the Applications ("" for all).
	Selector string
	// Keep, when set, says which applications, by name, the caller wants.
	Keep func(app string) bool
	// Reconnected, when set, is called each time the stream is opened again after it ended
	// or broke (a caller may then look again at what it missed).
	Reconnected func(err error)
}

// WatchApps streams the state of every Application daytwo's account may read, through
// argocd-server's watch with no name: each application first, then each change, as it
// happens. A stream that ends or breaks (Argo CD restarting, a proxy's timeout) is opened
// again, with a backoff from one second to thirty while it fails; the new stream starts
// with every application again, so nothing changed meanwhile is missed. It returns when
// ctx ends (nil) or Argo CD refuses daytwo's token or account (an error wrapping
// ErrPermanent).
func (c *Client) WatchApps(ctx context.Context, opts WatchOptions, onEvent func(AppEvent)) error {
	q := &application.ApplicationQuery{}
	if opts.Selector != "" {
		q.Selector = &opts.Selector
	}
	if c.opts.AppNamespace != "" {
		q.AppNamespace = &c.opts.AppNamespace
	}
	wait := time.Second
	for {
		err := c.watchOnce(ctx, q, opts.Keep, onEvent, func() { wait = time.Second })
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if err = c.explain("*", err); errors.Is(err, ErrPermanent) {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
		if opts.Reconnected != nil {
			opts.Reconnected(err)
		}
	}
}

// watchOnce reads one stream to its end; received is called on the first event.
func (c *Client) watchOnce(ctx context.Context, q *application.ApplicationQuery, keep func(string) bool, onEvent func(AppEvent), received func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.apps.Watch(ctx, q)
	if err != nil {
		return err
	}
	for first := true; ; first = false {
		ev, err := stream.Recv()
		if err != nil {
			return err
		}
		if first {
			received()
		}
		if keep != nil && !keep(ev.Application.Name) {
			continue
		}
		onEvent(AppEvent{State: StateOf(&ev.Application), Deleted: ev.Type == watch.Deleted})
	}
}
