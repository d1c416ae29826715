package sandbox

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Config configures an Emulator. The zero value works: defaults are noted on
// each field.
type Config struct {
	// ClientID and ClientSecret identify the one registered integration. The
	// token endpoint requires them; the secret also signs widget tokens and
	// disconnect hooks.
	ClientID     string
	ClientSecret string
	// RedirectURI is the integration's redirect URI: the target of the install
	// GET (Install) and of /oauth's redirect. When set, token requests must
	// send the same redirect_uri. Empty: Install sends nothing.
	RedirectURI string
	// DisconnectURL receives the signed disconnect GET on Uninstall. Empty:
	// nothing is sent.
	DisconnectURL string
	// WebhookURL, when set, receives the form-encoded account webhook
	// (unsorted[delete]…) when an incoming lead is accepted or declined, for
	// every account.
	WebhookURL string
	// Host is the host:port clients reach the emulator at. It is sent as the
	// OAuth referer and used in _links. Default: the Host of the latest
	// request served (see SetHost).
	Host string
	// AccessTokenTTL is the access token lifetime (default 24h).
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the refresh token lifetime (default 90 days).
	RefreshTokenTTL time.Duration
	// StrictRefresh makes refresh tokens strictly single-use: a second use
	// answers 401 "Token has been revoked" at once, as amoCRM staff describe.
	// Default false: Kommo's documented behaviour, where the old refresh token
	// keeps working until the new pair is used.
	StrictRefresh bool
	// RateLimit is the number of requests a client IP may make in any sliding
	// 1-second window (default 7).
	RateLimit int
	// RetryAfter is the penalty after a rate-limit violation, sent as
	// retry_after in the 429 (default 300s; tests use about 1s). Sent in whole
	// seconds, rounded up.
	RetryAfter time.Duration
	// BlockAfter is how many requests an IP may send while penalised (each
	// answered 429) before it is blocked: the next one and every later request
	// get 403 until Reset (default 10).
	BlockAfter int
	// Now is the clock (default time.Now). It drives token expiry, the rate
	// limiter and every created_at/updated_at.
	Now func() time.Time
	// Seed seeds the fault-injection random generator.
	Seed int64
}

func (c Config) withDefaults() Config {
	if c.AccessTokenTTL <= 0 {
		c.AccessTokenTTL = 24 * time.Hour
	}
	if c.RefreshTokenTTL <= 0 {
		c.RefreshTokenTTL = 90 * 24 * time.Hour
	}
	if c.RateLimit <= 0 {
		c.RateLimit = 7
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = 300 * time.Second
	}
	if c.BlockAfter <= 0 {
		c.BlockAfter = 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Emulator is an in-memory Kommo. It implements http.Handler and is safe for
// concurrent use. Create it with New.
type Emulator struct {
	cfg      Config
	audience string       // origin of RedirectURI, the widget token's aud
	hooks    *http.Client // install and disconnect GETs
	webhooks *http.Client // account webhooks (Kommo waits 2 s)
	routes   []*route
	wg       sync.WaitGroup // in-flight webhook deliveries

	mu sync.Mutex
	st *world // guarded by mu
}

// world is everything Reset clears.
type world struct {
	host       string
	hostFixed  bool // set by Config.Host or SetHost; not learned from requests
	faults     Faults
	faultsUsed int
	rng        *rand.Rand

	ids        ids
	reserved   map[int64]bool // ids given explicitly by Seed; never allocated
	accounts   map[int64]*account
	accountIDs []int64
	subdomains map[string]int64
	unsorted   map[string]*account // uid → account
	noteOwner  map[int64]*account  // note id → account

	codes     map[string]*authCode
	byAccess  map[string]*grant
	byRefresh map[string]*grant

	ips     map[string]*ipState
	acctWin map[int64]*window

	stats      Stats
	hooks      []HookDelivery
	pendingWeb int
}

// ids hands out Kommo-style ids. Each entity kind has its own range so that
// an id used as the wrong kind is never valid by accident.
type ids struct {
	account, user, pipeline, status, contact, company, lead, customer, note, task, event, grant int64
}

func newIDs() ids {
	return ids{
		account:  30_000_000,
		user:     8_000_000,
		pipeline: 7_000_000,
		status:   70_000_000,
		contact:  10_000_000,
		company:  20_000_000,
		lead:     40_000_000,
		customer: 50_000_000,
		note:     60_000_000,
		task:     80_000_000,
		event:    90_000_000,
	}
}

// assign returns id when it is given (recording it as reserved), else the
// next free id of counter.
func (w *world) assign(counter *int64, id int64) int64 {
	if id != 0 {
		w.reserved[id] = true
		return id
	}
	for {
		*counter++
		if !w.reserved[*counter] {
			return *counter
		}
	}
}

// New returns an emulator with no accounts. Accounts come from Seed, Install
// or the /oauth page.
func New(cfg Config) *Emulator {
	cfg = cfg.withDefaults()
	e := &Emulator{
		cfg:      cfg,
		hooks:    &http.Client{Timeout: 3 * time.Second},
		webhooks: &http.Client{Timeout: 2 * time.Second},
	}
	if u, err := url.Parse(cfg.RedirectURI); err == nil && u.Scheme != "" && u.Host != "" {
		e.audience = u.Scheme + "://" + u.Host
	}
	e.routes = e.buildRoutes()
	e.st = e.newWorld()
	return e
}

func (e *Emulator) newWorld() *world {
	seed := uint64(e.cfg.Seed)
	return &world{
		host:       e.cfg.Host,
		hostFixed:  e.cfg.Host != "",
		rng:        rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		ids:        newIDs(),
		reserved:   map[int64]bool{},
		accounts:   map[int64]*account{},
		subdomains: map[string]int64{},
		unsorted:   map[string]*account{},
		noteOwner:  map[int64]*account{},
		codes:      map[string]*authCode{},
		byAccess:   map[string]*grant{},
		byRefresh:  map[string]*grant{},
		ips:        map[string]*ipState{},
		acctWin:    map[int64]*window{},
		stats:      newStats(),
	}
}

func newStats() Stats {
	return Stats{
		Requests:              map[string]map[int]int{},
		MaxPerSecondByIP:      map[string]int{},
		Served:                map[string]Span{},
		MaxPerSecondByAccount: map[int64]int{},
	}
}

// Reset drops every account, token, code, fault, limiter state (including
// blocked IPs), statistic and hook record, as if the emulator were new. The
// configuration is kept.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	host, fixed := e.st.host, e.st.hostFixed
	e.st = e.newWorld()
	e.st.host, e.st.hostFixed = host, fixed
}

// SetHost sets the host:port clients reach the emulator at (the OAuth
// referer), overriding Config.Host. Without either, the emulator uses the
// Host of the latest request it served; call SetHost before Install when no
// request has been served yet.
func (e *Emulator) SetHost(hostport string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.host, e.st.hostFixed = hostport, true
}

// Close waits for in-flight account webhook deliveries. The emulator stays
// usable.
func (e *Emulator) Close() error {
	e.wg.Wait()
	return nil
}

func (e *Emulator) now() time.Time { return e.cfg.Now() }

// account is one Kommo account and its data. Entities are kept in maps with
// their ids in creation (= id) order, and indexed by phone tail and by note
// owner so that no request scans every note.
type account struct {
	info            AccountState // only the scalar fields are used
	adminID         int64
	paymentRequired bool
	installed       bool

	users     map[int64]*User
	userIDs   []int64
	pipelines []*Pipeline

	contacts    map[int64]*Contact
	contactIDs  []int64
	companies   map[int64]*Company
	companyIDs  []int64
	leads       map[int64]*Lead
	leadIDs     []int64
	customers   map[int64]*Customer
	customerIDs []int64

	// contactPhones and companyPhones map the last 7 digits of every stored
	// phone to the owners' ids (candidates; callers compare longer tails).
	contactPhones map[string][]int64
	companyPhones map[string][]int64

	notes         map[int64]*Note
	notesByType   map[string][]int64
	notesByEntity map[entityKey][]int64

	unsorted       map[string]*Unsorted
	unsortedUIDs   []string
	pendingSources map[string]string // source_uid → uid of a pending incoming lead

	tasks   map[int64]*Task
	taskIDs []int64
	events  []Event

	// webhooks are the account webhooks registered through the API.
	webhooks []*Webhook

	// refs are the seed references: kind → ref → id.
	refs map[string]map[string]int64
}

type entityKey struct {
	typ string
	id  int64
}

func newAccount(id int64, name, subdomain string, now int64) *account {
	return &account{
		info:           AccountState{ID: id, Name: name, Subdomain: subdomain, CreatedAt: now},
		users:          map[int64]*User{},
		contacts:       map[int64]*Contact{},
		companies:      map[int64]*Company{},
		leads:          map[int64]*Lead{},
		customers:      map[int64]*Customer{},
		contactPhones:  map[string][]int64{},
		companyPhones:  map[string][]int64{},
		notes:          map[int64]*Note{},
		notesByType:    map[string][]int64{},
		notesByEntity:  map[entityKey][]int64{},
		unsorted:       map[string]*Unsorted{},
		pendingSources: map[string]string{},
		tasks:          map[int64]*Task{},
		refs:           map[string]map[string]int64{},
	}
}

func (a *account) mainPipeline() *Pipeline {
	for _, p := range a.pipelines {
		if p.IsMain {
			return p
		}
	}
	if len(a.pipelines) > 0 {
		return a.pipelines[0]
	}
	return nil
}

func (a *account) pipeline(id int64) *Pipeline {
	for _, p := range a.pipelines {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// statusPipeline returns the pipeline holding status id (the main pipeline
// for 142/143 or an unknown id).
func (a *account) statusPipeline(id int64) *Pipeline {
	if id != StatusWon && id != StatusLost {
		for _, p := range a.pipelines {
			if p.hasStatus(id) {
				return p
			}
		}
	}
	return a.mainPipeline()
}

// hasStatus reports whether status id belongs to pipeline p.
func (p *Pipeline) hasStatus(id int64) bool {
	for _, s := range p.Statuses {
		if s.ID == id {
			return true
		}
	}
	return false
}

// unsortedStatus returns the pipeline's incoming-leads status id.
func (p *Pipeline) unsortedStatus() int64 {
	for _, s := range p.Statuses {
		if s.Type == 1 {
			return s.ID
		}
	}
	return p.Statuses[0].ID
}

// firstWorkingStatus returns the first status that is neither the
// incoming-leads status nor won/lost.
func (p *Pipeline) firstWorkingStatus() int64 {
	for _, s := range p.Statuses {
		if s.Type == 0 && s.ID != StatusWon && s.ID != StatusLost {
			return s.ID
		}
	}
	return StatusWon
}

// addPipeline creates a pipeline with the given working statuses plus the
// incoming-leads status first and won/lost last.
func (w *world) addPipeline(a *account, id int64, name string, main bool, statuses []Status) *Pipeline {
	id = w.assign(&w.ids.pipeline, id)
	p := &Pipeline{ID: id, Name: name, IsMain: main}
	p.Statuses = append(p.Statuses, Status{ID: w.assign(&w.ids.status, 0), Name: "Incoming leads", Sort: 10, Type: 1})
	for i, s := range statuses {
		s.ID = w.assign(&w.ids.status, s.ID)
		s.Sort = 20 + 10*i
		s.Type = 0
		p.Statuses = append(p.Statuses, s)
	}
	p.Statuses = append(p.Statuses,
		Status{ID: StatusWon, Name: "Closed - won", Sort: 10000},
		Status{ID: StatusLost, Name: "Closed - lost", Sort: 11000})
	a.pipelines = append(a.pipelines, p)
	return p
}

func defaultStatuses() []Status {
	return []Status{{Name: "Initial contact"}, {Name: "Discussions"}, {Name: "Decision making"}}
}

// createAccount adds an account with a default admin (unless withAdmin is
// false) and the default pipeline.
func (w *world) createAccount(id int64, name, subdomain string, now int64, withAdmin bool) *account {
	id = w.assign(&w.ids.account, id)
	if subdomain == "" {
		subdomain = "sandbox" + itoa(id)
	}
	if name == "" {
		name = "Sandbox " + subdomain
	}
	a := newAccount(id, name, subdomain, now)
	w.accounts[id] = a
	w.accountIDs = append(w.accountIDs, id)
	w.subdomains[subdomain] = id
	if withAdmin {
		u := w.addUser(a, 0, "Admin", "admin@"+subdomain+".example", true)
		a.adminID = u.ID
	}
	w.addPipeline(a, 0, "Sales", true, defaultStatuses())
	return a
}

func (w *world) addUser(a *account, id int64, name, email string, admin bool) *User {
	id = w.assign(&w.ids.user, id)
	u := &User{ID: id, Name: name, Email: email, Admin: admin}
	a.users[id] = u
	a.userIDs = append(a.userIDs, id)
	return u
}

// firstAccount returns the account with the lowest id, or nil.
func (w *world) firstAccount() *account {
	var best *account
	for _, id := range w.accountIDs {
		if best == nil || id < best.info.ID {
			best = w.accounts[id]
		}
	}
	return best
}
