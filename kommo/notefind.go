package kommo

import (
	"context"
	"net/http"

	"callbridge"
)

// MaxNoteFindPages is how many pages of 250 notes FindCallNote reads, for
// one entity or for a batch of them, before it gives up (returns nil).
const MaxNoteFindPages = 8

// noteFind is one FindCallNote: the call note with Uniq on EntityID.
type noteFind struct {
	entityID int64
	uniq     string
}

// errFindIncomplete is the outcome of a batched find whose entity's notes
// were not all read: FindCallNote then searches that entity alone.
var errFindIncomplete = callbridge.Errorf(callbridge.EUNAVAILABLE, "kommo: batched note search incomplete")

// FindCallNote returns the call note (call_in or call_out) whose
// params.uniq is uniq on the entity entityID of entityType, or nil when the
// entity has no such note among the first MaxNoteFindPages pages of its call
// notes, newest first. It finds the note Kommo made for an incoming lead,
// or one whose id callbridge did not learn.
//
// Concurrent calls for the same account and entity type are searched
// together: after Config.BatchWait (a full batch of Config.BatchSize goes at
// once), GET /api/v4/{entity_type}/notes?filter[entity_id][]=…&order[id]=desc
// pages through the call notes of all their entities. When the pages run
// out before every note was found, the entities left are searched one by
// one, as a lone call would be.
func (c *Client) FindCallNote(ctx context.Context, acct *callbridge.Account, entityType string, entityID int64, uniq string) (*Note, error) {
	if err := checkAccount(acct); err != nil {
		return nil, err
	}
	if err := checkEntityType(entityType); err != nil {
		return nil, err
	}
	if entityID <= 0 || uniq == "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: a note search needs an entity id and a uniq")
	}
	n, err := c.noteFinds.do(ctx, acct, entityType, noteFind{entityID, uniq})
	if err != errFindIncomplete {
		return n, err
	}
	var found *Note
	_, err = c.scanCallNotes(ctx, acct, entityType, []int64{entityID}, nil, func(n *Note) bool {
		if n.EntityID == entityID && n.Params.Uniq == uniq {
			found = n
		}
		return found != nil
	})
	return found, err
}

// scanCallNotes calls visit with the call notes of entities, newest first,
// page by page (up to MaxNoteFindPages), until visit returns true or the notes end. The
// first page's request goes out with first's entities when first is set
// (the batcher's take). It reports whether every note was seen.
func (c *Client) scanCallNotes(ctx context.Context, acct *callbridge.Account, entityType string, entities []int64,
	first func() []int64, visit func(*Note) bool) (complete bool, err error) {
	for page := 1; page <= MaxNoteFindPages; page++ {
		req := &request{method: http.MethodGet, route: notesRoute}
		path := func(ids []int64) string {
			q, _ := NotesFilter{EntityIDs: distinct(ids), NoteTypes: []string{"call_in", "call_out"}, Order: NotesByIDDesc,
				Page: page, Limit: MaxBatchSize}.query()
			return "/api/v4/" + entityType + "/notes" + query(q)
		}
		if page == 1 && first != nil {
			taken := false
			req.prepare = func() (any, bool) {
				if !taken {
					taken = true
					entities = first()
					if len(entities) > 0 {
						req.path = path(entities)
					}
				}
				return nil, len(entities) > 0
			}
		} else {
			req.path = path(entities)
		}
		var body notesBody
		if err := c.get(ctx, acct, req, &body); err != nil {
			return false, err
		}
		for _, n := range body.Embedded.Notes {
			note := n.note(entityType)
			if visit(&note) {
				return false, nil
			}
		}
		if len(body.Embedded.Notes) < MaxBatchSize {
			return true, nil
		}
	}
	return false, nil
}

// flushNoteFinds searches the notes of the entities of the finds take
// returns, in one paged list.
func (c *Client) flushNoteFinds(ctx context.Context, acct *callbridge.Account, entityType string, take func() []noteFind) ([]outcome[*Note], error) {
	var finds []noteFind
	want := map[noteFind]*Note{}
	left := 0
	complete, err := c.scanCallNotes(ctx, acct, entityType, nil, func() []int64 {
		finds = take()
		ids := make([]int64, len(finds))
		for i, f := range finds {
			ids[i] = f.entityID
			if _, ok := want[f]; !ok {
				want[f] = nil
				left++
			}
		}
		return ids
	}, func(n *Note) bool {
		k := noteFind{n.EntityID, n.Params.Uniq}
		if got, ok := want[k]; ok && got == nil {
			want[k] = n
			left--
		}
		return left == 0
	})
	if err != nil {
		return nil, err
	}
	outs := make([]outcome[*Note], len(finds))
	for i, f := range finds {
		switch n := want[f]; {
		case n != nil:
			outs[i].val = n
		case !complete: // not found, and not every note was read
			outs[i].err = errFindIncomplete
		}
	}
	return outs, nil
}
