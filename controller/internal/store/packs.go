package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// commitBatch is how many blob rows one INSERT of Packs.Commit carries: eight
// parameters a row keeps it far below both dialects' limits.
const commitBatch = 500

// Pack is a pack file in storage, named by the hex SHA-256 of its bytes.
type Pack struct {
	ID        string
	AccountID string
	Size      int64
	BlobCount int
	// RawSize is the plaintext size of the pack's blobs.
	RawSize   int64
	CreatedAt time.Time
}

// TableName tells GORM the table.
func (Pack) TableName() string { return "packs" }

// Packs is the repository of pack files and the blobs they hold.
type Packs struct {
	db *gorm.DB
}

// Packs returns the packs repository.
func (s *Store) Packs() *Packs { return &Packs{db: s.db} }

// Commit indexes the pack p and its blobs in one transaction, so that either
// all of it becomes findable or none. BlobCount is set to len(entries), RawSize to
// the sum of their RawLength and a zero CreatedAt to now. A blob that the account's
// index already holds (in an earlier pack) keeps its first location; the copy in p is
// left unindexed.
//
// Committing the same pack again (same id, account and size) is not an error,
// so a caller unsure whether a commit went through may simply retry. A pack id
// already indexed for another account or with another size answers
// ErrConflict; an account that does not exist answers ErrNotFound.
func (r *Packs) Commit(ctx context.Context, p *Pack, entries []BlobEntry) error {
	if p.ID == "" || p.AccountID == "" {
		return errors.New("commit pack: pack needs an id and an account")
	}
	p.BlobCount = len(entries)
	p.RawSize = 0
	for _, e := range entries {
		p.RawSize += int64(e.RawLength)
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = r.db.NowFunc()
	}
	p.CreatedAt = dbTime(p.CreatedAt)
	rows := blobRows(p, entries)

	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := insertPack(tx, p); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			CreateInBatches(rows, commitBatch).Error
		return wrap("index blobs", err)
	})
	if err != nil {
		return fmt.Errorf("commit pack %s: %w", p.ID, err)
	}
	return nil
}

// ByID returns the pack with id, or ErrNotFound.
func (r *Packs) ByID(ctx context.Context, id string) (*Pack, error) {
	var p Pack
	if err := r.db.WithContext(ctx).Where("id = ?", id).Take(&p).Error; err != nil {
		return nil, wrap("pack by id", err)
	}
	return &p, nil
}

// insertPack adds p's row unless the same pack is already there.
func insertPack(tx *gorm.DB, p *Pack) error {
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(p)
	if res.Error != nil {
		return wrapReference("insert pack", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var old Pack
	if err := tx.Where("id = ?", p.ID).Take(&old).Error; err != nil {
		return wrap("read existing pack", err)
	}
	if old.AccountID != p.AccountID || old.Size != p.Size {
		return fmt.Errorf("insert pack: indexed with another account or size: %w", ErrConflict)
	}
	return nil
}

// blobRows turns p's entries into rows of the blobs table.
func blobRows(p *Pack, entries []BlobEntry) []blobRow {
	rows := make([]blobRow, len(entries))
	for i, e := range entries {
		rows[i] = blobRow{
			AccountID:  p.AccountID,
			ID:         append([]byte(nil), e.ID[:]...),
			Kind:       int16(e.Kind),
			PackID:     p.ID,
			PackOffset: e.Offset,
			Length:     e.Length,
			RawLength:  e.RawLength,
			CreatedAt:  p.CreatedAt,
		}
	}
	return rows
}
