package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

func TestAccountKeysCreateIfAbsent(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")

	_, err := s.AccountKeys().Get(ctx, a.ID)
	assert.ErrorIs(t, err, store.ErrNotFound)

	created, err := s.AccountKeys().CreateIfAbsent(ctx, a.ID, []byte("first"))
	require.NoError(t, err)
	assert.True(t, created)
	created, err = s.AccountKeys().CreateIfAbsent(ctx, a.ID, []byte("second"))
	require.NoError(t, err)
	assert.False(t, created, "keys are never replaced")

	got, err := s.AccountKeys().Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, []byte("first"), got)
}

func TestAccountKeysUnknownAccount(t *testing.T) {
	_, err := storetest.Open(t).AccountKeys().CreateIfAbsent(
		context.Background(), "acct_nobody", []byte("k"))
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestAccountKeysConcurrentCreate(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			created, err := s.AccountKeys().CreateIfAbsent(ctx, a.ID, fmt.Appendf(nil, "k%d", i))
			assert.NoError(t, err)
			if created {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}
