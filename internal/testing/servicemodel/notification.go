package servicemodel

import (
	"context"
	"maps"
	"net/http"
	"time"

	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/platform"
)

// NotificationState is a notification as the model holds it: SENT, or FAILED when the
// delivery failed (FailureReason says why); both were answered 201. Notifications have no
// compensation, hence no tombstones.
type NotificationState struct {
	ID            string
	OrderID       string
	CustomerID    string
	Type          string
	Status        notification.Status
	Subject       string
	Body          string
	Data          map[string]string
	FailureReason string
	CreatedAt     time.Time
}

type notificationRecord struct {
	st   NotificationState
	idem platform.Idem
}

func (s NotificationState) clone() NotificationState {
	s.Data = maps.Clone(s.Data)
	return s
}

func (s NotificationState) view() notification.Notification {
	return notification.Notification{NotificationID: s.ID, OrderID: s.OrderID, CustomerID: s.CustomerID, Type: s.Type,
		Status: s.Status, Subject: s.Subject, Body: s.Body, Data: s.Data, FailureReason: s.FailureReason,
		CreatedAt: platform.Timestamp(s.CreatedAt)}
}

// The error answers below repeat the real service's (unexported or inline) ones; the
// contract suite holds their text to it.

func notificationNotFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, notification.CodeNotificationNotFound, "notification "+id+" does not exist").
		WithField("notificationId")
}

func notificationExists(spec notification.CreateRequest) *platform.APIError {
	return platform.NewError(http.StatusConflict, notification.CodeNotificationExists,
		"order "+spec.OrderID+" already has a "+spec.Type+" notification with another ID").WithField("type")
}

// deliveryFailed is the failure reason the real service records.
const deliveryFailed = "delivery failed (simulated by configuration)"

func (w *World) notificationRoutes(srv *platform.Server) {
	srv.Route("PUT /v1/notifications/{notificationId}", platform.Create(srv, "notificationId", notification.Normalize, w.send))
	srv.Route("GET /v1/notifications/{notificationId}", platform.Get("notificationId", w.getNotification))
	srv.Route("GET /v1/notifications", platform.List(map[string]func(string) bool{"orderId": platform.ValidID}, w.listNotifications, platform.OrderIDsFilter()))
}

// send renders notification id with the real templates and "delivers" it once: a failed
// delivery is recorded FAILED and answered 201. A taken ID is replayed (see replay); a
// second notification of the same type for the order under another ID is refused, as the
// real unique index (orderId, type) refuses it.
func (w *World) send(_ context.Context, id string, spec notification.CreateRequest, key string) (platform.StoredResponse, bool, error) {
	subject, body, err := w.render.Render(spec)
	if err != nil {
		return platform.StoredResponse{}, false, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	hash := platform.RequestHash(spec)
	if r, ok := w.notifications[id]; ok {
		return replay(r.idem, hash)
	}
	unique := notificationKey{orderID: spec.OrderID, typ: spec.Type}
	if _, taken := w.notificationOf[unique]; taken {
		return platform.StoredResponse{}, false, notificationExists(spec)
	}
	st := NotificationState{ID: id, OrderID: spec.OrderID, CustomerID: spec.CustomerID, Type: spec.Type,
		Status: notification.Sent, Subject: subject, Body: body, Data: maps.Clone(spec.Data), CreatedAt: w.clock()}
	verb := Sent
	if w.delivery.Fails(id, spec.CustomerID) {
		st.Status, st.FailureReason, verb = notification.Failed, deliveryFailed, Failed
	}
	first, err := platform.Respond(http.StatusCreated, st.view())
	if err != nil {
		return platform.StoredResponse{}, false, err
	}
	w.notifications[id] = &notificationRecord{st: st, idem: platform.Idem{RequestHash: hash, Response: &first, IdempotencyKey: key}}
	w.notificationOf[unique] = id
	w.recordf(Notification, id, "%s %s", verb, spec.Type)
	return first, false, nil
}

// notificationKey is a notification's (orderId, type), unique across notifications.
type notificationKey struct{ orderID, typ string }

func (w *World) getNotification(_ context.Context, id string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.notifications[id]
	if !ok {
		return nil, notificationNotFound(id)
	}
	return r.st.view(), nil
}

func (w *World) listNotifications(_ context.Context, p platform.ListParams) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return page(w.notifications, p, func(r *notificationRecord) bool {
		return filter(p, "orderId", r.st.OrderID) && ofOrders(p, r.st.OrderID)
	},
		func(r *notificationRecord) notification.Notification { return r.st.view() }), nil
}

// Notification returns notification id as the model holds it.
func (w *World) Notification(id string) (NotificationState, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.notifications[id]
	if !ok {
		return NotificationState{}, false
	}
	return r.st.clone(), true
}

// Notifications returns the notifications of orderID ("" for every order), sorted by ID.
func (w *World) Notifications(orderID string) []NotificationState {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []NotificationState{}
	for _, s := range states(w.notifications, func(r *notificationRecord) NotificationState { return r.st.clone() }) {
		if orderID == "" || s.OrderID == orderID {
			out = append(out, s)
		}
	}
	return out
}
