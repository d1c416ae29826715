package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"callbridge"
)

// usec returns t as unix microseconds, or nil (SQL NULL) for the zero time.
func usec(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeCol scans a nullable unix-microsecond column into a time.Time (UTC; the
// zero time for NULL).
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
	return nil
}

// Interface guards.
var (
	_ sql.Scanner = timeCol{}
	_ sql.Scanner = intCol{}
	_ sql.Scanner = resultCol{}
)

// tm returns a scanner for a time column.
func tm(t *time.Time) sql.Scanner { return timeCol{t} }

// nullInt returns v, or nil (SQL NULL) for 0.
func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// intCol scans a nullable integer column, NULL as 0.
type intCol struct{ v *int64 }

func (c intCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.v = 0
	case int64:
		*c.v = v
	default:
		return fmt.Errorf("store: cannot scan %T into an int64", src)
	}
	return nil
}

// resultJSON encodes a call result, nil as SQL NULL.
func resultJSON(r *callbridge.CallResult) (any, error) {
	if r == nil {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// resultCol scans a nullable JSON call result.
type resultCol struct{ r **callbridge.CallResult }

func (c resultCol) Scan(src any) error {
	var r callbridge.CallResult
	ok, err := scanJSON(src, &r, "a call result")
	if err != nil || !ok {
		*c.r = nil
		return err
	}
	*c.r = &r
	return nil
}

// scanJSON decodes a nullable JSON column (text or bytes) into v, naming
// what it holds in errors. It reports false for NULL, leaving v alone.
func scanJSON(src, v any, what string) (bool, error) {
	var b []byte
	switch x := src.(type) {
	case nil:
		return false, nil
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return false, fmt.Errorf("store: cannot scan %T into %s", src, what)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("store: %s: %w", what, err)
	}
	return true, nil
}

// seal encrypts a secret for storage.
func (db *DB) seal(plain string) string { return db.box.Seal([]byte(plain)) }

// open decrypts a stored secret. A failure (wrong key, corrupt column) is an
// internal error of kind transient: an operator can restore the right key and
// the jobs that need the secret retry.
func (db *DB) open(sealed string) (string, error) {
	plain, err := db.box.Open(sealed)
	if err != nil {
		return "", &callbridge.Error{
			Code:    callbridge.EINTERNAL,
			Kind:    callbridge.KindTransient,
			Message: "A stored secret cannot be decrypted; check the encryption key.",
			Err:     err,
		}
	}
	return string(plain), nil
}

// uidAlphabet is lowercase RFC 4648 base32.
const uidAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// newUID returns "cb-" followed by 20 random base32 characters (100 bits).
func newUID() string {
	var b [20]byte
	rand.Read(b[:])
	out := make([]byte, 3, 23)
	copy(out, "cb-")
	for _, c := range b {
		out = append(out, uidAlphabet[c&31]) // 256 is a multiple of 32: unbiased
	}
	return string(out)
}

// invalid returns an EINVALID error with a client-safe message.
func invalid(format string, args ...any) error {
	return callbridge.Errorf(callbridge.EINVALID, format, args...)
}
