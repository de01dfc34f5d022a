package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/grim-reaper/grim/protocol/blob"
)

// lookupBatch is how many ids one lookup query names. It keeps every query
// far below both dialects' limits on bound parameters while still sending few
// queries for the thousands of ids one upload asks about.
const lookupBatch = 512

// Location says where a sealed blob lies: Length bytes at Offset in the pack
// file PackID. RawLength is the length of its plaintext.
type Location struct {
	PackID    string
	Offset    int64
	Length    int
	RawLength int
	Kind      blob.Kind
}

// BlobEntry is one blob of a pack, as Packs.Commit indexes it: Length sealed
// bytes at Offset in the pack, holding RawLength bytes of plaintext.
type BlobEntry struct {
	ID        blob.ID
	Kind      blob.Kind
	Offset    int64
	Length    int
	RawLength int
}

// BlobStats sums an account's indexed blobs.
type BlobStats struct {
	Count     int64 // blobs
	Length    int64 // sealed bytes
	RawLength int64 // plaintext bytes
}

// blobRow is a row of the blobs table.
type blobRow struct {
	AccountID  string `gorm:"primaryKey"`
	ID         []byte `gorm:"primaryKey"`
	Kind       int16
	PackID     string
	PackOffset int64
	Length     int
	RawLength  int
	CreatedAt  time.Time
}

// TableName tells GORM the table.
func (blobRow) TableName() string { return "blobs" }

// location converts the row to the Location it describes.
func (b *blobRow) location() Location {
	return Location{
		PackID:    b.PackID,
		Offset:    b.PackOffset,
		Length:    b.Length,
		RawLength: b.RawLength,
		Kind:      blob.Kind(b.Kind),
	}
}

// Blobs is the index of the blobs that packs hold, per account. A blob id
// means something only within its account: the same id in two accounts names
// two unrelated blobs, and no method ever answers for another account's.
type Blobs struct {
	db      *gorm.DB
	lookups *presentLookups
}

// Blobs returns the blob index.
func (s *Store) Blobs() *Blobs { return &Blobs{db: s.db, lookups: s.lookups} }

// Missing reports, for each of ids in order, whether the account's index
// lacks it. It sends one query per lookupBatch ids.
func (r *Blobs) Missing(ctx context.Context, accountID string, ids []blob.ID) ([]bool, error) {
	missing := make([]bool, len(ids))
	for start := 0; start < len(ids); start += lookupBatch {
		batch := ids[start:min(start+lookupBatch, len(ids))]
		present, err := r.lookups.present(ctx, accountID, batch)
		if err != nil {
			return nil, wrap("find missing blobs", err)
		}
		for i, id := range batch {
			_, ok := present[id]
			missing[start+i] = !ok
		}
	}
	return missing, nil
}

// Locate returns where each of ids that the account's index holds lies.
// Ids it lacks are absent from the map; repeated ids are fine. Blobs that a garbage
// collection has condemned but not yet deleted are found too: a snapshot that was told
// they exist before they were condemned still reads them.
func (r *Blobs) Locate(ctx context.Context, accountID string, ids []blob.ID) (
	map[blob.ID]Location, error,
) {
	out := make(map[blob.ID]Location, len(ids))
	if err := r.locateIn(ctx, "blobs", accountID, ids, out); err != nil {
		return nil, err
	}
	if len(out) == len(ids) {
		return out, nil
	}
	var rest []blob.ID
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			rest = append(rest, id)
		}
	}
	if err := r.locateIn(ctx, "gc_condemned", accountID, rest, out); err != nil {
		return nil, err
	}
	return out, nil
}

// locateIn adds to out where the rows of table place ids.
func (r *Blobs) locateIn(ctx context.Context, table, accountID string, ids []blob.ID,
	out map[blob.ID]Location) error {
	for start := 0; start < len(ids); start += lookupBatch {
		batch := ids[start:min(start+lookupBatch, len(ids))]
		var rows []blobRow
		err := r.db.WithContext(ctx).Table(table).
			Select("id", "kind", "pack_id", "pack_offset", "length", "raw_length").
			Where("account_id = ? AND id IN ?", accountID, idBytes(batch)).
			Find(&rows).Error
		if err != nil {
			return wrap("locate blobs", err)
		}
		for i := range rows {
			id, err := blob.IDFromBytes(rows[i].ID)
			if err != nil {
				return fmt.Errorf("locate blobs: %w", err)
			}
			out[id] = rows[i].location()
		}
	}
	return nil
}

// Stats sums the account's indexed blobs. It reads every one of the
// account's rows, so it is meant for status pages, not for every request.
func (r *Blobs) Stats(ctx context.Context, accountID string) (BlobStats, error) {
	var st BlobStats
	err := r.db.WithContext(ctx).Raw("SELECT COUNT(*) AS count, "+
		"COALESCE(SUM(length), 0) AS length, COALESCE(SUM(raw_length), 0) AS raw_length "+
		"FROM blobs WHERE account_id = ?", accountID).Scan(&st).Error
	if err != nil {
		return BlobStats{}, wrap("blob stats", err)
	}
	return st, nil
}

// idBytes converts ids to the byte slices the drivers bind.
func idBytes(ids []blob.ID) [][]byte {
	out := make([][]byte, len(ids))
	for i := range ids {
		out[i] = ids[i][:]
	}
	return out
}
