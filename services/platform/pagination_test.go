package platform

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestPageTokenRoundTrip(t *testing.T) {
	tok := EncodePageToken("ord-42")
	if id, ok := decodePageToken(tok); !ok || id != "ord-42" {
		t.Errorf("decode(encode(ord-42)) = %q, %v", id, ok)
	}
	for _, bad := range []string{"garbage!", EncodePageToken("bad id"), "djE6"} {
		if _, ok := decodePageToken(bad); ok {
			t.Errorf("decodePageToken(%q) accepted", bad)
		}
	}
}

func TestParseList(t *testing.T) {
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/x?limit=7&orderId=o-1&pageToken="+EncodePageToken("b"), nil)
	p, e := ParseList(r, map[string]func(string) bool{"orderId": ValidID})
	if e != nil || p.Limit != 7 || p.After != "b" || p.Filters["orderId"] != "o-1" {
		t.Errorf("ParseList = %+v, %v", p, e)
	}
	r, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/x", nil)
	if p, _ := ParseList(r, nil); p.Limit != DefaultPageSize {
		t.Errorf("default limit = %d, want %d", p.Limit, DefaultPageSize)
	}
}

// FuzzTransitionBody covers the optional compensation body decoder: any input is decoded
// or refused with a 4xx.
func FuzzTransitionBody(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"reason":"out of stock"}`, `{"reason":1}`, `{"why":"x"}`, `null`, `{"reason":"a"} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req TransitionRequest
		if e := DecodeBytes(body, &req); e != nil && (e.Status < 400 || e.Status >= 500) {
			t.Fatalf("DecodeBytes(%q) = %+v, want a 4xx", body, e)
		}
	})
}

// FuzzFaultConfig covers the admin API decoder and validation.
func FuzzFaultConfig(f *testing.F) {
	for _, s := range []string{`{}`, `{"errorRate":0.5,"latency":"100ms","routes":["/v1/x"],"phase":"after"}`, `{"latency":5}`, `{"errorRate":-1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var cfg FaultConfig
		e := DecodeBytes(body, &cfg)
		if e == nil {
			e = cfg.Validate()
		}
		if e != nil && (e.Status != http.StatusBadRequest || e.Code == "") {
			t.Fatalf("decode/validate %q = %+v, want a 400", body, e)
		}
	})
}

func TestParseListOrderIDs(t *testing.T) {
	ids := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = "o-" + strconv.Itoa(i)
		}
		return strings.Join(s, ",")
	}
	type result struct {
		In    map[string][]string
		Field string // of the 400, "" when none
	}
	cases := map[string]struct {
		reason string
		query  string
		want   result
	}{
		"One": {
			reason: "A single ID is a list of one.",
			query:  "orderIds=o-1",
			want:   result{In: map[string][]string{"orderIds": {"o-1"}}},
		},
		"SortedAndDistinct": {
			reason: "The values are kept sorted, each once: duplicates are harmless.",
			query:  "orderIds=o-3,o-1,o-3,o-2,o-1",
			want:   result{In: map[string][]string{"orderIds": {"o-1", "o-2", "o-3"}}},
		},
		"EscapedCommas": {
			reason: "Commas are read after the query is unescaped.",
			query:  "orderIds=o-1%2Co-2",
			want:   result{In: map[string][]string{"orderIds": {"o-1", "o-2"}}},
		},
		"Hundred": {
			reason: "MaxOrderIDs IDs are admitted (and sorted as strings: o-10 before o-2).",
			query:  "orderIds=" + ids(MaxOrderIDs),
			want:   result{In: map[string][]string{"orderIds": slices.Sorted(slices.Values(strings.Split(ids(MaxOrderIDs), ",")))}},
		},
		"Absent": {
			reason: "Without the parameter, In holds nothing.",
			query:  "limit=3",
			want:   result{In: map[string][]string{}},
		},
		"WithAnotherFilter": {
			reason: "The list combines with the endpoint's other filters.",
			query:  "status=PENDING&orderIds=o-1",
			want:   result{In: map[string][]string{"orderIds": {"o-1"}}},
		},
		"Empty":             {reason: "An empty list is one empty value.", query: "orderIds=", want: result{Field: "orderIds"}},
		"EmptyInside":       {reason: "An empty value is refused.", query: "orderIds=o-1,,o-2", want: result{Field: "orderIds"}},
		"TrailingComma":     {reason: "A trailing comma leaves an empty value.", query: "orderIds=o-1,", want: result{Field: "orderIds"}},
		"LeadingComma":      {reason: "A leading comma leaves an empty value.", query: "orderIds=,o-1", want: result{Field: "orderIds"}},
		"BadID":             {reason: "Each value must be a valid ID.", query: "orderIds=o-1,-x", want: result{Field: "orderIds"}},
		"Space":             {reason: "Values are not trimmed.", query: "orderIds=o-1,%20o-2", want: result{Field: "orderIds"}},
		"TooMany":           {reason: "More than MaxOrderIDs values are refused.", query: "orderIds=" + ids(MaxOrderIDs+1), want: result{Field: "orderIds"}},
		"TooManyDuplicates": {reason: "The bound counts the values as given, duplicates included.", query: "orderIds=" + strings.Repeat("o-1,", MaxOrderIDs) + "o-1", want: result{Field: "orderIds"}},
		"Twice":             {reason: "A parameter is given once.", query: "orderIds=o-1&orderIds=o-2", want: result{Field: "orderIds"}},
		"WithOrderID":       {reason: "orderIds excludes orderId, and names itself.", query: "orderId=o-1&orderIds=o-1", want: result{Field: "orderIds"}},
		"WithBadOrderID":    {reason: "The pair is refused whatever the values.", query: "orderId=-x&orderIds=o-1", want: result{Field: "orderIds"}},
		"NotOffered":        {reason: "An endpoint without the filter does not know it.", query: "orderIdz=o-1", want: result{Field: "orderIdz"}},
	}
	allowed := map[string]func(string) bool{"orderId": ValidID, "status": func(v string) bool { return v == "PENDING" }}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/x?"+tc.query, nil)
			p, e := ParseList(r, allowed, OrderIDsFilter())
			got := result{In: p.In}
			if e != nil {
				got = result{Field: e.Field}
				if e.Status != http.StatusBadRequest || e.Code != CodeInvalidArgument || e.Message == "" {
					t.Errorf("error %+v, want a 400 %s with a message", e, CodeInvalidArgument)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nParseList(%q): -want, +got:\n%s", tc.reason, tc.query, diff)
			}
		})
	}
}

func TestAnyOf(t *testing.T) {
	p := ListParams{In: map[string][]string{"orderIds": {"o-1", "o-2"}}}
	want := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: []string{"o-1", "o-2"}}}}}
	if diff := cmp.Diff(want, AnyOf(p, "orderIds", "_id")); diff != "" {
		t.Errorf("AnyOf: -want, +got:\n%s", diff)
	}
	if got := AnyOf(ListParams{}, "orderIds", "orderId"); got != nil {
		t.Errorf("AnyOf(no list) = %v, want nil", got)
	}
}

func TestAfterID(t *testing.T) {
	tomb := bson.E{Key: "tombstone", Value: bson.D{{Key: "$ne", Value: true}}}
	in := func(ids ...string) bson.E {
		return bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: append([]string{}, ids...)}}}
	}
	gt := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: "o-2"}}}}
	cases := map[string]struct {
		reason string
		filter bson.D
		want   bson.D
		some   bool
	}{
		"NoIDCondition": {
			reason: "Without a condition on _id, the bound is added as _id: {$gt}.",
			filter: bson.D{tomb, {Key: "orderId", Value: bson.D{{Key: "$in", Value: []string{"o-1"}}}}},
			want:   bson.D{tomb, {Key: "orderId", Value: bson.D{{Key: "$in", Value: []string{"o-1"}}}}, gt[0]},
			some:   true,
		},
		"InKeepsLaterIDs": {
			reason: "An $in of _ids keeps those after the bound: one _id key, still a lone $in.",
			filter: bson.D{tomb, in("o-1", "o-2", "o-3", "o-4")},
			want:   bson.D{tomb, in("o-3", "o-4")},
			some:   true,
		},
		"InLeavesNothing": {
			reason: "When no _id is after the bound, nothing can match.",
			filter: bson.D{tomb, in("o-1", "o-2")},
			want:   bson.D{tomb, in()},
			some:   false,
		},
		"OtherIDCondition": {
			reason: "Another condition on _id is kept and the bound joins it by $and: _id may not appear twice.",
			filter: bson.D{tomb, {Key: "_id", Value: "o-3"}},
			want:   bson.D{tomb, {Key: "_id", Value: "o-3"}, {Key: "$and", Value: bson.A{gt}}},
			some:   true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := slices.Clone(tc.filter)
			got, some := afterID(slices.Clone(tc.filter), "o-2")
			if diff := cmp.Diff(tc.want, got); diff != "" || some != tc.some {
				t.Errorf("\nReason: %s\nafterID: some %v, want %v; filter -want, +got:\n%s", tc.reason, some, tc.some, diff)
			}
			if diff := cmp.Diff(before, tc.filter); diff != "" {
				t.Errorf("afterID changed the caller's conditions: -before, +after:\n%s", diff)
			}
		})
	}
}
