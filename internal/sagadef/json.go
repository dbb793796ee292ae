package sagadef

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// marshalJSON renders a CEL value as a JSON request body.
func marshalJSON(v ref.Val) ([]byte, error) {
	native, err := toJSON(v)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(native)
	if err != nil {
		return nil, fmt.Errorf("encode the body: %w", err)
	}
	return body, nil
}

// toJSON converts a CEL value to what encoding/json renders as the same JSON: null, bools,
// strings, numbers (ints stay exact), objects with string keys and arrays. Timestamps and
// durations become the strings the API server reads them from; bytes, as base64.
func toJSON(v ref.Val) (any, error) {
	switch v := v.(type) {
	case types.Null:
		return nil, nil //nolint:nilnil // JSON null is the nil value
	case *types.Err:
		return nil, v
	case types.Bool, types.String, types.Int, types.Uint, types.Bytes:
		return v.Value(), nil
	case types.Double:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%v has no JSON form", v)
		}
		return float64(v), nil
	case types.Timestamp:
		return v.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return v.String(), nil
	case traits.Mapper:
		return mapToJSON(v)
	case traits.Lister:
		return listToJSON(v)
	}
	return nil, fmt.Errorf("a %s value has no JSON form", v.Type().TypeName())
}

func mapToJSON(m traits.Mapper) (any, error) {
	if raw, ok := m.Value().(map[string]any); ok {
		// Part of the input or of an answer, as decoded from JSON (and, for input,
		// with the schema's property names as written, which iterating would escape).
		return raw, nil
	}
	out := map[string]any{}
	for it := m.Iterator(); it.HasNext() == types.True; {
		key := it.Next()
		name, ok := key.(types.String)
		if !ok {
			return nil, fmt.Errorf("a map key %v is not a string, which a JSON object needs", key)
		}
		value, err := toJSON(m.Get(key))
		if err != nil {
			return nil, fmt.Errorf("at %q: %w", string(name), err)
		}
		out[string(name)] = value
	}
	return out, nil
}

func listToJSON(l traits.Lister) (any, error) {
	if raw, ok := l.Value().([]any); ok {
		return raw, nil
	}
	out := []any{}
	for it := l.Iterator(); it.HasNext() == types.True; {
		value, err := toJSON(it.Next())
		if err != nil {
			return nil, fmt.Errorf("at [%d]: %w", len(out), err)
		}
		out = append(out, value)
	}
	return out, nil
}
