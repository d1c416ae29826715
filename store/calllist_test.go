package store_test

import (
	"os"
	"testing"
	"time"

	"callbridge"
	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
)

// callListDB is what the call list tests need of a database.
type callListDB interface {
	callbridge.Store
	callbridge.CallListStore
}

func TestCallLists(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		testCallLists(t, sqlitetest.Open(t, sqlite.Options{}))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		if os.Getenv(postgrestest.EnvURL) == "" {
			t.Skipf("%s is not set", postgrestest.EnvURL)
		}
		testCallLists(t, postgrestest.Open(t, postgres.Options{}))
	})
}

func testCallLists(t *testing.T, db callListDB) {
	ctx := t.Context()
	a := &callbridge.Account{KommoID: 777001, Subdomain: "a"}
	b := &callbridge.Account{KommoID: 777002, Subdomain: "b"}
	for _, acct := range []*callbridge.Account{a, b} {
		if err := db.UpsertAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
	}
	newList := func(acct *callbridge.Account, user int64, phones ...string) *callbridge.CallList {
		l := &callbridge.CallList{AccountID: acct.ID, UserID: user, Name: "Morning", Interval: 5}
		for _, p := range phones {
			l.Entries = append(l.Entries, callbridge.CallListEntry{Phone: p, Name: "n" + p, EntityType: "contacts", EntityID: 9})
		}
		if err := l.Validate(); err != nil {
			t.Fatal(err)
		}
		return l
	}

	first := newList(a, 10, "+14155550100", "+14155550101")
	if err := db.CreateCallList(ctx, first); err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 || first.Version != 1 || first.Status != callbridge.CallListActive {
		t.Fatalf("created list: %+v", first)
	}

	t.Run("OpenAndFind", func(t *testing.T) {
		got, err := db.OpenCallList(ctx, a.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != first.ID || len(got.Entries) != 2 || got.Entries[1].Phone != "+14155550101" || got.Interval != 5 || got.Name != "Morning" {
			t.Fatalf("open list: %+v", got)
		}
		if _, err := db.OpenCallList(ctx, a.ID, 11); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
			t.Fatalf("another user's open list: %v", err)
		}
	})

	t.Run("Tenancy", func(t *testing.T) {
		if _, err := db.FindCallList(ctx, b.ID, first.ID); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
			t.Fatalf("account B read account A's list: %v", err)
		}
		if _, err := db.OpenCallList(ctx, b.ID, 10); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
			t.Fatalf("account B sees user 10's list of account A: %v", err)
		}
		forged := *first
		forged.AccountID = b.ID
		forged.Status = callbridge.CallListStopped
		if err := db.UpdateCallList(ctx, &forged); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
			t.Fatalf("account B changed account A's list: %v", err)
		}
	})

	t.Run("UpdateWithVersion", func(t *testing.T) {
		l, err := db.FindCallList(ctx, a.ID, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		stale := *l
		stale.Entries = append([]callbridge.CallListEntry(nil), l.Entries...)
		if err := l.Finish(callbridge.EntryDialed, time.Now(), ""); err != nil {
			t.Fatal(err)
		}
		l.Entries[0].ProviderCallID = "CA1"
		if err := db.UpdateCallList(ctx, l); err != nil {
			t.Fatal(err)
		}
		if l.Version != 2 {
			t.Fatalf("version %d, want 2", l.Version)
		}
		// A second tab with the old version cannot dial the same entry again.
		if err := stale.Finish(callbridge.EntryDialed, time.Now(), ""); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateCallList(ctx, &stale); callbridge.ErrorCode(err) != callbridge.ECONFLICT {
			t.Fatalf("stale update: %v, want conflict", err)
		}
		got, _ := db.FindCallList(ctx, a.ID, first.ID)
		if got.Position != 1 || got.Entries[0].State != callbridge.EntryDialed || got.Entries[0].ProviderCallID != "CA1" {
			t.Fatalf("stored list: %+v", got)
		}
	})

	t.Run("NewListStopsOld", func(t *testing.T) {
		second := newList(a, 10, "+14155550199")
		if err := db.CreateCallList(ctx, second); err != nil {
			t.Fatal(err)
		}
		old, err := db.FindCallList(ctx, a.ID, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if old.Status != callbridge.CallListStopped {
			t.Fatalf("old list status %q, want stopped", old.Status)
		}
		open, err := db.OpenCallList(ctx, a.ID, 10)
		if err != nil || open.ID != second.ID {
			t.Fatalf("open list %+v, %v; want %d", open, err, second.ID)
		}
		// Finishing the last entry makes the list done, and no longer open.
		if err := open.Finish(callbridge.EntrySkipped, time.Now(), ""); err != nil {
			t.Fatal(err)
		}
		if open.Status != callbridge.CallListDone {
			t.Fatalf("status %q after the last entry", open.Status)
		}
		if err := db.UpdateCallList(ctx, open); err != nil {
			t.Fatal(err)
		}
		if _, err := db.OpenCallList(ctx, a.ID, 10); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
			t.Fatalf("a done list is still open: %v", err)
		}
	})

	t.Run("UnknownAccount", func(t *testing.T) {
		l := newList(a, 10, "+1")
		l.AccountID = 999999
		if err := db.CreateCallList(ctx, l); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
			t.Fatalf("unknown account: %v", err)
		}
	})
}

func TestCallListValidate(t *testing.T) {
	long := make([]callbridge.CallListEntry, callbridge.MaxCallListEntries+1)
	for i := range long {
		long[i].Phone = "+1415555"
	}
	for name, l := range map[string]callbridge.CallList{
		"Empty":       {},
		"TooMany":     {Entries: long},
		"NoPhone":     {Entries: []callbridge.CallListEntry{{Phone: " "}}},
		"BadEntity":   {Entries: []callbridge.CallListEntry{{Phone: "+1", EntityType: "deals"}}},
		"BadInterval": {Interval: callbridge.MaxCallListInterval + 1, Entries: []callbridge.CallListEntry{{Phone: "+1"}}},
	} {
		if err := l.Validate(); callbridge.ErrorCode(err) != callbridge.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}
