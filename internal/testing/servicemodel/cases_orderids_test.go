package servicemodel_test

import (
	"net/http"
	"strings"
)

// The orderIds filter of the lists of orders, payments, shipments and notifications: the
// records of many orders in one call (the GraphQL gateway's batches). Each service's cases
// file holds its batch reads and pages; the refusals are the same on every list.

// listed expects a list answer whose items carry ids under idKey, in that order, and no
// next page unless a plus says otherwise.
func listed(idKey string, ids ...string) want {
	return want{status: http.StatusOK, idKey: idKey, listed: append([]string{}, ids...), has: map[string]any{"nextPageToken": nil}}
}

// orderIDs returns n order IDs o-0 … o-<n-1>, separated by commas.
func orderIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "o-" + itoa(i)
	}
	return strings.Join(ids, ",")
}

// orderIDsRefusals is the case of the 400s of the orderIds filter on the list at path, and
// of the lists it admits at its limits.
func orderIDsRefusals(path string) contractCase {
	return contractCase{name: "OrderIDsRefusals", steps: []step{
		get(path+"?orderIds=", invalid("orderIds")),
		get(path+"?orderIds=o-1,,o-2", invalid("orderIds")),
		get(path+"?orderIds=o-1,", invalid("orderIds")),
		get(path+"?orderIds=,o-1", invalid("orderIds")),
		get(path+"?orderIds=o-1,-x", invalid("orderIds")),
		get(path+"?orderIds=o-1,o%202", invalid("orderIds")),
		get(path+"?orderIds=o-1,"+runes(129, "o"), invalid("orderIds")),
		get(path+"?orderIds="+orderIDs(101), invalid("orderIds")),
		get(path+"?orderIds="+strings.Repeat("o-1,", 100)+"o-1", invalid("orderIds")), // duplicates count
		get(path+"?orderIds=o-1&orderId=o-1", invalid("orderIds")),
		get(path+"?orderId=o-1&orderIds=o-1", invalid("orderIds")),
		get(path+"?orderIds=o-1&orderId=-x", invalid("orderIds")), // the pair is refused whatever the values
		get(path+"?orderIds=o-1&orderIds=o-2", invalid("orderIds")),
		get(path+"?orderIds=o-1&limit=0", invalid("limit")),
		get(path+"?orderIds=o-1&pageToken=garbage", invalid("pageToken")),
		get(path+"?orderIds="+orderIDs(100), is(http.StatusOK, "items", list())),
		get(path+"?orderIds=o-1%2Co-2", is(http.StatusOK, "items", list())),
	}}
}
