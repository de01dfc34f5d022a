package repo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
)

// maxSealedSize bounds one sealed blob: the largest plaintext a blob may hold plus room for
// the header, nonce and tag that sealing adds.
const maxSealedSize = blob.MaxPlainSize + 1024

// writer gathers one account's blobs into packs.
type writer struct {
	account string

	// mu guards every field below. It is held while a blob is appended to the open pack,
	// but not while a pack is finished, so Puts go on into a new pack meanwhile.
	mu      sync.Mutex
	open    *packFile            // the pack Puts append to; nil until the next Put
	sealing []*sealing           // packs being finished, oldest first
	pending map[blob.ID]struct{} // ids in open and sealing packs
	gen     uint64               // bumped whenever pending loses ids
	known   absence              // what Missing found absent, and what was committed since
	err     error                // why a pack failed since the last Flush
	closed  bool                 // Close has begun: no more blobs
}

// sealing is a pack being finished; done is closed when it is stored or has failed.
type sealing struct {
	pack *packFile
	done chan struct{}
	err  error // set before done is closed
}

func newWriter(account string) *writer {
	return &writer{account: account, pending: make(map[blob.ID]struct{}), known: newAbsence()}
}

// Put appends a sealed blob to the account's open pack, unless the account already has it
// stored or pending (then added is false). rawLen is the length of the blob's plaintext.
// When the blob fills the pack, Put finishes the pack before it returns: it syncs and
// hashes it, moves it into storage and commits it to the index. The blob is durable and
// findable by Get only after that commit, at the latest after the next Flush. Put does not
// keep sealed after it returns.
func (r *Repo) Put(
	ctx context.Context, accountID string, id blob.ID, kind blob.Kind, rawLen int,
	sealed []byte,
) (added bool, err error) {
	if err := checkBlob(accountID, kind, rawLen, sealed); err != nil {
		return false, fmt.Errorf("put blob %s: %w", id, err)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("put blob %s: %w", id, err)
	}
	w, err := r.writer(accountID, true)
	if err != nil {
		return false, fmt.Errorf("put blob %s: %w", id, err)
	}
	pending, stored, known, gen := w.lookup(id)
	if pending || stored {
		return false, nil
	}
	if !known {
		missing, err := r.st.Blobs().Missing(ctx, accountID, []blob.ID{id})
		if err != nil {
			return false, fmt.Errorf("put blob %s: %w", id, err)
		}
		if !missing[0] {
			return false, nil
		}
	}
	added, full, err := r.add(ctx, w, gen, id, kind, rawLen, sealed)
	if err != nil || full == nil {
		return added, err
	}
	if err := r.finish(ctx, w, full); err != nil {
		return false, fmt.Errorf("put blob %s: %w", id, err)
	}
	return added, nil
}

// checkBlob refuses blobs that cannot be valid.
func checkBlob(accountID string, kind blob.Kind, rawLen int, sealed []byte) error {
	switch {
	case accountID == "" || len(accountID) > maxAccountIDLen:
		return fmt.Errorf("account id of %d bytes", len(accountID))
	case kind != blob.KindData && kind != blob.KindTree:
		return fmt.Errorf("unknown blob kind %d", kind)
	case len(sealed) == 0 || len(sealed) > maxSealedSize:
		return fmt.Errorf("sealed blob of %d bytes", len(sealed))
	case rawLen < 0 || rawLen > blob.MaxPlainSize:
		return fmt.Errorf("plaintext length %d", rawLen)
	}
	return nil
}

// add appends the blob to w's open pack, opening one if needed. gen is w's generation when
// the caller found the blob absent from the index; if packs were committed since, w's
// record of recent commits or the index is asked again, so a blob committed meanwhile is
// not stored twice. It returns the pack
// to finish when the blob filled it.
func (r *Repo) add(
	ctx context.Context, w *writer, gen uint64, id blob.ID, kind blob.Kind, rawLen int,
	sealed []byte,
) (bool, *sealing, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false, nil, fmt.Errorf("put blob %s: %w", id, ErrClosed)
	}
	if _, ok := w.pending[id]; ok {
		return false, nil, nil
	}
	if w.gen != gen {
		stored, err := r.storedSince(ctx, w, id, gen)
		if err != nil {
			return false, nil, fmt.Errorf("put blob %s: %w", id, err)
		}
		if stored {
			return false, nil, nil
		}
	}
	if err := r.appendLocked(w, id, kind, rawLen, sealed); err != nil {
		return false, nil, fmt.Errorf("put blob %s: %w", id, err)
	}
	if w.open.size < r.opts.PackSize {
		return true, nil, nil
	}
	return true, w.sealLocked(), nil
}

// storedSince reports whether id was committed to w's account since generation gen, from
// w's memory of recent commits or else from the index. w.mu is held.
func (r *Repo) storedSince(ctx context.Context, w *writer, id blob.ID, gen uint64) (bool, error) {
	if stored, known := w.known.committedSince(id, gen); known {
		return stored, nil
	}
	missing, err := r.st.Blobs().Missing(ctx, w.account, []blob.ID{id})
	if err != nil {
		return false, err
	}
	return !missing[0], nil
}

// appendLocked writes the blob to the open pack. A pack that fails to take it is dropped
// whole, with the blobs already in it: a half-written pack cannot be trusted.
func (r *Repo) appendLocked(
	w *writer, id blob.ID, kind blob.Kind, rawLen int, sealed []byte,
) error {
	if w.open == nil {
		p, err := newPackFile(r.sto.TempDir(), w.account, time.Now())
		if err != nil {
			return err
		}
		w.open = p
	}
	if err := w.open.add(id, kind, rawLen, sealed); err != nil {
		w.dropLocked(w.open, err)
		w.open = nil
		return err
	}
	w.pending[id] = struct{}{}
	return nil
}

// lookup reports whether id is pending, whether it is stored as far as w knows without
// asking the index (known false: w cannot tell), and w's current generation.
func (w *writer) lookup(id blob.ID) (pending, stored, known bool, gen uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.pending[id]; ok {
		return true, false, true, w.gen
	}
	stored, known = w.known.stored(id)
	return false, stored, known, w.gen
}

// sealLocked moves the open pack to the packs being finished and returns it.
func (w *writer) sealLocked() *sealing {
	s := &sealing{pack: w.open, done: make(chan struct{})}
	w.sealing = append(w.sealing, s)
	w.open = nil
	return s
}

// sealIfOlder seals the open pack if it was opened before cutoff.
func (w *writer) sealIfOlder(cutoff time.Time) *sealing {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open == nil || !w.open.opened.Before(cutoff) {
		return nil
	}
	return w.sealLocked()
}

// sealForFlush seals the open pack, if any, and returns it with every pack being finished.
func (w *writer) sealForFlush() (*sealing, []*sealing) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var mine *sealing
	if w.open != nil {
		mine = w.sealLocked()
	}
	return mine, slices.Clone(w.sealing)
}

// close stops w from taking blobs.
func (w *writer) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// dropLocked forgets the blobs of the failed pack p and records why for the next Flush.
func (w *writer) dropLocked(p *packFile, err error) {
	p.discard()
	w.forgetLocked(p)
	w.err = errors.Join(w.err, err)
}

// forgetLocked removes p's blobs from pending.
func (w *writer) forgetLocked(p *packFile) {
	for _, e := range p.entries {
		delete(w.pending, e.ID)
	}
	w.gen++
}

// finished records the end of s, stored or failed.
func (w *writer) finished(s *sealing, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sealing = slices.DeleteFunc(w.sealing, func(x *sealing) bool { return x == s })
	w.forgetLocked(s.pack)
	if err == nil {
		ids := make([]blob.ID, len(s.pack.entries))
		for i, e := range s.pack.entries {
			ids[i] = e.ID
		}
		w.known.noteCommitted(ids, w.gen)
	}
	if err != nil {
		w.err = errors.Join(w.err, err)
	}
	s.err = err
	close(s.done)
}

// takeErr returns and clears the failures recorded since the last call.
func (w *writer) takeErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	w.err = nil
	return err
}

// finish stores the sealed pack s of w and indexes it: storage first, then the index, so
// the index never names a pack that is not durable. The work does not stop when ctx is
// canceled, since the pack holds other callers' blobs too.
func (r *Repo) finish(ctx context.Context, w *writer, s *sealing) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	start := time.Now()
	pack, err := r.store(ctx, w.account, s.pack)
	w.finished(s, err)
	if err != nil {
		return err
	}
	r.log.DebugContext(ctx, "pack stored", "account_id", w.account, "pack_id", pack.ID,
		"size", pack.Size, "blobs", pack.BlobCount, "duration_ms",
		time.Since(start).Milliseconds())
	return nil
}

// store closes p, moves it into storage under its content hash and commits it.
func (r *Repo) store(ctx context.Context, account string, p *packFile) (*store.Pack, error) {
	id, size, err := p.close()
	if err != nil {
		p.discard()
		return nil, err
	}
	if err := r.sto.PutFile(ctx, PackName(id), p.f.Name()); err != nil {
		p.discard()
		return nil, fmt.Errorf("store pack %s: %w", id, err)
	}
	// From here on the pack file is durable. If the commit fails it stays unreferenced,
	// and it is not deleted: a commit that reported an error may still have gone through.
	pack := &store.Pack{ID: id, AccountID: account, Size: size}
	if err := r.st.Packs().Commit(ctx, pack, p.entries); err != nil {
		return nil, fmt.Errorf("index pack %s: %w", id, err)
	}
	return pack, nil
}

// flushWriter seals w's open pack, finishes it and waits for w's other packs being
// finished. It reports the failures recorded since the last flush, or, when a concurrent
// flush took those, the failures of the packs it waited for.
func (r *Repo) flushWriter(ctx context.Context, w *writer) error {
	mine, all := w.sealForFlush()
	if mine != nil {
		// The failure is recorded in w and reported below with the others.
		_ = r.finish(ctx, w, mine)
	}
	var errs []error
	for _, s := range all {
		select {
		case <-s.done:
			errs = append(errs, s.err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := w.takeErr(); err != nil {
		return err
	}
	return errors.Join(errs...)
}
