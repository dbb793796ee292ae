package shard

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// errCut is what a cutClient answers once cut.
var errCut = errors.New("test: cut off from the API server")

// cutClient passes calls through to Client until cut is set, then fails every one of them:
// a replica cut off from the API server, or (cut and stopped) a crashed one whose Lease
// stays behind.
type cutClient struct {
	client.Client
	cut atomic.Bool
}

func (c *cutClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Client.Get(ctx, key, obj, opts...) //nolint:wrapcheck // a transparent stand-in for the client: callers match the API status error itself
}

func (c *cutClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Client.List(ctx, list, opts...) //nolint:wrapcheck // a transparent stand-in for the client: callers match the API status error itself
}

func (c *cutClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Client.Create(ctx, obj, opts...) //nolint:wrapcheck // a transparent stand-in for the client: callers match the API status error itself
}

func (c *cutClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Client.Update(ctx, obj, opts...) //nolint:wrapcheck // a transparent stand-in for the client: callers match the API status error itself
}

func (c *cutClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Client.Patch(ctx, obj, patch, opts...) //nolint:wrapcheck // a transparent stand-in for the client: callers match the API status error itself
}

func (c *cutClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Client.Delete(ctx, obj, opts...) //nolint:wrapcheck // a transparent stand-in for the client: callers match the API status error itself
}

// fakeClock is a Config.Clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fired reports whether ch holds a notification, consuming it.
func fired(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
