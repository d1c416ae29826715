package http_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	cbhttp "callbridge/http"
	"callbridge/kommo"
	"callbridge/pipeline"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
)

// The widget tests run a real Server on 127.0.0.1 over a real SQLite store
// and the real ingest pipeline, with a fake Kommo and a fake provider.

const (
	wAcctA  = 41000001 // Kommo account ids
	wAcctB  = 41000002
	wAdmin  = 501 // Kommo user ids (the same numbers in both accounts)
	wSales  = 502
	wOrigin = "https://acme.kommo.com"
)

// fakeKommo records what the widget API and the realtime channel ask Kommo.
type fakeKommo struct {
	mu       sync.Mutex
	contacts map[string][]kommo.Contact // by E.164 number
	notified []notification
	delay    time.Duration
}

type notification struct {
	AccountID int64
	Phone     string
	Users     []int64
}

func (k *fakeKommo) SearchContacts(ctx context.Context, acct *callbridge.Account, phone string) ([]kommo.Contact, error) {
	k.mu.Lock()
	d := k.delay
	k.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.contacts[fmt.Sprint(acct.KommoID)+phone], nil
}

func (k *fakeKommo) NotifyCall(ctx context.Context, acct *callbridge.Account, phone string, users []int64) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.notified = append(k.notified, notification{acct.ID, phone, users})
	return nil
}

func (k *fakeKommo) ListUsers(ctx context.Context, acct *callbridge.Account) ([]kommo.User, error) {
	return []kommo.User{{ID: wAdmin, Name: "Ada Admin", IsAdmin: true}, {ID: wSales, Name: "Bob Sales"}}, nil
}

func (k *fakeKommo) notifications() []notification {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]notification(nil), k.notified...)
}

// fakeProvider is a connector with every optional capability.
type fakeProvider struct {
	mu     sync.Mutex
	placed []callbridge.PlaceCallRequest
	n      int
}

func (p *fakeProvider) Name() string                  { return "fakevoip" }
func (p *fakeProvider) RequiredCredentials() []string { return []string{"key"} }
func (p *fakeProvider) ParseWebhook(context.Context, *callbridge.Connection, *callbridge.WebhookRequest) ([]callbridge.CallEvent, *callbridge.WebhookReply, error) {
	return nil, nil, nil
}
func (p *fakeProvider) RecordingRequest(context.Context, *callbridge.Connection, string) (*nethttp.Request, error) {
	return nil, callbridge.Errorf(callbridge.EFORBIDDEN, "no")
}
func (p *fakeProvider) CheckCredentials(ctx context.Context, c *callbridge.Connection) error {
	if !strings.HasPrefix(c.Credentials["key"], "good-") {
		return callbridge.Errorf(callbridge.EUNAUTHORIZED, "The API key is wrong.")
	}
	return nil
}
func (p *fakeProvider) ListExtensions(ctx context.Context, c *callbridge.Connection) ([]callbridge.Extension, error) {
	return []callbridge.Extension{{ID: "e1", Name: "Front desk", Number: "101"}}, nil
}
func (p *fakeProvider) PlaceCall(ctx context.Context, c *callbridge.Connection, req callbridge.PlaceCallRequest) (*callbridge.PlacedCall, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if strings.HasSuffix(req.Customer, "0000") {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The provider cannot call this number.")
	}
	p.placed = append(p.placed, req)
	p.n++
	return &callbridge.PlacedCall{ProviderCallID: fmt.Sprintf("P%d", p.n)}, nil
}
func (p *fakeProvider) placedCalls() []callbridge.PlaceCallRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]callbridge.PlaceCallRequest(nil), p.placed...)
}

// wenv is a running widget test server.
type wenv struct {
	t        *testing.T
	db       *sqlite.DB
	server   *cbhttp.Server
	rt       *cbhttp.Realtime
	ingester *pipeline.Ingester
	kommo    *fakeKommo
	provider *fakeProvider
	now      func() time.Time
	nowMu    sync.Mutex
	offset   time.Duration
	accounts map[int64]*callbridge.Account // by Kommo id
	conns    map[int64]*callbridge.Connection
}

func newWidgetEnv(t *testing.T) *wenv {
	t.Helper()
	e := &wenv{t: t, kommo: &fakeKommo{contacts: map[string][]kommo.Contact{}}, provider: &fakeProvider{},
		accounts: map[int64]*callbridge.Account{}, conns: map[int64]*callbridge.Connection{}}
	e.now = func() time.Time {
		e.nowMu.Lock()
		defer e.nowMu.Unlock()
		return time.Now().Add(e.offset)
	}
	e.db = sqlitetest.Open(t, sqlite.Options{})
	ctx := t.Context()
	for _, id := range []int64{wAcctA, wAcctB} {
		a := &callbridge.Account{KommoID: id, Subdomain: fmt.Sprint(id), Settings: callbridge.Settings{
			Extensions: map[string]string{fmt.Sprint(wAdmin): "+15550000501", fmt.Sprint(wSales): "+15550000502"},
		}}
		if err := e.db.UpsertAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		c := &callbridge.Connection{AccountID: a.ID, Provider: "fakevoip", Name: "line", Credentials: map[string]string{"key": "good-key"}}
		if err := e.db.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		e.accounts[id], e.conns[id] = a, c
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.rt = cbhttp.NewRealtime(cbhttp.RealtimeConfig{Accounts: e.db, Kommo: e.kommo, Workers: 1, Logger: logger, Now: e.now,
		CallerIDTimeout: 500 * time.Millisecond})
	e.ingester = &pipeline.Ingester{Store: e.db, Hold: -1, OnCommit: e.rt.OnCommit, Logger: logger}
	e.server = &cbhttp.Server{
		Addr: "127.0.0.1:0", Store: e.db, Ingester: e.ingester,
		Connectors:   map[string]callbridge.Connector{"fakevoip": e.provider},
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		Kommo:        e.kommo, Realtime: e.rt,
		Logger: logger, Now: e.now,
	}
	if err := e.server.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.rt.Close()
		e.server.Close(ctx)
	})
	return e
}

// advance moves the servers' clock forward.
func (e *wenv) advance(d time.Duration) {
	e.nowMu.Lock()
	e.offset += d
	e.nowMu.Unlock()
}

// token signs a widget token for the user of the Kommo account.
func (e *wenv) token(kommoAccount, user int64) string {
	now := e.now()
	var jti [8]byte
	_, _ = rand.Read(jti[:])
	return signJWT(hs256, map[string]any{
		"iss": "https://acme.kommo.com", "jti": fmt.Sprintf("%x", jti), "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(), "account_id": kommoAccount, "user_id": user, "client_uuid": testClientID,
	}, testClientSecret)
}

// call makes a widget API request and decodes the JSON answer into out.
func (e *wenv) call(method, path, token string, in, out any) int {
	e.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := nethttp.NewRequest(method, e.server.URL()+path, body)
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// ingest commits events of one call of the Kommo account's connection.
func (e *wenv) ingest(kommoAccount int64, callID string, status callbridge.Status, agent, customer string) {
	e.t.Helper()
	conn := e.conns[kommoAccount]
	ev := callbridge.CallEvent{Type: callbridge.EventStatus, Key: "s:" + callID + ":" + string(status), ProviderCallID: callID,
		Status: status, Direction: callbridge.DirectionInbound, CustomerNumber: customer, LineNumber: "+15550009999", Agent: agent,
		OccurredAt: time.Now().UTC()}
	if err := e.ingester.Ingest(e.t.Context(), conn, []callbridge.CallEvent{ev}); err != nil {
		e.t.Fatal(err)
	}
}

// ticket asks for a realtime ticket.
func (e *wenv) ticket(kommoAccount, user int64) (string, string) {
	e.t.Helper()
	var out struct{ Ticket, URL string }
	if code := e.call("POST", "/api/widget/realtime/ticket", e.token(kommoAccount, user), nil, &out); code != 200 {
		e.t.Fatalf("ticket: %d", code)
	}
	return out.Ticket, out.URL
}

// wsClient is a minimal WebSocket client for the tests.
type wsClient struct {
	conn net.Conn
	br   *bufio.Reader
	msgs chan []byte
	done chan struct{}
}

// dialWS opens the realtime WebSocket with a ticket. It returns the HTTP
// status when the handshake is refused.
func (e *wenv) dialWS(ticket string) (*wsClient, int) {
	e.t.Helper()
	u, _ := url.Parse(e.server.URL())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		e.t.Fatal(err)
	}
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	fmt.Fprintf(conn, "GET /api/widget/realtime?ticket=%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n",
		url.QueryEscape(ticket), u.Host, key, wOrigin)
	br := bufio.NewReader(conn)
	resp, err := nethttp.ReadResponse(br, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != nethttp.StatusSwitchingProtocols {
		conn.Close()
		return nil, resp.StatusCode
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != base64.StdEncoding.EncodeToString(h[:]) {
		e.t.Fatalf("bad Sec-WebSocket-Accept %q", got)
	}
	c := &wsClient{conn: conn, br: br, msgs: make(chan []byte, 100), done: make(chan struct{})}
	go c.read()
	e.t.Cleanup(c.close)
	return c, 101
}

func (c *wsClient) read() {
	defer close(c.done)
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return
		}
		n := int(h[1] & 0x7F)
		switch n {
		case 126:
			var b [2]byte
			io.ReadFull(c.br, b[:])
			n = int(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			io.ReadFull(c.br, b[:])
			n = int(binary.BigEndian.Uint64(b[:]))
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return
		}
		switch h[0] & 0x0F {
		case 0x1:
			c.msgs <- p
		case 0x8:
			return
		case 0x9:
			c.send(0xA, p)
		}
	}
}

// send writes a masked frame.
func (c *wsClient) send(opcode byte, p []byte) {
	mask := [4]byte{1, 2, 3, 4}
	b := []byte{0x80 | opcode, 0x80 | byte(len(p))}
	b = append(b, mask[:]...)
	for i, x := range p {
		b = append(b, x^mask[i%4])
	}
	c.conn.Write(b)
}

func (c *wsClient) close() {
	c.send(0x8, []byte{0x03, 0xE8})
	c.conn.Close()
}

// next returns the next text message, failing after 10 s.
func (c *wsClient) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m := <-c.msgs:
		var v map[string]any
		if err := json.Unmarshal(m, &v); err != nil {
			t.Fatalf("message is not JSON: %s", m)
		}
		return v
	case <-c.done:
		t.Fatal("connection closed")
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10 s")
	}
	return nil
}

// nextCall skips to the next call message.
func (c *wsClient) nextCall(t *testing.T) cbhttp.RealtimeMessage {
	t.Helper()
	for {
		m := c.next(t)
		if m["type"] != "call" {
			continue
		}
		b, _ := json.Marshal(m)
		var rm cbhttp.RealtimeMessage
		_ = json.Unmarshal(b, &rm)
		return rm
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
