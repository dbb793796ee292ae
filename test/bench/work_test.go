package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// managerPage is a cmd/manager /metrics page with the OrderSaga controller's series, and
// the Saga controller's beside them, which must not count.
func managerPage(reconciles, errs, conflicts, behind int, reconcileSecs, queueSecs, callSecs float64) string {
	return fmt.Sprintf(`controller_runtime_reconcile_total{controller="ordersaga",result="error"} %d
controller_runtime_reconcile_total{controller="ordersaga",result="requeue_after"} 4
controller_runtime_reconcile_total{controller="ordersaga",result="success"} %d
controller_runtime_reconcile_total{controller="saga",result="success"} 1000
ordersaga_reconcile_requeues_total{kind="OrderSaga",reason="Conflict"} %d
ordersaga_reconcile_requeues_total{kind="OrderSaga",reason="CacheBehind"} %d
ordersaga_reconcile_requeues_total{kind="Saga",reason="Conflict"} 1000
ordersaga_sagas_finished_total{definition="OrderSaga",phase="Completed"} 10
controller_runtime_reconcile_time_seconds_sum{controller="ordersaga"} %g
controller_runtime_reconcile_time_seconds_sum{controller="saga"} 1000
workqueue_queue_duration_seconds_sum{controller="ordersaga",name="ordersaga"} %g
workqueue_queue_duration_seconds_count{controller="ordersaga",name="ordersaga"} 20
ordersaga_step_call_duration_seconds_sum{definition="OrderSaga",direction="action",outcome="Succeeded",step="CreateOrder"} %g
ordersaga_step_call_duration_seconds_count{definition="OrderSaga",direction="action",outcome="Succeeded",step="CreateOrder"} 60
ordersaga_step_call_duration_seconds_count{definition="checkout",direction="action",outcome="Succeeded",step="CreateOrder"} 1000
controller_runtime_active_workers{controller="ordersaga"} 7
workqueue_depth{controller="ordersaga",name="ordersaga",priority="0"} 3
workqueue_depth{controller="ordersaga",name="ordersaga",priority="-100"} 2
`, errs, reconciles-errs-4, conflicts, behind, reconcileSecs, queueSecs, callSecs)
}

func TestScrapeManagerAndWorkBetween(t *testing.T) {
	var page atomic.Value
	page.Store(managerPage(10, 1, 2, 3, 1.5, 0.25, 1.2))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(page.Load().(string)))
	}))
	defer srv.Close()
	before, err := scrapeManager(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	want := managerCounters{reconciles: 10, requeueAfter: 4, errors: 1, conflicts: 2, behind: 3, completed: 10,
		reconcileSecs: 1.5, dequeued: 20, queueSecs: 0.25, calls: 60, callSecs: 1.2}
	if before != want {
		t.Errorf("got %+v\nwant %+v", before, want)
	}
	page.Store(managerPage(30, 2, 5, 3, 4.5, 0.75, 1.2))
	after, err := scrapeManager(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	w := workBetween(before, after, gaugeStats{}, gaugeStats{})
	if w.Reconciles != 20 || w.Errors != 1 || w.Conflicts != 3 || w.Behind != 0 || w.ReconcileTime != 3*time.Second ||
		w.QueueTime != 500*time.Millisecond || w.Calls != 0 || w.CallTime != 0 {
		t.Errorf("got %+v", w)
	}
}

func TestGaugeStats(t *testing.T) {
	var g gaugeStats
	for _, v := range []float64{2, 4, 9} {
		g.add(v)
	}
	if g.Mean != 5 || g.Max != 9 || g.Samples != 3 {
		t.Errorf("got %+v", g)
	}
}

func TestMeanOf(t *testing.T) {
	if got := meanOf(3*time.Second, 4); got != 750*time.Millisecond {
		t.Errorf("meanOf(3s, 4) = %s", got)
	}
	if got := meanOf(time.Second, 0); got != 0 {
		t.Errorf("meanOf(1s, 0) = %s; want 0", got)
	}
}

func TestParseWriteTime(t *testing.T) {
	page := []byte(`apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 3
apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 10
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="resource",subresource="",verb="POST",version="v1alpha1"} 1
apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="resource",subresource="",verb="POST",version="v1alpha1"} 5
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="namespace",subresource="",verb="LIST",version="v1alpha1"} 100
apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="namespace",subresource="",verb="LIST",version="v1alpha1"} 100
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="resource",subresource="status",verb="PATCH",version="v1alpha1",le="0.005"} 1
`)
	got, err := parseWriteTime(page)
	if err != nil || got != (serverTime{count: 15, seconds: 4}) {
		t.Errorf("got %+v, %v; want 15 writes in 4 s", got, err)
	}
}
