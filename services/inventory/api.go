// Package inventory is the inventory service: the product catalog (stock = units available
// now) and reservations, which take the stock of several products all or nothing and give
// it back exactly once on release.
package inventory

import (
	"fmt"
	"net/http"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Error codes of the inventory service.
const (
	CodeUnknownProduct          = "UNKNOWN_PRODUCT"
	CodeProductDiscontinued     = "PRODUCT_DISCONTINUED"
	CodeOutOfStock              = "OUT_OF_STOCK"
	CodeProductNotFound         = "PRODUCT_NOT_FOUND"
	CodeReservationNotFound     = "RESERVATION_NOT_FOUND"
	maxStock                int = 1_000_000_000
)

// ProductRequest is the body of PUT /v1/products/{productId} (catalog upsert).
type ProductRequest struct {
	Name         string `json:"name"`
	Price        string `json:"price"`
	Stock        *int   `json:"stock"`
	Discontinued bool   `json:"discontinued"`
}

// ProductSpec is a validated ProductRequest.
type ProductSpec struct {
	Name         string
	Price        platform.Money
	Stock        int
	Discontinued bool
}

// NormalizeProduct validates r.
func NormalizeProduct(r ProductRequest) (ProductSpec, *platform.APIError) {
	var v platform.Validator
	v.String("name", r.Name, 1, 128)
	price := v.Money("price", r.Price)
	v.Checkf(r.Stock != nil, "stock", "is required")
	if r.Stock != nil {
		v.Checkf(*r.Stock >= 0 && *r.Stock <= maxStock, "stock", "must be 0 to %d", maxStock)
	}
	if v.Err() != nil {
		return ProductSpec{}, v.Err()
	}
	return ProductSpec{Name: r.Name, Price: price, Stock: *r.Stock, Discontinued: r.Discontinued}, nil
}

// Product is the JSON view of a catalog entry.
type Product struct {
	ProductID    string         `json:"productId"`
	Name         string         `json:"name"`
	Price        platform.Money `json:"price"`
	Stock        int            `json:"stock"`
	Discontinued bool           `json:"discontinued"`
	UpdatedAt    string         `json:"updatedAt"`
}

// ReserveRequest is the body of PUT /v1/reservations/{reservationId}.
type ReserveRequest struct {
	OrderID string `json:"orderId"`
	Items   []Item `json:"items"`
}

// Item is a product and a quantity.
type Item struct {
	ProductID string `json:"productId" bson:"productId"`
	Quantity  int    `json:"quantity" bson:"quantity"`
}

// ReserveSpec is a validated ReserveRequest; its hash identifies the payload.
type ReserveSpec struct {
	OrderID string `json:"orderId"`
	Items   []Item `json:"items"`
}

// NormalizeReserve validates r.
func NormalizeReserve(r ReserveRequest) (ReserveSpec, *platform.APIError) {
	var v platform.Validator
	v.ID("orderId", r.OrderID)
	v.ItemCount(len(r.Items))
	seen := map[string]bool{}
	for i, it := range r.Items {
		v.Item(i, it.ProductID, it.Quantity, seen)
	}
	return ReserveSpec(r), v.Err()
}

// Status is a reservation's state.
//
//	PENDING ──► RESERVED ──► RELEASING ──► RELEASED
//	   │  └──────────────────────▲ (release before the reserve finished)
//	   └──► FAILING ──► FAILED   (business failure; the stock taken so far is given back)
type Status string

// Reservation states. PENDING, FAILING and RELEASING are in progress: a replay or a
// release finishes them.
const (
	Pending   Status = "PENDING"
	Reserved  Status = "RESERVED"
	Failing   Status = "FAILING"
	Failed    Status = "FAILED"
	Releasing Status = "RELEASING"
	Released  Status = "RELEASED"
)

// Reservation is the JSON view of a reservation (or of a tombstone).
type Reservation struct {
	ReservationID string `json:"reservationId"`
	OrderID       string `json:"orderId,omitempty"`
	Status        Status `json:"status"`
	Items         []Item `json:"items,omitempty"`
	Failure       string `json:"failure,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Tombstone     bool   `json:"tombstone,omitempty"`
	CreatedAt     string `json:"createdAt"`
	UpdatedAt     string `json:"updatedAt"`
}

// Shortage is one line of an OUT_OF_STOCK error's details.
type Shortage struct {
	ProductID string `json:"productId"`
	Requested int    `json:"requested"`
	Available int    `json:"available"`
}

func outOfStock(short []Shortage) *platform.APIError {
	e := platform.NewError(http.StatusConflict, CodeOutOfStock, fmt.Sprintf("%d item(s) are out of stock", len(short)))
	return e.WithDetails(map[string]any{"items": short})
}

func unknownProduct(i int, id string) *platform.APIError {
	return platform.NewError(http.StatusUnprocessableEntity, CodeUnknownProduct, "product "+id+" does not exist").
		WithField(platform.Field("items", i, "productId"))
}

func discontinued(i int, id string) *platform.APIError {
	return platform.NewError(http.StatusUnprocessableEntity, CodeProductDiscontinued, "product "+id+" is discontinued").
		WithField(platform.Field("items", i, "productId"))
}

func alreadyCompensated(id string) *platform.APIError {
	return platform.NewError(http.StatusConflict, platform.CodeAlreadyCompensated,
		"reservation "+id+" was released before it completed; the reserve is refused so that no stock leaks")
}

func productNotFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, CodeProductNotFound, "product "+id+" does not exist").WithField("productId")
}

func reservationNotFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, CodeReservationNotFound, "reservation "+id+" does not exist").WithField("reservationId")
}
