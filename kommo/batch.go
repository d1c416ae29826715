package kommo

import (
	"context"
	"sync"
	"time"

	"callbridge"
)

// batcher gathers concurrent writes for the same key (account, endpoint)
// into one request of up to size items. A batch is sent when it is full or
// wait after its first item arrived; once sending, it waits for the limiter
// and the token, and until then it stays open: writes that arrive meanwhile
// join it (up to size). When Kommo's budget is contended (many accounts on
// one IP, or a burst), the wait for a request slot thus fills batches instead
// of queueing more requests.
//
// A caller whose context ends before its batch is sent is withdrawn from it
// (its write never happens: KindTransient); after the batch was sent it gets
// KindUncertain, since the write may have been applied. A batcher of reads
// (see newReadBatcher) answers KindTransient in both cases: a read changes
// nothing.
type batcher[I, O any] struct {
	size  int
	wait  time.Duration
	flush flushFunc[I, O]
	reads bool // the batched requests change nothing in Kommo

	mu   sync.Mutex
	open map[batchKey]*batch[I, O]
}

// flushFunc sends one batch. It calls take right before the request goes out
// (after the limiter and the token): take freezes the batch and returns the
// inputs still wanted, in order (nil when every caller left; then nothing
// must be sent). It returns one outcome per taken input, or an error that
// applies to every input.
type flushFunc[I, O any] func(ctx context.Context, acct *callbridge.Account, kind string, take func() []I) ([]outcome[O], error)

type batchKey struct {
	account int64
	kind    string
}

type outcome[O any] struct {
	val O
	err error
}

type batch[I, O any] struct {
	key   batchKey
	acct  *callbridge.Account
	items []*batchItem[I, O]
	timer *time.Timer
	// running: its flush has started; until it takes the items (sent),
	// the batch stays open to new items unless it is full.
	running bool
	sent    bool // taken by the flush: items can no longer be withdrawn
	taken   []*batchItem[I, O]
	cancel  context.CancelFunc
}

type batchItem[I, O any] struct {
	ctx  context.Context
	in   I
	res  outcome[O]
	done chan struct{}
}

func newBatcher[I, O any](size int, wait time.Duration, flush flushFunc[I, O]) *batcher[I, O] {
	return &batcher[I, O]{size: size, wait: wait, flush: flush, open: make(map[batchKey]*batch[I, O])}
}

// newReadBatcher is newBatcher for requests that change nothing: no outcome
// of theirs is ever KindUncertain.
func newReadBatcher[I, O any](size int, wait time.Duration, flush flushFunc[I, O]) *batcher[I, O] {
	b := newBatcher(size, wait, flush)
	b.reads = true
	return b
}

// unknown is the error of an item whose request was sent but whose outcome
// the caller will not learn.
func (b *batcher[I, O]) unknown(err error, msg string) error {
	if b.reads {
		return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "%s", msg)
	}
	return callbridge.Uncertain(err, "%s", msg)
}

// do adds in to the open batch for (acct, kind) and waits for its outcome.
func (b *batcher[I, O]) do(ctx context.Context, acct *callbridge.Account, kind string, in I) (O, error) {
	it := &batchItem[I, O]{ctx: ctx, in: in, done: make(chan struct{})}
	key := batchKey{acct.ID, kind}

	b.mu.Lock()
	bt := b.open[key]
	if bt == nil {
		bt = &batch[I, O]{key: key, acct: acct}
		b.open[key] = bt
		bt.timer = time.AfterFunc(b.wait, func() { b.close(bt) })
	}
	bt.items = append(bt.items, it)
	start := false
	if len(bt.items) >= b.size {
		delete(b.open, key)
		bt.timer.Stop()
		start, bt.running = !bt.running, true
	}
	b.mu.Unlock()
	if start {
		go b.run(bt)
	}

	select {
	case <-it.done:
		return it.res.val, it.res.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	select {
	case <-it.done:
		b.mu.Unlock()
		return it.res.val, it.res.err
	default:
	}
	var zero O
	if bt.sent {
		b.mu.Unlock()
		return zero, b.unknown(ctx.Err(), "kommo: gave up waiting for a sent request")
	}
	for i, x := range bt.items {
		if x == it {
			bt.items = append(bt.items[:i], bt.items[i+1:]...)
			break
		}
	}
	if len(bt.items) == 0 {
		if b.open[key] == bt {
			delete(b.open, key)
			bt.timer.Stop()
		}
		if bt.cancel != nil {
			bt.cancel()
		}
	}
	b.mu.Unlock()
	return zero, callbridge.Transient(callbridge.EUNAVAILABLE, 0, ctx.Err(), "kommo: request not sent: %v", ctx.Err())
}

// close starts sending bt when its wait is over. bt stays open to new
// items until its flush takes them.
func (b *batcher[I, O]) close(bt *batch[I, O]) {
	b.mu.Lock()
	if b.open[bt.key] != bt || bt.running {
		b.mu.Unlock()
		return // already sending because it was full
	}
	empty := len(bt.items) == 0
	if empty {
		delete(b.open, bt.key)
	}
	bt.running = true
	b.mu.Unlock()
	if !empty {
		b.run(bt)
	}
}

// seal ends bt's collection: no item joins it any more (b.mu held).
func (b *batcher[I, O]) seal(bt *batch[I, O]) {
	bt.sent = true
	if b.open[bt.key] == bt {
		delete(b.open, bt.key)
	}
}

// run flushes bt with a context that outlives each caller's: it carries the
// first caller's values, ends at the latest of the callers' deadlines (none
// if one has none) and is cancelled when every caller left before sending.
func (b *batcher[I, O]) run(bt *batch[I, O]) {
	b.mu.Lock()
	if len(bt.items) == 0 {
		b.mu.Unlock()
		return
	}
	ctx := context.WithoutCancel(bt.items[0].ctx)
	var deadline time.Time
	all := true
	for _, it := range bt.items {
		dl, ok := it.ctx.Deadline()
		if !ok {
			all = false
			break
		}
		deadline = later(deadline, dl)
	}
	var cancel context.CancelFunc
	if all {
		ctx, cancel = context.WithDeadline(ctx, deadline)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	bt.cancel = cancel
	b.mu.Unlock()
	defer cancel()

	take := func() []I {
		b.mu.Lock()
		defer b.mu.Unlock()
		if !bt.sent {
			b.seal(bt)
			bt.taken = append([]*batchItem[I, O](nil), bt.items...)
		}
		ins := make([]I, len(bt.taken))
		for i, it := range bt.taken {
			ins[i] = it.in
		}
		return ins
	}
	outs, err := b.flush(ctx, bt.acct, bt.key.kind, take)

	b.mu.Lock()
	if !bt.sent {
		// The flush failed before sending (limiter, token): its error goes
		// to everyone still waiting.
		b.seal(bt)
		bt.taken = bt.items
	}
	taken := bt.taken
	b.mu.Unlock()
	for i, it := range taken {
		switch {
		case err != nil:
			it.res = outcome[O]{err: err}
		case i < len(outs):
			it.res = outs[i]
		default:
			it.res = outcome[O]{err: b.unknown(nil, "kommo: no outcome for a batched item")}
		}
		close(it.done)
	}
}
