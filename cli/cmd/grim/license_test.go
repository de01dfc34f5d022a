package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/pkg/scythe"
)

func TestRunVerify(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	doc, err := json.Marshal(map[string]any{"keys": []scythe.PublicKey{
		scythe.NewPublicKey(pub, now, true)}})
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "keys.json")
	require.NoError(t, os.WriteFile(keyFile, doc, 0o600))
	key, err := scythe.Sign(scythe.Claims{LicenseID: "lic_1", ProductID: "prod_1",
		Type: scythe.TypeTrial, Customer: "Jane", Company: "Acme", MaxUsers: 3,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()}, priv)
	require.NoError(t, err)

	tests := []struct {
		name    string
		opts    verifyOptions
		stdin   string
		want    string
		invalid bool
	}{
		{"valid", verifyOptions{key: key, now: now}, "", "valid: license lic_1", false},
		{"from stdin", verifyOptions{key: "-", now: now}, key + "\n", "valid:", false},
		{"product", verifyOptions{key: key, productID: "prod_1", now: now}, "", "valid:", false},
		{"wrong product", verifyOptions{key: key, productID: "x", now: now}, "",
			"invalid: wrong_product", true},
		{"expired", verifyOptions{key: key, now: now.Add(time.Hour)}, "", "invalid: expired",
			true},
		{"tampered", verifyOptions{key: strings.Replace(key, ".", ".0", 1), now: now}, "",
			"invalid: malformed", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.publicKeyFile = keyFile
			var out bytes.Buffer
			err := runVerify(&tt.opts, strings.NewReader(tt.stdin), &out)
			assert.Contains(t, out.String(), tt.want)
			var licErr *licenseError
			assert.Equal(t, tt.invalid, errors.As(err, &licErr), "error %v", err)
			if tt.invalid {
				assert.Equal(t, 6, exitCode(err))
			}
		})
	}

	var out bytes.Buffer
	err = runVerify(&verifyOptions{publicKeyFile: filepath.Join(t.TempDir(), "none"),
		key: key}, nil, &out)
	assert.Error(t, err, "a missing key file is an error, not a verdict")
	assert.Equal(t, 1, exitCode(err))
}

func TestLicenseVerifyCommandNeedsKeyFile(t *testing.T) {
	cmd := newRootCmd(func(string) string { return "" })
	cmd.SetArgs([]string{"license", "verify", "scy1.x"})
	cmd.SetOut(&bytes.Buffer{})
	err := cmd.Execute()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "public-key")
}
