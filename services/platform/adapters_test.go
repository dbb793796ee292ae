package platform

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestOnFirstAnswerRecordsOnlyFirstAnswers(t *testing.T) {
	declined := RespondError(NewError(http.StatusPaymentRequired, "DECLINED", "no"))
	for _, tc := range []struct {
		name     string
		replayed bool
		err      error
		want     int
	}{{"first", false, nil, 1}, {"replay", true, nil, 0}, {"error", false, errors.New("boom"), 0}} {
		recorded := 0
		create := OnFirstAnswer(func(context.Context, string, int, string) (StoredResponse, bool, error) {
			return declined, tc.replayed, tc.err
		}, func(resp StoredResponse) {
			if resp != declined {
				t.Errorf("%s: recorded %+v, want the create's answer", tc.name, resp)
			}
			recorded++
		})
		resp, replayed, err := create(t.Context(), "id", 1, "key")
		if resp != declined || replayed != tc.replayed || !errors.Is(err, tc.err) {
			t.Errorf("%s: = %+v, %v, %v; want the create's results unchanged", tc.name, resp, replayed, err)
		}
		if recorded != tc.want {
			t.Errorf("%s: recorded %d times, want %d", tc.name, recorded, tc.want)
		}
	}
}

func TestCreateAndCompensationOutcomes(t *testing.T) {
	ok, _ := Respond(http.StatusCreated, map[string]string{"id": "p-1"})
	refused := RespondError(NewError(http.StatusPaymentRequired, "DECLINED", "no"))
	if got := CreateOutcome(ok, "captured", "declined"); got != "captured" {
		t.Errorf("CreateOutcome(success) = %q", got)
	}
	if got := CreateOutcome(refused, "captured", "declined"); got != "declined" {
		t.Errorf("CreateOutcome(error answer) = %q", got)
	}
	for _, tc := range []struct {
		tombstone, changed bool
		want               string
	}{{true, false, "tombstone"}, {false, true, "refunded"}, {false, false, "noop"}} {
		if got := CompensationOutcome(tc.tombstone, tc.changed, "refunded", "noop"); got != tc.want {
			t.Errorf("CompensationOutcome(%v, %v) = %q, want %q", tc.tombstone, tc.changed, got, tc.want)
		}
	}
}

func TestCompensationViewCountsSuccessesByOutcome(t *testing.T) {
	type doc struct {
		Idem
		Status string
	}
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_total", Help: "Test outcomes."}, []string{"outcome"})
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		d       doc
		changed bool
		err     error
		label   string
	}{
		{"Tombstone", doc{Idem: Idem{Tombstone: true}, Status: "REFUNDED"}, false, nil, "tombstone"},
		{"Changed", doc{Status: "REFUNDED"}, true, nil, "refunded"},
		{"Unchanged", doc{Status: "DECLINED"}, false, nil, "noop"},
		{"Error", doc{}, false, boom, ""},
	} {
		before := outcomeCounts(outcomes)
		run := CompensationView(func(_ context.Context, id, reason string) (doc, bool, error) {
			if id != "pay-1" || reason != "why" {
				t.Errorf("%s: undo(%q, %q), want the handler's ID and reason", tc.name, id, reason)
			}
			return tc.d, tc.changed, tc.err
		}, func(d doc) string { return d.Status }, outcomes, "refunded", "noop")
		out, err := run(t.Context(), "pay-1", "why")
		if tc.err != nil {
			if out != nil || !errors.Is(err, tc.err) {
				t.Errorf("%s: = %v, %v; want nil and the error", tc.name, out, err)
			}
		} else if out != tc.d.Status || err != nil {
			t.Errorf("%s: = %v, %v; want the view %q", tc.name, out, err, tc.d.Status)
		}
		checkCounted(t, tc.name, before, outcomeCounts(outcomes), tc.label)
	}
}

// checkCounted fails t unless after is before with one more label, or the same when label
// is empty.
func checkCounted(t *testing.T, name string, before, after map[string]float64, label string) {
	t.Helper()
	for l, got := range after {
		want := before[l]
		if l == label {
			want++
		}
		if got != want {
			t.Errorf("%s: outcome %q counted %v, want %v", name, l, got, want)
		}
	}
}

// outcomeCounts returns the value of each label a compensation outcome can have.
func outcomeCounts(outcomes *prometheus.CounterVec) map[string]float64 {
	counts := map[string]float64{}
	for _, l := range []string{"tombstone", "refunded", "noop"} {
		counts[l] = testutil.ToFloat64(outcomes.WithLabelValues(l))
	}
	return counts
}

func TestGetViewAndListView(t *testing.T) {
	view := func(n int) string { return "abc"[n : n+1] }
	get := GetView(func(_ context.Context, id string) (int, error) {
		if id == "missing" {
			return 0, NewError(http.StatusNotFound, "NOT_FOUND", "missing")
		}
		return 1, nil
	}, view)
	if out, err := get(t.Context(), "x"); err != nil || out != "b" {
		t.Errorf("get = %v, %v; want b", out, err)
	}
	if out, err := get(t.Context(), "missing"); err == nil || out != nil {
		t.Errorf("get(missing) = %v, %v; want nil and the error", out, err)
	}
	list := ListView(func(context.Context, ListParams) ([]int, string, error) { return []int{0, 2}, "tok", nil }, view)
	out, err := list(t.Context(), ListParams{})
	want := ListResponse[string]{Items: []string{"a", "c"}, NextPageToken: "tok"}
	if err != nil || !reflect.DeepEqual(out, want) {
		t.Errorf("list = %+v, %v; want %+v", out, err, want)
	}
}

func TestEqualFilters(t *testing.T) {
	p := ListParams{Filters: map[string]string{"status": "PENDING", "customerId": "c-1", "other": "x"}}
	want := bson.D{{Key: "customerId", Value: "c-1"}, {Key: "status", Value: "PENDING"}}
	if got := EqualFilters(p, "customerId", "status", "orderId"); !reflect.DeepEqual(got, want) {
		t.Errorf("EqualFilters = %v, want %v", got, want)
	}
	if got := EqualFilters(ListParams{Filters: map[string]string{}}, "orderId"); got != nil {
		t.Errorf("EqualFilters(no filter) = %v, want nil", got)
	}
}
