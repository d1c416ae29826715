package main

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestRefresh expires the account's access token (in the store and at
// Kommo, so that a client's cached copy is refused too) and then has 50
// calls sync at once: Kommo must see exactly one refresh request (refresh tokens are
// single-use). On PostgreSQL a second server (its own Kommo client and River
// client, as a second process would have) shares the database and works
// half of the jobs: still exactly one refresh.
func TestRefresh(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			// Two servers split Kommo's budget (2.5 + 2.5 requests per second).
			rps := 0.0 // the cluster's default
			if b.url != "" {
				rps = 2.5
			}
			c := newTestCluster(t, b, clusterOptions{Hold: 300 * time.Millisecond, Contacts: 10, Workers: 50, KommoRPS: rps})
			ctx := context.Background()
			servers := []*Main{c.Main}
			if b.url != "" {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := ln.Addr().String()
				ln.Close()
				cfg := c.Main.Config
				cfg.Addr = addr
				second := NewMain(cfg)
				second.Logger = testLogger(t)
				if err := second.Open(ctx); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { second.Close(context.Background()) })
				servers = append(servers, second)
			}
			tok, err := c.Main.DB.FindToken(ctx, c.Account.ID)
			if err != nil {
				t.Fatal(err)
			}
			// The token expires: in the store (a process that reads it sees
			// it stale) and at Kommo (a process that cached it gets 401).
			tok.ExpiresAt = time.Now().Add(-time.Minute)
			if err := c.Main.DB.SaveToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if err := c.Emu.ExpireAccessTokens(c.KommoAccountID); err != nil {
				t.Fatal(err)
			}
			before := c.Emu.Stats().RefreshRequests

			o := scenarioOptions{Calls: 50, Seed: 5, Concurrency: 50, ResultRate: 0.3}
			plans := c.planCalls(o)
			if st := c.drive(ctx, plans, o); st.Failures.Load() > 0 {
				t.Fatalf("inputs refused: %v", st.firstErr)
			}
			if err := c.waitSynced(ctx, plans, 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			rep, err := c.verify(ctx, plans)
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, rep)
			if got := c.Emu.Stats().RefreshRequests - before; got != 1 {
				t.Fatalf("%d refresh requests for %d concurrent jobs on %d servers, want exactly 1", got, len(plans), len(servers))
			}
			after, err := c.Main.DB.FindToken(ctx, c.Account.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !after.ExpiresAt.After(time.Now()) || after.Version <= tok.Version {
				t.Fatalf("the rotated pair was not stored: expires %v, version %d (was %d)", after.ExpiresAt, after.Version, tok.Version)
			}
		})
	}
}
