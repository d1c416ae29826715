package http

import (
	"context"
	"maps"
	nethttp "net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"callbridge"
	"callbridge/kommo"
)

// The widget's settings endpoints:
//
//	GET  /api/widget/settings      the account's settings, the caller's preferences, providers;
//	                               for administrators also connections and Kommo users
//	PUT  /api/widget/settings      (or POST) replace the account's settings; administrators only
//	POST /api/widget/prefs         the caller's own widget preferences
//	POST /api/widget/setup         connect a provider: credentials are checked against the
//	                               provider before anything is stored; administrators only
//	GET  /api/widget/extensions    the provider's extensions (ExtensionLister), for the mapping page
//
// Administrators are Kommo's: the caller's user id is looked up in the
// account's user list (GET /api/v4/users through Server.Kommo), cached for
// adminCacheTTL.

// Limits and timeouts of the settings endpoints.
const (
	// adminCacheTTL is how long an account's user list is trusted.
	adminCacheTTL = 2 * time.Minute
	// adminLookupTimeout bounds the Kommo user list request.
	adminLookupTimeout = 10 * time.Second
	// credentialCheckTimeout bounds CredentialChecker.CheckCredentials.
	credentialCheckTimeout = 15 * time.Second
	// extensionListTimeout bounds ExtensionLister.ListExtensions.
	extensionListTimeout = 15 * time.Second
	// maxMappedUsers bounds Settings.Extensions and Settings.Users.
	maxMappedUsers = 2000
	// maxAgentLen bounds one extension value (bytes).
	maxAgentLen = 200
	// maxSourceName bounds Settings.SourceName (characters).
	maxSourceName = 100
)

// WidgetKommo is what the widget API needs of Kommo. *kommo.Client
// implements it.
type WidgetKommo interface {
	// ListUsers returns the account's users, to tell administrators.
	ListUsers(ctx context.Context, acct *callbridge.Account) ([]kommo.User, error)
}

// OptionalCredentials is implemented by connectors that accept credential
// keys besides the required ones (for Twilio: caller_id). The widget's
// settings form shows them as optional fields.
type OptionalCredentials interface {
	OptionalCredentials() []string
}

// adminCache remembers accounts' Kommo user lists. The zero value is ready.
type adminCache struct {
	mu sync.Mutex
	m  map[int64]adminEntry // by our account id
}

type adminEntry struct {
	users   []kommo.User
	expires time.Time
}

// kommoUsers returns the account's Kommo users, from the cache when fresh.
func (s *Server) kommoUsers(ctx context.Context, acct *callbridge.Account) ([]kommo.User, error) {
	if s.Kommo == nil {
		return nil, callbridge.Errorf(callbridge.EUNAVAILABLE, "Kommo is not configured on this server, so administrators cannot be recognised.")
	}
	now := s.now()
	c := &s.admins
	c.mu.Lock()
	if e, ok := c.m[acct.ID]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.users, nil
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, adminLookupTimeout)
	defer cancel()
	users, err := s.Kommo.ListUsers(ctx, acct)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient,
			Message: "Kommo's user list could not be read to check your rights; please try again.", Err: err}
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[int64]adminEntry{}
	}
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[acct.ID] = adminEntry{users: users, expires: now.Add(adminCacheTTL)}
	c.mu.Unlock()
	return users, nil
}

// requireAdmin returns nil when the widget caller is an administrator of
// its Kommo account, EFORBIDDEN when not, EUNAVAILABLE when it cannot tell.
func (s *Server) requireAdmin(ctx context.Context, a *widgetAuth) error {
	users, err := s.kommoUsers(ctx, a.Account)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.ID == a.UserID {
			if u.IsAdmin {
				return nil
			}
			break
		}
	}
	return callbridge.Errorf(callbridge.EFORBIDDEN, "Only an administrator of this Kommo account can change callbridge's settings.")
}

// EffectivePrefs are a user's widget preferences with inheritance resolved
// (user → account → default).
type EffectivePrefs struct {
	RingSound     bool `json:"ring_sound"`     // default true
	OpenCard      bool `json:"open_card"`      // default false
	ResultWindow  bool `json:"result_window"`  // default true
	QualityRating bool `json:"quality_rating"` // default false
}

// Prefs resolves the widget preferences of Kommo user userID.
func Prefs(s callbridge.Settings, userID int64) EffectivePrefs {
	p := EffectivePrefs{RingSound: true, ResultWindow: true}
	apply := func(w callbridge.WidgetPrefs) {
		if w.RingSound != nil {
			p.RingSound = *w.RingSound
		}
		if w.OpenCard != nil {
			p.OpenCard = *w.OpenCard
		}
		if w.ResultWindow != nil {
			p.ResultWindow = *w.ResultWindow
		}
		if w.QualityRating != nil {
			p.QualityRating = *w.QualityRating
		}
	}
	apply(s.Widget)
	if u, ok := s.Users[strconv.FormatInt(userID, 10)]; ok {
		apply(u)
	}
	return p
}

// providerView describes a connector to the widget's settings form.
type providerView struct {
	Name        string   `json:"name"`
	Required    []string `json:"required"`
	Optional    []string `json:"optional"`
	ClickToCall bool     `json:"click_to_call"`
	Extensions  bool     `json:"extensions"`
	Checks      bool     `json:"checks_credentials"`
}

func (s *Server) providers() []providerView {
	out := []providerView{}
	for _, name := range slices.Sorted(maps.Keys(s.Connectors)) {
		c := s.Connectors[name]
		v := providerView{Name: name, Required: []string{}, Optional: []string{}}
		if rc, ok := c.(RequiredCredentials); ok {
			v.Required = append(v.Required, rc.RequiredCredentials()...)
		}
		if oc, ok := c.(OptionalCredentials); ok {
			v.Optional = append(v.Optional, oc.OptionalCredentials()...)
		}
		_, v.ClickToCall = c.(callbridge.CallPlacer)
		_, v.Extensions = c.(callbridge.ExtensionLister)
		_, v.Checks = c.(callbridge.CredentialChecker)
		out = append(out, v)
	}
	return out
}

// userView is a Kommo user in the settings answer.
type userView struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	IsAdmin bool   `json:"is_admin"`
}

// handleGetSettings is GET /api/widget/settings.
func (s *Server) handleGetSettings(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	ctx := r.Context()
	out := map[string]any{
		"user_id":   a.UserID,
		"settings":  a.Account.Settings,
		"prefs":     Prefs(a.Account.Settings, a.UserID),
		"providers": s.providers(),
		"is_admin":  false,
	}
	err := s.requireAdmin(ctx, a)
	switch callbridge.ErrorCode(err) {
	case "":
		out["is_admin"] = true
		conns, err := s.Store.ListConnections(ctx, a.Account.ID)
		if err != nil {
			Error(w, r, unavailable(err))
			return
		}
		views := []connectionView{}
		for _, c := range conns {
			if c.AccountID == a.Account.ID {
				views = append(views, s.connectionView(c))
			}
		}
		out["connections"] = views
		users, _ := s.kommoUsers(ctx, a.Account)
		uv := []userView{}
		for _, u := range users {
			uv = append(uv, userView{ID: u.ID, Name: u.Name, IsAdmin: u.IsAdmin})
		}
		out["users"] = uv
	case callbridge.EFORBIDDEN:
	default:
		recordError(r, err)
		out["admin_error"] = callbridge.ErrorMessage(err)
	}
	writeJSON(w, nethttp.StatusOK, out)
}

// handlePutSettings is PUT (or POST) /api/widget/settings: an administrator
// replaces the account's settings. The body is a callbridge.Settings object;
// the answer is the stored settings.
func (s *Server) handlePutSettings(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	body, err := readBody(w, r, s.maxBody())
	if err != nil {
		Error(w, r, err)
		return
	}
	var in callbridge.Settings
	if err := decodeJSON(body, &in); err != nil {
		Error(w, r, err)
		return
	}
	if err := validateSettings(&in); err != nil {
		Error(w, r, err)
		return
	}
	if err := s.requireAdmin(r.Context(), a); err != nil {
		Error(w, r, err)
		return
	}
	if err := s.checkSettingsInKommo(r.Context(), a.Account, &in); err != nil {
		Error(w, r, err)
		return
	}
	if err := s.Store.UpdateAccountSettings(r.Context(), a.Account.ID, in); err != nil {
		Error(w, r, err)
		return
	}
	s.accountChanged(a.Account.ID)
	writeJSON(w, nethttp.StatusOK, map[string]any{"settings": in, "prefs": Prefs(in, a.UserID)})
}

// handlePutPrefs is POST /api/widget/prefs: the caller sets its own widget
// preferences (a callbridge.WidgetPrefs object; null fields inherit the
// account's).
func (s *Server) handlePutPrefs(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	body, err := readBody(w, r, s.maxBody())
	if err != nil {
		Error(w, r, err)
		return
	}
	var in callbridge.WidgetPrefs
	if err := decodeJSON(body, &in); err != nil {
		Error(w, r, err)
		return
	}
	var stored callbridge.Settings
	err = s.Store.InTx(r.Context(), func(q callbridge.Queries) error {
		acct, err := q.FindAccount(r.Context(), a.Account.ID)
		if err != nil {
			return err
		}
		st := acct.Settings
		users := maps.Clone(st.Users)
		if users == nil {
			users = map[string]callbridge.WidgetPrefs{}
		}
		key := strconv.FormatInt(a.UserID, 10)
		if in == (callbridge.WidgetPrefs{}) {
			delete(users, key)
		} else {
			if _, ok := users[key]; !ok && len(users) >= maxMappedUsers {
				return callbridge.Errorf(callbridge.EINVALID, "Too many users have their own preferences.")
			}
			users[key] = in
		}
		st.Users = users
		stored = st
		return q.UpdateAccountSettings(r.Context(), a.Account.ID, st)
	})
	if err != nil {
		Error(w, r, err)
		return
	}
	s.accountChanged(a.Account.ID)
	writeJSON(w, nethttp.StatusOK, map[string]any{"prefs": Prefs(stored, a.UserID), "own": in})
}

// validateSettings checks and normalises settings from the widget: the
// account's fields, the extension mapping, the routing fallback (an agent
// identity like an extension, trimmed) and the rules.
func validateSettings(st *callbridge.Settings) error {
	invalid := func(format string, args ...any) error {
		return callbridge.Errorf(callbridge.EINVALID, format, args...)
	}
	st.Country = strings.ToUpper(strings.TrimSpace(st.Country))
	if st.Country != "" && (len(st.Country) != 2 || st.Country[0] < 'A' || st.Country[0] > 'Z' || st.Country[1] < 'A' || st.Country[1] > 'Z') {
		return invalid("country must be a two-letter ISO 3166 code such as \"US\" or \"BR\".")
	}
	switch st.Language {
	case "", "en", "es", "pt":
	default:
		return invalid("language must be en, es or pt.")
	}
	st.SourceName = strings.TrimSpace(st.SourceName)
	if !utf8.ValidString(st.SourceName) || utf8.RuneCountInString(st.SourceName) > maxSourceName {
		return invalid("source_name must be at most %d characters.", maxSourceName)
	}
	if st.UnsortedPipelineID < 0 {
		return invalid("unsorted_pipeline_id must not be negative.")
	}
	if len(st.Extensions) > maxMappedUsers || len(st.Users) > maxMappedUsers {
		return invalid("At most %d users can be mapped.", maxMappedUsers)
	}
	ext := map[string]string{}
	owner := map[string]string{} // normalised extension → user
	for _, user := range slices.Sorted(maps.Keys(st.Extensions)) {
		if !validUserKey(user) {
			return invalid("extensions: %q is not a Kommo user id.", truncate(user, 20))
		}
		v := strings.TrimSpace(st.Extensions[user])
		if v == "" {
			continue
		}
		if len(v) > maxAgentLen || !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
			return invalid("extensions.%s must be at most %d characters without control characters.", user, maxAgentLen)
		}
		norm := callbridge.NormalizePhone(v, st.Country)
		if other, dup := owner[norm]; dup {
			return invalid("The extension %q is given to two users (%s and %s).", v, other, user)
		}
		owner[norm] = user
		ext[user] = v
	}
	st.Extensions = ext
	st.Routing.Fallback = strings.TrimSpace(st.Routing.Fallback)
	if v := st.Routing.Fallback; len(v) > maxAgentLen || !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
		return invalid("routing.fallback must be at most %d characters without control characters.", maxAgentLen)
	}
	for user := range st.Users {
		if !validUserKey(user) {
			return invalid("users: %q is not a Kommo user id.", truncate(user, 20))
		}
	}
	return validateRules(&st.Rules, st.Country)
}

// validateRules checks and normalises the call-handling rules: everything
// that needs no Kommo request (checkSettingsInKommo does the rest).
func validateRules(r *callbridge.RuleSettings, country string) error {
	invalid := func(format string, args ...any) error {
		return callbridge.Errorf(callbridge.EINVALID, format, args...)
	}
	switch r.UnknownInbound {
	case "", callbridge.UnknownIncomingLead, callbridge.UnknownContactAndLead, callbridge.UnknownLogOnly:
	default:
		return invalid("rules.unknown_inbound must be %s, %s or %s.", callbridge.UnknownIncomingLead, callbridge.UnknownContactAndLead, callbridge.UnknownLogOnly)
	}
	switch r.InternalCalls {
	case "", callbridge.InternalLog, callbridge.InternalIgnore:
	default:
		return invalid("rules.internal_calls must be %s or %s.", callbridge.InternalLog, callbridge.InternalIgnore)
	}
	for name, id := range map[string]int64{
		"rules.accept_status_id": r.AcceptStatusID, "rules.new_lead.pipeline_id": r.NewLead.PipelineID,
		"rules.new_lead.status_id": r.NewLead.StatusID, "rules.known_contact_lead.pipeline_id": r.KnownContactLead.PipelineID,
		"rules.known_contact_lead.status_id": r.KnownContactLead.StatusID,
	} {
		if id < 0 {
			return invalid("%s must not be negative.", name)
		}
	}
	for name, t := range map[string]*callbridge.TaskRule{"rules.missed_call_task": &r.MissedCallTask, "rules.dropped_call_task": &r.DroppedCallTask} {
		switch {
		case t.TaskTypeID < 0:
			return invalid("%s.task_type_id must not be negative.", name)
		case t.DueMinutes < 0 || t.DueMinutes > callbridge.MaxTaskDueMinutes:
			return invalid("%s.due_minutes must be between 0 (default, %d) and %d.", name, int(callbridge.DefaultTaskDue/time.Minute), callbridge.MaxTaskDueMinutes)
		}
		switch t.AssignTo {
		case "", callbridge.AssignResponsible, callbridge.AssignCalled:
		default:
			return invalid("%s.assign_to must be %s or %s.", name, callbridge.AssignResponsible, callbridge.AssignCalled)
		}
		switch t.LinkTo {
		case "", callbridge.LinkLead, callbridge.LinkContact:
		default:
			return invalid("%s.link_to must be %s or %s.", name, callbridge.LinkLead, callbridge.LinkContact)
		}
		t.Text = strings.TrimSpace(t.Text)
		if !utf8.ValidString(t.Text) || utf8.RuneCountInString(t.Text) > callbridge.MaxTaskText || strings.ContainsFunc(t.Text, unicode.IsControl) {
			return invalid("%s.text must be at most %d characters on one line.", name, callbridge.MaxTaskText)
		}
	}
	if h := r.Recordings.RetentionHours; h < 0 || h > callbridge.MaxRetentionHours {
		return invalid("rules.recordings.retention_hours must be between 0 (default, 18) and %d.", callbridge.MaxRetentionHours)
	}
	for name, list := range map[string]*[]string{"rules.blocked_numbers": &r.BlockedNumbers, "rules.own_numbers": &r.OwnNumbers} {
		if len(*list) > callbridge.MaxRuleNumbers {
			return invalid("%s: at most %d numbers.", name, callbridge.MaxRuleNumbers)
		}
		var out []string
		for _, raw := range *list {
			n := callbridge.NormalizePhone(raw, country)
			if !callbridge.IsPhoneNumber(n) {
				return invalid("%s: %q is not a phone number.", name, truncate(raw, 40))
			}
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		*list = out
	}
	return nil
}

// PipelineLister is implemented by a WidgetKommo that can list the
// account's pipelines (*kommo.Client does); settings naming a pipeline or
// stage are then checked against them.
type PipelineLister interface {
	ListPipelines(ctx context.Context, acct *callbridge.Account) ([]kommo.Pipeline, error)
}

// checkSettingsInKommo checks what the settings name in Kommo: the users of
// the extension mapping, and the pipelines and stages of the rules (when
// Server.Kommo is a PipelineLister). An unknown one is EINVALID with a
// message that names it.
func (s *Server) checkSettingsInKommo(ctx context.Context, acct *callbridge.Account, st *callbridge.Settings) error {
	invalid := func(format string, args ...any) error {
		return callbridge.Errorf(callbridge.EINVALID, format, args...)
	}
	if len(st.Extensions) > 0 {
		users, err := s.kommoUsers(ctx, acct)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for _, u := range users {
			known[strconv.FormatInt(u.ID, 10)] = true
		}
		for _, user := range slices.Sorted(maps.Keys(st.Extensions)) {
			if !known[user] {
				return invalid("extensions: Kommo has no user %s in this account.", user)
			}
		}
	}
	rules := st.Rules
	type stage struct {
		name             string
		pipeline, status int64
	}
	stages := []stage{
		{name: "unsorted_pipeline_id", pipeline: st.UnsortedPipelineID},
		{name: "rules.accept_status_id", pipeline: st.UnsortedPipelineID, status: rules.AcceptStatusID},
		{name: "rules.new_lead", pipeline: rules.NewLead.PipelineID, status: rules.NewLead.StatusID},
		{name: "rules.known_contact_lead", pipeline: rules.KnownContactLead.PipelineID, status: rules.KnownContactLead.StatusID},
	}
	if !slices.ContainsFunc(stages, func(x stage) bool { return x.pipeline != 0 || x.status != 0 }) {
		return nil
	}
	pl, ok := s.Kommo.(PipelineLister)
	if !ok {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, adminLookupTimeout)
	defer cancel()
	pipelines, err := pl.ListPipelines(lctx, acct)
	if err != nil {
		return &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, Err: err,
			Message: "Kommo's pipelines could not be read to check the settings; nothing was saved. Please try again."}
	}
	for _, x := range stages {
		if x.pipeline == 0 && x.status == 0 {
			continue
		}
		var p *kommo.Pipeline
		for i := range pipelines {
			if (x.pipeline != 0 && pipelines[i].ID == x.pipeline) || (x.pipeline == 0 && pipelines[i].IsMain) {
				p = &pipelines[i]
				break
			}
		}
		if p == nil && x.pipeline == 0 && len(pipelines) > 0 {
			p = &pipelines[0]
		}
		if p == nil {
			return invalid("%s: Kommo has no pipeline %d in this account.", x.name, x.pipeline)
		}
		if x.status == 0 {
			continue
		}
		i := slices.IndexFunc(p.Statuses, func(st kommo.Status) bool { return st.ID == x.status })
		switch {
		case i < 0:
			return invalid("%s: the pipeline %q has no stage %d.", x.name, p.Name, x.status)
		case x.status == kommo.StatusWon || x.status == kommo.StatusLost:
			return invalid("%s: a new or accepted lead cannot go to the closed stage %q.", x.name, p.Statuses[i].Name)
		case p.Statuses[i].Type == 1:
			return invalid("%s: %q is the incoming-leads stage; choose a working stage.", x.name, p.Statuses[i].Name)
		}
	}
	return nil
}

// validUserKey reports whether k is a positive decimal Kommo user id.
func validUserKey(k string) bool {
	n, err := strconv.ParseInt(k, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == k
}

// handleSetup is POST /api/widget/setup: an administrator connects a
// provider from the widget's settings. The body is that of POST
// /api/widget/connections ({provider, name, credentials, time_zone}). The
// credentials are checked against the provider first (when its connector is
// a CredentialChecker): wrong ones are refused with 400 and a message that
// says so, and nothing is stored. Saving the same credentials again returns
// the existing connection (200, "created": false). New credentials for a
// provider the account is already connected to replace those of its
// connection (the first, when there are several), keeping its webhook URL
// so that nothing changes at the provider (200, "updated": true); a new
// provider creates a connection (201). POST /api/widget/connections is the
// way to add a second connection of one provider.
func (s *Server) handleSetup(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	ctx := r.Context()
	body, err := readBody(w, r, s.maxBody())
	if err != nil {
		Error(w, r, err)
		return
	}
	var req connectionRequest
	if err := decodeJSON(body, &req); err != nil {
		Error(w, r, err)
		return
	}
	conn, err := s.validateConnection(&req)
	if err != nil {
		Error(w, r, err)
		return
	}
	if err := s.requireAdmin(ctx, a); err != nil {
		Error(w, r, err)
		return
	}
	conn.AccountID = a.Account.ID
	if cc, ok := s.Connectors[conn.Provider].(callbridge.CredentialChecker); ok {
		cctx, cancel := context.WithTimeout(ctx, credentialCheckTimeout)
		err := cc.CheckCredentials(cctx, conn)
		cancel()
		switch callbridge.ErrorCode(err) {
		case "":
		case callbridge.EUNAUTHORIZED, callbridge.EFORBIDDEN, callbridge.EINVALID, callbridge.ENOTFOUND:
			Error(w, r, &callbridge.Error{Code: callbridge.EINVALID, Err: err,
				Message: "The provider refused these credentials: " + callbridge.ErrorMessage(err)})
			return
		default:
			Error(w, r, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, Err: err,
				Message: "The provider could not be reached to check the credentials; nothing was saved. Please try again."})
			return
		}
	}
	existing, err := s.Store.ListConnections(ctx, a.Account.ID)
	if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	var same *callbridge.Connection
	for _, c := range existing {
		if c.AccountID != a.Account.ID || c.Provider != conn.Provider {
			continue
		}
		if maps.Equal(c.Credentials, conn.Credentials) {
			writeJSON(w, nethttp.StatusOK, map[string]any{"connection": s.connectionView(c), "created": false})
			return
		}
		if same == nil {
			same = c
		}
	}
	if same != nil {
		conn.ID = same.ID
		if err := s.Store.UpdateConnection(ctx, conn); err != nil {
			Error(w, r, err)
			return
		}
		s.accountChanged(a.Account.ID)
		conn.CreatedAt = same.CreatedAt
		s.logger().Info("widget: provider credentials replaced", "account_id", a.Account.ID, "connection_id", conn.ID, "provider", conn.Provider)
		writeJSON(w, nethttp.StatusOK, map[string]any{"connection": s.connectionView(conn), "created": false, "updated": true})
		return
	}
	if err := s.Store.CreateConnection(ctx, conn); err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, map[string]any{"connection": s.connectionView(conn), "created": true})
}

// handleExtensions is GET /api/widget/extensions[?connection_id=N]: the
// provider's extensions for the mapping page, from the named connection or
// the account's first connection whose connector lists extensions.
// "supported" is false when no connector can.
func (s *Server) handleExtensions(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	ctx := r.Context()
	var conns []*callbridge.Connection
	if raw := r.URL.Query().Get("connection_id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			Error(w, r, callbridge.Errorf(callbridge.EINVALID, "connection_id must be a positive id."))
			return
		}
		c, err := s.Store.FindConnection(ctx, a.Account.ID, id)
		if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
			Error(w, r, callbridge.Errorf(callbridge.ENOTFOUND, "Connection not found."))
			return
		} else if err != nil {
			Error(w, r, unavailable(err))
			return
		}
		conns = []*callbridge.Connection{c}
	} else {
		var err error
		if conns, err = s.Store.ListConnections(ctx, a.Account.ID); err != nil {
			Error(w, r, unavailable(err))
			return
		}
	}
	for _, c := range conns {
		if c.AccountID != a.Account.ID {
			continue
		}
		el, ok := s.Connectors[c.Provider].(callbridge.ExtensionLister)
		if !ok {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, extensionListTimeout)
		exts, err := el.ListExtensions(lctx, c)
		cancel()
		if err != nil {
			Error(w, r, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, Err: err,
				Message: "The provider's extensions could not be listed: " + callbridge.ErrorMessage(err)})
			return
		}
		if exts == nil {
			exts = []callbridge.Extension{}
		}
		writeJSON(w, nethttp.StatusOK, map[string]any{"supported": true, "connection_id": c.ID, "extensions": exts})
		return
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{"supported": false, "extensions": []callbridge.Extension{}})
}
