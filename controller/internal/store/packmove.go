package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/grim-reaper/grim/protocol/blob"
)

// Move indexes the pack p, written by garbage collection with blobs copied out of other
// packs, and points each blob of entries that from names at its new place, in one
// transaction. from gives the pack each blob is copied from; a blob whose row no longer
// points there (moved or collected meanwhile) is left alone, and its copy in p is
// garbage. It returns how many blobs moved.
func (r *Packs) Move(ctx context.Context, p *Pack, entries []BlobEntry,
	from map[blob.ID]string) (int64, error) {
	if p.ID == "" || p.AccountID == "" {
		return 0, errors.New("move blobs: pack needs an id and an account")
	}
	p.BlobCount = len(entries)
	if p.CreatedAt.IsZero() {
		p.CreatedAt = r.db.NowFunc()
	}
	p.CreatedAt = dbTime(p.CreatedAt)
	var moved int64
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := insertPack(tx, p); err != nil {
			return err
		}
		for _, e := range entries {
			res := tx.Table("blobs").Where("account_id = ? AND id = ? AND pack_id = ?",
				p.AccountID, e.ID[:], from[e.ID]).
				Updates(map[string]any{"pack_id": p.ID, "pack_offset": e.Offset,
					"length": e.Length})
			if res.Error != nil {
				return res.Error
			}
			moved += res.RowsAffected
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("move blobs into pack %s: %w", p.ID, err)
	}
	return moved, nil
}

// Of lists the account's packs that are not deleted (every account's when accountID is
// empty), in id order.
func (r *Packs) Of(ctx context.Context, accountID string) ([]Pack, error) {
	q := r.db.WithContext(ctx).Where("deleted_at IS NULL")
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	var out []Pack
	err := q.Order("id").Find(&out).Error
	return out, wrap("list packs", err)
}

// Entries lists where the index places blobs in the pack, in pack order, and with
// condemned also where a collection's condemned rows do.
func (r *Packs) Entries(ctx context.Context, packID string, condemned bool) ([]BlobEntry,
	error) {
	tables := []string{"blobs"}
	if condemned {
		tables = append(tables, "gc_condemned")
	}
	var out []BlobEntry
	for _, table := range tables {
		var rows []blobRow
		err := r.db.WithContext(ctx).Table(table).
			Select("id", "kind", "pack_offset", "length", "raw_length").
			Where("pack_id = ?", packID).Order("pack_offset").Find(&rows).Error
		if err != nil {
			return nil, wrap("list blobs of pack", err)
		}
		for i := range rows {
			id, err := blob.IDFromBytes(rows[i].ID)
			if err != nil {
				return nil, fmt.Errorf("list blobs of pack: %w", err)
			}
			out = append(out, BlobEntry{ID: id, Kind: blob.Kind(rows[i].Kind),
				Offset: rows[i].PackOffset, Length: rows[i].Length,
				RawLength: rows[i].RawLength})
		}
	}
	return out, nil
}
