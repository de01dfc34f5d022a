package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/pkg/scythe"
)

// licenseBody is the product document's generate body with changes.
func licenseBody(changes map[string]any) map[string]any {
	body := map[string]any{
		"product_id": "prod_123", "license_type": "subscription", "customer_name": "John Doe",
		"customer_email": "john@example.com", "company_name": "Acme Corp",
		"features": []string{"feature1", "feature2"}, "expiry_date": "2099-01-01",
		"max_users": 10,
	}
	for k, v := range changes {
		if v == nil {
			delete(body, k)
			continue
		}
		body[k] = v
	}
	return body
}

// seller creates an account on the unlimited plan, for tests that send more
// requests than a plan's rate limit allows, and returns a full API key of it.
func (e *testEnv) seller(email string) string {
	e.t.Helper()
	full, prefix, hash, err := auth.Generate()
	require.NoError(e.t, err)
	acct := &store.Account{Email: email, Role: store.RoleUser, Plan: store.PlanReaper}
	key := &store.APIKey{Name: "test", Prefix: prefix, Hash: hash, Scopes: auth.ScopeFull}
	require.NoError(e.t, e.store.CreateAccountWithKey(context.Background(), acct, key))
	return full
}

// generate issues a license with key and returns its view.
func (e *testEnv) generate(key string, changes map[string]any) map[string]any {
	e.t.Helper()
	rec := e.do("POST", "/api/licenses/generate", key, licenseBody(changes))
	require.Equal(e.t, http.StatusCreated, rec.Code, rec.Body.String())
	lic, ok := decode(e.t, rec)["license"].(map[string]any)
	require.True(e.t, ok)
	return lic
}

// validate asks POST /api/licenses/validate and returns the reply; the
// status must be 200 whatever the key.
func (e *testEnv) validate(key string, body map[string]any) map[string]any {
	e.t.Helper()
	rec := e.do("POST", "/api/licenses/validate", key, body)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	return decode(e.t, rec)
}

// reasonOf is "" for a valid reply, else its reason.
func reasonOf(t *testing.T, reply map[string]any) string {
	t.Helper()
	if reply["valid"] == true {
		assert.NotContains(t, reply, "reason")
		return ""
	}
	require.Equal(t, false, reply["valid"])
	reason, _ := reply["reason"].(string)
	require.NotEmpty(t, reason)
	return reason
}

func TestLicenseGenerate(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")

	lic := env.generate(key, nil)
	assert.Regexp(t, `^lic_`, lic["id"])
	assert.Regexp(t, `^scy1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`, lic["key"])
	assert.Equal(t, "prod_123", lic["product_id"])
	assert.Equal(t, "subscription", lic["license_type"])
	assert.Equal(t, []any{"feature1", "feature2"}, lic["features"])
	assert.Equal(t, "2099-01-02T00:00:00Z", lic["expiry_date"], "valid through the date")
	assert.EqualValues(t, 10, lic["max_users"])
	assert.EqualValues(t, 0, lic["seats_used"])
	assert.Equal(t, "active", lic["status"])

	perpetual := env.generate(key, map[string]any{"license_type": "perpetual",
		"expiry_date": nil, "max_users": nil, "features": nil, "company_name": nil})
	assert.Nil(t, perpetual["expiry_date"])
	assert.EqualValues(t, 1, perpetual["max_users"])
	assert.Equal(t, []any{}, perpetual["features"])

	trial := env.generate(key, map[string]any{"license_type": "trial", "expiry_date": nil})
	expires, err := time.Parse(time.RFC3339, trial["expiry_date"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, env.clock.Now().AddDate(0, 0, 30), expires, time.Second)

	assert.NotContains(t, env.logs.String(), lic["key"], "license keys stay out of the logs")
}

func TestLicenseGenerateValidation(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	tests := []struct {
		name    string
		changes map[string]any
		field   string
	}{
		{"no product", map[string]any{"product_id": nil}, "product_id"},
		{"blank product", map[string]any{"product_id": "   "}, "product_id"},
		{"control in product", map[string]any{"product_id": "a\x00b"}, "product_id"},
		{"unknown type", map[string]any{"license_type": "forever"}, "license_type"},
		{"no customer", map[string]any{"customer_name": nil}, "customer_name"},
		{"bad email", map[string]any{"customer_email": "john at example"}, "customer_email"},
		{"empty feature", map[string]any{"features": []string{""}}, "features[0]"},
		{"blank feature", map[string]any{"features": []string{"a", " "}}, "features[1]"},
		{"feature not text", map[string]any{"features": []any{7}}, "features[0]"},
		{"no seats", map[string]any{"max_users": 0}, "max_users"},
		{"seats as text", map[string]any{"max_users": "ten"}, "max_users"},
		{"past expiry", map[string]any{"expiry_date": "2001-01-01"}, "expiry_date"},
		{"bad expiry", map[string]any{"expiry_date": "next year"}, "expiry_date"},
		// Valid through 9999-12-31 ends in the year 10000, which no store can hold.
		{"last day of 9999", map[string]any{"expiry_date": "9999-12-31"}, "expiry_date"},
		{"9999 west of UTC", map[string]any{"expiry_date": "9999-12-31T23:30:00-01:00"},
			"expiry_date"},
		{"subscription forever", map[string]any{"expiry_date": nil}, "expiry_date"},
		{"perpetual expiring", map[string]any{"license_type": "perpetual"}, "expiry_date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.do("POST", "/api/licenses/generate", key, licenseBody(tt.changes))
			env := requireError(t, rec, http.StatusBadRequest, CodeValidation)
			assert.Equal(t, tt.field, field(env))
		})
	}
	t.Run("not json", func(t *testing.T) {
		rec := env.do("POST", "/api/licenses/generate", key, `{"product_id":`)
		requireError(t, rec, http.StatusBadRequest, CodeValidation)
	})
}

// TestLicenseEveryByteFlipped changes each byte of a key in turn, each bit
// and then the whole byte, and asks the API: never valid, never anything but
// a 200 with invalid_signature or malformed.
func TestLicenseEveryByteFlipped(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	licKey := env.generate(key, nil)["key"].(string)
	require.Empty(t, reasonOf(t, env.validate(key, map[string]any{"license_key": licKey})))

	for i := range len(licKey) {
		for _, mask := range []byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff} {
			b := []byte(licKey)
			b[i] ^= mask
			rec := env.do("POST", "/api/licenses/validate", key,
				map[string]any{"license_key": string(b)})
			require.Equal(t, http.StatusOK, rec.Code, "byte %d ^ %#x: %s", i, mask, rec.Body)
			reply := decode(t, rec)
			reason := reasonOf(t, reply)
			require.Contains(t, []string{"invalid_signature", "malformed"}, reason,
				"byte %d ^ %#x", i, mask)
			assert.Nil(t, reply["license"])
		}
	}
}

func TestLicenseReasons(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	_, otherKey := env.account("other@example.com", store.RoleUser, auth.ScopeFull)

	lic := env.generate(key, map[string]any{"max_users": 1,
		"expiry_date": env.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	licKey := lic["key"].(string)
	check := func(body map[string]any) string {
		body["license_key"] = licKey
		return reasonOf(t, env.validate(key, body))
	}
	assert.Empty(t, check(map[string]any{}))
	assert.Empty(t, check(map[string]any{"product_id": "prod_123"}))
	assert.Equal(t, "wrong_product", check(map[string]any{"product_id": "prod_999"}))

	// One seat: the first machine takes it, the second finds none.
	rec := env.do("POST", "/api/licenses/activate", key,
		map[string]any{"license_key": licKey, "machine_fingerprint": "m1"})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Empty(t, check(map[string]any{"machine_fingerprint": "m1"}))
	assert.Equal(t, "seats_exhausted", check(map[string]any{"machine_fingerprint": "m2"}))
	rec = env.do("POST", "/api/licenses/activate", key,
		map[string]any{"license_key": licKey, "machine_fingerprint": "m2"})
	env2 := requireError(t, rec, http.StatusConflict, CodeConflict)
	assert.Equal(t, "seats_exhausted", env2["details"].(map[string]any)["reason"])

	// Another account's key does not vouch for this license.
	reply := env.validate(otherKey, map[string]any{"license_key": licKey})
	assert.Equal(t, "invalid_signature", reasonOf(t, reply))
	assert.Nil(t, reply["license"])

	env.clock.Advance(time.Hour)
	assert.Equal(t, "expired", check(map[string]any{}))

	perpetual := env.generate(key, map[string]any{"license_type": "perpetual",
		"expiry_date": nil})
	rec = env.do("POST", "/api/licenses/"+perpetual["id"].(string)+"/revoke", key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "revoked", decode(t, rec)["license"].(map[string]any)["status"])
	reply = env.validate(key, map[string]any{"license_key": perpetual["key"]})
	assert.Equal(t, "revoked", reasonOf(t, reply))
	assert.Equal(t, perpetual["id"], reply["license"].(map[string]any)["id"])
	rec = env.do("POST", "/api/licenses/activate", key,
		map[string]any{"license_key": perpetual["key"], "machine_fingerprint": "m1"})
	assert.Equal(t, http.StatusConflict, rec.Code)

	for _, bad := range []string{"", "hello", strings.Repeat("x", 100_000)} {
		reply = env.validate(key, map[string]any{"license_key": bad})
		assert.Equal(t, "malformed", reasonOf(t, reply))
	}
}

func TestLicenseActivations(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	lic := env.generate(key, map[string]any{"max_users": 2})
	body := map[string]any{"license_key": lic["key"], "machine_fingerprint": "m1",
		"machine_name": "build-1"}

	rec := env.do("POST", "/api/licenses/activate", key, body)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	reply := decode(t, rec)
	assert.Equal(t, true, reply["created"])
	assert.EqualValues(t, 1, reply["license"].(map[string]any)["seats_used"])
	assert.Equal(t, "build-1", reply["activation"].(map[string]any)["machine_name"])

	rec = env.do("POST", "/api/licenses/activate", key, body)
	require.Equal(t, http.StatusOK, rec.Code, "activating again is idempotent")
	assert.EqualValues(t, 1, decode(t, rec)["license"].(map[string]any)["seats_used"])

	rec = env.do("GET", "/api/licenses/"+lic["id"].(string), key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Len(t, decode(t, rec)["activations"], 1)

	for _, want := range []bool{true, false} {
		rec = env.do("POST", "/api/licenses/deactivate", key, body)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		reply = decode(t, rec)
		assert.Equal(t, want, reply["deactivated"])
		assert.EqualValues(t, 0, reply["license"].(map[string]any)["seats_used"])
	}

	rec = env.do("POST", "/api/licenses/activate", key,
		map[string]any{"license_key": lic["key"]})
	assert.Equal(t, "machine_fingerprint",
		field(requireError(t, rec, http.StatusBadRequest, CodeValidation)))
	rec = env.do("POST", "/api/licenses/activate", key,
		map[string]any{"license_key": "junk", "machine_fingerprint": "m1"})
	e := requireError(t, rec, http.StatusBadRequest, CodeValidation)
	assert.Equal(t, "license_key", field(e))
	assert.Equal(t, "malformed", e["details"].(map[string]any)["reason"])
}

// TestLicenseRotation signs a license, rotates the signing key, signs
// another: both validate, online and offline, and the key set lists both.
func TestLicenseRotation(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	before := env.generate(key, nil)

	rec := env.do("POST", "/api/licenses/signing-key/rotate", key, nil)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	newKeyID := decode(t, rec)["signing_key"].(map[string]any)["id"]
	after := env.generate(key, nil)
	assert.NotEqual(t, before["signing_key_id"], after["signing_key_id"])
	assert.Equal(t, newKeyID, after["signing_key_id"])

	rec = env.do("GET", "/api/licenses/public-key", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	reply := decode(t, rec)
	assert.Equal(t, newKeyID, reply["current_key_id"])
	assert.Len(t, reply["keys"], 2)
	set, err := scythe.ParseKeySet(rec.Body.Bytes())
	require.NoError(t, err)

	for _, lic := range []map[string]any{before, after} {
		assert.Empty(t, reasonOf(t, env.validate(key, map[string]any{"license_key": lic["key"]})))
		_, err := scythe.Verify(lic["key"].(string), set, scythe.Options{Now: env.clock.Now()})
		assert.NoError(t, err)
	}
	assert.NotContains(t, rec.Body.String(), "private")
}

// TestLicenseOfflineAgrees asks the API and pkg/scythe, with the key set of
// GET /api/licenses/public-key, about the same keys: they agree on
// signature, product and expiry.
func TestLicenseOfflineAgrees(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	_, otherKey := env.account("other@example.com", store.RoleUser, auth.ScopeFull)
	soon := env.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	valid := env.generate(key, nil)["key"].(string)
	expiring := env.generate(key, map[string]any{"expiry_date": soon})["key"].(string)
	strangers := env.generate(otherKey, nil)["key"].(string)
	env.do("POST", "/api/licenses/signing-key/rotate", key, nil)
	rotated := env.generate(key, map[string]any{"license_type": "trial"})["key"].(string)
	tampered := valid[:len(valid)-5] + "AAAAA"

	rec := env.do("GET", "/api/licenses/public-key", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	set, err := scythe.ParseKeySet(rec.Body.Bytes())
	require.NoError(t, err)

	tests := []struct {
		name    string
		key     string
		product string
		advance time.Duration
		want    string
	}{
		{"valid", valid, "", 0, ""},
		{"valid for product", valid, "prod_123", 0, ""},
		{"signed before rotation", valid, "", 0, ""},
		{"signed after rotation", rotated, "", 0, ""},
		{"wrong product", valid, "prod_999", 0, "wrong_product"},
		{"another account's", strangers, "", 0, "invalid_signature"},
		{"tampered", tampered, "", 0, "invalid_signature"},
		{"malformed", "scy1.nothing", "", 0, "malformed"},
		{"expired", expiring, "", 2 * time.Hour, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.clock.Advance(tt.advance)
			online := reasonOf(t, env.validate(key, map[string]any{"license_key": tt.key,
				"product_id": tt.product}))
			_, err := scythe.Verify(tt.key, set,
				scythe.Options{ProductID: tt.product, Now: env.clock.Now()})
			offline := scythe.ReasonOf(err)
			assert.Equal(t, tt.want, online, "online")
			assert.Equal(t, online, offline, "offline agrees with online")
		})
	}
}

func TestLicenseAccountScope(t *testing.T) {
	env := newEnv(t)
	_, alice := env.account("alice@example.com", store.RoleUser, auth.ScopeFull)
	_, bob := env.account("bob@example.com", store.RoleUser, auth.ScopeFull)
	_, admin := env.account("admin@example.com", store.RoleAdmin, auth.ScopeFull)
	lic := env.generate(alice, map[string]any{"product_id": "prod_a"})
	env.generate(alice, map[string]any{"product_id": "prod_b", "license_type": "trial"})
	env.generate(bob, nil)
	id := lic["id"].(string)

	requireError(t, env.do("GET", "/api/licenses/"+id, bob, nil), http.StatusNotFound,
		CodeNotFound)
	requireError(t, env.do("POST", "/api/licenses/"+id+"/revoke", bob, nil),
		http.StatusNotFound, CodeNotFound)
	rec := env.do("POST", "/api/licenses/deactivate", bob,
		map[string]any{"license_key": lic["key"], "machine_fingerprint": "m"})
	requireError(t, rec, http.StatusBadRequest, CodeValidation)

	list := func(key, query string) map[string]any {
		rec := env.do("GET", "/api/licenses"+query, key, nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return decode(t, rec)
	}
	assert.EqualValues(t, 2, list(alice, "")["total"])
	assert.EqualValues(t, 1, list(bob, "")["total"])
	assert.EqualValues(t, 3, list(admin, "")["total"], "the admin sees all")
	assert.EqualValues(t, 1, list(alice, "?product_id=prod_b")["total"])
	assert.EqualValues(t, 1, list(alice, "?license_type=trial")["total"])
	page := list(alice, "?limit=1&offset=1")
	assert.Len(t, page["licenses"], 1)
	assert.EqualValues(t, 1, page["limit"])

	rec = env.do("POST", "/api/licenses/"+id+"/revoke", admin, nil)
	require.Equal(t, http.StatusOK, rec.Code, "the admin may revoke any license")
	assert.EqualValues(t, 1, list(alice, "?status=revoked")["total"])
	assert.EqualValues(t, 1, list(alice, "?status=active")["total"])
	rec = env.do("GET", "/api/licenses?status=gone", alice, nil)
	assert.Equal(t, "status", field(requireError(t, rec, http.StatusBadRequest, CodeValidation)))
	reply := env.validate(admin, map[string]any{"license_key": lic["key"]})
	assert.Equal(t, "revoked", reasonOf(t, reply), "the admin validates any account's keys")
}

// BenchmarkLicenseValidate measures POST /api/licenses/validate of a valid
// key end to end: routing, authentication, OpenAPI validation, signature
// and the license lookup.
func BenchmarkLicenseValidate(b *testing.B) {
	env := newEnv(b)
	key := env.seller("seller@example.com")
	licKey := env.generate(key, nil)["key"].(string)
	body := fmt.Sprintf(`{"license_key":%q,"product_id":"prod_123"}`, licKey)
	b.ReportAllocs()
	for b.Loop() {
		rec := env.do("POST", "/api/licenses/validate", key, body)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"valid":true`) {
			b.Fatalf("validate: %d %s", rec.Code, rec.Body)
		}
	}
}

// TestLicenseLastSeatOverHTTP sends simultaneous activations of different
// machines for the last seat to a real HTTP server: exactly one gets it. Run
// with GRIM_TEST_DB=postgres for concurrent transactions.
func TestLicenseLastSeatOverHTTP(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	srv := httptest.NewServer(env.api.Handler())
	t.Cleanup(srv.Close)
	lic := env.generate(key, map[string]any{"max_users": 2})
	rec := env.do("POST", "/api/licenses/activate", key,
		map[string]any{"license_key": lic["key"], "machine_fingerprint": "first"})
	require.Equal(t, http.StatusCreated, rec.Code)

	const racers = 10
	codes := make([]int, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			body := fmt.Sprintf(`{"license_key":%q,"machine_fingerprint":"m%d"}`, lic["key"], i)
			req, err := http.NewRequest("POST", srv.URL+"/api/licenses/activate",
				strings.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			<-start
			resp, err := srv.Client().Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()

	won := 0
	for i, code := range codes {
		switch code {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("racer %d: status %d", i, code)
		}
	}
	assert.Equal(t, 1, won, "one machine takes the last seat")
	rec = env.do("GET", "/api/licenses/"+lic["id"].(string), key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	reply := decode(t, rec)
	assert.EqualValues(t, 2, reply["license"].(map[string]any)["seats_used"])
	assert.Len(t, reply["activations"], 2)
}

func TestLicenseGenerateIdempotent(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	_, other := env.account("other@example.com", store.RoleUser, auth.ScopeFull)
	send := func(apiKey, idem string, changes map[string]any) *httptest.ResponseRecorder {
		raw, err := json.Marshal(licenseBody(changes))
		require.NoError(t, err)
		req := httptest.NewRequest("POST", "/api/licenses/generate", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", idem)
		return env.send(req, apiKey)
	}
	idOf := func(rec *httptest.ResponseRecorder) string {
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		return decode(t, rec)["license"].(map[string]any)["id"].(string)
	}

	first := idOf(send(key, "order-1", nil))
	assert.Equal(t, first, idOf(send(key, "order-1", nil)), "a repeat issues nothing new")
	assert.NotEqual(t, first, idOf(send(other, "order-1", nil)), "keys are per account")
	assert.NotEqual(t, first, idOf(send(key, "order-2", nil)))
	rec := send(key, "order-1", map[string]any{"max_users": 99})
	assert.Equal(t, "Idempotency-Key",
		field(requireError(t, rec, http.StatusConflict, CodeConflict)))
	rec = send(key, strings.Repeat("k", 256), nil)
	requireError(t, rec, http.StatusBadRequest, CodeValidation)

	env.clock.Advance(25 * time.Hour)
	assert.NotEqual(t, first, idOf(send(key, "order-1", nil)), "after a day the key is free")
	rec = env.do("GET", "/api/licenses", key, nil)
	assert.EqualValues(t, 3, decode(t, rec)["total"])

	// Simultaneous repeats: one license.
	ids := make([]string, 6)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			rec := send(key, "order-3", nil)
			if rec.Code == http.StatusCreated {
				ids[i] = decode(t, rec)["license"].(map[string]any)["id"].(string)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
	assert.NotEmpty(t, ids[0])
}

// TestLicenseBadRequests sends requests of the wrong shape to every license
// route: each is the error envelope naming the field, never a 500.
func TestLicenseBadRequests(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	long := strings.Repeat("f", 257)
	tests := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"POST", "/api/licenses/validate", `{"license_key": 5}`, 400, "license_key"},
		{"POST", "/api/licenses/validate", `{}`, 400, "license_key"},
		{"POST", "/api/licenses/validate", `[]`, 400, "body"},
		{"POST", "/api/licenses/validate", `{"license_key": "x", "machine_fingerprint": "` +
			long + `"}`, 400, "machine_fingerprint"},
		{"POST", "/api/licenses/activate", `{"license_key": "x"}`, 400, "machine_fingerprint"},
		{"POST", "/api/licenses/activate", `{"license_key": "x", "machine_fingerprint": " "}`,
			400, "machine_fingerprint"},
		{"POST", "/api/licenses/deactivate", `{"machine_fingerprint": "m"}`, 400, "license_key"},
		{"POST", "/api/licenses/generate", `{"product_id": "p"}`, 400, "license_type"},
		{"GET", "/api/licenses?limit=0", nil, 400, "limit"},
		{"GET", "/api/licenses?license_type=forever", nil, 400, "license_type"},
		{"GET", "/api/licenses/lic_missing", nil, 404, ""},
		{"POST", "/api/licenses/lic_missing/revoke", nil, 404, ""},
		{"PUT", "/api/licenses/generate", `{}`, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := env.do(tt.method, tt.path, key, tt.body)
			code := map[int]string{400: CodeValidation, 404: CodeNotFound,
				405: CodeMethodNotAllowed}[tt.status]
			e := requireError(t, rec, tt.status, code)
			if tt.field != "" {
				assert.Equal(t, tt.field, field(e))
			}
		})
	}
}

// TestLicenseValidateWithReadOnlyKey lets software embed a read-only key: it can ask
// whether a license is valid, and can neither issue nor revoke one.
func TestLicenseValidateWithReadOnlyKey(t *testing.T) {
	env := newEnv(t)
	key := env.seller("seller@example.com")
	readKey := env.newKey(key, "read")
	lic := env.generate(key, nil)

	reply := env.validate(readKey, map[string]any{"license_key": lic["key"],
		"product_id": lic["product_id"]})
	assert.Empty(t, reasonOf(t, reply))

	requireError(t, env.do("POST", "/api/licenses/generate", readKey, licenseBody(nil)),
		http.StatusForbidden, CodeForbidden)
	requireError(t, env.do("POST", "/api/licenses/"+lic["id"].(string)+"/revoke", readKey,
		nil), http.StatusForbidden, CodeForbidden)
}
