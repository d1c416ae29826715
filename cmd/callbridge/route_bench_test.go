package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"callbridge"
	"callbridge/pipeline"
)

// BenchmarkRoute measures the smart-forwarding answer a provider waits for
// (incoming call → ring the responsible manager's extension): with a warm
// contact cache (a number seen in the last minute) and a cold one (every call
// a new number, one Kommo search each, under the 6 requests/s limiter).
// It reports p50 and p99 in milliseconds.
func BenchmarkRoute(b *testing.B) {
	for _, warm := range []bool{true, false} {
		name := "Cold"
		if warm {
			name = "Warm"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			ctx := context.Background()
			c, err := startCluster(ctx, clusterOptions{Dir: dir, Hold: time.Second, Contacts: 40, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(ctx)
			// Map every seeded user to an extension, so a found contact routes.
			s := c.Account.Settings
			s.Extensions = map[string]string{}
			for _, u := range c.Emu.State().Accounts[0].Users {
				s.Extensions[fmt.Sprint(u.ID)] = fmt.Sprintf("%d", 100+u.ID%100)
			}
			if err := c.Main.DB.UpdateAccountSettings(ctx, c.Account.ID, s); err != nil {
				b.Fatal(err)
			}
			conn, err := c.Main.DB.FindConnection(ctx, c.Account.ID, c.ConnectionID)
			if err != nil {
				b.Fatal(err)
			}
			r := &pipeline.Router{Store: c.Main.DB, Kommo: c.Main.Kommo, Timeout: 5 * time.Second}
			numbers := c.Phones.byCat[catLead]
			if warm {
				for _, n := range numbers {
					r.Route(ctx, conn, callbridge.RouteRequest{Customer: n})
				}
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n := numbers[i%len(numbers)]
				if !warm {
					n = fmt.Sprintf("+1212%07d", 3000000+i) // never seen: a Kommo search each
				}
				t := time.Now()
				r.Route(ctx, conn, callbridge.RouteRequest{ProviderCallID: fmt.Sprint(i), Customer: n})
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
