package platform

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type decodeItem struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
}

type decodeTarget struct {
	Name    string            `json:"name"`
	Count   int32             `json:"count"`
	Ratio   float64           `json:"ratio"`
	On      bool              `json:"on"`
	Items   []decodeItem      `json:"items"`
	Labels  map[string]string `json:"labels"`
	Delay   Duration          `json:"delay"`
	Nested  *decodeItem       `json:"nested"`
	Ignored string            `json:"-"`
}

func TestDecodeBytes(t *testing.T) {
	cases := map[string]struct {
		body   string
		status int
		code   string
		field  string
	}{
		"Valid":              {`{"name":"a","count":3,"items":[{"productId":"p","quantity":1}],"labels":{"k":"v"},"delay":"1s"}`, 0, "", ""},
		"NullsAreZero":       {`{"name":null,"items":null,"nested":null}`, 0, "", ""},
		"Empty":              {``, http.StatusBadRequest, CodeInvalidJSON, ""},
		"Syntax":             {`{"name":}`, http.StatusBadRequest, CodeInvalidJSON, ""},
		"Truncated":          {`{"name":"a"`, http.StatusBadRequest, CodeInvalidJSON, ""},
		"Trailing":           {`{"name":"a"}{"name":"b"}`, http.StatusBadRequest, CodeInvalidJSON, ""},
		"TrailingGarbage":    {`{"name":"a"} x`, http.StatusBadRequest, CodeInvalidJSON, ""},
		"NotAnObject":        {`"a"`, http.StatusBadRequest, CodeInvalidType, ""},
		"Unknown":            {`{"nme":"a"}`, http.StatusBadRequest, CodeUnknownField, "nme"},
		"CaseInsensitive":    {`{"NAME":"a"}`, http.StatusBadRequest, CodeUnknownField, "NAME"},
		"DashField":          {`{"Ignored":"a"}`, http.StatusBadRequest, CodeUnknownField, "Ignored"},
		"NestedUnknown":      {`{"items":[{"productId":"p"},{"sku":"x"}]}`, http.StatusBadRequest, CodeUnknownField, "items[1].sku"},
		"PointerUnknown":     {`{"nested":{"x":1}}`, http.StatusBadRequest, CodeUnknownField, "nested.x"},
		"StringForInt":       {`{"count":"3"}`, http.StatusBadRequest, CodeInvalidType, "count"},
		"FloatForInt":        {`{"items":[{"quantity":1.5}]}`, http.StatusBadRequest, CodeInvalidType, "items[0].quantity"},
		"Int32Overflow":      {`{"count":2147483648}`, http.StatusBadRequest, CodeInvalidType, "count"},
		"HugeInt":            {`{"items":[{"quantity":1e400}]}`, http.StatusBadRequest, CodeInvalidType, "items[0].quantity"},
		"ObjectForArray":     {`{"items":{}}`, http.StatusBadRequest, CodeInvalidType, "items"},
		"NumberInMap":        {`{"labels":{"k":1}}`, http.StatusBadRequest, CodeInvalidType, "labels.k"},
		"StringForBool":      {`{"on":"true"}`, http.StatusBadRequest, CodeInvalidType, "on"},
		"StringForFloat":     {`{"ratio":"0.5"}`, http.StatusBadRequest, CodeInvalidType, "ratio"},
		"BadCustomType":      {`{"delay":5}`, http.StatusBadRequest, CodeInvalidType, "delay"},
		"BadCustomValue":     {`{"delay":"soon"}`, http.StatusBadRequest, CodeInvalidType, "delay"},
		"FirstErrorIsSorted": {`{"zz":1,"aa":1}`, http.StatusBadRequest, CodeUnknownField, "aa"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var dst decodeTarget
			e := DecodeBytes([]byte(tc.body), &dst)
			if tc.status == 0 {
				if e != nil {
					t.Fatalf("DecodeBytes(%s) = %v, want success", tc.body, e)
				}
				return
			}
			if e == nil {
				t.Fatalf("DecodeBytes(%s) succeeded, want %s", tc.body, tc.code)
			}
			got := []any{e.Status, e.Code, e.Field}
			if diff := cmp.Diff([]any{tc.status, tc.code, tc.field}, got); diff != "" {
				t.Errorf("DecodeBytes(%s): -want +got:\n%s (message %q)", tc.body, diff, e.Message)
			}
		})
	}
}

func TestDecodeStrictLimitsTheBody(t *testing.T) {
	big := `{"name":"` + strings.Repeat("a", MaxBody) + `"}`
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, "/", strings.NewReader(big))
	var dst decodeTarget
	e := DecodeStrict(nil, r, &dst)
	if e == nil || e.Status != http.StatusRequestEntityTooLarge || e.Code != CodeBodyTooLarge {
		t.Errorf("oversize body = %v, want 413 BODY_TOO_LARGE", e)
	}
	r, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader("  \n"))
	if e := DecodeOptional(nil, r, &dst); e != nil {
		t.Errorf("DecodeOptional of a blank body = %v, want nil", e)
	}
}

// FuzzDecodeBytes: any input either decodes or yields a 4xx naming a code; never a panic.
func FuzzDecodeBytes(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a","count":1}`, `{"items":[{"productId":"p","quantity":2}]}`,
		`{"labels":{"a":"b"}}`, `{"delay":"1s"}`, `[1]`, `{"a":1}{}`, `{"items":[{"quantity":1e99}]}`, "\xff", `{"NAME":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst decodeTarget
		if e := DecodeBytes(body, &dst); e != nil && (e.Status < 400 || e.Status >= 500 || e.Code == "" || e.Message == "") {
			t.Fatalf("DecodeBytes(%q) = %+v, want a complete 4xx", body, e)
		}
	})
}
