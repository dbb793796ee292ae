package platform

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
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
}

// ParseList reads limit, pageToken and the filters named in allowed (filter name → check
// of its value). Unknown parameters and bad values are a 400 naming the parameter.
func ParseList(r *http.Request, allowed map[string]func(string) bool) (ListParams, *APIError) {
	p := ListParams{Limit: DefaultPageSize, Filters: map[string]string{}}
	query := r.URL.Query()
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
		default:
			return p, Invalid(name, "is not a known query parameter")
		}
	}
	return p, nil
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

// FindPage returns one page of documents matching filter (tombstones excluded) sorted by
// _id, and the token of the next page ("" on the last one). id returns a document's _id.
func FindPage[T any](ctx context.Context, coll *mongo.Collection, filter bson.D, p ListParams, id func(T) string) ([]T, string, error) {
	f := append(bson.D{{Key: "tombstone", Value: bson.D{{Key: "$ne", Value: true}}}}, filter...)
	if p.After != "" {
		f = append(f, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: p.After}}}) //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	}
	// One extra document tells whether another page exists without a count.
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(p.Limit + 1)
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

// ViewPage turns a page of stored documents into the list response of their views.
func ViewPage[D, V any](docs []D, next string, view func(D) V) ListResponse[V] {
	out := ListResponse[V]{Items: make([]V, 0, len(docs)), NextPageToken: next}
	for _, d := range docs {
		out.Items = append(out.Items, view(d))
	}
	return out
}
