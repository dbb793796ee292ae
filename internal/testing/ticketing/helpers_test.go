package ticketing

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// reply is what a test reads of an answer: the status, and the error code or the body.
type reply struct {
	Status int
	Code   string
	Body   map[string]any
}

// start starts the services with DefaultConfig for one test.
func start(t *testing.T) *Services {
	t.Helper()
	s := Start(DefaultConfig())
	t.Cleanup(s.Close)
	return s
}

// send makes one request to service with the Idempotency-Key key (none when empty).
func send(t *testing.T, s *Services, service, method, path, key, body string) reply {
	t.Helper()
	return sendCtx(context.Background(), t, s, service, method, path, key, body)
}

func sendCtx(ctx context.Context, t *testing.T, s *Services, service, method, path, key, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, s.URLs()[service]+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return decodeReply(t, resp.StatusCode, data)
}

// decodeReply reads an answer: an error body {"error":{"code","message"}} gives Code (and
// the message must not be empty); any other JSON object gives Body.
func decodeReply(t *testing.T, status int, data []byte) reply {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("answer %d is not a JSON object: %q", status, data)
	}
	if status < 300 {
		return reply{Status: status, Body: body}
	}
	e, ok := body["error"].(map[string]any)
	if !ok || e["code"] == "" || e["message"] == "" {
		t.Fatalf("answer %d is not {\"error\":{\"code\",\"message\"}}: %s", status, data)
	}
	return reply{Status: status, Code: e["code"].(string)}
}

// key is an idempotency key of the shape the saga controller sends.
func key(step, dir string) string { return "uid-1/" + step + "/" + dir }
