package store

import (
	"context"
	"database/sql"

	"gorm.io/gorm"
)

// HourCount is one account's authenticated requests in the hour starting at Hour (Unix
// seconds).
type HourCount struct {
	AccountID string
	Hour      int64
	Requests  int64
}

// TableName tells GORM the table.
func (HourCount) TableName() string { return "api_requests_hourly" }

// APIRequests counts each account's authenticated requests per hour, across controllers.
type APIRequests struct {
	db *gorm.DB
}

// APIRequests returns the request counts.
func (s *Store) APIRequests() *APIRequests { return &APIRequests{db: s.db} }

// Add adds each count to its account's hour, in one transaction.
func (r *APIRequests) Add(ctx context.Context, counts []HourCount) error {
	if len(counts) == 0 {
		return nil
	}
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, c := range counts {
			err := tx.Exec("INSERT INTO api_requests_hourly (account_id, hour, requests) "+
				"VALUES (?, ?, ?) ON CONFLICT (account_id, hour) DO UPDATE "+
				"SET requests = api_requests_hourly.requests + excluded.requests",
				c.AccountID, c.Hour, c.Requests).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("add request counts", err)
}

// Range returns the hours of accountID (every account's for "") from from to to (Unix
// seconds, both included), oldest first.
func (r *APIRequests) Range(ctx context.Context, accountID string, from, to int64) (
	[]HourCount, error) {
	var out []HourCount
	err := scoped(r.db.WithContext(ctx).Model(&HourCount{}), accountID).
		Where("hour >= ? AND hour <= ?", from, to).Order("hour").Find(&out).Error
	return out, wrap("read request counts", err)
}

// Sample is what storage held on a day (DayFormat) for an account, or for all ("").
// UsedBytes and TotalBytes are the storage volume's, in the "" sample.
type Sample struct {
	AccountID    string
	Day          string
	StoredBytes  int64
	RawBytes     int64
	LogicalBytes int64
	UsedBytes    int64
	TotalBytes   int64
}

// TableName tells GORM the table.
func (Sample) TableName() string { return "storage_samples" }

// Samples keeps a daily sample of storage per account.
type Samples struct {
	db *gorm.DB
}

// Samples returns the storage samples.
func (s *Store) Samples() *Samples { return &Samples{db: s.db} }

// Record stores s as its account's sample of its day, replacing an earlier one.
func (r *Samples) Record(ctx context.Context, s Sample) error {
	err := r.db.WithContext(ctx).Exec("INSERT INTO storage_samples (account_id, day, "+
		"stored_bytes, raw_bytes, logical_bytes, used_bytes, total_bytes) "+
		"VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, day) DO UPDATE SET "+
		"stored_bytes = excluded.stored_bytes, raw_bytes = excluded.raw_bytes, "+
		"logical_bytes = excluded.logical_bytes, used_bytes = excluded.used_bytes, "+
		"total_bytes = excluded.total_bytes", s.AccountID, s.Day, s.StoredBytes, s.RawBytes,
		s.LogicalBytes, s.UsedBytes, s.TotalBytes).Error
	return wrap("record storage sample", err)
}

// Range returns the account's samples from day from to day to, both included, oldest
// first. accountID "" is the samples of the whole storage.
func (r *Samples) Range(ctx context.Context, accountID, from, to string) ([]Sample, error) {
	var out []Sample
	err := r.db.WithContext(ctx).Where("account_id = ? AND day >= ? AND day <= ?",
		accountID, from, to).Order("day").Find(&out).Error
	return out, wrap("read storage samples", err)
}

// Pool is the database's connection pool, for its statistics only: everything else
// goes through the repositories.
func (s *Store) Pool() *sql.DB { return s.sqlDB }
