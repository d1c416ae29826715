package callbridge

import "time"

// AccountStatus is the lifecycle state of a Kommo installation.
type AccountStatus string

// Account statuses.
const (
	AccountActive       AccountStatus = "active"
	AccountDisconnected AccountStatus = "disconnected" // uninstalled: all work stops
)

// Account is one installation of callbridge in one Kommo account. ID is ours;
// the Kommo account id and subdomain are attributes (the subdomain can change).
type Account struct {
	ID        int64
	KommoID   int64  // Kommo's account id
	Subdomain string // e.g. "acme" for acme.kommo.com
	// BaseURL is the account's API origin, e.g. "https://acme.kommo.com"; taken
	// from the OAuth referer (or the configured emulator URL).
	BaseURL   string
	Status    AccountStatus
	Settings  Settings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Active reports whether work may be done for the account.
func (a *Account) Active() bool { return a.Status == AccountActive }

// Settings are the account's call-handling rules, edited by its administrator.
type Settings struct {
	// Country is the ISO 3166 alpha-2 code used to read national numbers
	// (default "US").
	Country string `json:"country,omitempty"`
	// Language of the note text: "en" (default), "es" or "pt".
	Language string `json:"language,omitempty"`
	// SourceName is shown in Kommo as the call's source (default "callbridge").
	SourceName string `json:"source_name,omitempty"`
	// UnsortedPipelineID is the pipeline for incoming leads; 0 = Kommo's default.
	UnsortedPipelineID int64 `json:"unsorted_pipeline_id,omitempty"`

	// Routing configures smart forwarding of incoming calls.
	Routing RoutingSettings `json:"routing"`

	// Extensions maps Kommo user ids (as decimal strings) to the agent
	// identity the provider uses for them (extension, number or SIP URI).
	Extensions map[string]string `json:"extensions,omitempty"`
	// Widget holds the account-wide widget options; Users overrides them per
	// Kommo user id (decimal string).
	Widget WidgetPrefs            `json:"widget"`
	Users  map[string]WidgetPrefs `json:"users,omitempty"`

	// Rules are the call-handling rules (docs/rules.md). The zero value is
	// the default: an unknown inbound number gets an incoming lead, and
	// nothing else is created.
	Rules RuleSettings `json:"rules"`
}

// RoutingSettings configure smart forwarding: an incoming call rings the
// extension of the caller's responsible manager in Kommo, then Fallback.
type RoutingSettings struct {
	// Disabled turns smart forwarding off: calls ring Fallback only.
	Disabled bool `json:"disabled,omitempty"`
	// Fallback is the agent to ring when no manager is found or the manager
	// does not answer: a ring group, a default extension or a number.
	Fallback string `json:"fallback,omitempty"`
	// Voicemail records a message when nobody answers.
	Voicemail bool `json:"voicemail,omitempty"`
}

// WidgetPrefs are the widget's per-account and per-user options from Kommo's
// VoIP configuration guide. Nil fields inherit (user → account → default).
type WidgetPrefs struct {
	RingSound     *bool `json:"ring_sound,omitempty"`     // play a ringing sound (default true)
	OpenCard      *bool `json:"open_card,omitempty"`      // open the client's card on answer (default false)
	ResultWindow  *bool `json:"result_window,omitempty"`  // show the call-result window (default true)
	QualityRating *bool `json:"quality_rating,omitempty"` // ask for a 1–5 call quality rating (default false)
}

// UserForAgent returns the Kommo user id mapped to the provider's agent
// identity, or 0.
func (s Settings) UserForAgent(agent string) int64 {
	if agent == "" {
		return 0
	}
	for user, ext := range s.Extensions {
		if ext != "" && (ext == agent || NormalizePhone(ext, s.Country) == NormalizePhone(agent, s.Country)) {
			var id int64
			for _, r := range user {
				if r < '0' || r > '9' {
					return 0
				}
				id = id*10 + int64(r-'0')
			}
			return id
		}
	}
	return 0
}

// WithDefaults returns s with empty fields set to their defaults.
func (s Settings) WithDefaults() Settings {
	if s.Country == "" {
		s.Country = "US"
	}
	if s.Language == "" {
		s.Language = "en"
	}
	if s.SourceName == "" {
		s.SourceName = "callbridge"
	}
	return s
}

// Token is an account's OAuth pair. Refresh tokens rotate and are single-use,
// so refreshes are single-flight per account: a process takes the lease
// (LeaseOwner, LeaseUntil) before refreshing and stores the new pair with a
// compare-and-swap on Version.
type Token struct {
	AccountID    int64
	AccessToken  string // secret; encrypted at rest, never logged
	RefreshToken string // secret; encrypted at rest, never logged
	ExpiresAt    time.Time
	Version      int64 // increases with every stored pair
	LeaseOwner   string
	LeaseUntil   time.Time
	UpdatedAt    time.Time
}

// Connection links an account to one provider account. Webhooks for it arrive
// at /webhooks/{Token}; Token is unguessable (32 random bytes, base64url).
type Connection struct {
	ID        int64
	AccountID int64
	Provider  string // connector name, e.g. "twilio"
	Name      string
	Token     string
	// TimeZone is the IANA zone of the provider's naive timestamps (default UTC).
	TimeZone string
	// Credentials are the provider's secrets (for Twilio: account_sid,
	// auth_token). Encrypted at rest, never logged, never returned by an API.
	Credentials map[string]string
	CreatedAt   time.Time
}

// InstallCode is an OAuth authorization code persisted on arrival, before it is
// exchanged: Kommo's install webhook waits 3 s and is never resent.
type InstallCode struct {
	ID         int64
	Code       string // secret; encrypted at rest
	Referer    string // account host, e.g. "acme.kommo.com"
	State      string
	FromWidget bool
	Status     string // "pending", "done", "failed"
	Error      string
	AccountID  int64 // set when done
	CreatedAt  time.Time
}
