// Package storetest is the conformance suite for callbridge.Store
// implementations. Packages sqlite and postgres run it against their
// databases:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) callbridge.Store { return sqlitetest.Open(t, sqlite.Options{}) })
//	}
//
// open must return a fresh, empty, migrated database on each call, with an
// insert-only River client, whose value also has a method
// Backend() store.Backend (true of anything embedding *store.DB) so that the
// suite can read raw columns and River's job table.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/store"
)

// Run runs every conformance test, each against a database from open.
func Run(t *testing.T, open func(t *testing.T) callbridge.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s callbridge.Store)
	}{
		{"Account", testAccount},
		{"Token", testToken},
		{"RefreshLease", testRefreshLease},
		{"InstallCode", testInstallCode},
		{"Connection", testConnection},
		{"SecretsEncryptedAtRest", testSecretsAtRest},
		{"Event", testEvent},
		{"Call", testCall},
		{"ListCalls", testListCalls},
		{"LockCallConcurrent", testLockCallConcurrent},
		{"EnqueueSync", testEnqueueSync},
		{"CompleteJobOutsideWorker", testCompleteJobOutsideWorker},
		{"InTx", testInTx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// ---- helpers ----

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := callbridge.ErrorCode(err); got != code {
		t.Fatalf("error code=%q (err=%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// us is a fixed time with microsecond precision, as stored.
func us(sec int, micro int) time.Time {
	return time.Date(2026, 3, 4, 5, 6, sec, micro*1000, time.UTC)
}

func newAccount(t *testing.T, s callbridge.Store, kommoID int64) *callbridge.Account {
	t.Helper()
	a := &callbridge.Account{KommoID: kommoID, Subdomain: fmt.Sprintf("acct%d", kommoID), BaseURL: fmt.Sprintf("https://acct%d.kommo.com", kommoID)}
	must(t, s.UpsertAccount(t.Context(), a))
	return a
}

func newConnection(t *testing.T, s callbridge.Store, accountID int64) *callbridge.Connection {
	t.Helper()
	c := &callbridge.Connection{AccountID: accountID, Provider: "twilio", Name: "main", Credentials: map[string]string{"account_sid": "AC123", "auth_token": "tok"}}
	must(t, s.CreateConnection(t.Context(), c))
	return c
}

// raw runs fn with a transaction straight on s's backend, rolled back after.
func raw(t *testing.T, s callbridge.Store, fn func(tx store.Tx)) {
	t.Helper()
	b, ok := s.(interface{ Backend() store.Backend })
	if !ok {
		t.Fatalf("%T has no Backend() method; embed *store.DB", s)
	}
	tx, err := b.Backend().Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(t.Context()))
	fn(tx)
}

func rawString(t *testing.T, s callbridge.Store, query string, args ...any) string {
	t.Helper()
	var v string
	raw(t, s, func(tx store.Tx) {
		if err := tx.QueryRow(t.Context(), query, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	})
	return v
}

func rawCount(t *testing.T, s callbridge.Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	raw(t, s, func(tx store.Tx) {
		if err := tx.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	})
	return n
}

func dialect(t *testing.T, s callbridge.Store) string {
	return s.(interface{ Backend() store.Backend }).Backend().Dialect()
}

// ---- accounts ----

func testAccount(t *testing.T, s callbridge.Store) {
	ctx := t.Context()

	a := &callbridge.Account{KommoID: 1001, Subdomain: "acme", BaseURL: "https://acme.kommo.com", Settings: callbridge.Settings{Country: "BR", Language: "pt"}}
	must(t, s.UpsertAccount(ctx, a))
	if a.ID == 0 || a.CreatedAt.IsZero() || !a.UpdatedAt.Equal(a.CreatedAt) {
		t.Fatalf("after insert: %+v", a)
	}
	if a.Status != callbridge.AccountActive {
		t.Fatalf("Status=%q, want active", a.Status)
	}

	got, err := s.FindAccount(ctx, a.ID)
	must(t, err)
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("FindAccount=%+v\nwant %+v", got, a)
	}
	if got, err := s.FindAccountByKommoID(ctx, 1001); err != nil || got.ID != a.ID {
		t.Fatalf("FindAccountByKommoID=%+v, %v", got, err)
	}

	// Update through the Kommo id; zero settings keep the stored ones.
	b := &callbridge.Account{KommoID: 1001, Subdomain: "acme2", BaseURL: "https://acme2.kommo.com", Status: callbridge.AccountActive}
	must(t, s.UpsertAccount(ctx, b))
	if b.ID != a.ID || !b.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("upsert made a new account: %+v", b)
	}
	got, err = s.FindAccount(ctx, a.ID)
	must(t, err)
	if got.Subdomain != "acme2" || got.BaseURL != "https://acme2.kommo.com" || !reflect.DeepEqual(got.Settings, a.Settings) {
		t.Fatalf("after update: %+v", got)
	}
	// Non-empty settings replace them.
	b.Settings = callbridge.Settings{SourceName: "x"}
	must(t, s.UpsertAccount(ctx, b))
	if got, _ := s.FindAccount(ctx, a.ID); !reflect.DeepEqual(got.Settings, b.Settings) {
		t.Fatalf("Settings=%+v, want %+v", got.Settings, b.Settings)
	}

	c := newAccount(t, s, 1002)
	list, err := s.ListAccounts(ctx)
	must(t, err)
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != c.ID {
		t.Fatalf("ListAccounts=%v", list)
	}

	must(t, s.SetAccountStatus(ctx, c.ID, callbridge.AccountDisconnected))
	if got, _ := s.FindAccount(ctx, c.ID); got.Status != callbridge.AccountDisconnected || got.Active() {
		t.Fatalf("Status=%q", got.Status)
	}
	wantCode(t, s.SetAccountStatus(ctx, c.ID, "bogus"), callbridge.EINVALID)
	wantCode(t, s.SetAccountStatus(ctx, 9999, callbridge.AccountActive), callbridge.ENOTFOUND)

	set := callbridge.Settings{Country: "MX", Language: "es", SourceName: "tel", UnsortedPipelineID: 77}
	must(t, s.UpdateAccountSettings(ctx, c.ID, set))
	if got, _ := s.FindAccount(ctx, c.ID); !reflect.DeepEqual(got.Settings, set) {
		t.Fatalf("Settings=%+v, want %+v", got.Settings, set)
	}
	wantCode(t, s.UpdateAccountSettings(ctx, 9999, set), callbridge.ENOTFOUND)

	_, err = s.FindAccount(ctx, 9999)
	wantCode(t, err, callbridge.ENOTFOUND)
	_, err = s.FindAccountByKommoID(ctx, 9999)
	wantCode(t, err, callbridge.ENOTFOUND)
	wantCode(t, s.UpsertAccount(ctx, &callbridge.Account{}), callbridge.EINVALID)
	wantCode(t, s.UpsertAccount(ctx, &callbridge.Account{KommoID: 3, Status: "bogus"}), callbridge.EINVALID)
}

// ---- tokens ----

func testToken(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	a := newAccount(t, s, 1)

	_, err := s.FindToken(ctx, a.ID)
	wantCode(t, err, callbridge.ENOTFOUND)
	wantCode(t, s.SaveToken(ctx, &callbridge.Token{AccountID: 9999, AccessToken: "a", RefreshToken: "r"}), callbridge.ENOTFOUND)

	tok := &callbridge.Token{AccountID: a.ID, AccessToken: "access-1", RefreshToken: "refresh-1", ExpiresAt: us(1, 5)}
	must(t, s.SaveToken(ctx, tok))
	if tok.Version != 1 {
		t.Fatalf("Version=%d, want 1", tok.Version)
	}
	got, err := s.FindToken(ctx, a.ID)
	must(t, err)
	if !reflect.DeepEqual(got, tok) {
		t.Fatalf("FindToken=%+v\nwant %+v", got, tok)
	}

	// A lease, then an unconditional save (re-install) clears it.
	_, ok, err := s.AcquireRefreshLease(ctx, a.ID, "p1", us(0, 0), us(30, 0))
	must(t, err)
	if !ok {
		t.Fatal("lease not acquired")
	}
	tok2 := &callbridge.Token{AccountID: a.ID, AccessToken: "access-2", RefreshToken: "refresh-2", ExpiresAt: us(2, 0)}
	must(t, s.SaveToken(ctx, tok2))
	if tok2.Version != 2 {
		t.Fatalf("Version=%d, want 2", tok2.Version)
	}
	got, err = s.FindToken(ctx, a.ID)
	must(t, err)
	if got.AccessToken != "access-2" || got.RefreshToken != "refresh-2" || got.LeaseOwner != "" || !got.LeaseUntil.IsZero() || got.Version != 2 {
		t.Fatalf("after SaveToken: %+v", got)
	}

	// Rotate: compare-and-swap on the version.
	rot := &callbridge.Token{AccountID: a.ID, AccessToken: "access-3", RefreshToken: "refresh-3", ExpiresAt: us(3, 0)}
	must(t, s.RotateToken(ctx, rot, 2))
	if rot.Version != 3 {
		t.Fatalf("Version=%d, want 3", rot.Version)
	}
	stale := &callbridge.Token{AccountID: a.ID, AccessToken: "access-x", RefreshToken: "refresh-x"}
	wantCode(t, s.RotateToken(ctx, stale, 2), callbridge.ECONFLICT)
	got, _ = s.FindToken(ctx, a.ID)
	if got.AccessToken != "access-3" || got.Version != 3 {
		t.Fatalf("a conflicting rotate changed the token: %+v", got)
	}
	wantCode(t, s.RotateToken(ctx, &callbridge.Token{AccountID: 9999}, 1), callbridge.ENOTFOUND)
}

func testRefreshLease(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	a := newAccount(t, s, 1)
	_, _, err := s.AcquireRefreshLease(ctx, a.ID, "p1", us(0, 0), us(30, 0))
	wantCode(t, err, callbridge.ENOTFOUND)
	must(t, s.SaveToken(ctx, &callbridge.Token{AccountID: a.ID, AccessToken: "a1", RefreshToken: "r1"}))
	_, _, err = s.AcquireRefreshLease(ctx, a.ID, "", us(0, 0), us(30, 0))
	wantCode(t, err, callbridge.EINVALID)

	t0, until := us(0, 0), us(30, 0)
	tok, ok, err := s.AcquireRefreshLease(ctx, a.ID, "p1", t0, until)
	must(t, err)
	if !ok || tok.LeaseOwner != "p1" || !tok.LeaseUntil.Equal(until) || tok.RefreshToken != "r1" {
		t.Fatalf("acquire: ok=%v tok=%+v", ok, tok)
	}
	// Held by another owner: not acquired; the token comes back anyway.
	tok, ok, err = s.AcquireRefreshLease(ctx, a.ID, "p2", us(10, 0), us(40, 0))
	must(t, err)
	if ok || tok.LeaseOwner != "p1" || tok.AccessToken != "a1" {
		t.Fatalf("held by p1: ok=%v tok=%+v", ok, tok)
	}
	// The holder may extend its lease.
	if _, ok, _ := s.AcquireRefreshLease(ctx, a.ID, "p1", us(10, 0), us(35, 0)); !ok {
		t.Fatal("holder could not re-acquire")
	}
	// Releasing someone else's lease is a no-op.
	must(t, s.ReleaseRefreshLease(ctx, a.ID, "p2"))
	if tok, _ := s.FindToken(ctx, a.ID); tok.LeaseOwner != "p1" {
		t.Fatalf("p2 released p1's lease: %+v", tok)
	}
	// Expired at `until`: another owner takes it.
	tok, ok, err = s.AcquireRefreshLease(ctx, a.ID, "p2", us(35, 0), us(50, 0))
	must(t, err)
	if !ok || tok.LeaseOwner != "p2" {
		t.Fatalf("expired lease not re-acquired: ok=%v tok=%+v", ok, tok)
	}
	must(t, s.ReleaseRefreshLease(ctx, a.ID, "p2"))
	if tok, _ := s.FindToken(ctx, a.ID); tok.LeaseOwner != "" || !tok.LeaseUntil.IsZero() {
		t.Fatalf("after release: %+v", tok)
	}
	// Released: anyone can take it, then a rotation clears it.
	tok, ok, _ = s.AcquireRefreshLease(ctx, a.ID, "p3", us(36, 0), us(50, 0))
	if !ok {
		t.Fatal("free lease not acquired")
	}
	next := &callbridge.Token{AccountID: a.ID, AccessToken: "a2", RefreshToken: "r2"}
	must(t, s.RotateToken(ctx, next, tok.Version))
	if tok, _ := s.FindToken(ctx, a.ID); tok.LeaseOwner != "" || tok.RefreshToken != "r2" || tok.Version != next.Version {
		t.Fatalf("after rotate: %+v", tok)
	}
	must(t, s.ReleaseRefreshLease(ctx, 9999, "p1")) // no token: still a no-op

	// Concurrent contenders for a free lease: exactly one wins.
	must(t, s.ReleaseRefreshLease(ctx, a.ID, "p3"))
	const n = 10
	var wg sync.WaitGroup
	wins := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			owner := fmt.Sprintf("racer-%d", i)
			_, ok, err := s.AcquireRefreshLease(ctx, a.ID, owner, us(40, 0), us(59, 0))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins <- owner
			}
		})
	}
	wg.Wait()
	close(wins)
	var winners []string
	for w := range wins {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("%d contenders acquired the lease (%v), want 1", len(winners), winners)
	}
	if tok, _ := s.FindToken(ctx, a.ID); tok.LeaseOwner != winners[0] {
		t.Fatalf("LeaseOwner=%q, want the winner %q", tok.LeaseOwner, winners[0])
	}
}

// ---- install codes ----

func testInstallCode(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	c := &callbridge.InstallCode{Code: "def502-auth-code", Referer: "acme.kommo.com", State: "st", FromWidget: true}
	must(t, s.CreateInstallCode(ctx, c))
	if c.ID == 0 || c.Status != "pending" || c.CreatedAt.IsZero() {
		t.Fatalf("after create: %+v", c)
	}
	if n := rawCount(t, s, `SELECT COUNT(*) FROM river_job WHERE kind = 'install'`); n != 1 {
		t.Fatalf("%d install jobs, want 1", n)
	}
	argsQuery := `SELECT CAST(args AS TEXT) FROM river_job WHERE kind = 'install'`
	if dialect(t, s) == store.DialectSQLite {
		argsQuery = `SELECT json(args) FROM river_job WHERE kind = 'install'` // River stores JSONB
	}
	args := rawString(t, s, argsQuery)
	var ia callbridge.InstallArgs
	if err := json.Unmarshal([]byte(args), &ia); err != nil || ia.CodeID != c.ID {
		t.Fatalf("install job args %s: %+v %v", args, ia, err)
	}

	got, err := s.FindInstallCode(ctx, c.ID)
	must(t, err)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("FindInstallCode=%+v\nwant %+v", got, c)
	}

	a := newAccount(t, s, 5)
	must(t, s.FinishInstallCode(ctx, c.ID, "done", "", a.ID))
	got, _ = s.FindInstallCode(ctx, c.ID)
	if got.Status != "done" || got.AccountID != a.ID {
		t.Fatalf("after finish: %+v", got)
	}
	must(t, s.FinishInstallCode(ctx, c.ID, "failed", "bad code", 0))
	got, _ = s.FindInstallCode(ctx, c.ID)
	if got.Status != "failed" || got.Error != "bad code" || got.AccountID != 0 {
		t.Fatalf("after failure: %+v", got)
	}

	wantCode(t, s.FinishInstallCode(ctx, 9999, "done", "", 0), callbridge.ENOTFOUND)
	wantCode(t, s.FinishInstallCode(ctx, c.ID, "done", "", 9999), callbridge.ENOTFOUND)
	wantCode(t, s.FinishInstallCode(ctx, c.ID, "bogus", "", 0), callbridge.EINVALID)
	_, err = s.FindInstallCode(ctx, 9999)
	wantCode(t, err, callbridge.ENOTFOUND)
	wantCode(t, s.CreateInstallCode(ctx, &callbridge.InstallCode{}), callbridge.EINVALID)
}

// ---- connections ----

func testConnection(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	a, b := newAccount(t, s, 1), newAccount(t, s, 2)

	c := newConnection(t, s, a.ID)
	if c.ID == 0 || c.CreatedAt.IsZero() || c.TimeZone != "UTC" {
		t.Fatalf("after create: %+v", c)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(c.Token) {
		t.Fatalf("generated token %q is not 32 bytes of base64url", c.Token)
	}
	got, err := s.FindConnection(ctx, a.ID, c.ID)
	must(t, err)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("FindConnection=%+v\nwant %+v", got, c)
	}
	_, err = s.FindConnection(ctx, b.ID, c.ID)
	wantCode(t, err, callbridge.ENOTFOUND) // another account's connection

	got, err = s.FindConnectionByToken(ctx, c.Token)
	must(t, err)
	if got.ID != c.ID || got.Credentials["auth_token"] != "tok" {
		t.Fatalf("FindConnectionByToken=%+v", got)
	}
	for _, bad := range []string{"", c.Token + "x", strings.ToUpper(c.Token), "nope"} {
		_, err := s.FindConnectionByToken(ctx, bad)
		wantCode(t, err, callbridge.ENOTFOUND)
	}

	// A given token and time zone are kept; nil credentials come back empty.
	c2 := &callbridge.Connection{AccountID: a.ID, Provider: "plivo", Token: "given-token", TimeZone: "America/Sao_Paulo"}
	must(t, s.CreateConnection(ctx, c2))
	got, err = s.FindConnectionByToken(ctx, "given-token")
	must(t, err)
	if got.ID != c2.ID || got.TimeZone != "America/Sao_Paulo" || len(got.Credentials) != 0 {
		t.Fatalf("FindConnectionByToken=%+v", got)
	}
	wantCode(t, s.CreateConnection(ctx, &callbridge.Connection{AccountID: b.ID, Provider: "x", Token: "given-token"}), callbridge.ECONFLICT)
	wantCode(t, s.CreateConnection(ctx, &callbridge.Connection{AccountID: 9999, Provider: "x"}), callbridge.ENOTFOUND)
	wantCode(t, s.CreateConnection(ctx, &callbridge.Connection{AccountID: a.ID}), callbridge.EINVALID)

	c3 := newConnection(t, s, b.ID)
	list, err := s.ListConnections(ctx, a.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != c.ID || list[1].ID != c2.ID {
		t.Fatalf("ListConnections(a)=%v", list)
	}
	list, _ = s.ListConnections(ctx, b.ID)
	if len(list) != 1 || list[0].ID != c3.ID {
		t.Fatalf("ListConnections(b)=%v", list)
	}
	if list, _ := s.ListConnections(ctx, 9999); len(list) != 0 {
		t.Fatalf("ListConnections(unknown)=%v", list)
	}

	// An update replaces name, zone and credentials and keeps the token;
	// another account's connection is not found.
	up := &callbridge.Connection{ID: c2.ID, AccountID: a.ID, Provider: "plivo", Name: "Main", TimeZone: "Europe/Lisbon",
		Credentials: map[string]string{"auth_token": "new"}}
	must(t, s.UpdateConnection(ctx, up))
	if up.Token != "given-token" {
		t.Fatalf("UpdateConnection token=%q", up.Token)
	}
	got, err = s.FindConnectionByToken(ctx, "given-token")
	must(t, err)
	if got.ID != c2.ID || got.Name != "Main" || got.TimeZone != "Europe/Lisbon" || got.Credentials["auth_token"] != "new" {
		t.Fatalf("after UpdateConnection: %+v", got)
	}
	wantCode(t, s.UpdateConnection(ctx, &callbridge.Connection{ID: c2.ID, AccountID: b.ID, Provider: "plivo"}), callbridge.ENOTFOUND)
}

func testSecretsAtRest(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	a := newAccount(t, s, 1)
	must(t, s.SaveToken(ctx, &callbridge.Token{AccountID: a.ID, AccessToken: "ACCESS-PLAIN-111", RefreshToken: "REFRESH-PLAIN-222"}))
	conn := &callbridge.Connection{AccountID: a.ID, Provider: "twilio", Token: "WEBHOOK-TOKEN-333",
		Credentials: map[string]string{"account_sid": "SID-PLAIN-444", "auth_token": "AUTH-PLAIN-555"}}
	must(t, s.CreateConnection(ctx, conn))
	code := &callbridge.InstallCode{Code: "AUTHCODE-PLAIN-666"}
	must(t, s.CreateInstallCode(ctx, code))

	check := func(column, stored string, plains ...string) {
		t.Helper()
		if !strings.HasPrefix(stored, "v1:") {
			t.Errorf("%s=%q is not sealed", column, stored)
		}
		for _, p := range plains {
			if strings.Contains(stored, p) {
				t.Errorf("%s holds the plaintext %q", column, p)
			}
		}
	}
	check("tokens.access_token", rawString(t, s, `SELECT access_token FROM tokens WHERE account_id = $1`, a.ID), "ACCESS-PLAIN-111")
	check("tokens.refresh_token", rawString(t, s, `SELECT refresh_token FROM tokens WHERE account_id = $1`, a.ID), "REFRESH-PLAIN-222")
	check("connections.token", rawString(t, s, `SELECT token FROM connections WHERE id = $1`, conn.ID), "WEBHOOK-TOKEN-333")
	check("connections.credentials", rawString(t, s, `SELECT credentials FROM connections WHERE id = $1`, conn.ID), "SID-PLAIN-444", "AUTH-PLAIN-555", "account_sid")
	check("install_codes.code", rawString(t, s, `SELECT code FROM install_codes WHERE id = $1`, code.ID), "AUTHCODE-PLAIN-666")
	if h := rawString(t, s, `SELECT token_hash FROM connections WHERE id = $1`, conn.ID); strings.Contains(h, "WEBHOOK-TOKEN-333") || len(h) != 64 {
		t.Errorf("token_hash=%q, want a sha256 hex digest", h)
	}
}

// ---- events and calls ----

func testEvent(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	a, b := newAccount(t, s, 1), newAccount(t, s, 2)
	conn, connB := newConnection(t, s, a.ID), newConnection(t, s, b.ID)

	ev := callbridge.CallEvent{
		AccountID: a.ID, ConnectionID: conn.ID, Type: callbridge.EventStatus, Key: "status:CA1:ringing",
		ProviderCallID: "CA1", LegID: "CA1", Status: callbridge.StatusRinging, Direction: callbridge.DirectionInbound,
		CustomerNumber: "+14155550100", LineNumber: "+14155550199", Agent: "client:ann", Duration: 3,
		RecordingID: "RE1", RecordingURL: "https://api.twilio.com/RE1", RecordingDuration: 9,
		OccurredAt: us(1, 1), Sequence: 4, ReceivedAt: us(2, 2), Payload: []byte("CallSid=CA1&CallStatus=ringing"),
	}
	e1 := ev
	ok, err := s.InsertEvent(ctx, &e1)
	must(t, err)
	if !ok || e1.ID == 0 {
		t.Fatalf("InsertEvent=%v, ID=%d", ok, e1.ID)
	}
	dup := ev
	dup.Status = callbridge.StatusCompleted
	ok, err = s.InsertEvent(ctx, &dup)
	must(t, err)
	if ok || dup.ID != 0 {
		t.Fatalf("duplicate key stored: ok=%v ID=%d", ok, dup.ID)
	}
	// The same key on another connection is another event.
	other := ev
	other.AccountID, other.ConnectionID = b.ID, connB.ID
	if ok, err := s.InsertEvent(ctx, &other); err != nil || !ok {
		t.Fatalf("same key, other connection: %v %v", ok, err)
	}
	// A connection of another account is not found.
	forged := ev
	forged.Key, forged.AccountID = "forged", b.ID
	_, err = s.InsertEvent(ctx, &forged)
	wantCode(t, err, callbridge.ENOTFOUND)
	for _, bad := range []callbridge.CallEvent{
		{AccountID: a.ID, ConnectionID: conn.ID, Type: callbridge.EventStatus, ProviderCallID: "CA1"},
		{AccountID: a.ID, ConnectionID: conn.ID, Type: callbridge.EventStatus, Key: strings.Repeat("k", 201), ProviderCallID: "CA1"},
		{AccountID: a.ID, ConnectionID: conn.ID, Type: callbridge.EventStatus, Key: "k"},
		{AccountID: a.ID, ConnectionID: conn.ID, Key: "k", ProviderCallID: "CA1"},
	} {
		_, err := s.InsertEvent(ctx, &bad)
		wantCode(t, err, callbridge.EINVALID)
	}

	// A result event and a big payload, both before the call exists; events
	// belong to their call whichever comes first.
	res := &callbridge.CallResult{Text: "Called back", CallStatus: callbridge.KommoCallCallBack, EntityType: "leads", EntityID: 9, UserID: 3, SavedAt: us(5, 5)}
	e2 := callbridge.CallEvent{AccountID: a.ID, ConnectionID: conn.ID, Type: callbridge.EventResult, Key: "result:1",
		ProviderCallID: "CA1", Result: res, Payload: bytes.Repeat([]byte("x"), 20000)}
	if ok, err := s.InsertEvent(ctx, &e2); err != nil || !ok {
		t.Fatalf("InsertEvent(result)=%v %v", ok, err)
	}
	if e2.ReceivedAt.IsZero() {
		t.Fatal("ReceivedAt not set")
	}
	call, err := s.LockCall(ctx, a.ID, conn.ID, "CA1")
	must(t, err)
	e3 := callbridge.CallEvent{AccountID: a.ID, ConnectionID: conn.ID, Type: callbridge.EventStatus, Key: "status:CA1-leg:answered",
		ProviderCallID: "CA1", LegID: "CA1-leg", Child: true, Status: callbridge.StatusAnswered, ReceivedAt: us(9, 0)}
	if ok, err := s.InsertEvent(ctx, &e3); err != nil || !ok {
		t.Fatalf("InsertEvent(child)=%v %v", ok, err)
	}
	// An event of another call is not listed.
	e4 := callbridge.CallEvent{AccountID: a.ID, ConnectionID: conn.ID, Type: callbridge.EventStatus, Key: "status:CA2", ProviderCallID: "CA2"}
	must2[bool](t)(s.InsertEvent(ctx, &e4))

	events, err := s.ListCallEvents(ctx, call.ID)
	must(t, err)
	if len(events) != 3 {
		t.Fatalf("ListCallEvents returned %d events, want 3", len(events))
	}
	e1.CallID, e3.CallID = call.ID, call.ID
	if !reflect.DeepEqual(events[0], e1) {
		t.Fatalf("event 0=%+v\nwant %+v", events[0], e1)
	}
	if got := events[1]; got.ID != e2.ID || got.CallID != call.ID || !reflect.DeepEqual(got.Result, res) || len(got.Payload) != store.MaxPayload {
		t.Fatalf("event 1=%+v (payload %d bytes)", got.Result, len(got.Payload))
	}
	if got := events[2]; got.ID != e3.ID || !got.Child || got.Status != callbridge.StatusAnswered || got.Result != nil || len(got.Payload) != 0 {
		t.Fatalf("event 2=%+v", got)
	}
	if events, err := s.ListCallEvents(ctx, 9999); err != nil || len(events) != 0 {
		t.Fatalf("ListCallEvents(unknown)=%v, %v", events, err)
	}
}

func must2[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		must(t, err)
		return v
	}
}

var uidPattern = regexp.MustCompile(`^cb-[a-z2-7]{20}$`)

func testCall(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	a, b := newAccount(t, s, 1), newAccount(t, s, 2)
	conn := newConnection(t, s, a.ID)

	c, err := s.LockCall(ctx, a.ID, conn.ID, "CA1")
	must(t, err)
	if c.ID == 0 || !uidPattern.MatchString(c.UID) || c.AccountID != a.ID || c.ConnectionID != conn.ID ||
		c.ProviderCallID != "CA1" || c.Version != 0 || c.CreatedAt.IsZero() {
		t.Fatalf("new call: %+v", c)
	}
	again, err := s.LockCall(ctx, a.ID, conn.ID, "CA1")
	must(t, err)
	if !reflect.DeepEqual(again, c) {
		t.Fatalf("second LockCall=%+v\nwant %+v", again, c)
	}
	other, err := s.LockCall(ctx, a.ID, conn.ID, "CA2")
	must(t, err)
	if other.ID == c.ID || other.UID == c.UID {
		t.Fatal("two calls share an id or UID")
	}
	_, err = s.LockCall(ctx, b.ID, conn.ID, "CA1")
	wantCode(t, err, callbridge.ENOTFOUND) // another account's connection
	_, err = s.LockCall(ctx, b.ID, conn.ID, "CA9")
	wantCode(t, err, callbridge.ENOTFOUND)
	_, err = s.LockCall(ctx, a.ID, conn.ID, "")
	wantCode(t, err, callbridge.EINVALID)

	for name, find := range map[string]func(accountID int64) (*callbridge.Call, error){
		"FindCall":      func(acc int64) (*callbridge.Call, error) { return s.FindCall(ctx, acc, c.ID) },
		"LockCallByID":  func(acc int64) (*callbridge.Call, error) { return s.LockCallByID(ctx, acc, c.ID) },
		"FindCallByUID": func(acc int64) (*callbridge.Call, error) { return s.FindCallByUID(ctx, acc, c.UID) },
	} {
		got, err := find(a.ID)
		must(t, err)
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("%s=%+v\nwant %+v", name, got, c)
		}
		_, err = find(b.ID)
		wantCode(t, err, callbridge.ENOTFOUND)
	}
	_, err = s.FindCall(ctx, a.ID, 9999)
	wantCode(t, err, callbridge.ENOTFOUND)

	// UpdateCall writes every mutable field.
	c.Direction, c.Status, c.Ended = callbridge.DirectionOutbound, callbridge.StatusCompleted, true
	c.CustomerNumber, c.LineNumber, c.Agent, c.Duration = "+5511987654321", "+551130000000", "ext:101", 42
	c.StartedAt, c.AnsweredAt, c.EndedAt = us(1, 10), us(2, 20), us(44, 30)
	c.RecordingID, c.RecordingURL = "RE9", "https://api.twilio.com/RE9"
	c.Result = &callbridge.CallResult{Text: "ok", CallStatus: 4, SavedAt: us(50, 1)}
	c.Version = 7
	c.Kommo = callbridge.KommoRecord{State: callbridge.KommoWritten, Attempt: 2, IntentAt: us(45, 0), EntityType: "contacts",
		EntityID: 11, NoteID: 12, UnsortedUID: "uns-1", Text: "Call text\nline 2", CallStatus: 4, Duration: 42,
		Link: "https://cb.example/r/1", SyncedVersion: 6, SyncedAt: us(46, 0), LastError: "boom",
		Unconfirmed: "Result: sent"}
	c.PlacedID = "req-9"
	_, err = s.LockPlacedCall(ctx, a.ID, conn.ID, "req-9")
	wantCode(t, err, callbridge.ENOTFOUND)
	must(t, s.UpdateCall(ctx, c))
	if c.UpdatedAt.Before(c.CreatedAt) {
		t.Fatalf("UpdatedAt=%v before CreatedAt=%v", c.UpdatedAt, c.CreatedAt)
	}
	got, err := s.FindCall(ctx, a.ID, c.ID)
	must(t, err)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("after UpdateCall:\n got %+v\nwant %+v", got, c)
	}
	// The call is found by the id it was placed with, in its connection
	// and account only; never by an empty one.
	placed, err := s.LockPlacedCall(ctx, a.ID, conn.ID, "req-9")
	must(t, err)
	if !reflect.DeepEqual(placed, c) {
		t.Fatalf("LockPlacedCall=%+v\nwant %+v", placed, c)
	}
	_, err = s.LockPlacedCall(ctx, b.ID, conn.ID, "req-9")
	wantCode(t, err, callbridge.ENOTFOUND)
	_, err = s.LockPlacedCall(ctx, a.ID, conn.ID, "")
	wantCode(t, err, callbridge.ENOTFOUND)
	// Clearing fields stores zero values (NULL times, no result).
	c.Result, c.StartedAt, c.Kommo = nil, time.Time{}, callbridge.KommoRecord{}
	must(t, s.UpdateCall(ctx, c))
	got, _ = s.FindCall(ctx, a.ID, c.ID)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("after clearing:\n got %+v\nwant %+v", got, c)
	}

	forged := *c
	forged.AccountID = b.ID
	wantCode(t, s.UpdateCall(ctx, &forged), callbridge.ENOTFOUND)
	if got, _ := s.FindCall(ctx, a.ID, c.ID); got.Version != c.Version {
		t.Fatal("UpdateCall with another account's id changed the call")
	}
}

func testListCalls(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	a, b := newAccount(t, s, 1), newAccount(t, s, 2)
	connA, connB := newConnection(t, s, a.ID), newConnection(t, s, b.ID)

	mk := func(acc, conn int64, pcid, number string) *callbridge.Call {
		t.Helper()
		var c *callbridge.Call
		must(t, s.InTx(ctx, func(q callbridge.Queries) error {
			var err error
			if c, err = q.LockCall(ctx, acc, conn, pcid); err != nil {
				return err
			}
			c.CustomerNumber = number
			return q.UpdateCall(ctx, c)
		}))
		return c
	}
	c1 := mk(a.ID, connA.ID, "1", "+14155550100")
	c2 := mk(a.ID, connA.ID, "2", "+5511987654321")
	c3 := mk(a.ID, connA.ID, "3", "+14155550100")
	c4 := mk(b.ID, connB.ID, "4", "+14155550100")
	c5 := mk(a.ID, connA.ID, "5", "")

	ids := func(f callbridge.CallFilter) []int64 {
		t.Helper()
		calls, err := s.ListCalls(ctx, f)
		must(t, err)
		out := []int64{}
		for _, c := range calls {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    callbridge.CallFilter
		want []int64
	}{
		{"Account", callbridge.CallFilter{AccountID: a.ID}, []int64{c5.ID, c3.ID, c2.ID, c1.ID}},
		{"OtherAccount", callbridge.CallFilter{AccountID: b.ID}, []int64{c4.ID}},
		{"All", callbridge.CallFilter{}, []int64{c5.ID, c4.ID, c3.ID, c2.ID, c1.ID}},
		{"NumberE164", callbridge.CallFilter{AccountID: a.ID, Number: "+14155550100"}, []int64{c3.ID, c1.ID}},
		{"NumberNational", callbridge.CallFilter{AccountID: a.ID, Number: "(415) 555-0100"}, []int64{c3.ID, c1.ID}},
		{"NumberTail", callbridge.CallFilter{AccountID: a.ID, Number: "11 98765-4321"}, []int64{c2.ID}},
		{"NumberNoDigits", callbridge.CallFilter{AccountID: a.ID, Number: "abc"}, []int64{}},
		{"UID", callbridge.CallFilter{AccountID: a.ID, UID: c2.UID}, []int64{c2.ID}},
		{"UIDOtherAccount", callbridge.CallFilter{AccountID: b.ID, UID: c2.UID}, []int64{}},
		{"Limit", callbridge.CallFilter{AccountID: a.ID, Limit: 2}, []int64{c5.ID, c3.ID}},
		{"Offset", callbridge.CallFilter{AccountID: a.ID, Limit: 2, Offset: 2}, []int64{c2.ID, c1.ID}},
		{"OffsetPastEnd", callbridge.CallFilter{AccountID: a.ID, Offset: 10}, []int64{}},
	} {
		if got := ids(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ListCalls=%v, want %v", tc.name, got, tc.want)
		}
	}

	// Default and maximum limits.
	must(t, s.InTx(ctx, func(q callbridge.Queries) error {
		for i := range store.DefaultCallLimit + 5 {
			if _, err := q.LockCall(ctx, b.ID, connB.ID, fmt.Sprintf("bulk-%d", i)); err != nil {
				return err
			}
		}
		return nil
	}))
	if got := len(ids(callbridge.CallFilter{AccountID: b.ID})); got != store.DefaultCallLimit {
		t.Errorf("default limit returned %d calls, want %d", got, store.DefaultCallLimit)
	}
	if got := len(ids(callbridge.CallFilter{AccountID: b.ID, Limit: 100000})); got != store.DefaultCallLimit+6 {
		t.Errorf("large limit returned %d calls, want %d", got, store.DefaultCallLimit+6)
	}
}

// testLockCallConcurrent runs 20 transactions that each lock the same
// not-yet-existing call and increment its version. Exactly one call must be
// created, and no increment may be lost: the lock serialises them.
func testLockCallConcurrent(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	a := newAccount(t, s, 1)
	conn := newConnection(t, s, a.ID)

	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			errs <- s.InTx(ctx, func(q callbridge.Queries) error {
				c, err := q.LockCall(ctx, a.ID, conn.ID, "CA-race")
				if err != nil {
					return err
				}
				c.Version++
				return q.UpdateCall(ctx, c)
			})
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := rawCount(t, s, `SELECT COUNT(*) FROM calls WHERE provider_call_id = 'CA-race'`); got != 1 {
		t.Fatalf("%d calls created, want 1", got)
	}
	c, err := s.LockCall(ctx, a.ID, conn.ID, "CA-race")
	must(t, err)
	if c.Version != n {
		t.Fatalf("Version=%d, want %d: an increment was lost", c.Version, n)
	}
}

// ---- jobs ----

func syncJobs(t *testing.T, s callbridge.Store) int64 {
	t.Helper()
	return rawCount(t, s, `SELECT COUNT(*) FROM river_job WHERE kind = 'sync_call'`)
}

func testEnqueueSync(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	a := newAccount(t, s, 1)
	conn := newConnection(t, s, a.ID)
	c1 := must2[*callbridge.Call](t)(s.LockCall(ctx, a.ID, conn.ID, "CA1"))
	c2 := must2[*callbridge.Call](t)(s.LockCall(ctx, a.ID, conn.ID, "CA2"))

	must(t, s.EnqueueSync(ctx, a.ID, c1.ID, time.Time{}))
	must(t, s.EnqueueSync(ctx, a.ID, c1.ID, time.Now().Add(time.Hour)))
	must(t, s.InTx(ctx, func(q callbridge.Queries) error {
		for range 5 {
			if err := q.EnqueueSync(ctx, a.ID, c1.ID, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	}))
	if n := syncJobs(t, s); n != 1 {
		t.Fatalf("%d sync jobs for one call, want 1", n)
	}
	must(t, s.EnqueueSync(ctx, a.ID, c2.ID, time.Now().Add(time.Hour)))
	if n := syncJobs(t, s); n != 2 {
		t.Fatalf("%d sync jobs for two calls, want 2", n)
	}
	if n := rawCount(t, s, `SELECT COUNT(*) FROM river_job WHERE kind = 'sync_call' AND state = 'scheduled'`); n != 1 {
		t.Fatalf("%d scheduled sync jobs, want 1", n)
	}

	// Once the job has completed, a later event enqueues a new one.
	b := s.(interface{ Backend() store.Backend }).Backend()
	tx, err := b.Begin(ctx)
	must(t, err)
	_, err = tx.Exec(ctx, `UPDATE river_job SET state = 'completed', finalized_at = CURRENT_TIMESTAMP WHERE kind = 'sync_call' AND state = 'available'`)
	must(t, err)
	must(t, tx.Commit(ctx))
	must(t, s.EnqueueSync(ctx, a.ID, c1.ID, time.Time{}))
	if n := syncJobs(t, s); n != 3 {
		t.Fatalf("%d sync jobs after completion and a new enqueue, want 3", n)
	}
}

func testCompleteJobOutsideWorker(t *testing.T, s callbridge.Store) {
	err := s.InTx(t.Context(), func(q callbridge.Queries) error { return q.CompleteJob(t.Context(), 1) })
	if err == nil {
		t.Fatal("CompleteJob outside a River worker succeeded")
	}
}

// ---- transactions ----

func testInTx(t *testing.T, s callbridge.Store) {
	ctx := t.Context()
	boom := errors.New("boom")
	jobsBefore := rawCount(t, s, `SELECT COUNT(*) FROM river_job`)

	err := s.InTx(ctx, func(q callbridge.Queries) error {
		a := &callbridge.Account{KommoID: 77}
		if err := q.UpsertAccount(ctx, a); err != nil {
			return err
		}
		conn := &callbridge.Connection{AccountID: a.ID, Provider: "twilio"}
		if err := q.CreateConnection(ctx, conn); err != nil {
			return err
		}
		ev := &callbridge.CallEvent{AccountID: a.ID, ConnectionID: conn.ID, Type: callbridge.EventStatus, Key: "k", ProviderCallID: "CA1"}
		if _, err := q.InsertEvent(ctx, ev); err != nil {
			return err
		}
		c, err := q.LockCall(ctx, a.ID, conn.ID, "CA1")
		if err != nil {
			return err
		}
		if err := q.EnqueueSync(ctx, a.ID, c.ID, time.Time{}); err != nil {
			return err
		}
		if err := q.CreateInstallCode(ctx, &callbridge.InstallCode{Code: "c"}); err != nil {
			return err
		}
		// Visible inside the transaction.
		if _, err := q.FindCall(ctx, a.ID, c.ID); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx=%v, want fn's error", err)
	}
	_, err = s.FindAccountByKommoID(ctx, 77)
	wantCode(t, err, callbridge.ENOTFOUND)
	for _, table := range []string{"accounts", "connections", "events", "calls", "install_codes", "river_job"} {
		want := int64(0)
		if table == "river_job" {
			want = jobsBefore
		}
		if n := rawCount(t, s, `SELECT COUNT(*) FROM `+table); n != want {
			t.Errorf("%s has %d rows after rollback, want %d", table, n, want)
		}
	}

	// A panic rolls back too, and the store stays usable.
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic not propagated")
			}
		}()
		_ = s.InTx(ctx, func(q callbridge.Queries) error {
			if err := q.UpsertAccount(ctx, &callbridge.Account{KommoID: 78}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	_, err = s.FindAccountByKommoID(ctx, 78)
	wantCode(t, err, callbridge.ENOTFOUND)

	// ENOTFOUND, EINVALID and a version conflict leave the transaction
	// usable (on PostgreSQL a failed statement would abort it).
	must(t, s.InTx(ctx, func(q callbridge.Queries) error {
		a := &callbridge.Account{KommoID: 80}
		if err := q.UpsertAccount(ctx, a); err != nil {
			return err
		}
		if err := q.SaveToken(ctx, &callbridge.Token{AccountID: a.ID, AccessToken: "a", RefreshToken: "r"}); err != nil {
			return err
		}
		conn := &callbridge.Connection{AccountID: a.ID, Provider: "twilio"}
		if err := q.CreateConnection(ctx, conn); err != nil {
			return err
		}
		checks := []struct {
			err  error
			code string
		}{
			{q.SaveToken(ctx, &callbridge.Token{AccountID: 9999}), callbridge.ENOTFOUND},
			{q.CreateConnection(ctx, &callbridge.Connection{AccountID: 9999, Provider: "x"}), callbridge.ENOTFOUND},
			{q.FinishInstallCode(ctx, 9999, "done", "", 0), callbridge.ENOTFOUND},
			{q.RotateToken(ctx, &callbridge.Token{AccountID: a.ID}, 99), callbridge.ECONFLICT},
			{q.UpdateCall(ctx, &callbridge.Call{ID: 9999, AccountID: a.ID}), callbridge.ENOTFOUND},
			{q.SetAccountStatus(ctx, a.ID, "bogus"), callbridge.EINVALID},
		}
		_, err := q.LockCall(ctx, 9999, conn.ID, "CA1")
		checks = append(checks, struct {
			err  error
			code string
		}{err, callbridge.ENOTFOUND})
		_, err = q.InsertEvent(ctx, &callbridge.CallEvent{AccountID: 9999, ConnectionID: conn.ID, Type: callbridge.EventStatus, Key: "k", ProviderCallID: "CA1"})
		checks = append(checks, struct {
			err  error
			code string
		}{err, callbridge.ENOTFOUND})
		for i, c := range checks {
			if got := callbridge.ErrorCode(c.err); got != c.code {
				return fmt.Errorf("check %d: code %q (%v), want %q", i, got, c.err, c.code)
			}
		}
		_, err = q.LockCall(ctx, a.ID, conn.ID, "CA1")
		return err
	}))
	if a, err := s.FindAccountByKommoID(ctx, 80); err != nil {
		t.Fatalf("work after handled errors was not committed: %v", err)
	} else if calls, _ := s.ListCalls(ctx, callbridge.CallFilter{AccountID: a.ID}); len(calls) != 1 {
		t.Fatalf("%d calls committed, want 1", len(calls))
	}

	// Committed work is visible afterwards.
	var id int64
	must(t, s.InTx(ctx, func(q callbridge.Queries) error {
		a := &callbridge.Account{KommoID: 79}
		if err := q.UpsertAccount(ctx, a); err != nil {
			return err
		}
		id = a.ID
		return q.SetAccountStatus(ctx, a.ID, callbridge.AccountDisconnected)
	}))
	if a, err := s.FindAccount(ctx, id); err != nil || a.Status != callbridge.AccountDisconnected {
		t.Fatalf("after commit: %+v, %v", a, err)
	}
}
