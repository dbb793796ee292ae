package gateway

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ordersaga/ordersaga/internal/gateway/graph/model"
)

// costLimit is gqlgen's complexity limit, with the schema's own error code.
type costLimit struct{ *extension.ComplexityLimit }

func (c costLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	err := c.ComplexityLimit.MutateOperationContext(ctx, oc)
	if err != nil {
		err.Extensions = map[string]any{"code": string(model.ErrorCodeQueryTooComplex)}
	}
	return err
}

// depthLimit refuses an operation whose fields nest deeper than max. Introspection
// fields are not counted: a client's schema query is deep by nature and cheap.
type depthLimit struct{ max int }

var (
	_ graphql.HandlerExtension        = depthLimit{}
	_ graphql.OperationContextMutator = depthLimit{}
)

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, oc.Doc.Fragments); depth > d.max {
		err := gqlerror.Errorf("the query is %d fields deep; the gateway allows %d", depth, d.max)
		err.Extensions = map[string]any{"code": string(model.ErrorCodeQueryTooComplex)}
		return err
	}
	return nil
}

// selectionDepth is the deepest chain of fields in set. The document has passed
// validation, so its fragments do not cycle.
func selectionDepth(set ast.SelectionSet, fragments ast.FragmentDefinitionList) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			d = 1 + selectionDepth(s.SelectionSet, fragments)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, fragments)
		case *ast.FragmentSpread:
			if def := fragments.ForName(s.Name); def != nil {
				d = selectionDepth(def.SelectionSet, fragments)
			}
		default:
			panic(fmt.Sprintf("unknown selection %T", sel))
		}
		deepest = max(deepest, d)
	}
	return deepest
}
