package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// packsOf lists the pack files in the controller's storage by id.
func (c *controller) packsOf(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	dirs, err := filepath.Glob(filepath.Join(c.dataDir, "storage", "packs", "*", "*"))
	require.NoError(t, err)
	for _, p := range dirs {
		out[filepath.Base(p)] = true
	}
	return out
}

// TestDamagedPacksFoundByCheck backs up three directories, each into packs of its own,
// then flips bytes in the first one's pack, truncates the second's and deletes the
// third's. A check that reads the data finds each and names the backup it affects, and
// the account's webhook hears of it as a system.alert.
func TestDamagedPacksFoundByCheck(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t, "")
	c := startController(t, controllerOptions{extra: append([]string{
		"--allow-private-webhooks"}, maintenanceFlags...)})
	status, hook := c.call(t, "POST", "/api/webhooks", c.adminKey, map[string]any{
		"url": rcv.URL + "/alerts", "secret": "e2e_alert_secret",
		"events": []string{"system.alert"}})
	require.Equal(t, http.StatusCreated, status, "%v", hook)
	startAgent(t, c, "host", c.joinToken(t), "")
	c.waitOnline(t, "host", "")
	var backups []string
	var packs [][]string
	for range 3 {
		dir := t.TempDir()
		writeRandom(t, filepath.Join(dir, "data.bin"), 2<<20)
		before := c.packsOf(t)
		backups = append(backups, c.backup(t, "host", dir)["id"].(string))
		var added []string
		for p := range c.packsOf(t) {
			if !before[p] {
				added = append(added, p)
			}
		}
		require.NotEmpty(t, added)
		packs = append(packs, added)
	}
	assert.Equal(t, []any{}, c.check(t, true)["damaged"], "clean before the damage")

	path := func(id string) string {
		return filepath.Join(c.dataDir, "storage", "packs", id[:2], id)
	}
	flipped, truncated, deleted := largest(t, packs[0], path), largest(t, packs[1], path),
		largest(t, packs[2], path)
	raw, err := os.ReadFile(path(flipped))
	require.NoError(t, err)
	raw[len(raw)/3] ^= 0x55
	require.NoError(t, os.WriteFile(path(flipped), raw, 0o600))
	info, err := os.Stat(path(truncated))
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path(truncated), info.Size()-100))
	require.NoError(t, os.Remove(path(deleted)))

	got := c.check(t, true)
	damaged := map[string]map[string]any{}
	for _, d := range got["damaged"].([]any) {
		m := d.(map[string]any)
		damaged[m["pack_id"].(string)] = m
	}
	for _, want := range []struct {
		pack, problem, backup string
	}{
		{flipped, "hash_mismatch", backups[0]},
		{truncated, "size_mismatch", backups[1]},
		{deleted, "missing", backups[2]},
	} {
		d := damaged[want.pack]
		require.NotNil(t, d, "pack %s reported; got %v", want.pack, got["damaged"])
		assert.Equal(t, want.problem, d["problem"])
		assert.Equal(t, []any{want.backup}, d["backups"])
	}
	assert.Len(t, damaged, 3)

	waitFor(t, 30*time.Second, "the damage alert delivered", func() bool {
		return len(rcv.of("system.alert")) > 0
	})
	alert := rcv.of("system.alert")[0]
	verifySignature(t, "e2e_alert_secret", alert)
	var env struct {
		Event string
		Data  map[string]any
	}
	require.NoError(t, json.Unmarshal(alert.body, &env))
	assert.Equal(t, "storage_check_damage", env.Data["kind"])
	assert.Contains(t, string(alert.body), flipped, "the alert names the damaged packs")
	assert.Contains(t, string(alert.body), backups[0], "and the backups they affect")

	// Without reading the data the flipped bytes go unseen; the others do not.
	quick := c.check(t, false)
	assert.Len(t, quick["damaged"], 2)
	status, body := c.call(t, "GET", "/api/storage/checks", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status)
	assert.EqualValues(t, 3, body["total"])
	first := body["checks"].([]any)[0].(map[string]any)
	assert.Equal(t, quick["id"], first["id"], "newest first")
	assert.NotEmpty(t, first["started_at"])
	assert.NotEmpty(t, first["completed_at"])
}

// largest returns the biggest of the packs: the one with the file's data.
func largest(t *testing.T, ids []string, path func(string) string) string {
	t.Helper()
	sort.Slice(ids, func(i, j int) bool {
		a, err := os.Stat(path(ids[i]))
		require.NoError(t, err)
		b, err := os.Stat(path(ids[j]))
		require.NoError(t, err)
		return a.Size() > b.Size()
	})
	return ids[0]
}
