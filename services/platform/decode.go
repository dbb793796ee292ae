package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// MaxBody is the largest request body accepted (1 MiB).
const MaxBody = 1 << 20

// DecodeStrict reads exactly one JSON object (at most MaxBody bytes) into dst. Unknown fields
// (matched case-sensitively, unlike encoding/json), values of the wrong type, trailing data and
// oversize bodies become a 4xx APIError naming the field as a path such as "items[1].quantity".
// An empty body is an error.
func DecodeStrict(w http.ResponseWriter, r *http.Request, dst any) *APIError {
	body, e := readBody(w, r)
	if e != nil {
		return e
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "request body is required"}
	}
	return DecodeBytes(body, dst)
}

// DecodeOptional is DecodeStrict for bodies that may be empty (compensations): an empty
// body leaves dst unchanged.
func DecodeOptional(w http.ResponseWriter, r *http.Request, dst any) *APIError {
	body, e := readBody(w, r)
	if e != nil {
		return e
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return DecodeBytes(body, dst)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *APIError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &APIError{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
				Message: fmt.Sprintf("request body is larger than %d bytes", MaxBody)}
		}
		return nil, &APIError{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "request body could not be read"}
	}
	return body, nil
}

// DecodeBytes decodes one JSON object from body into dst with the rules of DecodeStrict.
// It is the part of DecodeStrict that fuzz tests exercise directly.
func DecodeBytes(body []byte, dst any) *APIError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return syntaxError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "request body must hold exactly one JSON value"}
	}
	if _, ok := generic.(map[string]any); !ok {
		return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidType, Message: "request body must be a JSON object"}
	}
	// Check the shape first: it yields exact, indexed field paths, which encoding/json's
	// errors lack, and refuses keys that encoding/json would match case-insensitively.
	if e := checkShape(generic, reflect.TypeOf(dst), ""); e != nil {
		return e
	}
	if err := json.Unmarshal(body, dst); err != nil {
		e := &APIError{Status: http.StatusBadRequest, Code: CodeInvalidType, Message: "request body does not match the expected shape"}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			e.Field = te.Field
		}
		return e
	}
	return nil
}

func syntaxError(err error) *APIError {
	e := &APIError{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "request body is not valid JSON"}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		e.Message = fmt.Sprintf("request body is not valid JSON at offset %d: %s", se.Offset, se.Error())
	} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		e.Message = "request body ends before the JSON value does"
	}
	return e
}

// checkShape walks v (decoded with UseNumber) against the Go type t and returns the first
// mismatch, visiting object keys in sorted order so that the error is deterministic.
// JSON null is accepted anywhere: it leaves the zero value, which validation then judges.
func checkShape(v any, t reflect.Type, path string) *APIError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return checkCustom(v, t, path)
	}
	switch t.Kind() {
	case reflect.Struct:
		return checkObject(v, path, func(key string) (reflect.Type, bool) { return structField(t, key) })
	case reflect.Map:
		return checkObject(v, path, func(string) (reflect.Type, bool) { return t.Elem(), true })
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return typeError(path, "an array")
		}
		for i, elem := range arr {
			if e := checkShape(elem, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); e != nil {
				return e
			}
		}
		return nil
	case reflect.String:
		return expect(v, path, "a string", func(v any) bool { _, ok := v.(string); return ok })
	case reflect.Bool:
		return expect(v, path, "a boolean", func(v any) bool { _, ok := v.(bool); return ok })
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return expect(v, path, "an integer", func(v any) bool { return fitsInt(v, t.Bits()) })
	case reflect.Float32, reflect.Float64:
		return expect(v, path, "a number", func(v any) bool { _, ok := v.(json.Number); return ok })
	default: // interface{} and anything exotic: accept what encoding/json accepts
		return nil
	}
}

// checkCustom runs a type's own UnmarshalJSON on the value at path, so that its error can
// name the field.
func checkCustom(v any, t reflect.Type, path string) *APIError {
	raw, err := json.Marshal(v) // json.Number re-encodes verbatim
	if err == nil {
		err = json.Unmarshal(raw, reflect.New(t).Interface())
	}
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidType, Message: err.Error(), Field: path}
	}
	return nil
}

func checkObject(v any, path string, field func(string) (reflect.Type, bool)) *APIError {
	obj, ok := v.(map[string]any)
	if !ok {
		return typeError(path, "an object")
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ft, ok := field(k)
		if !ok {
			return &APIError{Status: http.StatusBadRequest, Code: CodeUnknownField,
				Message: fmt.Sprintf("unknown field %q", k), Field: joinPath(path, k)}
		}
		if e := checkShape(obj[k], ft, joinPath(path, k)); e != nil {
			return e
		}
	}
	return nil
}

// structField returns the type of the field whose JSON name is exactly key.
func structField(t reflect.Type, key string) (reflect.Type, bool) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
	}
	return nil, false
}

func fitsInt(v any, bits int) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	i, err := n.Int64()
	if err != nil {
		return false
	}
	limit := int64(math.MaxInt64)
	if bits < 64 {
		limit = 1<<(bits-1) - 1
	}
	return i <= limit && i >= -limit-1
}

func expect(v any, path, want string, ok func(any) bool) *APIError {
	if ok(v) {
		return nil
	}
	return typeError(path, want)
}

func typeError(path, want string) *APIError {
	msg := "must be " + want
	if path == "" {
		msg = "request body must be " + want
	}
	return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidType, Message: msg, Field: path}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
