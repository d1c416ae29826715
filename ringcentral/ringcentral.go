// Package ringcentral is callbridge's code connector for RingCentral, and a
// simulator of the RingCentral platform.
//
// RingCentral needs more than a declaration can express: the connector
// authenticates with OAuth (the JWT bearer grant), keeps an account-wide
// webhook subscription to telephony-session events alive (EnsureSubscription),
// answers the subscription's Validation-Token handshake, checks the
// Verification-Token of every notification, and folds telephony-session
// events (one event per party, the session id as the call id) into
// callbridge's calls. It also lists extensions and the call log, places
// RingOut calls and fetches recordings from the media host with the access
// token. The facts it relies on are in PROVIDERS-ringcentral.md.
package ringcentral

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"callbridge"
)

// Keys of callbridge.Connection.Credentials for a RingCentral connection.
const (
	// CredentialClientID is the RingCentral app's client id.
	CredentialClientID = "client_id"
	// CredentialClientSecret is the app's client secret. Secret.
	CredentialClientSecret = "client_secret"
	// CredentialJWT is a user's JWT credential for the JWT bearer grant.
	// JWT credentials do not rotate, so the connector needs no storage for
	// tokens: it exchanges the JWT for an access token when it needs one.
	// The user should be an administrator: account-wide telephony events, the
	// account call log and the extension list need admin permissions.
	// Secret.
	CredentialJWT = "jwt"
	// CredentialVerificationToken is optional: the verificationToken of the
	// webhook subscription. When empty it is derived from the client secret
	// and the connection (see VerificationToken). Secret.
	CredentialVerificationToken = "verification_token"
	// CredentialCallerID is optional: the number RingOut shows to the
	// customer (callerId), E.164.
	CredentialCallerID = "caller_id"
)

// Header names of RingCentral webhooks.
const (
	// ValidationTokenHeader carries the handshake token RingCentral sends
	// when a webhook subscription is created; the response must echo it in
	// the same header with status 200.
	ValidationTokenHeader = "Validation-Token"
	// VerificationTokenHeader carries the subscription's verificationToken
	// on every notification.
	VerificationTokenHeader = "Verification-Token"
)

// Defaults.
const (
	// DefaultAPIBase is RingCentral's production platform.
	DefaultAPIBase = "https://platform.ringcentral.com"
	// DefaultMediaHost serves recording content.
	DefaultMediaHost = "media.ringcentral.com"
	// DefaultSubscriptionTTL is the lifetime asked for a subscription.
	DefaultSubscriptionTTL = 7 * 24 * time.Hour
	// DefaultRenewBefore is how long before expiry EnsureSubscription renews.
	DefaultRenewBefore = 48 * time.Hour
)

// TelephonySessionsFilter is the event filter of the account-wide
// subscription: every change of every call session of the account.
const TelephonySessionsFilter = "/restapi/v1.0/account/~/telephony/sessions"

// Options configure a Connector. The zero value is RingCentral's production
// setup.
type Options struct {
	// APIBase is the platform URL (OAuth, REST API). Default DefaultAPIBase;
	// "https://platform.devtest.ringcentral.com" for the sandbox, or a
	// Simulator's server in tests.
	APIBase string
	// MediaHosts are the origins recording content may be fetched from, as
	// "host" or "host:port" (HTTPS only) or "http://host:port" /
	// "https://host:port" (an explicit scheme; plain http only for hosts
	// listed this way, meant for the simulator). The first one also builds
	// the recording URLs of webhook events. Default [DefaultMediaHost].
	MediaHosts []string
	// HTTPClient sends every request. Default: a client with a 15 s timeout.
	HTTPClient *http.Client
	// SubscriptionTTL is the expiresIn asked when a subscription is created.
	// Default DefaultSubscriptionTTL; at least 1 hour.
	SubscriptionTTL time.Duration
	// RenewBefore is how long before its expiry EnsureSubscription renews a
	// subscription. Default DefaultRenewBefore.
	RenewBefore time.Duration
}

// Connector is the RingCentral implementation of callbridge.Connector and of
// its optional capabilities. It caches access tokens per connection in memory
// and is safe for concurrent use.
type Connector struct {
	apiBase     string
	media       []origin
	client      *http.Client
	ttl         time.Duration
	renewBefore time.Duration

	mu     sync.Mutex
	tokens map[string]*tokenEntry
}

// origin is one allowed media origin.
type origin struct {
	scheme string // "https" or "http"
	host   string // lowercased host[:port]
}

var (
	_ callbridge.Connector         = (*Connector)(nil)
	_ callbridge.CallPlacer        = (*Connector)(nil)
	_ callbridge.HistoryLister     = (*Connector)(nil)
	_ callbridge.ExtensionLister   = (*Connector)(nil)
	_ callbridge.CredentialChecker = (*Connector)(nil)
)

// New returns a Connector configured by opts.
func New(opts Options) *Connector {
	c := &Connector{
		apiBase:     strings.TrimRight(opts.APIBase, "/"),
		client:      opts.HTTPClient,
		ttl:         opts.SubscriptionTTL,
		renewBefore: opts.RenewBefore,
		tokens:      map[string]*tokenEntry{},
	}
	if c.apiBase == "" {
		c.apiBase = DefaultAPIBase
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: 15 * time.Second}
	}
	if c.ttl <= 0 {
		c.ttl = DefaultSubscriptionTTL
	}
	c.ttl = max(c.ttl, time.Hour)
	if c.renewBefore <= 0 {
		c.renewBefore = DefaultRenewBefore
	}
	hosts := opts.MediaHosts
	if len(hosts) == 0 {
		hosts = []string{DefaultMediaHost}
	}
	for _, h := range hosts {
		if o, ok := parseOrigin(h); ok {
			c.media = append(c.media, o)
		}
	}
	return c
}

// parseOrigin reads one Options.MediaHosts entry.
func parseOrigin(s string) (origin, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return origin{}, false
	}
	if !strings.Contains(s, "://") {
		return origin{scheme: "https", host: strings.ToLower(s)}, true
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return origin{}, false
	}
	return origin{scheme: u.Scheme, host: strings.ToLower(u.Host)}, true
}

// Name returns "ringcentral", the value of callbridge.Connection.Provider.
func (c *Connector) Name() string { return "ringcentral" }

// RequiredCredentials lists the credential keys a RingCentral connection
// needs: client_id, client_secret and jwt.
func (c *Connector) RequiredCredentials() []string {
	return []string{CredentialClientID, CredentialClientSecret, CredentialJWT}
}

// creds are a connection's RingCentral credentials.
type creds struct {
	clientID, clientSecret, jwt string
}

func credentials(conn *callbridge.Connection) (creds, bool) {
	if conn == nil {
		return creds{}, false
	}
	c := creds{
		clientID:     strings.TrimSpace(conn.Credentials[CredentialClientID]),
		clientSecret: conn.Credentials[CredentialClientSecret],
		jwt:          strings.TrimSpace(conn.Credentials[CredentialJWT]),
	}
	return c, c.clientID != "" && c.clientSecret != "" && c.jwt != ""
}
