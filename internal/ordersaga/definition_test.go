package ordersaga_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/sagadef"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// The order saga ships as a SagaDefinition (config/samples), and these tests hold it to the
// built-in kind: for every call of every generated order, the definition must build the
// request the built-in kind builds (service, method, path and JSON body) and read the same
// answer the same way (outcome kind, code, message and outputs). What the built-in kind does
// that a definition cannot say is pinned in definition_gaps_test.go.
const (
	samplesDir       = "../../config/samples"
	definitionSample = "saga_v1alpha1_sagadefinition_order_fulfilment.yaml"
	definitionSeed   = 20260704
	// definitionSpecs is fewer than the contract test's: each order is run twice, and the
	// contract test already sends the requests of more orders through the services.
	definitionSpecs = 1000
)

// orderDefinition compiles the order saga's SagaDefinition sample.
func orderDefinition(t testing.TB) *sagadef.Program {
	t.Helper()
	var def v1.SagaDefinition
	readSample(t, definitionSample, &def)
	if def.Kind != "SagaDefinition" || def.Name == "" {
		t.Fatalf("%s holds a %s named %q, want a SagaDefinition", definitionSample, def.Kind, def.Name)
	}
	p, err := sagadef.Compile(context.Background(), &def.Spec)
	if err != nil {
		t.Fatalf("compile %s: %v", definitionSample, err)
	}
	return p
}

// readSample decodes one sample file strictly into obj.
func readSample(t testing.TB, name string, obj any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// sagaInput is the spec.input of the Saga that places the same order as an OrderSaga with
// spec: the spec without what a Saga takes from its definition (retryPolicy, stepTimeout)
// or has itself (suspend, ttlSecondsAfterFinished).
func sagaInput(t testing.TB, spec *v1.OrderSagaSpec) *runtime.RawExtension {
	t.Helper()
	order := spec.DeepCopy()
	order.RetryPolicy, order.StepTimeout, order.Suspend, order.TTLSecondsAfterFinished = nil, nil, false, nil
	data, err := json.Marshal(order)
	if err != nil {
		t.Fatal(err)
	}
	return &runtime.RawExtension{Raw: data}
}

// sent is a request as the services receive it, its body as canonical JSON.
type sent struct {
	Service, Method, Path, Body string
}

// canonical re-encodes a JSON body with sorted keys and exact numbers, so that two bodies
// that mean the same compare equal whatever their key order.
func canonical(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "not JSON: " + string(body)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return "cannot encode: " + err.Error()
	}
	return string(out)
}

// recorder is a transport in front of the contract services that keeps the last request
// and its answer, so that the same answer can be read by both sagas.
type recorder struct {
	next http.RoundTripper
	// edit, when set, changes an answer before either saga reads it.
	edit    func(r sent, body []byte) []byte
	request sent
	answer  stepclient.Response
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", req.URL, err)
	}
	r.request = sent{req.URL.Host, req.Method, req.URL.Path, canonical(body)}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", req.URL, err)
	}
	answer, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("record the answer to %s: %w", req.URL, err)
	}
	if r.edit != nil {
		answer = r.edit(r.request, answer)
	}
	r.answer = stepclient.Response{Status: resp.StatusCode, Body: answer}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	return resp, nil
}

// twin is one order run both ways: as an OrderSaga by the built-in code, and as a Saga on
// the definition, each with the status its own run gives it.
type twin struct {
	name    string
	order   *v1.OrderSaga
	program *sagadef.Program
	input   *runtime.RawExtension
	status  v1.SagaStatus // the Saga's
}

func newTwin(t testing.TB, p *sagadef.Program, name string, obj *v1.OrderSaga) *twin {
	t.Helper()
	tw := &twin{name: name, order: obj, program: p, input: sagaInput(t, &obj.Spec)}
	// As withStatus leaves the OrderSaga: running, and rolling back for a failure (only
	// compensations and the cancellation notice read it).
	tw.status = v1.SagaStatus{Phase: v1.PhaseRunning, Failure: obj.Status.Failure.DeepCopy()}
	return tw
}

func (tw *twin) vars() sagadef.Vars {
	return sagadef.Vars{UID: string(tw.order.UID), Name: tw.order.Name, Namespace: tw.order.Namespace,
		Input: tw.input, Status: &tw.status}
}

// record writes the outcome of call into both statuses, as each run records it.
func (tw *twin) record(call saga.Call, builtIn, defined saga.Outcome, now time.Time) {
	d := saga.Decision{Kind: saga.KindCall, Call: &call}
	ordersaga.Record(tw.order, d, builtIn, now)
	saga.Record(tw.program.Plan(), &tw.status, d, defined, now)
}

// TestDefinitionRequestsAndOutcomesMatchTheBuiltInSaga runs every call of every generated
// order (each action, each compensation in reverse, the cancellation notice) through the
// built-in caller onto the services' real handlers, then asks the definition for the same
// call with the Saga's status as its run left it: the request must be the one the built-in
// caller sent, and the definition must read the services' answer as the built-in caller did.
// The hand-picked orders of boundarySagas put every limit at its bounds, among them the
// longest namespace and name (whose compensation reason is cut) and the largest total.
func TestDefinitionRequestsAndOutcomesMatchTheBuiltInSaga(t *testing.T) {
	p := orderDefinition(t)
	svc := newContractServices(t)
	run := newTwinRunner(t, p, svc, nil)
	payments, methods := crdEnums(t)
	g := gen{r: rand.New(rand.NewPCG(definitionSeed, 0)), payments: payments, methods: methods}
	cases := boundarySagas(g)
	n := definitionSpecs
	if testing.Short() {
		n /= 10
	}
	for i := range n {
		cases = append(cases, namedSaga{fmt.Sprintf("generated #%d (seed %d)", i, definitionSeed), g.saga()})
	}
	calls, failures := 0, 0
	for _, c := range cases {
		made, err := run.both(t, c.name, c.obj)
		calls += made
		if err != nil {
			failures++
			t.Error(err)
			if failures == maxFailures {
				t.Fatalf("stopping after %d differences", failures)
			}
		}
	}
	t.Logf("%d orders, %d calls built and read alike", len(cases), calls)
}

// twinRunner runs orders both ways through one recording transport.
type twinRunner struct {
	program *sagadef.Program
	rec     *recorder
	caller  ordersaga.Caller
}

// newTwinRunner puts a recorder in front of svc; edit, when set, changes the services'
// answers.
func newTwinRunner(t testing.TB, p *sagadef.Program, svc *contractServices, edit func(sent, []byte) []byte) *twinRunner {
	t.Helper()
	rec := &recorder{next: svc, edit: edit}
	return &twinRunner{program: p, rec: rec,
		caller: ordersaga.Caller{Client: stepclient.NewWithTransport(stepclient.Resolver{Overrides: svc.urls}, rec)}}
}

// both makes every call of obj both ways and returns how many it compared, and the first
// difference.
func (r *twinRunner) both(t *testing.T, name string, obj *v1.OrderSaga) (int, error) {
	t.Helper()
	tw := newTwin(t, r.program, name, obj)
	if errs := r.program.ValidateInput(tw.input); len(errs) > 0 {
		return 0, fmt.Errorf("%s: the definition refuses the input of an OrderSaga the CRD admits: %w\ninput: %s", name, errs.ToAggregate(), tw.input.Raw)
	}
	calls := 0
	for _, call := range everyCall(string(obj.UID)) {
		calls++
		at := fmt.Sprintf("%s: %s %s", name, call.Step, call.Direction)
		vars := tw.vars() // read before the built-in run records anything
		builtIn := r.caller.Call(t.Context(), obj, call)
		req, err := r.program.Request(call, vars)
		if err != nil {
			return calls, fmt.Errorf("%s: the definition builds no request: %w", at, err)
		}
		got := sent{req.Service, req.Method, req.Path, canonical(req.Body)}
		if diff := cmp.Diff(r.rec.request, got); diff != "" {
			return calls, fmt.Errorf("%s: request: -built-in, +definition:\n%s", at, diff)
		}
		defined := r.program.Outcome(call, vars, r.rec.answer)
		if diff := cmp.Diff(builtIn, defined); diff != "" {
			return calls, fmt.Errorf("%s: outcome of %d %s: -built-in, +definition:\n%s", at, r.rec.answer.Status, r.rec.answer.Body, diff)
		}
		if builtIn.Kind != saga.Succeeded {
			return calls, fmt.Errorf("%s: the services refused the request: %s: %s", at, builtIn.Code, builtIn.Message)
		}
		tw.record(call, builtIn, defined, time.Now())
	}
	return calls, nil
}

// TestSampleSagasMirrorTheOrderSagas checks that each sample Saga places the same order as
// the sample OrderSaga of its name, on the order saga's definition.
func TestSampleSagasMirrorTheOrderSagas(t *testing.T) {
	var def v1.SagaDefinition
	readSample(t, definitionSample, &def)
	p := orderDefinition(t)
	for _, outcome := range []string{"completed", "out_of_stock", "payment_declined", "unsupported_destination"} {
		t.Run(outcome, func(t *testing.T) {
			var order v1.OrderSaga
			var generic v1.Saga
			readSample(t, "saga_v1alpha1_ordersaga_"+outcome+".yaml", &order)
			readSample(t, "saga_v1alpha1_saga_"+outcome+".yaml", &generic)
			if generic.Kind != "Saga" || generic.Name != order.Name || generic.Spec.DefinitionRef.Name != def.Name {
				t.Errorf("saga_v1alpha1_saga_%s.yaml: %s %q on %q, want a Saga %q on %q", outcome,
					generic.Kind, generic.Name, generic.Spec.DefinitionRef.Name, order.Name, def.Name)
			}
			if generic.Spec.Input == nil {
				t.Fatal("the Saga has no spec.input")
			}
			if want, got := canonical(sagaInput(t, &order.Spec).Raw), canonical(generic.Spec.Input.Raw); want != got {
				t.Errorf("spec.input differs from the OrderSaga's spec:\n%s", cmp.Diff(want, got))
			}
			if errs := p.ValidateInput(generic.Spec.Input); len(errs) > 0 {
				t.Errorf("the definition refuses the sample's input: %v", errs.ToAggregate())
			}
		})
	}
}

// TestDefinitionPlanMatchesTheBuiltInPlan compares the plans the engine runs: steps in
// order, which are undone, the pivot, the forward-only step, the retry policy and timeout
// of an OrderSaga with the API server's defaults, the failure reasons and the call after a
// rollback.
func TestDefinitionPlanMatchesTheBuiltInPlan(t *testing.T) {
	builtIn := ordersaga.Plan(&v1.OrderSagaSpec{})
	defined := orderDefinition(t).Plan()
	type step struct {
		Name                     v1.StepName
		Compensable, Pivot, Only bool
		Policy                   saga.Policy
		Timeout                  time.Duration
	}
	steps := func(p *saga.Plan) []step {
		out := make([]step, 0, len(p.Steps))
		for _, s := range p.Steps {
			out = append(out, step{s.Name, s.Compensable, s.Pivot, s.ForwardOnly, s.Policy, s.Timeout})
		}
		return out
	}
	if diff := cmp.Diff(steps(builtIn), steps(defined)); diff != "" {
		t.Errorf("steps: -built-in, +definition:\n%s", diff)
	}
	if diff := cmp.Diff(builtIn.Reasons, defined.Reasons); diff != "" {
		t.Errorf("failure reasons: -built-in, +definition:\n%s", diff)
	}
	ar, dr := builtIn.AfterRollback, defined.AfterRollback
	if dr == nil || dr.Name != ar.Name || dr.Policy != ar.Policy || dr.Timeout != ar.Timeout {
		t.Errorf("after rollback: built-in %+v, definition %+v", ar, dr)
	}
}
