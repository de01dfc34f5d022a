package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Agent statuses as the store records them. A controller that dies leaves
// its agents "online"; MarkStaleOffline corrects them by last_seen.
const (
	StatusOnline  = "online"
	StatusOffline = "offline"
)

// Agent transports: QUIC, or TLS over TCP when UDP does not get through.
// The empty transport means the agent has not connected yet.
const (
	TransportQUIC = "quic"
	TransportTCP  = "tcp"
)

// Agent is an enrolled agent. It is identified on the wire by the serial
// number of the client certificate the controller issued it.
type Agent struct {
	ID              string
	AccountID       string
	Name            string // unique among the account's agents that are not revoked
	Hostname        string
	Version         string
	OS              string `gorm:"column:os"`
	Arch            string
	CertSerial      string // unique
	CertFingerprint string
	Status          string // StatusOnline or StatusOffline
	Transport       string // TransportQUIC, TransportTCP or ""
	LastSeen        *time.Time
	RTTMillis       *float64 `gorm:"column:rtt_ms"`
	RevokedAt       *time.Time
	// Capabilities is the JSON of the tools the agent last reported, or "".
	Capabilities string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableName tells GORM the table.
func (Agent) TableName() string { return "agents" }

// Agents is the repository of agents. Except for IsRevokedSerial, its
// methods see only agents that are not revoked.
type Agents struct {
	db *gorm.DB
}

// live starts a query on the agents that are not revoked, limited to
// accountID unless it is empty.
func (r *Agents) live(ctx context.Context, accountID string) *gorm.DB {
	q := r.db.WithContext(ctx).Model(&Agent{}).Where("revoked_at IS NULL")
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	return q
}

// ByID returns the agent with id, or ErrNotFound. A non-empty accountID
// limits the search to that account's agents; the empty one is for admins
// and the controller itself.
func (r *Agents) ByID(ctx context.Context, accountID, id string) (*Agent, error) {
	var a Agent
	if err := r.live(ctx, accountID).Where("id = ?", id).Take(&a).Error; err != nil {
		return nil, wrap("agent by id", err)
	}
	return &a, nil
}

// ByCertSerial returns the agent holding the certificate with serial, or
// ErrNotFound.
func (r *Agents) ByCertSerial(ctx context.Context, serial string) (*Agent, error) {
	var a Agent
	if err := r.live(ctx, "").Where("cert_serial = ?", serial).Take(&a).Error; err != nil {
		return nil, wrap("agent by cert serial", err)
	}
	return &a, nil
}

// ByName returns the account's agent called name, or ErrNotFound.
func (r *Agents) ByName(ctx context.Context, accountID, name string) (*Agent, error) {
	var a Agent
	if err := r.live(ctx, accountID).Where("name = ?", name).Take(&a).Error; err != nil {
		return nil, wrap("agent by name", err)
	}
	return &a, nil
}

// List returns a page of the account's agents ordered by name, and how many
// there are in all. An empty accountID lists every account's agents.
// limit must be positive.
func (r *Agents) List(ctx context.Context, accountID string, limit, offset int) (
	[]Agent, int64, error,
) {
	var total int64
	if err := r.live(ctx, accountID).Count(&total).Error; err != nil {
		return nil, 0, wrap("count agents", err)
	}
	agents := []Agent{}
	err := r.live(ctx, accountID).Order("name, id").Limit(limit).Offset(offset).
		Find(&agents).Error
	if err != nil {
		return nil, 0, wrap("list agents", err)
	}
	return agents, total, nil
}

// Counts returns how many of the account's agents there are, and how many
// of them are online with a last_seen after seenAfter. An empty accountID
// counts every account's agents.
func (r *Agents) Counts(ctx context.Context, accountID string, seenAfter time.Time) (
	online, total int64, err error,
) {
	if err := r.live(ctx, accountID).Count(&total).Error; err != nil {
		return 0, 0, wrap("count agents", err)
	}
	err = r.live(ctx, accountID).Where("status = ? AND last_seen > ?", StatusOnline,
		dbTime(seenAfter)).Count(&online).Error
	if err != nil {
		return 0, 0, wrap("count online agents", err)
	}
	return online, total, nil
}

// MarkOnline records that the agent connected at at over transport, running
// version on hostname. It answers ErrNotFound for an unknown or revoked
// agent.
func (r *Agents) MarkOnline(
	ctx context.Context, id, transport, version, hostname string, at time.Time,
) error {
	at = dbTime(at)
	return r.update(ctx, "mark agent online", id, map[string]any{
		"status":     StatusOnline,
		"transport":  transport,
		"version":    version,
		"hostname":   hostname,
		"last_seen":  at,
		"updated_at": at,
	})
}

// SetCapabilities records the JSON of the tools the agent reported.
func (r *Agents) SetCapabilities(ctx context.Context, id, capabilities string) error {
	return r.update(ctx, "set agent capabilities", id, map[string]any{
		"capabilities": capabilities})
}

// Seen records a heartbeat from the agent at at. It answers ErrNotFound for
// an unknown or revoked agent.
func (r *Agents) Seen(ctx context.Context, id string, at time.Time) error {
	return r.update(ctx, "mark agent seen", id, map[string]any{"last_seen": dbTime(at)})
}

// SetRTT records the agent's latest round-trip time in milliseconds.
func (r *Agents) SetRTT(ctx context.Context, id string, ms float64) error {
	return r.update(ctx, "set agent rtt", id, map[string]any{"rtt_ms": ms})
}

// MarkOffline records that the agent disconnected at at.
func (r *Agents) MarkOffline(ctx context.Context, id string, at time.Time) error {
	return r.update(ctx, "mark agent offline", id, map[string]any{
		"status":     StatusOffline,
		"updated_at": dbTime(at),
	})
}

// Revoke revokes the agent: its certificate stops being accepted and its
// name becomes free. An agent that is absent, already revoked or of another
// account (unless accountID is empty) answers ErrNotFound.
func (r *Agents) Revoke(ctx context.Context, accountID, id string) error {
	now := r.db.NowFunc()
	res := r.live(ctx, accountID).Where("id = ?", id).Updates(map[string]any{
		"revoked_at": now,
		"status":     StatusOffline,
		"updated_at": now,
	})
	if res.Error != nil {
		return wrap("revoke agent", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("revoke agent: %w", ErrNotFound)
	}
	return nil
}

// IsRevokedSerial reports whether the certificate with serial belongs to a
// revoked agent. A serial the store never saw is not revoked: telling
// unknown certificates apart is the caller's job.
func (r *Agents) IsRevokedSerial(ctx context.Context, serial string) (bool, error) {
	var n int64
	err := r.db.WithContext(ctx).Model(&Agent{}).
		Where("cert_serial = ? AND revoked_at IS NOT NULL", serial).Count(&n).Error
	if err != nil {
		return false, wrap("check revoked serial", err)
	}
	return n > 0, nil
}

// MarkStaleOffline marks offline every online agent whose last_seen is
// before olderThan (or unset), and returns how many it changed.
func (r *Agents) MarkStaleOffline(ctx context.Context, olderThan time.Time) (int64, error) {
	res := r.live(ctx, "").
		Where("status = ? AND (last_seen IS NULL OR last_seen < ?)", StatusOnline,
			dbTime(olderThan)).
		Updates(map[string]any{"status": StatusOffline, "updated_at": r.db.NowFunc()})
	if res.Error != nil {
		return 0, wrap("mark stale agents offline", res.Error)
	}
	return res.RowsAffected, nil
}

// update applies values to the live agent id, answering ErrNotFound when
// there is none.
func (r *Agents) update(ctx context.Context, op, id string, values map[string]any) error {
	res := r.live(ctx, "").Where("id = ?", id).Updates(values)
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}
