package http

import (
	"context"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// KommoHookPattern is the ServeMux pattern KommoHook is mounted at
// (Server.Mounts): Kommo posts account webhooks there.
const KommoHookPattern = "POST " + callbridge.HookPath + "{token}"

// IncomingLeadRecorder records what happened to incoming leads
// (implemented by *pipeline.RulesWorker).
type IncomingLeadRecorder interface {
	ResolveIncomingLeads(ctx context.Context, acct *callbridge.Account, outcomes []callbridge.IncomingLeadOutcome) error
}

// KommoHook serves Kommo's account webhooks at KommoHookPattern. Kommo
// signs nothing in them, so the address is the credential: {token} is
// callbridge.SignHookToken(Key, account id), unguessable and checked in
// constant time; the body's account[id], when present, must be the
// account's Kommo id. The body is form-encoded; the incoming-lead events
// (unsorted[delete][N][uid], [action] accept|decline, [accept_result] or
// [decline_result] [leads|contacts|companies][M], [modified_user_id]) go to
// Leads; other events are acknowledged and ignored. Kommo waits 2 seconds
// and disables a webhook after too many failures, so the handler only
// records (one short transaction per call) and answers.
type KommoHook struct {
	Accounts AccountFinder
	Leads    IncomingLeadRecorder
	// Key authenticates tokens; with an empty key every request is refused.
	Key []byte
	// MaxBodyBytes bounds the body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	Logger       *slog.Logger
	Now          func() time.Time
}

// ServeHTTP implements http.Handler.
func (h *KommoHook) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	token := r.PathValue("token")
	if token == "" {
		token = strings.TrimPrefix(r.URL.Path, callbridge.HookPath)
	}
	id, err := callbridge.ParseHookToken(h.Key, token)
	if err != nil {
		Error(w, r, err)
		return
	}
	ctx := r.Context()
	acct, err := h.Accounts.FindAccount(ctx, id)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		Error(w, r, callbridge.Errorf(callbridge.EUNAUTHORIZED, "Invalid webhook address."))
		return
	} else if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	setAccount(r, acct.ID)
	if !acct.Active() {
		Error(w, r, callbridge.Errorf(callbridge.EGONE, "The account was disconnected."))
		return
	}
	limit := h.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := readBody(w, r, limit)
	if err != nil {
		Error(w, r, err)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		Error(w, r, &callbridge.Error{Code: callbridge.EINVALID, Message: "The body must be form-encoded.", Err: err})
		return
	}
	if raw := form.Get("account[id]"); raw != "" && raw != strconv.FormatInt(acct.KommoID, 10) {
		Error(w, r, callbridge.Errorf(callbridge.EFORBIDDEN, "The webhook names another Kommo account."))
		return
	}
	now := time.Now().UTC()
	if h.Now != nil {
		now = h.Now().UTC()
	}
	outcomes := ParseUnsortedDelete(form, now)
	if len(outcomes) > 0 && h.Leads != nil {
		if err := h.Leads.ResolveIncomingLeads(ctx, acct, outcomes); err != nil {
			Error(w, r, unavailable(err))
			return
		}
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{"status": "ok", "incoming_leads": len(outcomes)})
}

// maxHookItems bounds the items read from one webhook.
const maxHookItems = 250

// ParseUnsortedDelete reads the unsorted[delete] items of a Kommo account
// webhook: one outcome per item with a uid and an action of accept or
// decline, in item order; at is their time.
func ParseUnsortedDelete(form url.Values, at time.Time) []callbridge.IncomingLeadOutcome {
	const prefix = "unsorted[delete]["
	var idx []int
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		n, tail, ok := strings.Cut(rest, "]")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 || tail != "[uid]" || len(idx) >= maxHookItems {
			continue
		}
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var out []callbridge.IncomingLeadOutcome
	for _, i := range idx {
		p := prefix + strconv.Itoa(i) + "]"
		o := callbridge.IncomingLeadOutcome{UID: strings.TrimSpace(form.Get(p + "[uid]")), Action: form.Get(p + "[action]"),
			Source: "webhook", At: at}
		if o.UID == "" || (o.Action != callbridge.IncomingAccept && o.Action != callbridge.IncomingDecline) {
			continue
		}
		result := p + "[" + o.Action + "_result]"
		o.LeadIDs = formIDs(form, result+"[leads]")
		o.ContactIDs = formIDs(form, result+"[contacts]")
		o.CompanyIDs = formIDs(form, result+"[companies]")
		o.UserID, _ = strconv.ParseInt(form.Get(p+"[modified_user_id]"), 10, 64)
		out = append(out, o)
	}
	return out
}

// formIDs reads the ids of key[0], key[1], … (and key[] values), in index
// order.
func formIDs(form url.Values, key string) []int64 {
	type item struct {
		i  int
		id int64
	}
	var items []item
	for k, vs := range form {
		rest, ok := strings.CutPrefix(k, key+"[")
		if !ok || !strings.HasSuffix(rest, "]") || len(vs) == 0 {
			continue
		}
		i := -1
		if n := strings.TrimSuffix(rest, "]"); n != "" {
			var err error
			if i, err = strconv.Atoi(n); err != nil {
				continue
			}
		}
		for _, v := range vs {
			if id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && id > 0 && len(items) < maxHookItems {
				items = append(items, item{i, id})
			}
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return a.i - b.i })
	var out []int64
	for _, it := range items {
		out = append(out, it.id)
	}
	return out
}
