package platform_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/ordersaga/ordersaga/services/platform"
)

func TestCommandCollection(t *testing.T) {
	for _, tc := range []struct {
		cmd  bson.D
		want string
	}{
		{bson.D{{Key: "find", Value: "orders"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: "ord-1"}}}}, "orders"},
		{bson.D{{Key: "findAndModify", Value: "products"}, {Key: "query", Value: bson.D{}}}, "products"},
		{bson.D{{Key: "getMore", Value: int64(42)}, {Key: "collection", Value: "moves"}}, "moves"},
		{bson.D{{Key: "ping", Value: 1}}, ""},
		{bson.D{}, ""},
	} {
		raw, err := bson.Marshal(tc.cmd)
		if err != nil {
			t.Fatalf("marshal %v: %v", tc.cmd, err)
		}
		if got := platform.CommandCollection(raw); got != tc.want {
			t.Errorf("CommandCollection(%v) = %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

// The monitor counts each command when it starts and times it when it ends, by command and
// collection, and the server exports both with its service label.
func TestStoreMetricsOnTheServersMetrics(t *testing.T) {
	store := platform.NewStoreMetrics()
	srv, err := platform.NewServer(platform.Options{Service: "order", Store: store})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	m := store.Monitor()
	raw, err := bson.Marshal(bson.D{{Key: "insert", Value: "orders"}})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	for id := range int64(2) {
		m.Started(context.Background(), &event.CommandStartedEvent{Command: raw, CommandName: "insert", RequestID: id})
	}
	m.Succeeded(context.Background(), &event.CommandSucceededEvent{CommandFinishedEvent: event.CommandFinishedEvent{
		CommandName: "insert", RequestID: 0, Duration: 3 * time.Millisecond}})
	m.Failed(context.Background(), &event.CommandFailedEvent{CommandFinishedEvent: event.CommandFinishedEvent{
		CommandName: "insert", RequestID: 1, Duration: time.Millisecond}})
	want := `
# HELP ordersaga_store_commands_total Commands sent to the store (MongoDB wire protocol) by command name and collection.
# TYPE ordersaga_store_commands_total counter
ordersaga_store_commands_total{collection="orders",command="insert",service="order"} 2
`
	if err := testutil.GatherAndCompare(srv.Metrics().Registry(), strings.NewReader(want), "ordersaga_store_commands_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(store, "ordersaga_store_command_duration_seconds"); n != 1 {
		t.Errorf("duration series = %d, want 1 (insert on orders)", n)
	}
}
