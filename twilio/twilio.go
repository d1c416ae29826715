// Package twilio is callbridge's connector for Twilio Programmable Voice, and
// a simulator that sends what Twilio would send.
//
// The connector authenticates Twilio's webhooks with the X-Twilio-Signature
// header, parses voice status callbacks and recording status callbacks into
// callbridge.CallEvents, and builds authenticated requests for recording
// media on Twilio's own hosts. The simulator (Simulator) produces the signed
// webhook sequence of a whole call and serves fake recording audio; tests,
// `callbridge demo` and the stress test use it.
package twilio

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"callbridge"
)

// Keys of callbridge.Connection.Credentials for a Twilio connection.
const (
	// CredentialAccountSID is the Twilio Account SID ("AC…"). Webhooks whose
	// AccountSid differs are refused; recordings are fetched only from this
	// account's Recordings path.
	CredentialAccountSID = "account_sid"
	// CredentialAuthToken is the account's Auth Token: the HMAC key of
	// X-Twilio-Signature and the password of recording downloads. Secret.
	CredentialAuthToken = "auth_token"
	// CredentialCallerID is optional: the account's Twilio number (E.164)
	// that click-to-call presents to the manager and to the customer.
	// PlaceCall needs it; nothing else does.
	CredentialCallerID = "caller_id"
)

// SignatureHeader is the header in which Twilio sends a webhook's signature.
const SignatureHeader = "X-Twilio-Signature"

// DefaultAPIBase is Twilio's REST API base URL.
const DefaultAPIBase = "https://api.twilio.com"

// DefaultRecordingHost is the host Twilio serves recording media from.
const DefaultRecordingHost = "api.twilio.com"

// APIVersion is the Twilio REST API version in recording paths.
const APIVersion = "2010-04-01"

// maxSIDLen bounds every SID read from a webhook. Twilio SIDs are 34
// characters; the bound keeps event keys well under callbridge's 200 bytes.
const maxSIDLen = 64

// Options configure a Connector. The zero value is Twilio's production setup.
type Options struct {
	// APIBase is Twilio's REST API base URL, used by PlaceCall,
	// CheckCredentials and ListCallHistory. Default DefaultAPIBase; point it
	// at a server running Simulator.APIServer in tests. Webhook parsing does
	// not use it.
	APIBase string
	// HTTPClient sends REST requests. Default: a client with a 15 s timeout.
	HTTPClient *http.Client
	// DialTimeout is how long a <Dial> rings one manager (incoming-call
	// routing) or the customer (click-to-call) before giving up. Default
	// 20 s; at most 600 s (Twilio's limit).
	DialTimeout time.Duration
	// RecordRoutedCalls records the conversation of routed incoming calls
	// (<Dial record="record-from-answer-dual">). Click-to-call is always
	// recorded. Default false.
	RecordRoutedCalls bool
	// VoicemailPrompt, when set, is spoken (<Say>) before the beep of a
	// routed call's voicemail. Default: no prompt, only the beep.
	VoicemailPrompt string
	// RecordingHosts are the hosts recording media may be fetched from, as
	// "host" or "host:port" (HTTPS only) or "http://host:port" or
	// "https://host:port" (an explicit scheme; plain http is allowed only
	// for hosts listed this way, meant for the simulator). Matching is exact
	// on host[:port]. Default [DefaultRecordingHost].
	RecordingHosts []string
}

// Connector is the Twilio implementation of callbridge.Connector. It holds no
// per-connection state and is safe for concurrent use.
type Connector struct {
	apiBase         string
	recordingHosts  []recordingHost
	client          *http.Client
	dialTimeout     time.Duration
	recordRouted    bool
	voicemailPrompt string
}

// recordingHost is one allowed origin for recording downloads.
type recordingHost struct {
	scheme string // "https" or "http"
	host   string // lowercased host[:port]
}

var _ callbridge.Connector = (*Connector)(nil)

// New returns a Connector configured by opts.
func New(opts Options) *Connector {
	c := &Connector{
		apiBase:         strings.TrimRight(opts.APIBase, "/"),
		client:          opts.HTTPClient,
		dialTimeout:     opts.DialTimeout,
		recordRouted:    opts.RecordRoutedCalls,
		voicemailPrompt: opts.VoicemailPrompt,
	}
	if c.apiBase == "" {
		c.apiBase = DefaultAPIBase
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: 15 * time.Second}
	}
	switch {
	case c.dialTimeout <= 0:
		c.dialTimeout = defaultDialTimeout
	case c.dialTimeout > maxDialTimeout:
		c.dialTimeout = maxDialTimeout
	}
	hosts := opts.RecordingHosts
	if len(hosts) == 0 {
		hosts = []string{DefaultRecordingHost}
	}
	for _, h := range hosts {
		if rh, ok := parseRecordingHost(h); ok {
			c.recordingHosts = append(c.recordingHosts, rh)
		}
	}
	return c
}

// parseRecordingHost reads one Options.RecordingHosts entry.
func parseRecordingHost(s string) (recordingHost, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return recordingHost{}, false
	}
	if !strings.Contains(s, "://") {
		return recordingHost{scheme: "https", host: strings.ToLower(s)}, true
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return recordingHost{}, false
	}
	return recordingHost{scheme: u.Scheme, host: strings.ToLower(u.Host)}, true
}

// Name returns "twilio", the value of callbridge.Connection.Provider for
// Twilio connections.
func (c *Connector) Name() string { return "twilio" }

// APIBase returns the REST API base URL the connector was configured with.
func (c *Connector) APIBase() string { return c.apiBase }

// credentials returns a connection's Twilio account SID and auth token.
func credentials(conn *callbridge.Connection) (sid, token string) {
	if conn == nil {
		return "", ""
	}
	return strings.TrimSpace(conn.Credentials[CredentialAccountSID]), conn.Credentials[CredentialAuthToken]
}

// RequiredCredentials lists the credential keys a Twilio connection needs.
func (c *Connector) RequiredCredentials() []string {
	return []string{CredentialAccountSID, CredentialAuthToken}
}
