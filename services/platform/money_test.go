package platform

import (
	"encoding/json"
	"testing"
)

func TestParseMoney(t *testing.T) {
	valid := map[string]Money{"0": 0, "1": 100, "1.5": 150, "1.50": 150, "999.99": 99999, "0.01": 1,
		"0001.10": 110, "9999999999.99": 999_999_999_999}
	for s, want := range valid {
		if got, err := ParseMoney(s); err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v, want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "-1", "1.", ".5", "1.234", "1e3", "1,00", " 1", "NaN", "100000000000000", "0x10", "１"} {
		if _, err := ParseMoney(s); err == nil {
			t.Errorf("ParseMoney(%q) succeeded, want an error", s)
		}
	}
	for m, want := range map[Money]string{0: "0.00", 5: "0.05", 199998: "1999.98", -150: "-1.50"} {
		if got := m.String(); got != want {
			t.Errorf("Money(%d).String() = %q, want %q", m, got, want)
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		Total Money `json:"total"`
	}{199998})
	if err != nil || string(b) != `{"total":"1999.98"}` {
		t.Errorf("marshal = %s, %v", b, err)
	}
	var m Money
	if err := json.Unmarshal([]byte(`"12.3"`), &m); err != nil || m != 1230 {
		t.Errorf("unmarshal = %d, %v", m, err)
	}
	if err := json.Unmarshal([]byte(`12.3`), &m); err == nil {
		t.Error("a JSON number was accepted as money")
	}
}

// FuzzParseMoney: whatever parses formats back to a string that parses to the same amount.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "1.5", "999.99", "9999999999.99", "-1", "1.234", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		if m < 0 || m > MaxMoney {
			t.Fatalf("ParseMoney(%q) = %d, out of range", s, m)
		}
		back, err := ParseMoney(m.String())
		if err != nil || back != m {
			t.Fatalf("round trip of %q: %s → %d, %v", s, m, back, err)
		}
	})
}
