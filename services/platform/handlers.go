package platform

import (
	"context"
	"errors"
	"net/http"
)

// WriteErr answers err: an *APIError (a business or input failure) as itself, anything
// else as a logged 500.
func WriteErr(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := errors.AsType[*APIError](err); ok {
		WriteError(w, e)
		return
	}
	WriteInternal(w, r, err)
}

// CreateFunc performs an idempotent create of the resource id from a normalized request
// and returns the first response; replayed tells whether an earlier call produced it.
type CreateFunc[Spec any] func(ctx context.Context, id string, spec Spec, idempotencyKey string) (resp StoredResponse, replayed bool, err error)

// Create returns the handler of "PUT /v1/<things>/{idParam}": path ID check, strict
// decode, normalize (validation; nothing is written on failure), create. It counts replays
// and refusals in the server's idempotency metric.
func Create[Req, Spec any](s *Server, idParam string, normalize func(Req) (Spec, *APIError), create CreateFunc[Spec]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, e := PathID(r, idParam)
		if e != nil {
			WriteError(w, e)
			return
		}
		var req Req
		if e := DecodeStrict(w, r, &req); e != nil {
			WriteError(w, e)
			return
		}
		spec, e := normalize(req)
		if e != nil {
			WriteError(w, e)
			return
		}
		resp, replayed, err := create(r.Context(), id, spec, r.Header.Get(IdempotencyKeyHeader))
		if err != nil {
			if e, ok := errors.AsType[*APIError](err); ok {
				switch e.Code {
				case CodeIdempotencyKeyReused:
					s.metrics.Idempotency("key_reused")
				case CodeAlreadyCompensated:
					s.metrics.Idempotency("already_compensated")
				}
			}
			WriteErr(w, r, err)
			return
		}
		if replayed {
			s.metrics.Idempotency("replayed")
		}
		resp.Write(w)
	}
}

// TransitionRequest is the optional body of every state transition (compensations, confirm).
type TransitionRequest struct {
	Reason string `json:"reason"`
}

// Transition returns the handler of "POST /v1/<things>/{idParam}/<verb>" (cancel, release,
// refund, confirm): the body is optional ({"reason": "..."}), the answer is 200 with the
// resulting resource (or a compensation's tombstone) as JSON.
func Transition(idParam string, run func(ctx context.Context, id, reason string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, e := PathID(r, idParam)
		if e != nil {
			WriteError(w, e)
			return
		}
		var req TransitionRequest
		if e := DecodeOptional(w, r, &req); e != nil {
			WriteError(w, e)
			return
		}
		var v Validator
		v.String("reason", req.Reason, 0, 256)
		if e := v.Err(); e != nil {
			WriteError(w, e)
			return
		}
		out, err := run(r.Context(), id, req.Reason)
		if err != nil {
			WriteErr(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, out)
	}
}

// Get returns the handler of "GET /v1/<things>/{idParam}".
func Get(idParam string, get func(ctx context.Context, id string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, e := PathID(r, idParam)
		if e != nil {
			WriteError(w, e)
			return
		}
		out, err := get(r.Context(), id)
		if err != nil {
			WriteErr(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, out)
	}
}

// List returns the handler of "GET /v1/<things>" with the given filters and list-valued
// filters in (see ParseList).
func List(filters map[string]func(string) bool, list func(ctx context.Context, p ListParams) (any, error), in ...InFilter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, e := ParseList(r, filters, in...)
		if e != nil {
			WriteError(w, e)
			return
		}
		out, err := list(r.Context(), p)
		if err != nil {
			WriteErr(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, out)
	}
}
