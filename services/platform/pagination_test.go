package platform

import (
	"net/http"
	"testing"
)

func TestPageTokenRoundTrip(t *testing.T) {
	tok := EncodePageToken("ord-42")
	if id, ok := decodePageToken(tok); !ok || id != "ord-42" {
		t.Errorf("decode(encode(ord-42)) = %q, %v", id, ok)
	}
	for _, bad := range []string{"garbage!", EncodePageToken("bad id"), "djE6"} {
		if _, ok := decodePageToken(bad); ok {
			t.Errorf("decodePageToken(%q) accepted", bad)
		}
	}
}

func TestParseList(t *testing.T) {
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/x?limit=7&orderId=o-1&pageToken="+EncodePageToken("b"), nil)
	p, e := ParseList(r, map[string]func(string) bool{"orderId": ValidID})
	if e != nil || p.Limit != 7 || p.After != "b" || p.Filters["orderId"] != "o-1" {
		t.Errorf("ParseList = %+v, %v", p, e)
	}
	r, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/x", nil)
	if p, _ := ParseList(r, nil); p.Limit != DefaultPageSize {
		t.Errorf("default limit = %d, want %d", p.Limit, DefaultPageSize)
	}
}

// FuzzTransitionBody covers the optional compensation body decoder: any input is decoded
// or refused with a 4xx.
func FuzzTransitionBody(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"reason":"out of stock"}`, `{"reason":1}`, `{"why":"x"}`, `null`, `{"reason":"a"} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req TransitionRequest
		if e := DecodeBytes(body, &req); e != nil && (e.Status < 400 || e.Status >= 500) {
			t.Fatalf("DecodeBytes(%q) = %+v, want a 4xx", body, e)
		}
	})
}

// FuzzFaultConfig covers the admin API decoder and validation.
func FuzzFaultConfig(f *testing.F) {
	for _, s := range []string{`{}`, `{"errorRate":0.5,"latency":"100ms","routes":["/v1/x"],"phase":"after"}`, `{"latency":5}`, `{"errorRate":-1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var cfg FaultConfig
		e := DecodeBytes(body, &cfg)
		if e == nil {
			e = cfg.Validate()
		}
		if e != nil && (e.Status != http.StatusBadRequest || e.Code == "") {
			t.Fatalf("decode/validate %q = %+v, want a 400", body, e)
		}
	})
}
