package callbridge

import (
	"errors"
	"fmt"
	"time"
)

// Application error codes. The HTTP layer maps each code to one status code
// (see http.ErrorStatus); every other layer returns *Error values carrying one
// of these codes so that callers can decide what to do without string matching.
const (
	ECONFLICT     = "conflict"     // 409: the resource changed or already exists
	EINTERNAL     = "internal"     // 500: a bug or an unexpected failure
	EINVALID      = "invalid"      // 400: the input is malformed or fails validation
	ENOTFOUND     = "not_found"    // 404: the resource does not exist (or is not yours)
	EUNAUTHORIZED = "unauthorized" // 401: missing, forged or expired credentials
	EFORBIDDEN    = "forbidden"    // 403: authenticated, but not allowed
	ETOOLARGE     = "too_large"    // 413: the body exceeds the configured limit
	ERATELIMIT    = "rate_limited" // 429: slow down; see RetryAfter
	EUNAVAILABLE  = "unavailable"  // 503: a dependency is down; retry later
	EGONE         = "gone"         // 410: the account was disconnected
)

// Kind decides what a caller does with a failed operation: give up, retry, or
// look before retrying. It matters most for writes to Kommo, which does not
// deduplicate calls.
type Kind uint8

// Error kinds. Do not reorder: values are logged.
const (
	// KindPermanent means retrying the same request will fail the same way.
	KindPermanent Kind = iota
	// KindTransient means nothing was applied and the request may be retried,
	// after RetryAfter when it is set.
	KindTransient
	// KindUncertain means a write may or may not have been applied (timeout,
	// dropped connection, 5xx after the request was sent). The next attempt
	// must look for the write's effect before writing again.
	KindUncertain
)

func (k Kind) String() string {
	switch k {
	case KindPermanent:
		return "permanent"
	case KindTransient:
		return "transient"
	case KindUncertain:
		return "uncertain"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is the application error. Message is safe to show to a client; Err is
// the underlying cause and goes to logs only.
type Error struct {
	Code       string        // one of the E* constants
	Kind       Kind          // retry policy; zero value is KindPermanent
	Message    string        // human-readable, safe for API clients
	RetryAfter time.Duration // with ERATELIMIT or KindTransient: earliest retry; 0 = caller's backoff
	Err        error         // wrapped cause, never shown to clients
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("callbridge error: code=%s kind=%s message=%s: %v", e.Code, e.Kind, e.Message, e.Err)
	}
	return fmt.Sprintf("callbridge error: code=%s kind=%s message=%s", e.Code, e.Kind, e.Message)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a permanent *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Transient returns a retryable *Error wrapping err.
func Transient(code string, retryAfter time.Duration, err error, format string, args ...any) *Error {
	return &Error{Code: code, Kind: KindTransient, RetryAfter: retryAfter, Err: err, Message: fmt.Sprintf(format, args...)}
}

// Uncertain returns an *Error of KindUncertain wrapping err.
func Uncertain(err error, format string, args ...any) *Error {
	return &Error{Code: EUNAVAILABLE, Kind: KindUncertain, Err: err, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err; "Internal error." for
// errors that are not *Error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "Internal error."
}

// ErrorKind returns the kind of the first *Error in err's chain. Errors that
// are not *Error (database hiccups, context deadlines) are KindTransient: the
// job system retries them with backoff.
func ErrorKind(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return KindTransient
}

// RetryAfter returns the RetryAfter of the first *Error in err's chain, or 0.
func RetryAfter(err error) time.Duration {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.RetryAfter
	}
	return 0
}
