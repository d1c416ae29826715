package sandbox

import (
	"io"
	"net/http"
	"strings"
)

// maxBody bounds request bodies (a 250-item batch is far smaller).
const maxBody = 8 << 20

func (e *Emulator) buildRoutes() []*route {
	var rs []*route
	add := func(method, pattern string, auth bool, h func(*call)) {
		rs = append(rs, &route{method: method, pattern: pattern, segs: strings.Split(strings.Trim(pattern, "/"), "/"), auth: auth, h: h})
	}
	add("POST", "/oauth2/access_token", false, (*call).accessToken)
	add("GET", "/oauth2/account/subdomain", true, (*call).accountSubdomain)
	add("GET", "/oauth", false, (*call).authorize)

	add("GET", "/api/v4/account", true, (*call).getAccount)
	add("GET", "/api/v4/users", true, (*call).listUsers)
	add("GET", "/api/v4/users/{id}", true, (*call).getUser)
	add("POST", "/api/v4/calls", true, (*call).addCalls)

	add("GET", "/api/v4/leads/pipelines", true, (*call).listPipelines)
	add("GET", "/api/v4/leads/unsorted", true, (*call).listUnsorted)
	add("POST", "/api/v4/leads/unsorted/sip", true, (*call).addUnsortedSIP)
	add("GET", "/api/v4/leads/unsorted/{uid}", true, (*call).getUnsorted)
	add("POST", "/api/v4/leads/unsorted/{uid}/accept", true, (*call).acceptUnsorted)
	add("DELETE", "/api/v4/leads/unsorted/{uid}/decline", true, (*call).declineUnsorted)

	add("GET", "/api/v4/{entity_type}/notes", true, (*call).listNotes)
	add("POST", "/api/v4/{entity_type}/notes", true, (*call).addNotes)
	add("PATCH", "/api/v4/{entity_type}/notes", true, (*call).patchNotes)
	add("GET", "/api/v4/{entity_type}/notes/{id}", true, (*call).getNote)
	add("PATCH", "/api/v4/{entity_type}/notes/{id}", true, (*call).patchNote)
	add("GET", "/api/v4/{entity_type}/{entity_id}/notes", true, (*call).listEntityNotes)
	add("POST", "/api/v4/{entity_type}/{entity_id}/notes", true, (*call).addNotes)

	add("GET", "/api/v4/contacts", true, (*call).listContacts)
	add("POST", "/api/v4/contacts", true, (*call).addContacts)
	add("GET", "/api/v4/contacts/{id}", true, (*call).getContact)
	add("GET", "/api/v4/companies", true, (*call).listCompanies)
	add("GET", "/api/v4/companies/{id}", true, (*call).getCompany)
	add("GET", "/api/v4/customers/{id}", true, (*call).getCustomer)
	add("GET", "/api/v4/leads", true, (*call).listLeads)
	add("POST", "/api/v4/leads", true, (*call).addLeads)
	add("PATCH", "/api/v4/leads", true, (*call).patchLeads)
	add("GET", "/api/v4/leads/{id}", true, (*call).getLead)
	add("PATCH", "/api/v4/leads/{id}", true, (*call).patchLead)

	add("GET", "/api/v4/tasks", true, (*call).listTasks)
	add("POST", "/api/v4/tasks", true, (*call).addTasks)
	add("PATCH", "/api/v4/tasks", true, (*call).patchTasks)
	add("GET", "/api/v4/tasks/{id}", true, (*call).getTask)
	add("PATCH", "/api/v4/tasks/{id}", true, (*call).patchTask)

	add("GET", "/api/v4/webhooks", true, (*call).listWebhooks)
	add("POST", "/api/v4/webhooks", true, (*call).addWebhook)
	add("DELETE", "/api/v4/webhooks", true, (*call).deleteWebhook)

	add("POST", "/api/v2/events", true, (*call).addEvents)
	return rs
}

// match finds the route for a request. It returns the route (nil when none),
// the captured segments, the endpoint name for Stats and, when route is nil,
// the status to answer (404 or 405).
func (e *Emulator) match(method, path string) (*route, map[string]string, string, int) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	pathMatched := false
	for _, rt := range e.routes {
		vars, ok := matchSegs(rt.segs, segs)
		if !ok {
			continue
		}
		if t, ok := vars["entity_type"]; ok && !validEntityType(t) {
			continue
		}
		if rt.method != method {
			pathMatched = true
			continue
		}
		name := rt.method + " " + rt.pattern
		if t, ok := vars["entity_type"]; ok {
			name = strings.Replace(name, "{entity_type}", t, 1)
		}
		return rt, vars, name, 0
	}
	if pathMatched {
		return nil, nil, method + " (method not allowed)", http.StatusMethodNotAllowed
	}
	return nil, nil, method + " (not found)", http.StatusNotFound
}

func matchSegs(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var vars map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, false
			}
			if vars == nil {
				vars = map[string]string{}
			}
			vars[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return vars, true
}

// ServeHTTP serves Kommo's API, its OAuth endpoints and the /sandbox/
// controls.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path == "/sandbox" || strings.HasPrefix(path, "/sandbox/") {
		e.serveControl(w, r)
		return
	}
	rt, vars, name, miss := e.match(r.Method, path)
	isAPI := strings.HasPrefix(path, "/api/")
	isOAuth := strings.HasPrefix(path, "/oauth2/")
	ip := clientIP(r)

	e.mu.Lock()
	now := e.now()
	if !e.st.hostFixed {
		e.st.host = r.Host
	}
	var rej *rejection
	if isAPI || isOAuth {
		rej = e.admit(ip, e.bearerAccount(r), now)
	}
	var p plan
	if rej == nil && (isAPI || (isOAuth && e.st.faults.OAuth)) {
		p = e.planFaults(r, ip, now)
	}
	switch {
	case rej != nil:
		e.recordLocked(name, rej.status)
		if rej.status == http.StatusForbidden {
			e.st.stats.Blocked++
		}
	case p.storm || p.inject429:
		e.recordLocked(name, http.StatusTooManyRequests)
	}
	e.mu.Unlock()

	if rej != nil {
		rej.write(w)
		return
	}
	if p.storm || p.inject429 {
		tooMany(w, p.retryAfter)
		return
	}
	if !sleep(r.Context(), p.delay) {
		return
	}
	if p.errBefore {
		serverError(w, p.errorStatus)
		e.recordFault(name, p.errorStatus, false)
		return
	}
	if p.drop && !isWrite(r.Method) {
		e.recordFault(name, 0, true)
		drop(w)
		return
	}
	if rt == nil {
		detail := "Not found"
		if miss == http.StatusMethodNotAllowed {
			detail = "Method not allowed"
		}
		problem(w, miss, detail, nil)
		e.record(name, miss)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "Request body too large or unreadable", nil)
		e.record(name, http.StatusRequestEntityTooLarge)
		return
	}

	c := &call{e: e, w: newBufWriter(), r: r, vars: vars, body: body}
	e.mu.Lock()
	c.now = e.now()
	if !rt.auth || e.authenticate(c) {
		rt.h(c)
	}
	after := c.after
	e.mu.Unlock()
	for _, f := range after {
		f()
	}

	switch {
	case p.errAfter:
		serverError(w, p.errorStatus)
		e.recordFault(name, p.errorStatus, false)
	case p.drop:
		e.recordFault(name, 0, true)
		drop(w)
	default:
		c.w.copyTo(w)
		e.record(name, c.w.code())
	}
}

// record counts an answer in Stats.
func (e *Emulator) record(endpoint string, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recordLocked(endpoint, status)
}

func (e *Emulator) recordLocked(endpoint string, status int) {
	s := &e.st.stats
	m := s.Requests[endpoint]
	if m == nil {
		m = map[int]int{}
		s.Requests[endpoint] = m
	}
	m[status]++
	if status >= 200 && status < 300 {
		sp := s.Served[endpoint]
		now := e.now()
		if sp.First.IsZero() {
			sp.First = now
		}
		sp.Last = now
		s.Served[endpoint] = sp
	}
	switch status {
	case http.StatusTooManyRequests:
		s.TooManyRequests++
	case http.StatusUnauthorized:
		s.Unauthorized++
	}
}

func (e *Emulator) recordFault(endpoint string, status int, dropped bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recordLocked(endpoint, status)
	if dropped {
		e.st.stats.Dropped++
	} else {
		e.st.stats.InjectedErrors++
	}
}

// bearer returns the request's Bearer token.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// bearerAccount returns the account id the request's access token names, or
// 0; validity is checked later. Called with mu held.
func (e *Emulator) bearerAccount(r *http.Request) int64 {
	if g := e.st.byAccess[bearer(r)]; g != nil {
		return g.accountID
	}
	return 0
}

// authenticate resolves the access token into c.acct and c.user, or answers
// 401 (or 402 for an account whose subscription ended). Called with mu held.
func (e *Emulator) authenticate(c *call) bool {
	tok := bearer(c.r)
	if tok == "" {
		c.problem(http.StatusUnauthorized, "Authorization header is missing or is not a Bearer token")
		return false
	}
	g := e.st.byAccess[tok]
	if g == nil || g.revoked {
		c.problem(http.StatusUnauthorized, "Access token is invalid or has been revoked")
		return false
	}
	if !c.now.Before(g.accessExp) {
		c.problem(http.StatusUnauthorized, "Access token has expired")
		return false
	}
	a := e.st.accounts[g.accountID]
	if a == nil {
		c.problem(http.StatusUnauthorized, "Account not found")
		return false
	}
	u := a.users[g.userID]
	if u == nil {
		c.problem(http.StatusUnauthorized, "User not found")
		return false
	}
	e.markUsed(g)
	if a.paymentRequired {
		c.problem(http.StatusPaymentRequired, "Account subscription has expired")
		return false
	}
	c.acct, c.user = a, u
	return true
}
