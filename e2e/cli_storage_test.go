package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCLIStorage deletes a backup with `grim backup delete`, gets its space back with
// `grim storage gc --wait`, and checks the storage with `grim storage check --wait`: clean
// first, then, after a byte of a pack is flipped, exiting 4 and naming the pack and the
// backup it affects.
func TestCLIStorage(t *testing.T) {
	t.Parallel()
	c := startController(t, controllerOptions{extra: maintenanceFlags})
	startAgent(t, c, "host", c.joinToken(t), "")
	c.waitOnline(t, "host", "")
	kept, gone := t.TempDir(), t.TempDir()
	writeRandom(t, filepath.Join(kept, "data.bin"), 2<<20)
	writeRandom(t, filepath.Join(gone, "data.bin"), 2<<20)
	before := c.packsOf(t)
	keptID := c.backup(t, "host", kept)["id"].(string)
	var keptPacks []string
	for p := range c.packsOf(t) {
		if !before[p] {
			keptPacks = append(keptPacks, p)
		}
	}
	goneID := c.backup(t, "host", gone)["id"].(string)

	// Delete: the backup is gone at once, its space only after a collection.
	out, code := c.grim(t, "backup", "delete", goneID)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "deleted backup "+goneID)
	assert.Contains(t, out, "next garbage collection")
	status, _ := c.call(t, "GET", "/api/backup/"+goneID, c.adminKey, nil)
	assert.Equal(t, http.StatusNotFound, status)
	_, stderr, code := c.grimAs(t, c.adminKey, "backup", "delete", goneID)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "NOT_FOUND")
	list, code := c.grimJSON(t, "backup", "list")
	require.Equal(t, 0, code)
	assert.EqualValues(t, 1, list["total"])
	assert.Equal(t, keptID, list["backups"].([]any)[0].(map[string]any)["id"])
	list, code = c.grimJSON(t, "backup", "list", "--policy", "pol_none")
	require.Equal(t, 0, code)
	assert.EqualValues(t, 0, list["total"], "only the policy's backups, and it has none")

	stored := c.packBytes(t)
	run, code := c.grimJSON(t, "storage", "gc", "--wait")
	require.Equal(t, 0, code, "%v", run)
	assert.Equal(t, "completed", run["status"])
	stats := run["stats"].(map[string]any)
	assert.Greater(t, stats["blobs_deleted"], 0.0)
	assert.Less(t, c.packBytes(t), stored-1<<20, "the deleted backup's space came back")
	out, stderr, code = c.grimAs(t, c.adminKey, "storage", "gc", "--wait")
	require.Equal(t, 0, code)
	assert.Regexp(t, `^gc gc\S+ completed: 0 blobs deleted`, out)
	assert.Contains(t, stderr, "completed", "waiting reports on standard error")

	out, code = c.grim(t, "storage", "check", "--read-data", "all", "--wait")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "no damage found")

	// Flip a byte of the kept backup's data pack, as TestDamagedPacksFoundByCheck does.
	path := func(id string) string {
		return filepath.Join(c.dataDir, "storage", "packs", id[:2], id)
	}
	flipped := largest(t, keptPacks, path)
	raw, err := os.ReadFile(path(flipped))
	require.NoError(t, err)
	raw[len(raw)/3] ^= 0x55
	require.NoError(t, os.WriteFile(path(flipped), raw, 0o600))

	out, code = c.grim(t, "storage", "check", "--read-data", "100%", "--wait")
	assert.Equal(t, 4, code, "damage found: %s", out)
	assert.Contains(t, out, "DAMAGE in 1 pack:")
	assert.Regexp(t, flipped+` +hash_mismatch +`+keptID, out)
	chk, code := c.grimJSON(t, "storage", "check", "--read-data", "all", "--wait")
	assert.Equal(t, 4, code)
	require.Len(t, chk["damaged"], 1)
	d := chk["damaged"].([]any)[0].(map[string]any)
	assert.Equal(t, flipped, d["pack_id"])
	assert.Equal(t, []any{keptID}, d["backups"])
	out, code = c.grim(t, "storage", "check", "--read-data", "none", "--wait")
	assert.Equal(t, 0, code, "without reading the data the flipped byte goes unseen")
	assert.Contains(t, out, "no damage found")

	// Without --wait the check is queued, and no verdict is given.
	queued, code := c.grimJSON(t, "storage", "check", "--read-data", "25")
	require.Equal(t, 0, code)
	assert.EqualValues(t, 25, queued["read_data_percent"])
	got := c.waitDone(t, "/api/storage/checks/"+queued["id"].(string), "check")
	assert.Equal(t, "completed", got["status"])

	_, stderr, code = c.grimAs(t, c.adminKey, "storage", "check", "--read-data", "150")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "VALIDATION_ERROR", "the controller's refusal")
	_, stderr, code = c.grimAs(t, c.adminKey, "storage", "check", "--read-data", "lots")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "all, none or a percentage")

	checks, code := c.grimJSON(t, "storage", "checks")
	require.Equal(t, 0, code)
	assert.EqualValues(t, 5, checks["total"])
	out, code = c.grim(t, "storage", "checks")
	require.Equal(t, 0, code)
	assert.Regexp(t, `(?m)^`+chk["id"].(string)+` +completed +100% +1 `, out)
	assert.Regexp(t, `(?m)^`+queued["id"].(string)+` +completed +25% +[01] `, out,
		"a quarter of the packs, picked at random, may hold the flipped byte")
}
