package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/grim-reaper/grim/protocol/blob"
)

// Snapshot is a completed backup whose data garbage collection keeps: its root tree and
// the JSON of its sources' results, which name the roots of its databases.
type Snapshot struct {
	BackupID      string
	AccountID     string
	Root          string
	SourceResults string
}

// BlobInfo is what collection needs of one indexed blob.
type BlobInfo struct {
	ID        blob.ID
	Kind      blob.Kind
	PackID    string
	Length    int
	CreatedAt time.Time
}

// PackUse is a pack and how much of it the index still points at.
type PackUse struct {
	ID        string
	Size      int64
	LiveBytes int64
	LiveBlobs int64
}

// Collection is the part of the state that garbage collection reads and changes. Its
// methods are named for the steps of docs/design.md's "Garbage collection".
type Collection struct {
	db *gorm.DB
}

// Collection returns the garbage collection repository.
func (s *Store) Collection() *Collection { return &Collection{db: s.db} }

// unfinished are the statuses of a backup that may still commit.
var unfinished = []string{JobQueued, JobRunning}

// Accounts lists every account that has packs or completed backups, in id order.
func (r *Collection) Accounts(ctx context.Context) ([]string, error) {
	var out []string
	err := r.db.WithContext(ctx).Raw("SELECT account_id FROM packs UNION "+
		"SELECT account_id FROM backups WHERE status = ? ORDER BY account_id", JobCompleted).
		Scan(&out).Error
	return out, wrap("list accounts with data", err)
}

// StoredBytes sums the packs of the accounts (every account's when accountIDs is nil)
// that are not deleted.
func (r *Collection) StoredBytes(ctx context.Context, accountIDs []string) (int64, error) {
	q := r.db.WithContext(ctx).Table("packs").Where("deleted_at IS NULL")
	if accountIDs != nil {
		q = q.Where("account_id IN ?", accountIDs)
	}
	var n int64
	err := q.Select("COALESCE(SUM(size), 0)").Scan(&n).Error
	return n, wrap("sum stored bytes", err)
}

// PackIDs returns the id of every pack that has a row, deleted or not: a pack file
// without one is an orphan.
func (r *Collection) PackIDs(ctx context.Context) (map[string]bool, error) {
	var ids []string
	if err := r.db.WithContext(ctx).Table("packs").Pluck("id", &ids).Error; err != nil {
		return nil, wrap("list pack ids", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// LiveSnapshots lists the account's snapshots whose data must stay: completed backups
// that are not forgotten, and forgotten ones that a restore still reads.
func (r *Collection) LiveSnapshots(ctx context.Context, accountID string) ([]Snapshot, error) {
	var out []Snapshot
	err := r.db.WithContext(ctx).Table("backups").
		Select("id AS backup_id", "account_id", "root", "source_results").
		Where("account_id = ? AND status = ?", accountID, JobCompleted).
		Where("forgotten_at IS NULL OR EXISTS (SELECT 1 FROM restores r "+
			"WHERE r.backup_id = backups.id AND r.status IN ?)", unfinished).
		Order("id").Scan(&out).Error
	return out, wrap("list live snapshots", err)
}

// UnfinishedStarted lists the backups of the accounts (every account's when accountIDs is
// nil) that have been handed to an agent at least once and not ended: those that may have
// been told a blob exists and may still commit a snapshot that uses it.
func (r *Collection) UnfinishedStarted(ctx context.Context, accountIDs []string) (
	[]string, error) {
	q := r.db.WithContext(ctx).Table("backups").
		Where("started_at IS NOT NULL AND status IN ?", unfinished)
	if accountIDs != nil {
		q = q.Where("account_id IN ?", accountIDs)
	}
	var out []string
	err := q.Order("id").Pluck("id", &out).Error
	return out, wrap("list unfinished backups", err)
}

// CountUnfinished counts how many of ids are still queued or running.
func (r *Collection) CountUnfinished(ctx context.Context, ids []string) (int64, error) {
	var total int64
	for start := 0; start < len(ids); start += lookupBatch {
		var n int64
		err := r.db.WithContext(ctx).Table("backups").
			Where("id IN ? AND status IN ?", ids[start:min(start+lookupBatch, len(ids))],
				unfinished).Count(&n).Error
		if err != nil {
			return 0, wrap("count unfinished backups", err)
		}
		total += n
	}
	return total, nil
}

// OldestUnfinishedStart is when the account's oldest backup that has not ended was first
// handed to an agent; nil when none is.
func (r *Collection) OldestUnfinishedStart(ctx context.Context, accountID string) (
	*time.Time, error) {
	var b Backup
	err := r.db.WithContext(ctx).Select("started_at").
		Where("account_id = ? AND started_at IS NOT NULL AND status IN ?", accountID, unfinished).
		Order("started_at").Limit(1).Find(&b).Error
	if err != nil {
		return nil, wrap("oldest unfinished backup", err)
	}
	return b.StartedAt, nil
}

// BlobPage returns up to limit of the account's indexed blobs with ids above after (nil
// for the first page), in id order.
func (r *Collection) BlobPage(ctx context.Context, accountID string, after *blob.ID,
	limit int) ([]BlobInfo, error) {
	q := r.db.WithContext(ctx).Table("blobs").
		Select("id", "kind", "pack_id", "length", "created_at").Where("account_id = ?", accountID)
	if after != nil {
		q = q.Where("id > ?", after[:])
	}
	var rows []blobRow
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, wrap("page blobs", err)
	}
	out := make([]BlobInfo, len(rows))
	for i := range rows {
		id, err := blob.IDFromBytes(rows[i].ID)
		if err != nil {
			return nil, fmt.Errorf("page blobs: %w", err)
		}
		out[i] = BlobInfo{ID: id, Kind: blob.Kind(rows[i].Kind), PackID: rows[i].PackID,
			Length: rows[i].Length, CreatedAt: rows[i].CreatedAt}
	}
	return out, nil
}

// blobColumns are the columns blobs and gc_condemned share.
const blobColumns = "account_id, id, kind, pack_id, pack_offset, length, raw_length, created_at"

// Condemn takes the account's blobs ids out of the index into gc_condemned under the
// collection gcID: from then on Missing answers them absent, so no backup is told they
// exist, while Locate still finds them.
func (r *Collection) Condemn(ctx context.Context, gcID, accountID string, ids []blob.ID) error {
	return r.inBatches(ctx, ids, func(tx *gorm.DB, batch [][]byte) error {
		err := tx.Exec("INSERT INTO gc_condemned ("+blobColumns+", gc_id) SELECT "+blobColumns+
			", ? FROM blobs WHERE account_id = ? AND id IN ? ON CONFLICT DO NOTHING",
			gcID, accountID, batch).Error
		if err != nil {
			return err
		}
		return tx.Exec("DELETE FROM blobs WHERE account_id = ? AND id IN ?", accountID,
			batch).Error
	})
}

// Resurrect puts the account's condemned blobs ids back into the index, unless a newer
// copy was indexed meanwhile, which then stands.
func (r *Collection) Resurrect(ctx context.Context, accountID string, ids []blob.ID) error {
	return r.inBatches(ctx, ids, func(tx *gorm.DB, batch [][]byte) error {
		err := tx.Exec("INSERT INTO blobs ("+blobColumns+") SELECT "+blobColumns+
			" FROM gc_condemned WHERE account_id = ? AND id IN ? ON CONFLICT DO NOTHING",
			accountID, batch).Error
		if err != nil {
			return err
		}
		return tx.Exec("DELETE FROM gc_condemned WHERE account_id = ? AND id IN ?", accountID,
			batch).Error
	})
}

// ResurrectRun puts back every blob a collection condemned, as when the collection
// could not finish: nothing it condemned has been deleted yet. It returns how many.
func (r *Collection) ResurrectRun(ctx context.Context, gcID string) (int64, error) {
	var n int64
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Exec("INSERT INTO blobs ("+blobColumns+") SELECT "+blobColumns+
			" FROM gc_condemned WHERE gc_id = ? ON CONFLICT DO NOTHING", gcID).Error
		if err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM gc_condemned WHERE gc_id = ?", gcID)
		n = res.RowsAffected
		return res.Error
	})
	return n, wrap("resurrect blobs of "+gcID, err)
}

// CondemnedPage returns up to limit ids the collection condemned in the account, above
// after (nil for the first page), in id order.
func (r *Collection) CondemnedPage(ctx context.Context, gcID, accountID string, after *blob.ID,
	limit int) ([]blob.ID, error) {
	q := r.db.WithContext(ctx).Table("gc_condemned").Select("id").
		Where("gc_id = ? AND account_id = ?", gcID, accountID)
	if after != nil {
		q = q.Where("id > ?", after[:])
	}
	var raw [][]byte
	if err := q.Order("id").Limit(limit).Pluck("id", &raw).Error; err != nil {
		return nil, wrap("page condemned blobs", err)
	}
	out := make([]blob.ID, len(raw))
	for i, b := range raw {
		id, err := blob.IDFromBytes(b)
		if err != nil {
			return nil, fmt.Errorf("page condemned blobs: %w", err)
		}
		out[i] = id
	}
	return out, nil
}

// DropCondemned forgets the blobs the collection still holds condemned in the account,
// for good, and returns how many and their sealed bytes.
func (r *Collection) DropCondemned(ctx context.Context, gcID, accountID string) (
	n, bytes int64, err error) {
	err = r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var sum struct{ N, Bytes int64 }
		err := tx.Raw("SELECT COUNT(*) AS n, COALESCE(SUM(length), 0) AS bytes FROM gc_condemned "+
			"WHERE gc_id = ? AND account_id = ?", gcID, accountID).Scan(&sum).Error
		if err != nil {
			return err
		}
		n, bytes = sum.N, sum.Bytes
		return tx.Exec("DELETE FROM gc_condemned WHERE gc_id = ? AND account_id = ?", gcID,
			accountID).Error
	})
	return n, bytes, wrap("drop condemned blobs", err)
}

// PackUse lists the account's packs that are not deleted with the bytes and blobs of
// theirs the index points at.
func (r *Collection) PackUse(ctx context.Context, accountID string) ([]PackUse, error) {
	var out []PackUse
	err := r.db.WithContext(ctx).Raw("SELECT p.id, p.size, "+
		"COALESCE(SUM(b.length), 0) AS live_bytes, COUNT(b.pack_id) AS live_blobs "+
		"FROM packs p LEFT JOIN blobs b ON b.pack_id = p.id "+
		"WHERE p.account_id = ? AND p.deleted_at IS NULL GROUP BY p.id, p.size ORDER BY p.id",
		accountID).Scan(&out).Error
	return out, wrap("pack use", err)
}

// MarkPackDeleted marks the pack deleted at now if no blob row, indexed or condemned,
// points into it any more; it reports whether it did.
func (r *Collection) MarkPackDeleted(ctx context.Context, packID string, now time.Time) (
	bool, error) {
	res := r.db.WithContext(ctx).Exec("UPDATE packs SET deleted_at = ? WHERE id = ? AND "+
		"deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM blobs WHERE pack_id = ?) AND "+
		"NOT EXISTS (SELECT 1 FROM gc_condemned WHERE pack_id = ?)",
		dbTime(now), packID, packID, packID)
	if res.Error != nil {
		return false, wrap("mark pack deleted", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// PacksDeletedBefore lists up to limit packs marked deleted at or before cutoff, whose files
// may go.
func (r *Collection) PacksDeletedBefore(ctx context.Context, cutoff time.Time, limit int) (
	[]string, error) {
	var out []string
	err := r.db.WithContext(ctx).Table("packs").
		Where("deleted_at IS NOT NULL AND deleted_at <= ?", dbTime(cutoff)).
		Order("id").Limit(limit).Pluck("id", &out).Error
	return out, wrap("list deleted packs", err)
}

// RemovePack deletes the row of a pack marked deleted, once its file is gone.
func (r *Collection) RemovePack(ctx context.Context, packID string) error {
	err := r.db.WithContext(ctx).Exec("DELETE FROM packs WHERE id = ? AND deleted_at IS NOT NULL",
		packID).Error
	return wrap("remove pack", err)
}

// inBatches runs fn in one transaction per batch of ids.
func (r *Collection) inBatches(ctx context.Context, ids []blob.ID,
	fn func(tx *gorm.DB, batch [][]byte) error) error {
	for start := 0; start < len(ids); start += lookupBatch {
		batch := idBytes(ids[start:min(start+lookupBatch, len(ids))])
		err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return fn(tx, batch) })
		if err != nil {
			return wrap("move blobs", err)
		}
	}
	return nil
}
