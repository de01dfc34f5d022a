package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

func TestBootstrapAdminPassword(t *testing.T) {
	for _, tc := range []struct {
		name, fromEnv, wantErr string
	}{
		{name: "generated"},
		{name: "from the environment", fromEnv: "a long bootstrap passphrase"},
		{name: "too short", fromEnv: "short", wantErr: "GRIM_BOOTSTRAP_PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t)
			cfg := Config{DataDir: t.TempDir(), BootstrapPassword: tc.fromEnv}
			err := bootstrapAdmin(ctx, st, cfg, slog.New(slog.DiscardHandler))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				n, err := st.Accounts().Count(ctx)
				require.NoError(t, err)
				assert.Zero(t, n, "no admin without a password")
				return
			}
			require.NoError(t, err)

			path := filepath.Join(cfg.DataDir, AdminPasswordFile)
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			password := strings.TrimSpace(string(raw))
			if tc.fromEnv != "" {
				assert.Equal(t, tc.fromEnv, password)
			} else {
				assert.Len(t, password, 24)
			}
			acct, err := st.Accounts().ByEmail(ctx, AdminEmail)
			require.NoError(t, err)
			require.NotNil(t, acct.PasswordHash)
			ok, err := auth.CheckPassword(*acct.PasswordHash, password)
			require.NoError(t, err)
			assert.True(t, ok, "the file holds the admin's password")

			// A second start finds the admin and leaves the password alone.
			require.NoError(t, os.Remove(path))
			require.NoError(t, bootstrapAdmin(ctx, st, cfg, slog.New(slog.DiscardHandler)))
			assert.NoFileExists(t, path)
		})
	}
}
