package bench

import "testing"

func TestCounterSum(t *testing.T) {
	page := []byte(`# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="ordersaga",result="error"} 2
controller_runtime_reconcile_total{controller="ordersaga",result="requeue"} 0
controller_runtime_reconcile_total{controller="ordersaga",result="requeue_after"} 1.5e+01
controller_runtime_reconcile_total{controller="ordersaga",result="success"} 300
controller_runtime_reconcile_total{controller="saga",result="success"} 7
controller_runtime_reconcile_total_other{controller="ordersaga"} 1000
ordersaga_sagas_finished_total{definition="",phase="Completed"} 40
ordersaga_sagas_finished_total{definition="",phase="Compensated"} 3
ordersaga_sagas_finished_total{definition="checkout",phase="Completed"} 2
go_goroutines 12
`)
	cases := []struct {
		name  string
		match map[string]string
		want  float64
	}{
		{"controller_runtime_reconcile_total", map[string]string{"controller": "ordersaga"}, 317},
		{"controller_runtime_reconcile_total", nil, 324},
		{"controller_runtime_reconcile_total", map[string]string{"controller": "ordersaga", "result": "success"}, 300},
		{"controller_runtime_reconcile_total", map[string]string{"missing": "x"}, 0},
		{"ordersaga_sagas_finished_total", map[string]string{"phase": "Completed"}, 42},
		{"go_goroutines", nil, 12},
		{"go_goroutine", nil, 0},
		{"workqueue_depth", map[string]string{"name": "ordersaga"}, 0},
	}
	for _, c := range cases {
		got, err := counterSum(page, c.name, c.match)
		if err != nil || got != c.want {
			t.Errorf("%s %v: got %v, %v; want %v", c.name, c.match, got, err, c.want)
		}
	}
	if _, err := counterSum([]byte("x_total{a=\"1\"} nope\n"), "x_total", nil); err == nil {
		t.Error("an unreadable value: want an error")
	}
}
