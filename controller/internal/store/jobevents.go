package store

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Job kinds as job_stats_daily and events name them.
const (
	KindBackup  = "backup"
	KindRestore = "restore"
)

// DayFormat is how job_stats_daily and storage_samples name a UTC day.
const DayFormat = "2006-01-02"

// jobFacts is what a job's row says for its event and its figures.
type jobFacts struct {
	kind, accountID, agentID, status string
	notify                           bool
	startedAt, completedAt           *time.Time
	bytes, stored, storedRaw         int64
	data                             map[string]any
}

// duration is how long the job ran, zero for one that never started.
func (f *jobFacts) duration() time.Duration {
	if f.startedAt == nil || f.completedAt == nil {
		return 0
	}
	return f.completedAt.Sub(*f.startedAt)
}

// recordStart records the job's start event inside tx, for its first attempt only: a
// retry after a lost agent is the same job going on.
func (l lifecycle) recordStart(tx *gorm.DB, id string, now time.Time) error {
	f, err := l.facts(tx, id)
	if err != nil {
		return err
	}
	e, err := newEvent(f.accountID, f.kind+".started", f.data, true, now)
	if err != nil {
		return err
	}
	return insertEvent(tx, e)
}

// recordEnd records, inside the transaction that ended the job, what follows from it:
// its figures for the day and, when it completed or failed, its event. The event is kept
// from webhooks when the job asked not to be notified.
func (l lifecycle) recordEnd(tx *gorm.DB, id string, now time.Time) error {
	f, err := l.facts(tx, id)
	if err != nil {
		return err
	}
	if err := addJobStats(tx, f, now); err != nil {
		return err
	}
	if f.status != JobCompleted && f.status != JobFailed {
		return nil
	}
	e, err := newEvent(f.accountID, f.kind+"."+f.status, f.data, f.notify, now)
	if err != nil {
		return err
	}
	return insertEvent(tx, e)
}

// addJobStats adds the ended job to its day's row of job_stats_daily.
func addJobStats(tx *gorm.DB, f *jobFacts, now time.Time) error {
	greatest := "GREATEST"
	if tx.Dialector.Name() == DialectSQLite {
		greatest = "MAX"
	}
	ms := f.duration().Milliseconds()
	err := tx.Exec("INSERT INTO job_stats_daily (account_id, day, kind, agent_id, status, "+
		"jobs, bytes, stored_bytes, stored_raw_bytes, duration_ms, max_duration_ms) "+
		"VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) "+
		"ON CONFLICT (account_id, day, kind, agent_id, status) DO UPDATE SET "+
		"jobs = job_stats_daily.jobs + 1, bytes = job_stats_daily.bytes + excluded.bytes, "+
		"stored_bytes = job_stats_daily.stored_bytes + excluded.stored_bytes, "+
		"stored_raw_bytes = job_stats_daily.stored_raw_bytes + excluded.stored_raw_bytes, "+
		"duration_ms = job_stats_daily.duration_ms + excluded.duration_ms, "+
		"max_duration_ms = "+greatest+"(job_stats_daily.max_duration_ms, excluded.max_duration_ms)",
		f.accountID, now.UTC().Format(DayFormat), f.kind, f.agentID, f.status,
		f.bytes, f.stored, f.storedRaw, ms, ms).Error
	if err != nil {
		return fmt.Errorf("add job to daily figures: %w", err)
	}
	return nil
}

// facts reads the job's row and its agent's name.
func (l lifecycle) facts(tx *gorm.DB, id string) (*jobFacts, error) {
	var f *jobFacts
	if l.table == "restores" {
		var rs Restore
		if err := tx.Where("id = ?", id).Take(&rs).Error; err != nil {
			return nil, wrap("read ended restore", err)
		}
		f = restoreFacts(&rs)
	} else {
		var b Backup
		if err := tx.Where("id = ?", id).Take(&b).Error; err != nil {
			return nil, wrap("read ended backup", err)
		}
		f = backupFacts(&b)
	}
	var names []string
	if err := tx.Table("agents").Where("id = ?", f.agentID).Pluck("name", &names).Error; err != nil {
		return nil, wrap("read agent name", err)
	}
	f.data["agent_id"], f.data["agent_name"] = f.agentID, ""
	if len(names) > 0 {
		f.data["agent_name"] = names[0]
	}
	f.data["account_id"], f.data["status"] = f.accountID, f.status
	if d := f.duration(); d > 0 {
		f.data["duration_seconds"] = d.Seconds()
	}
	return f, nil
}

func backupFacts(b *Backup) *jobFacts {
	data := map[string]any{
		"backup_id": b.ID, "attempt": b.Attempt, "size_bytes": b.BytesTotal,
		"stored_bytes": b.StoredBytes, "files": b.Files, "chunks_total": b.ChunksTotal,
		"chunks_new": b.ChunksNew, "sources": sourceSummary(b.Sources),
	}
	addTimes(data, b.CreatedAt, b.StartedAt, b.CompletedAt, b.Status, b.Error)
	return &jobFacts{kind: KindBackup, accountID: b.AccountID, agentID: b.AgentID,
		status: b.Status, notify: wantsNotice(b.Options), startedAt: b.StartedAt,
		completedAt: b.CompletedAt, bytes: b.BytesTotal, stored: b.StoredBytes,
		storedRaw: b.StoredRawBytes, data: data}
}

func restoreFacts(rs *Restore) *jobFacts {
	data := map[string]any{
		"restore_id": rs.ID, "backup_id": rs.BackupID, "attempt": rs.Attempt,
		"bytes_restored": rs.BytesDone, "files_restored": rs.Files,
	}
	addTimes(data, rs.CreatedAt, rs.StartedAt, rs.CompletedAt, rs.Status, rs.Error)
	return &jobFacts{kind: KindRestore, accountID: rs.AccountID, agentID: rs.AgentID,
		status: rs.Status, notify: wantsNotice(rs.Options), startedAt: rs.StartedAt,
		completedAt: rs.CompletedAt, bytes: rs.BytesDone, data: data}
}

// addTimes puts a job's times, and its error when it did not complete, into data.
func addTimes(data map[string]any, created time.Time, started, completed *time.Time,
	status, msg string) {
	data["created_at"] = created.UTC().Format(time.RFC3339)
	if started != nil {
		data["started_at"] = started.UTC().Format(time.RFC3339)
	}
	if completed != nil {
		data["completed_at"] = completed.UTC().Format(time.RFC3339)
	}
	if msg != "" && status != JobCompleted && status != JobRunning {
		data["error"] = msg
	}
}

// sourceSummary lists a backup's sources by type with their paths or database name,
// never their connections.
func sourceSummary(sources string) []map[string]any {
	var list []struct {
		Type  string   `json:"type"`
		Name  string   `json:"name"`
		Paths []string `json:"paths"`
	}
	_ = json.Unmarshal([]byte(sources), &list)
	out := make([]map[string]any, 0, len(list))
	for _, s := range list {
		m := map[string]any{"type": s.Type}
		if s.Name != "" {
			m["name"] = s.Name
		}
		if len(s.Paths) > 0 {
			m["paths"] = s.Paths
		}
		out = append(out, m)
	}
	return out
}

// wantsNotice reads options.notify_on_completion, true unless set to false.
func wantsNotice(options string) bool {
	var o struct {
		Notify *bool `json:"notify_on_completion"`
	}
	_ = json.Unmarshal([]byte(options), &o)
	return o.Notify == nil || *o.Notify
}
