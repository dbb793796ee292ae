package platformtest

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
)

// T0 is the time on the clock (Config.Now) of every service under test: timestamps are
// then known in advance, and answers can be compared whole.
func T0() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }

// SetUpper is what a service package's Register returns: the service, whose SetUp prepares
// the database.
type SetUpper interface {
	SetUp(ctx context.Context) error
}

// Fixture is a service under test together with the service value its Register returned,
// for tests that look behind the HTTP API.
type Fixture[S SetUpper] struct {
	Service
	Svc S
}

// NewFixture serves the service that register creates with cfg (a service package's
// Register and Config) on a database of its own (see NewService), after its SetUp. The
// package's TestMain must be Main.
func NewFixture[C any, S SetUpper](t testing.TB, service string, register func(*platform.Server, *mongo.Database, C) S, cfg C) Fixture[S] {
	t.Helper()
	var svc S
	s := NewService(t, service, func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
		svc = register(srv, db, cfg)
		return svc.SetUp(ctx)
	})
	return Fixture[S]{Service: s, Svc: svc}
}
