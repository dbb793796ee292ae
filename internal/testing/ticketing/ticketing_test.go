package ticketing

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// step is one request of a case and the answer it must get.
type step struct {
	service, method, path, key, body string
	want                             reply
}

// only keeps what a case compares: the status and code, and the body fields named.
func only(got reply, want reply) reply {
	out := reply{Status: got.Status, Code: got.Code}
	if want.Body != nil {
		out.Body = map[string]any{}
		for k := range want.Body {
			out.Body[k] = got.Body[k]
		}
	}
	return out
}

const (
	hold      = `{"eventId":"concert","seats":2}`
	holdPath  = "/v1/holds/uid-1"
	heldTwo   = "holds/<uid>: held 2 of concert"
	released  = "holds/<uid>: released 2 to concert"
	holdRef   = "HLD-"
	undoHold  = "/v1/holds/uid-1/release"
	checkBody = `{"customerId":"cust-1","eventId":"concert"}`
)

func TestStateMachine(t *testing.T) {
	cases := map[string]struct {
		reason      string
		steps       []step
		wantEffects []string
		wantSeats   int
	}{
		"ReplayedByKey": {
			reason: "The same key and request get the first answer again, and the effect happens once.",
			steps: []step{
				{Venue, "PUT", holdPath, key("HoldSeats", "action"), hold, reply{Status: 201}},
				{Venue, "PUT", holdPath, key("HoldSeats", "action"), `{"seats":2, "eventId":"concert"}`, reply{Status: 201}},
			},
			wantEffects: []string{heldTwo},
			wantSeats:   998,
		},
		"KeyReusedForAnotherBody": {
			reason: "The same key with another body is refused 422, and changes nothing.",
			steps: []step{
				{Venue, "PUT", holdPath, key("HoldSeats", "action"), hold, reply{Status: 201}},
				{Venue, "PUT", holdPath, key("HoldSeats", "action"), `{"eventId":"concert","seats":3}`, reply{Status: 422, Code: "IDEMPOTENCY_KEY_REUSED"}},
			},
			wantEffects: []string{heldTwo},
			wantSeats:   998,
		},
		"KeyRequired": {
			reason: "A mutating request without an Idempotency-Key is refused.",
			steps:  []step{{Venue, "PUT", holdPath, "", hold, reply{Status: 400, Code: CodeKeyRequired}}},
		},
		"IDTakenByAnotherKey": {
			reason: "Another request for an ID already created is refused 409, not replayed.",
			steps: []step{
				{Venue, "PUT", holdPath, key("HoldSeats", "action"), hold, reply{Status: 201}},
				{Venue, "PUT", holdPath, "uid-2/HoldSeats/action", hold, reply{Status: 409, Code: CodeIDTaken}},
			},
			wantEffects: []string{heldTwo},
			wantSeats:   998,
		},
		"UndoOnce": {
			reason: "A compensation undoes an active resource once; repeating it changes nothing.",
			steps: []step{
				{Venue, "PUT", holdPath, key("HoldSeats", "action"), hold, reply{Status: 201}},
				{Venue, "POST", undoHold, key("HoldSeats", "compensate"), "", reply{Status: 200, Body: map[string]any{"state": "UNDONE"}}},
				{Venue, "POST", undoHold, "uid-1/HoldSeats/compensate-again", "", reply{Status: 200, Body: map[string]any{"state": "UNDONE"}}},
			},
			wantEffects: []string{heldTwo, released},
			wantSeats:   1000,
		},
		"TombstoneRefusesLateAction": {
			reason: "A compensation of an ID never seen succeeds as a no-op and leaves a tombstone; the late action is refused 409.",
			steps: []step{
				{Venue, "POST", undoHold, key("HoldSeats", "compensate"), "", reply{Status: 200, Body: map[string]any{"state": "TOMBSTONE"}}},
				{Venue, "PUT", holdPath, key("HoldSeats", "action"), hold, reply{Status: 409, Code: "ALREADY_COMPENSATED"}},
			},
			wantEffects: []string{"holds/<uid>: tombstoned"},
			wantSeats:   1000,
		},
		"RefusedIsReplayedAndNotUndone": {
			reason: "A business failure is stored and replayed; its compensation has nothing to undo.",
			steps: []step{
				{Venue, "PUT", holdPath, key("HoldSeats", "action"), `{"eventId":"matinee","seats":3}`, reply{Status: 409, Code: CodeSoldOut}},
				{Venue, "PUT", holdPath, key("HoldSeats", "action"), `{"eventId":"matinee","seats":3}`, reply{Status: 409, Code: CodeSoldOut}},
				{Venue, "POST", undoHold, key("HoldSeats", "compensate"), "", reply{Status: 200, Body: map[string]any{"state": "REFUSED"}}},
			},
			wantEffects: []string{"holds/<uid>: refused SOLD_OUT"},
			wantSeats:   1000,
		},
		"TicketNeedsActiveHoldAndCharge": {
			reason: "A ticket is issued only on a hold and a charge that are active.",
			steps: []step{
				{Venue, "PUT", "/v1/tickets/uid-1", key("IssueTicket", "action"), `{"holdId":"HLD-X","chargeId":"CHG-Y"}`, reply{Status: 409, Code: CodeNotActive}},
			},
			wantEffects: []string{"tickets/<uid>: refused NOT_ACTIVE"},
		},
		"NoUndoOfATicket": {
			reason: "A kind without a compensation has no undo route.",
			steps: []step{
				{Venue, "POST", "/v1/tickets/uid-1/cancel", key("IssueTicket", "compensate"), "", reply{Status: 404, Code: "NOT_FOUND"}},
				{Billing, "PUT", holdPath, key("HoldSeats", "action"), hold, reply{Status: 404, Code: "NOT_FOUND"}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := start(t)
			for i, st := range tc.steps {
				got := send(t, s, st.service, st.method, st.path, st.key, st.body)
				if diff := cmp.Diff(st.want, only(got, st.want)); diff != "" {
					t.Fatalf("\nReason: %s\nrequest %d, %s %s: -want, +got:\n%s", tc.reason, i, st.method, st.path, diff)
				}
			}
			if diff := cmp.Diff(tc.wantEffects, s.World().Effects("uid-1")); diff != "" {
				t.Errorf("\nReason: %s\nEffects: -want, +got:\n%s", tc.reason, diff)
			}
			if tc.wantSeats > 0 && s.World().SeatsLeft(Concert) != tc.wantSeats {
				t.Errorf("\nReason: %s\nSeatsLeft(concert) = %d, want %d", tc.reason, s.World().SeatsLeft(Concert), tc.wantSeats)
			}
		})
	}
}

func TestBusinessRules(t *testing.T) {
	cases := map[string]struct {
		reason string
		step   step
	}{
		"Eligible":         {"A customer not banned passes.", step{Venue, "PUT", "/v1/checks/uid-1", "k", checkBody, reply{Status: 200}}},
		"Banned":           {"A banned customer fails the check.", step{Venue, "PUT", "/v1/checks/uid-1", "k", `{"customerId":"cust-banned","eventId":"concert"}`, reply{Status: 403, Code: CodeCustomerBanned}}},
		"UnknownEvent":     {"Seats of no event cannot be held.", step{Venue, "PUT", holdPath, "k", `{"eventId":"opera","seats":1}`, reply{Status: 422, Code: CodeUnknownEvent}}},
		"SoldOut":          {"More seats than are left are refused.", step{Venue, "PUT", holdPath, "k", `{"eventId":"matinee","seats":3}`, reply{Status: 409, Code: CodeSoldOut}}},
		"Guest":            {"A guest has no loyalty account.", step{Loyalty, "PUT", "/v1/points/uid-1", "k", `{"customerId":"guest-7","points":20}`, reply{Status: 422, Code: CodeNoLoyaltyAccount}}},
		"Declined":         {"A charge above the limit is declined.", step{Billing, "PUT", "/v1/charges/uid-1", "k", `{"customerId":"cust-1","amount":50001}`, reply{Status: 402, Code: CodeCardDeclined}}},
		"Charged":          {"A charge within the limit is taken.", step{Billing, "PUT", "/v1/charges/uid-1", "k", `{"customerId":"cust-1","amount":50000}`, reply{Status: 201}}},
		"Bounce":           {"Mail to a bouncing domain is undeliverable.", step{Mailer, "PUT", "/v1/messages/uid-1", "k", `{"to":"a@bounce.example.com","template":"ticket"}`, reply{Status: 422, Code: CodeUndeliverable}}},
		"Sent":             {"Mail is accepted.", step{Mailer, "PUT", "/v1/messages/uid-1", "k", `{"to":"a@example.com","template":"ticket"}`, reply{Status: 202}}},
		"MissingField":     {"A missing field is named.", step{Venue, "PUT", holdPath, "k", `{"eventId":"concert"}`, reply{Status: 400, Code: "INVALID_ARGUMENT"}}},
		"UnknownField":     {"An unknown field is refused.", step{Venue, "PUT", holdPath, "k", `{"eventId":"concert","seats":1,"vip":true}`, reply{Status: 400, Code: "INVALID_JSON"}}},
		"WrongType":        {"A wrong type is refused.", step{Billing, "PUT", "/v1/charges/uid-1", "k", `{"customerId":"c","amount":"12"}`, reply{Status: 400, Code: "INVALID_JSON"}}},
		"TwoObjectsInBody": {"Trailing data is refused.", step{Venue, "PUT", holdPath, "k", hold + hold, reply{Status: 400, Code: "INVALID_JSON"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := start(t)
			st := tc.step
			if diff := cmp.Diff(st.want, only(send(t, s, st.service, st.method, st.path, st.key, st.body), st.want)); diff != "" {
				t.Errorf("\nReason: %s\n%s %s: -want, +got:\n%s", tc.reason, st.method, st.path, diff)
			}
		})
	}
}

func TestOutputsLinkTheSteps(t *testing.T) {
	s := start(t)
	h := send(t, s, Venue, "PUT", holdPath, key("HoldSeats", "action"), hold)
	c := send(t, s, Billing, "PUT", "/v1/charges/uid-1", key("ChargeCard", "action"), `{"customerId":"cust-1","amount":1200}`)
	body := `{"holdId":"` + h.Body["holdId"].(string) + `","chargeId":"` + c.Body["chargeId"].(string) + `"}`
	got := send(t, s, Venue, "PUT", "/v1/tickets/uid-1", key("IssueTicket", "action"), body)
	if got.Status != http.StatusCreated || got.Body["ticketNumber"] == "" {
		t.Fatalf("ticket on an active hold and charge: got %+v", got)
	}
	if h.Body["holdId"].(string)[:4] != holdRef || s.World().Charged("cust-1") != 1200 {
		t.Errorf("holdId %v, charged %d", h.Body["holdId"], s.World().Charged("cust-1"))
	}
}

func TestUnavailableHasNoEffect(t *testing.T) {
	s := start(t)
	s.Fail(Rule{Step: "HoldSeats", Direction: "action", Mode: Unavailable, Times: 2})
	statuses := make([]int, 0, 3)
	for range 3 {
		statuses = append(statuses, send(t, s, Venue, "PUT", holdPath, key("HoldSeats", "action"), hold).Status)
	}
	if diff := cmp.Diff([]int{503, 503, 201}, statuses); diff != "" {
		t.Errorf("statuses: -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff([]string{heldTwo}, s.World().Effects("uid-1")); diff != "" {
		t.Errorf("effects: -want, +got:\n%s", diff)
	}
}

func TestAnswerLostTakesEffectAndIsReplayed(t *testing.T) {
	s := start(t)
	s.Fail(Rule{Step: "HoldSeats", Mode: AnswerLost, Times: 1})
	first := send(t, s, Venue, "PUT", holdPath, key("HoldSeats", "action"), hold)
	second := send(t, s, Venue, "PUT", holdPath, key("HoldSeats", "action"), hold)
	if first.Status != 504 || first.Code != "GATEWAY_TIMEOUT" || second.Status != 201 {
		t.Errorf("got %+v then %+v, want 504 GATEWAY_TIMEOUT then 201", first, second)
	}
	if n := s.World().Replays(key("HoldSeats", "action")); n != 1 || len(s.World().Effects("uid-1")) != 1 {
		t.Errorf("replays %d, effects %v: want 1 replay and one effect", n, s.World().Effects("uid-1"))
	}
}

func TestHeldUntilHeal(t *testing.T) {
	s := start(t)
	s.Fail(Rule{Step: "HoldSeats", Mode: Held})
	done := make(chan reply)
	go func() { done <- send(t, s, Venue, "PUT", holdPath, key("HoldSeats", "action"), hold) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Waiting()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(s.Waiting()) != 1 || len(s.World().Effects("uid-1")) != 0 {
		t.Fatalf("waiting %v, effects %v: want one held call and no effect", s.Waiting(), s.World().Effects("uid-1"))
	}
	s.Heal()
	if got := <-done; got.Status != 201 {
		t.Errorf("after Heal: %+v, want 201", got)
	}
}

func TestHeldCallGivenUpHasNoEffect(t *testing.T) {
	s := start(t)
	s.Fail(Rule{Mode: Held})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	sendCtx(ctx, t, s, Venue, "PUT", holdPath, key("HoldSeats", "action"), hold)
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Calls("uid-1")) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	calls := s.Calls("uid-1")
	if len(calls) != 1 || calls[0].Status != 0 || calls[0].Fault != Held || len(s.World().Effects("uid-1")) != 0 {
		t.Errorf("calls %+v, effects %v: want one unanswered call and no effect", calls, s.World().Effects("uid-1"))
	}
}

func TestRefuseGoesThroughTheStateMachine(t *testing.T) {
	s := start(t)
	s.Refuse(Charges, http.StatusPaymentRequired, "FRAUD_SUSPECTED", "the bank suspects fraud")
	body := `{"customerId":"cust-1","amount":100}`
	first := send(t, s, Billing, "PUT", "/v1/charges/uid-1", key("ChargeCard", "action"), body)
	s.Accept(Charges)
	again := send(t, s, Billing, "PUT", "/v1/charges/uid-1", key("ChargeCard", "action"), body)
	if first.Code != "FRAUD_SUSPECTED" || again.Code != "FRAUD_SUSPECTED" || s.World().Charged("cust-1") != 0 {
		t.Errorf("got %+v then %+v, charged %d: want the refusal stored and replayed, nothing charged", first, again, s.World().Charged("cust-1"))
	}
	if r, _ := s.World().Resource(Charges, "uid-1"); r.State != Refused {
		t.Errorf("state %s, want REFUSED", r.State)
	}
}

func TestCallsRecordTheRouteAndKey(t *testing.T) {
	s := start(t)
	send(t, s, Venue, "POST", undoHold, key("HoldSeats", "compensate"), "")
	want := []Call{{Service: Venue, Method: "POST", Path: undoHold, Route: "POST /v1/holds/{id}/release",
		Key: key("HoldSeats", "compensate"), Step: "HoldSeats", Direction: "compensate", Status: 200}}
	if diff := cmp.Diff(want, s.Calls("uid-1"), cmpIgnoreAt); diff != "" {
		t.Errorf("Calls: -want, +got:\n%s", diff)
	}
}

var cmpIgnoreAt = cmp.Transformer("withoutAt", func(c Call) Call { c.At = time.Time{}; return c })
