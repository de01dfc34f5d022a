package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/internal/atomicfile"
)

// AdminKeyFile is the name, inside the data dir, of the file holding the first admin key.
const AdminKeyFile = "admin-api-key"

// AdminEmail is the email of the admin account created on first start.
const AdminEmail = "admin@localhost"

// bootstrapAdmin creates the admin account and its first API key when the state has no
// accounts yet. The key is GRIM_BOOTSTRAP_API_KEY when set, otherwise a new random one;
// either way it is written to <data-dir>/admin-api-key with mode 0600, and only the path
// is logged.
func bootstrapAdmin(ctx context.Context, st *store.Store, cfg Config, log *slog.Logger) error {
	n, err := st.Accounts().Count(ctx)
	if err != nil {
		return fmt.Errorf("count accounts: %w", err)
	}
	if n > 0 {
		return nil
	}
	full, prefix, hash, err := adminKey(cfg.BootstrapAPIKey)
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.DataDir, AdminKeyFile)
	if err := atomicfile.Write(path, []byte(full+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin key: %w", err)
	}
	now := time.Now()
	acct := &store.Account{
		ID: store.NewID("acct"), Email: AdminEmail, Name: "Administrator",
		Plan: "REAPER", Role: "admin", CreatedAt: now, UpdatedAt: now,
	}
	key := &store.APIKey{
		ID: store.NewID("key"), Name: "bootstrap admin key", Prefix: prefix, Hash: hash,
		Scopes: "full", CreatedAt: now,
	}
	if err := st.CreateAccountWithKey(ctx, acct, key); err != nil {
		return fmt.Errorf("create admin account: %w", err)
	}
	log.Info("admin account created", "email", AdminEmail, "admin_key_file", path)
	return nil
}

// adminKey returns the bootstrap key, its display prefix and its hash.
func adminKey(fromEnv string) (full, prefix, hash string, err error) {
	if fromEnv == "" {
		return auth.Generate()
	}
	if len(fromEnv) < 16 {
		return "", "", "", fmt.Errorf("GRIM_BOOTSTRAP_API_KEY must be at least 16 characters")
	}
	return fromEnv, auth.LookupPrefix(fromEnv), auth.Hash(fromEnv), nil
}
