package sagadef

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

func TestOutcome(t *testing.T) {
	order := mustCompile(t, orderSpec(t))
	// The order saga with outputs on its pivot, to show a pivot's answer is never undone.
	pivotOutputs := mustCompile(t, specWith(t, func(s *v1.SagaDefinitionSpec) {
		s.Steps[4].Outputs = map[string]v1.Expression{"confirmedAt": "response.body.confirmedAt", "status": "response.body.status"}
	}))
	action := func(step v1.StepName) saga.Call { return saga.Call{Step: step, Direction: saga.Action} }
	cases := map[string]struct {
		reason  string
		program *Program
		call    saga.Call
		resp    stepclient.Response
		want    saga.Outcome
	}{
		"OutputsOfASuccess": {
			reason: "A 2xx answer succeeds with the step's outputs.",
			call:   action("CreateOrder"),
			resp:   stepclient.Response{Status: 200, Body: []byte(`{"orderId": "ord-u-1", "total": "25.50", "status": "PENDING"}`)},
			want:   saga.Outcome{Kind: saga.Succeeded, Outputs: map[string]string{"orderId": "ord-u-1", "total": "25.50"}},
		},
		"OutputAnExpressionTestsFor": {
			reason: "has() lets an output be empty when the answer lacks it.",
			call:   action("ScheduleShipment"),
			resp:   stepclient.Response{Status: 201, Body: []byte(`{"shipmentId": "shp-u-1"}`)},
			want:   saga.Outcome{Kind: saga.Succeeded, Outputs: map[string]string{"shipmentId": "shp-u-1", "trackingNumber": ""}},
		},
		"OutputMissingFromTheAnswer": {
			reason: "An output that fails on a 2xx answer is a definition bug: a business failure, not retried, naming the output.",
			call:   action("CreateOrder"),
			resp:   stepclient.Response{Status: 200, Body: []byte(`{"orderId": "ord-u-1"}`)},
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: CodeInvalidOutput,
				Message: "output total: step CreateOrder, spec.steps[0].outputs[total]: no such key: total (a value that may be absent, such as an output of a step that has not succeeded, can be tested with has())"},
		},
		"OutputTooLong": {
			reason: "An output longer than status keeps is refused, not cut: a cut identifier would address another resource.",
			call:   action("ReserveInventory"),
			resp:   stepclient.Response{Status: 200, Body: []byte(`{"reservationId": "res-` + strings.Repeat("x", v1.MaxOutputLength) + `"}`)},
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: CodeInvalidOutput,
				Message: fmt.Sprintf("output reservationId: %d bytes, more than the %d status keeps", v1.MaxOutputLength+4, v1.MaxOutputLength)},
		},
		"OutputOfAnAnswerThatIsNotJSON": {
			reason: "A body that is not JSON is null to the expressions.",
			call:   action("ReserveInventory"),
			resp:   stepclient.Response{Status: 200, Body: []byte(`ok`)},
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: CodeInvalidOutput,
				Message: "output reservationId: step ReserveInventory, spec.steps[1].outputs[reservationId]: no such key: reservationId (a value that may be absent, such as an output of a step that has not succeeded, can be tested with has())"},
		},
		"DefaultBusinessFailure": {
			reason: "Without an override, Classify decides, with the service's code and message.",
			call:   action("ReserveInventory"),
			resp:   stepclient.Response{Status: 409, Body: []byte(`{"error": {"code": "OUT_OF_STOCK", "message": "sku-1: 0 left"}}`)},
			want:   saga.Outcome{Kind: saga.BusinessFailure, Code: "OUT_OF_STOCK", Message: "sku-1: 0 left"},
		},
		"TransientOverride": {
			reason: "transient true makes a 409 retried; the code is the service's.",
			call:   action("ProcessPayment"),
			resp:   stepclient.Response{Status: 409, Body: []byte(`{"error": {"code": "PAYMENT_IN_PROGRESS", "message": "still charging"}}`)},
			want:   saga.Outcome{Kind: saga.Transient, Code: "PAYMENT_IN_PROGRESS", Message: "still charging (transient matched the HTTP 409 answer)"},
		},
		"TransientOverrideFalse": {
			reason: "transient false leaves the default classification.",
			call:   action("ProcessPayment"),
			resp:   stepclient.Response{Status: 402, Body: []byte(`{"error": {"code": "PAYMENT_DECLINED", "message": "card declined"}}`)},
			want:   saga.Outcome{Kind: saga.BusinessFailure, Code: "PAYMENT_DECLINED", Message: "card declined"},
		},
		"ServerErrorHasNoOutputs": {
			reason: "Outputs are read only from a success.",
			call:   action("ProcessPayment"),
			resp:   stepclient.Response{Status: 503},
			want:   saga.Outcome{Kind: saga.Transient, Code: "HTTP_503", Message: "Service Unavailable"},
		},
		"BusinessFailureOverrideOf2xx": {
			reason: "A notice the service could not deliver answers 200 with status FAILED; the code is HTTP_200.",
			call:   action("SendNotification"),
			resp:   stepclient.Response{Status: 200, Body: []byte(`{"notificationId": "ntf-1", "status": "FAILED"}`)},
			want:   saga.Outcome{Kind: saga.BusinessFailure, Code: "HTTP_200", Message: "businessFailure matched the HTTP 200 answer"},
		},
		"BusinessFailureOverrideFalse": {
			reason: "A delivered notice succeeds; the step declares no outputs.",
			call:   action("SendNotification"),
			resp:   stepclient.Response{Status: 200, Body: []byte(`{"notificationId": "ntf-1", "status": "SENT"}`)},
			want:   saga.Outcome{Kind: saga.Succeeded},
		},
		"OverrideFailsOnAnError": {
			reason: "An override that fails on an answer that is not 2xx keeps the default, and says what failed.",
			call:   action("SendNotification"),
			resp:   stepclient.Response{Status: 502, Body: []byte(`bad gateway`)},
			want: saga.Outcome{Kind: saga.Transient, Code: "HTTP_502",
				Message: "Bad Gateway; step SendNotification, spec.steps[5].businessFailure: no such key: status (a value that may be absent, such as an output of a step that has not succeeded, can be tested with has())"},
		},
		"OverrideFailsOnASuccess": {
			reason: "An override that fails on a 2xx answer is a definition bug like a failing output.",
			call:   action("SendNotification"),
			resp:   stepclient.Response{Status: 204},
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: CodeInvalidOutput,
				Message: "step SendNotification, spec.steps[5].businessFailure: no such key: status (a value that may be absent, such as an output of a step that has not succeeded, can be tested with has())"},
		},
		"PivotSucceedsWhateverItsOutputs": {
			reason:  "Nothing rolls back once the pivot ran: it keeps the outputs that evaluated and reports the others.",
			program: pivotOutputs,
			call:    action("ConfirmOrder"),
			resp:    stepclient.Response{Status: 200, Body: []byte(`{"status": "CONFIRMED"}`)},
			want: saga.Outcome{Kind: saga.Succeeded, Code: CodeInvalidOutput, Outputs: map[string]string{"status": "CONFIRMED"},
				Message: "output confirmedAt: step ConfirmOrder, spec.steps[4].outputs[confirmedAt]: no such key: confirmedAt (a value that may be absent, such as an output of a step that has not succeeded, can be tested with has())"},
		},
		"CompensationAnswer": {
			reason: "A compensation's answer is not read by the action's outputs or overrides.",
			call:   saga.Call{Step: "CreateOrder", Direction: saga.Compensate},
			resp:   stepclient.Response{Status: 200, Body: []byte(`{"orderId": "ord-u-1", "tombstone": true}`)},
			want:   saga.Outcome{Kind: saga.Succeeded},
		},
		"OnRollbackAnswer": {
			reason: "The onRollback call's answer is classified by Classify.",
			call:   action("NotifyCancellation"),
			resp:   stepclient.Response{Status: 404, Body: []byte(`{"error": {"code": "UNKNOWN_CUSTOMER", "message": "no such customer"}}`)},
			want:   saga.Outcome{Kind: saga.BusinessFailure, Code: "UNKNOWN_CUSTOMER", Message: "no such customer"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := tc.program
			if p == nil {
				p = order
			}
			got := p.Outcome(tc.call, orderVars(t, ranAll(nil)), tc.resp)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nOutcome(%s, %d): -want, +got:\n%s", tc.reason, tc.call.Step, tc.resp.Status, diff)
			}
		})
	}
}

// TestCompensationOutputs checks that a compensation's answer fills in its step's outputs
// (a cancel that found the order proves it existed), that an empty value adds nothing, and
// that an output the answer cannot give never fails the undo that happened.
func TestCompensationOutputs(t *testing.T) {
	p := mustCompile(t, specWith(t, func(s *v1.SagaDefinitionSpec) {
		s.Steps[0].Compensation.Outputs = map[string]v1.Expression{
			"orderId": "has(response.body.tombstone) && response.body.tombstone ? '' : response.body.orderId"}
	}))
	undo := saga.Call{Step: "CreateOrder", Direction: saga.Compensate}
	cases := map[string]struct {
		body string
		want saga.Outcome
	}{
		"FoundTheOrder": {body: `{"orderId": "ord-u-1", "status": "CANCELLED"}`,
			want: saga.Outcome{Kind: saga.Succeeded, Outputs: map[string]string{"orderId": "ord-u-1"}}},
		"Tombstone": {body: `{"orderId": "ord-u-1", "status": "CANCELLED", "tombstone": true}`,
			want: saga.Outcome{Kind: saga.Succeeded}},
		"Unreadable": {body: `{"status": "CANCELLED"}`,
			want: saga.Outcome{Kind: saga.Succeeded, Code: CodeInvalidOutput,
				Message: "output orderId: step CreateOrder, spec.steps[0].compensation.outputs[orderId]: no such key: orderId (a value that may be absent, such as an output of a step that has not succeeded, can be tested with has())"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := p.Outcome(undo, Vars{UID: "u"}, stepclient.Response{Status: 200, Body: []byte(tc.body)})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Outcome(compensate CreateOrder, %s): -want, +got:\n%s", tc.body, diff)
			}
		})
	}
}
