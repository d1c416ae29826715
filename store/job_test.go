package store_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"callbridge/store"
)

func TestExponentialRetryPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy  store.ExponentialRetryPolicy
		attempt int
		want    time.Duration
	}{
		{store.ExponentialRetryPolicy{}, 0, time.Second},
		{store.ExponentialRetryPolicy{}, 1, time.Second},
		{store.ExponentialRetryPolicy{}, 2, 2 * time.Second},
		{store.ExponentialRetryPolicy{}, 4, 8 * time.Second},
		{store.ExponentialRetryPolicy{}, 9, 256 * time.Second},
		{store.ExponentialRetryPolicy{}, 10, 5 * time.Minute},
		{store.ExponentialRetryPolicy{}, 100, 5 * time.Minute},
		{store.ExponentialRetryPolicy{}, 1 << 30, 5 * time.Minute},
		{store.ExponentialRetryPolicy{Base: 10 * time.Millisecond, Max: time.Second}, 3, 40 * time.Millisecond},
		{store.ExponentialRetryPolicy{Base: 10 * time.Millisecond, Max: time.Second}, 30, time.Second},
	} {
		for range 20 {
			before := time.Now()
			next := tc.policy.NextRetry(&rivertype.JobRow{Attempt: tc.attempt})
			after := time.Now()
			lo := before.Add(time.Duration(float64(tc.want) * 0.9))
			hi := after.Add(time.Duration(float64(tc.want) * 1.1))
			if next.Before(lo) || next.After(hi) {
				t.Fatalf("%+v attempt %d: retry in %v, want %v ±10%%", tc.policy, tc.attempt, next.Sub(before), tc.want)
			}
		}
	}
}

func TestJobConfig_RiverConfig(t *testing.T) {
	cfg := store.JobConfig{}.RiverConfig(nil, "s")
	if cfg.MaxAttempts != store.DefaultMaxAttempts || cfg.JobTimeout != store.DefaultJobTimeout || cfg.Schema != "s" ||
		cfg.Queues != nil || cfg.Logger == nil {
		t.Fatalf("defaults: %+v", cfg)
	}
	if _, ok := cfg.RetryPolicy.(store.ExponentialRetryPolicy); !ok {
		t.Fatalf("RetryPolicy=%T", cfg.RetryPolicy)
	}

	workers := river.NewWorkers()
	cfg = store.JobConfig{Workers: workers, MaxAttempts: 3, JobTimeout: -1, FetchPollInterval: 20 * time.Millisecond}.RiverConfig(nil, "")
	if q := cfg.Queues[river.QueueDefault]; q.MaxWorkers != store.DefaultMaxWorkers {
		t.Fatalf("queue: %+v", cfg.Queues)
	}
	if cfg.MaxAttempts != 3 || cfg.JobTimeout != -1 || cfg.Workers != workers {
		t.Fatalf("overrides: %+v", cfg)
	}
	if cfg.FetchCooldown > cfg.FetchPollInterval || cfg.FetchCooldown < river.FetchCooldownMin {
		t.Fatalf("FetchCooldown=%v with FetchPollInterval=%v", cfg.FetchCooldown, cfg.FetchPollInterval)
	}
	if cfg := (store.JobConfig{Workers: workers, MaxWorkers: 3}).RiverConfig(nil, ""); cfg.Queues[river.QueueDefault].MaxWorkers != 3 {
		t.Fatalf("MaxWorkers: %+v", cfg.Queues)
	}
}
