package callbridge_test

import (
	"testing"
	"time"

	"callbridge"
)

func TestRecordingToken(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tok := callbridge.SignRecordingToken(key, 7, 42, now.Add(time.Hour))

	t.Run("OK", func(t *testing.T) {
		acct, call, err := callbridge.ParseRecordingToken(key, tok, now)
		if err != nil {
			t.Fatal(err)
		} else if acct != 7 || call != 42 {
			t.Fatalf("got account=%d call=%d, want 7 42", acct, call)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		_, _, err := callbridge.ParseRecordingToken(key, tok, now.Add(2*time.Hour))
		if got, want := callbridge.ErrorCode(err), callbridge.EGONE; got != want {
			t.Fatalf("code=%q, want %q", got, want)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		_, _, err := callbridge.ParseRecordingToken([]byte("another key of thirty-two bytes!"), tok, now)
		if got, want := callbridge.ErrorCode(err), callbridge.EUNAUTHORIZED; got != want {
			t.Fatalf("code=%q, want %q", got, want)
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		b := []byte(tok)
		b[5] ^= 1
		if _, _, err := callbridge.ParseRecordingToken(key, string(b), now); callbridge.ErrorCode(err) != callbridge.EUNAUTHORIZED {
			t.Fatalf("tampered token accepted: %v", err)
		}
	})
	t.Run("Garbage", func(t *testing.T) {
		for _, s := range []string{"", "x", "!!!!", tok[:10]} {
			if _, _, err := callbridge.ParseRecordingToken(key, s, now); err == nil {
				t.Fatalf("garbage %q accepted", s)
			}
		}
	})
}
