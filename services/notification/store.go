package notification

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"text/template"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
)

// The subject and body templates of each type; data keys are optional.
const (
	confirmedSubject = `Your order {{.OrderID}} is confirmed`
	confirmedBody    = `Hello {{.CustomerID}},

your order {{.OrderID}} is confirmed.{{with .Data.total}} Total: {{.}}.{{end}}{{with .Data.trackingNumber}}
Tracking number: {{.}}.{{end}}

Thank you for shopping with us.`
	cancelledSubject = `Your order {{.OrderID}} was cancelled`
	cancelledBody    = `Hello {{.CustomerID}},

your order {{.OrderID}} was cancelled.{{with .Data.reason}} Reason: {{.}}.{{end}}
Any reserved items were released and any payment was refunded.`
)

// Renderer renders notifications from the templates of each type, parsed once: parsing
// them for every notification took more CPU than the rest of a send.
type Renderer struct {
	byType map[string]typeTemplates
}

type typeTemplates struct{ subject, body *template.Template }

// NewRenderer parses the templates of every type that Normalize admits.
func NewRenderer() *Renderer {
	parse := func(name, text string) *template.Template {
		// The texts are constants of this file, so a parse error is a bug in them, which
		// every test of a send meets at once.
		return template.Must(template.New(name).Parse(text))
	}
	return &Renderer{byType: map[string]typeTemplates{
		OrderConfirmed: {subject: parse("subject", confirmedSubject), body: parse("body", confirmedBody)},
		OrderCancelled: {subject: parse("subject", cancelledSubject), body: parse("body", cancelledBody)},
	}}
}

// Render returns the subject and body of the notification spec asks for.
func (r *Renderer) Render(spec CreateRequest) (subject, body string, err error) {
	t, ok := r.byType[spec.Type]
	if !ok {
		return "", "", fmt.Errorf("render: unknown notification type %q", spec.Type)
	}
	if subject, err = execute(t.subject, spec); err != nil {
		return "", "", fmt.Errorf("render %s subject: %w", spec.Type, err)
	}
	if body, err = execute(t.body, spec); err != nil {
		return "", "", fmt.Errorf("render %s body: %w", spec.Type, err)
	}
	return subject, body, nil
}

// execute executes t on data. A parsed template is safe for concurrent use.
func execute(t *template.Template, data any) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("execute: %w", err)
	}
	return b.String(), nil
}

// Delivery decides, deterministically, whether a delivery fails (simulated, for demos and
// chaos tests): for the listed customers, and for a stable fraction of notification IDs.
type Delivery struct {
	FailCustomers []string
	FailRate      float64
}

// Fails reports whether the delivery of notification id to customer fails.
func (d Delivery) Fails(id, customer string) bool {
	if slices.Contains(d.FailCustomers, customer) {
		return true
	}
	sum := sha256.Sum256([]byte(id))
	return float64(binary.BigEndian.Uint64(sum[:8])%10000)/10000 < d.FailRate
}

// Document is a notification as stored; _id is the client-assigned notification ID.
type Document struct {
	ID            string `bson:"_id"`
	platform.Idem `bson:",inline"`
	OrderID       string            `bson:"orderId"`
	CustomerID    string            `bson:"customerId"`
	Type          string            `bson:"type"`
	Status        Status            `bson:"status"`
	Subject       string            `bson:"subject"`
	Body          string            `bson:"body"`
	Data          map[string]string `bson:"data,omitempty"`
	FailureReason string            `bson:"failureReason,omitempty"`
	CreatedAt     time.Time         `bson:"createdAt"`
}

func (d Document) view() Notification {
	return Notification{NotificationID: d.ID, OrderID: d.OrderID, CustomerID: d.CustomerID, Type: d.Type, Status: d.Status,
		Subject: d.Subject, Body: d.Body, Data: d.Data, FailureReason: d.FailureReason, CreatedAt: platform.Timestamp(d.CreatedAt)}
}

// Store keeps notifications in one collection.
type Store struct {
	coll     *mongo.Collection
	delivery Delivery
	render   *Renderer
	now      func() time.Time
}

// NewStore returns a Store on db's "notifications" collection.
func NewStore(db *mongo.Database, delivery Delivery, now func() time.Time) *Store {
	return &Store{coll: db.Collection("notifications"), delivery: delivery, render: NewRenderer(), now: now}
}

// SetUp creates the indexes: one notification of each type per order (unique).
func (s *Store) SetUp(ctx context.Context) error {
	return platform.EnsureIndexes(ctx, s.coll,
		platform.Index{Keys: bson.D{{Key: "orderId", Value: 1}, {Key: "type", Value: 1}}, Unique: true})
}

// Send renders and "delivers" notification id once. A failed delivery is stored as FAILED
// and answered 201 like a sent one.
func (s *Store) Send(ctx context.Context, id string, spec CreateRequest, key string) (platform.StoredResponse, bool, error) {
	subject, body, err := s.render.Render(spec)
	if err != nil {
		return platform.StoredResponse{}, false, err
	}
	d := Document{ID: id, Idem: platform.Idem{RequestHash: platform.RequestHash(spec), IdempotencyKey: key},
		OrderID: spec.OrderID, CustomerID: spec.CustomerID, Type: spec.Type, Status: Sent,
		Subject: subject, Body: body, Data: spec.Data, CreatedAt: platform.Now(s.now)}
	if s.delivery.Fails(id, spec.CustomerID) {
		d.Status, d.FailureReason = Failed, "delivery failed (simulated by configuration)"
	}
	first, err := platform.Respond(http.StatusCreated, d.view())
	if err != nil {
		return first, false, err
	}
	d.Response = &first
	resp, replayed, err := platform.InsertOnce(ctx, s.coll, id, d, d.RequestHash, first)
	if errors.Is(err, platform.ErrUniqueConflict) {
		return resp, false, platform.NewError(http.StatusConflict, CodeNotificationExists,
			"order "+spec.OrderID+" already has a "+spec.Type+" notification with another ID").WithField("type")
	}
	return resp, replayed, err
}

// Get returns notification id, or a 404 NOTIFICATION_NOT_FOUND.
func (s *Store) Get(ctx context.Context, id string) (Document, error) {
	return platform.GetByID[Document](ctx, s.coll, "notification", id, notFound)
}

// List returns a page of notifications, optionally of one order (orderId) or of several
// (orderIds).
func (s *Store) List(ctx context.Context, p platform.ListParams) ([]Document, string, error) {
	f := append(platform.EqualFilters(p, "orderId"), platform.AnyOf(p, "orderIds", "orderId")...)
	return platform.FindPage(ctx, s.coll, f, p, func(d Document) string { return d.ID })
}
