package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DayStat is one row of job_stats_daily: the jobs of one kind, agent and final status
// that ended on Day (UTC, DayFormat), added up. Bytes is a backup's logical size or
// a restore's bytes written; StoredBytes and StoredRawBytes what backups added to
// storage, sealed and in plaintext.
type DayStat struct {
	AccountID      string
	Day            string
	Kind           string
	AgentID        string
	Status         string
	Jobs           int64
	Bytes          int64
	StoredBytes    int64
	StoredRawBytes int64
	DurationMS     int64 `gorm:"column:duration_ms"`
	MaxDurationMS  int64 `gorm:"column:max_duration_ms"`
}

// TableName tells GORM the table.
func (DayStat) TableName() string { return "job_stats_daily" }

// EndedJob is one job that ended, as the hourly figures read it.
type EndedJob struct {
	Kind           string
	AgentID        string
	Status         string
	StartedAt      *time.Time
	CompletedAt    time.Time
	Bytes          int64
	StoredBytes    int64
	StoredRawBytes int64
}

// Duration is how long the job ran, zero for one that never started.
func (j *EndedJob) Duration() time.Duration {
	if j.StartedAt == nil {
		return 0
	}
	return j.CompletedAt.Sub(*j.StartedAt)
}

// Stats reads the figures of analytics.
type Stats struct {
	db *gorm.DB
}

// Stats returns the figures of analytics.
func (s *Store) Stats() *Stats { return &Stats{db: s.db} }

// scoped narrows q to accountID unless it is "" (every account).
func scoped(q *gorm.DB, accountID string) *gorm.DB {
	if accountID != "" {
		return q.Where("account_id = ?", accountID)
	}
	return q
}

// daySums adds up the daily figures of a group of rows.
const daySums = "SUM(jobs) AS jobs, SUM(bytes) AS bytes, SUM(stored_bytes) AS stored_bytes, " +
	"SUM(stored_raw_bytes) AS stored_raw_bytes, SUM(duration_ms) AS duration_ms, " +
	"MAX(max_duration_ms) AS max_duration_ms"

// Days adds up the daily figures of accountID (every account's for "") from day from to
// day to, both included, per day, kind and status (AgentID is left empty).
func (r *Stats) Days(ctx context.Context, accountID, from, to string) ([]DayStat, error) {
	var out []DayStat
	q := scoped(r.db.WithContext(ctx).Model(&DayStat{}), accountID).
		Select("day, kind, status, "+daySums).Where("day >= ? AND day <= ?", from, to).
		Group("day, kind, status")
	if err := q.Order("day").Scan(&out).Error; err != nil {
		return nil, wrap("read daily job figures", err)
	}
	return out, nil
}

// Agents adds up the same figures per kind, agent and status (Day is left empty).
func (r *Stats) Agents(ctx context.Context, accountID, from, to string) ([]DayStat, error) {
	var out []DayStat
	q := scoped(r.db.WithContext(ctx).Model(&DayStat{}), accountID).
		Select("kind, agent_id, status, "+daySums).Where("day >= ? AND day <= ?", from, to).
		Group("kind, agent_id, status")
	if err := q.Order("agent_id").Scan(&out).Error; err != nil {
		return nil, wrap("read daily job figures per agent", err)
	}
	return out, nil
}

// Ended returns the jobs of accountID (every account's for "") that ended at or after
// since, backups and restores, for figures finer than a day.
func (r *Stats) Ended(ctx context.Context, accountID string, since time.Time) ([]EndedJob,
	error) {
	var out []EndedJob
	// The names below are constants, never input.
	for _, k := range []struct{ kind, table, bytes, stored, raw string }{
		{KindBackup, "backups", "bytes_total", "stored_bytes", "stored_raw_bytes"},
		{KindRestore, "restores", "bytes_done", "0", "0"},
	} {
		var rows []EndedJob
		q := scoped(r.db.WithContext(ctx).Table(k.table), accountID).
			Select("'"+k.kind+"' AS kind, agent_id, status, started_at, completed_at, "+
				k.bytes+" AS bytes, "+k.stored+" AS stored_bytes, "+k.raw+" AS stored_raw_bytes").
			Where("completed_at >= ? AND status IN ?", dbTime(since),
				[]string{JobCompleted, JobFailed, JobCanceled})
		if err := q.Scan(&rows).Error; err != nil {
			return nil, wrap("read ended "+k.table, err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// Totals are what storage holds for an account, or for all.
type Totals struct {
	// Logical is the size of the completed backups still kept, as their sources were.
	Logical int64
	// Raw is the plaintext size of the blobs in storage, Stored their size in storage.
	Raw, Stored int64
	Packs       int64
	Backups     int64
}

// PackTotals sums the account's packs (every account's for ""): Packs, Raw and Stored.
func (r *Stats) PackTotals(ctx context.Context, accountID string) (Totals, error) {
	var t Totals
	// A pack marked deleted by garbage collection no longer counts, though its row and
	// file linger for the grace of reads in flight.
	err := scoped(r.db.WithContext(ctx).Table("packs"), accountID).
		Select("COUNT(*) AS packs, COALESCE(SUM(size), 0) AS stored, " +
			"COALESCE(SUM(raw_size), 0) AS raw").Where("deleted_at IS NULL").Scan(&t).Error
	return t, wrap("sum packs", err)
}

// Totals sums the account's storage (every account's for ""): packs from the pack
// index, logical bytes from its completed backups.
func (r *Stats) Totals(ctx context.Context, accountID string) (Totals, error) {
	t, err := r.PackTotals(ctx, accountID)
	if err != nil {
		return t, err
	}
	var b struct{ Backups, Logical int64 }
	err = scoped(r.db.WithContext(ctx).Table("backups"), accountID).
		Select("COUNT(*) AS backups, COALESCE(SUM(bytes_total), 0) AS logical").
		Where("status = ? AND forgotten_at IS NULL", JobCompleted).Scan(&b).Error
	if err != nil {
		return t, wrap("sum completed backups", err)
	}
	t.Backups, t.Logical = b.Backups, b.Logical
	return t, nil
}

// AgentTotals are one agent's completed backups still kept, and its latest one.
type AgentTotals struct {
	AgentID     string
	AgentName   string
	Backups     int64
	Logical     int64
	StoredBytes int64
	Latest      *Backup
}

// AgentTotals sums the completed backups of each of the account's agents (every
// account's for ""), with each agent's latest completed backup.
func (r *Stats) AgentTotals(ctx context.Context, accountID string) ([]AgentTotals, error) {
	var sums []struct {
		AgentID          string
		Backups, Logical int64
		StoredBytes      int64
	}
	err := scoped(r.db.WithContext(ctx).Table("backups"), accountID).
		Select("agent_id, COUNT(*) AS backups, COALESCE(SUM(bytes_total), 0) AS logical, "+
			"COALESCE(SUM(stored_bytes), 0) AS stored_bytes").
		Where("status = ? AND forgotten_at IS NULL", JobCompleted).Group("agent_id").
		Order("agent_id").Scan(&sums).Error
	if err != nil {
		return nil, wrap("sum backups per agent", err)
	}
	out := make([]AgentTotals, len(sums))
	for i, s := range sums {
		out[i] = AgentTotals{AgentID: s.AgentID, Backups: s.Backups, Logical: s.Logical,
			StoredBytes: s.StoredBytes}
	}
	for i := range out {
		var latest Backup
		// Ordered by the index alone: a tie in completed_at is not worth a sort.
		err := r.db.WithContext(ctx).Where("agent_id = ? AND status = ? AND "+
			"forgotten_at IS NULL", out[i].AgentID, JobCompleted).Order("completed_at DESC").
			Take(&latest).Error
		if err != nil {
			return nil, wrap("latest backup of agent", err)
		}
		out[i].Latest = &latest
		var names []string
		err = r.db.WithContext(ctx).Table("agents").Where("id = ?", out[i].AgentID).
			Pluck("name", &names).Error
		if err != nil {
			return nil, wrap("agent name", err)
		}
		if len(names) > 0 {
			out[i].AgentName = names[0]
		}
	}
	return out, nil
}

// JobCounts counts the jobs of each kind by status: queued and running from the jobs,
// ended ones from the daily figures.
func (r *Stats) JobCounts(ctx context.Context) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{KindBackup: {}, KindRestore: {}}
	for kind, table := range map[string]string{KindBackup: "backups", KindRestore: "restores"} {
		var rows []struct {
			Status string
			N      int64
		}
		err := r.db.WithContext(ctx).Table(table).Select("status, COUNT(*) AS n").
			Where("status IN ?", []string{JobQueued, JobRunning}).Group("status").
			Scan(&rows).Error
		if err != nil {
			return nil, wrap("count active "+table, err)
		}
		for _, row := range rows {
			out[kind][row.Status] = row.N
		}
	}
	var ended []struct {
		Kind, Status string
		N            int64
	}
	err := r.db.WithContext(ctx).Model(&DayStat{}).Select("kind, status, SUM(jobs) AS n").
		Group("kind, status").Scan(&ended).Error
	if err != nil {
		return nil, wrap("count ended jobs", err)
	}
	for _, e := range ended {
		out[e.Kind][e.Status] = e.N
	}
	return out, nil
}

// BackupBytes sums every completed backup's bytes ever recorded in the daily figures:
// logical, stored sealed and stored raw.
func (r *Stats) BackupBytes(ctx context.Context) (logical, stored, raw int64, err error) {
	var s struct{ Bytes, Stored, Raw int64 }
	err = r.db.WithContext(ctx).Model(&DayStat{}).
		Select("COALESCE(SUM(bytes), 0) AS bytes, COALESCE(SUM(stored_bytes), 0) AS stored, "+
			"COALESCE(SUM(stored_raw_bytes), 0) AS raw").
		Where("kind = ? AND status = ?", KindBackup, JobCompleted).Scan(&s).Error
	return s.Bytes, s.Stored, s.Raw, wrap("sum backup bytes", err)
}

// Rebuild recomputes the daily figures from the jobs when it holds none while ended
// jobs exist: after the upgrade that brought them in, or for imported history. It
// reports whether it did. Jobs ending meanwhile are counted once either way.
func (r *Stats) Rebuild(ctx context.Context) (bool, error) {
	done := false
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if tx.Dialector.Name() == DialectPostgres {
			if err := tx.Exec("LOCK TABLE job_stats_daily IN EXCLUSIVE MODE").Error; err != nil {
				return err
			}
		}
		var found []int64
		if err := tx.Model(&DayStat{}).Limit(1).Pluck("jobs", &found).Error; err != nil ||
			len(found) > 0 {
			return err
		}
		rows, err := dayStatsOf(tx)
		if err != nil || len(rows) == 0 {
			return err
		}
		done = true
		return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
	})
	if err != nil {
		return false, wrap("rebuild daily job figures", err)
	}
	return done, nil
}

// dayStatsOf adds up every ended job as recordEnd would have.
func dayStatsOf(tx *gorm.DB) ([]DayStat, error) {
	sums := map[DayStat]*DayStat{}
	add := func(f *jobFacts) {
		key := DayStat{AccountID: f.accountID, Day: f.completedAt.UTC().Format(DayFormat),
			Kind: f.kind, AgentID: f.agentID, Status: f.status}
		s := sums[key]
		if s == nil {
			s = &key
			sums[key] = s
		}
		ms := f.duration().Milliseconds()
		s.Jobs++
		s.Bytes += f.bytes
		s.StoredBytes += f.stored
		s.StoredRawBytes += f.storedRaw
		s.DurationMS += ms
		s.MaxDurationMS = max(s.MaxDurationMS, ms)
	}
	ended := []string{JobCompleted, JobFailed, JobCanceled}
	var backups []Backup
	err := tx.Where("status IN ? AND completed_at IS NOT NULL", ended).
		FindInBatches(&backups, 1000, func(*gorm.DB, int) error {
			for i := range backups {
				add(backupFacts(&backups[i]))
			}
			return nil
		}).Error
	if err != nil {
		return nil, fmt.Errorf("read ended backups: %w", err)
	}
	var restores []Restore
	err = tx.Where("status IN ? AND completed_at IS NOT NULL", ended).
		FindInBatches(&restores, 1000, func(*gorm.DB, int) error {
			for i := range restores {
				add(restoreFacts(&restores[i]))
			}
			return nil
		}).Error
	if err != nil {
		return nil, fmt.Errorf("read ended restores: %w", err)
	}
	out := make([]DayStat, 0, len(sums))
	for _, s := range sums {
		out = append(out, *s)
	}
	return out, nil
}

// CreateBatch stores many backups at once, such as imported or generated history. It
// writes no events: use Rebuild for their daily figures.
func (r *Backups) CreateBatch(ctx context.Context, list []Backup) error {
	for i := range list {
		list[i].CreatedAt, list[i].UpdatedAt = dbTime(list[i].CreatedAt), dbTime(list[i].UpdatedAt)
		list[i].StartedAt, list[i].CompletedAt = dbTimePtr(list[i].StartedAt),
			dbTimePtr(list[i].CompletedAt)
	}
	return wrap("create backups", r.db.WithContext(ctx).CreateInBatches(list, 200).Error)
}

// RefreshStatistics has the database look at its tables again, for the query planner,
// after bulk writes such as CreateBatch.
func (s *Store) RefreshStatistics(ctx context.Context) error {
	stmt := "ANALYZE"
	if s.dialect == DialectPostgres {
		stmt = "VACUUM ANALYZE"
	}
	return wrap("refresh statistics", s.db.WithContext(ctx).Exec(stmt).Error)
}
