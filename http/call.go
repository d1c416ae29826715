package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"time"
	"unicode/utf8"

	"callbridge"
)

// Limits of the call-result endpoint.
const (
	// MaxResultText is the longest call result text, in characters.
	MaxResultText = 4000
	// maxIDLen bounds call_uid and provider_call_id (bytes).
	maxIDLen = 200
	// defaultRecordingLinkTTL is the lifetime of recording links handed to
	// the widget when Server.RecordingLinkTTL is zero.
	defaultRecordingLinkTTL = time.Hour
)

// resultRequest is the body of POST /api/widget/calls/result.
type resultRequest struct {
	CallUID        string `json:"call_uid"`
	ConnectionID   int64  `json:"connection_id"`
	ProviderCallID string `json:"provider_call_id"`
	Text           string `json:"text"`
	CallStatus     int    `json:"call_status"`
	EntityType     string `json:"entity_type"`
	EntityID       int64  `json:"entity_id"`
	// Rating is the manager's 1–5 call quality rating (the widget's
	// quality_rating preference); 0 = not given.
	Rating int `json:"rating"`
}

// validate checks everything that needs no database, with a message that
// says precisely what is wrong.
func (req *resultRequest) validate() error {
	invalid := func(format string, args ...any) error {
		return callbridge.Errorf(callbridge.EINVALID, format, args...)
	}
	byUID := req.CallUID != ""
	byProvider := req.ConnectionID != 0 || req.ProviderCallID != ""
	switch {
	case byUID && byProvider:
		return invalid("Name the call either by call_uid or by connection_id and provider_call_id, not both.")
	case !byUID && !byProvider:
		return invalid("Name the call by call_uid, or by connection_id and provider_call_id.")
	case byUID && len(req.CallUID) > maxIDLen:
		return invalid("call_uid must be at most %d bytes.", maxIDLen)
	case byProvider && req.ConnectionID <= 0:
		return invalid("connection_id must be a positive id when provider_call_id is given.")
	case byProvider && req.ProviderCallID == "":
		return invalid("provider_call_id is required with connection_id.")
	case byProvider && len(req.ProviderCallID) > maxIDLen:
		return invalid("provider_call_id must be at most %d bytes.", maxIDLen)
	}
	if !utf8.ValidString(req.Text) {
		return invalid("text must be valid UTF-8.")
	}
	if n := utf8.RuneCountInString(req.Text); n > MaxResultText {
		return invalid("text must be at most %d characters (got %d).", MaxResultText, n)
	}
	if req.CallStatus < 0 || req.CallStatus > callbridge.KommoCallBusy {
		return invalid("call_status must be between 0 (not given) and %d.", callbridge.KommoCallBusy)
	}
	if req.Rating < 0 || req.Rating > 5 {
		return invalid("rating must be between 0 (not given) and 5.")
	}
	switch {
	case req.EntityType == "" && req.EntityID != 0:
		return invalid("entity_type is required with entity_id.")
	case req.EntityType != "" && !callbridge.ValidEntityType(req.EntityType):
		return invalid("entity_type must be one of leads, contacts, companies or customers.")
	case req.EntityType != "" && req.EntityID <= 0:
		return invalid("entity_id must be a positive id with entity_type.")
	}
	if req.Text == "" && req.CallStatus == 0 && req.EntityType == "" && req.Rating == 0 {
		return invalid("Nothing to save: give text, call_status, rating or entity_type and entity_id.")
	}
	return nil
}

// handleSaveResult is POST /api/widget/calls/result: the manager saved the
// call-result window. The result is recorded by the Ingester for the token's
// account, with the token's user and a dedupe key of the token's jti and the
// body's SHA-256, so a retried request is stored once.
func (s *Server) handleSaveResult(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	body, err := readBody(w, r, s.maxBody())
	if err != nil {
		Error(w, r, err)
		return
	}
	var req resultRequest
	if err := decodeJSON(body, &req); err != nil {
		Error(w, r, err)
		return
	}
	if err := req.validate(); err != nil {
		Error(w, r, err)
		return
	}
	if req.ConnectionID != 0 {
		if _, err := s.Store.FindConnection(r.Context(), a.Account.ID, req.ConnectionID); callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
			Error(w, r, &callbridge.Error{Code: callbridge.EINVALID, Message: "connection_id does not name a connection of this account.", Err: err})
			return
		} else if err != nil {
			Error(w, r, unavailable(err))
			return
		}
	}

	sum := sha256.Sum256(body)
	in := callbridge.ResultInput{
		CallUID:        req.CallUID,
		ConnectionID:   req.ConnectionID,
		ProviderCallID: req.ProviderCallID,
		Result: callbridge.CallResult{
			Text:       req.Text,
			CallStatus: req.CallStatus,
			EntityType: req.EntityType,
			EntityID:   req.EntityID,
			Rating:     req.Rating,
			UserID:     a.UserID,
			SavedAt:    s.now(),
		},
		Key: a.Claims.ID + ":" + hex.EncodeToString(sum[:]),
	}
	call, err := s.Ingester.SaveResult(r.Context(), a.Account, in)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{"call": s.callView(a.Account, call)})
}

// handleGetCall is GET /api/widget/calls/{uid}: the public view of one of the
// account's calls. Another account's uid is not found.
func (s *Server) handleGetCall(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	uid := r.PathValue("uid")
	if uid == "" || len(uid) > maxIDLen {
		Error(w, r, callbridge.Errorf(callbridge.ENOTFOUND, "Call not found."))
		return
	}
	call, err := s.Store.FindCallByUID(r.Context(), a.Account.ID, uid)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		Error(w, r, &callbridge.Error{Code: callbridge.ENOTFOUND, Message: "Call not found.", Err: err})
		return
	} else if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	if call.AccountID != a.Account.ID { // the store is scoped; be sure anyway
		Error(w, r, callbridge.Errorf(callbridge.ENOTFOUND, "Call not found."))
		return
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{"call": s.callView(a.Account, call)})
}

// callView is the public view of a call: no provider URLs, no credentials,
// nothing of the Kommo sync internals beyond the entity it is on.
type callView struct {
	UID            string                 `json:"uid"`
	Direction      callbridge.Direction   `json:"direction"`
	Status         callbridge.Status      `json:"status"`
	Ended          bool                   `json:"ended"`
	CustomerNumber string                 `json:"customer_number"`
	LineNumber     string                 `json:"line_number"`
	Duration       int                    `json:"duration"` // seconds
	StartedAt      *time.Time             `json:"started_at,omitempty"`
	AnsweredAt     *time.Time             `json:"answered_at,omitempty"`
	EndedAt        *time.Time             `json:"ended_at,omitempty"`
	Result         *callbridge.CallResult `json:"result,omitempty"`
	Kommo          *kommoView             `json:"kommo,omitempty"`
	// RecordingURL is a signed, expiring /rec/ link; absent without a
	// recording.
	RecordingURL string `json:"recording_url,omitempty"`
}

type kommoView struct {
	EntityType string `json:"entity_type"`
	EntityID   int64  `json:"entity_id"`
	Synced     bool   `json:"synced"`
}

func (s *Server) callView(acct *callbridge.Account, c *callbridge.Call) callView {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	v := callView{
		UID:            c.UID,
		Direction:      c.Direction,
		Status:         c.Status,
		Ended:          c.Ended,
		CustomerNumber: c.CustomerNumber,
		LineNumber:     c.LineNumber,
		Duration:       c.Duration,
		StartedAt:      opt(c.StartedAt),
		AnsweredAt:     opt(c.AnsweredAt),
		EndedAt:        opt(c.EndedAt),
		Result:         c.Result,
	}
	if c.Kommo.EntityID != 0 {
		v.Kommo = &kommoView{EntityType: c.Kommo.EntityType, EntityID: c.Kommo.EntityID, Synced: c.Synced()}
	}
	if c.RecordingURL != "" && len(s.RecordingKey) > 0 {
		ttl := s.RecordingLinkTTL
		if ttl <= 0 {
			ttl = defaultRecordingLinkTTL
		}
		v.RecordingURL = s.baseURL() + "/rec/" + callbridge.SignRecordingToken(s.RecordingKey, acct.ID, c.ID, s.now().Add(ttl))
	}
	return v
}

// decodeJSON decodes exactly one JSON object from body into v, with a
// precise EINVALID error on failure. Unknown fields are ignored.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		if typeErr, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && typeErr.Field != "" {
			return &callbridge.Error{Code: callbridge.EINVALID, Message: fmt.Sprintf("%s must be a JSON %s.", typeErr.Field, jsonKind(typeErr.Type.Kind().String())), Err: err}
		}
		return &callbridge.Error{Code: callbridge.EINVALID, Message: "The body must be a JSON object.", Err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return callbridge.Errorf(callbridge.EINVALID, "The body must hold a single JSON object.")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "number"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "value"
}
