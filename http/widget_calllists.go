package http

import (
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Call lists (callbridge.CallList), driven by the widget:
//
//	POST /api/widget/calllists                 create the caller's list (stops its previous one)
//	GET  /api/widget/calllists/open            the caller's open list, or {"call_list": null}
//	GET  /api/widget/calllists/{id}            one of the caller's lists
//	POST /api/widget/calllists/{id}/{action}   dial, skip, pause, resume or stop; body {"version": n}
//
// The widget keeps the timing (the pause between calls, waiting for the call
// to end); the server keeps the position, so a reload resumes. Every action
// names the version it saw: a second tab acting on an old version gets 409
// and must reload, so no number is dialed twice.

// callListRequest is the body of POST /api/widget/calllists.
type callListRequest struct {
	Name     string                     `json:"name"`
	Interval *int                       `json:"interval"` // seconds; default DefaultCallListInterval
	Entries  []callbridge.CallListEntry `json:"entries"`
}

// callListView is the public view of a call list.
type callListView struct {
	ID       int64                      `json:"id"`
	Name     string                     `json:"name"`
	Status   callbridge.CallListStatus  `json:"status"`
	Position int                        `json:"position"`
	Interval int                        `json:"interval"`
	Version  int64                      `json:"version"`
	Total    int                        `json:"total"`
	Done     int                        `json:"done"`
	Entries  []callbridge.CallListEntry `json:"entries"`
	Created  time.Time                  `json:"created_at"`
	Updated  time.Time                  `json:"updated_at"`
}

func viewCallList(l *callbridge.CallList) *callListView {
	if l == nil {
		return nil
	}
	es := l.Entries
	if es == nil {
		es = []callbridge.CallListEntry{}
	}
	return &callListView{ID: l.ID, Name: l.Name, Status: l.Status, Position: l.Position, Interval: l.Interval,
		Version: l.Version, Total: len(l.Entries), Done: l.Done(), Entries: es, Created: l.CreatedAt, Updated: l.UpdatedAt}
}

// callLists returns the call list store, or an EUNAVAILABLE error.
func (s *Server) callLists() (callbridge.CallListStore, error) {
	if s.CallLists != nil {
		return s.CallLists, nil
	}
	if cl, ok := s.Store.(callbridge.CallListStore); ok {
		return cl, nil
	}
	return nil, callbridge.Errorf(callbridge.EUNAVAILABLE, "Call lists are not available on this server.")
}

// handleCreateCallList is POST /api/widget/calllists. Entries whose number
// cannot be read as a phone number, and repeated numbers, are left out and
// reported in "skipped" (their positions in the request, from 0).
func (s *Server) handleCreateCallList(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	store, err := s.callLists()
	if err != nil {
		Error(w, r, err)
		return
	}
	body, err := readBody(w, r, max(s.maxBody(), 256<<10))
	if err != nil {
		Error(w, r, err)
		return
	}
	var req callListRequest
	if err := decodeJSON(body, &req); err != nil {
		Error(w, r, err)
		return
	}
	if len(req.Entries) > callbridge.MaxCallListEntries {
		Error(w, r, callbridge.Errorf(callbridge.EINVALID, "A call list holds at most %d numbers (got %d).", callbridge.MaxCallListEntries, len(req.Entries)))
		return
	}
	country := a.Account.Settings.WithDefaults().Country
	l := &callbridge.CallList{AccountID: a.Account.ID, UserID: a.UserID, Name: req.Name, Interval: callbridge.DefaultCallListInterval}
	if req.Interval != nil {
		l.Interval = *req.Interval
	}
	skipped := []int{}
	seen := map[string]bool{}
	for i, e := range req.Entries {
		p := callbridge.NormalizePhone(e.Phone, country)
		if len(e.Phone) > 64 || !callbridge.IsPhoneNumber(p) || seen[p] {
			skipped = append(skipped, i)
			continue
		}
		seen[p] = true
		l.Entries = append(l.Entries, callbridge.CallListEntry{Phone: p, Name: strings.TrimSpace(e.Name), EntityType: e.EntityType, EntityID: e.EntityID})
	}
	if err := l.Validate(); err != nil {
		Error(w, r, err)
		return
	}
	if err := store.CreateCallList(r.Context(), l); err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, map[string]any{"call_list": viewCallList(l), "skipped": skipped})
}

// handleOpenCallList is GET /api/widget/calllists/open.
func (s *Server) handleOpenCallList(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	store, err := s.callLists()
	if err != nil {
		Error(w, r, err)
		return
	}
	l, err := store.OpenCallList(r.Context(), a.Account.ID, a.UserID)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		writeJSON(w, nethttp.StatusOK, map[string]any{"call_list": nil})
		return
	} else if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{"call_list": viewCallList(l)})
}

// findOwnCallList returns the caller's list named by the path's id; another
// user's or account's list is ENOTFOUND.
func (s *Server) findOwnCallList(r *nethttp.Request, a *widgetAuth, store callbridge.CallListStore) (*callbridge.CallList, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, callbridge.Errorf(callbridge.ENOTFOUND, "Call list not found.")
	}
	l, err := store.FindCallList(r.Context(), a.Account.ID, id)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND || (err == nil && (l.UserID != a.UserID || l.AccountID != a.Account.ID)) {
		return nil, callbridge.Errorf(callbridge.ENOTFOUND, "Call list not found.")
	} else if err != nil {
		return nil, unavailable(err)
	}
	return l, nil
}

// handleGetCallList is GET /api/widget/calllists/{id}.
func (s *Server) handleGetCallList(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	store, err := s.callLists()
	if err != nil {
		Error(w, r, err)
		return
	}
	l, err := s.findOwnCallList(r, a, store)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{"call_list": viewCallList(l)})
}

// handleCallListAction is POST /api/widget/calllists/{id}/{action}.
//
//   - dial: place the call of the current entry (the list must be active);
//     the entry is claimed (dialed, position moves on) before the provider is
//     asked, so two tabs cannot dial it twice. When the provider refuses, the
//     entry is marked failed with the reason and the answer carries "error".
//   - skip: the current entry is skipped.
//   - pause, resume, stop.
func (s *Server) handleCallListAction(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	store, err := s.callLists()
	if err != nil {
		Error(w, r, err)
		return
	}
	body, err := readBody(w, r, s.maxBody())
	if err != nil {
		Error(w, r, err)
		return
	}
	var req struct {
		Version int64 `json:"version"`
	}
	if err := decodeJSON(body, &req); err != nil {
		Error(w, r, err)
		return
	}
	l, err := s.findOwnCallList(r, a, store)
	if err != nil {
		Error(w, r, err)
		return
	}
	if req.Version != l.Version {
		Error(w, r, callbridge.Errorf(callbridge.ECONFLICT, "The call list changed in another window; reload it."))
		return
	}
	now := s.now()
	action := r.PathValue("action")
	var plan *dialPlan
	var index int
	switch action {
	case "dial":
		if l.Status != callbridge.CallListActive {
			Error(w, r, callbridge.Errorf(callbridge.EINVALID, "The call list is %s; resume it to dial.", l.Status))
			return
		}
		cur := l.Current()
		if cur == nil {
			Error(w, r, callbridge.Errorf(callbridge.EINVALID, "The call list has no number left to dial."))
			return
		}
		if plan, err = s.planCall(r.Context(), a, cur.Phone, 0); err != nil {
			Error(w, r, err) // nothing claimed: the manager can fix the cause and dial again
			return
		}
		index = l.Position
		err = l.Finish(callbridge.EntryDialed, now, "")
	case "skip":
		err = l.Finish(callbridge.EntrySkipped, now, "")
	case "pause":
		if l.Status != callbridge.CallListActive {
			err = callbridge.Errorf(callbridge.EINVALID, "Only an active call list can be paused.")
		}
		l.Status = callbridge.CallListPaused
	case "resume":
		if l.Status != callbridge.CallListPaused {
			err = callbridge.Errorf(callbridge.EINVALID, "Only a paused call list can be resumed.")
		}
		l.Status = callbridge.CallListActive
	case "stop":
		if !l.Status.Open() {
			err = callbridge.Errorf(callbridge.EINVALID, "The call list is already %s.", l.Status)
		}
		l.Status = callbridge.CallListStopped
	default:
		Error(w, r, callbridge.Errorf(callbridge.ENOTFOUND, "No such call list action; use dial, skip, pause, resume or stop."))
		return
	}
	if err != nil {
		Error(w, r, err)
		return
	}
	if err := store.UpdateCallList(r.Context(), l); err != nil {
		Error(w, r, err)
		return
	}
	if plan == nil {
		writeJSON(w, nethttp.StatusOK, map[string]any{"call_list": viewCallList(l)})
		return
	}

	// The entry is ours; place the call and record what happened.
	placed, placeErr := s.place(r.Context(), plan)
	for attempt := 0; attempt < 3; attempt++ {
		e := &l.Entries[index]
		if placeErr != nil {
			if callbridge.ErrorKind(placeErr) != callbridge.KindUncertain {
				e.State = callbridge.EntryFailed
			}
			e.Error = callbridge.ErrorMessage(placeErr)
		} else {
			e.ConnectionID, e.ProviderCallID = placed.ConnectionID, placed.ProviderCallID
		}
		err = store.UpdateCallList(r.Context(), l)
		if callbridge.ErrorCode(err) != callbridge.ECONFLICT {
			break
		}
		if l, err = store.FindCallList(r.Context(), a.Account.ID, l.ID); err != nil || index >= len(l.Entries) {
			break
		}
	}
	if err != nil {
		recordError(r, err)
	}
	out := map[string]any{"call_list": viewCallList(l)}
	if placeErr != nil {
		recordError(r, placeErr)
		out["error"] = callbridge.ErrorMessage(placeErr)
	} else {
		out["call"] = placed
	}
	writeJSON(w, nethttp.StatusOK, out)
}
