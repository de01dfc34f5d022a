package repo

import (
	"context"
	"fmt"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
)

// Repack copies the blobs that the index still places in the account's packs from into
// new packs of at most Options.PackSize and points the index at the copies, one
// transaction per new pack (store.Packs.Move). The old packs are left for the caller to
// mark deleted once nothing points into them. Readers are never without a copy: the
// index names the old place until the new pack is durable, and the old file stays until
// the caller deletes it. It returns how many blobs moved and how many packs it wrote.
func (r *Repo) Repack(ctx context.Context, accountID string, from []string) (
	moved int64, written int, err error) {
	var p *packFile
	origin := make(map[blob.ID]string)
	flush := func() error {
		if p == nil {
			return nil
		}
		n, err := r.storeMoved(ctx, accountID, p, origin)
		moved += n
		written++
		p, origin = nil, make(map[blob.ID]string)
		return err
	}
	defer func() {
		if p != nil {
			p.discard()
		}
	}()
	for _, old := range from {
		entries, err := r.st.Packs().Entries(ctx, old, false)
		if err != nil {
			return moved, written, fmt.Errorf("repack %s: %w", old, err)
		}
		data, err := r.readSpan(ctx, old, entries)
		if err != nil {
			return moved, written, fmt.Errorf("repack %s: %w", old, err)
		}
		for _, e := range entries {
			if p == nil {
				if p, err = newPackFile(r.sto.TempDir(), accountID, time.Now()); err != nil {
					return moved, written, fmt.Errorf("repack %s: %w", old, err)
				}
			}
			sealed := data[e.Offset : e.Offset+int64(e.Length)]
			if err := p.add(e.ID, e.Kind, e.RawLength, sealed); err != nil {
				return moved, written, fmt.Errorf("repack %s: %w", old, err)
			}
			origin[e.ID] = old
			if p.size >= r.opts.PackSize {
				if err := flush(); err != nil {
					return moved, written, err
				}
			}
		}
	}
	return moved, written, flush()
}

// readSpan reads the start of the pack that holds entries.
func (r *Repo) readSpan(ctx context.Context, packID string, entries []store.BlobEntry) (
	[]byte, error) {
	var end int64
	for _, e := range entries {
		end = max(end, e.Offset+int64(e.Length))
	}
	buf := make([]byte, end)
	if end == 0 {
		return buf, nil
	}
	if err := r.readPack(ctx, packID, buf, 0); err != nil {
		return nil, err
	}
	return buf, nil
}

// storeMoved closes p, moves it into storage and indexes it in place of the packs origin
// names for its blobs.
func (r *Repo) storeMoved(ctx context.Context, accountID string, p *packFile,
	origin map[blob.ID]string) (int64, error) {
	id, size, err := p.close()
	if err != nil {
		p.discard()
		return 0, fmt.Errorf("repack: %w", err)
	}
	if err := r.sto.PutFile(ctx, PackName(id), p.f.Name()); err != nil {
		p.discard()
		return 0, fmt.Errorf("repack: store pack %s: %w", id, err)
	}
	n, err := r.st.Packs().Move(ctx, &store.Pack{ID: id, AccountID: accountID, Size: size},
		p.entries, origin)
	if err != nil {
		return 0, fmt.Errorf("repack: %w", err)
	}
	return n, nil
}
