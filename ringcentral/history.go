package ringcentral

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Listing limits.
const (
	extensionPageSize = 1000
	callLogPageSize   = 250
	maxListPages      = 100
)

// paging is RingCentral's list paging block.
type paging struct {
	Page       int `json:"page"`
	TotalPages int `json:"totalPages"`
}

// navigation is RingCentral's list navigation block.
type navigation struct {
	NextPage *struct {
		URI string `json:"uri"`
	} `json:"nextPage"`
}

// extensionRecord is one extension of GET .../extension.
type extensionRecord struct {
	ID              flexString `json:"id"`
	ExtensionNumber string     `json:"extensionNumber"`
	Name            string     `json:"name"`
	Type            string     `json:"type"`
	Status          string     `json:"status"`
	Contact         struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"contact"`
}

// ListExtensions lists the account's enabled users (GET
// /restapi/v1.0/account/~/extension?type=User&status=Enabled, pages of 1000,
// at most 100 pages). ID is the extension id (the Agent of webhook events),
// Number the extension number, Name the name (or first and last name).
func (c *Connector) ListExtensions(ctx context.Context, conn *callbridge.Connection) ([]callbridge.Extension, error) {
	var out []callbridge.Extension
	for page := 1; page <= maxListPages; page++ {
		q := url.Values{"type": {"User"}, "status": {"Enabled"}, "perPage": {strconv.Itoa(extensionPageSize)}, "page": {strconv.Itoa(page)}}
		data, err := c.api(ctx, conn, http.MethodGet, "/restapi/v1.0/account/~/extension?"+q.Encode(), nil, false)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Records    []extensionRecord `json:"records"`
			Paging     paging            `json:"paging"`
			Navigation navigation        `json:"navigation"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "RingCentral sent an unreadable extension list.")
		}
		for _, r := range doc.Records {
			if r.ID == "" {
				continue
			}
			name := strings.TrimSpace(r.Name)
			if name == "" {
				name = strings.TrimSpace(r.Contact.FirstName + " " + r.Contact.LastName)
			}
			out = append(out, callbridge.Extension{ID: string(r.ID), Name: name, Number: r.ExtensionNumber})
		}
		if doc.Navigation.NextPage == nil || page >= doc.Paging.TotalPages || len(doc.Records) == 0 {
			break
		}
	}
	return out, nil
}

// callLogParty is a call-log record's from or to.
type callLogParty struct {
	PhoneNumber     string     `json:"phoneNumber"`
	ExtensionNumber string     `json:"extensionNumber"`
	ExtensionID     flexString `json:"extensionId"`
	Name            string     `json:"name"`
}

// callLogRecord is one record of the call log.
type callLogRecord struct {
	ID                 string       `json:"id"`
	SessionID          flexString   `json:"sessionId"`
	TelephonySessionID string       `json:"telephonySessionId"`
	StartTime          string       `json:"startTime"`
	Duration           int          `json:"duration"`
	Type               string       `json:"type"`
	Direction          string       `json:"direction"`
	Result             string       `json:"result"`
	From               callLogParty `json:"from"`
	To                 callLogParty `json:"to"`
	Extension          *struct {
		ID flexString `json:"id"`
	} `json:"extension"`
	Recording *struct {
		ID         flexString `json:"id"`
		ContentURI string     `json:"contentUri"`
	} `json:"recording"`
}

// ListCallHistory lists the voice calls of the account's call log that
// started in [since, until) (GET /restapi/v1.0/account/~/call-log with
// dateFrom, dateTo, view=Detailed, type=Voice; pages of 250, at most 100)
// and maps each record to one event for the whole call: ProviderCallID the
// record's telephonySessionId (records without one are left out), so the
// event joins the telephony-session events of the same call; Key "calllog:"
// + record id; a parent-level status from the result (Accepted and Call
// connected are completed, In Progress answered, Busy busy, Missed,
// Voicemail, No Answer, Rejected, Declined, Hang Up, Abandoned, Stopped and
// similar are missed, Call Failed, Internal Error, Wrong Number, Blocked and
// similar are failed, anything else ended); Duration the record's duration
// when answered; OccurredAt start time plus duration; numbers, Agent (the
// extension id) and direction as the webhooks give them; the recording when
// its content URI is on a media host; Payload the record as JSON.
func (c *Connector) ListCallHistory(ctx context.Context, conn *callbridge.Connection, since, until time.Time) ([]callbridge.CallEvent, error) {
	if !until.After(since) {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The history range is empty.")
	}
	const layout = "2006-01-02T15:04:05.000Z"
	since, until = since.UTC(), until.UTC()
	now := time.Now().UTC()
	var out []callbridge.CallEvent
	for page := 1; page <= maxListPages; page++ {
		q := url.Values{"dateFrom": {since.Format(layout)}, "dateTo": {until.Format(layout)}, "view": {"Detailed"},
			"type": {"Voice"}, "perPage": {strconv.Itoa(callLogPageSize)}, "page": {strconv.Itoa(page)}}
		data, err := c.api(ctx, conn, http.MethodGet, "/restapi/v1.0/account/~/call-log?"+q.Encode(), nil, false)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Records    []json.RawMessage `json:"records"`
			Paging     paging            `json:"paging"`
			Navigation navigation        `json:"navigation"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "RingCentral sent an unreadable call log.")
		}
		for _, raw := range doc.Records {
			var r callLogRecord
			if json.Unmarshal(raw, &r) != nil {
				continue
			}
			if ev, ok := c.callLogEvent(&r, conn.TimeZone, since, until); ok {
				ev.Payload = []byte(raw)
				ev.ReceivedAt = now
				out = append(out, ev)
			}
		}
		if doc.Navigation.NextPage == nil || page >= doc.Paging.TotalPages || len(doc.Records) == 0 {
			break
		}
	}
	return out, nil
}

// callLogResults maps call-log results (lowercased) to statuses.
var callLogResults = map[string]callbridge.Status{
	"accepted": callbridge.StatusCompleted, "call connected": callbridge.StatusCompleted,
	"in progress": callbridge.StatusAnswered,
	"busy":        callbridge.StatusBusy,
	"missed":      callbridge.StatusMissed, "voicemail": callbridge.StatusMissed, "no answer": callbridge.StatusMissed,
	"rejected": callbridge.StatusMissed, "declined": callbridge.StatusMissed, "hang up": callbridge.StatusMissed,
	"abandoned": callbridge.StatusMissed, "stopped": callbridge.StatusMissed, "answered not accepted": callbridge.StatusMissed,
	"ip phone offline": callbridge.StatusMissed,
	"call failed":      callbridge.StatusFailed, "call failure": callbridge.StatusFailed, "internal error": callbridge.StatusFailed,
	"wrong number": callbridge.StatusFailed, "restricted number": callbridge.StatusFailed, "blocked": callbridge.StatusFailed,
	"international disabled": callbridge.StatusFailed, "international restricted": callbridge.StatusFailed,
	"no calling credit": callbridge.StatusFailed, "suspended account": callbridge.StatusFailed, "not allowed": callbridge.StatusFailed,
}

// callLogEvent maps one call-log record.
func (c *Connector) callLogEvent(r *callLogRecord, tz string, since, until time.Time) (callbridge.CallEvent, bool) {
	sess := strings.TrimSpace(r.TelephonySessionID)
	if sess == "" || len(sess) > maxIDLen || r.ID == "" || len(r.ID) > maxIDLen {
		return callbridge.CallEvent{}, false
	}
	if r.Type != "" && !strings.EqualFold(r.Type, "Voice") {
		return callbridge.CallEvent{}, false
	}
	start := parseTime(r.StartTime, tz)
	if start.IsZero() || start.Before(since) || !start.Before(until) {
		return callbridge.CallEvent{}, false
	}
	st, ok := callLogResults[strings.ToLower(strings.TrimSpace(r.Result))]
	if !ok {
		st = callbridge.StatusEnded
	}
	ev := callbridge.CallEvent{Type: callbridge.EventStatus, Key: "calllog:" + r.ID, ProviderCallID: sess,
		LegID: "calllog:" + r.ID, Status: st, Sequence: 0}
	from := callbridge.NormalizePhone(bound(r.From.PhoneNumber), "US")
	to := callbridge.NormalizePhone(bound(r.To.PhoneNumber), "US")
	ext := ""
	if r.Extension != nil {
		ext = bound(string(r.Extension.ID))
	}
	var customer string
	if strings.EqualFold(r.Direction, "Outbound") {
		ev.Direction, customer, ev.LineNumber = callbridge.DirectionOutbound, to, from
		if e := bound(string(r.From.ExtensionID)); e != "" {
			ext = e
		}
	} else {
		ev.Direction, customer, ev.LineNumber = callbridge.DirectionInbound, from, to
		if e := bound(string(r.To.ExtensionID)); e != "" {
			ext = e
		}
	}
	fromExt := r.From.ExtensionID != "" || (r.From.PhoneNumber == "" && r.From.ExtensionNumber != "")
	toExt := r.To.ExtensionID != "" || (r.To.PhoneNumber == "" && r.To.ExtensionNumber != "")
	if fromExt && toExt || customer != "" && !callbridge.IsPhoneNumber(customer) {
		ev.Direction, customer = callbridge.DirectionInternal, ""
	}
	ev.CustomerNumber = customer
	ev.Agent = ext
	if st == callbridge.StatusCompleted || st == callbridge.StatusAnswered {
		ev.Duration = max(r.Duration, 0)
	}
	ev.OccurredAt = start.Add(time.Duration(max(r.Duration, 0)) * time.Second)
	if rec := r.Recording; rec != nil && isToken(string(rec.ID)) {
		if u, err := url.Parse(rec.ContentURI); err == nil && u.User == nil && c.mediaAllowed(u.Scheme, u.Host) {
			ev.RecordingID, ev.RecordingURL = string(rec.ID), u.String()
		}
	}
	return ev, true
}
