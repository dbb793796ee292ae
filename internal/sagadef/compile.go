package sagadef

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// Program is a compiled SagaDefinition: its plan, its input schema and every expression,
// ready to evaluate. It is immutable and safe for concurrent use.
type Program struct {
	plan     saga.Plan
	input    *inputSchema
	steps    []compiledStep
	rollback *compiledRollback
}

// compiledStep is one step's calls and answer rules.
type compiledStep struct {
	name         v1.StepName
	service      string
	pivot        bool
	action       compiledCall
	compensation *compiledCall
	outputs      []namedExpr // by name
	// undoOutputs are read from a successful compensation's answer, by name.
	undoOutputs     []namedExpr
	businessFailure *expr
	transient       *expr
}

// compiledRollback is the onRollback call.
type compiledRollback struct {
	name    v1.StepName
	service string
	action  compiledCall
	when    *expr
}

// compiledCall is an HTTP call: its method, and the path and body expressions.
type compiledCall struct {
	method string
	path   *expr
	body   *expr // nil: no body
}

// namedExpr is an output's expression.
type namedExpr struct {
	name string
	expr *expr
}

// result is the type an expression must give.
type result int

const (
	resultString result = iota
	resultBool
	resultJSON // any value with a JSON form
)

// expr is one compiled expression, with where it came from for error messages.
type expr struct {
	field   string
	step    v1.StepName
	want    result
	program cel.Program
}

// Compile checks the definition's input schema is structural and compiles every expression
// against it. Its error is a *CompileError listing every problem, except when the CEL
// environment itself cannot be built (a bug, not a definition's fault).
func Compile(ctx context.Context, spec *v1.SagaDefinitionSpec) (*Program, error) {
	if spec == nil {
		return nil, newCompileError(ReasonInvalidPlan, []Problem{{Field: "spec", Detail: "is missing"}})
	}
	spec = spec.DeepCopy() // the Program must not change when the caller's object does
	plan := buildPlan(spec)
	if err := plan.Validate(); err != nil {
		return nil, newCompileError(ReasonInvalidPlan, []Problem{{Field: "spec.steps", Detail: err.Error()}})
	}
	input, problems := newInputSchema(ctx, spec.Input.OpenAPIV3Schema)
	if len(problems) > 0 {
		return nil, newCompileError(ReasonInvalidSchema, problems)
	}
	c, err := newCompiler(input, spec.Steps)
	if err != nil {
		return nil, err
	}
	p := &Program{plan: *plan, input: input}
	for i := range spec.Steps {
		p.steps = append(p.steps, c.step(i, &spec.Steps[i]))
	}
	if spec.OnRollback != nil {
		p.rollback = c.rollback(spec.OnRollback)
	}
	if len(c.problems) > 0 {
		return nil, newCompileError(ReasonInvalidExpression, c.problems)
	}
	return p, nil
}

// compiler compiles the expressions of one definition, collecting every problem.
type compiler struct {
	base     *cel.Env
	types    declTypes
	names    []v1.StepName // the steps, in order, for hints
	envs     map[scope]*cel.Env
	problems []Problem
}

func newCompiler(input *inputSchema, steps []v1.DefinitionStep) (*compiler, error) {
	base, err := newBaseEnv()
	if err != nil {
		return nil, err
	}
	types, unusable := newDeclTypes(input.declType, steps)
	c := &compiler{base: base, types: types, envs: map[scope]*cel.Env{}}
	for _, s := range steps {
		c.names = append(c.names, s.Name)
	}
	for _, name := range unusable {
		c.problems = append(c.problems, Problem{Field: "spec.steps", Detail: fmt.Sprintf("name %q cannot be read in expressions", name)})
	}
	return c, nil
}

// step compiles step i: its action, compensation, outputs and overrides.
func (c *compiler) step(i int, s *v1.DefinitionStep) compiledStep {
	at := field.NewPath("spec", "steps").Index(i)
	before := scope{visibleSteps: i}
	out := compiledStep{
		name:    s.Name,
		service: s.Service,
		pivot:   s.Pivot,
		action:  c.call(before, &s.Action, at.Child("action"), s.Name),
	}
	answer := scope{visibleSteps: i, response: true}
	out.outputs = c.outputs(answer, s.Outputs, at.Child("outputs"), s.Name)
	if s.Compensation != nil {
		// A compensation runs after its action, and because the saga is rolling back.
		undo := scope{visibleSteps: i + 1, failure: true}
		comp := c.call(undo, &s.Compensation.HTTPCall, at.Child("compensation"), s.Name)
		out.compensation = &comp
		undo.response = true
		out.undoOutputs = c.outputs(undo, s.Compensation.Outputs, at.Child("compensation", "outputs"), s.Name)
		for _, o := range out.undoOutputs {
			if _, declared := s.Outputs[o.name]; !declared {
				c.problems = append(c.problems, Problem{Field: at.Child("compensation", "outputs").Key(o.name).String(), Step: s.Name,
					Detail: "not one of the step's outputs: a compensation's answer can only fill in an output its action declares"})
			}
		}
	}
	if s.BusinessFailure != "" {
		out.businessFailure = c.compile(answer, s.BusinessFailure, at.Child("businessFailure"), s.Name, resultBool)
	}
	if s.Transient != "" {
		out.transient = c.compile(answer, s.Transient, at.Child("transient"), s.Name, resultBool)
	}
	return out
}

// rollback compiles onRollback, which sees every step and the failure.
func (c *compiler) rollback(r *v1.RollbackCall) *compiledRollback {
	at := field.NewPath("spec", "onRollback")
	all := scope{visibleSteps: len(c.names), failure: true}
	name := rollbackName(r)
	out := &compiledRollback{name: name, service: r.Service, action: c.call(all, &r.Action, at.Child("action"), name)}
	if r.When != "" {
		out.when = c.compile(all, r.When, at.Child("when"), name, resultBool)
	}
	return out
}

// outputs compiles a map of output expressions, in name order.
func (c *compiler) outputs(sc scope, exprs map[string]v1.Expression, at *field.Path, step v1.StepName) []namedExpr {
	names := slices.Sorted(maps.Keys(exprs))
	out := make([]namedExpr, 0, len(names))
	for _, name := range names {
		out = append(out, namedExpr{name: name, expr: c.compile(sc, string(exprs[name]), at.Key(name), step, resultString)})
	}
	return out
}

func (c *compiler) call(sc scope, h *v1.HTTPCall, at *field.Path, step v1.StepName) compiledCall {
	out := compiledCall{method: string(h.Method), path: c.compile(sc, h.Path, at.Child("path"), step, resultString)}
	if h.Body != "" {
		out.body = c.compile(sc, h.Body, at.Child("body"), step, resultJSON)
	}
	return out
}

// compile compiles one expression, or records why it cannot and returns nil.
func (c *compiler) compile(sc scope, src string, at *field.Path, step v1.StepName, want result) *expr {
	fail := func(detail string) *expr {
		c.problems = append(c.problems, Problem{Field: at.String(), Step: step, Detail: detail})
		return nil
	}
	if strings.TrimSpace(src) == "" {
		return fail("the expression is empty")
	}
	env, err := c.envFor(sc)
	if err != nil {
		return fail(err.Error())
	}
	ast, issues := env.Compile(src)
	if issues.Err() != nil {
		return fail(c.describe(issues, sc))
	}
	if msg := checkType(ast.OutputType(), want); msg != "" {
		return fail(msg)
	}
	program, err := env.Program(ast, programOptions()...)
	if err != nil {
		return fail("cannot be evaluated: " + err.Error())
	}
	return &expr{field: at.String(), step: step, want: want, program: program}
}

// describe renders CEL's compile errors on one line each, with a hint where a variable or
// step is out of scope.
func (c *compiler) describe(issues *cel.Issues, sc scope) string {
	parts := make([]string, 0, len(issues.Errors()))
	for _, e := range issues.Errors() {
		msg := strings.TrimSuffix(e.Message, " (in container '')")
		msg = fmt.Sprintf("%s (line %d, column %d)", msg, e.Location.Line(), e.Location.Column()+1)
		parts = append(parts, msg+c.hint(e.Message, sc))
	}
	return strings.Join(parts, ", ")
}

func (c *compiler) hint(msg string, sc scope) string {
	switch {
	case strings.HasPrefix(msg, "undeclared reference to 'response'") && !sc.response:
		return ": response exists only in outputs, businessFailure and transient"
	case strings.HasPrefix(msg, "undeclared reference to 'failure'") && !sc.failure:
		return ": failure exists only in a compensation and in onRollback"
	}
	for _, later := range c.names[sc.visibleSteps:] {
		if msg == fmt.Sprintf("undefined field '%s'", later) {
			return fmt.Sprintf(": steps has only the steps before this one, and %s is not one of them", later)
		}
	}
	return ""
}

// checkType reports a result type that can never be what the field needs. Dyn passes here
// and is checked when evaluated.
func checkType(t *cel.Type, want result) string {
	if t.Kind() == celtypes.DynKind {
		return ""
	}
	switch want {
	case resultString:
		if !t.IsExactType(cel.StringType) {
			return fmt.Sprintf("gives %s, want string", t)
		}
	case resultBool:
		if !t.IsExactType(cel.BoolType) {
			return fmt.Sprintf("gives %s, want bool", t)
		}
	case resultJSON:
		switch t.Kind() { //nolint:exhaustive // every other kind has a JSON form, or is checked when evaluated
		case celtypes.TypeKind, celtypes.ErrorKind, celtypes.UnknownKind, celtypes.OpaqueKind:
			return fmt.Sprintf("gives %s, which has no JSON form", t)
		}
	}
	return ""
}

// rollbackName is onRollback's name, defaulted as the CRD defaults it.
func rollbackName(r *v1.RollbackCall) v1.StepName {
	if r.Name == "" {
		return "OnRollback"
	}
	return r.Name
}
