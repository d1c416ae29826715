// Package kommo is callbridge's client for the Kommo (amoCRM) API v4: OAuth
// install and single-flight token refresh, a rate limiter that keeps the
// egress IP under Kommo's 7 requests per second, batching of call and note
// writes and of note reads, and errors whose Kind drives the exactly-once
// protocol of the sync worker (permanent, transient or uncertain).
//
// Every API method takes the *callbridge.Account it acts for: the account's
// base URL, its stored OAuth pair and its share of the rate limit.
package kommo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"callbridge"
)

// Defaults and limits of Config.
const (
	DefaultBatchSize       = 50
	MaxBatchSize           = 250 // Kommo refuses larger arrays with 422
	DefaultBatchWait       = 200 * time.Millisecond
	DefaultRefreshBefore   = 5 * time.Minute
	DefaultLeaseTTL        = 30 * time.Second
	DefaultContactCacheTTL = 60 * time.Second
	DefaultConnectTimeout  = 5 * time.Second
	DefaultRequestTimeout  = 20 * time.Second
)

// TokenStore is the part of callbridge.Queries the client needs to read and
// rotate accounts' OAuth pairs. *store.DB satisfies it; the semantics of each
// method are those documented on callbridge.Queries.
type TokenStore interface {
	FindToken(ctx context.Context, accountID int64) (*callbridge.Token, error)
	SaveToken(ctx context.Context, t *callbridge.Token) error
	AcquireRefreshLease(ctx context.Context, accountID int64, owner string, now, until time.Time) (*callbridge.Token, bool, error)
	RotateToken(ctx context.Context, t *callbridge.Token, prevVersion int64) error
	ReleaseRefreshLease(ctx context.Context, accountID int64, owner string) error
}

// Config configures a Client. The zero value of every field selects its
// default.
type Config struct {
	// ClientID, ClientSecret and RedirectURI identify the integration in
	// OAuth requests. The secret is sent only to Kommo hosts (or BaseURL).
	ClientID, ClientSecret, RedirectURI string
	// BaseURL, when set, is the API origin for every account (the emulator);
	// otherwise an account's Account.BaseURL is used, which must then be
	// https://{subdomain}.kommo.com (or amocrm.com, amocrm.ru).
	BaseURL string
	// HTTPClient sends the requests. Default: 5 s connect timeout, 20 s
	// overall timeout per request, redirects not followed.
	HTTPClient *http.Client
	// Limiter paces requests. Default NewLimiter(6, 1): never more than 7
	// requests in any one-second window from this process.
	Limiter Limiter
	// BatchSize is the most items sent in one POST /api/v4/calls or PATCH
	// notes array, and the most note ids read by one GET of notes
	// (GetNote). Default 50, at most 250.
	BatchSize int
	// BatchWait is how long the first item of a batch (AddCall, UpdateNote,
	// GetNote) waits for company before the batch is sent. Default 200 ms.
	BatchWait time.Duration
	// RefreshBefore: an access token that expires within this duration is
	// refreshed before use. Default 5 minutes.
	RefreshBefore time.Duration
	// LeaseTTL is how long a refresh lease is held in the store; another
	// process may take over the refresh after it. Default 30 s.
	LeaseTTL time.Duration
	// Owner identifies this client as a lease holder. Default: random per
	// Client (each process must use a distinct owner).
	Owner string
	// ContactCacheTTL is how long SearchContacts results are cached per
	// (account, last 10 digits). Default 60 s; negative disables the cache.
	ContactCacheTTL time.Duration
	// Now returns the current time; it is used for token expiry, leases and
	// caches. The limiter uses the wall clock. Default time.Now.
	Now func() time.Time
	// Logger receives diagnostics; tokens and secrets are never logged.
	// Default: discard.
	Logger *slog.Logger
	// OnRequest, when set, is called after every HTTP request with a route
	// template such as "POST /api/v4/calls", the HTTP status (0 when no
	// response was received) and the request's duration.
	OnRequest func(endpoint string, status int, d time.Duration)
}

// Client talks to Kommo on behalf of many accounts. It is safe for
// concurrent use; create one per process.
type Client struct {
	cfg    Config
	tokens TokenStore
	hc     *http.Client
	lim    Limiter
	log    *slog.Logger
	now    func() time.Time
	owner  string

	tokMu    sync.Mutex
	tokCache map[int64]*callbridge.Token // cached pairs by account
	flights  map[int64]*flight           // in-process refreshes by account

	calls     *batcher[CallInput, *CallCreated]
	unsorted  *batcher[UnsortedSIPInput, *UnsortedCreated]
	notes     *batcher[NoteUpdate, struct{}]
	noteReads *batcher[int64, *Note]
	noteFinds *batcher[noteFind, *Note]
	contacts  contactCache
}

// NewClient returns a client that reads and rotates OAuth pairs in tokens.
func NewClient(cfg Config, tokens TokenStore) *Client {
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: DefaultConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = DefaultConnectTimeout
		cfg.HTTPClient = &http.Client{Transport: tr, Timeout: DefaultRequestTimeout,
			// Never replay a request (with the client secret or a token) to
			// wherever a redirect points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Limiter == nil {
		cfg.Limiter = NewLimiter(6, 1)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	cfg.BatchSize = min(cfg.BatchSize, MaxBatchSize)
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = DefaultBatchWait
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = DefaultRefreshBefore
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.Owner = "kommo-" + hex.EncodeToString(b[:])
	}
	if cfg.ContactCacheTTL == 0 {
		cfg.ContactCacheTTL = DefaultContactCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	c := &Client{
		cfg:      cfg,
		tokens:   tokens,
		hc:       cfg.HTTPClient,
		lim:      cfg.Limiter,
		log:      cfg.Logger,
		now:      cfg.Now,
		owner:    cfg.Owner,
		tokCache: make(map[int64]*callbridge.Token),
		flights:  make(map[int64]*flight),
	}
	c.calls = newBatcher(cfg.BatchSize, cfg.BatchWait, c.flushCalls)
	c.unsorted = newBatcher(cfg.BatchSize, cfg.BatchWait, c.flushUnsorted)
	c.notes = newBatcher(cfg.BatchSize, cfg.BatchWait, c.flushNoteUpdates)
	c.noteReads = newReadBatcher(cfg.BatchSize, cfg.BatchWait, c.flushNoteReads)
	c.noteFinds = newReadBatcher(cfg.BatchSize, cfg.BatchWait, c.flushNoteFinds)
	c.contacts.init()
	return c
}

// baseURL returns the API origin for acct.
func (c *Client) baseURL(acct *callbridge.Account) (string, error) {
	if c.cfg.BaseURL != "" {
		return c.cfg.BaseURL, nil
	}
	if acct == nil || acct.BaseURL == "" {
		return "", callbridge.Errorf(callbridge.EINVALID, "kommo: the account has no API base URL")
	}
	base := strings.TrimRight(acct.BaseURL, "/")
	host, ok := strings.CutPrefix(base, "https://")
	if !ok {
		return "", callbridge.Errorf(callbridge.EINVALID, "kommo: the account's API base URL is not a Kommo address")
	}
	if _, err := ValidateReferer(host); err != nil {
		return "", callbridge.Errorf(callbridge.EINVALID, "kommo: the account's API base URL is not a Kommo address")
	}
	return base, nil
}

func checkAccount(acct *callbridge.Account) error {
	if acct == nil {
		return callbridge.Errorf(callbridge.EINVALID, "kommo: no account")
	}
	return nil
}
