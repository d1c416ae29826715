package http

import (
	"encoding/json"
	"errors"
	"io"
	nethttp "net/http"
	"strconv"

	"callbridge"
)

// codes maps application error codes to HTTP status codes.
var codes = map[string]int{
	callbridge.EINVALID:      nethttp.StatusBadRequest,
	callbridge.EUNAUTHORIZED: nethttp.StatusUnauthorized,
	callbridge.EFORBIDDEN:    nethttp.StatusForbidden,
	callbridge.ENOTFOUND:     nethttp.StatusNotFound,
	callbridge.ECONFLICT:     nethttp.StatusConflict,
	callbridge.EGONE:         nethttp.StatusGone,
	callbridge.ETOOLARGE:     nethttp.StatusRequestEntityTooLarge,
	callbridge.ERATELIMIT:    nethttp.StatusTooManyRequests,
	callbridge.EUNAVAILABLE:  nethttp.StatusServiceUnavailable,
	callbridge.EINTERNAL:     nethttp.StatusInternalServerError,
}

// ErrorStatus returns the HTTP status code for an application error code:
// EINVALID 400, EUNAUTHORIZED 401, EFORBIDDEN 403, ENOTFOUND 404, ECONFLICT
// 409, EGONE 410, ETOOLARGE 413, ERATELIMIT 429, EUNAVAILABLE 503 and 500 for
// EINTERNAL and any unknown code.
func ErrorStatus(code string) int {
	if s, ok := codes[code]; ok {
		return s
	}
	return nethttp.StatusInternalServerError
}

// errorResponse is the JSON body of every API error.
type errorResponse struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error writes err as a JSON body {"error":{"code","message"}} with the status
// code ErrorStatus gives for its code. Only the client-safe message of a
// *callbridge.Error is sent; anything else is reported as "Internal error.".
// A Retry-After header (whole seconds, rounded up) is set when the error
// carries a RetryAfter.
//
// When r went through Server's middleware, err is also attached to the
// request's access-log line (code and cause), so every error is logged
// exactly once.
func Error(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	if err == nil {
		err = callbridge.Errorf(callbridge.EINTERNAL, "Internal error.")
	}
	recordError(r, err)
	code := callbridge.ErrorCode(err)
	msg := callbridge.ErrorMessage(err)
	status := ErrorStatus(code)
	if msg == "" {
		msg = nethttp.StatusText(status)
	}
	if d := callbridge.RetryAfter(err); d > 0 {
		secs := int64((d + 999_999_999) / 1_000_000_000)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeJSON(w, status, errorResponse{Error: errorBody{Code: code, Message: msg}})
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w nethttp.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types are marshalled; this is a bug.
		status = nethttp.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"Internal error."}}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readBody reads r's body up to limit bytes. A larger body is ETOOLARGE and
// nothing of it is returned.
func readBody(w nethttp.ResponseWriter, r *nethttp.Request, limit int64) ([]byte, error) {
	body := nethttp.MaxBytesReader(w, r.Body, limit)
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		if _, ok := errors.AsType[*nethttp.MaxBytesError](err); ok {
			return nil, callbridge.Errorf(callbridge.ETOOLARGE, "The request body exceeds %d bytes.", limit)
		}
		return nil, &callbridge.Error{Code: callbridge.EINVALID, Message: "The request body could not be read.", Err: err}
	}
	return b, nil
}
