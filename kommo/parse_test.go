package kommo

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzProblem(f *testing.F) {
	for _, s := range []string{
		`{"title":"Too Many Requests","status":429,"retry_after":300}`,
		`{"validation-errors":[{"request_id":"0","errors":[{"code":"NotSupportedChoice","path":"phone","detail":"bad"}]}],"title":"Bad Request","status":400,"detail":"Request validation failed"}`,
		`{"_total_items":0,"errors":[{"title":"Entity not found","status":263,"request_id":2}]}`,
		`{"hint":"Token has been revoked","title":"Некорректный запрос","status":401}`,
		`<html>403</html>`, ``, `{"status":"4.5e3","retry_after":"x"}`,
	} {
		f.Add([]byte(s), "")
	}
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		p := problemOf(body)
		msg := p.message("fallback")
		if msg == "" || len(msg) > 300+len("…") {
			t.Fatalf("message %q", msg)
		}
		if utf8.ValidString(string(body)) && !utf8.ValidString(msg) {
			t.Fatalf("message %q is not valid UTF-8", msg)
		}
		d := retryAfter(&response{status: 429, header: http.Header{"Retry-After": {header}}, body: body})
		if d < time.Second || d > time.Hour {
			t.Fatalf("retryAfter = %v", d)
		}
		parseCalls(&response{status: 200, body: body}, []entry[CallInput]{{rid: "1"}})
		parseNoteUpdates(&response{status: 200, body: body}, []entry[NoteUpdate]{{rid: "1", in: NoteUpdate{ID: 1}}})
	})
}

func FuzzFlexInt(f *testing.F) {
	for _, s := range []string{`12`, `"12"`, `null`, `false`, `true`, `1.5e3`, `"x"`, `""`, `1e400`, `"NaN"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var n flexInt
		if err := json.Unmarshal([]byte(s), &n); err != nil {
			return
		}
		var v struct {
			N flexInt `json:"n"`
		}
		if err := json.Unmarshal([]byte(`{"n":`+s+`}`), &v); err != nil && json.Valid([]byte(s)) {
			t.Fatalf("%q decodes alone but not in an object: %v", s, err)
		}
	})
}

func TestFlexInt(t *testing.T) {
	for in, want := range map[string]int64{`12`: 12, `"12"`: 12, `null`: 0, `false`: 0, `true`: 1, `1.5e3`: 1500, `""`: 0, `-3`: -3} {
		var n flexInt
		if err := json.Unmarshal([]byte(in), &n); err != nil || int64(n) != want {
			t.Errorf("%s → %d, %v; want %d", in, n, err, want)
		}
	}
	for _, in := range []string{`"x"`, `1e400`, `"NaN"`, `[]`} {
		var n flexInt
		if err := json.Unmarshal([]byte(in), &n); err == nil {
			t.Errorf("%s decoded as %d", in, n)
		}
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	s := strings.Repeat("я", 200) // 400 bytes
	got := truncate(s, 301)
	if !utf8.ValidString(got) || len(got) > 301+len("…") {
		t.Errorf("truncate = %q", got)
	}
}
