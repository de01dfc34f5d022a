package api

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// Who may use a route.
const (
	accessPublic = iota // no credentials: it authenticates its own way or not at all
	accessUser          // any account, on its own resources
	accessAdmin         // the admin only
)

// routeCase is one route of the API with a path naming alice's resources.
type routeCase struct {
	method, route string // route as gin has it, such as /api/keys/:id
	path          string // the request path
	access        int
	ownsID        bool // path holds the id of one of alice's resources
}

// aliceWorld is two accounts, an admin and one resource of each kind of
// alice's.
type aliceWorld struct {
	aliceKey, aliceReadKey, bobKey, adminKey string
	ids                                      map[string]string
}

func newAliceWorld(t *testing.T, env *testEnv) *aliceWorld {
	t.Helper()
	ctx := context.Background()
	alice, aliceKey := env.account("alice@example.com", store.RoleUser, "full")
	w := &aliceWorld{aliceKey: aliceKey, ids: map[string]string{}}
	_, w.bobKey = env.account("bob@example.com", store.RoleUser, "full")
	_, w.adminKey = env.account("admin@example.com", store.RoleAdmin, "full")
	w.aliceReadKey = env.newKey(aliceKey, "read")
	w.ids["account"] = alice.ID

	rec := env.do("POST", "/api/keys", aliceKey, map[string]any{"name": "spare"})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	w.ids["key"], _ = decode(t, rec)["api_key"].(map[string]any)["id"].(string)
	w.ids["agent"] = env.enroll(alice.ID, "web").ID
	now := env.clock.Now()
	b := &store.Backup{ID: store.NewID("backup"), AccountID: alice.ID, AgentID: w.ids["agent"],
		Status: store.JobQueued, Sources: "[]", Options: "{}", Warnings: "[]",
		CreatedAt: now, UpdatedAt: now}
	require.NoError(t, env.store.Backups().Create(ctx, b))
	w.ids["backup"] = b.ID
	r := &store.Restore{ID: store.NewID("restore"), AccountID: alice.ID, BackupID: b.ID,
		AgentID: w.ids["agent"], Status: store.JobQueued, Targets: "[]", Options: "{}",
		Skipped: "[]", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, env.store.Restores().Create(ctx, r))
	w.ids["restore"] = r.ID
	pol := &store.Policy{ID: store.NewID("pol"), AccountID: alice.ID, Name: "nightly",
		AgentID: w.ids["agent"], Sources: "[]", Options: "{}", Schedule: "@daily",
		Timezone: "UTC", Retention: "{}", NextRunAt: now, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, env.store.Policies().Create(ctx, pol))
	w.ids["policy"] = pol.ID
	gcRun := store.NewGCRun(alice.ID, now)
	require.NoError(t, env.store.GCRuns().Create(ctx, gcRun))
	w.ids["gc"] = gcRun.ID
	chk := store.NewStorageCheck(alice.ID, 0, now)
	require.NoError(t, env.store.StorageChecks().Create(ctx, chk))
	w.ids["check"] = chk.ID
	w.ids["client"] = env.client(aliceKey, false)["client_id"].(string)
	w.ids["license"] = env.generate(aliceKey, nil)["id"].(string)
	w.ids["webhook"] = env.webhook(aliceKey, "https://hooks.example.com/alice")["id"].(string)
	return w
}

// routeTable lists every route of the API. TestEveryRouteIsInTheTable keeps
// it complete.
func (w *aliceWorld) routeTable() []routeCase {
	id := w.ids
	return []routeCase{
		{"GET", "/healthz", "/healthz", accessPublic, false},
		{"GET", "/metrics", "/metrics", accessPublic, false},
		{"GET", "/api/openapi.yaml", "/api/openapi.yaml", accessPublic, false},
		{"GET", "/downloads/", "/downloads/", accessPublic, false},
		{"GET", "/downloads/:file", "/downloads/install.sh", accessPublic, false},
		{"HEAD", "/downloads/:file", "/downloads/install.sh", accessPublic, false},
		{"POST", "/api/auth/login", "/api/auth/login", accessPublic, false},
		{"POST", "/api/auth/session", "/api/auth/session", accessPublic, false},
		{"GET", "/api/auth/session", "/api/auth/session", accessUser, false},
		{"POST", "/api/auth/logout", "/api/auth/logout", accessUser, false},
		{"POST", "/oauth/token", "/oauth/token", accessPublic, false},
		{"POST", "/oauth/refresh", "/oauth/refresh", accessPublic, false},
		{"POST", "/oauth/revoke", "/oauth/revoke", accessPublic, false},
		{"GET", "/oauth/authorize", "/oauth/authorize?response_type=code&client_id=" +
			id["client"], accessUser, false},
		{"GET", "/api/status", "/api/status", accessUser, false},
		{"POST", "/api/keys", "/api/keys", accessUser, false},
		{"GET", "/api/keys", "/api/keys", accessUser, false},
		{"DELETE", "/api/keys/:id", "/api/keys/" + id["key"], accessUser, true},
		{"POST", "/api/agents/tokens", "/api/agents/tokens", accessUser, false},
		{"GET", "/api/agents", "/api/agents", accessUser, false},
		{"GET", "/api/agents/:id", "/api/agents/" + id["agent"], accessUser, true},
		{"DELETE", "/api/agents/:id", "/api/agents/" + id["agent"], accessUser, true},
		{"POST", "/api/agents/:id/ping", "/api/agents/" + id["agent"] + "/ping", accessUser, true},
		{"POST", "/api/backup/create", "/api/backup/create", accessUser, false},
		{"GET", "/api/backup/:id", "/api/backup/" + id["backup"], accessUser, true},
		{"POST", "/api/backup/:id/cancel", "/api/backup/" + id["backup"] + "/cancel", accessUser,
			true},
		{"DELETE", "/api/backup/:id", "/api/backup/" + id["backup"], accessUser, true},
		{"GET", "/api/backups", "/api/backups", accessUser, false},
		{"POST", "/api/policies", "/api/policies", accessUser, false},
		{"GET", "/api/policies", "/api/policies", accessUser, false},
		{"GET", "/api/policies/:id", "/api/policies/" + id["policy"], accessUser, true},
		{"PUT", "/api/policies/:id", "/api/policies/" + id["policy"], accessUser, true},
		{"DELETE", "/api/policies/:id", "/api/policies/" + id["policy"], accessUser, true},
		{"POST", "/api/storage/gc", "/api/storage/gc", accessUser, false},
		{"GET", "/api/storage/gc", "/api/storage/gc", accessUser, false},
		{"GET", "/api/storage/gc/:id", "/api/storage/gc/" + id["gc"], accessUser, true},
		{"POST", "/api/storage/check", "/api/storage/check", accessUser, false},
		{"GET", "/api/storage/checks", "/api/storage/checks", accessUser, false},
		{"GET", "/api/storage/checks/:id", "/api/storage/checks/" + id["check"], accessUser,
			true},
		{"POST", "/api/restore/create", "/api/restore/create", accessUser, false},
		{"GET", "/api/restore/:id", "/api/restore/" + id["restore"], accessUser, true},
		{"GET", "/api/restores", "/api/restores", accessUser, false},
		{"GET", "/api/user/profile", "/api/user/profile", accessUser, false},
		{"PUT", "/api/user/profile", "/api/user/profile", accessUser, false},
		{"POST", "/api/user/password", "/api/user/password", accessUser, false},
		{"POST", "/api/oauth/clients", "/api/oauth/clients", accessUser, false},
		{"GET", "/api/oauth/clients", "/api/oauth/clients", accessUser, false},
		{"DELETE", "/api/oauth/clients/:id", "/api/oauth/clients/" + id["client"], accessUser,
			true},
		{"POST", "/api/admin/users", "/api/admin/users", accessAdmin, false},
		{"GET", "/api/admin/users", "/api/admin/users", accessAdmin, false},
		{"PUT", "/api/admin/users/:id", "/api/admin/users/" + id["account"], accessAdmin, true},
		{"GET", "/api/admin/audit", "/api/admin/audit", accessAdmin, false},
		{"POST", "/api/licenses/generate", "/api/licenses/generate", accessUser, false},
		{"POST", "/api/licenses/validate", "/api/licenses/validate", accessUser, false},
		{"POST", "/api/licenses/activate", "/api/licenses/activate", accessUser, false},
		{"POST", "/api/licenses/deactivate", "/api/licenses/deactivate", accessUser, false},
		{"GET", "/api/licenses", "/api/licenses", accessUser, false},
		{"GET", "/api/licenses/public-key", "/api/licenses/public-key", accessUser, false},
		{"POST", "/api/licenses/signing-key/rotate", "/api/licenses/signing-key/rotate",
			accessUser, false},
		{"GET", "/api/licenses/:id", "/api/licenses/" + id["license"], accessUser, true},
		{"POST", "/api/licenses/:id/revoke", "/api/licenses/" + id["license"] + "/revoke",
			accessUser, true},
		{"GET", "/api/metrics/usage", "/api/metrics/usage?range=7d", accessUser, false},
		{"GET", "/api/analytics/backups", "/api/analytics/backups", accessUser, false},
		{"GET", "/api/analytics/storage", "/api/analytics/storage", accessUser, false},
		{"POST", "/api/webhooks", "/api/webhooks", accessUser, false},
		{"GET", "/api/webhooks", "/api/webhooks", accessUser, false},
		{"GET", "/api/webhooks/:id", "/api/webhooks/" + id["webhook"], accessUser, true},
		{"DELETE", "/api/webhooks/:id", "/api/webhooks/" + id["webhook"], accessUser, true},
		{"POST", "/api/webhooks/:id/test", "/api/webhooks/" + id["webhook"] + "/test",
			accessUser, true},
		{"POST", "/api/webhooks/:id/enable", "/api/webhooks/" + id["webhook"] + "/enable",
			accessUser, true},
		{"GET", "/api/webhooks/:id/deliveries", "/api/webhooks/" + id["webhook"] + "/deliveries",
			accessUser, true},
	}
}

func TestEveryRouteIsInTheTable(t *testing.T) {
	env := newEnv(t)
	w := newAliceWorld(t, env)
	listed := map[string]bool{}
	for _, rc := range w.routeTable() {
		listed[rc.method+" "+rc.route] = true
	}
	for _, r := range env.api.engine.Routes() {
		assert.True(t, listed[r.Method+" "+r.Path], "%s %s is not in routeTable", r.Method, r.Path)
	}
}

// TestEveryRouteGuardsAccess is the access matrix: without credentials
// 401; with another account's key 404 on alice's ids, 403 on admin routes,
// and no sight of alice's resources in lists; with a read-only key 403 on
// every write.
func TestEveryRouteGuardsAccess(t *testing.T) {
	env := newEnv(t)
	w := newAliceWorld(t, env)
	idPattern := regexp.MustCompile(strings.Join(mapValues(w.ids), "|"))
	for _, rc := range w.routeTable() {
		if rc.access == accessPublic {
			continue
		}
		t.Run(rc.method+" "+rc.route, func(t *testing.T) {
			requireError(t, env.do(rc.method, rc.path, "", nil), http.StatusUnauthorized,
				CodeUnauthorized)
			requireError(t, env.do(rc.method, rc.path, "grim_nokeyxxx_"+strings.Repeat("a", 52),
				nil), http.StatusUnauthorized, CodeInvalidAPIKey)

			rec := env.do(rc.method, rc.path, w.bobKey, `{}`)
			switch {
			case rc.access == accessAdmin:
				requireError(t, rec, http.StatusForbidden, CodeForbidden)
			case rc.ownsID:
				requireError(t, rec, http.StatusNotFound, CodeNotFound)
			case rc.method == "GET":
				assert.Less(t, rec.Code, 500, rec.Body.String())
				assert.NotRegexp(t, idPattern, rec.Body.String(), "bob sees alice's ids")
			}

			switch {
			case readOnlyPosts[rc.route]:
				// A question with a body: the read-only key is let through to the
				// handler, which judges the body.
				rec := env.do(rc.method, rc.path, w.aliceReadKey, `{}`)
				assert.NotEqual(t, http.StatusForbidden, rec.Code, rec.Body.String())
				assert.Less(t, rec.Code, 500, rec.Body.String())
			case rc.method != "GET":
				requireError(t, env.do(rc.method, rc.path, w.aliceReadKey, `{}`),
					http.StatusForbidden, CodeForbidden)
			}
		})
	}
}

// TestAdminSeesEveryAccount checks the other side of isolation: the admin
// reaches alice's resources by id.
func TestAdminSeesEveryAccount(t *testing.T) {
	env := newEnv(t)
	w := newAliceWorld(t, env)
	for _, path := range []string{"/api/agents/" + w.ids["agent"], "/api/backup/" + w.ids["backup"],
		"/api/restore/" + w.ids["restore"], "/api/licenses/" + w.ids["license"],
		"/api/webhooks/" + w.ids["webhook"], "/api/webhooks/" + w.ids["webhook"] + "/deliveries"} {
		assert.Equal(t, http.StatusOK, env.do("GET", path, w.adminKey, nil).Code, path)
	}
	rec := env.do("GET", "/api/oauth/clients", w.adminKey, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), w.ids["client"])
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, regexp.QuoteMeta(v))
	}
	return out
}
