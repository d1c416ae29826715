package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	mathrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Notifier defaults and limits.
const (
	// DefaultNotifyMinBackoff and DefaultNotifyMaxBackoff bound the wait
	// before each attempt to listen again after the connection dropped; the
	// wait doubles from the first to the second, with jitter.
	DefaultNotifyMinBackoff = 250 * time.Millisecond
	DefaultNotifyMaxBackoff = 30 * time.Second
	// DefaultNotifyPing is how long the listening connection may stay
	// silent before the Notifier checks that it is still alive (a dropped
	// network path delivers no error by itself).
	DefaultNotifyPing = 30 * time.Second
	// notifyChannelPrefix starts the channel name, followed by the schema.
	notifyChannelPrefix = "callbridge_realtime_"
	// notifyQueryTimeout bounds LISTEN, a ping and one NOTIFY statement.
	notifyQueryTimeout = 10 * time.Second
)

// NotifierOptions configure NewNotifier. The zero value is valid.
type NotifierOptions struct {
	// Logger receives connection losses and reconnections (default
	// slog.Default()).
	Logger *slog.Logger
	// MinBackoff (default DefaultNotifyMinBackoff) and MaxBackoff (default
	// DefaultNotifyMaxBackoff) bound the waits between reconnection
	// attempts.
	MinBackoff, MaxBackoff time.Duration
	// Ping (default DefaultNotifyPing) is the silence after which the
	// listening connection is checked.
	Ping time.Duration
}

// Notifier carries the widget's realtime messages between the replicas of
// one database: it implements http.RealtimeBus with PostgreSQL's
// LISTEN/NOTIFY. A message is a committed call's account id and call id,
// nothing else (never a phone number or a name): receivers load the call.
//
// The channel is named after the database's schema (Options.Schema, or the
// search_path's current schema), so replicas of different schemas on one
// server — test schemas included — never hear each other. Each Notifier
// listens on a dedicated connection taken from the pool (and out of it:
// the pool's size is not reduced); when that connection drops, or stays
// silent past Ping and then fails a check, it reconnects with exponential
// backoff and jitter. Messages published while it is reconnecting are lost
// to it (see Listening). Publish goes through the pool.
//
// Messages of one publisher reach each listener in the order it published
// them (NOTIFY delivers in commit order). A Notifier does not deliver its
// own messages to its subscribers. It is safe for concurrent use; Close it
// before the DB.
type Notifier struct {
	db      *DB
	channel string
	id      string // random; marks this Notifier's own messages
	log     *slog.Logger
	opts    NotifierOptions

	mu   sync.Mutex
	subs []func(accountID, callID int64)

	// Publishes waiting for the next NOTIFY statement, and whether a
	// goroutine is sending them.
	pubMu      sync.Mutex
	pubQueue   []*publication
	publishing bool

	listening atomic.Bool
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// NewNotifier starts listening on db's realtime channel. It returns once the
// first LISTEN succeeded (an error when it did not, ctx ending first
// included); later losses of the connection are repaired in the background
// until Close.
func NewNotifier(ctx context.Context, db *DB, opts NotifierOptions) (*Notifier, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultNotifyMinBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(DefaultNotifyMaxBackoff, opts.MinBackoff)
	}
	if opts.Ping <= 0 {
		opts.Ping = DefaultNotifyPing
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	n := &Notifier{db: db, id: hex.EncodeToString(id[:]), log: opts.Logger, opts: opts, done: make(chan struct{})}

	schema := db.schema
	if schema == "" {
		if err := db.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return nil, fmt.Errorf("postgres: notifier: %w", err)
		}
	}
	n.channel = notifyChannel(schema)
	conn, err := n.listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: notifier: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.listening.Store(true)
	go n.run(runCtx, conn)
	return n, nil
}

// notifyChannel is the channel of a schema: the prefix and the schema, or
// the prefix and a hash of the schema when that would exceed PostgreSQL's
// 63-byte identifiers.
func notifyChannel(schema string) string {
	c := notifyChannelPrefix + schema
	if len(c) <= 63 {
		return c
	}
	h := fnv.New64a()
	h.Write([]byte(schema))
	return notifyChannelPrefix + strconv.FormatUint(h.Sum64(), 16)
}

// Channel returns the name of the channel the Notifier uses.
func (n *Notifier) Channel() string { return n.channel }

// Listening reports whether the Notifier is listening now (false while it
// reconnects, and after Close). http.Realtime withdraws its users' presence
// while it is false, since they would miss other replicas' calls.
func (n *Notifier) Listening() bool { return n.listening.Load() }

// publication is one Publish waiting for its NOTIFY.
type publication struct {
	payload string
	done    chan error // buffered: the sender never waits for the caller
}

// Publish sends the call's ids to every other Notifier of the schema. It
// implements http.RealtimeBus. Publishes that arrive while another is being
// sent share the next statement (one pg_notify per message, in the order
// published), so a busy replica does not spend a statement per call.
func (n *Notifier) Publish(ctx context.Context, accountID, callID int64) error {
	p := &publication{
		payload: n.id + ":" + strconv.FormatInt(accountID, 10) + ":" + strconv.FormatInt(callID, 10),
		done:    make(chan error, 1),
	}
	n.pubMu.Lock()
	n.pubQueue = append(n.pubQueue, p)
	if !n.publishing {
		n.publishing = true
		go n.sendPublications()
	}
	n.pubMu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("postgres: notify: %w", ctx.Err())
	}
}

// sendPublications sends queued publications, all those waiting in one
// statement, until none is left.
func (n *Notifier) sendPublications() {
	for {
		n.pubMu.Lock()
		batch := n.pubQueue
		n.pubQueue = nil
		if len(batch) == 0 {
			n.publishing = false
			n.pubMu.Unlock()
			return
		}
		n.pubMu.Unlock()
		payloads := make([]string, len(batch))
		for i, p := range batch {
			payloads[i] = p.payload
		}
		ctx, cancel := context.WithTimeout(context.Background(), notifyQueryTimeout)
		_, err := n.db.pool.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS m(p, i) ORDER BY i`, n.channel, payloads)
		cancel()
		if err != nil {
			err = fmt.Errorf("postgres: notify: %w", err)
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// Subscribe registers fn for the calls other Notifiers publish. It
// implements http.RealtimeBus. fn runs on the listening goroutine and must
// not block.
func (n *Notifier) Subscribe(fn func(accountID, callID int64)) {
	n.mu.Lock()
	n.subs = append(n.subs, fn)
	n.mu.Unlock()
}

// Close stops listening and closes the dedicated connection. It is safe to
// call more than once.
func (n *Notifier) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		<-n.done
	})
	return nil
}

// listen takes a connection out of the pool and listens on the channel.
func (n *Notifier) listen(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, notifyQueryTimeout)
	defer cancel()
	pc, err := n.db.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := pc.Hijack()
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{n.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// run receives notifications until ctx ends, reconnecting as needed.
func (n *Notifier) run(ctx context.Context, conn *pgx.Conn) {
	defer close(n.done)
	for {
		err := n.receive(ctx, conn)
		n.listening.Store(false)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("postgres: realtime notifications lost; reconnecting", "channel", n.channel, "err", err)
		conn = n.reconnect(ctx)
		if conn == nil {
			return
		}
		n.listening.Store(true)
		n.log.Info("postgres: realtime notifications restored", "channel", n.channel)
	}
}

// receive dispatches notifications from conn until it fails or ctx ends.
func (n *Notifier) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, n.opts.Ping)
		msg, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			n.dispatch(msg)
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
			// Silence: check that the connection still answers.
			pctx, cancel := context.WithTimeout(ctx, notifyQueryTimeout)
			_, err := conn.Exec(pctx, `SELECT 1`)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		default:
			return err
		}
	}
}

// reconnect listens again, waiting between attempts, until it succeeds
// (returning the connection) or ctx ends (nil).
func (n *Notifier) reconnect(ctx context.Context) *pgx.Conn {
	wait := n.opts.MinBackoff
	for {
		// Equal jitter (half fixed, half random): replicas that lost the database
		// together do not come back in step.
		d := wait/2 + mathrand.N(wait/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := n.listen(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		n.log.Debug("postgres: realtime listen failed", "channel", n.channel, "err", err, "retry_in", wait)
		wait = min(wait*2, n.opts.MaxBackoff)
	}
}

// dispatch parses one notification ("<notifier id>:<account id>:<call id>")
// and hands it to the subscribers, unless it is this Notifier's own.
func (n *Notifier) dispatch(msg *pgconn.Notification) {
	if msg.Channel != n.channel {
		return
	}
	from, rest, ok := strings.Cut(msg.Payload, ":")
	if !ok || from == n.id {
		return
	}
	a, c, ok := strings.Cut(rest, ":")
	if !ok {
		return
	}
	accountID, err1 := strconv.ParseInt(a, 10, 64)
	callID, err2 := strconv.ParseInt(c, 10, 64)
	if err1 != nil || err2 != nil || accountID <= 0 || callID <= 0 {
		n.log.Debug("postgres: malformed realtime notification ignored", "channel", n.channel)
		return
	}
	n.mu.Lock()
	subs := n.subs
	n.mu.Unlock()
	for _, fn := range subs {
		fn(accountID, callID)
	}
}
