package shipping

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Document is a shipment as stored; _id is the client-assigned shipment ID.
type Document struct {
	ID                string `bson:"_id"`
	platform.Idem     `bson:",inline"`
	OrderID           string    `bson:"orderId,omitempty"`
	Status            Status    `bson:"status"`
	Method            string    `bson:"method,omitempty"`
	Carrier           string    `bson:"carrier,omitempty"`
	TrackingNumber    string    `bson:"trackingNumber,omitempty"`
	EstimatedDelivery string    `bson:"estimatedDelivery,omitempty"` // a date, kept as the string the API shows
	Address           *Address  `bson:"address,omitempty"`
	Items             []Item    `bson:"items,omitempty"`
	RejectReason      string    `bson:"rejectReason,omitempty"`
	Reason            string    `bson:"reason,omitempty"`
	CreatedAt         time.Time `bson:"createdAt"`
	UpdatedAt         time.Time `bson:"updatedAt"`
}

func (d Document) view() Shipment {
	return Shipment{ShipmentID: d.ID, OrderID: d.OrderID, Status: d.Status, Method: d.Method, Carrier: d.Carrier,
		TrackingNumber: d.TrackingNumber, EstimatedDelivery: d.EstimatedDelivery, Address: d.Address, Items: d.Items,
		RejectReason: d.RejectReason, Reason: d.Reason, Tombstone: d.Tombstone,
		CreatedAt: platform.Timestamp(d.CreatedAt), UpdatedAt: platform.Timestamp(d.UpdatedAt)}
}

// TrackingNumber derives the tracking number from the shipment ID, so that it is the same
// for every replay and restart.
func TrackingNumber(c Carrier, shipmentID string) string {
	sum := sha256.Sum256([]byte(shipmentID))
	return c.Prefix + strings.ToUpper(hex.EncodeToString(sum[:8]))
}

// Store keeps shipments in one collection.
type Store struct {
	coll      *mongo.Collection
	countries []string
	now       func() time.Time
}

// NewStore returns a Store on db's "shipments" collection that ships to countries.
func NewStore(db *mongo.Database, countries []string, now func() time.Time) *Store {
	return &Store{coll: db.Collection("shipments"), countries: countries, now: now}
}

// SetUp creates the indexes behind the list filters.
func (s *Store) SetUp(ctx context.Context) error {
	return platform.EnsureIndexes(ctx, s.coll, platform.Index{Keys: bson.D{{Key: "orderId", Value: 1}, {Key: "_id", Value: 1}}})
}

// Schedule schedules (or rejects) shipment id once; a rejection is stored and sticks.
func (s *Store) Schedule(ctx context.Context, id string, spec CreateRequest, key string) (resp platform.StoredResponse, replayed bool, err error) {
	now := platform.Now(s.now)
	addr := spec.Address
	d := Document{ID: id, Idem: platform.Idem{RequestHash: platform.RequestHash(spec), IdempotencyKey: key},
		OrderID: spec.OrderID, Method: spec.Method, Address: &addr, Items: spec.Items, CreatedAt: now, UpdatedAt: now}
	if !slices.Contains(s.countries, spec.Address.Country) {
		e := platform.NewError(http.StatusUnprocessableEntity, CodeUnsupportedDestination,
			"shipping to "+spec.Address.Country+" is not supported").WithField("address.country")
		d.Status, d.RejectReason = Rejected, e.Message
		resp = platform.RespondError(e)
	} else {
		c, _ := CarrierFor(spec.Method) // Normalize admits known methods only
		d.Status, d.Carrier, d.TrackingNumber = Scheduled, c.Name, TrackingNumber(c, id)
		d.EstimatedDelivery = now.AddDate(0, 0, c.Transit).Format(time.DateOnly)
		if resp, err = platform.Respond(http.StatusCreated, d.view()); err != nil {
			return resp, false, err
		}
	}
	d.Response = &resp
	return platform.InsertOnce(ctx, s.coll, id, d, d.RequestHash, resp)
}

// Get returns shipment id, or a 404 SHIPMENT_NOT_FOUND.
func (s *Store) Get(ctx context.Context, id string) (Document, error) {
	return platform.GetByID[Document](ctx, s.coll, "shipment", id, notFound)
}

// Cancel moves a SCHEDULED shipment to CANCELLED with one conditional update. A cancelled
// or rejected shipment is returned unchanged; an unknown one gets a CANCELLED tombstone.
// changed tells whether this call cancelled.
func (s *Store) Cancel(ctx context.Context, id, reason string) (Document, bool, error) {
	return platform.Undo[Document, Status]{Kind: "shipment", From: Scheduled, To: Cancelled, Reason: reason, At: platform.Now(s.now)}.
		Run(ctx, s.coll, id)
}

// List returns a page of shipments, optionally of one order (orderId) or of several
// (orderIds).
func (s *Store) List(ctx context.Context, p platform.ListParams) ([]Document, string, error) {
	f := append(platform.EqualFilters(p, "orderId"), platform.AnyOf(p, "orderIds", "orderId")...)
	return platform.FindPage(ctx, s.coll, f, p, func(d Document) string { return d.ID })
}
