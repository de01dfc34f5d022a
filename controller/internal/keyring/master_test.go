package keyring_test

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/keyring"
)

// randomKey returns the base64 of a fresh 32-byte key.
func randomKey(t testing.TB) string {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return base64.StdEncoding.EncodeToString(key)
}

// envMaster returns a master key given as if by GRIM_MASTER_KEY.
func envMaster(t testing.TB, key string) *keyring.Master {
	t.Helper()
	m, err := keyring.LoadOrCreateMaster(t.TempDir(), key)
	require.NoError(t, err)
	return m
}

func TestWrapRoundTrip(t *testing.T) {
	m := envMaster(t, randomKey(t))
	plain := []byte("account keys")
	a, err := m.Wrap(plain, []byte("acct_a"))
	require.NoError(t, err)
	b, err := m.Wrap(plain, []byte("acct_a"))
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "every wrap has its own nonce")
	assert.NotContains(t, string(a), string(plain))

	got, err := m.Unwrap(a, []byte("acct_a"))
	require.NoError(t, err)
	assert.Equal(t, plain, got)

	empty, err := m.Wrap(nil, nil)
	require.NoError(t, err)
	got, err = m.Unwrap(empty, nil)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestUnwrapRefuses(t *testing.T) {
	m := envMaster(t, randomKey(t))
	aad := []byte("acct_a")
	wrapped, err := m.Wrap([]byte("account keys"), aad)
	require.NoError(t, err)
	flip := func(i int) []byte {
		w := append([]byte(nil), wrapped...)
		w[i] ^= 0x01
		return w
	}

	tests := []struct {
		name    string
		master  *keyring.Master
		wrapped []byte
		aad     []byte
	}{
		{name: "version flipped", master: m, wrapped: flip(0), aad: aad},
		{name: "nonce flipped", master: m, wrapped: flip(5), aad: aad},
		{name: "ciphertext flipped", master: m, wrapped: flip(30), aad: aad},
		{name: "tag flipped", master: m, wrapped: flip(len(wrapped) - 1), aad: aad},
		{name: "truncated", master: m, wrapped: wrapped[:len(wrapped)-1], aad: aad},
		{name: "too short", master: m, wrapped: wrapped[:10], aad: aad},
		{name: "empty", master: m, wrapped: nil, aad: aad},
		{name: "other aad", master: m, wrapped: wrapped, aad: []byte("acct_b")},
		{name: "no aad", master: m, wrapped: wrapped, aad: nil},
		{name: "other master key", master: envMaster(t, randomKey(t)), wrapped: wrapped, aad: aad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.master.Unwrap(tt.wrapped, tt.aad)
			assert.ErrorIs(t, err, keyring.ErrUnwrap)
		})
	}
}

func TestLoadOrCreateMasterFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := keyring.LoadOrCreateMaster(dir, "")
	require.NoError(t, err)

	path := filepath.Join(dir, keyring.MasterKeyFile)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	fromEnv := envMaster(t, string(text))

	again, err := keyring.LoadOrCreateMaster(dir, "")
	require.NoError(t, err)
	wrapped, err := first.Wrap([]byte("x"), nil)
	require.NoError(t, err)
	for _, m := range []*keyring.Master{again, fromEnv} {
		got, err := m.Unwrap(wrapped, nil)
		require.NoError(t, err, "the file's key is the one in use, also given by environment")
		assert.Equal(t, []byte("x"), got)
	}
	leftovers, err := filepath.Glob(filepath.Join(dir, ".*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers)
}

func TestLoadOrCreateMasterEnvOverridesFile(t *testing.T) {
	dir := t.TempDir()
	key := randomKey(t)
	m, err := keyring.LoadOrCreateMaster(dir, " "+key+"\n")
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(dir, keyring.MasterKeyFile), "no file with the env key")

	fileKey, err := keyring.LoadOrCreateMaster(dir, "")
	require.NoError(t, err)
	wrapped, err := m.Wrap([]byte("x"), nil)
	require.NoError(t, err)
	_, err = envMaster(t, key).Unwrap(wrapped, nil)
	assert.NoError(t, err)
	_, err = fileKey.Unwrap(wrapped, nil)
	assert.ErrorIs(t, err, keyring.ErrUnwrap, "the env key is not the file's")
}

func TestLoadOrCreateMasterBadKeys(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name    string
		env     string
		file    string
		wantErr string
	}{
		{name: "env not base64", env: "not base64!", wantErr: "base64"},
		{name: "env too short", env: short, wantErr: "want 32 bytes"},
		{name: "file too short", file: short, wantErr: "want 32 bytes"},
		{name: "file empty", file: "\n", wantErr: "want 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != "" {
				path := filepath.Join(dir, keyring.MasterKeyFile)
				require.NoError(t, os.WriteFile(path, []byte(tt.file), 0o600))
			}
			_, err := keyring.LoadOrCreateMaster(dir, tt.env)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestLoadOrCreateMasterConcurrently(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	masters := make([]*keyring.Master, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m, err := keyring.LoadOrCreateMaster(dir, "")
			assert.NoError(t, err)
			masters[i] = m
		})
	}
	wg.Wait()
	wrapped, err := masters[0].Wrap([]byte("x"), nil)
	require.NoError(t, err)
	for _, m := range masters {
		_, err := m.Unwrap(wrapped, nil)
		assert.NoError(t, err, "every racing start uses the one key that was written")
	}
}
