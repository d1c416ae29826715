-- The Kommo rate budget shared by every replica (postgres.Limiter). One row
-- per budget: 'ip:<egress>' for an egress IP, 'account:<id>' for an account.
-- Times are unix microseconds on the database's clock, so replicas whose
-- clocks disagree still share one schedule. PostgreSQL only: SQLite mode is
-- one process and keeps its limiter in memory.

-- +goose Up
CREATE TABLE kommo_rate_limits (
    key           TEXT     PRIMARY KEY,
    tat           BIGINT   NOT NULL DEFAULT 0,    -- GCRA theoretical arrival time
    releases      BIGINT[] NOT NULL DEFAULT '{}', -- IP rows: the latest release times (2·cap), oldest first
    sent          BIGINT[] NOT NULL DEFAULT '{}', -- IP rows: when the latest requests actually left (cap), oldest first
    penalty_until BIGINT   NOT NULL DEFAULT 0,    -- IP rows: nothing is sent before this (429/403)
    updated_at    BIGINT   NOT NULL DEFAULT 0
);

-- kommo_rate_reserve gives the caller the earliest slot allowed by the IP row
-- p_ip and, when p_account is not NULL, the account row p_account (both are
-- created on first use and locked in that order, so callers never deadlock):
-- the GCRA of each row (interval p_interval, tolerance p_tau), the IP row's
-- cap of p_cap releases in any p_span, and the IP row's penalty. The slot is
-- taken (the rows move on) unless it lies more than p_max_delay after the
-- database's now; reserved says which. All durations are microseconds.
-- +goose StatementBegin
CREATE FUNCTION kommo_rate_reserve(p_ip TEXT, p_account TEXT, p_interval BIGINT, p_tau BIGINT,
                                   p_cap INTEGER, p_span BIGINT, p_max_delay BIGINT)
RETURNS TABLE (slot BIGINT, now_us BIGINT, reserved BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
    v_ip   kommo_rate_limits%ROWTYPE;
    v_acct kommo_rate_limits%ROWTYPE;
    v_now  BIGINT;
    v_at   BIGINT;
    v_n    INTEGER;
BEGIN
    INSERT INTO kommo_rate_limits (key) VALUES (p_ip) ON CONFLICT (key) DO NOTHING;
    SELECT * INTO v_ip FROM kommo_rate_limits WHERE key = p_ip FOR UPDATE;
    IF p_account IS NOT NULL THEN
        INSERT INTO kommo_rate_limits (key) VALUES (p_account) ON CONFLICT (key) DO NOTHING;
        SELECT * INTO v_acct FROM kommo_rate_limits WHERE key = p_account FOR UPDATE;
    END IF;
    -- Read the clock once the rows are ours: a slot computed before waiting
    -- for the lock could already be in the past.
    v_now := (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT;

    v_at := GREATEST(v_now, v_ip.tat - p_tau, v_ip.penalty_until);
    v_n := cardinality(v_ip.releases);
    IF p_cap > 0 AND v_n >= p_cap THEN
        v_at := GREATEST(v_at, v_ip.releases[v_n - p_cap + 1] + p_span);
    END IF;
    IF p_account IS NOT NULL THEN
        v_at := GREATEST(v_at, v_acct.tat - p_tau);
    END IF;

    IF p_max_delay IS NOT NULL AND v_at - v_now > p_max_delay THEN
        RETURN QUERY SELECT v_at, v_now, FALSE;
        RETURN;
    END IF;

    UPDATE kommo_rate_limits
       SET tat = GREATEST(tat, v_at) + p_interval,
           -- Keep 2·cap releases: a refund (Limiter.refund) removes the
           -- last one and must not lose the cap-th latest.
           releases = (releases || v_at)[GREATEST(cardinality(releases) + 2 - 2 * GREATEST(p_cap, 1), 1):],
           updated_at = v_now
     WHERE key = p_ip;
    IF p_account IS NOT NULL THEN
        UPDATE kommo_rate_limits
           SET tat = GREATEST(tat, v_at) + p_interval, updated_at = v_now
         WHERE key = p_account;
    END IF;
    RETURN QUERY SELECT v_at, v_now, TRUE;
END;
$$;
-- +goose StatementEnd

-- kommo_rate_confirm is called when a reserved slot has come, just before the
-- request leaves the egress p_ip. It records the departure (ok) unless
--   'penalty': a penalty holds (the caller reserves a new slot);
--   'cap':     p_cap requests already left in the last p_span;
--   'gap':     the last request left less than p_gap ago;
-- all on the database's clock; wait_us is how long until that changes. The
-- schedule is kept by kommo_rate_reserve; this check holds against replicas'
-- timers firing late (a stalled process releases its overdue requests in a
-- burst, and late and punctual requests of several replicas bunch up).
-- +goose StatementBegin
CREATE FUNCTION kommo_rate_confirm(p_ip TEXT, p_cap INTEGER, p_span BIGINT, p_gap BIGINT)
RETURNS TABLE (ok BOOLEAN, reason TEXT, wait_us BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_ip  kommo_rate_limits%ROWTYPE;
    v_now BIGINT;
    v_n   INTEGER;
BEGIN
    INSERT INTO kommo_rate_limits (key) VALUES (p_ip) ON CONFLICT (key) DO NOTHING;
    SELECT * INTO v_ip FROM kommo_rate_limits WHERE key = p_ip FOR UPDATE;
    v_now := (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT;
    IF v_ip.penalty_until > v_now THEN
        RETURN QUERY SELECT FALSE, 'penalty'::TEXT, v_ip.penalty_until - v_now;
        RETURN;
    END IF;
    v_n := cardinality(v_ip.sent);
    IF p_cap > 0 AND v_n >= p_cap AND v_ip.sent[v_n - p_cap + 1] + p_span > v_now THEN
        RETURN QUERY SELECT FALSE, 'cap'::TEXT, v_ip.sent[v_n - p_cap + 1] + p_span - v_now;
        RETURN;
    END IF;
    IF v_n > 0 AND v_ip.sent[v_n] + p_gap > v_now THEN
        RETURN QUERY SELECT FALSE, 'gap'::TEXT, v_ip.sent[v_n] + p_gap - v_now;
        RETURN;
    END IF;
    UPDATE kommo_rate_limits
       SET sent = (sent || v_now)[GREATEST(cardinality(sent) + 2 - GREATEST(p_cap, 1), 1):]
     WHERE key = p_ip;
    RETURN QUERY SELECT TRUE, ''::TEXT, 0::BIGINT;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION kommo_rate_confirm(TEXT, INTEGER, BIGINT, BIGINT);
DROP FUNCTION kommo_rate_reserve(TEXT, TEXT, BIGINT, BIGINT, INTEGER, BIGINT, BIGINT);
DROP TABLE kommo_rate_limits;
