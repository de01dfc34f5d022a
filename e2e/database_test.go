package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/dbtest"
)

// rows is the dataset's size: customers, twice as many orders and a fifth as many
// attachments, 320,000 rows in all.
const rows = 100_000

// TestDatabaseBackupRestore backs up a real database, changes 1% of its rows, backs it
// up again, and restores the second backup into a new database and over a database
// with other contents, comparing every row.
func TestDatabaseBackupRestore(t *testing.T) {
	servers := []func(testing.TB) *dbtest.Server{dbtest.Postgres, dbtest.MySQL}
	for _, server := range servers {
		s := server(t)
		t.Run(s.Engine, func(t *testing.T) {
			testDatabaseRoundTrip(t, s)
		})
	}
}

func testDatabaseRoundTrip(t *testing.T, s *dbtest.Server) {
	c := startController(t, controllerOptions{})
	startAgent(t, c, "db", c.joinToken(t), "")
	c.waitOnline(t, "db", "")
	src := s.Create(t, "grim_e2e")
	s.Fill(t, src, rows)

	first := c.backupDB(t, "db", dbSource(s, src))
	require.Equal(t, "completed", first["status"], "%v", first["error"])
	sources := first["sources"].([]any)
	require.Len(t, sources, 1)
	one := sources[0].(map[string]any)
	assert.Equal(t, src, one["name"])
	assert.Equal(t, "completed", one["status"])
	assert.Greater(t, one["size_bytes"].(float64), float64(10<<20))

	s.ChangePercent(t, src, rows, 1)
	second := c.backupDB(t, "db", dbSource(s, src))
	require.Equal(t, "completed", second["status"], "%v", second["error"])
	firstStored, secondStored := first["stored_bytes"].(float64), second["stored_bytes"].(float64)
	t.Logf("%s: first backup stored %.0f bytes, second after a 1%% change %.0f (%.1f%%)",
		s.Engine, firstStored, secondStored, 100*secondStored/firstStored)
	assert.Less(t, secondStored, firstStored/10, "the second dump should mostly deduplicate")
	want := s.Checksum(t, src)

	// Into a database that does not exist yet, under another name.
	dst := dbtest.Name("grim_e2e_dst")
	s.DropAtEnd(t, dst)
	r := c.restoreDB(t, second["id"].(string), s, dst, false)
	require.Equal(t, "completed", r["status"], "%v", r["error"])
	assert.Equal(t, want, s.Checksum(t, dst), "restored rows differ")

	// drop_existing empties a database first: a table only it had is gone.
	other := s.Create(t, "grim_e2e_other")
	s.Exec(t, other, "CREATE TABLE stray (id int PRIMARY KEY); INSERT INTO stray VALUES (1);")
	r = c.restoreDB(t, second["id"].(string), s, other, true)
	require.Equal(t, "completed", r["status"], "%v", r["error"])
	assert.NotContains(t, s.Tables(t, other), "stray")
	assert.Equal(t, want, s.Checksum(t, other))
}

// restoreDB restores the backup's database into db on s and waits for the end.
func (c *controller) restoreDB(t *testing.T, backupID string, s *dbtest.Server, db string,
	drop bool) map[string]any {
	t.Helper()
	id := c.createJob(t, "/api/restore/create", map[string]any{"backup_id": backupID,
		"targets": []any{map[string]any{"type": "database", "connection": connOf(s, db),
			"options": map[string]any{"drop_existing": drop}}}})
	return c.waitJob(t, "restore", id, 3*time.Minute)
}

// TestMixedBackupRestore backs up a database and a directory in one backup, as the
// product document's example does, and restores both with one request to two targets
// on another agent.
func TestMixedBackupRestore(t *testing.T) {
	s := dbtest.Postgres(t)
	c := startController(t, controllerOptions{})
	startAgent(t, c, "web", c.joinToken(t), "")
	startAgent(t, c, "spare", c.joinToken(t), "")
	c.waitOnline(t, "web", "")
	c.waitOnline(t, "spare", "")
	db := s.Create(t, "grim_mixed")
	s.Fill(t, db, 2000)
	dir := filepath.Join(t.TempDir(), "site")
	makeTree(t, dir)

	b := c.backupDB(t, "web", dbSource(s, db),
		map[string]any{"type": "filesystem", "paths": []string{dir}})
	require.Equal(t, "completed", b["status"], "%v", b["error"])
	sources := b["sources"].([]any)
	require.Len(t, sources, 2)
	for i, typ := range []string{"database", "filesystem"} {
		src := sources[i].(map[string]any)
		assert.Equal(t, typ, src["type"])
		assert.Equal(t, "completed", src["status"])
		assert.Positive(t, src["size_bytes"])
	}
	assert.Equal(t, db, sources[0].(map[string]any)["name"])

	dstDB := dbtest.Name("grim_mixed_dst")
	s.DropAtEnd(t, dstDB)
	dstDir := filepath.Join(t.TempDir(), "restored")
	id := c.createJob(t, "/api/restore/create", map[string]any{
		"backup_id": b["id"], "agent": "spare",
		"targets": []any{
			map[string]any{"type": "database", "connection": connOf(s, dstDB),
				"options": map[string]any{"drop_existing": true}},
			map[string]any{"type": "filesystem", "path": dstDir},
		}})
	r := c.waitJob(t, "restore", id, 2*time.Minute)
	require.Equal(t, "completed", r["status"], "%v", r["error"])
	assert.Equal(t, s.Checksum(t, db), s.Checksum(t, dstDB))
	want, got := snapshotOf(t, dir), snapshotOf(t, dstDir)
	delete(want, "skip.tmp")
	for rel, w := range want {
		require.Contains(t, got, rel)
		assert.Equal(t, w.content, got[rel].content, rel)
	}
	_, err := os.Stat(dstDir)
	require.NoError(t, err)
}
