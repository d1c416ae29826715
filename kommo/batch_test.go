package kommo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

func callFor(phone string) kommo.CallInput {
	return kommo.CallInput{Direction: "inbound", Phone: phone, Duration: 42, Source: "callbridge", Uniq: "uid-" + phone,
		CallResult: "Talked", CallStatus: kommo.CallStatusConversation, CreatedAt: time.Unix(1_700_000_000, 0)}
}

type callResult struct {
	phone string
	res   *kommo.CallCreated
	err   error
}

// addCalls runs AddCall concurrently for phones, all released at once.
func addCalls(t *testing.T, e *env, phones []string) []callResult {
	t.Helper()
	out := make([]callResult, len(phones))
	atOnce(len(phones), func(i int) {
		res, err := e.c.AddCall(t.Context(), e.acct, callFor(phones[i]))
		out[i] = callResult{phones[i], res, err}
	})
	return out
}

func phoneN(i int) string { return fmt.Sprintf("+1415555%04d", i) }

func TestAddCallBatchesConcurrentCallers(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 10; c.BatchWait = time.Minute })
	var phones []string
	for i := range 30 {
		p := phoneN(i)
		phones = append(phones, p)
		e.f.addPhone(p, "leads", int64(100+i))
	}
	results := addCalls(t, e, phones)
	if got := e.f.count("POST /api/v4/calls"); got != 3 {
		t.Errorf("requests = %d, want 3 (30 calls, batch size 10)", got)
	}
	for _, b := range e.f.callBatches() {
		if len(b) != 10 {
			t.Errorf("batch of %d items, want 10", len(b))
		}
	}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("%s: %v", r.phone, r.err)
		}
		if got := e.f.notePhone(r.res.NoteID); got != r.phone {
			t.Errorf("%s got note %d, which belongs to %q", r.phone, r.res.NoteID, got)
		}
		if r.res.EntityType != "leads" || r.res.EntityID != int64(100+i) {
			t.Errorf("%s: entity %s %d, want leads %d", r.phone, r.res.EntityType, r.res.EntityID, 100+i)
		}
	}
}

func TestAddCallSendsPartialBatchAfterWait(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 10; c.BatchWait = time.Second })
	var phones []string
	for i := range 23 {
		phones = append(phones, phoneN(i))
		e.f.addPhone(phoneN(i), "contacts", int64(i+1))
	}
	for _, r := range addCalls(t, e, phones) {
		if r.err != nil {
			t.Fatalf("%s: %v", r.phone, r.err)
		}
	}
	if got := e.f.count("POST /api/v4/calls"); got != 3 {
		t.Errorf("requests = %d, want ceil(23/10) = 3", got)
	}
}

// gateLimiter holds every request until its gate is opened, and tells when
// one is waiting.
type gateLimiter struct {
	waiting chan struct{}
	gate    chan struct{}
}

func (l *gateLimiter) Wait(ctx context.Context, _ int64) error {
	select {
	case l.waiting <- struct{}{}:
	default:
	}
	select {
	case <-l.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *gateLimiter) Penalize(time.Time) {}

// TestAddCallJoinsABatchWaitingForTheLimiter checks that calls arriving while
// a batch waits for a request slot ride in that batch: when Kommo's budget is
// the bottleneck, the wait fills batches instead of queueing requests.
func TestAddCallJoinsABatchWaitingForTheLimiter(t *testing.T) {
	lim := &gateLimiter{waiting: make(chan struct{}, 1), gate: make(chan struct{})}
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 10; c.BatchWait = 200 * time.Millisecond; c.Limiter = lim })
	var phones []string
	for i := range 16 {
		phones = append(phones, phoneN(i))
		e.f.addPhone(phoneN(i), "contacts", int64(i+1))
	}
	first := make(chan callResult, 1)
	go func() {
		res, err := e.c.AddCall(t.Context(), e.acct, callFor(phones[0]))
		first <- callResult{phones[0], res, err}
	}()
	<-lim.waiting // the first call's batch waits for a slot
	rest := make(chan []callResult, 1)
	go func() { rest <- addCalls(t, e, phones[1:]) }()
	// Nine calls fill the waiting batch to 10; the other six start a new
	// batch, which waits for its slot too once its 200 ms are over (all
	// fifteen are released at once, so they are in by then).
	<-lim.waiting
	close(lim.gate)
	results := append([]callResult{<-first}, <-rest...)
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("%s: %v", r.phone, r.err)
		}
	}
	sizes := []int{}
	for _, b := range e.f.callBatches() {
		sizes = append(sizes, len(b))
	}
	if len(sizes) != 2 || sizes[0]+sizes[1] != 16 || max(sizes[0], sizes[1]) != 10 {
		t.Fatalf("batches of %v, want one of 10 (the waiting batch, filled) and one of 6", sizes)
	}
}

func TestAddCallBodyShape(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 1 })
	e.f.addPhone("+14155550100", "leads", 1)
	in := callFor("+14155550100")
	in.Link, in.ResponsibleUserID, in.CreatedBy = "https://cb.example/r/1", 55, 56
	in.Direction = "outbound"
	if _, err := e.c.AddCall(t.Context(), e.acct, in); err != nil {
		t.Fatal(err)
	}
	got := e.f.callBatches()[0][0]
	want := map[string]any{"direction": "outbound", "duration": 42.0, "source": "callbridge", "phone": "+14155550100",
		"uniq": "uid-+14155550100", "link": "https://cb.example/r/1", "call_result": "Talked", "call_status": 4.0,
		"responsible_user_id": 55.0, "created_by": 56.0, "created_at": 1_700_000_000.0, "request_id": "1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("body has %d fields, want %d: %v", len(got), len(want), got)
	}
}

func TestAddCallMixedEntityNotFound(t *testing.T) {
	for _, withRID := range []bool{true, false} {
		t.Run(fmt.Sprintf("request_id_in_errors=%v", withRID), func(t *testing.T) {
			e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 6; c.BatchWait = time.Minute })
			e.f.with(func() { e.f.ridInErrors = withRID })
			var phones []string
			for i := range 6 {
				phones = append(phones, phoneN(i))
				if i%3 != 1 { // 1 and 4 are unknown
					e.f.addPhone(phoneN(i), "contacts", int64(i+1))
				}
			}
			results := addCalls(t, e, phones)
			if got := e.f.count("POST /api/v4/calls"); got != 1 {
				t.Errorf("requests = %d, want 1", got)
			}
			for i, r := range results {
				if i%3 == 1 {
					ce := asErr(t, r.err)
					if ce.Code != callbridge.ENOTFOUND || ce.Kind != callbridge.KindPermanent || ce.Message != "Entity not found" {
						t.Errorf("%s: got %v, want permanent ENOTFOUND Entity not found", r.phone, r.err)
					}
					continue
				}
				if r.err != nil {
					t.Fatalf("%s: %v", r.phone, r.err)
				}
				if got := e.f.notePhone(r.res.NoteID); got != r.phone {
					t.Errorf("%s got the note of %q", r.phone, got)
				}
			}
		})
	}
}

func TestAddCallEveryItemNotFound400(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 3; c.BatchWait = time.Minute })
	results := addCalls(t, e, []string{phoneN(1), phoneN(2), phoneN(3)})
	for _, r := range results {
		ce := asErr(t, r.err)
		if ce.Code != callbridge.ENOTFOUND || ce.Kind != callbridge.KindPermanent {
			t.Errorf("%s: %v, want permanent ENOTFOUND", r.phone, r.err)
		}
	}
	if got := e.f.count("POST /api/v4/calls"); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestAddCallValidationErrorFailsOnlyItsItem(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 3; c.BatchWait = time.Minute })
	e.f.addPhone(phoneN(1), "leads", 1)
	e.f.addPhone(phoneN(3), "leads", 3)
	results := addCalls(t, e, []string{phoneN(1), "invalid", phoneN(3)})
	for _, r := range results {
		if r.phone == "invalid" {
			ce := asErr(t, r.err)
			if ce.Code != callbridge.EINVALID || ce.Kind != callbridge.KindPermanent {
				t.Errorf("invalid item: %v, want permanent EINVALID", r.err)
			}
			continue
		}
		if r.err != nil {
			t.Errorf("%s: %v (a valid item must be resent)", r.phone, r.err)
		}
	}
	b := e.f.callBatches()
	if len(b) != 2 || len(b[1]) != 2 {
		t.Fatalf("batches %v, want the 3 items then the 2 valid ones", b)
	}
}

func TestAddCallLostAnswerIsUncertainForEveryCaller(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 4; c.BatchWait = time.Minute })
	e.f.with(func() { e.f.dropCalls = true })
	for _, r := range addCalls(t, e, []string{phoneN(1), phoneN(2), phoneN(3), phoneN(4)}) {
		if ce := asErr(t, r.err); ce.Kind != callbridge.KindUncertain {
			t.Errorf("%s: %v, want KindUncertain", r.phone, r.err)
		}
	}
}

func TestAddCallCallerLeavingBeforeSendIsWithdrawn(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 2; c.BatchWait = time.Minute })
	for i := range 3 {
		e.f.addPhone(phoneN(i), "leads", int64(i+1))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := e.c.AddCall(ctx, e.acct, callFor(phoneN(0)))
	if ce := asErr(t, err); ce.Kind != callbridge.KindTransient {
		t.Fatalf("abandoned call: %v, want KindTransient (never sent)", err)
	}
	for _, r := range addCalls(t, e, []string{phoneN(1), phoneN(2)}) {
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	b := e.f.callBatches()
	if len(b) != 1 || len(b[0]) != 2 {
		t.Fatalf("batches %v, want one batch with the two remaining calls", b)
	}
	for _, it := range b[0] {
		if it["phone"] == phoneN(0) {
			t.Error("the abandoned call was sent")
		}
	}
}

func TestAddCallRejectsBadInputWithoutRequest(t *testing.T) {
	e := newEnv(t, nil)
	for _, in := range []kommo.CallInput{
		{Direction: "sideways", Phone: "+1", Source: "x"},
		{Direction: "inbound", Source: "x"},
		{Direction: "inbound", Phone: "+14155550100"},
		{Direction: "inbound", Phone: "+14155550100", Source: "x", Duration: -1},
	} {
		_, err := e.c.AddCall(t.Context(), e.acct, in)
		if ce := asErr(t, err); ce.Code != callbridge.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", in, err)
		}
	}
	if n := e.f.count("POST /api/v4/calls"); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

func TestUpdateNoteBatchesPerEntityType(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 4; c.BatchWait = time.Minute })
	var mu sync.Mutex
	var bodies [][]map[string]any
	e.f.handle("PATCH /api/v4/contacts/notes", func(w http.ResponseWriter, r *http.Request) {
		var items []map[string]any
		json.NewDecoder(r.Body).Decode(&items)
		mu.Lock()
		bodies = append(bodies, items)
		mu.Unlock()
		var notes, verrs []any
		for _, it := range items {
			if it["id"] == 999.0 {
				verrs = append(verrs, map[string]any{"request_id": it["request_id"], "errors": []any{
					map[string]any{"code": "NotFound", "path": "id", "detail": "Note not found"}}})
				continue
			}
			notes = append(notes, map[string]any{"id": it["id"], "entity_id": 1, "updated_at": 1700000000, "request_id": it["request_id"]})
		}
		if len(verrs) > 0 {
			b, _ := json.Marshal(map[string]any{"validation-errors": verrs, "title": "Bad Request", "status": 400, "detail": "Request validation failed"})
			problemJSON(w, 400, string(b))
			return
		}
		b, _ := json.Marshal(map[string]any{"_embedded": map[string]any{"notes": notes}})
		halJSON(w, 200, string(b))
	})
	link, dur := "https://cb.example/r/9", 61
	ids := []int64{11, 12, 999, 14}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			errs[i] = e.c.UpdateNote(t.Context(), e.acct, "contacts", kommo.NoteUpdate{ID: id, NoteType: kommo.NoteCallIn,
				Params: kommo.NoteParams{Link: link, Duration: dur}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if ids[i] == 999 {
			if ce := asErr(t, err); ce.Code != callbridge.EINVALID || ce.Kind != callbridge.KindPermanent {
				t.Errorf("note 999: %v, want permanent EINVALID", err)
			}
		} else if err != nil {
			t.Errorf("note %d: %v", ids[i], err)
		}
	}
	if len(bodies) != 2 || len(bodies[0]) != 4 || len(bodies[1]) != 3 {
		t.Fatalf("PATCH bodies %v, want 4 items then the 3 valid ones", bodies)
	}
	params := bodies[0][0]["params"].(map[string]any)
	if len(params) != 2 || params["link"] != link || params["duration"] != 61.0 {
		t.Errorf("params %v, want only link and duration", params)
	}
	if bodies[0][0]["note_type"] != "call_in" {
		t.Errorf("note_type %v", bodies[0][0]["note_type"])
	}
}
