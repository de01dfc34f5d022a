package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/keyring"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// withSecrets gives the API a real keyring under a fresh master key.
func withSecrets(t *testing.T) func(*Deps) {
	master, err := keyring.LoadOrCreateMaster(t.TempDir(), "")
	require.NoError(t, err)
	return func(d *Deps) { d.Secrets = keyring.New(master, d.Store) }
}

func dbSource(conn map[string]any) map[string]any {
	return map[string]any{"sources": []any{map[string]any{"type": "database",
		"connection": conn}}}
}

func TestDatabaseSourceValidation(t *testing.T) {
	env := newEnv(t, withSecrets(t))
	acct, key := env.account("alice@example.com", store.RoleUser, "full")
	agent := env.enroll(acct.ID, "db1")
	require.NoError(t, env.store.Agents().SetCapabilities(context.Background(), agent.ID,
		`{"tools":[{"name":"pg_dump","path":"/usr/bin/pg_dump","version":"16"}]}`))

	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no connection", map[string]any{"sources": []any{map[string]any{"type": "database"}}},
			"sources[0].connection"},
		{"no database", dbSource(map[string]any{"host": "h"}), "sources[0].connection.database"},
		{"bad port", dbSource(map[string]any{"database": "d", "port": 70000}),
			"sources[0].connection.port"},
		{"dash host", dbSource(map[string]any{"database": "d", "host": "-oProxy"}),
			"sources[0].connection.host"},
		{"newline password", dbSource(map[string]any{"database": "d", "password": "a\nb"}),
			"sources[0].connection.password"},
		// A line break would add options to a MySQL option file.
		{"newline host", dbSource(map[string]any{"database": "d", "port": 3306,
			"host": "db\nplugin-dir=/tmp"}), "sources[0].connection.host"},
		{"newline user", dbSource(map[string]any{"database": "d", "username": "u\rx"}),
			"sources[0].connection.username"},
		{"tab in database", dbSource(map[string]any{"database": "d\tx"}),
			"sources[0].connection.database"},
		{"NUL in ssl_key", dbSource(map[string]any{"database": "d", "ssl_key": "/k\x00"}),
			"sources[0].connection.ssl_key"},
		{"newline ssl_root_cert", dbSource(map[string]any{"database": "d",
			"ssl_root_cert": "/ca\nssl=0"}), "sources[0].connection.ssl_root_cert"},
		{"dash ssl_cert", dbSource(map[string]any{"database": "d", "ssl_cert": "-x"}),
			"sources[0].connection.ssl_cert"},
		{"bad sslmode", dbSource(map[string]any{"database": "d", "ssl_mode": "sometimes"}),
			"sources[0].connection.ssl_mode"},
		{"bad engine", map[string]any{"sources": []any{map[string]any{"type": "database",
			"engine": "oracle", "connection": map[string]any{"database": "d"}}}},
			"sources[0].engine"},
		// Port 3306 means MySQL, and this agent has only pg_dump.
		{"tool missing", dbSource(map[string]any{"database": "d", "port": 3306}),
			"sources[0].engine"},
		{"same name twice", map[string]any{"sources": []any{
			map[string]any{"type": "database", "connection": map[string]any{"database": "d"}},
			map[string]any{"type": "database", "connection": map[string]any{"database": "d",
				"host": "other"}}}}, "sources[1].name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.do("POST", "/api/backup/create", key, tt.body)
			e := requireError(t, rec, http.StatusBadRequest, CodeValidation)
			assert.Equal(t, tt.field, field(e))
			assert.NotContains(t, rec.Body.String(), "a\nb")
		})
	}
}

func TestDatabaseSourcePasswordIsSealed(t *testing.T) {
	env := newEnv(t, withSecrets(t))
	acct, key := env.account("alice@example.com", store.RoleUser, "full")
	env.enroll(acct.ID, "db1")
	const pw = "Sup3r-Secret-Passw0rd"
	body := map[string]any{"sources": []any{
		map[string]any{"type": "database", "connection": map[string]any{"host": "localhost",
			"port": 5432, "database": "myapp", "username": "user", "password": pw}},
		map[string]any{"type": "filesystem", "paths": []string{"/var/www"}},
	}}
	rec := env.do("POST", "/api/backup/create", key, body)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	id, _ := decode(t, rec)["backup_id"].(string)

	b, err := env.store.Backups().Get(context.Background(), "", id)
	require.NoError(t, err)
	assert.NotContains(t, b.Sources, pw, "stored in the clear")
	assert.Contains(t, b.Sources, "sealed:v1:")

	rec = env.do("GET", "/api/backup/"+id, key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.NotContains(t, rec.Body.String(), pw)
	assert.NotContains(t, rec.Body.String(), "sealed")
	got := decode(t, rec)["backup"].(map[string]any)
	sources := got["sources"].([]any)
	require.Len(t, sources, 2)
	db := sources[0].(map[string]any)
	assert.Equal(t, "myapp", db["name"])
	assert.Equal(t, "postgres", db["engine"])
	assert.Equal(t, "queued", db["status"])
	assert.Equal(t, "/var/www", sources[1].(map[string]any)["name"])
	assert.False(t, strings.Contains(env.logs.String(), pw), "password in the log")
}

func TestDatabaseTargetValidation(t *testing.T) {
	env := newEnv(t, withSecrets(t))
	acct, key := env.account("alice@example.com", store.RoleUser, "full")
	agent := env.enroll(acct.ID, "db1")
	now := env.clock.Now()
	b := &store.Backup{ID: store.NewID("backup"), AccountID: acct.ID, AgentID: agent.ID,
		Status: store.JobCompleted, Sources: "[]", Options: "{}", Warnings: "[]",
		SourceResults: `[{"type":"database","name":"myapp","engine":"postgres",` +
			`"format":"pg_custom","root":"` + strings.Repeat("ab", 32) + `"}]`,
		CreatedAt: now, UpdatedAt: now}
	require.NoError(t, env.store.Backups().Create(context.Background(), b))

	db := func(conn map[string]any, extra ...string) map[string]any {
		t := map[string]any{"type": "database", "connection": conn}
		if len(extra) == 2 {
			t[extra[0]] = extra[1]
		}
		return t
	}
	tests := []struct {
		name    string
		targets []any
		field   string
	}{
		{"no filesystem source", []any{map[string]any{"type": "filesystem", "path": "/r"}},
			"targets[0].type"},
		{"engine mismatch", []any{db(map[string]any{"database": "x", "port": 3306})},
			"targets[0].engine"},
		{"unknown source", []any{db(map[string]any{"database": "x"}, "source", "nope")},
			"targets[0].source"},
		{"more targets than databases", []any{db(map[string]any{"database": "x"}),
			db(map[string]any{"database": "y"})}, "targets[1].type"},
		{"no connection", []any{map[string]any{"type": "database"}}, "targets[0].connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.do("POST", "/api/restore/create", key,
				map[string]any{"backup_id": b.ID, "targets": tt.targets})
			e := requireError(t, rec, http.StatusBadRequest, CodeValidation)
			assert.Equal(t, tt.field, field(e))
		})
	}

	const pw = "Restore-Secret-9"
	rec := env.do("POST", "/api/restore/create", key, map[string]any{"backup_id": b.ID,
		"targets": []any{db(map[string]any{"database": "copy", "password": pw})}})
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	id, _ := decode(t, rec)["restore_id"].(string)
	rec = env.do("GET", "/api/restore/"+id, key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.NotContains(t, rec.Body.String(), pw)
	assert.NotContains(t, rec.Body.String(), "sealed")
	target := decode(t, rec)["restore"].(map[string]any)["targets"].([]any)[0].(map[string]any)
	assert.Equal(t, "myapp", target["source"])
	assert.Equal(t, "postgres", target["connection"].(map[string]any)["engine"])
}
