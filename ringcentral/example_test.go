package ringcentral_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"callbridge/ringcentral"
)

// The webhook route is wrapped in EchoValidationToken so that RingCentral's
// subscription handshake sees its Validation-Token echoed when callbridge
// answers 200.
func ExampleEchoValidationToken() {
	webhooks := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK) // callbridge's webhook handler, after ParseWebhook
	})
	h := ringcentral.EchoValidationToken(webhooks)

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/conn-token", nil)
	req.Header.Set("Validation-Token", "3b1a6c2e")
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Validation-Token"))
	// Output: 200 3b1a6c2e
}
