// Package platform holds what every OrderSaga service shares: the HTTP server with graceful
// shutdown, strict JSON decoding, JSON errors, request IDs, structured logs, health and
// readiness, Prometheus metrics, the Mongo connection, idempotent creates and compensations,
// list pagination and fault injection.
package platform

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
)

// Error codes shared by all services. Service-specific codes (OUT_OF_STOCK, PAYMENT_DECLINED...)
// live in the service packages.
const (
	CodeInvalidJSON          = "INVALID_JSON"
	CodeUnknownField         = "UNKNOWN_FIELD"
	CodeInvalidType          = "INVALID_TYPE"
	CodeInvalidArgument      = "INVALID_ARGUMENT"
	CodeBodyTooLarge         = "BODY_TOO_LARGE"
	CodeNotFound             = "NOT_FOUND"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
	CodeAlreadyCompensated   = "ALREADY_COMPENSATED"
	CodeInProgress           = "IN_PROGRESS"
	CodeNotReady             = "NOT_READY"
	CodeFaultInjected        = "FAULT_INJECTED"
	CodeInternal             = "INTERNAL"
)

// APIError is an error answered to the client as {"error":{"code","message","field","details"}}.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Details any    `json:"details,omitempty"`
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

var _ error = (*APIError)(nil)

// NewError returns an APIError with the given status, code and message.
func NewError(status int, code, message string) *APIError {
	return &APIError{Status: status, Code: code, Message: message}
}

// Invalid returns a 400 INVALID_ARGUMENT naming field.
func Invalid(field, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...), Field: field}
}

// WithField returns a copy of e naming field.
func (e *APIError) WithField(field string) *APIError {
	c := *e
	c.Field = field
	return &c
}

// WithDetails returns a copy of e carrying details.
func (e *APIError) WithDetails(details any) *APIError {
	c := *e
	c.Details = details
	return &c
}

type errorEnvelope struct {
	Error *APIError `json:"error"`
}

// ErrorBody returns the JSON body for e, as written by WriteError and stored for replays.
func ErrorBody(e *APIError) []byte {
	b, err := json.Marshal(errorEnvelope{Error: e})
	if err != nil { // cannot happen for the field types above; keep the client answer well-formed anyway
		return []byte(`{"error":{"code":"INTERNAL","message":"error encoding failed"}}`)
	}
	return b
}

// WriteError writes e as a JSON error response.
func WriteError(w http.ResponseWriter, e *APIError) {
	WriteRaw(w, e.Status, ErrorBody(e))
}

// WriteInternal logs err with the request's logger and answers a 500 that hides internals.
func WriteInternal(w http.ResponseWriter, r *http.Request, err error) {
	Logger(r.Context()).Error("request failed", slog.String("error", err.Error()))
	WriteError(w, NewError(http.StatusInternalServerError, CodeInternal, "internal error; see the service log for the request ID"))
}

// WriteJSON marshals v and writes it with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, NewError(http.StatusInternalServerError, CodeInternal, "response encoding failed"))
		return
	}
	WriteRaw(w, status, b)
}

// WriteRaw writes an already encoded JSON body with status.
func WriteRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body) //nolint:gosec // G705: body is JSON this package encoded (json.Marshal escapes <, > and &), served as application/json with nosniff
	_, _ = w.Write([]byte("\n"))
}
