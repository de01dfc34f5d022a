package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// newToken creates a join token for account that expires at expires.
func newToken(t *testing.T, s *store.Store, accountID string, expires time.Time) *store.JoinToken {
	t.Helper()
	tok := &store.JoinToken{AccountID: accountID, SecretHash: "secret-hash", ExpiresAt: expires}
	require.NoError(t, s.JoinTokens().Create(context.Background(), tok))
	return tok
}

// enrollAgent enrols an agent called name with a fresh token of account.
func enrollAgent(t *testing.T, s *store.Store, accountID, name string) *store.Agent {
	t.Helper()
	now := time.Now()
	tok := newToken(t, s, accountID, now.Add(time.Hour))
	agent := &store.Agent{Name: name, Hostname: name + ".lan", CertSerial: store.NewID("serial")}
	err := s.JoinTokens().EnrollAgent(context.Background(), tok.ID, "secret-hash", now, agent)
	require.NoError(t, err)
	return agent
}

func TestEnrollAgent(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	now := time.Now()
	tok := newToken(t, s, a.ID, now.Add(time.Hour))

	agent := &store.Agent{Name: "web-1", Hostname: "web-1", OS: "linux", Arch: "amd64",
		CertSerial: "1234", CertFingerprint: "ab:cd"}
	require.NoError(t, s.JoinTokens().EnrollAgent(ctx, tok.ID, "secret-hash", now, agent))
	assert.Regexp(t, `^agt_`, agent.ID)
	assert.Equal(t, a.ID, agent.AccountID)

	got, err := s.Agents().ByID(ctx, a.ID, agent.ID)
	require.NoError(t, err)
	assert.Equal(t, "web-1", got.Name)
	assert.Equal(t, "linux", got.OS)
	assert.Equal(t, store.StatusOffline, got.Status)

	again := &store.Agent{Name: "web-2", CertSerial: "5678"}
	err = s.JoinTokens().EnrollAgent(ctx, tok.ID, "secret-hash", now, again)
	assert.ErrorIs(t, err, store.ErrTokenUsed)
}

func TestEnrollAgentErrors(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	now := time.Now()
	taken := enrollAgent(t, s, a.ID, "taken")

	tests := []struct {
		name    string
		tokenID string
		secret  string
		expires time.Time
		agent   store.Agent
		want    error
	}{
		{name: "unknown token", tokenID: "jtok_nope", secret: "secret-hash",
			agent: store.Agent{Name: "x", CertSerial: "s1"}, want: store.ErrTokenInvalid},
		{name: "wrong secret", secret: "other-hash", expires: now.Add(time.Hour),
			agent: store.Agent{Name: "x", CertSerial: "s2"}, want: store.ErrTokenInvalid},
		{name: "expired", secret: "secret-hash", expires: now,
			agent: store.Agent{Name: "x", CertSerial: "s3"}, want: store.ErrTokenExpired},
		{name: "name taken", secret: "secret-hash", expires: now.Add(time.Hour),
			agent: store.Agent{Name: "taken", CertSerial: "s4"}, want: store.ErrConflict},
		{name: "serial taken", secret: "secret-hash", expires: now.Add(time.Hour),
			agent: store.Agent{Name: "y", CertSerial: taken.CertSerial}, want: store.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.tokenID
			var tok *store.JoinToken
			if id == "" {
				tok = newToken(t, s, a.ID, tt.expires)
				id = tok.ID
			}
			agent := tt.agent
			assert.ErrorIs(t, s.JoinTokens().EnrollAgent(ctx, id, tt.secret, now, &agent), tt.want)
			if tok == nil {
				return
			}
			// A failed enrolment leaves the token as it was: a conflict
			// leaves it unspent, so a fresh agent may still use it.
			ok := &store.Agent{Name: "ok-" + tok.ID, CertSerial: "ok-" + tok.ID}
			err := s.JoinTokens().EnrollAgent(ctx, id, tt.secret, now, ok)
			if errors.Is(tt.want, store.ErrConflict) {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

// TestEnrollAgentConcurrent races many enrolments for one token: exactly one
// wins and the others see the token used.
func TestEnrollAgentConcurrent(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	now := time.Now()

	for round := range 3 {
		tok := newToken(t, s, a.ID, now.Add(time.Hour))
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				agent := &store.Agent{
					Name:       fmt.Sprintf("r%d-agent-%d", round, i),
					CertSerial: fmt.Sprintf("r%d-serial-%d", round, i),
				}
				errs[i] = s.JoinTokens().EnrollAgent(ctx, tok.ID, "secret-hash", now, agent)
			})
		}
		wg.Wait()

		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
				continue
			}
			assert.ErrorIs(t, err, store.ErrTokenUsed)
		}
		assert.Equal(t, 1, wins, "round %d", round)
	}
	_, total, err := s.Agents().List(ctx, a.ID, 100, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(3), total)
}
