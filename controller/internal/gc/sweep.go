package gc

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/grim-reaper/grim/controller/internal/refs"
	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/protocol/blob"
)

// sweep ends the collection in one account: condemned blobs a live snapshot reaches go
// back into the index and the rest are deleted, then the account's packs are marked
// deleted or repacked as their use says.
func (c *Collector) sweep(ctx context.Context, gcID, accountID string, st *Stats) error {
	first, err := c.st.Collection().CondemnedPage(ctx, gcID, accountID, nil, 1)
	if err != nil {
		return err
	}
	if len(first) > 0 {
		if err := c.settle(ctx, gcID, accountID, st); err != nil {
			return err
		}
	}
	return c.sweepPacks(ctx, accountID, st)
}

// settle walks the account's live snapshots again, now that every backup that might have
// been told a condemned blob exists has ended, and puts back what they reach.
func (c *Collector) settle(ctx context.Context, gcID, accountID string, st *Stats) error {
	live, snaps, err := c.live(ctx, accountID)
	if errors.Is(err, refs.ErrUnreadable) {
		c.log.Warn("account skipped: snapshot trees unreadable", "account_id", accountID,
			"error", err)
		st.Skipped = append(st.Skipped, accountID)
		return c.resurrectAll(ctx, gcID, accountID, st)
	}
	if err != nil {
		return err
	}
	st.Snapshots += snaps
	var after *blob.ID
	for {
		ids, err := c.st.Collection().CondemnedPage(ctx, gcID, accountID, after, page)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		var back []blob.ID
		for _, id := range ids {
			if _, ok := live[id]; ok {
				back = append(back, id)
			}
		}
		if err := c.st.Collection().Resurrect(ctx, accountID, back); err != nil {
			return err
		}
		st.BlobsResurrected += int64(len(back))
		after = &ids[len(ids)-1]
	}
	n, bytes, err := c.st.Collection().DropCondemned(ctx, gcID, accountID)
	if err != nil {
		return err
	}
	st.BlobsDeleted += n
	st.BytesDeleted += bytes
	c.log.Info("blobs collected", "gc_id", gcID, "account_id", accountID, "blobs", n,
		"bytes", bytes)
	return nil
}

// resurrectAll puts back every blob the collection condemned in the account.
func (c *Collector) resurrectAll(ctx context.Context, gcID, accountID string, st *Stats) error {
	for {
		ids, err := c.st.Collection().CondemnedPage(ctx, gcID, accountID, nil, page)
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := c.st.Collection().Resurrect(ctx, accountID, ids); err != nil {
			return err
		}
		st.BlobsResurrected += int64(len(ids))
	}
}

// sweepPacks marks deleted the account's packs that nothing points into and repacks
// those that are mostly garbage.
func (c *Collector) sweepPacks(ctx context.Context, accountID string, st *Stats) error {
	uses, err := c.st.Collection().PackUse(ctx, accountID)
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	var sparse []string
	for _, u := range uses {
		switch {
		case u.LiveBlobs == 0:
			ok, err := c.st.Collection().MarkPackDeleted(ctx, u.ID, now)
			if err != nil {
				return err
			}
			if ok {
				st.PacksDeleted++
			}
		case float64(u.LiveBytes) < c.cfg.RewriteBelow*float64(u.Size):
			sparse = append(sparse, u.ID)
		}
	}
	if len(sparse) == 0 {
		return nil
	}
	moved, written, err := c.repo.Repack(ctx, accountID, sparse)
	st.BlobsMoved += moved
	st.PacksWritten += written
	if err != nil {
		return err
	}
	for _, id := range sparse {
		ok, err := c.st.Collection().MarkPackDeleted(ctx, id, now)
		if err != nil {
			return err
		}
		if ok {
			st.PacksRewritten++
		}
	}
	return nil
}

// modTimer is storage that tells when an object was written (storage.Local does).
type modTimer interface {
	ModTime(ctx context.Context, name string) (time.Time, error)
}

// deleteFiles deletes the files of packs marked deleted a file grace ago, then their rows,
// and pack files without any row that are older than the orphan grace.
func (c *Collector) deleteFiles(ctx context.Context, st *Stats) error {
	now := c.cfg.Now()
	for {
		ids, err := c.st.Collection().PacksDeletedBefore(ctx, now.Add(-c.cfg.FileGrace), page)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			if err := c.sto.Delete(ctx, repo.PackName(id)); err != nil {
				return fmt.Errorf("delete pack %s: %w", id, err)
			}
			if err := c.st.Collection().RemovePack(ctx, id); err != nil {
				return err
			}
			st.FilesDeleted++
		}
	}
	return c.deleteOrphans(ctx, now, st)
}

// deleteOrphans deletes pack files that no row names and that were written before the
// orphan grace: left by a crash between storing a pack and indexing it.
func (c *Collector) deleteOrphans(ctx context.Context, now time.Time, st *Stats) error {
	mt, ok := c.sto.(modTimer)
	if !ok {
		return nil
	}
	known, err := c.st.Collection().PackIDs(ctx)
	if err != nil {
		return err
	}
	var orphans []string
	err = c.sto.List(ctx, "packs/", func(name string, _ int64) error {
		id := path.Base(name)
		if raw, err := hex.DecodeString(id); err != nil || len(raw) != 32 || known[id] {
			return nil
		}
		orphans = append(orphans, name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("list packs: %w", err)
	}
	for _, name := range orphans {
		at, err := mt.ModTime(ctx, name)
		if err != nil || !at.Before(now.Add(-c.cfg.OrphanGrace)) {
			continue
		}
		if err := c.sto.Delete(ctx, name); err != nil {
			return fmt.Errorf("delete orphan %s: %w", name, err)
		}
		c.log.Info("orphan pack deleted", "name", name)
		st.OrphansDeleted++
	}
	return nil
}
