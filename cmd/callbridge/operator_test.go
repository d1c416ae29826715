package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge/sqlite"
)

const testOperatorToken = "operator-test-token-0123456789"

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newOperatorCluster starts a cluster on SQLite (installed, Twilio
// connected) and reopens its server with configure applied to the
// configuration (e.g. an operator token) and logger as its logger.
func newOperatorCluster(t *testing.T, logger *slog.Logger, configure func(*Config)) *cluster {
	t.Helper()
	c := newTestCluster(t, backend{name: "SQLite"}, clusterOptions{Hold: 300 * time.Millisecond, Contacts: 5, Workers: 10})
	ctx := context.Background()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Main.Close(sctx); err != nil {
		t.Fatal(err)
	}
	cfg := c.Main.Config
	configure(&cfg)
	m := NewMain(cfg)
	m.Logger = logger
	if logger == nil {
		m.Logger = testLogger(t)
	}
	// The port was just released; retry briefly in case it lingers.
	var err error
	for range 50 {
		if err = m.Open(ctx); err == nil {
			break
		}
		m = NewMain(cfg)
		m.Logger = logger
		if logger == nil {
			m.Logger = testLogger(t)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	c.Main = m
	return c
}

// get fetches path from the server with the operator token (unless auth is
// false).
func operatorGet(t *testing.T, c *cluster, path string, auth bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", c.Main.Config.PublicURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth("ops", testOperatorToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue returns the value of the sample line that starts with name
// (including its labels), or -1.
func metricValue(body, name string) float64 {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// TestObservability runs calls through a server that logs JSON at debug
// level, then checks the metrics, the logs (valid JSON, ids present, no
// secret anywhere) and the health endpoints.
func TestObservability(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newOperatorCluster(t, logger, func(cfg *Config) { cfg.OperatorToken = testOperatorToken })
	ctx := context.Background()
	o := scenarioOptions{Calls: 12, Seed: 7, Concurrency: 4, DuplicateRate: 0.5, ResultRate: 0.5, RecordingRate: 0.5}
	plans := c.planCalls(o)
	if st := c.drive(ctx, plans, o); st.Failures.Load() > 0 {
		t.Fatalf("inputs refused: %v", st.firstErr)
	}
	if err := c.waitSynced(ctx, plans, 2*time.Minute); err != nil {
		t.Fatal(err)
	}

	t.Run("Metrics", func(t *testing.T) {
		code, body := operatorGet(t, c, "/metrics", false)
		if code != 200 {
			t.Fatalf("GET /metrics: %d", code)
		}
		for name, atLeast := range map[string]float64{
			`callbridge_events_ingested_total{outcome="stored",provider="twilio"}`:        20,
			`callbridge_events_ingested_total{outcome="duplicate",provider="twilio"}`:     1,
			`callbridge_events_ingested_total{outcome="stored",provider="widget"}`:        1,
			`callbridge_jobs{state="completed"}`:                                          1,
			`callbridge_jobs{state="discarded"}`:                                          0,
			`callbridge_kommo_limiter_wait_seconds_count{outcome="sent"}`:                 1,
			`callbridge_kommo_requests_total{endpoint="POST /api/v4/calls",status="200"}`: 1,
			`callbridge_sync_latency_seconds_count`:                                       1,
		} {
			if v := metricValue(body, name); v < atLeast {
				t.Errorf("%s = %v, want at least %v", name, v, atLeast)
			}
		}
	})

	t.Run("Logs", func(t *testing.T) {
		tok, err := c.Main.DB.FindToken(ctx, c.Account.ID)
		if err != nil {
			t.Fatal(err)
		}
		conns, err := c.Main.DB.ListConnections(ctx, c.Account.ID)
		if err != nil || len(conns) == 0 {
			t.Fatal(conns, err)
		}
		secrets := map[string]string{
			"Kommo client secret": c.Main.Config.KommoClientSecret,
			"access token":        tok.AccessToken,
			"refresh token":       tok.RefreshToken,
			"webhook token":       conns[0].Token,
			"Twilio auth token":   c.Sim.AuthToken,
			"operator token":      testOperatorToken,
		}
		if key, err := os.ReadFile(c.Main.Config.SecretKeyFile); err == nil {
			secrets["secret key"] = strings.TrimSpace(string(key))
		}
		out := logs.String()
		if strings.Count(out, "\n") < 50 {
			t.Fatalf("only %d log lines at debug level", strings.Count(out, "\n"))
		}
		for what, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("the logs contain the %s", what)
			}
		}
		accounts := 0
		for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line %d is not JSON: %q", i+1, line)
			}
			if rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
				t.Fatalf("log line %d lacks time, level or msg: %q", i+1, line)
			}
			if _, ok := rec["account_id"]; ok {
				accounts++
			}
		}
		if accounts == 0 {
			t.Error("no log line carries an account_id")
		}
		// Webhook paths carry the connection's token: the access log names
		// the route pattern instead.
		if !strings.Contains(out, `"route":"POST /webhooks/{token}"`) {
			t.Error("the access log does not name the webhook route pattern")
		}
	})

	t.Run("Readiness", func(t *testing.T) {
		if code, body := operatorGet(t, c, "/readyz", false); code != 200 {
			t.Fatalf("/readyz = %d %s, want 200", code, body)
		}
		// A database whose schema went back (restored from an old backup)
		// is not ready.
		db := c.Main.DB.(*sqlite.DB)
		exec := func(sql string) {
			tx, err := db.Backend().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, sql); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		exec(`UPDATE goose_db_version SET is_applied = 0 WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)`)
		if code, _ := operatorGet(t, c, "/readyz", false); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz with an older schema = %d, want 503", code)
		}
		exec(`UPDATE goose_db_version SET is_applied = 1`)
		if code, _ := operatorGet(t, c, "/readyz", false); code != 200 {
			t.Errorf("/readyz after restoring the schema = %d, want 200", code)
		}
		if code, _ := operatorGet(t, c, "/healthz", false); code != 200 {
			t.Errorf("/healthz = %d", code)
		}
		// Shutting down: not ready any more.
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := c.Main.Close(sctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Main.ready(ctx); err == nil || !strings.Contains(err.Error(), "shutting down") {
			t.Errorf("ready after Close = %v, want shutting down", err)
		}
	})
}

// TestRiverUI: River's UI is served behind the operator token.
func TestRiverUI(t *testing.T) {
	c := newOperatorCluster(t, nil, func(cfg *Config) { cfg.OperatorToken = testOperatorToken })
	if code, _ := operatorGet(t, c, "/riverui/", false); code != http.StatusUnauthorized {
		t.Fatalf("/riverui/ without the token = %d, want 401", code)
	}
	code, body := operatorGet(t, c, "/riverui/", true)
	if code != 200 || !strings.Contains(strings.ToLower(body), "<html") {
		t.Fatalf("/riverui/ = %d, want River's UI page", code)
	}
	if !regexp.MustCompile(`(?i)river`).MatchString(body) {
		t.Fatalf("/riverui/ does not look like River's UI")
	}
	code, body = operatorGet(t, c, "/riverui/api/jobs?state=completed&limit=5", true)
	if code != 200 || !json.Valid([]byte(body)) {
		t.Fatalf("/riverui/api/jobs = %d %.200s, want JSON", code, body)
	}
	if code, _ := operatorGet(t, c, "/riverui/api/jobs?state=completed&limit=5", false); code != http.StatusUnauthorized {
		t.Fatalf("River UI's API without the token = %d, want 401", code)
	}

	// Without a token neither River's UI nor the operator pages exist.
	c2 := newOperatorCluster(t, nil, func(cfg *Config) { cfg.OperatorToken = "" })
	for _, p := range []string{"/riverui/", "/operator/"} {
		if code, _ := operatorGet(t, c2, p, true); code != http.StatusNotFound {
			t.Errorf("%s without an operator token configured = %d, want 404", p, code)
		}
	}
}
