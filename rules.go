package callbridge

import (
	"context"
	"slices"
	"strings"
	"time"
)

// The account's call-handling rules (docs/rules.md has one example per
// rule). RuleSettings is what the administrator configures; CallRules is
// what the rules did, and still have to do, for one call. Every side effect
// of a rule (a contact, a lead, a task, an accepted incoming lead, a moved
// note, a deleted recording) follows the exactly-once protocol of the call
// note: an Effect is recorded as an intent on the call before the write,
// and an attempt that finds an intent looks in Kommo before writing again.

// What an inbound call from a number Kommo does not know creates
// (RuleSettings.UnknownInbound).
const (
	UnknownIncomingLead   = "incoming_lead"    // an incoming lead (default)
	UnknownContactAndLead = "contact_and_lead" // a contact and a lead
	UnknownLogOnly        = "log_only"         // nothing: the call stays in callbridge's log
)

// What happens to calls between two extensions (RuleSettings.InternalCalls).
const (
	InternalLog    = "log"    // logged like any call when Kommo knows the number (default)
	InternalIgnore = "ignore" // never written to Kommo
)

// Whom a rule's task is assigned to (TaskRule.AssignTo).
const (
	// AssignResponsible: the responsible manager of the lead or contact the
	// task is linked to, else the called manager (default).
	AssignResponsible = "responsible"
	// AssignCalled: the manager who took or placed the call (through the
	// extension mapping), else the entity's responsible manager.
	AssignCalled = "called"
)

// What a rule's task is linked to (TaskRule.LinkTo).
const (
	// LinkLead: the entity the call is logged on, which by Kommo's own rule
	// is the contact's active lead when there is exactly one, else the
	// contact (or the company whose number it is). A call logged on an
	// incoming lead, a lead the rules created or an entity the manager
	// chose has its task there too (default).
	LinkLead = "lead"
	// LinkContact: always the contact with the number, also when the call
	// is logged on one of its leads; the company when the number belongs
	// to a company and no contact has it. Two cases keep the task on the
	// lead the call is on: an incoming lead still pending (its contact is
	// hidden until it is accepted) and a company's lead (the Kommo client
	// does not read a lead's company).
	LinkContact = "contact"
)

// Defaults and limits of the rules' settings.
const (
	// DefaultRetention is how long a recording waits for a contact before it
	// is deleted (Kommo's 18-hour rule).
	DefaultRetention = 18 * time.Hour
	// MaxRetentionHours bounds RecordingRule.RetentionHours (30 days).
	MaxRetentionHours = 720
	// DefaultTaskDue is how long after the call a rule's task is due.
	DefaultTaskDue = 30 * time.Minute
	// MaxTaskDueMinutes bounds TaskRule.DueMinutes (30 days).
	MaxTaskDueMinutes = 43200
	// MaxRuleNumbers bounds RuleSettings.BlockedNumbers and OwnNumbers.
	MaxRuleNumbers = 1000
	// MaxTaskText bounds TaskRule.Text, in characters.
	MaxTaskText = 500
	// DefaultTaskType is Kommo's "Follow-up" task type.
	DefaultTaskType = 1
)

// RuleSettings are the account's call-handling rules. The zero value keeps
// callbridge's default behaviour: an inbound call from an unknown number
// becomes an incoming lead; nothing else is created; a recording that no
// contact claims within 18 hours is deleted.
type RuleSettings struct {
	// UnknownInbound is what an inbound call from a number Kommo does not
	// know creates: UnknownIncomingLead (default, in Settings.
	// UnsortedPipelineID), UnknownContactAndLead (in NewLead) or
	// UnknownLogOnly.
	UnknownInbound string `json:"unknown_inbound,omitempty"`
	// AcceptAnswered accepts the incoming lead automatically when the call
	// was answered; the lead moves to AcceptStatusID (0 = the pipeline's
	// first working stage) and the called manager becomes responsible.
	AcceptAnswered bool  `json:"accept_answered,omitempty"`
	AcceptStatusID int64 `json:"accept_status_id,omitempty"`
	// NewLead is where the leads created for new numbers go
	// (UnknownContactAndLead and OutgoingNewNumber).
	NewLead LeadTarget `json:"new_lead"`
	// KnownContactLead creates a lead for a known contact that has no active
	// lead (every lead won or lost).
	KnownContactLead KnownContactRule `json:"known_contact_lead"`
	// ShowContactNumber adds the number the call used to the note when the
	// contact has several numbers.
	ShowContactNumber bool `json:"show_contact_number,omitempty"`
	// MissedCallTask creates a callback task for a missed (or busy) inbound
	// call; it is completed when a later call with the number is answered.
	MissedCallTask TaskRule `json:"missed_call_task"`
	// OutgoingNewNumber creates a contact and a lead (in NewLead) for an
	// outgoing call to a number Kommo does not know.
	OutgoingNewNumber bool `json:"outgoing_new_number,omitempty"`
	// Recordings configures the 18-hour rule.
	Recordings RecordingRule `json:"recordings"`
	// InternalCalls is InternalLog (default) or InternalIgnore.
	InternalCalls string `json:"internal_calls,omitempty"`
	// BlockedNumbers and OwnNumbers (the account's own lines) never create
	// incoming leads, contacts, leads or tasks; calls with them are still
	// logged where Kommo already knows the number. At most MaxRuleNumbers
	// each; compared on the last 10 digits.
	BlockedNumbers []string `json:"blocked_numbers,omitempty"`
	OwnNumbers     []string `json:"own_numbers,omitempty"`
	// DroppedCallTask creates a recall task when the provider reports that
	// a call failed after it was answered.
	DroppedCallTask TaskRule `json:"dropped_call_task"`
}

// LeadTarget is a pipeline and stage for leads the rules create. Zero
// PipelineID is the account's main pipeline; zero StatusID its first
// working stage.
type LeadTarget struct {
	PipelineID int64 `json:"pipeline_id,omitempty"`
	StatusID   int64 `json:"status_id,omitempty"`
}

// KnownContactRule creates a lead, in PipelineID and StatusID, for a known
// contact without an active lead. It applies to inbound calls, and to
// outgoing calls too when Outgoing is set.
type KnownContactRule struct {
	Enabled    bool  `json:"enabled,omitempty"`
	Outgoing   bool  `json:"outgoing,omitempty"`
	PipelineID int64 `json:"pipeline_id,omitempty"`
	StatusID   int64 `json:"status_id,omitempty"`
}

// TaskRule configures a task a rule creates.
type TaskRule struct {
	Enabled bool `json:"enabled,omitempty"`
	// TaskTypeID is a Kommo task type (default 1, Follow-up).
	TaskTypeID int64 `json:"task_type_id,omitempty"`
	// DueMinutes is how long after the call the task is due (default 30,
	// at most MaxTaskDueMinutes).
	DueMinutes int `json:"due_minutes,omitempty"`
	// AssignTo is AssignResponsible (default) or AssignCalled.
	AssignTo string `json:"assign_to,omitempty"`
	// LinkTo is what the task is linked to: LinkLead (default) or
	// LinkContact.
	LinkTo string `json:"link_to,omitempty"`
	// Text replaces the default, localised text; "{number}" is replaced by
	// the customer's number. At most MaxTaskText characters.
	Text string `json:"text,omitempty"`
}

// Due returns how long after the call the task is due.
func (t TaskRule) Due() time.Duration {
	if t.DueMinutes <= 0 {
		return DefaultTaskDue
	}
	return time.Duration(min(t.DueMinutes, MaxTaskDueMinutes)) * time.Minute
}

// Type returns the task type id (default DefaultTaskType).
func (t TaskRule) Type() int64 {
	if t.TaskTypeID <= 0 {
		return DefaultTaskType
	}
	return t.TaskTypeID
}

// Link returns LinkTo with its default (LinkLead).
func (t TaskRule) Link() string {
	if t.LinkTo == "" {
		return LinkLead
	}
	return t.LinkTo
}

// RecordingRule configures the 18-hour rule: a recording is linked to the
// call in Kommo when the call has a contact or one appears within the
// retention time (an incoming lead accepted, a contact created by hand);
// otherwise it is deleted then, from the provider where the provider allows
// (RecordingDeleter) and from callbridge's store.
type RecordingRule struct {
	// RetentionHours is how long a recording waits for a contact (default
	// 18, at most MaxRetentionHours).
	RetentionHours int `json:"retention_hours,omitempty"`
	// KeepUnlinked keeps recordings that no contact claimed.
	KeepUnlinked bool `json:"keep_unlinked,omitempty"`
}

// Retention returns how long a recording waits for a contact.
func (r RecordingRule) Retention() time.Duration {
	if r.RetentionHours <= 0 {
		return DefaultRetention
	}
	return time.Duration(min(r.RetentionHours, MaxRetentionHours)) * time.Hour
}

// Protected reports whether number is one of the account's blocked or own
// numbers (last 10 digits), which never create anything in Kommo.
func (r RuleSettings) Protected(number string) bool {
	tail := PhoneTail(number, 10)
	if tail == "" {
		return false
	}
	match := func(list []string) bool {
		return slices.ContainsFunc(list, func(n string) bool { return PhoneTail(n, 10) == tail })
	}
	return match(r.BlockedNumbers) || match(r.OwnNumbers)
}

// Mode returns UnknownInbound with its default.
func (r RuleSettings) Mode() string {
	if r.UnknownInbound == "" {
		return UnknownIncomingLead
	}
	return r.UnknownInbound
}

// TaskText returns the text of a task of this rule for number: Text with
// {number} replaced, or fallback.
func (t TaskRule) TaskText(number, fallback string) string {
	if s := strings.TrimSpace(t.Text); s != "" {
		return strings.ReplaceAll(s, "{number}", number)
	}
	return fallback
}

// EffectState is where one side effect of a rule stands.
type EffectState string

// Effect states.
const (
	// EffectIntent: the write was attempted and its outcome is unknown. The
	// next attempt looks in Kommo for it before writing again.
	EffectIntent EffectState = "intent"
	// EffectDone: the write happened; its result is recorded.
	EffectDone EffectState = "done"
	// EffectSkipped: the rule decided not to write (Note says why).
	EffectSkipped EffectState = "skipped"
)

// Effect is one side effect of a rule on one call.
type Effect struct {
	State    EffectState `json:"state"`
	Attempt  int         `json:"attempt,omitempty"`
	IntentAt time.Time   `json:"intent_at,omitzero"`
	At       time.Time   `json:"at,omitzero"` // when it was done or skipped
	// EntityType and EntityID name what the effect created or acted on: the
	// contact, lead, task (EntityType "tasks"), or the note a move created.
	EntityType string `json:"entity_type,omitempty"`
	EntityID   int64  `json:"entity_id,omitempty"`
	// TargetType and TargetID name where it was done: the entity a task is
	// linked to or a note moved to, the contact a lead was created for.
	TargetType string `json:"target_type,omitempty"`
	TargetID   int64  `json:"target_id,omitempty"`
	// Text and Due are the task text or lead name and the task deadline as
	// first planned: an attempt that looks for an uncertain write compares
	// them.
	Text string    `json:"text,omitempty"`
	Due  time.Time `json:"due,omitzero"`
	// FromType, FromID and FromNoteID name the note a move came from;
	// Cleared is set once that note no longer presents the call.
	FromType   string `json:"from_type,omitempty"`
	FromID     int64  `json:"from_id,omitempty"`
	FromNoteID int64  `json:"from_note_id,omitempty"`
	Cleared    bool   `json:"cleared,omitempty"`
	// CompletedAt and CompletedBy: a callback task completed because the
	// call with UID CompletedBy was answered.
	CompletedAt time.Time `json:"completed_at,omitzero"`
	CompletedBy string    `json:"completed_by,omitempty"`
	// Note says why an effect was skipped.
	Note string `json:"note,omitempty"`
}

// Settled reports whether the effect is done or skipped.
func (e *Effect) Settled() bool {
	return e != nil && (e.State == EffectDone || e.State == EffectSkipped)
}

// IncomingLeadOutcome is what a manager (or callbridge) did with an incoming
// lead: Kommo's account webhook unsorted[delete], a poll, or an automatic
// accept.
type IncomingLeadOutcome struct {
	UID string `json:"uid"`
	// Action is "accept" or "decline".
	Action string `json:"action"`
	// LeadIDs, ContactIDs and CompanyIDs are the entities an accepted lead
	// became (the accept_result); a declined lead's entities are deleted.
	LeadIDs    []int64   `json:"lead_ids,omitempty"`
	ContactIDs []int64   `json:"contact_ids,omitempty"`
	CompanyIDs []int64   `json:"company_ids,omitempty"`
	UserID     int64     `json:"user_id,omitempty"`
	Source     string    `json:"source,omitempty"` // "webhook", "poll" or "auto"
	At         time.Time `json:"at,omitzero"`
}

// Incoming lead actions.
const (
	IncomingAccept  = "accept"
	IncomingDecline = "decline"
)

// CallRules is the rule state of one call, stored with the call.
type CallRules struct {
	AccountID int64 `json:"-"`
	CallID    int64 `json:"-"`

	// Rev counts inputs the sync job must act on besides the call's own
	// Version (an incoming lead accepted or declined, a due time reached);
	// DoneRev is the Rev the last completed sync job acted on.
	Rev     int64 `json:"rev,omitempty"`
	DoneRev int64 `json:"done_rev,omitempty"`
	// DueAt is when the sync job must look at the call again (a poll of its
	// incoming lead, the recording deadline); zero for never.
	DueAt time.Time `json:"due_at,omitzero"`

	// IncomingLead is the outcome of the call's incoming lead once known;
	// Applied is set when the call's Kommo record followed it.
	IncomingLead *IncomingLeadOutcome `json:"incoming_lead,omitempty"`
	Applied      bool                 `json:"applied,omitempty"`
	// Polls counts the polls of the incoming lead (the fallback when the
	// account webhook does not arrive).
	Polls int `json:"polls,omitempty"`

	// NumberChecked is set once rule 3 looked at the contact's numbers;
	// ShowNumber then says whether the note shows the number used.
	NumberChecked bool `json:"number_checked,omitempty"`
	ShowNumber    bool `json:"show_number,omitempty"`

	// Contact and Lead are created for a new number or a known contact
	// without an active lead; Accept is the automatic accept of the
	// incoming lead; Move the note moved to the manager's chosen entity;
	// CallbackTask (missed call) and RecallTask (dropped call) the tasks;
	// CompleteTasks the completion of earlier calls' tasks by this
	// answered call; RecordingDeletion the 18-hour rule's deletion.
	Contact           *Effect `json:"contact,omitempty"`
	Lead              *Effect `json:"lead,omitempty"`
	Accept            *Effect `json:"accept,omitempty"`
	Move              *Effect `json:"move,omitempty"`
	CallbackTask      *Effect `json:"callback_task,omitempty"`
	RecallTask        *Effect `json:"recall_task,omitempty"`
	CompleteTasks     *Effect `json:"complete_tasks,omitempty"`
	RecordingDeletion *Effect `json:"recording_deletion,omitempty"`
	// RecordingDeadline is when a recording no contact claimed is deleted.
	RecordingDeadline time.Time `json:"recording_deadline,omitzero"`
	// RecordingDeletedAfter is the retention, in hours, after which the
	// recording was deleted; 0 while it was not.
	RecordingDeletedAfter int `json:"recording_deleted_after,omitempty"`
}

// RulesSweepArgs is the periodic job that wakes the sync job of every call
// whose CallRules.DueAt has passed.
type RulesSweepArgs struct{}

// Kind implements river.JobArgs.
func (RulesSweepArgs) Kind() string { return "call_rules_sweep" }

// RecordingDeleter is an optional connector capability: deleting a
// recording at the provider. DeleteRecording returns nil when the
// recording is gone (also when it was already gone) and EFORBIDDEN when the
// provider does not allow it.
type RecordingDeleter interface {
	DeleteRecording(ctx context.Context, conn *Connection, recordingID, recordingURL string) error
}

// Dropped reports whether the events show a call that failed after it was
// answered: one leg (LegID, or the call itself) answered and then, later in
// the canonical order, reported failed.
func Dropped(events []CallEvent) bool {
	evs := slices.Clone(events)
	SortEvents(evs)
	answered := map[string]bool{}
	for _, e := range evs {
		if e.Type != EventStatus {
			continue
		}
		leg := e.LegID
		if leg == "" {
			leg = e.ProviderCallID
		}
		switch e.Status {
		case StatusAnswered:
			answered[leg] = true
		case StatusFailed:
			if answered[leg] {
				return true
			}
		}
	}
	return false
}
