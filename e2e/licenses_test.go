package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLicenseVerifyAgreesWithController issues licenses on a running controller and
// checks each key twice: online with POST /api/licenses/validate and offline with
// `grim license verify` against the saved public keys, before and after a key rotation.
// The two agree on signature, product and expiry; only the controller knows revocation.
func TestLicenseVerifyAgreesWithController(t *testing.T) {
	c := startController(t, controllerOptions{})
	issue := func(body map[string]any) string {
		t.Helper()
		req := map[string]any{"product_id": "prod_123", "license_type": "perpetual",
			"customer_name": "John Doe", "customer_email": "john@example.com", "max_users": 2}
		for k, v := range body {
			req[k] = v
		}
		status, reply := c.call(t, "POST", "/api/licenses/generate", c.adminKey, req)
		require.Equal(t, http.StatusCreated, status, "%v", reply)
		return reply["license"].(map[string]any)["key"].(string)
	}
	valid := issue(nil)
	// Far enough ahead that a slow machine still issues it before it ends.
	expiring := issue(map[string]any{"license_type": "trial",
		"expiry_date": time.Now().Add(5 * time.Second).UTC().Format(time.RFC3339)})
	revoked := issue(nil)
	status, reply := c.call(t, "GET", "/api/licenses?limit=1", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status, "%v", reply)
	revokedID := reply["licenses"].([]any)[0].(map[string]any)["id"].(string)
	status, _ = c.call(t, "POST", "/api/licenses/"+revokedID+"/revoke", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status)

	status, reply = c.call(t, "POST", "/api/licenses/signing-key/rotate", c.adminKey, nil)
	require.Equal(t, http.StatusCreated, status, "%v", reply)
	rotated := issue(map[string]any{"features": []string{"export"}})

	out, code := c.grim(t, "license", "public-key")
	require.Zero(t, code)
	keyFile := filepath.Join(t.TempDir(), "scythe-keys.json")
	require.NoError(t, os.WriteFile(keyFile, []byte(out), 0o600))
	// Let the trial expire, as the controller's clock sees it.
	waitFor(t, time.Minute, "the trial to expire", func() bool {
		_, reply := c.call(t, "POST", "/api/licenses/validate", c.adminKey,
			map[string]any{"license_key": expiring})
		return reply["reason"] == "expired"
	})

	tests := []struct {
		name, key, product, online, offline string
	}{
		{"valid", valid, "", "", ""},
		{"valid for its product", valid, "prod_123", "", ""},
		{"signed after rotation", rotated, "", "", ""},
		{"wrong product", valid, "prod_9", "wrong_product", "wrong_product"},
		{"expired", expiring, "", "expired", "expired"},
		{"tampered", valid[:len(valid)-4] + "AAAA", "", "invalid_signature",
			"invalid_signature"},
		{"malformed", "not-a-key", "", "malformed", "malformed"},
		{"revoked: only the controller knows", revoked, "", "revoked", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, reply := c.call(t, "POST", "/api/licenses/validate", c.adminKey,
				map[string]any{"license_key": tt.key, "product_id": tt.product})
			require.Equal(t, http.StatusOK, status, "%v", reply)
			online, _ := reply["reason"].(string)
			assert.Equal(t, tt.online, online, "online")

			args := []string{"license", "verify", "--public-key", keyFile, tt.key}
			if tt.product != "" {
				args = append(args, "--product", tt.product)
			}
			verdict, code := c.grimJSON(t, args...)
			offline, _ := verdict["reason"].(string)
			assert.Equal(t, tt.offline, offline, "offline")
			assert.Equal(t, tt.offline == "", verdict["valid"])
			if tt.offline == "" {
				assert.Zero(t, code)
			} else {
				assert.Equal(t, 6, code, "an invalid license exits 6")
			}
		})
	}
	for _, key := range []string{valid, expiring, revoked, rotated} {
		assert.NotContains(t, c.logs.String(), key, "license keys stay out of the log")
	}
}
