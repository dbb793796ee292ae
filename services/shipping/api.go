// Package shipping is the shipping service: it schedules a shipment once per shipment ID
// (carrier, transit time and a tracking number derived from the ID, so replays are
// identical), refuses destinations outside the configured countries and cancels
// idempotently.
package shipping

import (
	"net/http"
	"regexp"

	"github.com/ordersaga/ordersaga/internal/limits"
	"github.com/ordersaga/ordersaga/services/platform"
)

// Status is a shipment's state: SCHEDULED → CANCELLED, or REJECTED for good.
type Status string

// Shipment states.
const (
	Scheduled Status = "SCHEDULED"
	Cancelled Status = "CANCELLED"
	Rejected  Status = "REJECTED"
)

// Error codes of the shipping service.
const (
	CodeUnsupportedDestination = "UNSUPPORTED_DESTINATION"
	CodeShipmentNotFound       = "SHIPMENT_NOT_FOUND"
)

// Shipping methods (see Methods).
const (
	methodStandard      = "STANDARD"
	methodExpress       = "EXPRESS"
	methodTwoDay        = "TWO_DAY"
	methodOvernight     = "OVERNIGHT"
	methodInternational = "INTERNATIONAL"
)

// Carrier is how a shipping method travels.
type Carrier struct {
	Name    string
	Prefix  string // tracking number prefix
	Transit int    // days from scheduling to delivery
}

// CarrierFor returns the carrier of a shipping method: how it travels.
func CarrierFor(method string) (Carrier, bool) {
	switch method {
	case methodStandard:
		return Carrier{Name: "USPS", Prefix: "94", Transit: 5}, true
	case methodExpress:
		return Carrier{Name: "UPS", Prefix: "1Z", Transit: 3}, true
	case methodTwoDay:
		return Carrier{Name: "UPS", Prefix: "1Z", Transit: 2}, true
	case methodOvernight:
		return Carrier{Name: "FedEx", Prefix: "FX", Transit: 1}, true
	case methodInternational:
		return Carrier{Name: "DHL", Prefix: "JD", Transit: 10}, true
	default:
		return Carrier{}, false
	}
}

// Methods returns the shipping methods in a stable order.
func Methods() []string {
	return []string{methodStandard, methodExpress, methodOvernight, methodTwoDay, methodInternational}
}

// DefaultCountries returns the default supported destinations (ISO 3166-1 alpha-2).
func DefaultCountries() []string {
	return []string{
		"US", "CA", "MX", "GB", "IE", "DE", "FR", "NL", "BE", "LU", "AT", "CH", "IT", "ES", "PT",
		"DK", "SE", "NO", "FI", "PL", "CZ", "AU", "NZ", "JP", "SG",
	}
}

var countryPattern = regexp.MustCompile(limits.CountryPattern)

// Address lengths the service accepts. Each is at least the CRD's (limits.MaxAddress*Len),
// which bounds all that the saga sends; they are not lowered to it, so that callers other
// than the saga, and replays of shipments they created, keep working.
const (
	maxNameLen       = 128
	maxLine1Len      = 256
	maxLine2Len      = 256
	maxCityLen       = 128
	maxRegionLen     = 128
	maxPostalCodeLen = 32
)

// The service admits every address the CRD admits: a negative difference does not compile.
const (
	_ uint = maxNameLen - limits.MaxAddressNameLen
	_ uint = maxLine1Len - limits.MaxAddressLine1Len
	_ uint = maxLine2Len - limits.MaxAddressLine2Len
	_ uint = maxCityLen - limits.MaxAddressCityLen
	_ uint = maxRegionLen - limits.MaxAddressRegionLen
	_ uint = maxPostalCodeLen - limits.MaxAddressPostalCodeLen
)

// CreateRequest is the body of PUT /v1/shipments/{shipmentId}.
type CreateRequest struct {
	OrderID string  `json:"orderId"`
	Method  string  `json:"method"`
	Address Address `json:"address"`
	Items   []Item  `json:"items"`
}

// Address is a delivery address.
type Address struct {
	Name       string `json:"name" bson:"name"`
	Line1      string `json:"line1" bson:"line1"`
	Line2      string `json:"line2,omitempty" bson:"line2,omitempty"`
	City       string `json:"city" bson:"city"`
	Region     string `json:"region,omitempty" bson:"region,omitempty"`
	PostalCode string `json:"postalCode" bson:"postalCode"`
	Country    string `json:"country" bson:"country"`
}

// Item is a product and a quantity to ship.
type Item struct {
	ProductID string `json:"productId" bson:"productId"`
	Quantity  int    `json:"quantity" bson:"quantity"`
}

// Normalize validates r; method defaults to STANDARD as in the CRD.
func Normalize(r CreateRequest) (CreateRequest, *platform.APIError) {
	var v platform.Validator
	v.ID("orderId", r.OrderID)
	if r.Method == "" {
		r.Method = methodStandard
	}
	v.OneOf("method", r.Method, Methods()...)
	a := r.Address
	v.String("address.name", a.Name, 1, maxNameLen)
	v.String("address.line1", a.Line1, 1, maxLine1Len)
	v.String("address.line2", a.Line2, 0, maxLine2Len)
	v.String("address.city", a.City, 1, maxCityLen)
	v.String("address.region", a.Region, 0, maxRegionLen)
	v.String("address.postalCode", a.PostalCode, 1, maxPostalCodeLen)
	v.Checkf(countryPattern.MatchString(a.Country), "address.country", "must be two capital letters (ISO 3166-1 alpha-2)")
	v.ItemCount(len(r.Items))
	seen := map[string]bool{}
	for i, it := range r.Items {
		v.Item(i, it.ProductID, it.Quantity, seen)
	}
	return r, v.Err()
}

// Shipment is the JSON view of a shipment (or of a tombstone, which has only ID, status
// and timestamps).
type Shipment struct {
	ShipmentID        string   `json:"shipmentId"`
	OrderID           string   `json:"orderId,omitempty"`
	Status            Status   `json:"status"`
	Method            string   `json:"method,omitempty"`
	Carrier           string   `json:"carrier,omitempty"`
	TrackingNumber    string   `json:"trackingNumber,omitempty"`
	EstimatedDelivery string   `json:"estimatedDelivery,omitempty"`
	Address           *Address `json:"address,omitempty"`
	Items             []Item   `json:"items,omitempty"`
	RejectReason      string   `json:"rejectReason,omitempty"`
	Reason            string   `json:"reason,omitempty"`
	Tombstone         bool     `json:"tombstone,omitempty"`
	CreatedAt         string   `json:"createdAt"`
	UpdatedAt         string   `json:"updatedAt"`
}

// notFound is the 404 of an unknown ID.
func notFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, CodeShipmentNotFound, "shipment "+id+" does not exist").WithField("shipmentId")
}
