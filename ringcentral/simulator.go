package ringcentral

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"callbridge"
)

// Simulator is a fake RingCentral platform: the OAuth token endpoint (JWT
// grant), subscriptions with the Validation-Token handshake, the extension
// list, the call log, RingOut and recording content (Server), and the
// telephony-session notifications RingCentral sends for a call
// (Notifications, Send). Its exported fields are read-only once it is in
// use; it is then safe for concurrent use. It must not be copied after first
// use.
type Simulator struct {
	// ClientID, ClientSecret and JWT are the credentials the token endpoint
	// accepts; use the same values in the callbridge connection.
	ClientID, ClientSecret, JWT string
	// AccountID is the account's id in event paths and URIs. Default
	// "400000001".
	AccountID string
	// Extensions are the account's users (ListExtensions). The first one is
	// the JWT's user.
	Extensions []callbridge.Extension
	// WebhookURL is where notifications go when no subscription exists (set
	// it with VerificationToken); with a subscription, its address and
	// verification token are used.
	WebhookURL        string
	VerificationToken string
	// Target, when set, is where requests to webhook addresses are actually
	// delivered: with an empty path or "/" it replaces only the scheme and
	// host of the address, otherwise it is the full URL.
	Target string
	// MediaBase is the scheme and host of recording content URIs, e.g. the
	// URL of the httptest.Server running Server. Default
	// "https://media.ringcentral.com".
	MediaBase string
	// TokenTTL is the lifetime of issued access tokens. Default 1 hour.
	TokenTTL time.Duration
	// HTTPClient sends webhooks and handshakes. Default: 10 s timeout.
	HTTPClient *http.Client

	mu        sync.Mutex
	tokens    map[string]time.Time // access token -> expiry
	exchanges int
	subs      []*SimSubscription
	callLog   []map[string]any
	ringOuts  []SimRingOut
}

// SimSubscription is a subscription held by the simulator.
type SimSubscription struct {
	ID                string
	Address           string
	VerificationToken string
	EventFilters      []string
	Status            string // Active or Blacklisted
	ExpiresAt         time.Time
	Renewals          int
}

// SimRingOut is a RingOut placed through the simulator.
type SimRingOut struct {
	ID       string
	From, To string
	CallerID string
	Bearer   string // the access token it was placed with
}

func (s *Simulator) accountID() string {
	if s.AccountID == "" {
		return "400000001"
	}
	return s.AccountID
}

func (s *Simulator) mediaBase() string {
	if s.MediaBase == "" {
		return "https://" + DefaultMediaHost
	}
	return strings.TrimRight(s.MediaBase, "/")
}

func (s *Simulator) client() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// TokenExchanges returns how many access tokens the token endpoint issued.
func (s *Simulator) TokenExchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// RevokeTokens invalidates every issued access token (as an early expiry or
// revocation would); the next API call gets 401.
func (s *Simulator) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Subscriptions returns copies of the simulator's subscriptions.
func (s *Simulator) Subscriptions() []SimSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SimSubscription, 0, len(s.subs))
	for _, sub := range s.subs {
		c := *sub
		c.EventFilters = slices.Clone(sub.EventFilters)
		out = append(out, c)
	}
	return out
}

// SetSubscription changes a subscription's status and expiry (zero keeps
// it), e.g. to blacklist it or make it due for renewal.
func (s *Simulator) SetSubscription(id, status string, expiresAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
		if sub.ID == id {
			if status != "" {
				sub.Status = status
			}
			if !expiresAt.IsZero() {
				sub.ExpiresAt = expiresAt
			}
		}
	}
}

// RingOuts returns the RingOuts placed through the simulator.
func (s *Simulator) RingOuts() []SimRingOut {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ringOuts)
}

// apiErr writes RingCentral's error document.
func apiErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"errorCode": code, "message": msg,
		"errors": []map[string]any{{"errorCode": code, "message": msg}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Server returns the simulated platform:
//
//   - POST /restapi/oauth/token: the JWT bearer grant with HTTP Basic
//     client_id:client_secret (401 invalid_client otherwise) and assertion
//     JWT (400 invalid_grant otherwise); issues a bearer token for TokenTTL.
//   - Every /restapi/v1.0 path needs a valid bearer token (401 otherwise):
//     GET /account/~/extension/~ (the JWT's user), GET /account/~/extension
//     (Extensions, paged by perPage and page), GET, POST /subscription,
//     POST /subscription/{id}/renew, DELETE /subscription/{id}, GET
//     /account/~/call-log (LogCall records, filtered by dateFrom and dateTo,
//     paged), POST /account/~/extension/~/ring-out, and GET
//     /account/{id}/recording/{id}/content (RecordingAudio, with Range).
//
// Creating a subscription performs the handshake: the simulator POSTs an
// empty body with a Validation-Token header to the address and accepts the
// subscription only if the answer is 200 and echoes the header (else 400
// SUB-520).
func (s *Simulator) Server() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == tokenPath {
			s.token(w, r)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/restapi/v1.0/")
		if !ok {
			apiErr(w, http.StatusNotFound, "CMN-102", "Resource not found")
			return
		}
		bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		exp, known := s.tokens[bearer]
		s.mu.Unlock()
		if !ok || !known || time.Now().After(exp) {
			apiErr(w, http.StatusUnauthorized, "TokenInvalid", "Invalid token")
			return
		}
		acct := "/account/" + s.accountID() + "/"
		switch {
		case r.Method == http.MethodGet && rest == "account/~/extension/~":
			e := callbridge.Extension{ID: "1", Number: "101", Name: "Simulated user"}
			if len(s.Extensions) > 0 {
				e = s.Extensions[0]
			}
			writeJSON(w, http.StatusOK, map[string]any{"id": json.Number(numericOr(e.ID)), "extensionNumber": e.Number, "name": e.Name, "status": "Enabled", "type": "User"})
		case r.Method == http.MethodGet && rest == "account/~/extension":
			s.extensions(w, r)
		case rest == "subscription" && r.Method == http.MethodGet:
			s.listSubs(w)
		case rest == "subscription" && r.Method == http.MethodPost:
			s.createSub(w, r)
		case strings.HasPrefix(rest, "subscription/"):
			s.subOp(w, r, strings.TrimPrefix(rest, "subscription/"))
		case r.Method == http.MethodGet && rest == "account/~/call-log":
			s.listCallLog(w, r)
		case r.Method == http.MethodPost && rest == "account/~/extension/~/ring-out":
			s.ringOut(w, r, bearer)
		case r.Method == http.MethodGet && (strings.HasPrefix("/"+rest, acct) || strings.HasPrefix(rest, "account/~/")) &&
			strings.HasSuffix(rest, "/content"):
			s.content(w, r, rest)
		default:
			apiErr(w, http.StatusNotFound, "CMN-102", "Resource not found")
		}
	})
}

// numericOr returns s when it is digits, else "0".
func numericOr(s string) string {
	if isDigits(s) {
		return s
	}
	return "0"
}

// token answers the token endpoint.
func (s *Simulator) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if r.Method != http.MethodPost || !ok || subtle.ConstantTimeCompare([]byte(id), []byte(s.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.ClientSecret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Invalid client"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != JWTGrantType ||
		subtle.ConstantTimeCompare([]byte(r.PostForm.Get("assertion")), []byte(s.JWT)) != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "Invalid assertion"})
		return
	}
	ttl := s.TokenTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	tok := randomHex("U0pD", 24)
	s.mu.Lock()
	if s.tokens == nil {
		s.tokens = map[string]time.Time{}
	}
	s.tokens[tok] = time.Now().Add(ttl)
	s.exchanges++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": int(ttl / time.Second),
		"refresh_token": randomHex("R", 16), "refresh_token_expires_in": 604800, "scope": "CallControl ReadAccounts ReadCallLog RingOut",
		"owner_id": "1", "endpoint_id": randomHex("E", 8)})
}

// pageParams reads perPage (default 100, at most 1000) and page (from 1).
func pageParams(q url.Values) (perPage, page int) {
	perPage, page = 100, 1
	if n, err := strconv.Atoi(q.Get("perPage")); err == nil && n > 0 {
		perPage = min(n, 1000)
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	return perPage, page
}

// pageOf answers one page of records with paging and navigation.
func pageOf(w http.ResponseWriter, r *http.Request, records []any) {
	perPage, page := pageParams(r.URL.Query())
	total := (len(records) + perPage - 1) / perPage
	lo := min((page-1)*perPage, len(records))
	hi := min(lo+perPage, len(records))
	nav := map[string]any{}
	if page < total {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		nav["nextPage"] = map[string]any{"uri": "https://" + r.Host + r.URL.Path + "?" + q.Encode()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"uri": r.URL.String(), "records": records[lo:hi],
		"paging":     map[string]any{"page": page, "totalPages": total, "perPage": perPage, "totalElements": len(records)},
		"navigation": nav})
}

func (s *Simulator) extensions(w http.ResponseWriter, r *http.Request) {
	var recs []any
	for _, e := range s.Extensions {
		recs = append(recs, map[string]any{"id": json.Number(numericOr(e.ID)), "extensionNumber": e.Number, "name": e.Name,
			"type": "User", "status": "Enabled"})
	}
	pageOf(w, r, recs)
}

func (s *Simulator) subInfo(sub *SimSubscription) map[string]any {
	var filters []string
	for _, f := range sub.EventFilters {
		filters = append(filters, strings.Replace(f, "/account/~/", "/account/"+s.accountID()+"/", 1))
	}
	return map[string]any{"id": sub.ID, "uri": "https://platform.ringcentral.com/restapi/v1.0/subscription/" + sub.ID,
		"status": sub.Status, "eventFilters": filters, "creationTime": time.Now().UTC().Format(time.RFC3339),
		"expirationTime": sub.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		"expiresIn":      max(int(time.Until(sub.ExpiresAt)/time.Second), 0),
		"deliveryMode":   map[string]any{"transportType": "WebHook", "address": sub.Address, "encryption": false}}
}

func (s *Simulator) listSubs(w http.ResponseWriter) {
	s.mu.Lock()
	var recs []any
	for _, sub := range s.subs {
		recs = append(recs, s.subInfo(sub))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"uri": "https://platform.ringcentral.com/restapi/v1.0/subscription", "records": recs})
}

func (s *Simulator) createSub(w http.ResponseWriter, r *http.Request) {
	var body createSubscription
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil || len(body.EventFilters) == 0 {
		apiErr(w, http.StatusBadRequest, "CMN-101", "Parameter [eventFilters] value is invalid")
		return
	}
	if body.DeliveryMode.TransportType != "WebHook" || body.DeliveryMode.Address == "" {
		apiErr(w, http.StatusBadRequest, "CMN-101", "Parameter [deliveryMode.address] value is invalid")
		return
	}
	if err := s.handshake(r.Context(), body.DeliveryMode.Address); err != nil {
		apiErr(w, http.StatusBadRequest, "SUB-520", "Validation Token is not returned")
		return
	}
	ttl := time.Duration(body.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = 7 * 24 * time.Hour
	}
	sub := &SimSubscription{ID: randomHex("", 16), Address: body.DeliveryMode.Address, VerificationToken: body.DeliveryMode.VerificationToken,
		EventFilters: body.EventFilters, Status: "Active", ExpiresAt: time.Now().Add(ttl)}
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	info := s.subInfo(sub)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// handshake checks that address echoes a Validation-Token.
func (s *Simulator) handshake(ctx context.Context, address string) error {
	dst, err := s.destination(address)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dst, nil)
	if err != nil {
		return err
	}
	v := randomHex("", 16)
	req.Header.Set(ValidationTokenHeader, v)
	req.Header.Set("User-Agent", "RingCentral-Webhook/8.3")
	resp, err := s.client().Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get(ValidationTokenHeader) != v {
		return errors.New("handshake refused")
	}
	return nil
}

func (s *Simulator) subOp(w http.ResponseWriter, r *http.Request, rest string) {
	id, op, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.subs, func(sub *SimSubscription) bool { return sub.ID == id })
	if i < 0 {
		apiErr(w, http.StatusNotFound, "SUB-404", "Subscription not found")
		return
	}
	sub := s.subs[i]
	switch {
	case r.Method == http.MethodDelete && op == "":
		s.subs = slices.Delete(s.subs, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && op == "renew":
		if sub.Status != "Active" {
			apiErr(w, http.StatusBadRequest, "SUB-406", "Subscription is blacklisted")
			return
		}
		sub.ExpiresAt = time.Now().Add(7 * 24 * time.Hour)
		sub.Renewals++
		writeJSON(w, http.StatusOK, s.subInfo(sub))
	case r.Method == http.MethodGet && op == "":
		writeJSON(w, http.StatusOK, s.subInfo(sub))
	default:
		apiErr(w, http.StatusNotFound, "CMN-102", "Resource not found")
	}
}

func (s *Simulator) listCallLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to := parseTime(q.Get("dateFrom"), ""), parseTime(q.Get("dateTo"), "")
	s.mu.Lock()
	var recs []any
	for _, rec := range s.callLog {
		start := parseTime(rec["startTime"].(string), "")
		if (!from.IsZero() && start.Before(from)) || (!to.IsZero() && start.After(to)) {
			continue
		}
		if t := q.Get("type"); t != "" && rec["type"] != t {
			continue
		}
		recs = append(recs, rec)
	}
	s.mu.Unlock()
	slices.SortStableFunc(recs, func(a, b any) int {
		return strings.Compare(b.(map[string]any)["startTime"].(string), a.(map[string]any)["startTime"].(string))
	})
	pageOf(w, r, recs)
}

func (s *Simulator) ringOut(w http.ResponseWriter, r *http.Request, bearer string) {
	var body ringOutRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		apiErr(w, http.StatusBadRequest, "CMN-101", "Malformed request")
		return
	}
	if body.From.PhoneNumber == "" {
		apiErr(w, http.StatusBadRequest, "CMN-101", "Parameter [from.phoneNumber] value is invalid")
		return
	}
	if body.To.PhoneNumber == "" {
		apiErr(w, http.StatusBadRequest, "CMN-101", "Parameter [to.phoneNumber] value is invalid")
		return
	}
	ro := SimRingOut{ID: strconv.FormatUint(randomUint(), 10), From: body.From.PhoneNumber, To: body.To.PhoneNumber, Bearer: bearer}
	if body.CallerID != nil {
		ro.CallerID = body.CallerID.PhoneNumber
	}
	s.mu.Lock()
	s.ringOuts = append(s.ringOuts, ro)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": ro.ID,
		"uri":    "https://platform.ringcentral.com/restapi/v1.0/account/" + s.accountID() + "/extension/1/ring-out/" + ro.ID,
		"status": map[string]any{"callStatus": "InProgress", "callerStatus": "InProgress", "calleeStatus": "InProgress"}})
}

// content serves recording content like media.ringcentral.com.
func (s *Simulator) content(w http.ResponseWriter, r *http.Request, rest string) {
	parts := strings.Split(rest, "/")
	if len(parts) != 5 || parts[0] != "account" || parts[2] != "recording" || !isToken(parts[3]) {
		apiErr(w, http.StatusNotFound, "CMN-102", "Resource not found")
		return
	}
	w.Header().Set("Content-Type", "audio/mpeg")
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, parts[3]+".mp3", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), bytes.NewReader(RecordingAudio(parts[3])))
}

// RecordingAudio returns the fake audio served for a recording: 16 KiB that
// depend only on id.
func RecordingAudio(id string) []byte {
	const size = 16 << 10
	out := make([]byte, 0, size)
	out = append(out, "ID3\x04\x00\x00\x00\x00\x00\x00"...)
	block := sha256.Sum256([]byte("callbridge-ringcentral-simulator:" + id))
	for len(out) < size {
		out = append(out, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return out[:size]
}

func randomHex(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func randomUint() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 12
}

// destination applies Target to an address.
func (s *Simulator) destination(address string) (string, error) {
	if s.Target == "" {
		return address, nil
	}
	t, err := url.Parse(s.Target)
	if err != nil {
		return "", err
	}
	if t.Path != "" && t.Path != "/" {
		return s.Target, nil
	}
	u, err := url.Parse(address)
	if err != nil {
		return "", err
	}
	u.Scheme, u.Host = t.Scheme, t.Host
	return u.String(), nil
}
