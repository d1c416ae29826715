package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"callbridge"
)

// Limiter defaults and limits.
const (
	// DefaultLimiterRPS is LimiterOptions.RPS when zero: 6 requests per
	// second, one below Kommo's 7.
	DefaultLimiterRPS = 6
	// DefaultEgress is LimiterOptions.Egress when empty: every replica sends
	// from the same IP address and shares one budget.
	DefaultEgress = "default"
	// limiterSpan is the sliding window of the per-IP cap: slightly over
	// Kommo's second, so that scheduling delays between a release and
	// Kommo's count (network, the replica's timer) do not put one more
	// request into one of Kommo's windows. The in-process limiter uses the
	// same span.
	limiterSpan = time.Second + 20*time.Millisecond
	// limiterQueryTimeout bounds Penalize and the refund of an unused slot,
	// which run without the caller's context.
	limiterQueryTimeout = 5 * time.Second
)

// LimiterOptions configure NewLimiter. The zero value is valid.
type LimiterOptions struct {
	// RPS is the rate of each budget in requests per second (default 6,
	// at most Kommo's 7). Besides the rate, at most ⌊RPS⌋ requests leave
	// one egress budget in any 1.02 s, so a burst can never reach Kommo's 7.
	RPS float64
	// Burst is how many requests a budget may send back to back after a
	// pause (default 1, which with RPS 6 keeps every one-second window at
	// or below 6).
	Burst int
	// Egress names the IP address the replicas' requests leave from
	// (default "default": all replicas share one budget). Replicas that
	// leave from different addresses may use different names; Kommo counts
	// per IP. Per-account budgets are shared by every egress.
	Egress string
	// Logger receives failures to record a penalty (default slog.Default()).
	Logger *slog.Logger
}

// Limiter paces requests to Kommo for every replica sharing the database: it
// implements kommo.Limiter with its state in the kommo_rate_limits table, so
// N replicas together stay within the budget one process would have.
//
// The algorithm is the one of kommo.NewLimiter: the generic cell rate
// algorithm per egress IP and per account, a cap of ⌊RPS⌋ releases per egress
// in any 1.02 s, and a penalty after a 429 or 403 that stops every replica.
// Each Wait reserves its slot in one statement (kommo_rate_reserve locks the
// budget rows, computes the slot on the database's clock and moves the rows
// on), then sleeps until the slot on its own clock; clocks of replicas need
// not agree. When the slot has come, a second statement (kommo_rate_confirm)
// confirms the departure against the egress's actual departures: at most
// ⌊RPS⌋ in any 1.02 s and, with a burst of 1, at least ¾ of an interval
// apart; a request that would break either waits a little, and one that
// meets a penalty recorded meanwhile takes a new slot after it. The schedule
// alone would not do: a replica stalled for a moment (CPU starvation, a long
// GC) fires its overdue timers together, and late and punctual requests of
// several replicas would bunch up at Kommo.
//
// When the database cannot be reached, Wait fails with a transient
// EUNAVAILABLE error (the job retries) rather than sending unpaced requests.
// A Limiter is safe for concurrent use.
type Limiter struct {
	pool     *pgxpool.Pool
	logger   *slog.Logger
	ipKey    string
	interval time.Duration
	tau      time.Duration
	gap      time.Duration
	cap      int

	mu sync.Mutex
	// penalty is a penalty this process recorded, on its own clock; it holds
	// even when the database could not store it.
	penalty time.Time
}

// NewLimiter returns the shared Kommo limiter on db. Replicas share a budget
// when they open the same database and schema with the same Egress.
func NewLimiter(db *DB, opts LimiterOptions) *Limiter {
	rps := opts.RPS
	if rps <= 0 {
		rps = DefaultLimiterRPS
	}
	burst := max(opts.Burst, 1)
	interval := time.Duration(float64(time.Second) / rps)
	egress := opts.Egress
	if egress == "" {
		egress = DefaultEgress
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Limiter{
		pool:     db.pool,
		logger:   logger,
		ipKey:    "ip:" + egress,
		interval: interval,
		tau:      time.Duration(burst-1) * interval,
		gap:      departureGap(interval, burst),
		cap:      max(int(rps), 1),
	}
}

// departureGap is the least time between two actual departures from one
// egress: three quarters of the interval with a burst of 1 (so that a late
// request does not make the next punctual one wait a whole interval), none
// with a larger burst.
func departureGap(interval time.Duration, burst int) time.Duration {
	if burst > 1 {
		return 0
	}
	return interval * 3 / 4
}

func accountKey(accountID int64) *string {
	if accountID == 0 {
		return nil
	}
	k := "account:" + strconv.FormatInt(accountID, 10)
	return &k
}

// Wait blocks until a request for accountID may be sent (accountID 0: only
// the egress budget applies). It returns a transient EUNAVAILABLE error when
// ctx ends first or the database fails, and a transient ERATELIMIT error with
// RetryAfter when ctx's deadline comes before the request could leave (at
// once, reserving nothing, when the slot is already known to be too late).
func (l *Limiter) Wait(ctx context.Context, accountID int64) error {
	acct := accountKey(accountID)
reserve:
	for {
		if err := ctx.Err(); err != nil {
			return notSent(err)
		}
		var maxDelay *int64
		if dl, ok := ctx.Deadline(); ok {
			d := time.Until(dl).Microseconds()
			maxDelay = &d
		}
		var slot, now int64
		var reserved bool
		err := l.pool.QueryRow(ctx, `SELECT slot, now_us, reserved FROM kommo_rate_reserve($1, $2, $3, $4, $5, $6, $7)`,
			l.ipKey, acct, l.interval.Microseconds(), l.tau.Microseconds(), l.cap, limiterSpan.Microseconds(), maxDelay,
		).Scan(&slot, &now, &reserved)
		if err != nil {
			return l.dbError(ctx, err)
		}
		wait := time.Duration(slot-now) * time.Microsecond
		if !reserved {
			return tooLate(wait)
		}
		if err := l.sleep(ctx, wait); err != nil {
			l.refund(acct, slot)
			return err
		}
		// The slot has come: confirm the departure against the egress's
		// actual departures (not its schedule) and any penalty recorded
		// meanwhile.
		for {
			l.mu.Lock()
			local := time.Until(l.penalty)
			l.mu.Unlock()
			if local > 0 {
				// A penalty this process could not store holds here: wait it
				// out, then take a new slot.
				if err := l.sleep(ctx, local); err != nil {
					return err
				}
				continue reserve
			}
			var ok bool
			var reason string
			var waitUS int64
			err := l.pool.QueryRow(ctx, `SELECT ok, reason, wait_us FROM kommo_rate_confirm($1, $2, $3, $4)`,
				l.ipKey, l.cap, limiterSpan.Microseconds(), l.gap.Microseconds()).Scan(&ok, &reason, &waitUS)
			if err != nil {
				return l.dbError(ctx, err)
			}
			if ok {
				return nil
			}
			if reason == "penalty" {
				continue reserve // the new slot comes after the penalty
			}
			wait := max(time.Duration(waitUS)*time.Microsecond, time.Millisecond)
			if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
				return tooLate(wait)
			}
			if err := l.sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
}

// sleep waits for d or until ctx ends.
func (l *Limiter) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return notSent(ctx.Err())
	}
}

func (l *Limiter) dbError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return notSent(ctx.Err())
	}
	return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "kommo: shared rate limiter unavailable: %v", err)
}

func tooLate(wait time.Duration) error {
	return &callbridge.Error{Code: callbridge.ERATELIMIT, Kind: callbridge.KindTransient, RetryAfter: wait,
		Message: "Kommo's rate limit leaves no room before the deadline"}
}

func notSent(err error) error {
	return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "kommo: request not sent: %v", err)
}

// refund gives back a slot that was not used, in the budgets whose last
// reservation it still is (later reservations count on the others), and
// removes it from the egress's release window.
func (l *Limiter) refund(acct *string, slot int64) {
	ctx, cancel := context.WithTimeout(context.Background(), limiterQueryTimeout)
	defer cancel()
	_, err := l.pool.Exec(ctx, `
		UPDATE kommo_rate_limits
		   SET tat = $3::BIGINT,
		       releases = CASE WHEN releases[cardinality(releases)] = $3::BIGINT
		                       THEN releases[1:cardinality(releases) - 1] ELSE releases END
		 WHERE (key = $1 OR key = $2) AND tat = $3::BIGINT + $4::BIGINT`,
		l.ipKey, acct, slot, l.interval.Microseconds())
	if err != nil {
		l.logger.Debug("kommo limiter: refund failed", "err", err)
	}
}

// Penalize records that Kommo answered 429 or 403: no replica sends anything
// on this egress before until. The penalty is stored as a duration from the
// database's clock, so replicas with skewed clocks pause together. When the
// database cannot be reached (5 s at most) the penalty still holds in this
// process and the failure is logged.
func (l *Limiter) Penalize(until time.Time) {
	l.mu.Lock()
	if until.After(l.penalty) {
		l.penalty = until
	}
	l.mu.Unlock()
	d := time.Until(until).Microseconds()
	if d <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), limiterQueryTimeout)
	defer cancel()
	_, err := l.pool.Exec(ctx, `
		INSERT INTO kommo_rate_limits AS l (key, penalty_until)
		VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT + $2)
		ON CONFLICT (key) DO UPDATE SET penalty_until = GREATEST(l.penalty_until, EXCLUDED.penalty_until)`,
		l.ipKey, d)
	if err != nil {
		l.logger.Warn("kommo limiter: could not share a penalty with other replicas; it holds in this one",
			"egress", l.ipKey, "pause", time.Duration(d)*time.Microsecond, "err", err)
	}
}

// Penalty returns how long from now nothing may be sent on this egress (0
// when no penalty is in force), on the database's clock.
func (l *Limiter) Penalty(ctx context.Context) (time.Duration, error) {
	var left int64
	err := l.pool.QueryRow(ctx, `
		SELECT GREATEST(COALESCE(MAX(penalty_until), 0) - (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT, 0)
		FROM kommo_rate_limits WHERE key = $1`, l.ipKey).Scan(&left)
	if err != nil {
		return 0, fmt.Errorf("postgres: kommo limiter: %w", err)
	}
	return time.Duration(left) * time.Microsecond, nil
}
