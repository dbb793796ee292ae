package platform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// ConnectMongo returns a client for uri. The driver connects lazily, so this succeeds while
// MongoDB is still starting; Server.Run retries the service's set-up until it is reachable.
// When store is not nil, it counts the client's commands (see StoreMetrics).
func ConnectMongo(uri, appName string, store *StoreMetrics) (*mongo.Client, error) {
	opts := options.Client().ApplyURI(uri).
		SetAppName(appName).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second)
	if store != nil {
		opts.SetMonitor(store.Monitor())
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to mongo: %w", err)
	}
	return c, nil
}

// MongoPinger returns a readiness check that pings c within two seconds.
func MongoPinger(c *mongo.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := c.Ping(ctx, readpref.Primary()); err != nil {
			return fmt.Errorf("ping mongo: %w", err)
		}
		return nil
	}
}

// Index describes a secondary index by its keys in order (field name → 1 or -1).
type Index struct {
	Keys   bson.D
	Unique bool
}

// EnsureIndexes creates the indexes on coll; creating an existing index is a no-op, so this
// runs at every start-up. One command per index: FerretDB v1 panics when a createIndexes
// command with several indexes meets existing ones.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, indexes ...Index) error {
	for _, ix := range indexes {
		m := mongo.IndexModel{Keys: ix.Keys}
		if ix.Unique {
			m.Options = options.Index().SetUnique(true)
		}
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create index on %s: %w", coll.Name(), err)
		}
	}
	return nil
}

// ErrNotFound is what FindByID returns when there is no document, and what a
// compensation's apply function returns then (see Compensate).
var ErrNotFound = errors.New("not found")

// FindByID returns the document with _id id in coll, or ErrNotFound when there is none;
// any other failure is wrapped as "get <kind> <id>: ...".
func FindByID[D any](ctx context.Context, coll *mongo.Collection, kind, id string) (D, error) {
	var d D
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d) //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("get %s %s: %w", kind, id, err)
	}
	return d, nil
}

// GetByID is FindByID for an API answer: when there is no document the error is
// notFound(id), the service's 404.
func GetByID[D any](ctx context.Context, coll *mongo.Collection, kind, id string, notFound func(id string) *APIError) (D, error) {
	d, err := FindByID[D](ctx, coll, kind, id)
	if errors.Is(err, ErrNotFound) {
		return d, notFound(id)
	}
	return d, err
}
