package gateway

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestSelectionDepthCountsFieldsThroughFragmentsNotIntrospection(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
type Query { a: A }
type A { b: B, name: String }
type B { a: A, name: String }`})
	cases := map[string]int{
		`{ a { name } }`:                                                            2,
		`{ a { b { a { name } } } }`:                                                4,
		`{ a { ...F } } fragment F on A { b { name } }`:                             3,
		`{ a { ... on A { b { a { b { name } } } } } }`:                             5,
		`{ __schema { types { fields { type { ofType { name } } } } } a { name } }`: 2,
	}
	for query, want := range cases {
		doc, err := gqlparser.LoadQueryWithRules(schema, query, nil)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if got := selectionDepth(doc.Operations[0].SelectionSet, doc.Fragments); got != want {
			t.Errorf("depth of %s = %d, want %d", query, got, want)
		}
	}
}
