package store

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// JoinToken is a one-time token that lets one agent enrol into an account.
// Only the hash of its secret is kept.
type JoinToken struct {
	ID            string
	AccountID     string
	SecretHash    string
	ExpiresAt     time.Time
	UsedAt        *time.Time
	UsedByAgentID *string
	CreatedAt     time.Time
}

// TableName tells GORM the table.
func (JoinToken) TableName() string { return "join_tokens" }

// JoinTokens is the repository of join tokens.
type JoinTokens struct {
	db *gorm.DB
}

// Create inserts t. An empty ID gets a fresh "jtok_" id.
func (r *JoinTokens) Create(ctx context.Context, t *JoinToken) error {
	if t.ID == "" {
		t.ID = NewID("jtok")
	}
	t.ExpiresAt = dbTime(t.ExpiresAt)
	t.UsedAt = dbTimePtr(t.UsedAt)
	t.CreatedAt = dbTime(t.CreatedAt)
	return wrap("create join token", r.db.WithContext(ctx).Create(t).Error)
}

// EnrollAgent spends the join token tokenID on agent, in one transaction:
// it checks the token, creates the agent in the token's account (setting
// agent.AccountID, and agent.ID when empty) and marks the token used by it.
//
// An unknown token or a secretHash that differs from the token's answers
// ErrTokenInvalid; a spent token ErrTokenUsed; a token expired at now
// ErrTokenExpired; a live agent of the same name or certificate serial
// ErrConflict. A token is spent at most once, even by concurrent calls: the
// token's row stays locked (PostgreSQL) or the database stays locked for
// writing (SQLite) from the check to the commit.
func (r *JoinTokens) EnrollAgent(
	ctx context.Context, tokenID, secretHash string, now time.Time, agent *Agent,
) error {
	now = dbTime(now)
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tok, err := lockToken(tx, tokenID)
		if err != nil {
			return err
		}
		if err := checkToken(tok, secretHash, now); err != nil {
			return err
		}
		if err := createEnrolledAgent(tx, tok.AccountID, now, agent); err != nil {
			return err
		}
		return spendToken(tx, tok.ID, agent.ID, now)
	})
	if err != nil {
		return fmt.Errorf("enroll agent: %w", err)
	}
	return nil
}

// lockToken reads the token and locks its row until the transaction ends.
// SQLite has no row locks, but its transactions begin IMMEDIATE, which
// holds the write lock from the start.
func lockToken(tx *gorm.DB, id string) (*JoinToken, error) {
	var tok JoinToken
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&tok).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, wrap("read join token", err)
	}
	return &tok, nil
}

// checkToken decides whether tok may enrol an agent at now.
func checkToken(tok *JoinToken, secretHash string, now time.Time) error {
	if subtle.ConstantTimeCompare([]byte(tok.SecretHash), []byte(secretHash)) != 1 {
		return ErrTokenInvalid
	}
	if tok.UsedAt != nil {
		return ErrTokenUsed
	}
	if !now.Before(tok.ExpiresAt) {
		return ErrTokenExpired
	}
	return nil
}

// createEnrolledAgent inserts agent into accountID. The partial unique
// index also guards the name; the check first gives a clear error.
func createEnrolledAgent(tx *gorm.DB, accountID string, now time.Time, agent *Agent) error {
	if agent.Name == "" || agent.CertSerial == "" {
		return errors.New("agent needs a name and a certificate serial")
	}
	var n int64
	err := tx.Model(&Agent{}).
		Where("account_id = ? AND name = ? AND revoked_at IS NULL", accountID, agent.Name).
		Count(&n).Error
	if err != nil {
		return wrap("check agent name", err)
	}
	if n > 0 {
		return fmt.Errorf("agent name %q is taken: %w", agent.Name, ErrConflict)
	}
	if agent.ID == "" {
		agent.ID = NewID("agt")
	}
	if agent.Status == "" {
		agent.Status = StatusOffline
	}
	agent.AccountID = accountID
	agent.LastSeen = dbTimePtr(agent.LastSeen)
	agent.RevokedAt = nil
	agent.CreatedAt = now
	agent.UpdatedAt = now
	return wrap("create agent", tx.Create(agent).Error)
}

// spendToken marks the token used by agentID. The condition on used_at
// makes a second spend impossible even if the lock above were missing.
func spendToken(tx *gorm.DB, tokenID, agentID string, now time.Time) error {
	res := tx.Model(&JoinToken{}).Where("id = ? AND used_at IS NULL", tokenID).
		Updates(map[string]any{"used_at": now, "used_by_agent_id": agentID})
	if res.Error != nil {
		return wrap("spend join token", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrTokenUsed
	}
	return nil
}
