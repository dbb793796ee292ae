package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ordersaga/ordersaga/internal/consistency"
	"github.com/ordersaga/ordersaga/internal/consistency/collect"
)

// checkReport is what check prints, as a table or as JSON.
type checkReport struct {
	// Scope is "namespace <ns>" or "all namespaces": which sagas were read.
	Scope string `json:"scope"`
	// Checked counts what was read.
	Checked  checked               `json:"checked"`
	Summary  consistency.Counts    `json:"summary"`
	Findings []consistency.Finding `json:"findings"`
}

type checked struct {
	Sagas         int `json:"sagas"`
	Orders        int `json:"orders"`
	Products      int `json:"products"`
	Reservations  int `json:"reservations"`
	Payments      int `json:"payments"`
	Shipments     int `json:"shipments"`
	Notifications int `json:"notifications"`
}

// check collects a snapshot, checks it and prints the report; a critical finding is exit 1.
func (a *app) check(ctx context.Context, f *flags) error {
	c, ns, err := connect(f)
	if err != nil {
		return err
	}
	urls := f.resolveURLs(a.getenv, ns)
	col := collect.Collector{Kube: c, Namespace: ns, RequestTimeout: f.requestTimeout, URLs: collect.ServiceURLs{
		Order: urls["order"], Inventory: urls["inventory"], Payment: urls["payment"],
		Shipping: urls["shipping"], Notification: urls["notification"]}}
	scope := "namespace " + ns
	if f.allNamespaces {
		col.Namespace, scope = "", "all namespaces"
	}
	snap, err := col.Collect(ctx)
	if err != nil {
		return fmt.Errorf("collect the data to check: %w", err)
	}
	findings := consistency.Check(snap, a.now(), consistency.Options{LongRunning: f.longRunning})
	r := newReport(scope, snap, findings)
	if f.output == "json" {
		err = renderJSON(a.stdout, r)
	} else {
		err = renderTable(a.stdout, r)
	}
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if r.Summary.Critical > 0 {
		return &exitError{code: exitFailure}
	}
	return nil
}

func newReport(scope string, s consistency.Snapshot, findings []consistency.Finding) checkReport {
	return checkReport{
		Scope: scope,
		Checked: checked{Sagas: len(s.Sagas), Orders: len(s.Orders), Products: len(s.Products), Reservations: len(s.Reservations),
			Payments: len(s.Payments), Shipments: len(s.Shipments), Notifications: len(s.Notifications)},
		Summary:  consistency.Count(findings),
		Findings: findings,
	}
}

// renderJSON writes r as indented JSON.
func renderJSON(w io.Writer, r checkReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}

// renderTable writes one line per finding (rule, severity, object, message), then the
// counts per severity and per rule, and what was read.
func renderTable(w io.Writer, r checkReport) error {
	var b strings.Builder
	if len(r.Findings) == 0 {
		b.WriteString("No inconsistencies found.\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tSEVERITY\tOBJECT\tMESSAGE")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Rule, f.Severity, f.Object, f.Message)
		}
		_ = tw.Flush() // writes to a strings.Builder cannot fail
		fmt.Fprintf(&b, "\n%s: %d critical, %d warning, %d info.\nBy rule: %s.\n", plural(len(r.Findings), "finding"),
			r.Summary.Critical, r.Summary.Warning, r.Summary.Info, byRule(r.Findings))
	}
	c := r.Checked
	fmt.Fprintf(&b, "Checked %s (%s), %s, %s, %s, %s, %s, %s.\n", plural(c.Sagas, "saga"), r.Scope, plural(c.Orders, "order"),
		plural(c.Products, "product"), plural(c.Reservations, "reservation"), plural(c.Payments, "payment"),
		plural(c.Shipments, "shipment"), plural(c.Notifications, "notification"))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

// byRule lists "RULE n" per rule, by rule name.
func byRule(findings []consistency.Finding) string {
	n := map[string]int{}
	for _, f := range findings {
		n[f.Rule]++
	}
	parts := make([]string, 0, len(n))
	for _, rule := range slices.SortedFunc(maps.Keys(n), cmp.Compare[string]) {
		parts = append(parts, fmt.Sprintf("%s %d", rule, n[rule]))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
