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

// After uncertain creates, one window of recent call notes per entity type
// finds many calls' notes at once by their uniq. The window is read oldest
// edit first; a full page continues from the last updated_at seen rather
// than with the next page, since offset pages shift when notes are edited
// meanwhile.
func ExampleClient_ListNotes() {
	ctx := context.Background()
	var c *kommo.Client // kommo.NewClient(…)
	acct := &callbridge.Account{ID: 1, BaseURL: "https://acme.kommo.com"}
	uncertain := map[string]bool{"call-key-1": true, "call-key-2": true} // uniq of each uncertain call
	since := time.Now().Add(-time.Hour)                                  // before the earliest created_at sent, with margin

	found := map[string]kommo.Note{}
	for from, page := since, 1; ; {
		notes, err := c.ListNotes(ctx, acct, "leads", kommo.NotesFilter{
			NoteTypes: []string{kommo.NoteCallIn, kommo.NoteCallOut}, UpdatedFrom: from,
			Order: kommo.NotesByUpdatedAsc, Page: page, Limit: 250,
		})
		if err != nil {
			return // retry later
		}
		for _, n := range notes {
			if uncertain[n.Params.Uniq] {
				found[n.Params.Uniq] = n
			}
		}
		if len(notes) < 250 {
			break
		}
		if last := notes[len(notes)-1].UpdatedAt; last.After(from) {
			from, page = last, 1 // notes of that second are read again: harmless
		} else {
			page++ // a whole page within one second
		}
	}
	fmt.Println(len(found), "of", len(uncertain), "calls are already in Kommo")
}
