package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ordersaga/ordersaga/internal/gateway/auth"
	"github.com/ordersaga/ordersaga/internal/gateway/backend"
	"github.com/ordersaga/ordersaga/internal/gateway/graph/model"
)

// codeError is an error the client can act on: its code goes to extensions.code, and its
// field, when set, to extensions.field.
type codeError struct {
	code    model.ErrorCode
	field   string
	message string
}

func (e *codeError) Error() string { return e.message }

func errorf(code model.ErrorCode, format string, args ...any) error {
	return &codeError{code: code, message: fmt.Sprintf(format, args...)}
}

func fieldError(field, format string, args ...any) error {
	return &codeError{code: model.ErrorCodeBadUserInput, field: field, message: field + ": " + fmt.Sprintf(format, args...)}
}

// PresentError turns a resolver's error into a GraphQL error with extensions.code. An
// error it does not know is INTERNAL, with the request ID and not its text, which the
// gateway logs instead.
func PresentError(ctx context.Context, err error, requestID string, logInternal func(error)) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var (
		coded   *codeError
		denied  *auth.DeniedError
		down    *backend.UnavailableError
		already *gqlerror.Error
	)
	code := model.ErrorCodeInternal
	switch {
	case errors.As(err, &coded):
		code = coded.code
		if coded.field != "" {
			setExtension(gqlErr, "field", coded.field)
		}
	case errors.Is(err, auth.ErrUnauthenticated):
		code = model.ErrorCodeUnauthenticated
	case errors.As(err, &denied):
		code = model.ErrorCodeForbidden
	case errors.As(err, &down), errors.Is(err, context.DeadlineExceeded):
		code = model.ErrorCodeBackendUnavailable
	case errors.As(err, &already) && already.Extensions["code"] != nil:
		return gqlErr // gqlgen's own (parse, validation, complexity) errors keep their code
	default:
		logInternal(err)
		gqlErr.Message = "internal error; the gateway's log has request " + requestID
	}
	setExtension(gqlErr, "code", string(code))
	return gqlErr
}

func setExtension(e *gqlerror.Error, key string, value any) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions[key] = value
}
