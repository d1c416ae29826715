package kommo_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// op is one client call under test; write reports whether it is a write.
type op struct {
	name  string
	write bool
	run   func(ctx context.Context, e *env) error
}

var (
	opGet = op{"GET pipelines", false, func(ctx context.Context, e *env) error {
		_, err := e.c.ListPipelines(ctx, e.acct)
		return err
	}}
	opPost = op{"POST tasks", true, func(ctx context.Context, e *env) error {
		_, err := e.c.AddTask(ctx, e.acct, kommo.TaskInput{Text: "call back", CompleteTill: time.Now().Add(time.Hour)})
		return err
	}}
	opBatched = op{"POST calls (batched)", true, func(ctx context.Context, e *env) error {
		_, err := e.c.AddCall(ctx, e.acct, callFor("+14155550100"))
		return err
	}}
)

func TestErrorKinds(t *testing.T) {
	handlers := map[string]http.HandlerFunc{
		"status 500": func(w http.ResponseWriter, r *http.Request) {
			problemJSON(w, 500, `{"title":"Internal Server Error","type":"https://httpstatus.es/500","status":500,"detail":"An unknown error occurred.","trace_id":"abc"}`)
		},
		"status 504":      func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(504) },
		"drop after read": dropAfterRead,
		"status 400": func(w http.ResponseWriter, r *http.Request) {
			problemJSON(w, 400, `{"validation-errors":[{"request_id":"0","errors":[{"code":"NotSupportedChoice","path":"text","detail":"This value should not be blank."}]}],"title":"Bad Request","type":"https://httpstatus.es/400","status":400,"detail":"Request validation failed"}`)
		},
		"status 422": func(w http.ResponseWriter, r *http.Request) {
			problemJSON(w, 422, `{"title":"Unprocessable Entity","type":"https://httpstatus.es/422","status":422,"detail":"Limit 250 per page"}`)
		},
		"status 404": func(w http.ResponseWriter, r *http.Request) {
			problemJSON(w, 404, `{"title":"Not Found","type":"https://httpstatus.es/404","status":404,"detail":"Pipeline not found"}`)
		},
		"status 402": func(w http.ResponseWriter, r *http.Request) {
			problemJSON(w, 402, `{"title":"Payment Required","status":402}`)
		},
	}
	type want struct {
		code string
		kind callbridge.Kind
	}
	cases := []struct {
		handler string
		op      op
		want    want
	}{
		{"status 500", opPost, want{callbridge.EUNAVAILABLE, callbridge.KindUncertain}},
		{"status 500", opBatched, want{callbridge.EUNAVAILABLE, callbridge.KindUncertain}},
		{"status 500", opGet, want{callbridge.EUNAVAILABLE, callbridge.KindTransient}},
		{"status 504", opPost, want{callbridge.EUNAVAILABLE, callbridge.KindUncertain}},
		{"drop after read", opPost, want{callbridge.EUNAVAILABLE, callbridge.KindUncertain}},
		{"drop after read", opBatched, want{callbridge.EUNAVAILABLE, callbridge.KindUncertain}},
		{"drop after read", opGet, want{callbridge.EUNAVAILABLE, callbridge.KindTransient}},
		{"status 400", opPost, want{callbridge.EINVALID, callbridge.KindPermanent}},
		{"status 400", opGet, want{callbridge.EINVALID, callbridge.KindPermanent}},
		{"status 422", opPost, want{callbridge.EINVALID, callbridge.KindPermanent}},
		{"status 422", opBatched, want{callbridge.EINVALID, callbridge.KindPermanent}},
		{"status 404", opGet, want{callbridge.ENOTFOUND, callbridge.KindPermanent}},
		{"status 402", opGet, want{callbridge.EFORBIDDEN, callbridge.KindTransient}},
	}
	for _, tc := range cases {
		t.Run(tc.handler+"/"+tc.op.name, func(t *testing.T) {
			e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 1 })
			h := handlers[tc.handler]
			e.f.handle("GET /api/v4/leads/pipelines", h)
			e.f.handle("POST /api/v4/tasks", h)
			if tc.op.name == opBatched.name {
				e.f.reset()
				e.f.handle("POST /api/v4/calls", h)
			}
			ce := asErr(t, tc.op.run(t.Context(), e))
			if ce.Code != tc.want.code || ce.Kind != tc.want.kind {
				t.Fatalf("got %s/%s (%v), want %s/%s", ce.Code, ce.Kind, ce, tc.want.code, tc.want.kind)
			}
			switch tc.handler {
			case "status 400":
				if !strings.Contains(ce.Message, "This value should not be blank") {
					t.Errorf("message %q does not explain the validation error", ce.Message)
				}
			case "status 404":
				if !strings.Contains(ce.Message, "Pipeline not found") {
					t.Errorf("message %q", ce.Message)
				}
			case "status 402":
				if ce.RetryAfter != time.Hour {
					t.Errorf("RetryAfter %v, want 1h", ce.RetryAfter)
				}
			}
		})
	}
}

func TestErrorKindRefusedDialIsTransient(t *testing.T) {
	for _, o := range []op{opGet, opPost, opBatched} {
		t.Run(o.name, func(t *testing.T) {
			e := newEnv(t, func(c *kommo.Config) { c.BaseURL = closedAddr(t); c.BatchSize = 1 })
			ce := asErr(t, o.run(t.Context(), e))
			if ce.Kind != callbridge.KindTransient {
				t.Fatalf("got %v, want KindTransient (nothing was sent)", ce)
			}
		})
	}
}

func TestErrorKindTimeoutAfterSending(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	block := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	for _, tc := range []struct {
		o    op
		kind callbridge.Kind
	}{{opGet, callbridge.KindTransient}, {opPost, callbridge.KindUncertain}, {opBatched, callbridge.KindUncertain}} {
		t.Run(tc.o.name, func(t *testing.T) {
			e := newEnv(t, func(c *kommo.Config) {
				c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond}
				c.BatchSize = 1
			})
			e.f.reset()
			e.f.handle("GET /api/v4/leads/pipelines", block)
			e.f.handle("POST /api/v4/tasks", block)
			e.f.handle("POST /api/v4/calls", block)
			if ce := asErr(t, tc.o.run(t.Context(), e)); ce.Kind != tc.kind {
				t.Fatalf("got %v, want %s", ce, tc.kind)
			}
		})
	}
}

func TestNoContentIsEmptyResult(t *testing.T) {
	e := newEnv(t, nil)
	noContent := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	e.f.handle("GET /api/v4/contacts", noContent)
	e.f.handle("GET /api/v4/contacts/notes", noContent)
	e.f.handle("GET /api/v4/leads/unsorted", noContent)
	cs, err := e.c.SearchContacts(t.Context(), e.acct, "+14155550100")
	if err != nil || len(cs) != 0 {
		t.Errorf("SearchContacts = %v, %v; want empty, nil", cs, err)
	}
	ns, err := e.c.ListNotes(t.Context(), e.acct, "contacts", kommo.NotesFilter{EntityIDs: []int64{1}})
	if err != nil || len(ns) != 0 {
		t.Errorf("ListNotes = %v, %v; want empty, nil", ns, err)
	}
	us, err := e.c.ListUnsorted(t.Context(), e.acct, kommo.UnsortedFilter{UIDs: []string{"x"}})
	if err != nil || len(us) != 0 {
		t.Errorf("ListUnsorted = %v, %v; want empty, nil", us, err)
	}
}

func TestForbiddenIPBlockPausesEverything(t *testing.T) {
	lim := &recLimiter{}
	e := newEnv(t, func(c *kommo.Config) { c.Limiter = lim })
	e.f.handle("GET /api/v4/leads/pipelines", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(403)
		io.WriteString(w, "<html><body>403 Forbidden</body></html>")
	})
	before := time.Now()
	ce := asErr(t, opGet.run(t.Context(), e))
	if ce.Code != callbridge.EUNAVAILABLE || ce.Kind != callbridge.KindTransient || ce.RetryAfter != 10*time.Minute {
		t.Fatalf("got %v (retry %v), want transient EUNAVAILABLE after 10m", ce, ce.RetryAfter)
	}
	p := lim.got()
	if len(p) != 1 || p[0].Before(before.Add(10*time.Minute)) || p[0].After(time.Now().Add(10*time.Minute)) {
		t.Fatalf("penalties %v, want one of 10 minutes", p)
	}
}

func TestForbiddenOnUsersIsPermissionNotIPBlock(t *testing.T) {
	lim := &recLimiter{}
	e := newEnv(t, func(c *kommo.Config) { c.Limiter = lim })
	e.f.handle("GET /api/v4/users", func(w http.ResponseWriter, r *http.Request) {
		problemJSON(w, 403, `{"title":"Forbidden","type":"https://httpstatus.es/403","status":403,"detail":"Access denied"}`)
	})
	_, err := e.c.ListUsers(t.Context(), e.acct)
	if ce := asErr(t, err); ce.Code != callbridge.EFORBIDDEN || ce.Kind != callbridge.KindPermanent {
		t.Fatalf("got %v, want permanent EFORBIDDEN", err)
	}
	if p := lim.got(); len(p) != 0 {
		t.Errorf("penalized %v for a permission error", p)
	}
}

func TestOnRequestReportsRouteTemplates(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	e := newEnv(t, func(c *kommo.Config) {
		c.OnRequest = func(endpoint string, status int, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, endpoint+" "+http.StatusText(status))
		}
	})
	e.f.handle("GET /api/v4/contacts/notes", func(w http.ResponseWriter, r *http.Request) {
		halJSON(w, 200, `{"_embedded":{"notes":[{"id":31,"entity_id":5,"note_type":"call_in","params":{"uniq":"u","duration":"12"},"created_at":1700000000}]}}`)
	})
	if _, err := e.c.GetNote(t.Context(), e.acct, "contacts", 31); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "GET /api/v4/{entity_type}/notes OK" {
		t.Errorf("OnRequest saw %v", seen)
	}
}
