package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// compensationName says what undoing a step does.
func compensationName(step v1.StepName) string {
	switch step {
	case v1.StepCreateOrder:
		return "cancel order"
	case v1.StepReserveInventory:
		return "release stock"
	case v1.StepProcessPayment:
		return "refund payment"
	case v1.StepScheduleShipment:
		return "cancel shipment"
	default: // after the pivot nothing is undone
		return ""
	}
}

// renderDescribe writes the saga's timeline in the manner of `argo get`: a header, one
// line per step and per compensation, the call after a rollback, the steps' outputs, then
// the Events. Both kinds print through it, from the status as the engine runs it.
func renderDescribe(w io.Writer, t *target, events []eventsv1.Event, now time.Time) error {
	var b strings.Builder
	writeHeader(&b, t, now)
	b.WriteString("\n")
	writeSteps(&b, t, now)
	if t.outputs && hasOutputs(&t.run) {
		b.WriteString("\n")
		writeOutputs(&b, &t.run)
	}
	b.WriteString("\n")
	writeEvents(&b, events, now)
	if _, err := io.WriteString(w, trimLines(b.String())); err != nil {
		return fmt.Errorf("write the timeline: %w", err)
	}
	return nil
}

// trimLines drops the spaces tabwriter pads empty trailing cells with.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func writeHeader(b *strings.Builder, t *target, now time.Time) {
	st := &t.run
	tw := tabwriter.NewWriter(b, 0, 4, 1, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("Name", t.obj.GetName())
	row("Namespace", t.obj.GetNamespace())
	row("Phase", orDash(string(st.Phase)))
	for _, r := range t.details {
		row(r.key, r.value)
	}
	row("Started", stamp(st.StartedAt, now))
	row("Finished", stamp(st.FinishedAt, now))
	row("Duration", span(st.StartedAt, st.FinishedAt, now))
	row("Message", st.Message)
	if f := st.Failure; f != nil {
		row("Failure", joinNonEmpty(": ", joinNonEmpty(" ", string(f.Step), f.Reason), f.Message))
	}
	if t.suspend {
		row("Suspended", "true")
	}
	_ = tw.Flush() // writes to a strings.Builder cannot fail
	if len(st.Conditions) == 0 {
		return
	}
	b.WriteString("Conditions:\n")
	tw = tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tSINCE\tMESSAGE")
	for _, c := range st.Conditions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, ago(c.LastTransitionTime.Time, now), c.Message)
	}
	_ = tw.Flush()
}

func writeSteps(b *strings.Builder, t *target, now time.Time) {
	st := &t.run
	if len(st.Steps) == 0 {
		b.WriteString("No step has started yet.\n")
		return
	}
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATE\tATTEMPTS\tDURATION\tNEXT ATTEMPT\tLAST ERROR")
	for _, s := range st.Steps {
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%s\n", stepIcon(s.State), s.Name, s.State, attempts(s.Attempts),
			span(s.StartedAt, s.FinishedAt, now), next(s.NextAttemptAt, now), s.LastError)
		if c := s.Compensation; c != nil {
			writeCall(tw, "  └", t.compensation(s.Name), c, now)
		}
	}
	if n := st.OnRollback; n != nil {
		writeCall(tw, "", t.onRollback, n, now)
	}
	_ = tw.Flush()
}

// writeCall writes the line of a compensation (indent "  └") or of the call after a
// rollback.
func writeCall(tw io.Writer, indent, label string, c *v1.CallStatus, now time.Time) {
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", joinNonEmpty(" ", indent, callIcon(c.State), label), c.State, attempts(c.Attempts),
		span(c.StartedAt, c.FinishedAt, now), next(c.NextAttemptAt, now), c.LastError)
}

// oneLine quotes a value that would break the table's lines or columns, as Go writes it.
func oneLine(s string) string {
	if strings.ContainsAny(s, "\t\n\r") {
		return strconv.Quote(s)
	}
	return s
}

func hasOutputs(st *v1.SagaStatus) bool {
	return slices.ContainsFunc(st.Steps, func(s v1.SagaStepStatus) bool { return len(s.Outputs) > 0 })
}

// writeOutputs lists the values each step kept of its answers, in plan order, each step's
// by name: what later steps read as steps.<step>.outputs.<name>.
func writeOutputs(b *strings.Builder, st *v1.SagaStatus) {
	b.WriteString("Outputs:\n")
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tNAME\tVALUE")
	for _, s := range st.Steps {
		for _, name := range slices.Sorted(maps.Keys(s.Outputs)) {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, name, oneLine(s.Outputs[name]))
		}
	}
	_ = tw.Flush()
}

func writeEvents(b *strings.Builder, events []eventsv1.Event, now time.Time) {
	if len(events) == 0 {
		b.WriteString("Events: none.\n")
		return
	}
	b.WriteString("Events:\n")
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tTYPE\tREASON\tMESSAGE")
	for _, e := range events {
		msg := e.Note
		if e.Series != nil && e.Series.Count > 1 {
			msg += fmt.Sprintf(" (x%d)", e.Series.Count)
		}
		t := eventTime(e)
		fmt.Fprintf(tw, "  %s (%s)\t%s\t%s\t%s\n", t.UTC().Format(timeLayout), ago(t, now), e.Type, e.Reason, msg)
	}
	_ = tw.Flush()
}

// timeLayout shows milliseconds: sagas take milliseconds, so seconds would hide the order.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func stepIcon(s v1.StepState) string {
	switch s {
	case v1.StepSucceeded:
		return "✔"
	case v1.StepFailed:
		return "✖"
	case v1.StepRunning, v1.StepCompensating:
		return "●"
	case v1.StepCompensated:
		return "↺"
	case v1.StepSkipped:
		return "-"
	default: // Pending
		return "○"
	}
}

func callIcon(s v1.CallState) string {
	switch s {
	case v1.CallSucceeded:
		return "✔"
	case v1.CallFailed:
		return "✖"
	case v1.CallRunning:
		return "●"
	default: // Pending
		return "○"
	}
}

func stamp(t *metav1.MicroTime, now time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(timeLayout) + " (" + ago(t.Time, now) + ")"
}

// span is finished-started, or "running for" while unfinished; "" before the start.
func span(started, finished *metav1.MicroTime, now time.Time) string {
	switch {
	case started == nil:
		return ""
	case finished == nil:
		return "running " + human(now.Sub(started.Time))
	}
	return human(finished.Sub(started.Time))
}

func next(t *metav1.MicroTime, now time.Time) string {
	if t == nil {
		return ""
	}
	if d := t.Sub(now); d > 0 {
		return "in " + human(d)
	}
	return "due"
}

func ago(t, now time.Time) string {
	if d := now.Sub(t); d >= 0 {
		return human(d) + " ago"
	}
	return "in " + human(t.Sub(now))
}

// human rounds d to what a person reads: milliseconds below a minute, seconds above.
func human(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func attempts(n int32) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(int(n))
}

func items(obj *v1.OrderSaga) string {
	parts := make([]string, 0, len(obj.Spec.Items))
	for _, it := range obj.Spec.Items {
		parts = append(parts, fmt.Sprintf("%s x%d @ %s", it.ProductID, it.Quantity, it.UnitPrice))
	}
	return strings.Join(parts, ", ")
}

func currencyOf(obj *v1.OrderSaga) string {
	if obj.Status.Total == "" {
		return ""
	}
	return cmp.Or(obj.Spec.Currency, "USD")
}

func orDash(s string) string { return cmp.Or(s, "-") }

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}
