// Package declarative is callbridge's connector for providers described by a
// file instead of code.
//
// A definition is a well-formed XML file modelled on Vtiger's PhoneCalls
// connector: the configuration fields an operator fills in, the provider's
// API URL and authentication, the click-to-call request (outgoing_call), how
// each webhook maps to call events (callbacks: answer_callback and
// status_callback, plus incoming_call with its synchronous send_response),
// and optionally the provider's call log (call_history). docs/connectors.md in this
// directory is the reference of the format; PROVIDERS.md lists what the
// built-in definitions rely on.
//
// Parse reads one definition, LoadDir an operator's directory of them, and
// Builtins returns the definitions embedded in the binary (Plivo, Exotel,
// Ozonetel and Telzio). (*Definition).Connector turns a definition into a
// callbridge.Connector that implements the optional capabilities the file can
// express: callbridge.CallPlacer from outgoing_call, callbridge.HistoryLister
// from call_history and callbridge.CredentialChecker from check_credentials.
// Replay runs a captured payload through a definition without authentication,
// for `callbridge connector check`.
//
// Simulator plays the provider's side of calls for every built-in definition:
// correctly signed webhooks in the provider's real format, and a recording
// server with the provider's authentication and Range support.
package declarative

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Limits on definitions and payloads.
const (
	// MaxDefinitionBytes bounds a definition file (1 MiB).
	MaxDefinitionBytes = 1 << 20
	// maxDepth bounds XML element nesting in a definition.
	maxDepth = 32
	// maxIDLen bounds ids read from payloads (callbridge allows 200 bytes).
	maxIDLen = 200
	// maxKeyLen is callbridge's bound on event keys.
	maxKeyLen = 200
	// maxResponseBytes bounds a provider API response read by the connector.
	maxResponseBytes = 4 << 20
	// maxPayloadBytes bounds the redacted payload kept on an event.
	maxPayloadBytes = 16 << 10
)

// Definition is one parsed, validated connector definition. It is immutable
// and safe for concurrent use; Connector may be called any number of times.
type Definition struct {
	// Name is the provider name (the connector's name attribute, else the
	// file name without extension), the value of callbridge.Connection.Provider.
	Name string
	// Type is the connector's type attribute ("PhoneCalls").
	Type string
	// Description is the optional <description> text.
	Description string
	// Source is the name the definition was parsed under (a file name).
	Source string
	// Fields are the configuration fields an operator fills in; their values
	// are a connection's Credentials, keyed by Field.Name.
	Fields []Field
	// Warnings are problems that do not stop the definition from loading:
	// unknown elements and attributes (kept for compatibility with Vtiger
	// files), sections that map no call id. `connector check` prints them.
	Warnings []Problem

	country  string // ISO country for national numbers; default "US"
	timezone string // IANA zone for naive times when the connection sets none

	provider    providerDef
	webhookAuth []*authScheme
	redact      []path
	outgoing    *requestDef
	check       *requestDef
	history     *historyDef
	sections    []*section
}

// Field is one configuration field of a definition.
type Field struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// Type is "text", "password" (a secret: encrypted at rest, redacted from
	// payloads, never shown) or "url".
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	Default  string `json:"default,omitempty"`
	Help     string `json:"help,omitempty"`
}

// Secret reports whether the field holds a secret.
func (f Field) Secret() bool { return f.Type == "password" }

// Problem is one problem found in a definition, at a 1-based line of the
// file (0 when the problem concerns the whole file).
type Problem struct {
	Line    int
	Message string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return p.Message
}

// ParseError lists every problem that kept a definition from loading. Parse
// returns it wrapped in a *callbridge.Error with code EINVALID.
type ParseError struct {
	Source   string
	Problems []Problem
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if len(e.Problems) == 1 {
		b.WriteString(": ")
		b.WriteString(e.Problems[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, ": %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Options configure a Connector. The zero value is production use.
type Options struct {
	// HTTPClient sends the provider API requests (click-to-call, call
	// history, credential checks). Default: a client with a 15 s timeout.
	// Webhook parsing never uses the network.
	HTTPClient *http.Client
	// RecordingHosts are further hosts recording media may be fetched from,
	// in addition to the definition's own: "host[:port]" (HTTPS only) or
	// "http://host:port" / "https://host:port". Meant for simulators and
	// tests; the provider's authentication is sent to them.
	RecordingHosts []string
	// Now returns the current time (for call history windows). Default
	// time.Now.
	Now func() time.Time
}

// Capabilities lists what a definition's connector can do beyond parsing
// webhooks and fetching recordings: "place_call", "call_history",
// "check_credentials", "routing" (an incoming_call section answers where the
// call rings).
func (d *Definition) Capabilities() []string {
	var out []string
	if d.outgoing != nil {
		out = append(out, "place_call")
	}
	if d.history != nil {
		out = append(out, "call_history")
	}
	if d.check != nil {
		out = append(out, "check_credentials")
	}
	for _, s := range d.sections {
		if s.kind == kindIncoming {
			out = append(out, "routing")
			break
		}
	}
	return out
}

// Country returns the ISO 3166 alpha-2 country whose rules read the national
// numbers in the provider's webhooks (the connector's country attribute,
// default "US"). A connection overrides it with a "country" value in its
// Credentials.
func (d *Definition) Country() string { return d.country }

// Field returns the configuration field called name.
func (d *Definition) Field(name string) (Field, bool) {
	for _, f := range d.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// WebhookPaths returns the URL suffixes the definition's callback sections
// listen on, in document order ("" is the connection's bare webhook URL).
// Operators configure the provider with the connection's webhook URL followed
// by "/" and these suffixes.
func (d *Definition) WebhookPaths() map[string]string {
	out := map[string]string{}
	for _, s := range d.sections {
		if _, ok := out[s.name]; !ok {
			out[s.name] = s.path
		}
	}
	return out
}

// config returns a connection's configuration: its credentials with the
// definition's defaults for empty fields.
func (d *Definition) config(creds map[string]string) map[string]string {
	out := make(map[string]string, len(d.Fields)+len(creds))
	for k, v := range creds {
		out[k] = v
	}
	for _, f := range d.Fields {
		if strings.TrimSpace(out[f.Name]) == "" && f.Default != "" {
			out[f.Name] = f.Default
		}
		if f.Type == "url" {
			// A base URL: "https://api.example/" + "/v1/…" must not double
			// the slash.
			out[f.Name] = strings.TrimRight(strings.TrimSpace(out[f.Name]), "/")
		}
	}
	return out
}

// secrets returns the values of a connection's password fields that are long
// enough to redact safely.
func (d *Definition) secrets(cfg map[string]string) []string {
	var out []string
	for _, f := range d.Fields {
		if v := cfg[f.Name]; f.Secret() && len(v) >= 4 {
			out = append(out, v)
		}
	}
	return out
}
