package inventory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ordersaga/ordersaga/services/platform"
)

// ProductDocument is a catalog entry as stored; _id is the product ID.
type ProductDocument struct {
	ID           string         `bson:"_id"`
	Name         string         `bson:"name"`
	Price        platform.Money `bson:"price"`
	Stock        int            `bson:"stock"`
	Discontinued bool           `bson:"discontinued"`
	// Gen counts compactions; a stock move is conditional on the gen its caller read, see
	// moves.go.
	Gen int64 `bson:"gen"`
	// Pending holds a token per stock move applied since the last compaction ("r:<id>"
	// taken, "u:<id>" given back), written in the same atomic update as the stock: the
	// crash-proof proof that the move happened until the ledger records it; see moves.go.
	Pending   []string  `bson:"pending,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

func (p ProductDocument) view() Product {
	return Product{ProductID: p.ID, Name: p.Name, Price: p.Price, Stock: p.Stock, Discontinued: p.Discontinued,
		UpdatedAt: platform.Timestamp(p.UpdatedAt)}
}

func (p ProductDocument) holds(token string) bool {
	return slices.Contains(p.Pending, token)
}

// SeedProduct is a catalog entry inserted on first start.
type SeedProduct struct {
	ID           string
	Name         string
	Price        platform.Money
	Stock        int
	Discontinued bool
}

// DefaultCatalog returns the seed catalog: what the samples and demos order.
func DefaultCatalog() []SeedProduct {
	return []SeedProduct{
		{ID: "LAP-001", Name: "Laptop", Price: 999_99, Stock: 50},
		{ID: "PHN-001", Name: "Smartphone", Price: 699_99, Stock: 100},
		{ID: "TAB-001", Name: "Tablet", Price: 449_99, Stock: 30},
		{ID: "HDP-001", Name: "Headphones", Price: 149_99, Stock: 200},
		{ID: "MON-001", Name: "Monitor", Price: 299_99, Stock: 25},
		{ID: "OLD-001", Name: "Legacy Phone", Price: 99_99, Stock: 10, Discontinued: true},
	}
}

// Seed inserts each product that does not exist yet and never touches existing ones, so
// that it runs at every start-up without undoing sales or catalog changes.
func (s *Store) Seed(ctx context.Context, catalog []SeedProduct) error {
	now := platform.Now(s.now)
	for _, p := range catalog {
		_, err := s.products.InsertOne(ctx, ProductDocument{ID: p.ID, Name: p.Name, Price: p.Price, Stock: p.Stock,
			Discontinued: p.Discontinued, CreatedAt: now, UpdatedAt: now})
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("seed product %s: %w", p.ID, err)
		}
	}
	return nil
}

// PutProduct creates or replaces the catalog fields of product id (never its tokens or
// gen). created tells whether it was new. The answer is the product as this call wrote it:
// every field the API shows is one it sets, so it is not read back.
func (s *Store) PutProduct(ctx context.Context, id string, spec ProductSpec) (p ProductDocument, created bool, err error) {
	now := platform.Now(s.now)
	unlock := s.locks.Lock(id)
	defer unlock()
	//nolint:goconst // BSON field names and operators of the upsert, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	res, err := s.products.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "name", Value: spec.Name}, {Key: "price", Value: spec.Price},
			{Key: "stock", Value: spec.Stock}, {Key: "discontinued", Value: spec.Discontinued}, {Key: "updatedAt", Value: now}}},
		{Key: "$setOnInsert", Value: bson.D{{Key: "createdAt", Value: now}, {Key: "gen", Value: int64(0)}}},
	}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return p, false, fmt.Errorf("upsert product %s: %w", id, err)
	}
	p = ProductDocument{ID: id, Name: spec.Name, Price: spec.Price, Stock: spec.Stock, Discontinued: spec.Discontinued, UpdatedAt: now}
	return p, res.UpsertedCount == 1, nil
}

// Product returns product id, or a 404 PRODUCT_NOT_FOUND.
func (s *Store) Product(ctx context.Context, id string) (ProductDocument, error) {
	return platform.GetByID[ProductDocument](ctx, s.products, "product", id, productNotFound)
}

// Products returns a page of the catalog.
func (s *Store) Products(ctx context.Context, p platform.ListParams) ([]ProductDocument, string, error) {
	return platform.FindPage(ctx, s.products, nil, p, func(d ProductDocument) string { return d.ID })
}

// productsByID reads the given products in one query.
func (s *Store) productsByID(ctx context.Context, items []Item) (map[string]ProductDocument, error) {
	ids := make(bson.A, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.ProductID)
	}
	cur, err := s.products.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("read products: %w", err)
	}
	var found []ProductDocument
	if err := cur.All(ctx, &found); err != nil {
		return nil, fmt.Errorf("read products: %w", err)
	}
	out := make(map[string]ProductDocument, len(found))
	for _, p := range found {
		out[p.ID] = p
	}
	return out, nil
}
