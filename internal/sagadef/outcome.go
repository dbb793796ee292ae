package sagadef

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/google/cel-go/common/types"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// CodeInvalidOutput is the code of an answer whose outputs, businessFailure or transient
// expression failed to evaluate.
const CodeInvalidOutput = "INVALID_OUTPUT"

// Outcome classifies the answer resp to call. It starts from stepclient.Classify (2xx
// succeeded; 408, 429 and 5xx transient; others business failures, with the service's
// code and message). For a step's action it then applies the step's overrides,
// businessFailure first (true makes the answer a business failure), then transient (true
// makes it transient); and on success it evaluates the step's outputs. A compensation's or
// onRollback's answer is classified by Classify alone: the overrides and outputs describe
// the action's answer, whose shape an undo's answer need not have. A successful
// compensation's answer is then read by the compensation's own outputs, if it has any.
//
// An expression that fails on a 2xx answer makes the outcome a business failure with code
// INVALID_OUTPUT and a message naming the expression: it is a definition bug that asking
// again would repeat, so it is not retried, and the engine compensates the step (it did
// take effect). Two exceptions:
//   - the pivot's 2xx answer stays Succeeded (nothing may roll back once the pivot ran),
//     with the outputs that did evaluate, Code INVALID_OUTPUT and the message, for the
//     driver to report;
//   - on an answer that is not 2xx, a failing override leaves the default classification,
//     and the message says what failed.
func (p *Program) Outcome(call saga.Call, vars Vars, resp stepclient.Response) saga.Outcome {
	out := stepclient.Classify(resp)
	s := p.step(call.Step)
	if call.Direction == saga.Compensate && s != nil && len(s.undoOutputs) > 0 && out.Kind == saga.Succeeded {
		return p.undone(s, out, vars, resp)
	}
	if call.Direction != saga.Action || s == nil || (s.businessFailure == nil && s.transient == nil && len(s.outputs) == 0) {
		return out
	}
	answered := resp.Status >= 200 && resp.Status < 300
	act, err := p.activation(vars)
	if err != nil {
		return s.broken(out, answered, nil, err)
	}
	act[varResponse] = responseValue(resp)
	out, overrideErr := s.override(out, act, resp.Status)
	if overrideErr == nil && out.Kind != saga.Succeeded {
		return out
	}
	var outputs map[string]string
	var outputsErr error
	if answered && (overrideErr == nil || s.pivot) {
		outputs, outputsErr = s.evalOutputs(act)
	}
	if err := errors.Join(overrideErr, outputsErr); err != nil {
		return s.broken(out, answered, outputs, err)
	}
	out.Outputs = outputs
	return out
}

// undone reads a successful compensation's answer with the compensation's outputs. The
// undo happened whatever they give: an output that fails to evaluate is only reported in
// the outcome's message (and code), never a failure of the compensation.
func (p *Program) undone(s *compiledStep, out saga.Outcome, vars Vars, resp stepclient.Response) saga.Outcome {
	act, err := p.activation(vars)
	if err == nil {
		act[varResponse] = responseValue(resp)
		out.Outputs, err = evalOutputs(s.undoOutputs, act)
		maps.DeleteFunc(out.Outputs, func(_, value string) bool { return value == "" }) // an empty string adds nothing
		if len(out.Outputs) == 0 {
			out.Outputs = nil
		}
	}
	if err != nil {
		out.Code, out.Message = CodeInvalidOutput, strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return out
}

// override applies the step's businessFailure and transient expressions to out.
func (s *compiledStep) override(out saga.Outcome, act map[string]any, status int) (saga.Outcome, error) {
	rules := []struct {
		expr *expr
		kind saga.OutcomeKind
		name string
	}{
		{s.businessFailure, saga.BusinessFailure, "businessFailure"},
		{s.transient, saga.Transient, "transient"},
	}
	for _, r := range rules {
		if r.expr == nil {
			continue
		}
		v, err := r.expr.eval(act)
		if err != nil {
			return out, err
		}
		if v != types.True {
			continue
		}
		if out.Kind == r.kind {
			return out, nil
		}
		out.Kind = r.kind
		if out.Code == "" { // a 2xx answer, which Classify gives no code
			out.Code = "HTTP_" + strconv.Itoa(status)
		}
		note := fmt.Sprintf("%s matched the HTTP %d answer", r.name, status)
		if out.Message != "" {
			note = out.Message + " (" + note + ")"
		}
		out.Message = note
		return out, nil
	}
	return out, nil
}

// evalOutputs evaluates every output, and returns those that evaluated with the errors of
// the others.
func (s *compiledStep) evalOutputs(act map[string]any) (map[string]string, error) {
	return evalOutputs(s.outputs, act)
}

// evalOutputs evaluates output expressions; see compiledStep.evalOutputs.
func evalOutputs(exprs []namedExpr, act map[string]any) (map[string]string, error) {
	if len(exprs) == 0 {
		return nil, nil //nolint:nilnil // a step without outputs keeps none: nil is the answer, not a missing one
	}
	outputs := make(map[string]string, len(exprs))
	var errs []error
	for _, o := range exprs {
		v, err := o.expr.eval(act)
		if err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", o.name, err))
			continue
		}
		value := string(v.(types.String)) //nolint:forcetypeassert // eval checked it is a string
		if len(value) > v1.MaxOutputLength {
			// Cut, it would name another resource, and an undo addressed by it would
			// tombstone nothing while the real one leaks.
			errs = append(errs, fmt.Errorf("output %s: %d bytes, more than the %d status keeps", o.name, len(value), v1.MaxOutputLength))
			continue
		}
		outputs[o.name] = value
	}
	return outputs, errors.Join(errs...)
}

// broken is the outcome of an answer that an expression failed to read (see Outcome).
func (s *compiledStep) broken(out saga.Outcome, answered bool, outputs map[string]string, err error) saga.Outcome {
	msg := strings.ReplaceAll(err.Error(), "\n", "; ") // errors.Join puts each on its own line
	switch {
	case !answered:
		if out.Message != "" {
			msg = out.Message + "; " + msg
		}
		out.Message = msg
		return out
	case s.pivot:
		return saga.Outcome{Kind: saga.Succeeded, Code: CodeInvalidOutput, Message: msg, Outputs: outputs}
	default:
		return saga.Outcome{Kind: saga.BusinessFailure, Code: CodeInvalidOutput, Message: msg}
	}
}
