package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"callbridge/sandbox"
	"callbridge/twilio"
)

// TestMain lets the test binary act as a callbridge server process for
// TestCrash: re-executed with CALLBRIDGE_TEST_SERVE=1 it runs `callbridge
// serve` with the arguments in CALLBRIDGE_TEST_ARGS.
func TestMain(m *testing.M) {
	if os.Getenv("CALLBRIDGE_TEST_SERVE") == "1" {
		ctx, stop := signalContext()
		defer stop()
		if err := run(ctx, append([]string{"serve"}, strings.Split(os.Getenv("CALLBRIDGE_TEST_ARGS"), "\x1f")...)); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProcess is callbridge running as a separate OS process.
type serverProcess struct {
	t    *testing.T
	args []string
	url  string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

func (s *serverProcess) start() {
	s.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CALLBRIDGE_TEST_SERVE=1", "CALLBRIDGE_TEST_ARGS="+strings.Join(s.args, "\x1f"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("server process did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill SIGKILLs the process: no drain, no cleanup, in-flight work lost.
func (s *serverProcess) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = s.cmd.Process.Wait()
	s.cmd = nil
}

// TestCrash SIGKILLs the server process several times while calls flow, with
// Kommo faults on. Inputs the dead server refused are resent, as providers
// retry. After the last restart every call is in Kommo exactly once.
func TestCrash(t *testing.T) {
	if raceDetector {
		t.Skip("the crash test runs without -race in .ci/run: its restarts under the race detector take minutes")
	}
	dir := t.TempDir()
	ctx := context.Background()

	// Kommo and the provider's recording host live in the test process.
	emuLn, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	recLn, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	cbLn, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	cbAddr := cbLn.Addr().String()
	cbLn.Close()
	cbURL := "http://" + cbAddr
	clientID, clientSecret := "cb-crash", randomHex(24)
	emu := sandbox.New(sandbox.Config{ClientID: clientID, ClientSecret: clientSecret, Host: emuLn.Addr().String(),
		RedirectURI: cbURL + "/oauth/install", DisconnectURL: cbURL + "/oauth/disconnect", RetryAfter: time.Second})
	emuSrv := serveOn(emuLn, emu)
	defer emuSrv.Close()
	defer emu.Close()
	c := &cluster{Emu: emu, EmuURL: "http://" + emuLn.Addr().String(), BaseURL: cbURL, Retry: true, Logf: t.Logf,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &countingTransport{next: &http.Transport{MaxIdleConnsPerHost: 64}}}}
	c.Sim = &twilio.Simulator{AccountSID: "AC" + randomHex(16), AuthToken: randomHex(16),
		RecordingBase: "http://" + recLn.Addr().String(), HTTPClient: c.client}
	recSrv := serveOn(recLn, c.Sim.RecordingServer())
	defer recSrv.Close()
	seed, phones := seedData(10)
	res, err := emu.Seed(seed)
	if err != nil {
		t.Fatal(err)
	}
	c.KommoAccountID, c.AdminUserID = res.Accounts[0].ID, res.Accounts[0].AdminUserID
	phones.resolve(res.Accounts[0])
	c.Phones = phones

	cfg := Config{Addr: cbAddr, PublicURL: cbURL, DB: filepath.Join(dir, "callbridge.db"), SecretKeyFile: filepath.Join(dir, "callbridge.key"),
		KommoClientID: clientID, KommoClientSecret: clientSecret, KommoBaseURL: c.EmuURL, KommoRPS: 6, KommoBatchWait: 200 * time.Millisecond,
		Hold: 300 * time.Millisecond, Workers: 50, JobTimeout: 20 * time.Second, TwilioAPIBase: c.Sim.RecordingBase,
		RecordingHosts: "http://" + recLn.Addr().String(), LogFormat: "text", LogLevel: "error"}
	srv := &serverProcess{t: t, url: cbURL, args: []string{
		"--addr", cfg.Addr, "--public-url", cfg.PublicURL, "--db", cfg.DB, "--secret-key-file", cfg.SecretKeyFile,
		"--kommo-client-id", clientID, "--kommo-client-secret", clientSecret, "--kommo-base-url", c.EmuURL,
		"--hold", cfg.Hold.String(), "--job-timeout", cfg.JobTimeout.String(), "--workers", "50",
		"--twilio-api-base", cfg.TwilioAPIBase, "--recording-hosts", cfg.RecordingHosts, "--log-format", "text", "--log-level", "error"}}
	srv.start()
	defer srv.kill()

	// Install and connect, through the server process.
	if _, err := emu.Install(ctx, c.KommoAccountID, "crash"); err != nil {
		t.Fatal(err)
	}
	var conn struct {
		ID         int64  `json:"id"`
		WebhookURL string `json:"webhook_url"`
	}
	body := map[string]any{"provider": "twilio", "name": "Twilio", "credentials": map[string]string{
		twilio.CredentialAccountSID: c.Sim.AccountSID, twilio.CredentialAuthToken: c.Sim.AuthToken}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.widget(ctx, "POST", "/api/widget/connections", c.AdminUserID, body, &conn)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.ConnectionID, c.Sim.WebhookURL = conn.ID, conn.WebhookURL

	emu.SetFaults(sandbox.Faults{Latency: time.Millisecond, Jitter: 5 * time.Millisecond, ErrorRate: 0.02, DropRate: 0.02})
	o := scenarioOptions{Calls: 200, Seed: 99, Concurrency: 8, DuplicateRate: 0.3, PartialRate: 0.1,
		ResultRate: 0.5, RecordingRate: 0.5, LateRate: 0.2, LateDelay: 2 * time.Second}
	plans := c.planCalls(o)

	// Kill the server five times while the inputs flow (after every sixth of
	// them is sent, however fast the machine), and restart it.
	inputs := 0
	for _, p := range plans {
		inputs += p.Inputs
	}
	sent := c.client.Transport.(*countingTransport)
	done := make(chan struct{})
	kills := 0
	var killer sync.WaitGroup
	killer.Add(1)
	go func() {
		defer killer.Done()
		for kills < 5 {
			for sent.n.Load() < int64((kills+1)*inputs/6) {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
			srv.kill()
			kills++
			time.Sleep(200 * time.Millisecond)
			srv.start()
		}
	}()
	st := c.drive(ctx, plans, o)
	close(done)
	killer.Wait()
	if n := st.Failures.Load(); n > 0 {
		t.Fatalf("%d inputs could not be delivered; first: %v", n, st.firstErr)
	}
	// A last crash while the writer works, then a final restart in this
	// process so the test can read the database.
	time.Sleep(time.Second)
	srv.kill()
	kills++
	t.Logf("server process killed %d times", kills)
	if kills < 6 {
		t.Fatalf("only %d kills happened; the run ended before the crashes", kills)
	}
	main := NewMain(cfg)
	main.Logger = testLogger(t)
	if err := main.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer main.Close(context.Background())
	c.Main = main
	a, err := main.DB.FindAccountByKommoID(ctx, c.KommoAccountID)
	if err != nil {
		t.Fatal(err)
	}
	c.Account = a
	emu.SetFaults(sandbox.Faults{})
	if err := c.waitSynced(ctx, plans, 3*time.Minute); err != nil {
		t.Error(err)
	}
	rep, err := c.verify(ctx, plans)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
	t.Logf("%d calls, %d notes after %d crashes", len(plans), rep.Logged, kills)
}

// countingTransport counts the requests sent through it (the test's
// progress, for crashing the server at given points).
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}
