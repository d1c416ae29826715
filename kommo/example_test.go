package kommo_test

import (
	"context"
	"fmt"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// A sync worker logs a call and reacts to the kind of a failure: an unknown
// number, a write whose outcome is unknown, or a retryable failure.
func ExampleClient_AddCall() {
	ctx := context.Background()
	var tokens kommo.TokenStore // the database (*store.DB)
	c := kommo.NewClient(kommo.Config{
		ClientID: "integration-id", ClientSecret: "secret", RedirectURI: "https://callbridge.example/oauth",
	}, tokens)
	acct := &callbridge.Account{ID: 1, BaseURL: "https://acme.kommo.com"}

	created, err := c.AddCall(ctx, acct, kommo.CallInput{
		Direction: "inbound", Phone: "+14155550100", Duration: 61, Source: "callbridge",
		Uniq: "our-call-key", CallStatus: kommo.CallStatusConversation, CreatedAt: time.Now(),
	})
	switch {
	case err == nil:
		fmt.Println("note", created.NoteID, "on", created.EntityType, created.EntityID)
	case callbridge.ErrorCode(err) == callbridge.ENOTFOUND:
		// No entity has the number: create an incoming lead instead.
	case callbridge.ErrorKind(err) == callbridge.KindUncertain:
		// The call may have been logged: look for a note with uniq
		// "our-call-key" before writing again.
	case callbridge.ErrorKind(err) == callbridge.KindTransient:
		// Nothing was written: retry after callbridge.RetryAfter(err).
	default:
		// Permanent: give up and record the error.
	}
}
