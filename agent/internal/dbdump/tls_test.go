package dbdump_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/agent/internal/dbdump"
	"github.com/grim-reaper/grim/internal/dbtest"
	"github.com/grim-reaper/grim/internal/testkit"
	"github.com/grim-reaper/grim/protocol"
)

// TestPostgresTLSOptions checks that ssl_mode and ssl_root_cert reach pg_dump: the
// server (which offers TLS) sees the dump's connection encrypted under "require" and in
// the clear under "disable", and "verify-full" against a CA that did not sign the
// server's certificate fails.
func TestPostgresTLSOptions(t *testing.T) {
	s := dbtest.Postgres(t)
	if s.Exec(t, "", "SHOW ssl") != "on" {
		testkit.Unavailable(t, "the local PostgreSQL does not offer TLS")
	}
	cfg := dbdump.Config{Tools: dbdump.Detect(context.Background())}
	db := s.Create(t, "grim_tls")
	s.Fill(t, db, 100)

	for mode, want := range map[string]string{"require": "t", "disable": "f"} {
		t.Run(mode, func(t *testing.T) {
			c := conn(s, db)
			c.SSLMode = mode
			assert.Equal(t, want, dumpConnSSL(t, s, cfg, c))
		})
	}

	t.Run("verify-full with another CA", func(t *testing.T) {
		c := conn(s, db)
		c.SSLMode, c.SSLRootCert = "verify-full", writeCA(t)
		err := dumpAll(t, cfg, c)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "certificate verify failed")
	})
}

// dumpConnSSL dumps c while a table is locked and returns what pg_stat_ssl says of the
// dump's connection: "t" for TLS, "f" for none.
func dumpConnSSL(t *testing.T, s *dbtest.Server, cfg dbdump.Config, c protocol.DBConn) string {
	t.Helper()
	release := s.LockTable(t, c.Database, "orders")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := dbdump.Start(ctx, cfg, c)
	require.NoError(t, err)
	q := "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) " +
		"WHERE a.application_name = '" + dbdump.AppName + "' AND a.datname = '" +
		c.Database + "'"
	got := s.WaitFor(t, "", q, func(out string) bool { return out != "" })
	release()
	_, _ = io.Copy(io.Discard, d)
	require.NoError(t, d.Wait())
	return got
}

// TestMySQLTLSOptions checks that ssl_mode reaches the MySQL tools. The local MariaDB
// offers no TLS, so "require" must fail rather than dump in the clear, and "disable"
// must work.
func TestMySQLTLSOptions(t *testing.T) {
	s := dbtest.MySQL(t)
	if !strings.Contains(s.Exec(t, "", "SHOW VARIABLES LIKE 'have_ssl'"), "DISABLED") {
		testkit.Unavailable(t, "the local MariaDB offers TLS; this test needs one that does not")
	}
	cfg := dbdump.Config{Tools: dbdump.Detect(context.Background())}
	db := s.Create(t, "grim_tls")
	s.Fill(t, db, 100)

	c := conn(s, db)
	c.SSLMode = "disable"
	require.NoError(t, dumpAll(t, cfg, c))

	for _, mode := range []string{"require", "verify-ca", "verify-full"} {
		t.Run(mode, func(t *testing.T) {
			c := conn(s, db)
			c.SSLMode = mode
			err := dumpAll(t, cfg, c)
			require.Error(t, err, "a dump asked for TLS ran without it")
			assert.Contains(t, err.Error(), "SSL")
		})
	}
}

// dumpAll runs a whole dump of c and returns the tool's failure.
func dumpAll(t *testing.T, cfg dbdump.Config, c protocol.DBConn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := dbdump.Start(ctx, cfg, c)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, d)
	return d.Wait()
}

// writeCA writes the certificate of a fresh CA, one that signed nothing, and returns
// its path.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1),
		Subject:   pkix.Name{CommonName: "grim test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(path,
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return path
}
