package sagadef

import (
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/library"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Names of the variables expressions read.
const (
	varSaga     = "saga"
	varInput    = "input"
	varSteps    = "steps"
	varFailure  = "failure"
	varResponse = "response"
)

// scope says which variables an expression sees: the first visibleSteps steps of the plan,
// and whether failure and response exist.
type scope struct {
	visibleSteps int
	failure      bool
	response     bool
}

// newBaseEnv returns the libraries and settings every expression compiles with: those the
// API server gives CRD validation rules (strings, sets, lists, two-variable
// comprehensions, URLs, regexes), without HomogeneousAggregateLiterals, which would refuse
// the mixed map literals a request body is made of ({'id': saga.uid, 'items': [...]}).
func newBaseEnv() (*cel.Env, error) {
	env, err := cel.NewEnv(
		cel.DefaultUTCTimeZone(true),
		cel.EagerlyValidateDeclarations(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(ext.StringsVersion(2)),
		ext.Sets(),
		ext.Lists(ext.ListsVersion(3)),
		ext.TwoVarComprehensions(),
		library.URLs(),
		library.Regex(),
		library.Lists(library.ListsVersion(1)),
		cel.ASTValidators(cel.ValidateDurationLiterals(), cel.ValidateTimestampLiterals(), cel.ValidateRegexLiterals()),
	)
	if err != nil {
		return nil, fmt.Errorf("build the CEL environment: %w", err)
	}
	return env, nil
}

// programOptions bound every evaluation as the API server bounds one validation rule: a
// cost limit per call, with the Kubernetes libraries' costs, checked inside comprehensions.
func programOptions() []cel.ProgramOption {
	return []cel.ProgramOption{
		cel.EvalOptions(cel.OptOptimize, cel.OptTrackCost),
		cel.CostLimit(celconfig.PerCallLimit),
		cel.CostTracking(&library.CostEstimator{}),
		cel.InterruptCheckFrequency(celconfig.CheckFrequency),
	}
}

// declTypes are the types of the variables, built once per definition.
type declTypes struct {
	input    *apiservercel.DeclType // nil: the schema gives no type, and input is dyn
	steps    []stepType             // one per step, in plan order
	saga     *apiservercel.DeclType
	failure  *apiservercel.DeclType
	response *apiservercel.DeclType
}

// stepType is the type of steps.<name>: {outputs: {<declared name>: string}}.
type stepType struct {
	name  string // escaped for CEL, as the API server escapes field names
	field *apiservercel.DeclType
}

func newDeclTypes(input *apiservercel.DeclType, steps []v1.DefinitionStep) (declTypes, []string) {
	t := declTypes{
		input: input,
		saga: objectType("sagadef.saga", map[string]*apiservercel.DeclType{
			"uid": apiservercel.StringType, "name": apiservercel.StringType, "namespace": apiservercel.StringType,
		}),
		failure: objectType("sagadef.failure", map[string]*apiservercel.DeclType{
			"step": apiservercel.StringType, "code": apiservercel.StringType, "message": apiservercel.StringType,
		}),
		response: objectType("sagadef.response", map[string]*apiservercel.DeclType{
			"status": apiservercel.IntType, "body": apiservercel.DynType,
		}),
	}
	var unusable []string
	for _, s := range steps {
		outputs := make(map[string]*apiservercel.DeclType, len(s.Outputs))
		for name := range s.Outputs {
			outputs[name] = apiservercel.StringType
		}
		typeName := "sagadef.steps." + string(s.Name)
		outputsType, bad := objectTypeEscaped(typeName+".outputs", outputs)
		unusable = append(unusable, bad...)
		step, _ := objectTypeEscaped(typeName, map[string]*apiservercel.DeclType{"outputs": outputsType})
		escaped, ok := apiservercel.Escape(string(s.Name))
		if !ok {
			unusable = append(unusable, string(s.Name))
		}
		t.steps = append(t.steps, stepType{name: escaped, field: step})
	}
	return t, unusable
}

// objectType is an object type whose field names need no escaping.
func objectType(name string, fields map[string]*apiservercel.DeclType) *apiservercel.DeclType {
	t, _ := objectTypeEscaped(name, fields)
	return t
}

// objectTypeEscaped is an object type with the given fields, their names escaped as the API
// server escapes a schema's property names (a field named namespace is read as x.namespace).
// It also returns the names that cannot be fields.
func objectTypeEscaped(name string, fields map[string]*apiservercel.DeclType) (*apiservercel.DeclType, []string) {
	decl := make(map[string]*apiservercel.DeclField, len(fields))
	var bad []string
	for n, t := range fields {
		escaped, ok := apiservercel.Escape(n)
		if !ok {
			bad = append(bad, n)
			continue
		}
		decl[escaped] = apiservercel.NewDeclField(escaped, t, false, nil, nil)
	}
	return apiservercel.NewObjectType(name, decl), bad
}

// envFor returns the environment of a scope, built on first use.
func (c *compiler) envFor(sc scope) (*cel.Env, error) {
	if env, ok := c.envs[sc]; ok {
		return env, nil
	}
	steps := make(map[string]*apiservercel.DeclField, sc.visibleSteps)
	for _, s := range c.types.steps[:sc.visibleSteps] {
		steps[s.name] = apiservercel.NewDeclField(s.name, s.field, false, nil, nil)
	}
	stepsType := apiservercel.NewObjectType("sagadef.steps", steps)
	decls := []*apiservercel.DeclType{c.types.saga, stepsType}
	vars := []cel.EnvOption{
		cel.Variable(varSaga, c.types.saga.CelType()),
		cel.Variable(varSteps, stepsType.CelType()),
	}
	if c.types.input != nil {
		decls = append(decls, c.types.input)
		vars = append(vars, cel.Variable(varInput, c.types.input.CelType()))
	} else {
		vars = append(vars, cel.Variable(varInput, cel.DynType))
	}
	if sc.failure {
		decls = append(decls, c.types.failure)
		vars = append(vars, cel.Variable(varFailure, c.types.failure.CelType()))
	}
	if sc.response {
		decls = append(decls, c.types.response)
		vars = append(vars, cel.Variable(varResponse, c.types.response.CelType()))
	}
	provider := apiservercel.NewDeclTypeProvider(decls...)
	provider.SetRecognizeKeywordAsFieldName(true)
	opts, err := provider.EnvOptions(c.base.CELTypeProvider())
	if err != nil {
		return nil, fmt.Errorf("declare the expression types: %w", err)
	}
	env, err := c.base.Extend(append(opts, vars...)...)
	if err != nil {
		return nil, fmt.Errorf("declare the expression variables: %w", err)
	}
	c.envs[sc] = env
	return env, nil
}
