package sagadef

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	apiservercel "k8s.io/apiserver/pkg/cel"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// inputSchema is a definition's input schema, checked, with what types expressions and
// validates inputs.
type inputSchema struct {
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	declType   *apiservercel.DeclType // nil: the schema gives no CEL type; input is dyn
}

// schemaPath is where problems with the input schema are reported.
func schemaPath() *field.Path { return field.NewPath("spec", "input", "openAPIV3Schema") }

// inputPath is where problems with a Saga's input are reported.
func inputPath() *field.Path { return field.NewPath("spec", "input") }

// newInputSchema checks raw is a structural schema of an object, as a CRD's would be, and
// prepares it. Its problems are all InvalidSchema.
func newInputSchema(ctx context.Context, raw runtime.RawExtension) (*inputSchema, []Problem) {
	at := schemaPath()
	fail := func(detail string) (*inputSchema, []Problem) {
		return nil, []Problem{{Field: at.String(), Detail: detail}}
	}
	if len(bytes.TrimSpace(raw.Raw)) == 0 {
		return fail("is required")
	}
	var external apiextensionsv1.JSONSchemaProps
	dec := json.NewDecoder(bytes.NewReader(raw.Raw))
	dec.DisallowUnknownFields() // a misspelt keyword would otherwise be a constraint silently dropped
	if err := dec.Decode(&external); err != nil {
		return fail("is not an OpenAPI v3 schema: " + err.Error())
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&external, &internal, nil); err != nil {
		return fail("is not an OpenAPI v3 schema: " + err.Error())
	}
	structural, err := structuralschema.NewStructural(&internal)
	if err != nil {
		return fail("is not structural: " + err.Error())
	}
	var problems []Problem
	for _, e := range structuralschema.ValidateStructural(at, structural) {
		problems = append(problems, Problem{Field: e.Field, Detail: "is not structural: " + e.ErrorBody()})
	}
	if structural.Type != "object" {
		problems = append(problems, Problem{Field: at.Child("type").String(), Detail: fmt.Sprintf("is %q; a Saga's input is an object, so the schema's type must be object", structural.Type)})
	}
	if hasXValidations(&internal) {
		problems = append(problems, Problem{Field: at.String(), Detail: "uses x-kubernetes-validations, which a Saga's input is not checked against: express the rule with the schema's other keywords"})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if errs, err := structuraldefaulting.ValidateDefaults(ctx, at, structural, false, true); err != nil || len(errs) > 0 {
		for _, e := range errs {
			problems = append(problems, Problem{Field: e.Field, Detail: "has an invalid default: " + e.ErrorBody()})
		}
		if err != nil {
			problems = append(problems, Problem{Field: at.String(), Detail: "has defaults that cannot be checked: " + err.Error()})
		}
		return nil, problems
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(&internal)
	if err != nil {
		return fail("cannot validate inputs: " + err.Error())
	}
	s := &inputSchema{structural: structural, validator: validator}
	if t := model.SchemaDeclType(structural, false); t != nil {
		s.declType = t.MaybeAssignTypeName("sagadef.input")
	}
	return s, nil
}

// hasXValidations reports whether any node of the schema has x-kubernetes-validations.
func hasXValidations(s *apiextensions.JSONSchemaProps) bool {
	if s == nil {
		return false
	}
	if len(s.XValidations) > 0 {
		return true
	}
	children := []*apiextensions.JSONSchemaProps{s.Not}
	if s.Items != nil {
		children = append(children, s.Items.Schema)
		for i := range s.Items.JSONSchemas {
			children = append(children, &s.Items.JSONSchemas[i])
		}
	}
	if s.AdditionalProperties != nil {
		children = append(children, s.AdditionalProperties.Schema)
	}
	for _, list := range [][]apiextensions.JSONSchemaProps{s.AllOf, s.AnyOf, s.OneOf} {
		for i := range list {
			children = append(children, &list[i])
		}
	}
	for _, m := range []map[string]apiextensions.JSONSchemaProps{s.Properties, s.PatternProperties} {
		for k := range m {
			child := m[k]
			children = append(children, &child)
		}
	}
	return slices.ContainsFunc(children, hasXValidations)
}

// ValidateInput checks a Saga's spec.input against the definition: a JSON object (nil is
// {}) of at most v1.MaxInputBytes as JSON, with no field the schema does not declare, that
// satisfies the schema once its defaults are applied. Paths are under spec.input.
//
// Caveats: unknown fields are refused, not pruned as the API server prunes a CRD's: the
// stored input cannot be changed, and a misspelt field would otherwise be silently ignored.
func (p *Program) ValidateInput(input *runtime.RawExtension) field.ErrorList {
	at := inputPath()
	obj, err := p.input.decode(input)
	if err != nil {
		return field.ErrorList{err}
	}
	unknown := pruning.PruneWithOptions(runtime.DeepCopyJSONValue(obj), p.input.structural, false,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	var errs field.ErrorList
	for _, path := range unknown {
		errs = append(errs, field.Forbidden(at.Child(path), "is not declared in the definition's input schema"))
	}
	errs = append(errs, apiservervalidation.ValidateCustomResource(at, obj, p.input.validator)...)
	// The validator walks maps in random order; a stable order keeps a condition message
	// built from these errors from changing, and being written again, on every reconcile.
	slices.SortStableFunc(errs, func(a, b *field.Error) int { return cmp.Compare(a.Field, b.Field) })
	return errs
}

// decode reads a Saga's input as the expressions see it: a JSON object, nil and null read
// as {}, with the schema's defaults applied. Numbers are int64 when integral, else float64,
// as the API server decodes them.
func (s *inputSchema) decode(input *runtime.RawExtension) (map[string]any, *field.Error) {
	at := inputPath()
	raw := []byte("null")
	if input != nil {
		var err error
		if raw, err = input.MarshalJSON(); err != nil {
			return nil, field.Invalid(at, field.OmitValueType{}, "cannot be read as JSON: "+err.Error())
		}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, field.Invalid(at, field.OmitValueType{}, "is not valid JSON: "+err.Error())
	}
	if compact.Len() > v1.MaxInputBytes {
		return nil, field.TooLong(at, nil, v1.MaxInputBytes)
	}
	var value any
	if err := utiljson.Unmarshal(compact.Bytes(), &value); err != nil {
		return nil, field.Invalid(at, field.OmitValueType{}, "is not valid JSON: "+err.Error())
	}
	if value == nil {
		value = map[string]any{}
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return nil, field.Invalid(at, jsonKind(value), "must be a JSON object")
	}
	structuraldefaulting.Default(obj, s.structural)
	return obj, nil
}

// jsonKind names the kind of a decoded JSON value, for a message that should not repeat
// the (perhaps large) value itself.
func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	default:
		return "value"
	}
}
