package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ordersaga/ordersaga/internal/mongoserver"
	"github.com/ordersaga/ordersaga/internal/testing/mongotest"
	"github.com/ordersaga/ordersaga/services/platform"
)

var common = []string{"http-addr", "mongo-uri", "mongo-database", "log-level", "shutdown-timeout",
	"fault-error-rate", "fault-latency", "fault-routes", "fault-phase", "admin-api"}

func TestHelpListsEveryFlag(t *testing.T) {
	own := map[string][]string{
		"order":        nil,
		"inventory":    {"seed-catalog", "write-serialization"},
		"payment":      {"payment-decline-above", "payment-declined-methods"},
		"shipping":     {"shipping-countries"},
		"notification": {"notification-fail-customers", "notification-fail-rate"},
	}
	for name, flags := range own {
		var out bytes.Buffer
		if code := run(t.Context(), []string{name, "--help"}, &out, &out); code != 0 {
			t.Errorf("%s --help exited %d", name, code)
		}
		for _, f := range append(append([]string{}, common...), flags...) {
			if !strings.Contains(out.String(), "-"+f+" ") && !strings.Contains(out.String(), "-"+f+"\n") {
				t.Errorf("%s --help does not list --%s:\n%s", name, f, out.String())
			}
		}
	}
	var out bytes.Buffer
	if code := run(t.Context(), []string{"--help"}, &out, &out); code != 0 || !strings.Contains(out.String(), "notification") {
		t.Errorf("--help = %d %s", code, out.String())
	}
	if code := run(t.Context(), []string{"billing"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("unknown service exited %d, want 2", code)
	}
}

func TestFlagsFallBackToEnvironment(t *testing.T) {
	env := map[string]string{"HTTP_ADDR": ":9999", "MONGO_URI": "mongodb://db:27017", "FAULT_ERROR_RATE": "0.25",
		"FAULT_LATENCY": "50ms", "FAULT_ROUTES": "/v1/payments, POST /v1/x", "ADMIN_API": "true", "PAYMENT_DECLINE_ABOVE": "100.00"}
	c, err := parse("payment", services()["payment"], []string{"--http-addr", ":7777"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if c.httpAddr != ":7777" || c.mongoURI != "mongodb://db:27017" || c.mongoDatabase != "ordersaga_payment" || !c.adminAPI {
		t.Errorf("config = %+v: flags must win over env, env over defaults", c)
	}
	want := platform.FaultConfig{ErrorRate: 0.25, Latency: platform.Duration(50 * time.Millisecond),
		Routes: []string{"/v1/payments", "POST /v1/x"}, Phase: platform.FaultBefore}
	if c.faults.ErrorRate != want.ErrorRate || c.faults.Latency != want.Latency || strings.Join(c.faults.Routes, "|") != strings.Join(want.Routes, "|") {
		t.Errorf("faults = %+v, want %+v", c.faults, want)
	}
}

func TestBadSettingsAreRefused(t *testing.T) {
	cases := map[string]struct {
		service string
		args    []string
		env     map[string]string
	}{
		"EnvNotANumber":     {"order", nil, map[string]string{"FAULT_ERROR_RATE": "lots"}},
		"RateAboveOne":      {"order", []string{"--fault-error-rate", "2"}, nil},
		"BadPhase":          {"order", []string{"--fault-phase", "during"}, nil},
		"BadLogLevel":       {"order", []string{"--log-level", "loud"}, nil},
		"BadLimit":          {"payment", []string{"--payment-decline-above", "5k"}, nil},
		"UnknownMethod":     {"payment", nil, map[string]string{"PAYMENT_DECLINED_METHODS": "CREDIT_CARD,CRYPTO"}},
		"BadCountry":        {"shipping", []string{"--shipping-countries", "GB,uk"}, nil},
		"BadFailRate":       {"notification", []string{"--notification-fail-rate", "-1"}, nil},
		"EnvNotABool":       {"inventory", nil, map[string]string{"SEED_CATALOG": "maybe"}},
		"BadSerialization":  {"inventory", []string{"--write-serialization", "cluster"}, nil},
		"EnvSerialization":  {"inventory", nil, map[string]string{"INVENTORY_WRITE_SERIALIZATION": "off"}},
		"StrayArgument":     {"order", []string{"extra"}, nil},
		"UnknownFlag":       {"order", []string{"--color"}, nil},
		"OtherServicesFlag": {"order", []string{"--seed-catalog=false"}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parse(tc.service, services()[tc.service], tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if err == nil || errors.Is(err, flag.ErrHelp) {
				t.Errorf("parse accepted %v %v", tc.args, tc.env)
			}
		})
	}
}

// TestInventoryWriteSerialization accepts every mode, from the flag or the environment.
func TestInventoryWriteSerialization(t *testing.T) {
	for _, mode := range []string{"process", "none"} {
		env := map[string]string{"INVENTORY_WRITE_SERIALIZATION": mode}
		if _, err := parse("inventory", services()["inventory"], nil, func(k string) string { return env[k] }, io.Discard); err != nil {
			t.Errorf("env %s: %v", mode, err)
		}
		if _, err := parse("inventory", services()["inventory"], []string{"--write-serialization", mode}, func(string) string { return "" }, io.Discard); err != nil {
			t.Errorf("flag %s: %v", mode, err)
		}
	}
}

// TestServeAndShutDown runs the order service as main does, against the Mongo-compatible
// server, and stops it the way SIGTERM does.
func TestServeAndShutDown(t *testing.T) {
	srv, err := mongoserver.Start(t.Context(), mongoserver.Options{})
	if err != nil {
		t.Fatalf("start mongo: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	addr := freeAddr(t)
	env := map[string]string{"MONGO_URI": srv.URI, "MONGO_DATABASE": mongotest.DatabaseName(t), "HTTP_ADDR": addr}
	cfg, err := parse("order", services()["order"], nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, "order", cfg, io.Discard) }()
	base := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for status(t, base+"/readyz", http.MethodGet, "") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("service not ready within 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	body := `{"customerId":"c-1","items":[{"productId":"LAP-001","quantity":1,"unitPrice":"999.99"}]}`
	if s := status(t, base+"/v1/orders/ord-1", http.MethodPut, body); s != http.StatusCreated {
		t.Errorf("PUT order = %d, want 201", s)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after cancel = %v, want a clean shutdown", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
}

// status returns the status of the answer to method url, or 0 when there is none.
func status(t *testing.T, url, method, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close() // drained: a failed close loses nothing
	return resp.StatusCode
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := new(net.ListenConfig).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // only the port was wanted
	return addr
}
