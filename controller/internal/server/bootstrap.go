package server

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/internal/atomicfile"
)

// AdminKeyFile is the name, inside the data dir, of the file holding the first admin key.
const AdminKeyFile = "admin-api-key"

// AdminPasswordFile is the name, inside the data dir, of the file holding the admin's
// first dashboard password.
const AdminPasswordFile = "admin-password"

// AdminEmail is the email of the admin account created on first start.
const AdminEmail = "admin@localhost"

// bootstrapAdmin creates the admin account, its first API key and its first dashboard
// password when the state has no accounts yet. The key is GRIM_BOOTSTRAP_API_KEY and
// the password GRIM_BOOTSTRAP_PASSWORD when set, otherwise new random ones; either way
// they are written to <data-dir>/admin-api-key and <data-dir>/admin-password with mode
// 0600, and only the paths are logged.
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
	password, pwHash, err := adminPassword(cfg.BootstrapPassword)
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.DataDir, AdminKeyFile)
	if err := atomicfile.Write(path, []byte(full+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin key: %w", err)
	}
	pwPath := filepath.Join(cfg.DataDir, AdminPasswordFile)
	if err := atomicfile.Write(pwPath, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin password: %w", err)
	}
	now := time.Now()
	acct := &store.Account{
		ID: store.NewID("acct"), Email: AdminEmail, Name: "Administrator", PasswordHash: &pwHash,
		Plan: "REAPER", Role: "admin", CreatedAt: now, UpdatedAt: now,
	}
	key := &store.APIKey{
		ID: store.NewID("key"), Name: "bootstrap admin key", Prefix: prefix, Hash: hash,
		Scopes: "full", CreatedAt: now,
	}
	if err := st.CreateAccountWithKey(ctx, acct, key); err != nil {
		return fmt.Errorf("create admin account: %w", err)
	}
	log.Info("admin account created", "email", AdminEmail, "admin_key_file", path,
		"admin_password_file", pwPath)
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

// adminPassword returns the admin's first password and its hash: fromEnv, or 120 random
// bits in 24 base32 characters that survive being typed.
func adminPassword(fromEnv string) (password, hash string, err error) {
	password = fromEnv
	if password == "" {
		var b [15]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", "", fmt.Errorf("generate admin password: %w", err)
		}
		password = strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
	}
	if len(password) < auth.MinPasswordLen {
		return "", "", fmt.Errorf("GRIM_BOOTSTRAP_PASSWORD must be at least %d characters",
			auth.MinPasswordLen)
	}
	hash, err = auth.HashPassword(password)
	if err != nil {
		return "", "", fmt.Errorf("hash admin password: %w", err)
	}
	return password, hash, nil
}
