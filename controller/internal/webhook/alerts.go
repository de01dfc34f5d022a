package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// maxAlertMessage bounds an alert's message.
const maxAlertMessage = 1000

// alertKind is the form of an alert's kind: short snake_case.
var alertKind = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Alerter raises system.alert events. An alert of an account goes to that account's
// webhooks; a system-wide one (account "") to every admin account's. Get one from
// Service.Alerter.
type Alerter struct {
	events *store.Events
	now    func() time.Time
	wake   func()
	log    *slog.Logger
}

// Alert queues a system.alert event of kind (short snake_case, such as
// "storage_check_damage") with a message for people and data for programs, for the
// webhooks of accountID, or of the admin accounts when accountID is "". The event is in
// the outbox when Alert returns nil, and is delivered like every other.
func (a *Alerter) Alert(ctx context.Context, accountID, kind, message string,
	data map[string]any) error {
	if !alertKind.MatchString(kind) {
		return fmt.Errorf("raise alert: kind %q is not short snake_case", kind)
	}
	e, err := a.events.Add(ctx, accountID, store.EventSystemAlert,
		alertData(accountID, kind, message, data), a.now())
	if err != nil {
		return fmt.Errorf("raise %s alert: %w", kind, err)
	}
	a.log.InfoContext(ctx, "alert raised", "kind", kind, "account_id", accountID,
		"event_id", e.ID)
	a.wake()
	return nil
}

// alertOnce raises the alert unless one was raised under key before, by this controller
// or another one, and reports whether it did.
func (a *Alerter) alertOnce(ctx context.Context, key, accountID, kind, message string,
	data map[string]any) (bool, error) {
	added, err := a.events.AddAlertOnce(ctx, key, accountID, kind,
		alertData(accountID, kind, message, data), a.now())
	if err != nil || !added {
		return false, err
	}
	a.log.InfoContext(ctx, "alert raised", "kind", kind, "account_id", accountID, "key", key)
	a.wake()
	return true, nil
}

// alertData is the data of a system.alert event.
func alertData(accountID, kind, message string, data map[string]any) map[string]any {
	if len(message) > maxAlertMessage {
		message = strings.ToValidUTF8(message[:maxAlertMessage], "") + "…"
	}
	if data == nil {
		data = map[string]any{}
	}
	return map[string]any{"kind": kind, "message": message, "account_id": accountID,
		"details": data}
}

// AlertConfig tunes the alerts the service raises itself.
type AlertConfig struct {
	// AgentOffline alerts about an agent silent for this long.
	AgentOffline time.Duration
	// StorageFullPercent alerts when storage is at least this full.
	StorageFullPercent float64
	// BackupFailures alerts when this many backups of an agent failed in a row.
	BackupFailures int
	// Every is how often agents and storage are looked at.
	Every time.Duration
	// Storage reports the used and total bytes of the storage; nil watches no storage.
	Storage func(ctx context.Context) (used, total uint64, err error)
}

// Defaults of AlertConfig.
const (
	DefaultAlertAgentOffline  = 15 * time.Minute
	DefaultAlertStorageFull   = 90.0
	DefaultAlertBackupFailure = 3
)

func (c *AlertConfig) defaults() {
	if c.AgentOffline <= 0 {
		c.AgentOffline = DefaultAlertAgentOffline
	}
	if c.StorageFullPercent <= 0 {
		c.StorageFullPercent = DefaultAlertStorageFull
	}
	if c.BackupFailures <= 0 {
		c.BackupFailures = DefaultAlertBackupFailure
	}
	if c.Every <= 0 {
		c.Every = time.Minute
	}
}

// checkFailureStreak raises an alert when the failed backup of e makes BackupFailures
// failures of its agent in a row, once per streak (keyed by its first failure).
func (s *Service) checkFailureStreak(ctx context.Context, e *store.Event) {
	var data struct {
		BackupID  string `json:"backup_id"`
		AgentID   string `json:"agent_id"`
		AgentName string `json:"agent_name"`
		Error     string `json:"error"`
	}
	if err := decodeData(e, &data); err != nil || data.AgentID == "" {
		return
	}
	n, first, err := s.st.Backups().FailureStreak(ctx, data.AgentID)
	if err != nil {
		s.log.Warn("count agent's failed backups", "agent_id", data.AgentID, "error", err)
		return
	}
	if n < int64(s.cfg.Alerts.BackupFailures) {
		return
	}
	msg := fmt.Sprintf("the last %d backups of agent %s failed; the latest: %s", n,
		nameOr(data.AgentName, data.AgentID), data.Error)
	_, err = s.alerts.alertOnce(ctx, "backup_failures:"+data.AgentID+":"+first, e.AccountID,
		"backup_failing", msg, map[string]any{"agent_id": data.AgentID,
			"agent_name": data.AgentName, "failures": n, "first_failed_backup_id": first,
			"latest_backup_id": data.BackupID, "last_error": data.Error})
	if err != nil {
		s.log.Warn("raise backup failure alert", "agent_id", data.AgentID, "error", err)
	}
}

// watch looks at agents and storage every AlertConfig.Every.
func (s *Service) watch(ctx context.Context) {
	now := s.cfg.Now()
	if now.Sub(s.lastWatch) < s.cfg.Alerts.Every {
		return
	}
	s.lastWatch = now
	s.watchAgents(ctx, now)
	s.watchStorage(ctx, now)
}

// watchAgents raises an alert for each agent silent for AgentOffline, once per silence.
func (s *Service) watchAgents(ctx context.Context, now time.Time) {
	silent, err := s.st.Agents().SilentSince(ctx, now.Add(-s.cfg.Alerts.AgentOffline))
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("list silent agents", "error", err)
		}
		return
	}
	for _, a := range silent {
		seen := a.LastSeen.UTC()
		msg := fmt.Sprintf("agent %s has been offline since %s", a.Name,
			seen.Format(time.RFC3339))
		key := fmt.Sprintf("agent_offline:%s:%d", a.ID, seen.UnixMicro())
		_, err := s.alerts.alertOnce(ctx, key, a.AccountID, "agent_offline", msg,
			map[string]any{"agent_id": a.ID, "agent_name": a.Name, "hostname": a.Hostname,
				"last_seen":       seen.Format(time.RFC3339),
				"offline_seconds": int64(now.Sub(seen).Seconds())})
		if err != nil {
			s.log.Warn("raise agent offline alert", "agent_id", a.ID, "error", err)
		}
	}
}

// watchStorage raises a system-wide alert, once a day, while storage is at least
// StorageFullPercent full.
func (s *Service) watchStorage(ctx context.Context, now time.Time) {
	if s.cfg.Alerts.Storage == nil {
		return
	}
	used, total, err := s.cfg.Alerts.Storage(ctx)
	if err != nil || total == 0 {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("read storage usage", "error", err)
		}
		return
	}
	pct := float64(used) / float64(total) * 100
	if pct < s.cfg.Alerts.StorageFullPercent {
		return
	}
	msg := fmt.Sprintf("storage is %.1f%% full (%d of %d bytes used)", pct, used, total)
	_, err = s.alerts.alertOnce(ctx, "storage_full:"+now.UTC().Format(store.DayFormat), "",
		"storage_full", msg, map[string]any{"used_bytes": used, "total_bytes": total,
			"used_percent": pct, "threshold_percent": s.cfg.Alerts.StorageFullPercent})
	if err != nil {
		s.log.Warn("raise storage alert", "error", err)
	}
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
