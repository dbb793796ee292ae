package inventory

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// TestHotProductDocumentStaysSmall takes one unit of one product for each of 10,000
// reservations and checks, every 25 takes, that the product's raw document stays within a
// bound that does not depend on the number of reservations.
//
// Why the bound holds for any N: the document holds fixed-size fields and its tokens; each
// take pushes one and records its move, and the take that brings the count to compactAt
// compacts, which pulls every token it read (all recorded). Run one after another, the
// takes leave k mod compactAt tokens after take k, so the document cycles through the
// same compactAt sizes (tokens here have one length) whatever N; N only makes the ledger,
// not the product, grow. Concurrent takes add at most one token per take in flight.
//
// It drives the store's take path (read, insert the reservation, take, record, compact)
// without HTTP and without the final PENDING → RESERVED claim: on FerretDB that
// conditional update scans the reservations, which makes 10,000 of them quadratic (about
// an hour); the claim never touches the product. Takes run one after another: FerretDB is
// slower with concurrent ones (measured: 7.5 min with four workers against 3 min).
func TestHotProductDocumentStaysSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: 10,000 reservations take minutes on FerretDB")
	}
	const n = 10_000
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/products/BIG-1", `{"name":"Big","price":"1.00","stock":1000000}`).Want(t, http.StatusCreated, nil)
	empty, _ := f.rawSize(t, "BIG-1")
	// An "r:res-NNNNN" token is one BSON array element: type, key ("0"-"99") and NUL,
	// length, 11 bytes and NUL: at most 21 bytes; the array field itself adds 14.
	bound := empty + 14 + (compactAt-1)*21
	start, largest := time.Now(), 0
	for i := range n {
		f.takeOne(t, fmt.Sprintf("res-%05d", i), "BIG-1")
		if i%25 == 0 || i == n-1 {
			size, tokens := f.rawSize(t, "BIG-1")
			largest = max(largest, size)
			if size > bound || tokens >= compactAt {
				t.Fatalf("after %d takes the product document is %d bytes with %d tokens, want at most %d bytes and fewer than %d tokens",
					i+1, size, tokens, bound, compactAt)
			}
		}
	}
	t.Logf("%d takes in %s; product document: %d bytes empty, largest seen %d, bound %d",
		n, time.Since(start).Round(time.Second), empty, largest, bound)
	if got := f.stock(t, "BIG-1"); got != 1000000-n {
		t.Errorf("stock = %d, want %d", got, 1000000-n)
	}
	f.sweep(t)
	if size, tokens := f.rawSize(t, "BIG-1"); size > empty+14 || tokens != 0 {
		t.Errorf("after the sweep the document is %d bytes with %d tokens, want at most %d and none", size, tokens, empty+14)
	}
	if held := f.held(t, "BIG-1"); held != n {
		t.Errorf("the ledger holds %d units, want %d (one per take)", held, n)
	}
}

// takeOne runs reservation id's take of one unit of product as Reserve does, minus the claim.
func (f fixture) takeOne(t testing.TB, id, product string) {
	t.Helper()
	t0 := platformtest.T0()
	d := ReservationDocument{ID: id, OrderID: "ord-" + id, Items: []Item{{product, 1}}, Status: Pending, CreatedAt: t0, UpdatedAt: t0}
	before, err := f.store.productsByID(t.Context(), d.Items)
	if err != nil {
		t.Fatalf("read products for %s: %v", id, err)
	}
	if _, err := f.store.reservations.InsertOne(t.Context(), d); err != nil {
		t.Fatalf("insert reservation %s: %v", id, err)
	}
	if e, err := f.store.takeAll(t.Context(), d, before); e != nil || err != nil {
		t.Fatalf("take for %s: %v, %v", id, e, err)
	}
}

// rawSize returns the BSON size of product id's document, read raw, and its token count.
func (f fixture) rawSize(t testing.TB, id string) (size, tokens int) {
	t.Helper()
	raw, err := f.DB.Collection("products").FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatalf("read product %s: %v", id, err)
	}
	if arr, ok := raw.Lookup("pending").ArrayOK(); ok {
		if vals, err := arr.Values(); err == nil {
			tokens = len(vals)
		}
	}
	return len(raw), tokens
}
