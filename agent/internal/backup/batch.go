package backup

import (
	"bytes"
	"context"
	"fmt"

	"github.com/grim-reaper/grim/agent/internal/cache"
	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

const (
	// maxAsk is the most ids in one Missing call, and the count that flushes a batch.
	maxAsk = 256
	// batchBytes is the data a batch holds before it is flushed.
	batchBytes = 16 << 20
)

// item is a blob whose data a batch holds until the store says whether it needs it.
type item struct {
	id   blob.ID
	kind blob.Kind
	data []byte
	ask  bool // false: known missing, Put without asking
}

// check is a file taken from the cache, waiting for the store to confirm its chunks.
type check struct {
	job   fileJob
	node  tree.Node
	state cache.FileState
	ids   []blob.ID // chunks the run knew nothing of when the file was checked
}

// batch gathers blobs and cached files so that the store is asked about many ids in one
// call. Each goroutine that produces blobs owns one batch, so a batch needs no lock; it
// flushes before its owner blocks on anything but the store or the sealers, so nothing it
// holds waits on an idle goroutine.
type batch struct {
	r      *run
	items  []item
	checks []*check
	asks   int   // ids to ask, repeats included
	held   int64 // data held, acquired from the run's budget

	// rereads are cached files whose chunks the store lacks. The owning worker reads
	// them between jobs, never from inside a flush, which may run while it is chunking.
	rereads []fileJob
}

func newBatch(r *run) *batch { return &batch{r: r} }

// add takes a blob unless the run already has it covered. data is copied unless owned.
func (b *batch) add(ctx context.Context, id blob.ID, kind blob.Kind, data []byte,
	owned bool) error {
	c := b.r.known.claim(id)
	if c == claimSkip {
		return nil
	}
	if err := b.hold(ctx, b.r.weight(data)); err != nil {
		return err
	}
	if !owned {
		data = bytes.Clone(data)
	}
	b.items = append(b.items, item{id: id, kind: kind, data: data, ask: c == claimAsk})
	if c == claimAsk {
		b.asks++
	}
	return b.maybeFlush(ctx)
}

// hold acquires n bytes of the budget, flushing first if it would have to wait: the
// batch's own data must be on its way to the sealers before it waits for them.
func (b *batch) hold(ctx context.Context, n int64) error {
	if !b.r.budget.TryAcquire(n) {
		if err := b.flush(ctx); err != nil {
			return err
		}
		if err := b.r.budget.Acquire(ctx, n); err != nil {
			return err
		}
	}
	b.held += n
	return nil
}

// check takes a file whose chunk list came from the cache. It is done at once if the run
// already knows every chunk is covered, read again if one is known to be missing, and
// otherwise waits for the store's answer in the next flush.
func (b *batch) check(ctx context.Context, c *check) error {
	for _, id := range c.node.Content {
		switch b.r.known.get(id) {
		case queued, present:
		case absent:
			b.reread(c.job)
			return nil
		default:
			c.ids = append(c.ids, id)
		}
	}
	if len(c.ids) == 0 {
		return b.r.cachedDone(ctx, b, c)
	}
	b.checks = append(b.checks, c)
	b.asks += len(c.ids)
	return b.maybeFlush(ctx)
}

func (b *batch) reread(j fileJob) {
	j.reread = true
	b.rereads = append(b.rereads, j)
}

func (b *batch) maybeFlush(ctx context.Context) error {
	if b.asks >= maxAsk || b.held >= batchBytes {
		return b.flush(ctx)
	}
	return nil
}

// flush asks the store about everything the batch holds, sends what it lacks to the
// sealers and settles the cached files. Settling can finish directories, whose trees
// land in the batch again, so flush loops until the batch is empty.
func (b *batch) flush(ctx context.Context) error {
	for len(b.items) > 0 || len(b.checks) > 0 {
		items, checks := b.items, b.checks
		b.items, b.checks, b.asks, b.held = nil, nil, 0, 0

		missing, err := b.r.missing(ctx, askList(items, checks))
		if err != nil {
			return err
		}
		if err := b.dispatch(ctx, items, missing); err != nil {
			return err
		}
		if err := b.settle(ctx, checks, missing); err != nil {
			return err
		}
	}
	return nil
}

// askList returns the ids to ask the store about, each once.
func askList(items []item, checks []*check) []blob.ID {
	seen := make(map[blob.ID]struct{}, len(items))
	var ids []blob.ID
	add := func(id blob.ID) {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	for _, it := range items {
		if it.ask {
			add(it.id)
		}
	}
	for _, c := range checks {
		for _, id := range c.ids {
			add(id)
		}
	}
	return ids
}

// dispatch drops the blobs the store has and sends the others to the sealers.
func (b *batch) dispatch(ctx context.Context, items []item, missing map[blob.ID]struct{}) error {
	for _, it := range items {
		if _, lacks := missing[it.id]; it.ask && !lacks {
			b.r.known.answer(it.id, false)
			b.r.budget.Release(b.r.weight(it.data))
			continue
		}
		select {
		case b.r.seals <- sealJob{id: it.id, kind: it.kind, data: it.data}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// settle finishes the cached files whose chunks are all covered and queues the others to
// be read again.
func (b *batch) settle(ctx context.Context, checks []*check, missing map[blob.ID]struct{}) error {
	for _, c := range checks {
		covered := true
		for _, id := range c.ids {
			_, lacks := missing[id]
			if !b.r.known.answer(id, lacks) {
				covered = false
			}
		}
		if !covered {
			b.r.log.Debug("cached chunks missing from store, reading file", "path", c.job.path)
			b.reread(c.job)
			continue
		}
		if err := b.r.cachedDone(ctx, b, c); err != nil {
			return err
		}
	}
	return nil
}

// missing asks the store about ids, maxAsk at a time, and returns the ones it lacks.
func (r *run) missing(ctx context.Context, ids []blob.ID) (map[blob.ID]struct{}, error) {
	out := make(map[blob.ID]struct{})
	for len(ids) > 0 {
		n := min(len(ids), maxAsk)
		got, err := r.store.Missing(ctx, ids[:n])
		if err != nil {
			return nil, fmt.Errorf("ask store about %d blobs: %w", n, err)
		}
		if len(got) != n {
			return nil, fmt.Errorf("ask store about %d blobs: %d answers", n, len(got))
		}
		for i, lacks := range got {
			if lacks {
				out[ids[i]] = struct{}{}
			}
		}
		ids = ids[n:]
	}
	return out, nil
}
