package mongoserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// startPatched starts the launcher (never MONGO_TEST_URI: these tests are about it) and
// returns a collection holding the documents d0 … d49, each {status: "P"}.
func startPatched(t *testing.T) *mongo.Collection {
	t.Helper()
	if os.Getenv(EnvURI) != "" {
		t.Skip("MONGO_TEST_URI is set: the tests of the launcher's patches need the launcher")
	}
	srv, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI).SetServerSelectionTimeout(20 * time.Second))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	// Before Stop (cleanups run last first): an open connection makes FerretDB's shutdown wait.
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := client.Database("mongoserver_test").Collection("c")
	docs := make([]any, 0, 50)
	for i := range 50 {
		docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("d%d", i)}, {Key: "status", Value: "P"}})
	}
	if _, err := coll.InsertMany(t.Context(), docs); err != nil {
		t.Fatalf("insert: %v", err)
	}
	return coll
}

// Every filter that names an _id is answered from the _id index, whatever else it holds
// (hack/ferretdb/_patched): FerretDB v1.24.2 as released scanned the table for all of them.
func TestFiltersOnIDUseTheIDIndex(t *testing.T) {
	coll := startPatched(t)
	for _, tc := range []struct {
		filter bson.D
		index  bool
	}{
		{bson.D{{Key: "_id", Value: "d7"}}, true},
		{bson.D{{Key: "_id", Value: "d7"}, {Key: "status", Value: "P"}}, true},
		{bson.D{{Key: "status", Value: "P"}, {Key: "_id", Value: "d7"}}, true},
		{bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"d1", "d2"}}}}}, true},
		{bson.D{{Key: "status", Value: "P"}}, false},
		{bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: "d1"}}}}, false},
	} {
		var out struct {
			QueryPlanner struct {
				Plan []string `bson:"Plan"`
			} `bson:"queryPlanner"`
			FilterPushdown bool `bson:"filterPushdown"`
		}
		cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: coll.Name()}, {Key: "filter", Value: tc.filter}}}}
		if err := coll.Database().RunCommand(t.Context(), cmd).Decode(&out); err != nil {
			t.Fatalf("explain %v: %v", tc.filter, err)
		}
		plan := strings.Join(out.QueryPlanner.Plan, "; ")
		if usesIndex := strings.Contains(plan, "USING INDEX"); usesIndex != tc.index || out.FilterPushdown != tc.index {
			t.Errorf("explain %v: filterPushdown %v, plan %q; want the _id index: %v", tc.filter, out.FilterPushdown, plan, tc.index)
		}
	}
}

// The pushdown only narrows what is read: the rest of the filter still decides.
func TestFiltersOnIDStillApplyTheirOtherConditions(t *testing.T) {
	coll := startPatched(t)
	ctx := t.Context()
	for filter, want := range map[string]int64{
		`{"_id": "d7", "status": "P"}`:                  1,
		`{"_id": "d7", "status": "Q"}`:                  0,
		`{"_id": "nope", "status": "P"}`:                0,
		`{"_id": {"$in": ["d1", "d2", "nope"]}}`:        2,
		`{"_id": {"$in": ["d1", "d2"]}, "status": "Q"}`: 0,
	} {
		var f bson.D
		if err := bson.UnmarshalExtJSON([]byte(filter), false, &f); err != nil {
			t.Fatalf("parse %s: %v", filter, err)
		}
		if n, err := coll.CountDocuments(ctx, f); err != nil || n != want {
			t.Errorf("count %s = %d, %v; want %d", filter, n, err, want)
		}
	}
	// A conditional update applies once, then its condition refuses it.
	filter := bson.D{{Key: "_id", Value: "d7"}, {Key: "status", Value: "P"}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "C"}}}}
	if err := coll.FindOneAndUpdate(ctx, filter, update).Err(); err != nil {
		t.Fatalf("first conditional update: %v", err)
	}
	if err := coll.FindOneAndUpdate(ctx, filter, update).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("second conditional update = %v, want no document", err)
	}
	// Updates and deletes by _id (UPDATE/DELETE ... WHERE on the _id expression) find their row.
	if res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "d8"}}, update); err != nil || res.ModifiedCount != 1 {
		t.Errorf("update by _id: %+v, %v; want one modified", res, err)
	}
	if res, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "d9"}}); err != nil || res.DeletedCount != 1 {
		t.Errorf("delete by _id: %+v, %v; want one deleted", res, err)
	}
	if n, err := coll.CountDocuments(ctx, bson.D{{Key: "status", Value: "C"}}); err != nil || n != 2 {
		t.Errorf("documents changed: %d, %v; want d7 and d8", n, err)
	}
}

// Concurrent writers to one database queue for its write lock in the server
// (hack/ferretdb/_patched): none is lost, none fails, and a duplicate _id is still refused.
func TestConcurrentWritesAllLand(t *testing.T) {
	coll := startPatched(t)
	const writers, each = 20, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				if _, err := coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: id}, {Key: "n", Value: 0}}); err != nil {
					errs <- fmt.Errorf("insert %s: %w", id, err)
				}
				if _, err := coll.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}); err != nil {
					errs <- fmt.Errorf("update %s: %w", id, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := coll.CountDocuments(t.Context(), bson.D{{Key: "n", Value: 1}}); err != nil || n != writers*each {
		t.Errorf("documents written and updated: %d, %v; want %d", n, err, writers*each)
	}
	if _, err := coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: "w0-0"}}); !mongo.IsDuplicateKeyError(err) {
		t.Errorf("insert of an existing _id = %v, want a duplicate key error", err)
	}
	// A failed write gives the database's write token back: a writer after it is not left
	// waiting for a token nobody holds (the bound is generous; a kept token waits for ever).
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "after-failure"}}); err != nil {
		t.Errorf("insert after a refused write = %v, want it to land", err)
	}
}
