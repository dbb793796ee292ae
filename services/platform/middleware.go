package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// RequestIDHeader carries the request ID: accepted from the client when well-formed,
// generated otherwise, and always echoed in the response.
const RequestIDHeader = "X-Request-ID"

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,128}$`)

type loggerKey struct{}

// Logger returns the request-scoped logger stored by the server (with the request ID), or
// slog.Default outside a request.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// WithLogger returns ctx carrying l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status code for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b) //nolint:wrapcheck // a ResponseWriter wrapper passes the server's error through as it is
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe wraps the whole server: request ID, request logger, panic recovery, JSON 404 and
// 405 for unmatched requests, access log and HTTP metrics labelled by route pattern.
func (s *Server) observe(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		log := s.log.With("request_id", id)
		if key := r.Header.Get(IdempotencyKeyHeader); key != "" {
			log = log.With("idempotency_key", key)
		}
		r = r.WithContext(WithLogger(r.Context(), log))
		rec := &statusRecorder{ResponseWriter: w}
		_, route := mux.Handler(r)
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				WriteInternal(rec, r, fmt.Errorf("panic: %v", p))
			}
			s.record(r, log, route, rec.status, time.Since(start))
		}()
		if route == "" {
			serveUnmatched(rec, r, mux)
			return
		}
		mux.ServeHTTP(rec, r)
	})
}

func (s *Server) record(r *http.Request, log *slog.Logger, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
	level := slog.LevelInfo
	switch {
	case route == "GET /healthz" || route == "GET /readyz" || route == "GET /metrics":
		level = slog.LevelDebug // probes and scrapes would drown the log
	case status >= 500:
		level = slog.LevelWarn
	}
	log.Log(r.Context(), level, "request handled", "method", r.Method, "path", r.URL.Path,
		"route", route, "status", status, "duration_ms", float64(d.Microseconds())/1000)
}

// serveUnmatched lets the mux decide (404, 405 with Allow, or a path-cleaning redirect) and
// turns its plain-text 404 and 405 into JSON errors.
func serveUnmatched(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	c := &captureWriter{h: http.Header{}}
	mux.ServeHTTP(c, r)
	switch c.status {
	case http.StatusNotFound:
		WriteError(w, NewError(http.StatusNotFound, CodeNotFound, "no such endpoint: "+r.URL.Path))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", c.h.Get("Allow"))
		WriteError(w, NewError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+r.Method+" is not allowed here"))
	default:
		maps.Copy(w.Header(), c.h)
		w.WriteHeader(c.status)
	}
}

type captureWriter struct {
	h      http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.h }
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
