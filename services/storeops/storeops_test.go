package storeops

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// scenario is one way through the order saga.
type scenario struct {
	name string
	// price and country shape the saga: 6000.00 is declined (above 5000.00), AQ refused.
	price, country string
	requests       func(saga) []request
	// budget is the most store commands the saga may cost; more is a regression.
	budget float64
}

func scenarios() []scenario {
	return []scenario{
		{"happy path", "1.00", "US", saga.happy, 10},
		{"payment declined", "6000.00", "US", saga.declined, 16},
		{"shipment refused", "1.00", "AQ", saga.refused, 20},
	}
}

// TestStoreOperationsPerSaga counts the store commands of one saga of each scenario, by
// route, service, command and collection, checks that every query addresses documents by
// _id, and holds each scenario to its budget. Run it with -v to see the tables that
// docs/services.md shows.
func TestStoreOperationsPerSaga(t *testing.T) {
	s := newStack(t)
	for i, sc := range scenarios() {
		t.Run(strings.ReplaceAll(sc.name, " ", "_"), func(t *testing.T) {
			g := saga{uid: fmt.Sprintf("ops%d", i), product: fmt.Sprintf("OPS-%d", i), price: sc.price, country: sc.country}
			if err := s.run(t.Context(), []request{g.stockUp()}, nil); err != nil {
				t.Fatal(err)
			}
			firstQuery := s.queries.len()
			routes, total := measure(t, s, sc.requests(g))
			queries := s.queries.since(firstQuery)
			for _, q := range queries {
				if !byID(q.filter) {
					t.Errorf("%s: %s on %s with filter %s does not address documents by _id: a scan", q.service, q.command, q.collection, q.filter)
				}
			}
			byService := make([]string, 0, len(total))
			for _, k := range total.sortedKeys() {
				byService = append(byService, fmt.Sprintf("| %s | %s | %s | %g |", k.service, k.command, k.collection, total[k]))
			}
			t.Logf("%s: %g store commands per saga, %d of them queries by _id\n| route | store commands |\n|---|---|\n%s\n\n| service | command | collection | per saga |\n|---|---|---|---|\n%s",
				sc.name, total.total(), len(queries), strings.Join(routes, "\n"), strings.Join(byService, "\n"))
			if total.total() > sc.budget {
				t.Errorf("%s costs %g store commands, over its budget of %g", sc.name, total.total(), sc.budget)
			}
		})
	}
}

// measure runs a saga's requests in turn and returns a table row per request with the store
// commands it cost, and the commands of the whole saga.
func measure(t *testing.T, s *stack, reqs []request) (routes []string, total counts) {
	t.Helper()
	start := s.storeCommands(t)
	prev := start
	err := s.run(t.Context(), reqs, func(r request) {
		now := s.storeCommands(t)
		routes = append(routes, fmt.Sprintf("| `%s` | %s |", r.route(), describe(now.minus(prev))))
		prev = now
	})
	if err != nil {
		t.Fatal(err)
	}
	return routes, prev.minus(start)
}

// describe lists counts as "find products, insert moves ×2", by command name.
func describe(c counts) string {
	if len(c) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(c))
	for _, k := range c.sortedKeys() {
		p := k.command + " " + k.collection
		if c[k] != 1 {
			p += fmt.Sprintf(" ×%g", c[k])
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// byID says whether filter f names one _id (a string) or a list of them ($in), whatever
// else it holds: MongoDB answers it from the _id index, and so does the launcher's FerretDB
// (hack/ferretdb/_patched). Any other filter reads the whole collection.
func byID(f bson.Raw) bool {
	v, err := f.LookupErr("_id")
	if err != nil {
		return false
	}
	if _, ok := v.StringValueOK(); ok {
		return true
	}
	doc, ok := v.DocumentOK()
	if !ok {
		return false
	}
	in, ok := doc.Lookup("$in").ArrayOK()
	if !ok {
		return false
	}
	vals, err := in.Values()
	if err != nil || len(vals) == 0 {
		return false
	}
	for _, v := range vals {
		if _, ok := v.StringValueOK(); !ok {
			return false
		}
	}
	return true
}

// concurrency is how many sagas run at once, as in test/e2e/measure_test.go.
const concurrency = 20

// BenchmarkSagas runs b.N happy-path sagas, concurrency at a time, each buying one unit of
// a product of its own (stocked with five beforehand, untimed), and reports sagas per
// second, store commands per saga and the mean time of each route and store command:
//
//	go test ./services/storeops -run '^$' -bench Sagas -benchtime 100x
func BenchmarkSagas(b *testing.B) {
	s := newStack(b)
	ctx := b.Context()
	sagas := make([]saga, b.N)
	for i := range sagas {
		sagas[i] = saga{uid: fmt.Sprintf("bench%d-%d", b.N, i), product: fmt.Sprintf("BENCH-%d-%d", b.N, i), price: "1.00", country: "US"}
		if err := s.run(ctx, []request{sagas[i].stockUp()}, nil); err != nil {
			b.Fatal(err)
		}
	}
	cmdsBefore, timesBefore := s.storeCommands(b), s.durations(b)
	b.ResetTimer()
	begin := time.Now()
	if err := runAll(ctx, s, sagas); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(begin)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sagas/s")
	b.ReportMetric(s.storeCommands(b).minus(cmdsBefore).total()/float64(b.N), "storecmds/saga")
	var lines []string
	for label, v := range s.durations(b) {
		before := timesBefore[label]
		if n := v[1] - before[1]; n > 0 {
			lines = append(lines, fmt.Sprintf("%-60s %6.0f × %8.2f ms", label, n, (v[0]-before[0])/n*1000))
		}
	}
	slices.Sort(lines)
	b.Logf("%d sagas in %s; mean time per route and per store command:\n%s", b.N, elapsed.Round(time.Millisecond), strings.Join(lines, "\n"))
}

// runAll runs the happy path of every saga, concurrency at a time.
func runAll(ctx context.Context, s *stack, sagas []saga) error {
	work := make(chan saga)
	errs := make(chan error, concurrency)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for g := range work {
				if err := s.run(ctx, g.happy(), nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for _, g := range sagas {
		select {
		case work <- g:
		case err = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err != nil {
		return err
	}
	return <-errs // nil once closed and empty
}
