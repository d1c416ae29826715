// Package zenvia is callbridge's code connector for Zenvia Voice (formerly
// TotalVoice), and a simulator of its API.
//
// Zenvia's voice API places two-leg calls: it rings numero_origem (the
// manager) and, when the manager answers, numero_destino (the customer). The
// connector places such calls for click-to-call (PlaceCall), reads the call
// webhooks Zenvia sends to the URL configured in its panel ("Status Tempo
// Real" while the call runs and "Fim Chamada" at the end) into events, fetches
// recordings from url_gravacao, and checks the access token. The facts it
// relies on, and its assumptions, are in PROVIDERS-zenvia.md.
package zenvia

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"callbridge"
)

// Keys of callbridge.Connection.Credentials for a Zenvia connection.
const (
	// CredentialAccessToken is the API token sent in the Access-Token
	// header. Secret.
	CredentialAccessToken = "access_token"
	// CredentialAccountID is optional: the account's conta_id. When set,
	// webhooks naming another account are refused.
	CredentialAccountID = "account_id"
	// CredentialCallerID is optional: the number shown to the customer
	// (bina_destino) on click-to-call, E.164.
	CredentialCallerID = "caller_id"
)

// AccessTokenHeader carries the API token.
const AccessTokenHeader = "Access-Token"

// DefaultAPIBase is Zenvia's voice API.
const DefaultAPIBase = "https://voice-api.zenvia.com"

// DefaultRecordingHosts serve call recordings (url_gravacao).
var DefaultRecordingHosts = []string{"api.evoline.com.br", "voice-api.zenvia.com", "api.totalvoice.com.br"}

// Options configure a Connector. The zero value is Zenvia's production
// setup.
type Options struct {
	// APIBase is the voice API's base URL. Default DefaultAPIBase.
	APIBase string
	// RecordingHosts are the origins recordings may be fetched from, as
	// "host" or "host:port" (HTTPS only) or "http://host:port" (plain http,
	// for the simulator). Default DefaultRecordingHosts.
	RecordingHosts []string
	// HTTPClient sends API requests. Default: a client with a 15 s timeout.
	HTTPClient *http.Client
	// Country reads numbers without a country code (ISO alpha-2). Default
	// "BR".
	Country string
}

// Connector is the Zenvia implementation of callbridge.Connector, CallPlacer
// and CredentialChecker. It holds no per-connection state and is safe for
// concurrent use.
type Connector struct {
	apiBase string
	hosts   []origin
	client  *http.Client
	country string
}

// origin is one allowed recording origin.
type origin struct {
	scheme, host string
}

var (
	_ callbridge.Connector         = (*Connector)(nil)
	_ callbridge.CallPlacer        = (*Connector)(nil)
	_ callbridge.CredentialChecker = (*Connector)(nil)
)

// New returns a Connector configured by opts.
func New(opts Options) *Connector {
	c := &Connector{apiBase: strings.TrimRight(opts.APIBase, "/"), client: opts.HTTPClient, country: opts.Country}
	if c.apiBase == "" {
		c.apiBase = DefaultAPIBase
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: 15 * time.Second}
	}
	if c.country == "" {
		c.country = "BR"
	}
	hosts := opts.RecordingHosts
	if len(hosts) == 0 {
		hosts = DefaultRecordingHosts
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		switch {
		case h == "":
		case !strings.Contains(h, "://"):
			c.hosts = append(c.hosts, origin{"https", strings.ToLower(h)})
		default:
			if u, err := url.Parse(h); err == nil && u.Host != "" && u.User == nil && (u.Scheme == "https" || u.Scheme == "http") {
				c.hosts = append(c.hosts, origin{u.Scheme, strings.ToLower(u.Host)})
			}
		}
	}
	return c
}

// Name returns "zenvia", the value of callbridge.Connection.Provider.
func (c *Connector) Name() string { return "zenvia" }

// RequiredCredentials lists the credential keys a Zenvia connection needs.
func (c *Connector) RequiredCredentials() []string { return []string{CredentialAccessToken} }

// token returns the connection's access token.
func token(conn *callbridge.Connection) string {
	if conn == nil {
		return ""
	}
	return strings.TrimSpace(conn.Credentials[CredentialAccessToken])
}
