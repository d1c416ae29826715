package main

// The cluster: the Kommo emulator, a callbridge server and a Twilio
// simulator wired together in one process, installed through the real OAuth
// flow. `callbridge demo`, `callbridge bench` and the end-to-end tests drive
// calls through it over real HTTP.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"callbridge"
	"callbridge/declarative"
	"callbridge/sandbox"
	"callbridge/twilio"
)

// clusterOptions configure startCluster.
type clusterOptions struct {
	Dir            string        // working directory for the SQLite file and key
	DB             string        // "" = SQLite in Dir; or a postgres:// URL
	DBSchema       string        // PostgreSQL schema
	Hold           time.Duration // callbridge's hold after hang-up
	Workers        int
	KommoRPS       float64
	KommoBatchWait time.Duration
	Contacts       int // seeded numbers per category
	// Providers are declarative built-ins (plivo, exotel, ozonetel, telzio)
	// connected besides Twilio, each with its simulator.
	Providers  []string
	RetryAfter time.Duration
	Logger     *slog.Logger
}

// cluster is a running emulator + callbridge + simulator.
type cluster struct {
	Emu    *sandbox.Emulator
	EmuURL string
	Main   *Main
	Sim    *twilio.Simulator
	Phones *phoneBook

	KommoAccountID int64
	AdminUserID    int64
	Account        *callbridge.Account
	ConnectionID   int64 // the Twilio connection

	// Extra are the declarative providers' connections and simulators.
	Extra map[string]*extraProvider

	// Logf, when set, receives progress lines (e.g. t.Logf).
	Logf func(format string, args ...any)
	// Retry makes the driver resend an input that was refused or not
	// answered (a server restarting), as a provider retries its webhooks.
	Retry bool
	// BaseURL is callbridge's URL (default Main.Config.PublicURL).
	BaseURL string

	client  *http.Client
	servers []*http.Server
}

func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func serveOn(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startCluster starts everything and installs one Kommo account with one
// Twilio connection.
func startCluster(ctx context.Context, o clusterOptions) (_ *cluster, err error) {
	c := &cluster{client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	defer func() {
		if err != nil {
			c.Close(context.Background())
		}
	}()
	clientID, clientSecret := "cb-"+randomHex(8), randomHex(24)

	// callbridge's address must be known before the emulator is configured.
	cbLn, err := listen()
	if err != nil {
		return nil, err
	}
	cbAddr := cbLn.Addr().String()
	cbLn.Close()
	cbURL := "http://" + cbAddr

	emuLn, err := listen()
	if err != nil {
		return nil, err
	}
	c.EmuURL = "http://" + emuLn.Addr().String()
	retryAfter := o.RetryAfter
	if retryAfter == 0 {
		retryAfter = time.Second
	}
	c.Emu = sandbox.New(sandbox.Config{
		ClientID: clientID, ClientSecret: clientSecret, Host: emuLn.Addr().String(),
		RedirectURI: cbURL + "/oauth/install", DisconnectURL: cbURL + "/oauth/disconnect",
		RetryAfter: retryAfter,
	})
	c.servers = append(c.servers, serveOn(emuLn, c.Emu))

	// The provider's side: recordings live on the simulator's host.
	recLn, err := listen()
	if err != nil {
		return nil, err
	}
	c.Sim = &twilio.Simulator{
		AccountSID: "AC" + randomHex(16), AuthToken: randomHex(16),
		RecordingBase: "http://" + recLn.Addr().String(), HTTPClient: c.client,
	}
	c.servers = append(c.servers, serveOn(recLn, c.Sim.RecordingServer()))

	// Declarative providers: a simulator and a recording host each.
	recHosts := []string{"http://" + recLn.Addr().String()}
	c.Extra = map[string]*extraProvider{}
	var countries []string
	for _, name := range o.Providers {
		sim, err := declarative.NewSimulator(name, "")
		if err != nil {
			return nil, err
		}
		ln, err := listen()
		if err != nil {
			return nil, err
		}
		sim.RecordingBase, sim.HTTPClient = "http://"+ln.Addr().String(), c.client
		c.servers = append(c.servers, serveOn(ln, sim.RecordingServer()))
		recHosts = append(recHosts, "http://"+ln.Addr().String())
		def := declarative.Builtins()[name]
		if def == nil {
			return nil, fmt.Errorf("no built-in connector %q", name)
		}
		c.Extra[name] = &extraProvider{Name: name, Sim: sim, Connector: def.Connector(declarative.Options{}), Country: def.Country()}
		// The provider's customers are in its country (Exotel's and
		// Ozonetel's in India): Kommo holds their numbers too.
		if def.Country() != "US" {
			countries = append(countries, def.Country())
		}
	}

	seed, phones := seedData(o.Contacts, countries...)
	res, err := c.Emu.Seed(seed)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	acct := res.Accounts[0]
	c.KommoAccountID, c.AdminUserID = acct.ID, acct.AdminUserID
	phones.resolve(acct)
	c.Phones = phones

	db := o.DB
	if db == "" {
		db = filepath.Join(o.Dir, "callbridge.db")
	}
	cfg := Config{
		Addr: cbAddr, PublicURL: cbURL, DB: db, DBSchema: o.DBSchema, SecretKey: "", SecretKeyFile: filepath.Join(o.Dir, "callbridge.key"),
		KommoClientID: clientID, KommoClientSecret: clientSecret, KommoBaseURL: c.EmuURL,
		KommoRPS: o.KommoRPS, KommoBatchWait: o.KommoBatchWait, Hold: o.Hold, Workers: o.Workers,
		TwilioAPIBase: c.Sim.RecordingBase, RecordingHosts: strings.Join(recHosts, ","),
		LogFormat: "text", LogLevel: "warn",
	}
	if cfg.KommoRPS == 0 {
		cfg.KommoRPS = 6
	}
	if cfg.KommoBatchWait == 0 {
		cfg.KommoBatchWait = 200 * time.Millisecond
	}
	if cfg.Workers == 0 {
		cfg.Workers = 50
	}
	c.Main = NewMain(cfg)
	c.Main.Logger = o.Logger
	if err := c.Main.Open(ctx); err != nil {
		return nil, err
	}

	if err := c.install(ctx, "demo"); err != nil {
		return nil, err
	}
	return c, nil
}

// install installs c's Kommo account in callbridge through the real OAuth
// flow (Kommo calls our redirect URI), waits until it is active, and has the
// administrator connect c.Sim's Twilio account and every Extra provider from
// the widget.
func (c *cluster) install(ctx context.Context, state string) error {
	if _, err := c.Emu.Install(ctx, c.KommoAccountID, state); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		a, err := c.Main.DB.FindAccountByKommoID(ctx, c.KommoAccountID)
		if err == nil && a.Active() {
			c.Account = a
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("account was not installed within 60 s (last error: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var conn struct {
		ID         int64  `json:"id"`
		WebhookURL string `json:"webhook_url"`
	}
	body := map[string]any{"provider": "twilio", "name": "Twilio", "credentials": map[string]string{
		twilio.CredentialAccountSID: c.Sim.AccountSID, twilio.CredentialAuthToken: c.Sim.AuthToken}}
	if err := c.widget(ctx, "POST", "/api/widget/connections", c.AdminUserID, body, &conn); err != nil {
		return fmt.Errorf("create connection: %w", err)
	}
	c.ConnectionID = conn.ID
	c.Sim.WebhookURL = conn.WebhookURL
	for _, x := range c.Extra {
		body := map[string]any{"provider": x.Name, "name": x.Name, "credentials": x.Sim.Credentials, "time_zone": x.Sim.TimeZone}
		if err := c.widget(ctx, "POST", "/api/widget/connections", c.AdminUserID, body, &conn); err != nil {
			return fmt.Errorf("create %s connection: %w", x.Name, err)
		}
		x.ConnectionID, x.Sim.WebhookURL = conn.ID, conn.WebhookURL
	}
	return nil
}

// addAccount seeds another Kommo account (numbered n, with contacts numbers
// per category) in c's emulator, installs it in c's callbridge with a Twilio
// account of its own, and returns the cluster as that account sees it: the
// same emulator, server and HTTP client. The new Twilio account's recordings
// are not served (plan its calls without recordings).
func (c *cluster) addAccount(ctx context.Context, n, contacts int) (*cluster, error) {
	seed, phones := seedData(contacts)
	seed.Accounts[0].Name, seed.Accounts[0].Subdomain = fmt.Sprintf("Account %d", n), fmt.Sprintf("account%d", n)
	res, err := c.Emu.Seed(seed)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	v := &cluster{Emu: c.Emu, EmuURL: c.EmuURL, Main: c.Main, Logf: c.Logf, Retry: c.Retry, BaseURL: c.BaseURL,
		client: c.client, Extra: map[string]*extraProvider{}}
	acct := res.Accounts[0]
	v.KommoAccountID, v.AdminUserID = acct.ID, acct.AdminUserID
	phones.resolve(acct)
	v.Phones = phones
	v.Sim = &twilio.Simulator{AccountSID: "AC" + randomHex(16), AuthToken: randomHex(16),
		RecordingBase: c.Sim.RecordingBase, HTTPClient: c.client}
	if err := v.install(ctx, fmt.Sprintf("account%d", n)); err != nil {
		return nil, err
	}
	return v, nil
}

// extraProvider is a declarative provider connected in the cluster.
type extraProvider struct {
	Name         string
	ConnectionID int64
	Sim          *declarative.Simulator
	Connector    callbridge.Connector // an in-process copy, to read call ids
	// Country is the connector's country: its webhooks write its
	// customers' numbers in that country's national format.
	Country string
}

func (x *extraProvider) conn() *callbridge.Connection {
	return &callbridge.Connection{ID: x.ConnectionID, Provider: x.Name, Credentials: x.Sim.Credentials, TimeZone: x.Sim.TimeZone}
}

// widget calls callbridge's widget API as Kommo's $authorizedAjax would.
func (c *cluster) widget(ctx context.Context, method, path string, userID int64, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	base := c.BaseURL
	if base == "" {
		base = c.Main.Config.PublicURL
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", c.Emu.WidgetToken(c.KommoAccountID, userID, 10*time.Minute))
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Close stops everything.
func (c *cluster) Close(ctx context.Context) {
	if c.Main != nil && c.Main.HTTP != nil {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_ = c.Main.Close(sctx)
		cancel()
	}
	for _, s := range c.servers {
		_ = s.Close()
	}
	if c.Emu != nil {
		_ = c.Emu.Close()
	}
}

// Phone categories: what Kommo's entity choice does with a number.
const (
	catLead     = "lead"     // a contact with exactly one active lead → the lead
	catContact  = "contact"  // a contact whose leads are all closed → the contact
	catCustomer = "customer" // a contact with one customer and no active lead → the customer
	catMulti    = "multi"    // a contact with two active leads → the contact
	catCompany  = "company"  // only a company has the number → the company
	catUnknown  = "unknown"  // nobody: inbound → incoming lead; outbound → not logged
)

var categories = []string{catLead, catContact, catCustomer, catMulti, catCompany, catUnknown}

// phoneBook knows, for every seeded number, the entity Kommo must choose.
type phoneBook struct {
	byCat     map[string][]string            // US numbers by category
	byCountry map[string]map[string][]string // other countries' numbers by category
	refOf     map[string]string              // phone -> entity ref
	typeOf    map[string]string              // phone -> entity type
	expected  map[string]int64               // phone -> entity id (after resolve)
}

func (p *phoneBook) add(country, cat, phone, entityType, ref string) {
	p.addNumber(country, cat, phone)
	p.typeOf[phone], p.refOf[phone] = entityType, ref
}

func (p *phoneBook) addNumber(country, cat, phone string) {
	if country == "US" {
		p.byCat[cat] = append(p.byCat[cat], phone)
		return
	}
	if p.byCountry[country] == nil {
		p.byCountry[country] = map[string][]string{}
	}
	p.byCountry[country][cat] = append(p.byCountry[country][cat], phone)
}

// numbers returns the seeded numbers of a category in a country ("" or "US"
// for the US ones).
func (p *phoneBook) numbers(country, cat string) []string {
	if country == "" || country == "US" {
		return p.byCat[cat]
	}
	return p.byCountry[country][cat]
}

func (p *phoneBook) resolve(r sandbox.SeedAccountResult) {
	for phone, ref := range p.refOf {
		switch p.typeOf[phone] {
		case "leads":
			p.expected[phone] = r.Leads[ref]
		case "contacts":
			p.expected[phone] = r.Contacts[ref]
		case "companies":
			p.expected[phone] = r.Companies[ref]
		case "customers":
			p.expected[phone] = r.Customers[ref]
		}
	}
}

// countryNumbers are the seeded numbers of a country: known ones (one per
// contact or company) and unknown ones, in E.164. Their last 10 digits (as
// Kommo matches calls), last 8 (as it matches notifications) and last 7
// differ across countries, so a number misread in another country's format
// cannot reach a seeded entity by accident.
var countryNumbers = map[string]struct{ known, unknown string }{
	"US": {"+1415%07d", "+1650%07d"},
	"IN": {"+91983%07d", "+91974%07d"}, // mobile numbers (98…, 97…)
}

// countryLines are the line (the number the customer calls or sees) and the
// manager's number of the simulated calls in a country.
var countryLines = map[string]struct{ line, agent string }{
	"US": {"+14155550000", "+14155559999"},
	"IN": {"+918044550000", "+919812349999"},
}

// seedData builds an account with n numbers in every category: US numbers,
// and as many in each of countries (ISO codes of countryNumbers) for the
// providers whose customers are there.
func seedData(n int, countries ...string) (sandbox.SeedData, *phoneBook) {
	if n <= 0 {
		n = 10
	}
	p := &phoneBook{byCat: map[string][]string{}, byCountry: map[string]map[string][]string{}, refOf: map[string]string{},
		typeOf: map[string]string{}, expected: map[string]int64{}}
	a := sandbox.SeedAccount{
		Name: "Demo Account", Subdomain: "demo",
		Users: []sandbox.SeedUser{
			{Ref: "admin", Name: "Ada Admin", Email: "ada@example.com", Admin: true},
			{Ref: "bob", Name: "Bob Sales", Email: "bob@example.com"},
		},
		Pipelines: []sandbox.SeedPipeline{{Ref: "sales", Name: "Sales", Statuses: []sandbox.SeedStatus{{Ref: "new", Name: "New"}, {Ref: "talk", Name: "Negotiation"}}}},
	}
	seeded := map[string]bool{}
	for k, country := range append([]string{"US"}, countries...) {
		format, ok := countryNumbers[country]
		if !ok {
			panic("seedData: no test numbers for country " + country)
		}
		if seeded[country] {
			continue
		}
		seeded[country] = true
		// Refs of the US entities keep their historical names ("cl3");
		// another country's get its code ("incl3").
		prefix := ""
		if k > 0 {
			prefix = strings.ToLower(country)
		}
		num := 0
		phone := func() string {
			num++
			return fmt.Sprintf(format.known, 1000000*(2*k+1)+num)
		}
		for i := 0; i < n; i++ {
			ref := func(k string) string { return fmt.Sprintf("%s%s%d", prefix, k, i) }
			ph := phone()
			a.Contacts = append(a.Contacts, sandbox.SeedContact{Ref: ref("cl"), Name: "Lead contact " + ref(""), Phones: []string{ph}, Responsible: "bob"})
			a.Leads = append(a.Leads, sandbox.SeedLead{Ref: ref("l"), Name: "Deal " + ref(""), Pipeline: "sales", Status: "new", Contacts: []string{ref("cl")}, Responsible: "bob"},
				sandbox.SeedLead{Ref: ref("lw"), Name: "Won deal " + ref(""), Pipeline: "sales", StatusID: 142, Contacts: []string{ref("cl")}})
			p.add(country, catLead, ph, "leads", ref("l"))

			ph = phone()
			a.Contacts = append(a.Contacts, sandbox.SeedContact{Ref: ref("cc"), Name: "Plain contact " + ref(""), Phones: []string{ph}})
			a.Leads = append(a.Leads, sandbox.SeedLead{Ref: ref("lx"), Name: "Lost deal " + ref(""), Pipeline: "sales", StatusID: 143, Contacts: []string{ref("cc")}})
			p.add(country, catContact, ph, "contacts", ref("cc"))

			ph = phone()
			a.Contacts = append(a.Contacts, sandbox.SeedContact{Ref: ref("cu"), Name: "Customer contact " + ref(""), Phones: []string{ph}})
			a.Customers = append(a.Customers, sandbox.SeedCustomer{Ref: ref("u"), Name: "Customer " + ref(""), Contacts: []string{ref("cu")}})
			p.add(country, catCustomer, ph, "customers", ref("u"))

			ph = phone()
			a.Contacts = append(a.Contacts, sandbox.SeedContact{Ref: ref("cm"), Name: "Busy contact " + ref(""), Phones: []string{ph}})
			a.Leads = append(a.Leads,
				sandbox.SeedLead{Ref: ref("ma"), Name: "Deal A " + ref(""), Pipeline: "sales", Status: "new", Contacts: []string{ref("cm")}},
				sandbox.SeedLead{Ref: ref("mb"), Name: "Deal B " + ref(""), Pipeline: "sales", Status: "talk", Contacts: []string{ref("cm")}})
			p.add(country, catMulti, ph, "contacts", ref("cm"))

			ph = phone()
			a.Companies = append(a.Companies, sandbox.SeedCompany{Ref: ref("co"), Name: "Company " + ref(""), Phones: []string{ph}})
			p.add(country, catCompany, ph, "companies", ref("co"))

			p.addNumber(country, catUnknown, fmt.Sprintf(format.unknown, 1000000*(2*k+2)+i))
		}
	}
	return sandbox.SeedData{Accounts: []sandbox.SeedAccount{a}}, p
}
