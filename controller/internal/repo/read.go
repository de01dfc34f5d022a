package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
)

const (
	// readSpan bounds one read of Get that covers several blobs of a pack.
	readSpan = 4 << 20
	// readGap is the most bytes between two blobs that Get reads over rather than
	// issuing a second read.
	readGap = 256 << 10
)

// Missing reports for each of ids whether the account lacks it. Blobs waiting in an open
// pack of this account count as present: they will be durable after the next Flush.
func (r *Repo) Missing(ctx context.Context, accountID string, ids []blob.ID) ([]bool, error) {
	out := make([]bool, len(ids))
	ask, at := ids, []int(nil)
	var gen uint64
	// A closed repo has no writer; the answer is then the index's alone.
	w, _ := r.writer(accountID, true)
	if w != nil {
		ask, at, gen = w.notPending(ids)
	}
	// Pending ids are read first: one committed meanwhile is in the index by now.
	missing, err := r.st.Blobs().Missing(ctx, accountID, ask)
	if err != nil {
		return nil, fmt.Errorf("missing blobs: %w", err)
	}
	absent := make([]blob.ID, 0, len(ask))
	for i, m := range missing {
		if m {
			absent = append(absent, ask[i])
		}
		if at == nil {
			out[i] = m
			continue
		}
		out[at[i]] = m
	}
	if w != nil {
		w.noteAbsent(absent, gen)
	}
	return out, nil
}

// noteAbsent records that the index lacked ids at generation gen, for Put.
func (w *writer) noteAbsent(ids []blob.ID, gen uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.known.noteAbsent(ids, gen)
}

// notPending returns the ids that are not pending in w, their positions in ids and w's
// generation when it looked.
func (w *writer) notPending(ids []blob.ID) ([]blob.ID, []int, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ask := make([]blob.ID, 0, len(ids))
	at := make([]int, 0, len(ids))
	for i, id := range ids {
		if _, ok := w.pending[id]; !ok {
			ask = append(ask, id)
			at = append(at, i)
		}
	}
	return ask, at, w.gen
}

// Get reads the account's sealed blobs ids and calls fn with each, in the order of ids;
// an id may repeat. Neighbouring blobs of one pack are fetched in one read. sealed is
// valid only until fn returns. An id the account's index lacks (including a blob still in
// an open pack) answers an error wrapping ErrNotFound that names it, before fn is called;
// fn's first error stops Get and is returned.
func (r *Repo) Get(
	ctx context.Context, accountID string, ids []blob.ID,
	fn func(id blob.ID, sealed []byte) error,
) error {
	locs, err := r.st.Blobs().Locate(ctx, accountID, unique(ids))
	if err != nil {
		return fmt.Errorf("get blobs: %w", err)
	}
	for _, id := range ids {
		if _, ok := locs[id]; !ok {
			return fmt.Errorf("get blob %s: %w", id, ErrNotFound)
		}
	}
	var buf []byte
	for i := 0; i < len(ids); {
		j, start, end := span(ids, locs, i)
		if cap(buf) < int(end-start) {
			buf = make([]byte, end-start)
		}
		pack := locs[ids[i]].PackID
		if err := r.readPack(ctx, pack, buf[:end-start], start); err != nil {
			return fmt.Errorf("get blob %s: %w", ids[i], err)
		}
		for _, id := range ids[i:j] {
			l := locs[id]
			off := l.Offset - start
			if err := fn(id, buf[off:off+int64(l.Length)]); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// span returns the end j of the run of ids from i that one read can serve, and the range
// [start, end) of the pack that the read covers: the ids of one pack whose blobs lie close
// together, up to readSpan bytes in all.
func span(ids []blob.ID, locs map[blob.ID]store.Location, i int) (j int, start, end int64) {
	first := locs[ids[i]]
	start, end = first.Offset, first.Offset+int64(first.Length)
	for j = i + 1; j < len(ids); j++ {
		l := locs[ids[j]]
		lo, hi := l.Offset, l.Offset+int64(l.Length)
		if l.PackID != first.PackID || lo > end+readGap || hi < start-readGap {
			break
		}
		nstart, nend := min(start, lo), max(end, hi)
		if nend-nstart > readSpan {
			break
		}
		start, end = nstart, nend
	}
	return j, start, end
}

// unique returns ids without repeats.
func unique(ids []blob.ID) []blob.ID {
	seen := make(map[blob.ID]struct{}, len(ids))
	out := make([]blob.ID, 0, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// readPack fills p from the pack at off; a pack too short for it is corrupt.
func (r *Repo) readPack(ctx context.Context, packID string, p []byte, off int64) error {
	n, err := r.sto.ReadAt(ctx, PackName(packID), p, off)
	if n == len(p) {
		return nil
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("read pack %s: %w: ends before byte %d", packID, ErrPackCorrupt,
			off+int64(len(p)))
	}
	return fmt.Errorf("read pack %s: %w", packID, err)
}

// CheckPack reads the stored pack packID whole and checks that its SHA-256 is its id and
// that its trailer is well formed. It needs no key. A mismatch answers an error wrapping
// ErrPackCorrupt; a pack absent from storage one wrapping storage.ErrNotExist.
func (r *Repo) CheckPack(ctx context.Context, packID string) error {
	if err := validPackID(packID); err != nil {
		return fmt.Errorf("check pack: %w", err)
	}
	rc, err := r.sto.Open(ctx, PackName(packID))
	if err != nil {
		return fmt.Errorf("check pack %s: %w", packID, err)
	}
	defer rc.Close()
	h := sha256.New()
	size, err := io.Copy(h, rc)
	if err != nil {
		return fmt.Errorf("check pack %s: %w", packID, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != packID {
		return fmt.Errorf("check pack %s: %w: content hashes to %s", packID, ErrPackCorrupt,
			got)
	}
	if _, _, err := r.readTrailer(ctx, packID, size); err != nil {
		return fmt.Errorf("check pack %s: %w", packID, err)
	}
	return nil
}

// PackEntries reads the trailer of the stored pack packID: the account it belongs to and
// its blobs, which is what the index needs to be rebuilt from storage. It does not check
// the pack's hash; CheckPack does.
func (r *Repo) PackEntries(ctx context.Context, packID string) (
	accountID string, entries []store.BlobEntry, err error,
) {
	if err := validPackID(packID); err != nil {
		return "", nil, fmt.Errorf("read pack entries: %w", err)
	}
	size, err := r.sto.Size(ctx, PackName(packID))
	if err != nil {
		return "", nil, fmt.Errorf("read pack entries of %s: %w", packID, err)
	}
	accountID, entries, err = r.readTrailer(ctx, packID, size)
	if err != nil {
		return "", nil, fmt.Errorf("read pack entries of %s: %w", packID, err)
	}
	return accountID, entries, nil
}

// readTrailer reads and decodes the trailer of the pack of size bytes.
func (r *Repo) readTrailer(ctx context.Context, packID string, size int64) (
	string, []store.BlobEntry, error,
) {
	if size < footerSize {
		return "", nil, fmt.Errorf("%w: %d bytes", ErrPackCorrupt, size)
	}
	footer := make([]byte, footerSize)
	if err := r.readPack(ctx, packID, footer, size-footerSize); err != nil {
		return "", nil, err
	}
	n, err := trailerSize(footer, size)
	if err != nil {
		return "", nil, err
	}
	trailer := make([]byte, n)
	if err := r.readPack(ctx, packID, trailer, size-n); err != nil {
		return "", nil, err
	}
	return decodeTrailer(trailer, size)
}
