// Package sandbox is an in-memory emulator of the Kommo CRM: its OAuth 2.0
// endpoints, the parts of API v4 (and v2 call notifications) that callbridge
// uses, Kommo's request limits, and the hooks Kommo sends to an integration
// (install, disconnect, account webhooks). It is the test double for all of
// callbridge's tests and, served by `callbridge sandbox`, lets integrators
// develop with no Kommo account.
//
// An Emulator is an http.Handler. It hosts any number of accounts, each with
// its own users, pipelines, contacts, companies, leads, customers, notes,
// incoming leads, tasks and call notifications. All accounts are reached at
// the same address; an API request acts on the account (and as the user) its
// Bearer access token was issued for.
//
// # Use in tests
//
//	emu := sandbox.New(sandbox.Config{ClientID: "id", ClientSecret: "secret",
//		RedirectURI: integration.URL + "/kommo/install", RetryAfter: time.Second})
//	srv := httptest.NewServer(emu)
//	defer srv.Close()
//	emu.SetHost(srv.Listener.Addr().String())
//	seeded, _ := emu.Seed(sandbox.SeedData{Accounts: []sandbox.SeedAccount{{
//		Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+1 415 555 0100"}}},
//		Leads:    []sandbox.SeedLead{{Ref: "deal", Contacts: []string{"ann"}}},
//	}}})
//	code, _ := emu.Install(ctx, seeded.Accounts[0].ID, "state") // GET to RedirectURI
//	// … exchange the code at srv.URL+"/oauth2/access_token", call the API …
//	st := emu.State() // assert on notes, incoming leads, tasks, hooks, Stats
//
// Faults are injected with SetFaults; Stats reports what the client did
// (requests per endpoint and status, the most requests in any second per IP
// and per account, 429s, 403 blocks, refreshes, 401s).
//
// The same controls are served over HTTP as JSON under /sandbox/, which is
// never rate limited, faulted or counted: POST /sandbox/seed (SeedData),
// POST /sandbox/faults (FaultsRequest), POST /sandbox/install
// {account_id, user_id, state}, POST /sandbox/uninstall {account_id},
// POST /sandbox/unsorted/{uid}/accept {user_id, status_id},
// POST /sandbox/unsorted/{uid}/decline {user_id}, PATCH /sandbox/notes/{id}
// {text, call_result, params}, PATCH /sandbox/accounts/{id}
// {payment_required}, GET /sandbox/state, GET /sandbox/stats,
// GET /sandbox/widget-token?account_id=&user_id=&ttl=, POST /sandbox/reset.
//
// # Endpoints
//
// OAuth: POST /oauth2/access_token (authorization_code and refresh_token
// grants, JSON or form body), GET /oauth2/account/subdomain, and GET /oauth,
// the consent page, which approves at once and redirects to the redirect URI
// with code, state, referer and client_id. API v4: account; users (admins
// only); calls; leads (list, get, create, update), leads/pipelines, incoming
// leads (leads/unsorted: sip create, list, get, accept, decline); contacts
// (list/search, get, create); companies (list, get); customers (get); notes
// of leads, contacts, companies and customers (list, list per entity, get,
// create, update in batch or by id); tasks (list, get, create, update). API
// v2: POST /api/v2/events (call notifications). Account webhooks: GET, POST
// and DELETE /api/v4/webhooks (administrators only; {destination,
// settings}). Successes are application/hal+json, errors
// application/problem+json, empty lists and
// searches 204 No Content.
//
// # Modelled behaviour
//
// Documented Kommo behaviour is reproduced as documented. Where the
// documentation is silent, the emulator decides as follows.
//
// OAuth and tokens:
//   - Codes live 20 minutes and are single use. Access tokens live
//     Config.AccessTokenTTL (24 h), refresh tokens Config.RefreshTokenTTL
//     (90 days); both are bound to the account and the user who installed.
//   - Refresh tokens rotate. The old refresh token keeps working until the
//     new pair is used (its access token authenticates a request or its
//     refresh token is spent); from then on it gets exactly
//     401 {"hint":"Token has been revoked",…} (see RevokedHint). Using the old
//     refresh token again before that issues another pair and revokes the
//     unused one it replaces: one refresh token has at most one live
//     successor. Config.StrictRefresh instead makes every refresh token
//     strictly single use. Old access tokens stay valid until they expire.
//   - Token requests must carry the configured client_id, client_secret and
//     (when Config.RedirectURI is set) the same redirect_uri; OAuth errors
//     use Kommo's OAuth problem shape with a "hint".
//   - Uninstall revokes every token and code of the account (401 afterwards)
//     and sends the disconnect GET signed with HMAC-SHA256 of
//     client_id|account_id. Install sends Marketplace's install GET (code,
//     referer, client_id, from_widget, state), waits at most 3 s, ignores the
//     status and never retries. The referer is the emulator's host:port
//     without a scheme (Kommo sends "sub.kommo.com").
//   - An account flagged PaymentRequired answers 402 to every API call.
//
// Limits:
//   - Every /api/ and /oauth2/ request is counted on arrival against its
//     client IP (RemoteAddr; headers are ignored) in a sliding 1-second
//     window, across all accounts. A request arriving when the window already
//     holds Config.RateLimit requests (7) gets 429 with retry_after =
//     Config.RetryAfter in whole seconds (rounded up; no Retry-After header),
//     and penalises the IP for that long. Each request received during a
//     penalty is answered 429 (retry_after = the time left) and counts as a
//     violation; the (Config.BlockAfter+1)-th blocks the IP: 403 for every
//     request until Reset. When a penalty ends its violation count restarts.
//     Rejected requests count in the window too, as Kommo sees them.
//   - Batches (and list limit) above 250 answer 422 "Limit 250 per page".
//
// Calls (POST /api/v4/calls):
//   - direction, duration, source and phone are required; a batch with any
//     invalid item answers 400 validation-errors and stores nothing.
//   - Contacts and companies match when a phone's last 10 digits equal the
//     call's (fewer digits compare whole). Contacts and companies of pending
//     incoming leads are invisible and never match.
//   - Entity choice over the leads and customers linked to all matching
//     contacts and companies: exactly one active lead (status ∉ {142,143})
//     and no customer → the lead; exactly one customer and no active lead →
//     the customer; otherwise the oldest contact (created_at, then id), else
//     the oldest company.
//   - The call becomes a call_in/call_out note with params uniq, duration,
//     source, link, phone and, when given, call_result, call_status and
//     call_responsible; created_by defaults to 0 (the robot),
//     responsible_user_id to the token's user. Calls are never deduplicated.
//   - An unknown number gives the error item
//     {"request_id","title":"Entity not found","status":263}; if no item
//     was stored the answer is HTTP 400 {"_total_items":0,"errors":[…]}.
//     request_id defaults to the item's index.
//
// Incoming leads:
//   - POST /api/v4/leads/unsorted/sip requires source_uid, source_name and
//     metadata with a non-empty metadata.from (the caller). A second pending
//     incoming lead with the same source_uid is refused with 400 (it is
//     allowed again once the first is accepted or declined).
//   - Each creates a lead in the pipeline's incoming-leads status, a contact
//     (the embedded one, else one named after and holding metadata.from), the
//     embedded company if any, and — unless metadata.is_call_event_needed is
//     false — a call_in note on the lead with params uniq, duration, link,
//     phone (metadata.from) and source (source_name). The note can be listed
//     and patched like any call note.
//   - Accept moves the lead to status_id (default: the pipeline's first
//     working status), makes user_id (default: the token's user) responsible
//     and reveals the entities. Decline deletes the lead, contact, company
//     and their notes. Either way the account webhook is POSTed
//     form-encoded (unsorted[delete][0][uid], [action],
//     [accept_result]/[decline_result][leads][0], account[id], …) to
//     Config.WebhookURL when set and to every destination registered for
//     "delete_unsorted" with POST /api/v4/webhooks, once each,
//     asynchronously, with a 2-second timeout and no retries; Close waits
//     for deliveries. Accepting or declining a processed or unknown uid answers
//     404. Only pending incoming leads are listed; GET of another uid is 204.
//
// Other endpoints:
//   - GET of a single entity, note or task that does not exist answers 204
//     (as empty results do); PATCH of one answers 404; a batch PATCH naming
//     one answers 400 validation-errors and changes nothing.
//   - Contact search: a query with at least 7 digits matches contacts having
//     a phone whose digits end with the query's last 10 digits; any other
//     query matches a name substring (case-insensitive) or, for a digits-only
//     query, a phone digit substring. with=leads embeds the contacts' leads.
//   - Note PATCH replaces the given params keys and keeps the others;
//     note_type never changes; updated_at becomes now. Call notes require
//     params uniq, duration, source and phone on create; common notes
//     require params.text.
//   - A note's updated_at is set on create: to its created_at (now, or the
//     created_at the request gave — a call logged with a past created_at is
//     "updated" in the past too, unless the call item also gives updated_at),
//     and to now by every PATCH and by EditNote (a manager's edit).
//   - Notes lists (GET /api/v4/{entity_type}/notes and
//     /api/v4/{entity_type}/{entity_id}/notes) filter by filter[id][],
//     filter[entity_id][] and filter[note_type][] (also as filter[x][N] or
//     comma-separated), and by update time: filter[updated_at][from] and
//     filter[updated_at][to] in unix seconds, both inclusive (Kommo does not
//     say), and the scalar filter[updated_at]=N, read as from=N ("edited
//     after"). A bound that is not an integer answers 400. Filters combine
//     with AND. The order is id ascending unless order[updated_at] or
//     order[id] says asc or desc (order[updated_at] wins; equal updated_at
//     go by id in the same direction); paging (limit ≤ 250, page) applies after filter and order,
//     so a note edited between two pages of an updated_at order moves.
//   - GET /api/v4/users and /users/{id} answer 403 to a non-admin's token.
//   - POST /api/v2/events answers 202 with no body and records each
//     notification with the entity Kommo would link (oldest contact matching
//     the last 8 digits, its single active lead or customer when exactly one,
//     else the contact, then companies).
//   - Every account has a main pipeline "Sales" with statuses: incoming
//     leads (type 1), three working statuses, 142 and 143. The phone custom
//     field has id 1000001 in every account. Ids of each entity kind come
//     from a distinct range, so an id used as the wrong kind never resolves.
//
// Faults (see Faults) apply to /api/ (and /oauth2/ with Faults.OAuth) after
// the rate limiter; ErrorAfterRate and DropRate apply writes before failing,
// producing the uncertain outcomes callbridge's exactly-once protocol must
// survive. Decisions are drawn from a generator seeded with Config.Seed.
package sandbox
