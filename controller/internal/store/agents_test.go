package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

func TestAgentsLookups(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	alice := newAccount(t, s, "alice@example.com")
	bob := newAccount(t, s, "bob@example.com")
	agent := enrollAgent(t, s, alice.ID, "db-1")

	got, err := s.Agents().ByID(ctx, "", agent.ID)
	require.NoError(t, err)
	assert.Equal(t, alice.ID, got.AccountID)
	_, err = s.Agents().ByID(ctx, bob.ID, agent.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "another account's agent is not found")

	got, err = s.Agents().ByCertSerial(ctx, agent.CertSerial)
	require.NoError(t, err)
	assert.Equal(t, agent.ID, got.ID)
	got, err = s.Agents().ByName(ctx, alice.ID, "db-1")
	require.NoError(t, err)
	assert.Equal(t, agent.ID, got.ID)
	_, err = s.Agents().ByName(ctx, bob.ID, "db-1")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestAgentsListAndCounts(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	alice := newAccount(t, s, "alice@example.com")
	bob := newAccount(t, s, "bob@example.com")
	names := []string{"c", "a", "b"}
	for _, name := range names {
		enrollAgent(t, s, alice.ID, name)
	}
	bobs := enrollAgent(t, s, bob.ID, "a")

	page, total, err := s.Agents().List(ctx, alice.ID, 2, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(3), total)
	require.Len(t, page, 2)
	assert.Equal(t, []string{"a", "b"}, []string{page[0].Name, page[1].Name})

	_, total, err = s.Agents().List(ctx, "", 50, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(4), total)

	now := time.Now()
	require.NoError(t, s.Agents().MarkOnline(ctx, bobs.ID, store.TransportQUIC, "1.0", "h", now))
	online, total, err := s.Agents().Counts(ctx, "", now.Add(-time.Minute))
	require.NoError(t, err)
	assert.Equal(t, int64(1), online)
	assert.Equal(t, int64(4), total)
	online, _, err = s.Agents().Counts(ctx, alice.ID, now.Add(-time.Minute))
	require.NoError(t, err)
	assert.Zero(t, online)
}

func TestAgentsLifecycle(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	agent := enrollAgent(t, s, a.ID, "web")
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 123456789, time.UTC)

	err := s.Agents().MarkOnline(ctx, agent.ID, store.TransportTCP, "1.2.3", "web.lan", t0)
	require.NoError(t, err)
	require.NoError(t, s.Agents().SetRTT(ctx, agent.ID, 12.5))
	require.NoError(t, s.Agents().Seen(ctx, agent.ID, t0.Add(10*time.Second)))
	got, err := s.Agents().ByID(ctx, a.ID, agent.ID)
	require.NoError(t, err)
	assert.Equal(t, store.StatusOnline, got.Status)
	assert.Equal(t, store.TransportTCP, got.Transport)
	assert.Equal(t, "1.2.3", got.Version)
	assert.Equal(t, "web.lan", got.Hostname)
	require.NotNil(t, got.RTTMillis)
	assert.InDelta(t, 12.5, *got.RTTMillis, 1e-9)
	require.NotNil(t, got.LastSeen)
	assert.True(t, got.LastSeen.Equal(t0.Add(10*time.Second).Truncate(time.Microsecond)),
		"last_seen %v", got.LastSeen)

	require.NoError(t, s.Agents().MarkOffline(ctx, agent.ID, t0.Add(time.Minute)))
	got, err = s.Agents().ByID(ctx, a.ID, agent.ID)
	require.NoError(t, err)
	assert.Equal(t, store.StatusOffline, got.Status)

	assert.ErrorIs(t, s.Agents().Seen(ctx, "agt_nope", t0), store.ErrNotFound)
	assert.ErrorIs(t, s.Agents().MarkOnline(ctx, "agt_nope", "", "", "", t0), store.ErrNotFound)
}

func TestAgentsRevoke(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	alice := newAccount(t, s, "alice@example.com")
	bob := newAccount(t, s, "bob@example.com")
	agent := enrollAgent(t, s, alice.ID, "web")

	revoked, err := s.Agents().IsRevokedSerial(ctx, agent.CertSerial)
	require.NoError(t, err)
	assert.False(t, revoked)

	assert.ErrorIs(t, s.Agents().Revoke(ctx, bob.ID, agent.ID), store.ErrNotFound)
	require.NoError(t, s.Agents().Revoke(ctx, alice.ID, agent.ID))
	assert.ErrorIs(t, s.Agents().Revoke(ctx, alice.ID, agent.ID), store.ErrNotFound)

	revoked, err = s.Agents().IsRevokedSerial(ctx, agent.CertSerial)
	require.NoError(t, err)
	assert.True(t, revoked)
	revoked, err = s.Agents().IsRevokedSerial(ctx, "unknown")
	require.NoError(t, err)
	assert.False(t, revoked)

	_, err = s.Agents().ByID(ctx, "", agent.ID)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Agents().ByCertSerial(ctx, agent.CertSerial)
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.ErrorIs(t, s.Agents().Seen(ctx, agent.ID, time.Now()), store.ErrNotFound)

	// The name is free again once its agent is revoked.
	again := enrollAgent(t, s, alice.ID, "web")
	assert.NotEqual(t, agent.ID, again.ID)
}

func TestAgentsMarkStaleOffline(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	fresh := enrollAgent(t, s, a.ID, "fresh")
	stale := enrollAgent(t, s, a.ID, "stale")
	require.NoError(t, s.Agents().MarkOnline(ctx, fresh.ID, "quic", "1", "f", t0))
	require.NoError(t, s.Agents().MarkOnline(ctx, stale.ID, "quic", "1", "s", t0.Add(-time.Hour)))

	n, err := s.Agents().MarkStaleOffline(ctx, t0.Add(-time.Minute))
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	got, err := s.Agents().ByID(ctx, "", stale.ID)
	require.NoError(t, err)
	assert.Equal(t, store.StatusOffline, got.Status)
	got, err = s.Agents().ByID(ctx, "", fresh.ID)
	require.NoError(t, err)
	assert.Equal(t, store.StatusOnline, got.Status)

	n, err = s.Agents().MarkStaleOffline(ctx, t0.Add(-time.Minute))
	require.NoError(t, err)
	assert.Zero(t, n)
}
