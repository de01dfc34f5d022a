package e2e

import (
	"crypto/rand"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// makeTree writes a directory tree with every kind of entry a backup must keep.
func makeTree(t *testing.T, root string) {
	t.Helper()
	must := func(err error) { t.Helper(); require.NoError(t, err) }
	must(os.MkdirAll(filepath.Join(root, "docs", "empty"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "private"), 0o700))
	must(os.WriteFile(filepath.Join(root, "docs", "readme.txt"), []byte("hello grim\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "private", "secret.key"), []byte("s3cr3t"), 0o600))
	must(os.WriteFile(filepath.Join(root, "empty-file"), nil, 0o640))
	must(os.WriteFile(filepath.Join(root, "script.sh"), []byte("#!/bin/sh\necho hi\n"), 0o4755))
	big := make([]byte, 6<<20+123)
	_, err := rand.Read(big)
	must(err)
	must(os.WriteFile(filepath.Join(root, "big.bin"), big, 0o644))
	must(os.WriteFile(filepath.Join(root, "skip.tmp"), []byte("excluded"), 0o644))
	must(os.Symlink("docs/readme.txt", filepath.Join(root, "link-rel")))
	must(os.Symlink("/nonexistent/target", filepath.Join(root, "link-dangling")))
	must(os.Link(filepath.Join(root, "docs", "readme.txt"), filepath.Join(root, "hardlink")))
	old := time.Date(2020, 5, 17, 10, 30, 0, 0, time.UTC)
	must(os.Chtimes(filepath.Join(root, "docs", "readme.txt"), old, old))
	must(os.Chtimes(filepath.Join(root, "docs", "empty"), old, old))
}

type entry struct {
	mode    fs.FileMode
	content string
	link    string
	mtime   time.Time
	ino     uint64
}

// snapshotOf reads a tree's entries by relative path, for comparing two trees.
func snapshotOf(t *testing.T, root string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		st, err := os.Lstat(p)
		require.NoError(t, err)
		e := entry{mode: st.Mode(), ino: st.Sys().(*syscall.Stat_t).Ino}
		if !st.IsDir() {
			e.mtime = st.ModTime()
		}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			e.link, err = os.Readlink(p)
			require.NoError(t, err)
		case st.Mode().IsRegular():
			raw, err := os.ReadFile(p)
			require.NoError(t, err)
			e.content = string(raw)
		}
		out[rel] = e
		return nil
	})
	require.NoError(t, err)
	return out
}

func (c *controller) backup(t *testing.T, agent string, paths ...string) map[string]any {
	t.Helper()
	args := append([]string{"backup", "create", "--agent", agent, "--exclude", "*.tmp",
		"--wait"}, paths...)
	b, code := c.grimJSON(t, args...)
	require.Equal(t, 0, code, "backup failed: %v", b)
	require.Equal(t, "completed", b["status"])
	return b
}

// TestBackupRestoreRoundTrip backs up a tree with every kind of entry through the real
// programs, restores it elsewhere and compares content, modes, times and links.
func TestBackupRestoreRoundTrip(t *testing.T) {
	c := startController(t, controllerOptions{})
	startAgent(t, c, "host", c.joinToken(t), "")
	c.waitOnline(t, "host", "")
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)

	b := c.backup(t, "host", src)
	assert.EqualValues(t, 0, len(b["warnings"].([]any)))
	assert.Greater(t, b["stored_bytes"].(float64), float64(6<<20)*0.9)

	dst := filepath.Join(t.TempDir(), "dst")
	r, code := c.grimJSON(t, "restore", "create", b["id"].(string), "--to", dst, "--wait")
	require.Equal(t, 0, code, "restore failed: %v", r)

	want, got := snapshotOf(t, src), snapshotOf(t, dst)
	delete(want, "skip.tmp")
	require.Equal(t, len(want), len(got), "entries: want %v got %v", keys(want), keys(got))
	for rel, w := range want {
		g, ok := got[rel]
		require.True(t, ok, "missing %s", rel)
		assert.Equal(t, w.mode, g.mode, rel)
		assert.Equal(t, w.content, g.content, rel)
		assert.Equal(t, w.link, g.link, rel)
		if w.mode.IsRegular() {
			assert.True(t, w.mtime.Equal(g.mtime), "%s mtime %s != %s", rel, g.mtime, w.mtime)
		}
	}
	assert.Equal(t, got["hardlink"].ino, got["docs/readme.txt"].ino, "hard link kept")

	// The unchanged tree stores nothing new the second time.
	again := c.backup(t, "host", src)
	assert.Zero(t, again["stored_bytes"], "unchanged re-backup stored data")
	assert.Zero(t, again["chunks_new"])
}

func keys(m map[string]entry) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDedupAcrossAgents backs up the same file on two agents of one account: the second
// stores (almost) nothing.
func TestDedupAcrossAgents(t *testing.T) {
	c := startController(t, controllerOptions{})
	startAgent(t, c, "a", c.joinToken(t), "quic")
	startAgent(t, c, "b", c.joinToken(t), "tcp")
	c.waitOnline(t, "a", "")
	c.waitOnline(t, "b", "")
	data := make([]byte, 8<<20)
	_, err := rand.Read(data)
	require.NoError(t, err)
	dirA, dirB := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dirA, "same.bin"), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dirB, "same.bin"), data, 0o644))

	first := c.backup(t, "a", dirA)
	second := c.backup(t, "b", dirB)
	assert.Greater(t, first["stored_bytes"].(float64), float64(len(data))*0.9)
	assert.Less(t, second["stored_bytes"].(float64), float64(64<<10),
		"the same file on a second agent must be stored once")
	assert.Zero(t, second["chunks_new"])
}

// TestBackupRequestsRefused checks malformed and out-of-range bodies get 400 with the
// field, and that another account's ids are not found.
func TestBackupRequestsRefused(t *testing.T) {
	c := startController(t, controllerOptions{})
	startAgent(t, c, "only", c.joinToken(t), "")
	c.waitOnline(t, "only", "")
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no sources", map[string]any{"sources": []any{}}, "sources"},
		{"relative path", map[string]any{"sources": []any{map[string]any{
			"type": "filesystem", "paths": []any{"etc"}}}}, "sources[0].paths[0]"},
		{"bad compression", map[string]any{"sources": []any{map[string]any{"type": "filesystem",
			"paths": []any{"/etc"}}}, "options": map[string]any{"compression": "lz4"}}, ""},
		{"negative retention", map[string]any{"sources": []any{map[string]any{
			"type": "filesystem", "paths": []any{"/etc"}}},
			"options": map[string]any{"retention_days": -1}}, ""},
		{"wrong type", map[string]any{"sources": "all"}, "sources"},
		{"unknown agent", map[string]any{"agent": "nope", "sources": []any{map[string]any{
			"type": "filesystem", "paths": []any{"/etc"}}}}, "agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := c.call(t, "POST", "/api/backup/create", c.adminKey, tt.body)
			require.Equal(t, http.StatusBadRequest, status, "%v", body)
			e := body["error"].(map[string]any)
			assert.Equal(t, "VALIDATION_ERROR", e["code"])
			if tt.field != "" {
				assert.Equal(t, tt.field, e["details"].(map[string]any)["field"])
			}
		})
	}
	status, _ := c.call(t, "GET", "/api/backup/backup_doesnotexist", c.adminKey, nil)
	assert.Equal(t, http.StatusNotFound, status)
}

// TestAccountsShareNothing backs up the same data in two accounts: the second stores it
// all again, and neither account can see the other's backup.
func TestAccountsShareNothing(t *testing.T) {
	c := startController(t, controllerOptions{})
	status, body := c.call(t, "POST", "/api/admin/users", c.adminKey, map[string]any{
		"email": "tenant@example.com", "password": "a long enough password", "plan": "PRO"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	tenantKey := body["key"].(string)
	status, tok := c.call(t, "POST", "/api/agents/tokens", tenantKey, map[string]any{})
	require.Equal(t, http.StatusCreated, status)

	startAgent(t, c, "admin-host", c.joinToken(t), "")
	startAgent(t, c, "tenant-host", tok["token"].(string), "")
	c.waitOnline(t, "admin-host", "")
	data := make([]byte, 4<<20)
	_, err := rand.Read(data)
	require.NoError(t, err)
	dirA, dirB := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dirA, "same.bin"), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dirB, "same.bin"), data, 0o644))

	first := c.backup(t, "admin-host", dirA)
	tenant := &controller{process: c.process, httpAddr: c.httpAddr, adminKey: tenantKey}
	waitFor(t, 30*time.Second, "tenant agent online", func() bool {
		return tenant.agents(t)["tenant-host"]["status"] == "online"
	})
	second := tenant.backup(t, "tenant-host", dirB)
	assert.Greater(t, second["stored_bytes"].(float64), float64(len(data))*0.9,
		"another account must not reuse the first account's chunks")
	assert.Equal(t, second["chunks_total"], second["chunks_new"], "every chunk is new to it")

	status, _ = tenant.call(t, "GET", "/api/backup/"+first["id"].(string), tenantKey, nil)
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = tenant.call(t, "POST", "/api/admin/users", tenantKey, map[string]any{
		"email": "x@example.com", "password": "another long password"})
	assert.Equal(t, http.StatusForbidden, status)
}
