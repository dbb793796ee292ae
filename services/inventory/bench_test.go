package inventory

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// BenchmarkReserveRelease measures one saga's inventory round trip over HTTP against the
// Mongo-compatible server: reserve two products, then release them.
func BenchmarkReserveRelease(b *testing.B) {
	f := newFixture(b)
	f.Do(http.MethodPut, "/v1/products/BENCH-1", `{"name":"Bench","price":"1.00","stock":1000000000}`).Want(b, http.StatusCreated, nil)
	i := 0
	start := time.Now()
	for b.Loop() {
		id := fmt.Sprintf("/v1/reservations/res-%d", i)
		i++
		f.Do(http.MethodPut, id, reserveBody(fmt.Sprintf("ord-%d", i), Item{"BENCH-1", 1}, Item{"HDP-001", 1})).Want(b, http.StatusCreated, nil)
		f.Do(http.MethodPost, id+"/release", nil).Want(b, http.StatusOK, nil)
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "roundtrips/s")
	if got := f.stock(b, "BENCH-1"); got != 1000000000 {
		b.Errorf("stock after %d round trips = %d, want it back at 1000000000", i, got)
	}
}
