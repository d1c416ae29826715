package http

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"hash/fnv"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// The widget's realtime channel. Kommo never pushes telephony events to a
// widget, so callbridge does: the widget asks for a short-lived, single-use
// ticket with its X-Auth-Token (POST /api/widget/realtime/ticket), then opens
// a WebSocket with it (GET /api/widget/realtime?ticket=…; browsers cannot set
// headers on a WebSocket). Every committed change of a call
// (pipeline.Ingester.OnCommit → Realtime.OnCommit) is pushed to the manager
// it concerns: the Kommo user mapped to the call's agent
// (Settings.UserForAgent), or every connected user of the account when the
// agent is unknown. An incoming call that reaches no connected widget falls
// back to Kommo's own call notification (POST /api/v2/events).
//
// Tenancy: a ticket names one account and one user, taken from a verified
// widget token; a connection receives only the calls of that account, and
// the channel accepts nothing from the browser but WebSocket control frames.
//
// Messages are JSON text frames:
//
//	{"type":"hello","user_id":…,"account_id":…}
//	{"type":"call","phase":"ringing"|"answered"|"ended","user_id":…,
//	 "call":{…},"caller":{…},"prefs":{…},"sent_at":…}
//
// user_id in a call message is the Kommo user the call is for (0 when the
// agent is not mapped to a user). Each phase is pushed once per call and user;
// users who saw a call ring also get its answered and ended messages, so that
// they can dismiss the popup.

// Realtime defaults and limits.
const (
	// DefaultTicketTTL is how long a realtime ticket can be redeemed.
	DefaultTicketTTL = 30 * time.Second
	// DefaultCallerIDTimeout bounds the Kommo contact search made for a
	// ringing call; the popup is sent without a name when it runs out.
	DefaultCallerIDTimeout = 2 * time.Second
	// DefaultPingInterval is how often the server pings a widget; a
	// connection silent for 2.5 intervals is closed.
	DefaultPingInterval = 25 * time.Second
	// DefaultMaxConnsPerUser is how many widget connections (browser tabs) a
	// user may hold; a new one beyond it closes the oldest.
	DefaultMaxConnsPerUser = 8
	// maxTickets bounds the outstanding tickets of the whole process.
	maxTickets = 100_000
	// connQueue is how many messages may wait for a slow connection before
	// it is closed.
	connQueue = 64
	// callStateTTL is how long the channel remembers what it pushed for a
	// call.
	callStateTTL = 2 * time.Hour
	// maxFallbacks bounds the concurrent Kommo call notifications.
	maxFallbacks = 8
)

// Call phases pushed to the widget.
const (
	PhaseRinging  = "ringing"
	PhaseAnswered = "answered"
	PhaseEnded    = "ended"
)

// RealtimeKommo is what the realtime channel needs of Kommo. *kommo.Client
// implements it.
type RealtimeKommo interface {
	// SearchContacts finds the caller (caller ID).
	SearchContacts(ctx context.Context, acct *callbridge.Account, phone string) ([]kommo.Contact, error)
	// NotifyCall is the fallback notification (POST /api/v2/events).
	NotifyCall(ctx context.Context, acct *callbridge.Account, phone string, userIDs []int64) error
}

// AccountFinder finds an account by our id. callbridge.Store implements it.
type AccountFinder interface {
	FindAccount(ctx context.Context, id int64) (*callbridge.Account, error)
}

// RealtimeConfig configures NewRealtime. Zero fields take their defaults.
type RealtimeConfig struct {
	// Accounts reads the account of each call (settings, status). Required.
	Accounts AccountFinder
	// Kommo looks up callers and sends the fallback notification. Nil: no
	// caller names and no fallback.
	Kommo RealtimeKommo
	// TicketTTL (default DefaultTicketTTL), CallerIDTimeout (default
	// DefaultCallerIDTimeout), PingInterval (default DefaultPingInterval),
	// MaxConnsPerUser (default DefaultMaxConnsPerUser).
	TicketTTL       time.Duration
	CallerIDTimeout time.Duration
	PingInterval    time.Duration
	MaxConnsPerUser int
	// Workers process committed calls, each call always on the same worker
	// so that its phases stay in order (default 4). QueueSize is each
	// worker's backlog (default 1024); a call committed when it is full is
	// not pushed (and logged).
	Workers   int
	QueueSize int
	// Logger (default slog.Default()) and Now (default time.Now).
	Logger *slog.Logger
	Now    func() time.Time
}

// Realtime is the widget's realtime channel: ticket issuing, WebSocket
// connections by account and user, and the pushing of committed calls. Create
// it with NewRealtime, give it to Server.Realtime and set
// pipeline.Ingester.OnCommit to its OnCommit; Close it when the server stops.
type Realtime struct {
	cfg       RealtimeConfig
	log       *slog.Logger
	queues    []chan *callbridge.Call
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	fallbacks chan struct{}

	mu      sync.Mutex
	tickets map[string]rtTicket
	conns   map[int64]map[int64][]*rtConn // account → user → connections, oldest first
}

type rtTicket struct {
	accountID, userID int64
	expires           time.Time
}

// rtConn is one widget connection.
type rtConn struct {
	ws                *wsConn
	accountID, userID int64
	out               chan []byte
	done              chan struct{}
	once              sync.Once
}

func (c *rtConn) stop(code int, reason string) {
	c.once.Do(func() {
		close(c.done)
		c.ws.close(code, reason)
	})
}

// NewRealtime returns a running channel. It panics when cfg.Accounts is nil.
func NewRealtime(cfg RealtimeConfig) *Realtime {
	if cfg.Accounts == nil {
		panic("http: RealtimeConfig.Accounts is required")
	}
	if cfg.TicketTTL <= 0 {
		cfg.TicketTTL = DefaultTicketTTL
	}
	if cfg.CallerIDTimeout <= 0 {
		cfg.CallerIDTimeout = DefaultCallerIDTimeout
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.MaxConnsPerUser <= 0 {
		cfg.MaxConnsPerUser = DefaultMaxConnsPerUser
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rt := &Realtime{
		cfg:       cfg,
		log:       cfg.Logger,
		done:      make(chan struct{}),
		fallbacks: make(chan struct{}, maxFallbacks),
		tickets:   map[string]rtTicket{},
		conns:     map[int64]map[int64][]*rtConn{},
	}
	if rt.log == nil {
		rt.log = slog.Default()
	}
	for range cfg.Workers {
		q := make(chan *callbridge.Call, cfg.QueueSize)
		rt.queues = append(rt.queues, q)
		rt.wg.Add(1)
		go rt.work(q)
	}
	return rt
}

// Close stops the workers and closes every connection (close code 1001). It
// waits for the workers and for fallback notifications in flight.
func (rt *Realtime) Close() error {
	rt.closeOnce.Do(func() {
		close(rt.done)
		rt.mu.Lock()
		var all []*rtConn
		for _, users := range rt.conns {
			for _, cs := range users {
				all = append(all, cs...)
			}
		}
		rt.mu.Unlock()
		for _, c := range all {
			c.stop(closeGoingAway, "server shutting down")
		}
	})
	rt.wg.Wait()
	return nil
}

func (rt *Realtime) now() time.Time { return rt.cfg.Now().UTC() }

// OnCommit queues a committed call for pushing. It never blocks: when the
// call's worker is backlogged the change is dropped and logged. Use it as
// pipeline.Ingester.OnCommit.
func (rt *Realtime) OnCommit(call *callbridge.Call) {
	if call == nil || call.UID == "" {
		return
	}
	select {
	case <-rt.done:
		return
	default:
	}
	cp := *call
	h := fnv.New32a()
	h.Write([]byte(cp.UID))
	q := rt.queues[int(h.Sum32()%uint32(len(rt.queues)))]
	select {
	case q <- &cp:
	default:
		rt.log.Warn("realtime: queue full, call change not pushed", slog.Int64("account_id", cp.AccountID), slog.Int64("call_id", cp.ID))
	}
}

// Connected returns how many widget connections the user of the account
// (our account id) holds.
func (rt *Realtime) Connected(accountID, userID int64) int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.conns[accountID][userID])
}

// issueTicket returns a new single-use ticket for the user of the account.
func (rt *Realtime) issueTicket(accountID, userID int64) (string, time.Time, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	t := base64.RawURLEncoding.EncodeToString(b[:])
	now := rt.now()
	exp := now.Add(rt.cfg.TicketTTL)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.tickets) >= maxTickets {
		for k, v := range rt.tickets {
			if !now.Before(v.expires) {
				delete(rt.tickets, k)
			}
		}
		if len(rt.tickets) >= maxTickets {
			return "", time.Time{}, &callbridge.Error{Code: callbridge.ERATELIMIT, Kind: callbridge.KindTransient, RetryAfter: rt.cfg.TicketTTL,
				Message: "Too many realtime connections are being opened; try again shortly."}
		}
	}
	rt.tickets[t] = rtTicket{accountID: accountID, userID: userID, expires: exp}
	return t, exp, nil
}

// redeem consumes a ticket. A ticket works once, before it expires.
func (rt *Realtime) redeem(t string) (accountID, userID int64, ok bool) {
	if t == "" || len(t) > 100 {
		return 0, 0, false
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	tk, found := rt.tickets[t]
	if !found {
		return 0, 0, false
	}
	delete(rt.tickets, t)
	if !rt.now().Before(tk.expires) {
		return 0, 0, false
	}
	return tk.accountID, tk.userID, true
}

// serve runs one widget connection until it ends.
func (rt *Realtime) serve(ws *wsConn, accountID, userID int64) {
	c := &rtConn{ws: ws, accountID: accountID, userID: userID, out: make(chan []byte, connQueue), done: make(chan struct{})}
	hello, _ := json.Marshal(map[string]any{"type": "hello", "user_id": userID, "sent_at": rt.now()})
	c.out <- hello
	var evicted *rtConn
	rt.mu.Lock()
	select {
	case <-rt.done:
		rt.mu.Unlock()
		c.stop(closeGoingAway, "server shutting down")
		return
	default:
	}
	users := rt.conns[accountID]
	if users == nil {
		users = map[int64][]*rtConn{}
		rt.conns[accountID] = users
	}
	users[userID] = append(users[userID], c)
	if len(users[userID]) > rt.cfg.MaxConnsPerUser {
		evicted = users[userID][0]
		users[userID] = users[userID][1:]
	}
	rt.mu.Unlock()
	if evicted != nil {
		evicted.stop(closePolicy, "too many connections")
	}

	go rt.writeLoop(c)
	ws.readLoop(rt.cfg.PingInterval*5/2, func() {})
	c.stop(closeNormal, "")
	rt.mu.Lock()
	if users := rt.conns[accountID]; users != nil {
		users[userID] = slices.DeleteFunc(users[userID], func(x *rtConn) bool { return x == c })
		if len(users[userID]) == 0 {
			delete(users, userID)
		}
		if len(users) == 0 {
			delete(rt.conns, accountID)
		}
	}
	rt.mu.Unlock()
}

// writeLoop sends queued messages and pings until the connection stops.
func (rt *Realtime) writeLoop(c *rtConn) {
	ping := time.NewTicker(rt.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case msg := <-c.out:
			if err := c.ws.write(opText, msg); err != nil {
				c.stop(closeGoingAway, "")
				return
			}
		case <-ping.C:
			if err := c.ws.write(opPing, nil); err != nil {
				c.stop(closeGoingAway, "")
				return
			}
		}
	}
}

// connectedUsers returns the users of the account with at least one
// connection.
func (rt *Realtime) connectedUsers(accountID int64) []int64 {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var out []int64
	for u, cs := range rt.conns[accountID] {
		if len(cs) > 0 {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

// deliver queues msg on every connection of the user of the account and
// reports whether there was one. A connection whose queue is full is closed.
func (rt *Realtime) deliver(accountID, userID int64, msg []byte) bool {
	rt.mu.Lock()
	cs := slices.Clone(rt.conns[accountID][userID])
	rt.mu.Unlock()
	delivered := false
	for _, c := range cs {
		select {
		case c.out <- msg:
			delivered = true
		case <-c.done:
		default:
			c.stop(closePolicy, "too slow")
		}
	}
	return delivered
}

// rtCallState is what the channel pushed for one call.
type rtCallState struct {
	phases   map[string]bool
	notified map[int64]bool
	caller   *RealtimeCaller
	fellBack bool
	seen     time.Time
}

func (rt *Realtime) work(q chan *callbridge.Call) {
	defer rt.wg.Done()
	state := map[string]*rtCallState{}
	n := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-rt.done
		cancel()
	}()
	for {
		select {
		case <-rt.done:
			return
		case call := <-q:
			rt.process(ctx, state, call)
			if n++; n%256 == 0 {
				cutoff := rt.now().Add(-callStateTTL)
				for k, st := range state {
					if st.seen.Before(cutoff) {
						delete(state, k)
					}
				}
			}
		}
	}
}

// callPhase is the phase a call is in, "" for one there is nothing to say
// about yet.
func callPhase(c *callbridge.Call) string {
	switch {
	case c.Ended:
		return PhaseEnded
	case c.Status == callbridge.StatusAnswered || c.Status == callbridge.StatusCompleted:
		return PhaseAnswered
	case c.Status == callbridge.StatusRinging:
		return PhaseRinging
	}
	return ""
}

// process pushes what changed about one call.
func (rt *Realtime) process(ctx context.Context, state map[string]*rtCallState, call *callbridge.Call) {
	phase := callPhase(call)
	if phase == "" {
		return
	}
	st := state[call.UID]
	if st == nil {
		st = &rtCallState{phases: map[string]bool{}, notified: map[int64]bool{}}
		state[call.UID] = st
	}
	st.seen = rt.now()
	if phase != PhaseRinging && st.phases[phase] {
		return
	}
	if phase == PhaseRinging && (st.phases[PhaseAnswered] || st.phases[PhaseEnded]) {
		return // a late ringing
	}
	acct, err := rt.cfg.Accounts.FindAccount(ctx, call.AccountID)
	if err != nil {
		rt.log.Warn("realtime: account not readable", slog.Int64("account_id", call.AccountID), slog.String("error", err.Error()))
		return
	}
	if !acct.Active() || acct.ID != call.AccountID {
		return
	}
	user := acct.Settings.UserForAgent(call.Agent)

	var targets []int64
	switch phase {
	case PhaseRinging:
		if user != 0 {
			targets = []int64{user}
		} else {
			targets = rt.connectedUsers(acct.ID)
		}
		targets = slices.DeleteFunc(targets, func(u int64) bool { return st.notified[u] })
		// Kommo's own notification (POST /api/v2/events) stands in for a
		// closed widget only for a manager we can name: notifying every user
		// of the account about every call would be noise, and each one costs
		// a request from the account's 7 per second.
		wantFallback := call.Direction == callbridge.DirectionInbound && !st.fellBack && rt.cfg.Kommo != nil &&
			callbridge.IsPhoneNumber(call.CustomerNumber) && user != 0
		reached := len(st.notified) > 0
		if user != 0 {
			reached = st.notified[user]
		}
		wantFallback = wantFallback && !reached
		if len(targets) == 0 && !wantFallback {
			st.phases[phase] = true
			return
		}
		if st.caller == nil {
			st.caller = rt.lookupCaller(ctx, acct, call)
		}
		delivered := false
		for _, u := range targets {
			if rt.deliver(acct.ID, u, rt.message(acct, call, phase, user, u, st.caller)) {
				st.notified[u] = true
				delivered = delivered || u == user || user == 0
			}
		}
		if wantFallback && !delivered {
			var users []int64
			if user != 0 {
				users = []int64{user}
			}
			st.fellBack = true
			rt.fallback(acct, call.CustomerNumber, users)
		}
	default:
		set := map[int64]bool{}
		if user != 0 {
			set[user] = true
		} else {
			for _, u := range rt.connectedUsers(acct.ID) {
				set[u] = true
			}
		}
		for u := range st.notified {
			set[u] = true
		}
		if st.caller == nil && len(set) > 0 {
			st.caller = rt.lookupCaller(ctx, acct, call)
		}
		for u := range set {
			rt.deliver(acct.ID, u, rt.message(acct, call, phase, user, u, st.caller))
		}
	}
	st.phases[phase] = true
}

// fallback sends Kommo's own call notification in the background (at most
// maxFallbacks at a time; beyond that it is skipped and logged).
func (rt *Realtime) fallback(acct *callbridge.Account, phone string, users []int64) {
	select {
	case rt.fallbacks <- struct{}{}:
	default:
		rt.log.Warn("realtime: too many fallback notifications in flight; skipped", slog.Int64("account_id", acct.ID))
		return
	}
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		defer func() { <-rt.fallbacks }()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := rt.cfg.Kommo.NotifyCall(ctx, acct, phone, users); err != nil {
			rt.log.Warn("realtime: Kommo call notification failed", slog.Int64("account_id", acct.ID), slog.String("error", err.Error()))
		}
	}()
}

// RealtimeCaller is who is on the other end of a pushed call, as far as
// Kommo knows. Links are relative to the Kommo account's address.
type RealtimeCaller struct {
	Number     string `json:"number"`
	Name       string `json:"name,omitempty"`
	EntityType string `json:"entity_type,omitempty"` // "contacts", or the entity the call was logged on
	EntityID   int64  `json:"entity_id,omitempty"`
	Link       string `json:"link,omitempty"`        // e.g. "/contacts/detail/42"
	CreateLink string `json:"create_link,omitempty"` // for an unknown number: "/contacts/add/?phone=…"
	// Responsible is the Kommo user responsible for the contact, 0 if unknown.
	Responsible int64 `json:"responsible_user_id,omitempty"`
	// Unknown is true when Kommo has no contact with the number; false when
	// it has one or could not be asked in time.
	Unknown bool `json:"unknown,omitempty"`
}

// entityLink is the Kommo web address of an entity.
func entityLink(entityType string, id int64) string {
	if id <= 0 {
		return ""
	}
	switch entityType {
	case "leads":
		return "/leads/detail/" + strconv.FormatInt(id, 10)
	case "contacts":
		return "/contacts/detail/" + strconv.FormatInt(id, 10)
	case "companies":
		return "/companies/detail/" + strconv.FormatInt(id, 10)
	case "customers":
		return "/customers/detail/" + strconv.FormatInt(id, 10)
	}
	return ""
}

// lookupCaller finds the caller in Kommo within CallerIDTimeout.
func (rt *Realtime) lookupCaller(ctx context.Context, acct *callbridge.Account, call *callbridge.Call) *RealtimeCaller {
	c := &RealtimeCaller{Number: call.CustomerNumber}
	if call.Kommo.EntityID != 0 {
		c.EntityType, c.EntityID = call.Kommo.EntityType, call.Kommo.EntityID
		c.Link = entityLink(c.EntityType, c.EntityID)
	}
	if rt.cfg.Kommo == nil || !callbridge.IsPhoneNumber(call.CustomerNumber) {
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, rt.cfg.CallerIDTimeout)
	defer cancel()
	contacts, err := rt.cfg.Kommo.SearchContacts(ctx, acct, call.CustomerNumber)
	if err != nil {
		rt.log.Info("realtime: caller lookup failed", slog.Int64("account_id", acct.ID), slog.String("error", err.Error()))
		return c
	}
	if len(contacts) == 0 {
		if c.EntityID == 0 {
			c.Unknown = true
			c.CreateLink = "/contacts/add/?phone=" + url.QueryEscape(call.CustomerNumber)
		}
		return c
	}
	// Kommo's own choice prefers the oldest contact; ids grow with time.
	best := contacts[0]
	for _, ct := range contacts[1:] {
		if ct.ID < best.ID {
			best = ct
		}
	}
	c.Name, c.Responsible = best.Name, best.ResponsibleUserID
	if c.EntityID == 0 {
		c.EntityType, c.EntityID, c.Link = "contacts", best.ID, entityLink("contacts", best.ID)
	}
	return c
}

// RealtimeCall is the public view of a call in a realtime message.
type RealtimeCall struct {
	UID            string               `json:"uid"`
	ConnectionID   int64                `json:"connection_id"`
	ProviderCallID string               `json:"provider_call_id"`
	Direction      callbridge.Direction `json:"direction"`
	Status         callbridge.Status    `json:"status"`
	Ended          bool                 `json:"ended"`
	CustomerNumber string               `json:"customer_number"`
	LineNumber     string               `json:"line_number"`
	Duration       int                  `json:"duration"` // seconds
	StartedAt      *time.Time           `json:"started_at,omitempty"`
	AnsweredAt     *time.Time           `json:"answered_at,omitempty"`
	EndedAt        *time.Time           `json:"ended_at,omitempty"`
	HasResult      bool                 `json:"has_result"`
}

// RealtimeMessage is one call message of the realtime channel.
type RealtimeMessage struct {
	Type   string          `json:"type"` // "call"
	Phase  string          `json:"phase"`
	UserID int64           `json:"user_id"` // the user the call is for; 0 = not mapped
	Call   RealtimeCall    `json:"call"`
	Caller *RealtimeCaller `json:"caller,omitempty"`
	Prefs  EffectivePrefs  `json:"prefs"` // the receiving user's preferences
	SentAt time.Time       `json:"sent_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// message builds the JSON of a call message for one receiving user.
func (rt *Realtime) message(acct *callbridge.Account, call *callbridge.Call, phase string, forUser, toUser int64, caller *RealtimeCaller) []byte {
	m := RealtimeMessage{
		Type: "call", Phase: phase, UserID: forUser,
		Call: RealtimeCall{
			UID: call.UID, ConnectionID: call.ConnectionID, ProviderCallID: call.ProviderCallID,
			Direction: call.Direction, Status: call.Status, Ended: call.Ended,
			CustomerNumber: call.CustomerNumber, LineNumber: call.LineNumber, Duration: call.Duration,
			StartedAt: optTime(call.StartedAt), AnsweredAt: optTime(call.AnsweredAt), EndedAt: optTime(call.EndedAt),
			HasResult: call.Result != nil,
		},
		Caller: caller,
		Prefs:  Prefs(acct.Settings, toUser),
		SentAt: rt.now(),
	}
	b, _ := json.Marshal(m)
	return b
}

// handleRealtimeTicket is POST /api/widget/realtime/ticket: a single-use
// ticket, valid for Realtime's TicketTTL, to open the realtime WebSocket as
// the token's user.
func (s *Server) handleRealtimeTicket(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	if s.Realtime == nil {
		Error(w, r, callbridge.Errorf(callbridge.EUNAVAILABLE, "The realtime channel is not enabled on this server."))
		return
	}
	t, exp, err := s.Realtime.issueTicket(a.Account.ID, a.UserID)
	if err != nil {
		Error(w, r, err)
		return
	}
	base := s.baseURL()
	switch {
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{
		"ticket":     t,
		"expires_at": exp,
		"url":        base + "/api/widget/realtime?ticket=" + url.QueryEscape(t),
	})
}

// handleRealtime is GET /api/widget/realtime?ticket=…: the WebSocket. The
// ticket is consumed whether or not the handshake succeeds. Browsers'
// Origin must pass the widget API's CORS policy.
func (s *Server) handleRealtime(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.Realtime == nil {
		Error(w, r, callbridge.Errorf(callbridge.EUNAVAILABLE, "The realtime channel is not enabled on this server."))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !s.originAllowed(origin) {
		Error(w, r, callbridge.Errorf(callbridge.EFORBIDDEN, "Origin not allowed."))
		return
	}
	accountID, userID, ok := s.Realtime.redeem(r.URL.Query().Get("ticket"))
	if !ok {
		Error(w, r, callbridge.Errorf(callbridge.EUNAUTHORIZED, "Invalid or expired realtime ticket."))
		return
	}
	setAccount(r, accountID)
	key, err := checkUpgrade(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	acct, err := s.Store.FindAccount(r.Context(), accountID)
	if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	if !acct.Active() {
		Error(w, r, callbridge.Errorf(callbridge.EGONE, "This integration was disconnected from Kommo."))
		return
	}
	ws, err := upgrade(w, key)
	if err != nil {
		recordError(r, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "WebSocket upgrade failed.", Err: err})
		return
	}
	s.Realtime.serve(ws, accountID, userID)
}
