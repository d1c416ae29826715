package http_test

import (
	"strings"
	"testing"

	"callbridge"
)

func TestSaveResultRating(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		code       int
		rating     int
	}{
		{"RatingOnly", `{"call_uid":"uid-acme-1","rating":4}`, 200, 4},
		{"WithText", `{"call_uid":"uid-acme-1","text":"ok","rating":5}`, 200, 5},
		{"NotGiven", `{"call_uid":"uid-acme-1","text":"ok"}`, 200, 0},
		{"TooHigh", `{"call_uid":"uid-acme-1","rating":6}`, 400, 0},
		{"Negative", `{"call_uid":"uid-acme-1","text":"ok","rating":-1}`, 400, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(widgetRequest("POST", "/api/widget/calls/result", widgetToken(acmeKommoID), tc.body))
			if tc.code != 200 {
				assertError(t, rec, tc.code, callbridge.EINVALID)
				if !strings.Contains(rec.Body.String(), "rating must be between 0") {
					t.Fatalf("message %s", rec.Body)
				}
				return
			}
			if rec.Code != 200 {
				t.Fatalf("status=%d body=%.200s", rec.Code, rec.Body)
			}
			in, _, ok := e.ingester.lastResult()
			if !ok || in.Result.Rating != tc.rating {
				t.Fatalf("saved %+v", in.Result)
			}
		})
	}
}
