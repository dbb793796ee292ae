package platform

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// List page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// ListResponse is the shape of every list endpoint: a page of items sorted by ID and, when
// more remain, the opaque token of the next page.
type ListResponse[V any] struct {
	Items         []V    `json:"items"`
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// ListParams are the parsed query parameters of a list request.
type ListParams struct {
	Limit int64
	// After is the last ID of the previous page: pages are keyset-paginated on _id, so they
	// stay stable while documents are added.
	After   string
	Filters map[string]string
	// In holds the list-valued filters given (see InFilter), by parameter name: the values
	// sorted, each once.
	In map[string][]string
}

// MaxOrderIDs is the most IDs the orderIds filter takes.
const MaxOrderIDs = 100

// InFilter is a list-valued filter of a list endpoint: Name=v1,v2,... selects what matches
// any of the values (see AnyOf).
type InFilter struct {
	// Name is the query parameter, such as "orderIds".
	Name string
	// Valid checks each value.
	Valid func(string) bool
	// Max is the most values the list may hold, duplicates counted.
	Max int
	// Excludes are the parameters that may not be given together with this one.
	Excludes []string
}

// OrderIDsFilter returns the orderIds filter: 1 to MaxOrderIDs order IDs separated by
// commas, not together with orderId. It lets a client read the records of many orders in one
// call (the GraphQL gateway's batches).
func OrderIDsFilter() InFilter {
	return InFilter{Name: "orderIds", Valid: ValidID, Max: MaxOrderIDs, Excludes: []string{"orderId"}}
}

// ParseList reads limit, pageToken, the filters named in allowed (filter name → check of
// its value) and the list-valued filters in. Unknown parameters and bad values are a 400
// naming the parameter; so is a list-valued filter given with a parameter it excludes.
func ParseList(r *http.Request, allowed map[string]func(string) bool, in ...InFilter) (ListParams, *APIError) {
	p := ListParams{Limit: DefaultPageSize, Filters: map[string]string{}, In: map[string][]string{}}
	query := r.URL.Query()
	if e := checkExclusions(query, in); e != nil {
		return p, e
	}
	for _, name := range slices.Sorted(maps.Keys(query)) { // sorted: the error names the same parameter every time
		values := query[name]
		if len(values) != 1 {
			return p, Invalid(name, "must be given once")
		}
		v := values[0]
		switch {
		case name == "limit":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 || n > MaxPageSize {
				return p, Invalid(name, "must be an integer from 1 to %d", MaxPageSize)
			}
			p.Limit = n
		case name == "pageToken" && v == "": // "no token": the first page
		case name == "pageToken":
			after, ok := decodePageToken(v)
			if !ok {
				return p, Invalid(name, "is not a token returned as nextPageToken")
			}
			p.After = after
		case allowed[name] != nil:
			if !allowed[name](v) {
				return p, Invalid(name, "has an invalid value")
			}
			p.Filters[name] = v
		case inFilter(in, name) != nil:
			values, e := inFilter(in, name).parse(v)
			if e != nil {
				return p, e
			}
			p.In[name] = values
		default:
			return p, Invalid(name, "is not a known query parameter")
		}
	}
	return p, nil
}

// checkExclusions returns a 400 naming the first list-valued filter of in that query holds
// together with a parameter it excludes, whatever their values.
func checkExclusions(query url.Values, in []InFilter) *APIError {
	for _, f := range in {
		if !query.Has(f.Name) {
			continue
		}
		for _, other := range f.Excludes {
			if query.Has(other) {
				return Invalid(f.Name, "cannot be given together with %s", other)
			}
		}
	}
	return nil
}

func inFilter(in []InFilter, name string) *InFilter {
	for i := range in {
		if in[i].Name == name {
			return &in[i]
		}
	}
	return nil
}

// parse splits v at commas and checks each value; it returns the values sorted, each once.
func (f *InFilter) parse(v string) ([]string, *APIError) {
	if n := strings.Count(v, ",") + 1; n > f.Max { // counted before the split allocates
		return nil, Invalid(f.Name, "must hold 1 to %d values separated by commas, not %d", f.Max, n)
	}
	values := strings.Split(v, ",")
	for i, value := range values {
		if value == "" {
			return nil, Invalid(f.Name, "holds an empty value at position %d", i+1)
		}
		if !f.Valid(value) {
			return nil, Invalid(f.Name, "holds an invalid value at position %d", i+1)
		}
	}
	slices.Sort(values)
	return slices.Compact(values), nil
}

const pageTokenPrefix = "v1:"

// EncodePageToken returns the nextPageToken of a page whose last ID is lastID. Exported for
// in-memory models of the services, which must hand out the same tokens as FindPage.
func EncodePageToken(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + lastID))
}

func decodePageToken(tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	id, ok := strings.CutPrefix(string(b), pageTokenPrefix)
	return id, ok && ValidID(id)
}

// EqualFilters returns the filter of the list: field equals the value given, for each of
// fields that p.Filters holds, in the order of fields.
func EqualFilters(p ListParams, fields ...string) bson.D {
	var f bson.D
	for _, field := range fields {
		if v, ok := p.Filters[field]; ok {
			f = append(f, bson.E{Key: field, Value: v})
		}
	}
	return f
}

// AnyOf returns the filter of the list-valued filter param: field is one of its values;
// nil when p does not hold param. FindPage keeps a filter on _id from AnyOf a key lookup on
// every page.
func AnyOf(p ListParams, param, field string) bson.D {
	values, ok := p.In[param]
	if !ok {
		return nil
	}
	return bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: values}}}} //nolint:goconst // BSON query operator, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
}

// FindPage returns one page of documents matching filter (tombstones excluded) sorted by
// _id, and the token of the next page ("" on the last one). id returns a document's _id.
func FindPage[T any](ctx context.Context, coll *mongo.Collection, filter bson.D, p ListParams, id func(T) string) ([]T, string, error) {
	f := append(bson.D{{Key: "tombstone", Value: bson.D{{Key: "$ne", Value: true}}}}, filter...)
	if p.After != "" {
		var some bool
		if f, some = afterID(f, p.After); !some {
			return []T{}, "", nil
		}
	}
	// One extra document tells whether another page exists without a count.
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(p.Limit + 1) //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	cur, err := coll.Find(ctx, f, opts)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", coll.Name(), err)
	}
	docs := make([]T, 0, p.Limit+1)
	if err := cur.All(ctx, &docs); err != nil {
		return nil, "", fmt.Errorf("read %s page: %w", coll.Name(), err)
	}
	if int64(len(docs)) <= p.Limit {
		return docs, "", nil
	}
	docs = docs[:p.Limit]
	return docs, EncodePageToken(id(docs[len(docs)-1])), nil
}

// afterID returns f narrowed to the documents whose _id sorts after the page bound
// after. A condition _id: {$in: ids} (AnyOf on _id) keeps only the IDs past the bound
// instead of gaining a $gt beside it, so that it stays one key lookup: the patched FerretDB
// pushes down only a lone $in (docs/adr/0006). some is false when no ID is left and
// nothing can match. Elements of f (FindPage's own copy) may be replaced; the conditions
// they held are never changed in place.
//
// Caveats: any other condition on _id in f is kept and the bound joins it with $and, since
// a filter may not hold the key _id twice (FerretDB answers such a query with an error).
func afterID(f bson.D, after string) (_ bson.D, some bool) {
	gt := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	for i, e := range f {
		if e.Key != "_id" {
			continue
		}
		if ids, ok := inValues(e.Value); ok {
			kept := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id <= after })
			f[i].Value = bson.D{{Key: "$in", Value: kept}}
			return f, len(kept) > 0
		}
		return append(f, bson.E{Key: "$and", Value: bson.A{gt}}), true
	}
	return append(f, gt[0]), true
}

// inValues returns ids when cond is {$in: ids}, as AnyOf builds it.
func inValues(cond any) (ids []string, ok bool) {
	d, ok := cond.(bson.D)
	if !ok || len(d) != 1 || d[0].Key != "$in" {
		return nil, false
	}
	ids, ok = d[0].Value.([]string)
	return ids, ok
}

// ViewPage turns a page of stored documents into the list response of their views.
func ViewPage[D, V any](docs []D, next string, view func(D) V) ListResponse[V] {
	out := ListResponse[V]{Items: make([]V, 0, len(docs)), NextPageToken: next}
	for _, d := range docs {
		out.Items = append(out.Items, view(d))
	}
	return out
}
