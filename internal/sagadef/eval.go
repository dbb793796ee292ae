package sagadef

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apiserver/pkg/cel/common"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// Vars is what expressions read of one saga: its identity, its spec.input and its status
// (the outputs of the steps that ran, and the failure once it rolls back).
type Vars struct {
	// UID, Name and Namespace are the Saga's, read as saga.uid, saga.name and saga.namespace.
	UID, Name, Namespace string
	// Input is the Saga's spec.input; nil is {}.
	Input *runtime.RawExtension
	// Status is the saga's status; nil is empty.
	Status *v1.SagaStatus
}

// activation is the variables' values for vars. response is added by Outcome.
func (p *Program) activation(vars Vars) (map[string]any, error) {
	input, ferr := p.input.decode(vars.Input)
	if ferr != nil {
		return nil, fmt.Errorf("read the saga's input: %w", ferr)
	}
	status := vars.Status
	if status == nil {
		status = &v1.SagaStatus{}
	}
	// Every step is present, with the outputs recorded so far, so that has() can test for
	// an output of a step that has not run.
	steps := make(map[string]any, len(p.steps))
	for _, s := range p.steps {
		outputs := map[string]string{}
		for _, st := range status.Steps {
			if st.Name == s.name {
				maps.Copy(outputs, st.Outputs)
			}
		}
		steps[string(s.name)] = map[string]any{"outputs": outputs}
	}
	failure := map[string]any{"step": "", "code": "", "message": ""}
	if f := status.Failure; f != nil {
		failure = map[string]any{"step": string(f.Step), "code": f.Reason, "message": f.Message}
	}
	return map[string]any{
		varSaga:    map[string]any{"uid": vars.UID, "name": vars.Name, "namespace": vars.Namespace},
		varInput:   common.UnstructuredToVal(input, &model.Structural{Structural: p.input.structural}),
		varSteps:   steps,
		varFailure: failure,
	}, nil
}

// eval evaluates e and checks its value has the type e's field needs. Its error names the
// step and the field.
func (e *expr) eval(act map[string]any) (ref.Val, error) {
	v, _, err := e.program.Eval(act)
	if err != nil {
		hint := ""
		if strings.Contains(err.Error(), "no such key") {
			hint = " (a value that may be absent, such as an output of a step that has not succeeded, can be tested with has())"
		}
		return nil, fmt.Errorf("step %s, %s: %w%s", e.step, e.field, err, hint)
	}
	switch e.want {
	case resultString:
		if _, ok := v.(types.String); !ok {
			return nil, fmt.Errorf("step %s, %s: gave a %s, want a string", e.step, e.field, v.Type().TypeName())
		}
	case resultBool:
		if _, ok := v.(types.Bool); !ok {
			return nil, fmt.Errorf("step %s, %s: gave a %s, want a bool", e.step, e.field, v.Type().TypeName())
		}
	case resultJSON: // toJSON checks it
	}
	return v, nil
}

// Request builds the request of call: a step's action or compensation, or the onRollback
// call (call.Step is its name). An expression that fails to evaluate, or gives a path that
// does not start with "/", is an error naming the step and the field; the caller records
// it as the call's business failure (INVALID_REQUEST), since asking again gives the same.
func (p *Program) Request(call saga.Call, vars Vars) (stepclient.Request, error) {
	service, c, err := p.callOf(call)
	if err != nil {
		return stepclient.Request{}, err
	}
	act, err := p.activation(vars)
	if err != nil {
		return stepclient.Request{}, err
	}
	v, err := c.path.eval(act)
	if err != nil {
		return stepclient.Request{}, err
	}
	path := string(v.(types.String)) //nolint:forcetypeassert // eval checked it is a string
	if _, perr := url.ParseRequestURI(path); !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n") || perr != nil {
		return stepclient.Request{}, fmt.Errorf("step %s, %s: gave %q, not a request path starting with \"/\"", c.path.step, c.path.field, path)
	}
	if dotSegment(path) {
		// Values from a Saga's input end up in paths: they must not walk to another resource.
		return stepclient.Request{}, fmt.Errorf("step %s, %s: gave %q, whose path has a \".\" or \"..\" segment", c.path.step, c.path.field, path)
	}
	req := stepclient.Request{Service: service, Method: c.method, Path: path}
	if c.body != nil {
		v, err := c.body.eval(act)
		if err != nil {
			return stepclient.Request{}, err
		}
		if req.Body, err = marshalJSON(v); err != nil {
			return stepclient.Request{}, fmt.Errorf("step %s, %s: %w", c.body.step, c.body.field, err)
		}
	}
	return req, nil
}

// callOf finds the service and the call of call.
func (p *Program) callOf(call saga.Call) (string, *compiledCall, error) {
	if r := p.rollback; r != nil && call.Step == r.name {
		return r.service, &r.action, nil
	}
	s := p.step(call.Step)
	switch {
	case s == nil:
		return "", nil, fmt.Errorf("the definition has no step %s", call.Step)
	case call.Direction != saga.Compensate:
		return s.service, &s.action, nil
	case s.compensation == nil:
		return "", nil, fmt.Errorf("step %s has no compensation", call.Step)
	default:
		return s.service, s.compensation, nil
	}
}

func (p *Program) step(name v1.StepName) *compiledStep {
	for i := range p.steps {
		if p.steps[i].name == name {
			return &p.steps[i]
		}
	}
	return nil
}

// RollbackWanted evaluates onRollback.when for the saga: whether the call after a rollback
// is to be made. It is true when onRollback has no when, and false when the definition has
// no onRollback (there is no call to make). The driver sets the plan's AfterRollback.Skip
// to its negation.
//
// Caveats: on an error (the expression failed, as reading an absent output without has()
// does), the caller chooses; a best-effort notice is better sent than lost, so making the
// call is the safer choice.
func (p *Program) RollbackWanted(vars Vars) (bool, error) {
	if p.rollback == nil {
		return false, nil
	}
	if p.rollback.when == nil {
		return true, nil
	}
	act, err := p.activation(vars)
	if err != nil {
		return false, err
	}
	v, err := p.rollback.when.eval(act)
	if err != nil {
		return false, err
	}
	return bool(v.(types.Bool)), nil //nolint:forcetypeassert // eval checked it is a bool
}

// responseValue is the response variable: the status, and the body decoded as JSON (null
// when it is empty or not JSON), numbers as int64 when integral, as the API server decodes.
func responseValue(resp stepclient.Response) map[string]any {
	var body any
	if len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := utiljson.Unmarshal(resp.Body, &body); err != nil {
			body = nil
		}
	}
	return map[string]any{"status": int64(resp.Status), "body": body}
}

// dotSegment reports whether the path part of a request path has a "." or ".." segment,
// escaped or not.
func dotSegment(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	p, _, _ = strings.Cut(p, "#")
	for seg := range strings.SplitSeq(p, "/") {
		if unescaped, err := url.PathUnescape(seg); err == nil {
			seg = unescaped
		}
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
