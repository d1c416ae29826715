package sandbox

// The exported data types below are both the emulator's storage and what
// State returns (as deep copies). Times are Unix seconds, as in Kommo's API.
// Entity types are Kommo's plural path names: "leads", "contacts",
// "companies", "customers".

import "time"

// User is a Kommo user of one account.
type User struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Admin bool   `json:"is_admin"`
}

// Pipeline is a lead pipeline. Every pipeline ends with the system statuses
// 142 (won) and 143 (lost); its first status is the incoming-leads
// ("unsorted") status, Type 1.
type Pipeline struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	IsMain   bool     `json:"is_main"`
	Statuses []Status `json:"statuses"`
}

// Status is a lead status (pipeline stage).
type Status struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Sort int    `json:"sort"`
	// Type is 1 for the incoming-leads status and 0 for every other one.
	Type int `json:"type"`
}

// Lead status ids shared by every pipeline.
const (
	StatusWon  = 142
	StatusLost = 143
)

// Contact is a contact. Phones are stored as given; matching compares digit
// tails.
type Contact struct {
	ID                int64    `json:"id"`
	Name              string   `json:"name"`
	FirstName         string   `json:"first_name,omitempty"`
	LastName          string   `json:"last_name,omitempty"`
	Phones            []string `json:"phones"`
	ResponsibleUserID int64    `json:"responsible_user_id"`
	CreatedBy         int64    `json:"created_by"`
	CompanyID         int64    `json:"company_id,omitempty"`
	LeadIDs           []int64  `json:"lead_ids"`
	CustomerIDs       []int64  `json:"customer_ids"`
	CreatedAt         int64    `json:"created_at"`
	UpdatedAt         int64    `json:"updated_at"`
	// Unsorted is the uid of the pending incoming lead that created this
	// contact; while it is set the contact is hidden from lists, searches and
	// call matching. It is cleared when the incoming lead is accepted.
	Unsorted string `json:"unsorted,omitempty"`
	// Deleted is set when the incoming lead that created it was declined.
	Deleted bool `json:"deleted,omitempty"`
}

// Company is a company.
type Company struct {
	ID                int64    `json:"id"`
	Name              string   `json:"name"`
	Phones            []string `json:"phones"`
	ResponsibleUserID int64    `json:"responsible_user_id"`
	CreatedBy         int64    `json:"created_by"`
	ContactIDs        []int64  `json:"contact_ids"`
	LeadIDs           []int64  `json:"lead_ids"`
	CustomerIDs       []int64  `json:"customer_ids"`
	CreatedAt         int64    `json:"created_at"`
	UpdatedAt         int64    `json:"updated_at"`
	Unsorted          string   `json:"unsorted,omitempty"`
	Deleted           bool     `json:"deleted,omitempty"`
}

// Lead is a lead (deal). It is active unless StatusID is 142 or 143.
type Lead struct {
	ID                int64   `json:"id"`
	Name              string  `json:"name"`
	Price             int64   `json:"price"`
	PipelineID        int64   `json:"pipeline_id"`
	StatusID          int64   `json:"status_id"`
	ResponsibleUserID int64   `json:"responsible_user_id"`
	CreatedBy         int64   `json:"created_by"`
	ContactIDs        []int64 `json:"contact_ids"`
	CompanyID         int64   `json:"company_id,omitempty"`
	CreatedAt         int64   `json:"created_at"`
	UpdatedAt         int64   `json:"updated_at"`
	ClosedAt          int64   `json:"closed_at,omitempty"`
	Unsorted          string  `json:"unsorted,omitempty"`
	Deleted           bool    `json:"deleted,omitempty"`
}

// Active reports whether the lead is open (not won, not lost).
func (l *Lead) Active() bool { return l.StatusID != StatusWon && l.StatusID != StatusLost }

// Customer is a customer (Kommo's periodic-purchases entity).
type Customer struct {
	ID                int64   `json:"id"`
	Name              string  `json:"name"`
	ResponsibleUserID int64   `json:"responsible_user_id"`
	CreatedBy         int64   `json:"created_by"`
	ContactIDs        []int64 `json:"contact_ids"`
	CompanyID         int64   `json:"company_id,omitempty"`
	CreatedAt         int64   `json:"created_at"`
	UpdatedAt         int64   `json:"updated_at"`
}

// Note is a note on an entity. Call notes have NoteType "call_in" or
// "call_out" and Params {uniq, duration, source, link, phone, call_result,
// call_status}. Integer params are int64, other numbers float64.
type Note struct {
	ID                int64          `json:"id"`
	EntityType        string         `json:"entity_type"`
	EntityID          int64          `json:"entity_id"`
	NoteType          string         `json:"note_type"`
	Params            map[string]any `json:"params"`
	CreatedBy         int64          `json:"created_by"`
	UpdatedBy         int64          `json:"updated_by"`
	ResponsibleUserID int64          `json:"responsible_user_id"`
	CreatedAt         int64          `json:"created_at"`
	UpdatedAt         int64          `json:"updated_at"`
	// Deleted is set when the note's entity was deleted (a declined incoming
	// lead); the API no longer returns it.
	Deleted bool `json:"deleted,omitempty"`
}

// Unsorted statuses.
const (
	UnsortedPending  = "pending"
	UnsortedAccepted = "accepted"
	UnsortedDeclined = "declined"
)

// Unsorted is an incoming lead ("unsorted"). The API lists pending ones only.
type Unsorted struct {
	UID        string         `json:"uid"`
	SourceUID  string         `json:"source_uid"`
	SourceName string         `json:"source_name"`
	Category   string         `json:"category"`
	PipelineID int64          `json:"pipeline_id"`
	CreatedAt  int64          `json:"created_at"`
	Metadata   map[string]any `json:"metadata"`
	LeadIDs    []int64        `json:"lead_ids"`
	ContactIDs []int64        `json:"contact_ids"`
	CompanyIDs []int64        `json:"company_ids"`
	// NoteID is the call_in note added when metadata.is_call_event_needed
	// was not false; 0 otherwise.
	NoteID int64 `json:"note_id,omitempty"`
	// Status is UnsortedPending, UnsortedAccepted or UnsortedDeclined.
	Status      string `json:"status"`
	ProcessedAt int64  `json:"processed_at,omitempty"`
	ProcessedBy int64  `json:"processed_by,omitempty"`
}

// Task is a task.
type Task struct {
	ID                int64  `json:"id"`
	EntityType        string `json:"entity_type,omitempty"`
	EntityID          int64  `json:"entity_id,omitempty"`
	TaskTypeID        int64  `json:"task_type_id"`
	Text              string `json:"text"`
	CompleteTill      int64  `json:"complete_till"`
	Duration          int64  `json:"duration"`
	IsCompleted       bool   `json:"is_completed"`
	ResultText        string `json:"result_text,omitempty"`
	ResponsibleUserID int64  `json:"responsible_user_id"`
	CreatedBy         int64  `json:"created_by"`
	UpdatedBy         int64  `json:"updated_by"`
	CreatedAt         int64  `json:"created_at"`
	UpdatedAt         int64  `json:"updated_at"`
}

// Event is a call notification received on POST /api/v2/events. EntityType
// and EntityID name the entity Kommo's notification would link to (matching
// on the last 8 digits), empty when the number is unknown.
type Event struct {
	ID          int64   `json:"id"`
	Type        string  `json:"type"`
	PhoneNumber string  `json:"phone_number"`
	Users       []int64 `json:"users"`
	EntityType  string  `json:"entity_type,omitempty"`
	EntityID    int64   `json:"entity_id,omitempty"`
	CreatedAt   int64   `json:"created_at"`
}

// Hook kinds.
const (
	HookInstall    = "install"    // the install GET to Config.RedirectURI
	HookDisconnect = "disconnect" // the signed disconnect GET to Config.DisconnectURL
	HookWebhook    = "webhook"    // an account webhook POST to Config.WebhookURL or a registered destination
)

// HookDelivery is one request the emulator sent to the integration. URL has
// no query string (install codes are secrets); Body is the form body of
// account webhooks. Status is the HTTP status received, 0 when the request
// failed (Error says why).
type HookDelivery struct {
	Kind      string `json:"kind"`
	AccountID int64  `json:"account_id"`
	URL       string `json:"url"`
	Body      string `json:"body,omitempty"`
	Status    int    `json:"status"`
	Error     string `json:"error,omitempty"`
	At        int64  `json:"at"`
}

// AccountState is one account with all its data, entities ordered by id.
type AccountState struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Subdomain       string `json:"subdomain"`
	AdminUserID     int64  `json:"admin_user_id"`
	PaymentRequired bool   `json:"payment_required"`
	// Installed is true after an authorization code was exchanged and until
	// Uninstall.
	Installed bool       `json:"installed"`
	CreatedAt int64      `json:"created_at"`
	Users     []User     `json:"users"`
	Pipelines []Pipeline `json:"pipelines"`
	Contacts  []Contact  `json:"contacts"`
	Companies []Company  `json:"companies"`
	Leads     []Lead     `json:"leads"`
	Customers []Customer `json:"customers"`
	Notes     []Note     `json:"notes"`
	Unsorted  []Unsorted `json:"unsorted"`
	Tasks     []Task     `json:"tasks"`
	Events    []Event    `json:"events"`
	Webhooks  []Webhook  `json:"webhooks"`
}

// State is a full dump of the emulator for assertions.
type State struct {
	Accounts []AccountState `json:"accounts"`
	Hooks    []HookDelivery `json:"hooks"`
	Stats    Stats          `json:"stats"`
}

// Account returns the account with Kommo id id, or nil.
func (s State) Account(id int64) *AccountState {
	for i := range s.Accounts {
		if s.Accounts[i].ID == id {
			return &s.Accounts[i]
		}
	}
	return nil
}

// Stats counts what the emulator received. The rate-limited paths are /api/
// and /oauth2/; /sandbox/ is never counted.
type Stats struct {
	// Requests counts answers by endpoint ("POST /api/v4/calls",
	// "PATCH /api/v4/leads/notes/{id}", …) and HTTP status. Status 0 means
	// the connection was closed without a response (an injected drop).
	Requests map[string]map[int]int `json:"requests"`
	// TooManyRequests counts 429 answers: the limiter's, injected ones and
	// storms.
	TooManyRequests int `json:"too_many_requests"`
	// Blocked counts 403 answers to blocked IPs.
	Blocked int `json:"blocked"`
	// Unauthorized counts 401 answers (missing, unknown, expired or revoked
	// tokens, bad client credentials).
	Unauthorized int `json:"unauthorized"`
	// RefreshRequests counts refresh_token grant requests, successful or not.
	RefreshRequests int `json:"refresh_requests"`
	// InjectedErrors counts injected 5xx answers; Dropped counts injected
	// connection drops.
	InjectedErrors int `json:"injected_errors"`
	Dropped        int `json:"dropped"`
	// MaxPerSecondByIP and MaxPerSecondByAccount are the most requests seen
	// in any sliding 1-second window, per client IP and per account (requests
	// whose bearer token names the account).
	MaxPerSecondByIP      map[string]int `json:"max_per_second_by_ip"`
	MaxPerSecondByAccount map[int64]int  `json:"max_per_second_by_account"`
	// Served holds, by endpoint, when the first and the last successful
	// (2xx) answer were given, on the emulator's clock: with the count of
	// 2xx answers it gives an endpoint's steady rate, free of the time a
	// client took to start and to notice it was done.
	Served map[string]Span `json:"served,omitempty"`
}

// Span is the time from First to Last.
type Span struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// Count returns how many answers endpoint got with status.
func (s Stats) Count(endpoint string, status int) int { return s.Requests[endpoint][status] }

// Total returns how many requests endpoint got, whatever the answer.
func (s Stats) Total(endpoint string) int {
	n := 0
	for _, c := range s.Requests[endpoint] {
		n += c
	}
	return n
}
