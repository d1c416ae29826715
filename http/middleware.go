package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	nethttp "net/http"
	"runtime/debug"
	"sync"
	"time"

	"callbridge"
)

// requestInfo collects what the access log reports about one request. Handlers
// fill it in through the request context; the logging middleware writes it
// once when the request ends.
type requestInfo struct {
	mu        sync.Mutex
	id        string
	accountID int64
	err       error
	stack     []byte
}

type ctxKey int

const (
	infoKey ctxKey = iota
	widgetKey
)

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(infoKey).(*requestInfo)
	return ri
}

// recordError attaches err to r's access-log line. The first error wins: a
// handler that reports a cause before writing a generic reply keeps its cause.
func recordError(r *nethttp.Request, err error) {
	if r == nil {
		return
	}
	if ri := infoFrom(r.Context()); ri != nil {
		ri.mu.Lock()
		if ri.err == nil {
			ri.err = err
		}
		ri.mu.Unlock()
	}
}

// setAccount records the account a request acts for, for the access log.
func setAccount(r *nethttp.Request, id int64) {
	if ri := infoFrom(r.Context()); ri != nil {
		ri.mu.Lock()
		ri.accountID = id
		ri.mu.Unlock()
	}
}

// RequestID returns the id of the request ctx belongs to ("" outside a
// request served by Server). It is sent back in the X-Request-Id header.
func RequestID(ctx context.Context) string {
	if ri := infoFrom(ctx); ri != nil {
		return ri.id
	}
	return ""
}

// validRequestID reports whether a client-supplied X-Request-Id may be reused:
// 1–64 characters of [A-Za-z0-9._-]. Anything else is replaced, so that a
// client cannot inject text into the logs.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	nethttp.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = nethttp.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = nethttp.StatusOK
	}
	if f, ok := w.ResponseWriter.(nethttp.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() nethttp.ResponseWriter { return w.ResponseWriter }

// observe is the outermost middleware: it assigns the request id, recovers
// from panics (500) and writes one structured access-log line per request:
// method, route pattern, status, duration, account id when known, and the
// error code and cause when the request failed. It never logs bodies, paths
// (webhook and recording paths carry secrets) or query strings.
func (s *Server) observe(next nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		start := s.now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		ri := &requestInfo{id: id}
		r = r.WithContext(context.WithValue(r.Context(), infoKey, ri))
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}

		defer func() {
			if v := recover(); v != nil {
				if v == nethttp.ErrAbortHandler {
					s.logRequest(r, ri, sw, start)
					panic(v)
				}
				ri.mu.Lock()
				ri.stack = debug.Stack()
				ri.mu.Unlock()
				err := &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Internal error.", Err: fmt.Errorf("panic: %v", v)}
				if sw.status == 0 {
					Error(sw, r, err)
				} else {
					recordError(r, err)
				}
			}
			s.logRequest(r, ri, sw, start)
		}()
		next.ServeHTTP(sw, r)
	})
}

func (s *Server) logRequest(r *nethttp.Request, ri *requestInfo, sw *statusWriter, start time.Time) {
	status := sw.status
	if status == 0 {
		status = nethttp.StatusOK
	}
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	ri.mu.Lock()
	accountID, err, stack := ri.accountID, ri.err, ri.stack
	ri.mu.Unlock()

	attrs := []slog.Attr{
		slog.String("request_id", ri.id),
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", s.now().Sub(start)),
		slog.Int64("bytes", sw.bytes),
	}
	if accountID != 0 {
		attrs = append(attrs, slog.Int64("account_id", accountID))
	}
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	case route == "GET /healthz" || route == "GET /readyz" || route == "GET /metrics":
		level = slog.LevelDebug
	}
	if err != nil {
		attrs = append(attrs,
			slog.String("code", callbridge.ErrorCode(err)),
			slog.String("kind", callbridge.ErrorKind(err).String()),
			slog.String("error", err.Error()))
	}
	if stack != nil {
		attrs = append(attrs, slog.String("stack", string(stack)))
	}
	s.logger().LogAttrs(r.Context(), level, "http request", attrs...)
}
