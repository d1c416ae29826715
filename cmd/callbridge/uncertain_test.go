package main

import (
	"context"
	"testing"
	"time"

	"callbridge/sandbox"
)

// TestUncertainCreate makes Kommo apply a batched create and then lose the
// answer (accept-then-drop, or a 5xx after applying). The calls of that batch
// are uncertain; callbridge must find the notes Kommo already holds instead
// of writing them again.
func TestUncertainCreate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
	}{
		{"AcceptThenDrop", sandbox.Faults{DropRate: 1, Endpoints: []string{"POST /api/v4/calls"}, MaxFaults: 1}},
		{"ErrorAfterApplying", sandbox.Faults{ErrorAfterRate: 1, Endpoints: []string{"POST /api/v4/calls"}, MaxFaults: 1}},
		{"IncomingLeadDropped", sandbox.Faults{DropRate: 1, Endpoints: []string{"POST /api/v4/leads/unsorted/sip"}, MaxFaults: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t, backend{name: "SQLite"}, clusterOptions{Hold: 200 * time.Millisecond, Contacts: 6})
			ctx := context.Background()
			c.Emu.SetFaults(tc.faults)
			o := scenarioOptions{Calls: 24, Seed: 7, Concurrency: 24, ResultRate: 0.5, RecordingRate: 0.5}
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
			if rep.Stats.Dropped+rep.Stats.InjectedErrors == 0 {
				t.Fatal("no fault was injected")
			}
		})
	}
}
