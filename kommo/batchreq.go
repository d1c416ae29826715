package kommo

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"callbridge"
)

// batchSpec describes a batched write endpoint: an array body whose items
// carry request_id, answered with per-item results.
type batchSpec[I, O any] struct {
	method, route, path string
	// encode returns the array element for in, tagged with requestID.
	encode func(in I, requestID string) any
	// parse reads an answer (2xx, or 400 with per-item errors) and attributes
	// what it can to request ids. Errors it cannot attribute are returned in
	// order in loose.
	parse func(resp *response, items []entry[I]) (vals map[string]O, errs map[string]error, loose []error)
}

// entry is one item of a batch request.
type entry[I any] struct {
	rid string
	in  I
}

// requestID numbers items from 1 ("0" is refused by some Kommo endpoints).
func requestID(i int) string { return strconv.Itoa(i + 1) }

// runBatch sends the inputs returned by take in one request and routes the
// answer to each item. Items Kommo rejected as a whole (a 400/404/422 that
// names no item, or items left over when it named others) were not applied
// and are sent again, alone or together, at most once more: one bad item
// does not fail the others.
func runBatch[I, O any](ctx context.Context, c *Client, acct *callbridge.Account, spec *batchSpec[I, O], take func() []I) ([]outcome[O], error) {
	var (
		ins   []I
		outs  []outcome[O]
		sends []int
		first []int
	)
	body := func(g []int) any {
		arr := make([]any, len(g))
		for k, i := range g {
			arr[k] = spec.encode(ins[i], requestID(i))
			sends[i]++
		}
		return arr
	}
	queue := [][]int{nil} // nil: the first request, built by take
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		req := &request{method: spec.method, route: spec.route, path: spec.path}
		if g == nil {
			req.prepare = func() (any, bool) {
				if first == nil {
					ins = take()
					if len(ins) == 0 {
						return nil, false
					}
					outs = make([]outcome[O], len(ins))
					sends = make([]int, len(ins))
					first = make([]int, len(ins))
					for i := range first {
						first[i] = i
					}
					return body(first), true
				}
				return body(first), true // resent after a 401
			}
		} else {
			req.body = body(g)
		}
		resp, err := c.do(ctx, acct, req)
		if first == nil {
			return nil, err // nothing was sent (or every caller left)
		}
		if g == nil {
			g = first
		}
		if resp == nil || (err != nil && resp.status != http.StatusBadRequest) {
			if resp != nil && len(g) > 1 && callbridge.ErrorKind(err) == callbridge.KindPermanent &&
				(resp.status == http.StatusNotFound || resp.status == http.StatusUnprocessableEntity) {
				queue = append(queue, singles(g, sends, outs, err)...)
				continue
			}
			for _, i := range g {
				outs[i] = outcome[O]{err: err}
			}
			continue
		}
		items := make([]entry[I], len(g))
		for k, i := range g {
			items[k] = entry[I]{requestID(i), ins[i]}
		}
		vals, errs, loose := spec.parse(resp, items)
		var rest []int
		for _, i := range g {
			rid := requestID(i)
			if v, ok := vals[rid]; ok {
				outs[i] = outcome[O]{val: v}
			} else if e, ok := errs[rid]; ok {
				outs[i] = outcome[O]{err: e}
			} else {
				rest = append(rest, i)
			}
		}
		if len(rest) > 0 && len(loose) == len(rest) {
			for k, i := range rest {
				outs[i] = outcome[O]{err: loose[k]}
			}
			rest = nil
		}
		if len(rest) == 0 {
			continue
		}
		switch {
		case err == nil:
			// Kommo accepted the request but said nothing about these items.
			for _, i := range rest {
				outs[i] = outcome[O]{err: callbridge.Uncertain(nil, "kommo: %s returned no result for the item", spec.route)}
			}
		case len(rest) < len(g):
			// A 400 named other items; these were not applied.
			if g2 := again(rest, sends, outs, err); len(g2) > 0 {
				queue = append(queue, g2)
			}
		case len(g) > 1:
			queue = append(queue, singles(g, sends, outs, err)...)
		default:
			outs[g[0]] = outcome[O]{err: err}
		}
	}
	return outs, nil
}

// again returns the items of g that may be sent once more; the others get err.
func again[O any](g []int, sends []int, outs []outcome[O], err error) []int {
	var ok []int
	for _, i := range g {
		if sends[i] < 2 {
			ok = append(ok, i)
		} else {
			outs[i] = outcome[O]{err: err}
		}
	}
	return ok
}

// singles splits the items of g that may be sent again into one request each.
func singles[O any](g []int, sends []int, outs []outcome[O], err error) [][]int {
	var q [][]int
	for _, i := range again(g, sends, outs, err) {
		q = append(q, []int{i})
	}
	return q
}

// itemErr maps one entry of a batch answer's errors array.
func itemErr(e itemError) error {
	text := strings.TrimSpace(e.Title)
	if e.Detail != "" && e.Detail != e.Title {
		if text != "" {
			text += ": "
		}
		text += e.Detail
	}
	if strings.Contains(strings.ToLower(text), "not found") {
		return &callbridge.Error{Code: callbridge.ENOTFOUND, Kind: callbridge.KindPermanent, Message: "Entity not found"}
	}
	if text == "" {
		text = "Kommo rejected the item"
	}
	return &callbridge.Error{Code: callbridge.EINVALID, Kind: callbridge.KindPermanent, Message: "Kommo: " + truncate(text, 300)}
}

// validationErrs attributes a 400's validation-errors to request ids.
func validationErrs(p problem, errs map[string]error) {
	for _, v := range p.ValidationErrors {
		msg := v.message()
		if msg == "" {
			msg = "validation failed"
		}
		e := &callbridge.Error{Code: callbridge.EINVALID, Kind: callbridge.KindPermanent, Message: "Kommo: " + truncate(msg, 300)}
		if v.RequestID != "" {
			errs[string(v.RequestID)] = e
		}
	}
}
