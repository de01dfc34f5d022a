package jobs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/transport"
)

// TestDatabaseJobWithoutTool checks that an agent without the engine's tool fails a
// database backup or restore at once, before it opens a single data stream.
func TestDatabaseJobWithoutTool(t *testing.T) {
	keys, err := blob.NewKeys()
	require.NoError(t, err)
	conn := protocol.DBConn{Engine: protocol.EngineMySQL, Host: "127.0.0.1", Database: "shop",
		Password: "hunter2-secret"}
	backup, err := json.Marshal(protocol.BackupSpec{BackupID: "b", Keys: keys,
		Databases: []protocol.DatabaseSource{{Name: "shop", Conn: conn}}})
	require.NoError(t, err)
	restore, err := json.Marshal(protocol.RestoreSpec{RestoreID: "r", Keys: keys,
		Databases: []protocol.DatabaseRestore{{Format: protocol.FormatMySQLSQL, Conn: conn}}})
	require.NoError(t, err)

	pgOnly := &protocol.Capabilities{Tools: []protocol.Tool{{Name: "pg_dump", Path: "/x"}}}
	r := NewRegistry(Config{StateDir: t.TempDir(), Tools: pgOnly})
	opened := 0
	env := Env{OpenStream: func(context.Context) (transport.Stream, error) {
		opened++
		return nil, context.Canceled
	}}
	tests := []struct {
		kind    string
		payload []byte
		want    string
	}{
		{protocol.JobKindBackup, backup, "mariadb-dump or mysqldump: not found"},
		{protocol.JobKindRestore, restore, "mariadb or mysql: not found"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			res := r.Run(context.Background(), &protocol.Job{ID: "j", Kind: tt.kind,
				Payload: tt.payload}, env)
			assert.False(t, res.OK)
			assert.Contains(t, res.Error, tt.want)
			assert.Contains(t, res.Error, "shop")
			assert.NotContains(t, res.Error, conn.Password)
		})
	}
	assert.Zero(t, opened, "a data stream was opened")
}

// TestCredentialDir checks that credential files go to a private directory in the state
// and that files left there by a crash are gone after the next start.
func TestCredentialDir(t *testing.T) {
	state := t.TempDir()
	r := NewRegistry(Config{StateDir: state})
	dir := r.dbConfig().TempDir
	require.Equal(t, filepath.Join(state, credDir), dir)
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())

	left := filepath.Join(dir, "grim-pgpass-1")
	require.NoError(t, os.WriteFile(left, []byte("*:*:*:*:pw\n"), 0o600))
	NewRegistry(Config{StateDir: state})
	_, err = os.Stat(left)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
