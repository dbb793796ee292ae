package sagadef

import (
	"fmt"
	"strings"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// Reasons of a CompileError, which the SagaDefinition's Ready=False condition shows.
const (
	// ReasonInvalidSchema: spec.input.openAPIV3Schema is not a structural schema of an
	// object, or uses what a Saga's input cannot be checked against.
	ReasonInvalidSchema = "InvalidSchema"
	// ReasonInvalidExpression: an expression does not compile against the variables it
	// sees, or gives the wrong type.
	ReasonInvalidExpression = "InvalidExpression"
	// ReasonInvalidPlan: the steps break a rule the CRD also enforces (unique names, one
	// pivot, no compensation at or after it), so only a definition that bypassed
	// validation gets it.
	ReasonInvalidPlan = "InvalidPlan"
)

// MaxMessageBytes bounds CompileError.Message, which becomes a condition message.
const MaxMessageBytes = 1000

// Problem is one thing wrong with a definition.
type Problem struct {
	// Field is the JSON path of what is wrong: spec.steps[1].action.path.
	Field string
	// Step names the step the field belongs to, if any.
	Step v1.StepName
	// Detail says what is wrong, the CEL error included.
	Detail string
}

// String renders the problem for people: "step ReserveInventory, spec.steps[1].action.path: ...".
func (p Problem) String() string {
	if p.Step != "" {
		return fmt.Sprintf("step %s, %s: %s", p.Step, p.Field, p.Detail)
	}
	return p.Field + ": " + p.Detail
}

// CompileError says why a definition cannot run. It lists every problem found, not only
// the first, so that one edit can fix them all.
type CompileError struct {
	// Reason is ReasonInvalidSchema, ReasonInvalidExpression or ReasonInvalidPlan.
	Reason string
	// Field and Step are the first problem's.
	Field string
	Step  v1.StepName
	// Message lists the problems, at most MaxMessageBytes long.
	Message string
	// Problems are all of them, in spec order.
	Problems []Problem
}

// Error returns Message.
func (e *CompileError) Error() string { return e.Message }

// newCompileError gathers problems of one reason; problems must not be empty.
func newCompileError(reason string, problems []Problem) *CompileError {
	parts := make([]string, 0, len(problems))
	for _, p := range problems {
		parts = append(parts, p.String())
	}
	msg := strings.Join(parts, "; ")
	if len(problems) > 1 {
		msg = fmt.Sprintf("%d problems: %s", len(problems), msg)
	}
	return &CompileError{
		Reason:   reason,
		Field:    problems[0].Field,
		Step:     problems[0].Step,
		Message:  saga.Truncate(msg, MaxMessageBytes),
		Problems: problems,
	}
}
