package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
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
// Several replicas. Behind a load balancer the ticket request, the
// WebSocket and the provider's webhooks may each reach a different replica
// of one database. Four parts make the channel work there:
//
//   - Tickets are signed, not stored (realtime_ticket.go): any replica with
//     the same TicketKey redeems a ticket another one issued. With a
//     RealtimeStore a ticket's nonce is claimed in the database when it is
//     redeemed, so a ticket opens one connection in the whole cluster.
//   - Fan-out: the replica whose ingest committed a change pushes it to its
//     own connections from the committed call, and publishes (account id,
//     call id) on the RealtimeBus (postgres.Notifier: LISTEN/NOTIFY). Every
//     other replica that holds a connection of that account loads the call
//     through its RealtimeStore and pushes it to its connections. Each
//     replica handles one call on one worker, so the call's phases go out
//     in order (ringing, answered, ended; never an earlier phase after a
//     later one), and it remembers what it pushed, so that each phase
//     reaches each user's connection once. A replica that loads a call
//     later than it changed pushes the phase the call is in by then: a call
//     that rang and ended within that moment shows its end only.
//   - Presence (realtime_presence.go): each replica records in the database
//     which users hold a connection on it, refreshed every
//     PresenceInterval and expiring after PresenceTTL, so that the records
//     of a replica that died go away by themselves. A connection is greeted
//     (hello) only after its record is written.
//   - The fallback is decided once, by the replica that ingested the
//     change: when the mapped manager has no connection on it and no
//     unexpired presence record anywhere, and it wins the call's claim in
//     the database (ClaimRealtime "fallback:<call id>"), so that a call
//     whose webhooks reach several replicas is notified once. The replica
//     decides before it publishes the call, so the decision reflects who
//     was connected when the call rang. A presence record in the database
//     was chosen over asking the other replicas through the bus: the bus
//     delivers at most once and has no replies, a replica that cannot hear
//     it (reconnecting) would count as "nobody connected" or stall the
//     decision, and a table gives every replica the same answer at the cost
//     of one indexed read per unanswered incoming call. A replica whose bus
//     is not listening withdraws its users' presence (they would not get
//     the popup), so that the fallback covers them.
//
// Without a Bus and a Store (one process, SQLite) the same code runs with
// an in-process LocalBus that has nobody to reach, used nonces in memory
// and presence read from the process's own connections. Each replica that
// holds connections of an account looks the caller up in Kommo itself (the
// Kommo client caches look-ups per process; the shared limiter paces them).
//
// Tenancy: a ticket names one account and one user, taken from a verified
// widget token and bound by the ticket's MAC; a connection receives only the
// calls of that account (a published call is loaded by account and id), and
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
	// connQueue is how many messages may wait for a slow connection before
	// it is closed.
	connQueue = 64
	// callStateTTL is how long the channel remembers what it pushed for a
	// call, and how long a call's fallback claim lasts.
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

// phaseRank orders the phases; a phase is never pushed after a later one.
func phaseRank(phase string) int {
	switch phase {
	case PhaseRinging:
		return 1
	case PhaseAnswered:
		return 2
	case PhaseEnded:
		return 3
	}
	return 0
}

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
	// TicketKey signs realtime tickets (HMAC-SHA256), at least MinTicketKey
	// bytes. Replicas must share it: a ticket issued by one is redeemed by
	// another. Empty: a random key of this process (one replica only).
	TicketKey []byte
	// Bus carries committed calls to the other replicas (e.g.
	// postgres.Notifier); nil is a LocalBus of its own, which reaches no
	// other process. A Bus requires a Store. Close closes the Bus when it
	// has a Close method.
	Bus RealtimeBus
	// Store holds what replicas share: redeemed tickets, presence records,
	// fallback claims, and the calls other replicas publish. Nil: all of it
	// lives in this process (one replica).
	Store RealtimeStore
	// PresenceInterval is how often this replica refreshes its users'
	// presence records (default DefaultPresenceInterval); PresenceTTL is how
	// long a record lasts without a refresh (default 3 intervals), i.e. how
	// long the users of a replica that died still count as connected. The
	// TTL must exceed the interval plus the replicas' clock skew.
	PresenceInterval time.Duration
	PresenceTTL      time.Duration
	// TicketTTL (default DefaultTicketTTL), CallerIDTimeout (default
	// DefaultCallerIDTimeout), PingInterval (default DefaultPingInterval),
	// MaxConnsPerUser (default DefaultMaxConnsPerUser).
	TicketTTL       time.Duration
	CallerIDTimeout time.Duration
	PingInterval    time.Duration
	MaxConnsPerUser int
	// Workers process committed and published calls, each call always on
	// the same worker so that its phases stay in order (default 4).
	// QueueSize is each worker's backlog (default 1024); a call arriving
	// when it is full is not pushed (and logged).
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
	bus       RealtimeBus
	ticketKey []byte
	presence  *rtPresence // nil without a store
	queues    []chan rtItem
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	fallbacks chan struct{}

	accounts    ttlCache[int64, *callbridge.Account]
	mu          sync.Mutex
	usedTickets map[string]time.Time          // nonce → ticket expiry; without a store
	conns       map[int64]map[int64][]*rtConn // account → user → connections, oldest first
}

// rtItem is a call for a worker: one this replica committed (call set) or
// one another replica published (ids only).
type rtItem struct {
	call              *callbridge.Call
	accountID, callID int64
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

// NewRealtime returns a running channel. It panics when cfg.Accounts is nil,
// when cfg.Bus is set without cfg.Store, and when cfg.TicketKey is set but
// shorter than MinTicketKey.
func NewRealtime(cfg RealtimeConfig) *Realtime {
	if cfg.Accounts == nil {
		panic("http: RealtimeConfig.Accounts is required")
	}
	if cfg.Bus != nil && cfg.Store == nil {
		panic("http: RealtimeConfig.Bus requires a Store")
	}
	if len(cfg.TicketKey) > 0 && len(cfg.TicketKey) < MinTicketKey {
		panic("http: RealtimeConfig.TicketKey is too short")
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
	if cfg.PresenceInterval <= 0 {
		cfg.PresenceInterval = DefaultPresenceInterval
	}
	if cfg.PresenceTTL <= 0 {
		cfg.PresenceTTL = 3 * cfg.PresenceInterval
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
		cfg:         cfg,
		log:         cfg.Logger,
		bus:         cfg.Bus,
		ticketKey:   cfg.TicketKey,
		done:        make(chan struct{}),
		fallbacks:   make(chan struct{}, maxFallbacks),
		usedTickets: map[string]time.Time{},
		conns:       map[int64]map[int64][]*rtConn{},
	}
	if rt.log == nil {
		rt.log = slog.Default()
	}
	if rt.bus == nil {
		rt.bus = NewLocalBus()
	}
	if len(rt.ticketKey) == 0 {
		rt.ticketKey = make([]byte, 32)
		_, _ = rand.Read(rt.ticketKey)
	}
	for range cfg.Workers {
		q := make(chan rtItem, cfg.QueueSize)
		rt.queues = append(rt.queues, q)
		rt.wg.Add(1)
		go rt.work(q)
	}
	if cfg.Store != nil {
		var id [8]byte
		_, _ = rand.Read(id[:])
		rt.presence = &rtPresence{replica: hex.EncodeToString(id[:]), wake: make(chan struct{}, 1),
			flushedCh: make(chan struct{}), written: map[rtUser]bool{}}
		rt.wg.Add(1)
		go rt.presenceLoop()
	}
	rt.bus.Subscribe(rt.onPublished)
	return rt
}

// Close stops the workers and closes every connection (close code 1001). It
// waits for the workers and for fallback notifications in flight, removes
// this replica's presence records, and closes the Bus when it has a Close
// method.
func (rt *Realtime) Close() error {
	var err error
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
		rt.wg.Wait()
		rt.dropPresence()
		if c, ok := rt.bus.(io.Closer); ok {
			err = c.Close()
		}
	})
	rt.wg.Wait()
	return err
}

func (rt *Realtime) now() time.Time { return rt.cfg.Now().UTC() }

// OnCommit queues a committed call for pushing. It never blocks: when the
// call's worker is backlogged the change is dropped and logged. Use it as
// pipeline.Ingester.OnCommit.
func (rt *Realtime) OnCommit(call *callbridge.Call) {
	if call == nil || call.ID == 0 || callPhase(call) == "" {
		return
	}
	cp := *call
	rt.enqueue(rtItem{call: &cp, accountID: cp.AccountID, callID: cp.ID})
}

// onPublished queues a call another replica published.
func (rt *Realtime) onPublished(accountID, callID int64) {
	if accountID <= 0 || callID <= 0 {
		return
	}
	rt.enqueue(rtItem{accountID: accountID, callID: callID})
}

// enqueue hands it to the call's worker without blocking.
func (rt *Realtime) enqueue(it rtItem) {
	select {
	case <-rt.done:
		return
	default:
	}
	q := rt.queues[uint64(it.callID)%uint64(len(rt.queues))]
	select {
	case q <- it:
	default:
		rt.log.Warn("realtime: queue full, call change not pushed", slog.Int64("account_id", it.accountID), slog.Int64("call_id", it.callID))
	}
}

// Connected returns how many widget connections the user of the account
// (our account id) holds on this replica.
func (rt *Realtime) Connected(accountID, userID int64) int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.conns[accountID][userID])
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
	// Greet the widget once every replica can see it is connected.
	rt.awaitPresence()

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
	rt.presenceChanged()
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
// connection on this replica.
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

// hasConns reports whether any user of the account is connected to this
// replica.
func (rt *Realtime) hasConns(accountID int64) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.conns[accountID]) > 0
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

// rtCallState is what this replica pushed and published for one call.
type rtCallState struct {
	phases    map[string]bool
	top       int // rank of the latest phase pushed
	published map[string]bool
	notified  map[int64]bool
	caller    *RealtimeCaller
	fellBack  bool // the fallback was decided here
	seen      time.Time
}

func (rt *Realtime) work(q chan rtItem) {
	defer rt.wg.Done()
	state := map[int64]*rtCallState{}
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
		case it := <-q:
			rt.handle(ctx, state, it)
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

// handle decides the fallback of, publishes and pushes a call this replica
// committed, or loads and pushes one another replica published when this
// replica holds a connection of its account.
func (rt *Realtime) handle(ctx context.Context, state map[int64]*rtCallState, it rtItem) {
	call, origin := it.call, it.call != nil
	if !origin {
		if !rt.hasConns(it.accountID) {
			return
		}
		lctx, cancel := context.WithTimeout(ctx, storeTimeout)
		c, err := rt.cfg.Store.FindCall(lctx, it.accountID, it.callID)
		cancel()
		if err != nil {
			if callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
				rt.log.Warn("realtime: published call not readable", slog.Int64("account_id", it.accountID),
					slog.Int64("call_id", it.callID), slog.String("error", err.Error()))
			}
			return
		}
		if c.AccountID != it.accountID || c.ID != it.callID {
			return
		}
		call = c
	}
	phase := callPhase(call)
	if phase == "" {
		return
	}
	acct, err := rt.account(ctx, call.AccountID)
	if err != nil {
		rt.log.Warn("realtime: account not readable", slog.Int64("account_id", call.AccountID), slog.String("error", err.Error()))
		return
	}
	if !acct.Active() || acct.ID != call.AccountID {
		return
	}
	st := state[call.ID]
	if st == nil {
		st = &rtCallState{phases: map[string]bool{}, published: map[string]bool{}, notified: map[int64]bool{}}
		state[call.ID] = st
	}
	st.seen = rt.now()
	user := acct.Settings.UserForAgent(call.Agent)
	if origin {
		// Decide before telling the others: once any widget shows the
		// call, its fallback is settled.
		if phase == PhaseRinging && phaseRank(phase) >= st.top && !st.fellBack && !st.notified[user] &&
			call.Direction == callbridge.DirectionInbound && rt.cfg.Kommo != nil &&
			callbridge.IsPhoneNumber(call.CustomerNumber) && user != 0 {
			// Kommo's own notification (POST /api/v2/events) stands in
			// for a closed widget only for a manager we can name:
			// notifying every user of the account about every call would
			// be noise, and each one costs a request from the account's 7
			// per second.
			st.fellBack = true
			rt.decideFallback(ctx, acct, call, user)
		}
		rt.publish(ctx, st, call, phase)
	}
	rt.process(ctx, st, acct, call, phase, user)
}

// account returns the account id, read at most cacheTTL ago: the calls of
// a busy account do not each read it again.
func (rt *Realtime) account(ctx context.Context, id int64) (*callbridge.Account, error) {
	now := rt.now()
	if acct, ok := rt.accounts.get(id, now); ok {
		return acct, nil
	}
	acct, err := rt.cfg.Accounts.FindAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	rt.accounts.put(id, acct, now)
	return acct, nil
}

// ForgetAccount makes the next push of the account's calls read the account
// again: this replica changed its settings or status. Other replicas see the
// change within cacheTTL. A nil Realtime does nothing.
func (rt *Realtime) ForgetAccount(id int64) {
	if rt == nil {
		return
	}
	rt.accounts.forget(id)
}

// publish tells the other replicas about a call this replica committed:
// every ringing change (the agent may have become known), the other phases
// once.
func (rt *Realtime) publish(ctx context.Context, st *rtCallState, call *callbridge.Call, phase string) {
	if phase != PhaseRinging && st.published[phase] {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := rt.bus.Publish(pctx, call.AccountID, call.ID); err != nil {
		rt.log.Warn("realtime: call not published to other replicas", slog.Int64("account_id", call.AccountID),
			slog.Int64("call_id", call.ID), slog.String("error", err.Error()))
		return
	}
	st.published[phase] = true
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

// process pushes what changed about one call of acct, in phase, for the
// mapped user (0: none), to this replica's connections.
func (rt *Realtime) process(ctx context.Context, st *rtCallState, acct *callbridge.Account, call *callbridge.Call, phase string, user int64) {
	if phaseRank(phase) < st.top {
		return // an earlier phase arriving late
	}
	if phase != PhaseRinging && st.phases[phase] {
		return
	}
	defer func() {
		st.phases[phase] = true
		st.top = max(st.top, phaseRank(phase))
	}()
	set := map[int64]bool{}
	if user != 0 {
		set[user] = true
	} else {
		for _, u := range rt.connectedUsers(acct.ID) {
			set[u] = true
		}
	}
	if phase == PhaseRinging {
		// Ringing again (the agent became known, a widget connected):
		// only users who have not seen it ring.
		for u := range st.notified {
			delete(set, u)
		}
	} else {
		// Users who saw the call ring hear how it went on.
		for u := range st.notified {
			set[u] = true
		}
	}
	targets := slices.Sorted(maps.Keys(set))
	if len(targets) == 0 {
		return
	}
	if st.caller == nil {
		st.caller = rt.lookupCaller(ctx, acct, call)
	}
	for _, u := range targets {
		if rt.deliver(acct.ID, u, rt.message(acct, call, phase, user, u, st.caller)) && phase == PhaseRinging {
			st.notified[u] = true
		}
	}
}

// decideFallback sends Kommo's call notification for a ringing call unless
// its manager is connected to this or (with a store) any replica, or
// another replica already decided for this call (with a store: the call's
// claim). A store that cannot be reached for the claim means no
// notification (it could be a duplicate); one that cannot tell whether the
// manager is connected after the claim was won means a notification
// (better twice than never).
func (rt *Realtime) decideFallback(ctx context.Context, acct *callbridge.Account, call *callbridge.Call, user int64) {
	if rt.Connected(acct.ID, user) > 0 {
		return
	}
	if rt.cfg.Store != nil {
		now := rt.now()
		cctx, cancel := context.WithTimeout(ctx, storeTimeout)
		won, err := rt.cfg.Store.ClaimRealtime(cctx, "fallback:"+strconv.FormatInt(call.ID, 10), now, now.Add(callStateTTL))
		cancel()
		if err != nil {
			rt.log.Warn("realtime: fallback not decided", slog.Int64("account_id", acct.ID), slog.Int64("call_id", call.ID),
				slog.String("error", err.Error()))
			return
		}
		if !won {
			return
		}
	}
	present, err := rt.presentAnywhere(ctx, acct.ID, user)
	if err != nil {
		rt.log.Warn("realtime: presence not readable; notifying through Kommo", slog.Int64("account_id", acct.ID),
			slog.String("error", err.Error()))
	} else if present {
		return
	}
	rt.fallback(acct, call.CustomerNumber, []int64{user})
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
	UID            string `json:"uid"`
	ConnectionID   int64  `json:"connection_id"`
	ProviderCallID string `json:"provider_call_id"`
	// PlacedID is the provider_call_id POST /api/widget/calls answered when
	// the provider's webhooks name the call otherwise (Plivo): the widget
	// finds its placed call by it. Omitted when empty.
	PlacedID       string               `json:"placed_id,omitempty"`
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
			UID: call.UID, ConnectionID: call.ConnectionID, ProviderCallID: call.ProviderCallID, PlacedID: call.PlacedID,
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
	accountID, userID, err := s.Realtime.redeem(r.Context(), r.URL.Query().Get("ticket"))
	if err != nil {
		Error(w, r, err)
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
