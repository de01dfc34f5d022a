package agenthub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/grim-reaper/grim/controller/internal/pki"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/jointoken"
)

const (
	maxAgentNameLen = 128
	// minTokenTTL and maxTokenTTL bound a join token's life.
	minTokenTTL = time.Minute
	maxTokenTTL = 7 * 24 * time.Hour
)

// CreateJoinToken issues a one-time join token for the account. The returned string holds
// the token's secret; only a hash of it is stored.
func (h *Hub) CreateJoinToken(ctx context.Context, accountID string,
	ttl time.Duration) (string, time.Time, error) {
	if ttl < minTokenTTL || ttl > maxTokenTTL {
		return "", time.Time{}, fmt.Errorf("join token ttl %s out of range", ttl)
	}
	tok, err := jointoken.New(store.NewID("jt"), h.ca.Fingerprint())
	if err != nil {
		return "", time.Time{}, err
	}
	now := h.cfg.Now()
	rec := &store.JoinToken{
		ID: tok.ID, AccountID: accountID, SecretHash: tok.SecretHash(),
		ExpiresAt: now.Add(ttl), CreatedAt: now,
	}
	if err := h.store.JoinTokens().Create(ctx, rec); err != nil {
		return "", time.Time{}, fmt.Errorf("store join token: %w", err)
	}
	h.log.Info("join token issued", "token_id", tok.ID, "account_id", accountID,
		"expires_at", rec.ExpiresAt)
	return tok.String(), rec.ExpiresAt, nil
}

// enroll turns a join token and a certificate request into an agent record and a signed
// client certificate. The token is consumed in the same transaction that creates the
// agent, so it can enrol one agent only, however many try at once.
func (h *Hub) enroll(ctx context.Context, enc *protocol.Encoder,
	req *protocol.EnrollRequest, log *slog.Logger) {
	resp, err := h.enrollAgent(ctx, req)
	if err != nil {
		log.Info("enrolment refused", "error", err)
		refuse(enc, protocol.ErrCodeUnauthorized, enrollErrorMessage(err))
		return
	}
	if err := enc.Encode(resp); err != nil {
		log.Warn("send enrolment response", "error", err)
		return
	}
	log.Info("agent enrolled", "agent_id", resp.AgentID, "agent_name", resp.AgentName)
}

func (h *Hub) enrollAgent(ctx context.Context, req *protocol.EnrollRequest) (
	*protocol.EnrollResponse, error) {
	tok, err := jointoken.Parse(req.Token)
	if err != nil {
		return nil, store.ErrTokenInvalid
	}
	if tok.CAFingerprint != h.ca.Fingerprint() {
		return nil, errWrongController
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > maxAgentNameLen {
		return nil, errBadName
	}
	agentID := store.NewID("agent")
	cert, err := h.ca.SignAgent(req.CSR, agentID)
	if err != nil {
		return nil, fmt.Errorf("sign agent certificate: %w", err)
	}
	now := h.cfg.Now()
	agent := &store.Agent{
		ID: agentID, Name: name, Hostname: req.Hostname, Version: req.AgentVersion,
		OS: req.OS, Arch: req.Arch, Status: "offline",
		CertSerial: pki.SerialString(cert.SerialNumber), CertFingerprint: pki.Fingerprint(cert.Raw),
		CreatedAt: now, UpdatedAt: now,
	}
	if err := h.store.JoinTokens().EnrollAgent(ctx, tok.ID, tok.SecretHash(), now, agent); err != nil {
		return nil, err
	}
	return &protocol.EnrollResponse{
		AgentID: agentID, AgentName: name,
		Certificate: cert.Raw, CACertificate: h.ca.Certificate().Raw,
	}, nil
}

var (
	errWrongController = errors.New("join token was issued by another controller")
	errBadName         = errors.New("agent name must be 1 to 128 characters")
)

// enrollErrorMessage says why an enrolment failed in words fit for the agent's operator,
// and nothing about internals.
func enrollErrorMessage(err error) string {
	switch {
	case errors.Is(err, store.ErrTokenExpired):
		return "join token expired"
	case errors.Is(err, store.ErrTokenUsed):
		return "join token already used"
	case errors.Is(err, store.ErrTokenInvalid):
		return "join token invalid"
	case errors.Is(err, store.ErrConflict):
		return "an agent with this name is already enrolled"
	case errors.Is(err, errWrongController), errors.Is(err, errBadName):
		return err.Error()
	default:
		return "enrolment failed"
	}
}
