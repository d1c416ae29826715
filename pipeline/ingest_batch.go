package pipeline

// Group commit: Ingest calls queue their webhooks; committer goroutines take
// up to MaxBatch of them at a time and commit them in one transaction.

import (
	"cmp"
	"context"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"

	"callbridge"
)

// ingestReq is one Ingest call: the events of one webhook, grouped by call.
type ingestReq struct {
	ctx    context.Context
	conn   *callbridge.Connection
	events []callbridge.CallEvent // validated, grouped by ProviderCallID
	refs   []callRef              // the calls of events, once each
	// counted[i] is set once events[i] was inserted in a transaction that
	// then failed: the store's Queries may have counted its outcome (see
	// prometheus.IngestStore), so the retry hides the webhook's context
	// values from that insert and it is counted once.
	counted []bool

	err  error
	done chan struct{} // closed when err is final; nil without group commit
}

// callRef names a call by what LockCall takes.
type callRef struct {
	account, conn int64
	id            string
}

func compareRefs(a, b callRef) int {
	return cmp.Or(cmp.Compare(a.conn, b.conn), strings.Compare(a.id, b.id), cmp.Compare(a.account, b.account))
}

// concurrency is what an Ingester has seen of its store running its
// transactions: whether one began while another was inside its function
// (the store runs them side by side), or, again and again, only once the
// others had finished (the store runs one at a time).
type concurrency struct {
	inTx, inside int // committers in Store.InTx; of those, inside its function
	overlapped   bool
	waited       int  // transactions that began while another committer was in InTx, but none inside
	serial       bool // waited reached serialAfter without an overlap
}

// serialAfter is how many transactions must have waited for each other,
// with none ever running alongside another, before an Ingester with
// Committers 0 decides that its store runs one at a time.
const serialAfter = 32

// maxPlacedID is the longest CallEvent.PlacedID kept, in bytes (as long as
// a provider call id); a longer one is ignored.
const maxPlacedID = 200

// committers is how many committers may run now (in.mu held).
func (in *Ingester) committers() int {
	switch {
	case in.Committers > 0:
		return in.Committers
	case in.conc.serial:
		return 1
	}
	return DefaultCommitters
}

// entered records that a committer's transaction has begun and runs its
// function; left that the function returned.
func (in *Ingester) entered() {
	in.mu.Lock()
	defer in.mu.Unlock()
	c := &in.conc
	switch {
	case c.inside > 0:
		c.overlapped = true
	case c.inTx > 1 && !c.overlapped && !c.serial:
		c.waited++
		if c.waited >= serialAfter {
			c.serial = true
			if in.Committers == 0 {
				in.log().Info("ingest: the store runs one transaction at a time; committing webhooks with one committer")
			}
		}
	}
	c.inside++
}

func (in *Ingester) left() {
	in.mu.Lock()
	in.conc.inside--
	in.mu.Unlock()
}

// enqueue queues r for a committer, starting one if fewer than Committers
// run, and waits for r's outcome or for r.ctx to end.
func (in *Ingester) enqueue(r *ingestReq) error {
	r.done = make(chan struct{})
	in.mu.Lock()
	in.queue = append(in.queue, r)
	if in.running < in.committers() {
		in.running++
		go in.commitLoop()
	}
	in.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-r.ctx.Done():
		// Still queued or being committed: a committer skips it if it has
		// not started yet, or commits it anyway.
		return r.ctx.Err()
	}
}

// commitLoop commits queued webhooks, a batch at a time, until no queued
// webhook can be taken or there are more committers than committers allows.
// Under load a batch is whatever queued up while the previous one committed;
// when idle, a webhook is committed alone, at once.
func (in *Ingester) commitLoop() {
	for {
		in.mu.Lock()
		if !in.takeable() || in.running > in.committers() {
			// Done, or one too many since the store was seen to run one
			// transaction at a time: another committer goes on.
			in.running--
			in.mu.Unlock()
			return
		}
		head := in.queue[0].ctx
		in.mu.Unlock()
		in.commitNext(head)
	}
}

// take removes up to MaxBatch webhooks from the queue (see pick) and marks
// their calls busy until release.
func (in *Ingester) take() []*ingestReq {
	in.mu.Lock()
	defer in.mu.Unlock()
	picked := in.pick(cmp.Or(max(in.MaxBatch, 0), DefaultMaxBatch))
	batch := make([]*ingestReq, 0, len(picked))
	kept := in.queue[:0]
	for i, r := range in.queue {
		if len(picked) > 0 && picked[0] == i {
			picked = picked[1:]
			batch = append(batch, r)
			continue
		}
		kept = append(kept, r)
	}
	clear(in.queue[len(kept):])
	in.queue = kept
	if in.busy == nil {
		in.busy = map[callRef]bool{}
	}
	for _, r := range batch {
		for _, ref := range r.refs {
			in.busy[ref] = true
		}
	}
	return batch
}

// takeable reports whether take would return a webhook (in.mu held).
func (in *Ingester) takeable() bool { return len(in.pick(1)) > 0 }

// pick returns the positions in the queue of the first webhooks, at most
// limit, that name no call another committer is committing (busy), nor a
// call of an earlier webhook left in the queue (in.mu held). Two committers
// thus never wait for each other's lock on a call's row, and a call's
// webhooks are still committed in the order they arrived.
func (in *Ingester) pick(limit int) []int {
	var picked []int
	var skipped map[callRef]bool
	for i, r := range in.queue {
		if len(picked) == limit {
			break
		}
		blocked := false
		for _, ref := range r.refs {
			blocked = blocked || in.busy[ref] || skipped[ref]
		}
		if !blocked {
			picked = append(picked, i)
			continue
		}
		if skipped == nil {
			skipped = map[callRef]bool{}
		}
		for _, ref := range r.refs {
			skipped[ref] = true
		}
	}
	return picked
}

// release marks the calls of batch no longer busy.
func (in *Ingester) release(batch []*ingestReq) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, r := range batch {
		for _, ref := range r.refs {
			delete(in.busy, ref)
		}
	}
}

// commitNext commits the next batch in one transaction and sets each
// webhook's outcome. The batch is taken from the queue once the transaction
// has begun: on SQLite, whose single connection runs one transaction at a
// time, a committer waiting for it takes everything that queued up
// meanwhile, rather than a batch taken before the wait. When a transaction
// of several webhooks fails, each is committed again in a transaction of its
// own, so that every webhook gets the outcome it would have had alone.
//
// The transaction's context has the values of head, the webhook first in
// the queue when it began (so that a store wrapper that looks for a
// request's values to decide how to wrap the transaction does so; each
// insert has its own webhook's values), and it is cancelled once every
// webhook of the batch has been given up by its caller.
func (in *Ingester) commitNext(head context.Context) {
	ctx, cancel := context.WithCancel(valuesOf{context.Background(), head})
	defer cancel()
	var batch, live []*ingestReq
	var stops []func() bool
	taken := false
	take := func() []*ingestReq {
		taken = true
		batch = in.take()
		var left atomic.Int64
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.err = err // the caller has gone: nothing to acknowledge
				continue
			}
			live = append(live, r)
		}
		left.Store(int64(len(live)))
		for _, r := range live {
			stops = append(stops, context.AfterFunc(r.ctx, func() {
				if left.Add(-1) == 0 {
					cancel()
				}
			}))
		}
		return live
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
		if p := recover(); p != nil {
			// A bug (in the store, or in OnCommit): answer the webhooks
			// with an error, which providers retry, and keep committing.
			in.log().Error("ingest: panic while committing webhooks", "panic", p, "stack", string(debug.Stack()))
			for _, r := range batch {
				r.err = callbridge.Errorf(callbridge.EINTERNAL, "Internal error while storing the webhook.")
			}
		}
		in.release(batch)
		for _, r := range batch {
			close(r.done)
		}
	}()
	err := in.trackedTx(ctx, take)
	began := taken
	if !began {
		// The transaction did not begin: take the batch anyway, so that
		// the queue moves, and try each webhook alone.
		take()
	}
	switch {
	case began && err == nil, len(live) == 0:
		return
	case began && len(live) == 1:
		live[0].err = err
		return
	case len(live) > 1:
		in.log().Warn("ingest: a transaction of several webhooks failed; committing them one by one",
			"webhooks", len(live), "err", err)
	}
	for _, r := range live {
		r.err = in.commitTx(r.ctx, func() []*ingestReq { return []*ingestReq{r} }, false)
	}
}

// trackedTx is commitTx of a committer's batch, counted in in.conc.
func (in *Ingester) trackedTx(ctx context.Context, take func() []*ingestReq) error {
	in.mu.Lock()
	in.conc.inTx++
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		in.conc.inTx--
		in.mu.Unlock()
	}()
	return in.commitTx(ctx, take, true)
}

// commitAlone commits r in a transaction of its own, in the caller's
// goroutine (Ingester.MaxBatch 1).
func (in *Ingester) commitAlone(r *ingestReq) {
	defer func() {
		if p := recover(); p != nil {
			in.log().Error("ingest: panic while committing a webhook", "panic", p, "stack", string(debug.Stack()))
			r.err = callbridge.Errorf(callbridge.EINTERNAL, "Internal error while storing the webhook.")
		}
	}()
	r.err = in.commitTx(r.ctx, func() []*ingestReq { return []*ingestReq{r} }, false)
}

// commitTx stores in one transaction of ctx the events of the webhooks get
// returns, called once when the transaction has begun; shared says whether
// ctx is a batch's rather than the one webhook's own. It locks every call
// they name (lockCalls), inserts the events webhook by webhook, then
// re-folds, writes and enqueues each changed call once (refold). After the
// commit it calls OnCommit; the caller sets the outcomes.
//
// Two committers of one Ingester never hold the same call (take). A
// transaction of another replica that locks the same calls in another order
// can deadlock with this one on PostgreSQL; PostgreSQL breaks the deadlock by
// failing one transaction, whose webhooks commitNext then commits one by one.
func (in *Ingester) commitTx(ctx context.Context, get func() []*ingestReq, shared bool) error {
	type work struct {
		call    *callbridge.Call
		changed bool // an event of the call was new
	}
	type mark struct {
		r *ingestReq
		i int
	}
	var (
		reqs     []*ingestReq
		got      bool
		inserted []mark // InsertEvent calls that returned without error
		changed  []*work
	)
	err := in.Store.InTx(ctx, func(q callbridge.Queries) error {
		if shared {
			in.entered()
			defer in.left()
		}
		if !got {
			reqs, got = get(), true
		}
		inserted, changed = inserted[:0], changed[:0]
		if len(reqs) == 0 {
			return nil
		}
		now := in.now()
		var refs []callRef
		seen := map[callRef]bool{}
		for _, r := range reqs {
			for _, e := range r.events {
				ref := callRef{r.conn.AccountID, r.conn.ID, e.ProviderCallID}
				if !seen[ref] {
					seen[ref] = true
					refs = append(refs, ref)
				}
			}
		}
		slices.SortFunc(refs, compareRefs)
		locked, err := lockCalls(ctx, q, refs)
		if err != nil {
			return err
		}
		calls := make(map[callRef]*work, len(refs))
		for _, ref := range refs {
			calls[ref] = &work{call: locked[ref]}
		}
		for _, r := range reqs {
			for i := range r.events {
				e := &r.events[i]
				w := calls[callRef{r.conn.AccountID, r.conn.ID, e.ProviderCallID}]
				e.CallID = w.call.ID
				ok, err := q.InsertEvent(eventContext(ctx, r, i, shared), e)
				if err != nil {
					return err
				}
				inserted = append(inserted, mark{r, i})
				w.changed = w.changed || ok
				if w.call.PlacedID == "" && e.PlacedID != "" && e.PlacedID != e.ProviderCallID && len(e.PlacedID) <= maxPlacedID {
					// The first webhook naming the id the call was placed
					// with: a result saved against that id meanwhile joins
					// the call (Call.PlacedID).
					w.call.PlacedID, w.changed = e.PlacedID, true
					if _, err := q.MovePlacedEvents(ctx, r.conn.AccountID, r.conn.ID, e.PlacedID, e.ProviderCallID); err != nil {
						return err
					}
				}
			}
		}
		var fold []*callbridge.Call
		for _, ref := range refs {
			if w := calls[ref]; w.changed { // else provider retries only: nothing new
				fold = append(fold, w.call)
				changed = append(changed, w)
			}
		}
		return in.refold(ctx, q, fold, now)
	})
	if err != nil {
		for _, m := range inserted {
			m.r.counted[m.i] = true
		}
		return err
	}
	if len(reqs) == 0 {
		return nil
	}
	in.stats.txs.Add(1)
	in.stats.webhooks.Add(int64(len(reqs)))
	if in.OnCommit != nil {
		for _, w := range changed {
			in.OnCommit(w.call)
		}
	}
	return nil
}

// lockCalls locks the calls refs name, sorted by compareRefs: those that
// exist with one statement per connection, then those that do not, created
// one by one.
func lockCalls(ctx context.Context, q callbridge.Queries, refs []callRef) (map[callRef]*callbridge.Call, error) {
	out := make(map[callRef]*callbridge.Call, len(refs))
	for len(refs) > 0 {
		n := 1
		for n < len(refs) && refs[n].conn == refs[0].conn && refs[n].account == refs[0].account {
			n++
		}
		group := refs[:n]
		refs = refs[n:]
		ids := make([]string, len(group))
		for i, ref := range group {
			ids[i] = ref.id
		}
		existing, err := q.LockCalls(ctx, group[0].account, group[0].conn, ids)
		if err != nil {
			return nil, err
		}
		for _, ref := range group {
			c := existing[ref.id]
			if c == nil {
				if c, err = q.LockCall(ctx, ref.account, ref.conn, ref.id); err != nil {
					return nil, err
				}
			}
			out[ref] = c
		}
	}
	return out, nil
}

// eventContext is the context of the InsertEvent of r's event i in a
// transaction of ctx (shared by several webhooks, or r's own): ctx's deadline
// and cancellation with r's values, so that a store that counts per request
// (prometheus.IngestStore) counts it for r — unless it was counted already in
// a transaction that failed.
func eventContext(ctx context.Context, r *ingestReq, i int, shared bool) context.Context {
	switch {
	case r.counted[i]:
		return valuesOf{ctx, context.Background()}
	case shared:
		return valuesOf{ctx, r.ctx}
	}
	return ctx
}

// valuesOf is a context with the deadline and cancellation of its Context and
// the values of values.
type valuesOf struct {
	context.Context
	values context.Context
}

func (c valuesOf) Value(key any) any { return c.values.Value(key) }
