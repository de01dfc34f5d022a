package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeRandom writes n random bytes to path.
func writeRandom(t *testing.T, path string, n int64) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = io.CopyN(f, rand.Reader, n)
	require.NoError(t, err)
}

// backupStatus returns the backup as the API shows it.
func (c *controller) backupStatus(t *testing.T, id string) map[string]any {
	t.Helper()
	status, body := c.call(t, "GET", "/api/backup/"+id, c.adminKey, nil)
	require.Equal(t, 200, status, "%v", body)
	return body["backup"].(map[string]any)
}

// startBackup queues a backup without waiting and returns its id.
func (c *controller) startBackup(t *testing.T, agent string, paths ...string) string {
	t.Helper()
	out, code := c.grimJSON(t, append([]string{"backup", "create", "--agent", agent}, paths...)...)
	require.Equal(t, 0, code)
	return out["backup_id"].(string)
}

// TestFlippedByteCaughtAtRestore damages a stored pack and expects the restore to fail
// naming the file, with nothing left under the file's final name.
func TestFlippedByteCaughtAtRestore(t *testing.T) {
	c := startController(t, controllerOptions{})
	startAgent(t, c, "host", c.joinToken(t), "")
	c.waitOnline(t, "host", "")
	src := t.TempDir()
	writeRandom(t, filepath.Join(src, "precious.bin"), 3<<20)
	b := c.backup(t, "host", src)

	// Damage the largest pack, which holds the file's data; the trees are small and may
	// sit in a pack of their own.
	var largest string
	var size int64
	err := filepath.WalkDir(filepath.Join(c.dataDir, "storage", "packs"),
		func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			info, err := d.Info()
			if err == nil && info.Size() > size {
				largest, size = p, info.Size()
			}
			return err
		})
	require.NoError(t, err)
	require.NotEmpty(t, largest)
	flipMiddleByte(t, largest)

	dst := filepath.Join(t.TempDir(), "out")
	r, code := c.grimJSON(t, "restore", "create", b["id"].(string), "--to", dst, "--wait")
	assert.Equal(t, 4, code, "a failed restore exits 4")
	assert.Equal(t, "failed", r["status"])
	assert.Contains(t, r["error"], "precious.bin")
	_, err = os.Stat(filepath.Join(dst, "precious.bin"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "nothing half-written under the final name")
}

func flipMiddleByte(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	b := make([]byte, 1)
	off := st.Size() / 3
	_, err = f.ReadAt(b, off)
	require.NoError(t, err)
	b[0] ^= 0x40
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
}

// TestCancelRunningBackup cancels a backup while it runs and expects it to stop.
func TestCancelRunningBackup(t *testing.T) {
	c := startController(t, controllerOptions{})
	a := startAgent(t, c, "host", c.joinToken(t), "")
	c.waitOnline(t, "host", "")
	src := t.TempDir()
	for _, name := range []string{"a.bin", "b.bin", "c.bin", "d.bin"} {
		writeRandom(t, filepath.Join(src, name), 96<<20)
	}
	id := c.startBackup(t, "host", src)
	waitFor(t, 60*time.Second, "backup running", func() bool {
		return c.backupStatus(t, id)["status"] == "running"
	})

	out, code := c.grim(t, "backup", "cancel", id)
	require.Equal(t, 0, code, out)
	waitFor(t, 60*time.Second, "backup canceled", func() bool {
		return c.backupStatus(t, id)["status"] == "canceled"
	})
	b := c.backupStatus(t, id)
	assert.Less(t, b["progress"].(float64), 100.0)
	_, code = c.grim(t, "backup", "cancel", id)
	assert.Equal(t, 2, code, "a finished backup cannot be canceled again (409)")
	assert.False(t, a.exited(), "the agent survives a canceled job")
}

// TestAgentKilledMidBackup kills the agent with SIGKILL at several points of a backup of
// new data, restarts it, and expects each retried backup to complete, to reuse what was
// stored before the kill, to leave no damaged pack, and to restore bit for bit.
func TestAgentKilledMidBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the agent several times")
	}
	c := startController(t, controllerOptions{})
	a := startAgent(t, c, "victim", c.joinToken(t), "")
	c.waitOnline(t, "victim", "")

	sources := map[string]string{} // backup id → source dir
	for i, killAt := range []float64{10, 40, 65} {
		src := t.TempDir()
		for _, name := range []string{"one.bin", "two.bin", "three.bin"} {
			writeRandom(t, filepath.Join(src, name), 48<<20)
		}
		id := c.startBackup(t, "victim", src)
		sources[id] = src
		var before map[string]any
		waitFor(t, 120*time.Second, "backup progress", func() bool {
			before = c.backupStatus(t, id)
			return before["status"] == "completed" || before["progress"].(float64) >= killAt
		})
		a.signal(syscall.SIGKILL)
		<-a.done
		a.run(t, c, "", "")
		waitFor(t, 180*time.Second, "retried backup completes", func() bool {
			s := c.backupStatus(t, id)["status"]
			require.NotEqual(t, "failed", s, "round %d", i)
			return s == "completed"
		})
		b := c.backupStatus(t, id)
		t.Logf("round %d: killed at %.0f%%, attempt %v, new chunks %v of %v", i,
			before["progress"], b["attempt"], b["chunks_new"], b["chunks_total"])
		if before["status"] == "running" {
			assert.GreaterOrEqual(t, b["attempt"].(float64), 2.0, "round %d", i)
			assert.Less(t, b["chunks_new"].(float64), b["chunks_total"].(float64),
				"round %d: the retry reuses chunks stored before the kill", i)
		}
	}
	checkPacks(t, c)

	// Every completed backup restores bit for bit.
	for id, src := range sources {
		dst := filepath.Join(t.TempDir(), "r")
		r, code := c.grimJSON(t, "restore", "create", id, "--to", dst, "--wait")
		require.Equal(t, 0, code, "%v", r)
		for _, name := range []string{"one.bin", "two.bin", "three.bin"} {
			assert.True(t, sameFile(t, filepath.Join(src, name), filepath.Join(dst, name)),
				"%s of %s differs", name, id)
		}
	}
}

// sameFile compares two files by SHA-256.
func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	return fileHash(t, a) == fileHash(t, b)
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// checkPacks does what a storage check does without keys: every pack file hashes to its
// name, so nothing half-written or damaged is stored.
func checkPacks(t *testing.T, c *controller) {
	t.Helper()
	n := 0
	root := filepath.Join(c.dataDir, "storage", "packs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		assert.Equal(t, filepath.Base(p), fileHash(t, p), "pack %s damaged", p)
		n++
		return nil
	})
	require.NoError(t, err)
	assert.Positive(t, n, "no packs found")
}

// TestControllerRestartMidBackup stops the controller with SIGTERM while a backup runs:
// it exits 0, and after the restart the backup is retried, reuses what was stored, and
// completes.
func TestControllerRestartMidBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("moves a few hundred MiB")
	}
	c := startController(t, controllerOptions{})
	startAgent(t, c, "steady", c.joinToken(t), "")
	c.waitOnline(t, "steady", "")
	src := t.TempDir()
	for _, name := range []string{"a.bin", "b.bin", "c.bin"} {
		writeRandom(t, filepath.Join(src, name), 64<<20)
	}
	id := c.startBackup(t, "steady", src)
	waitFor(t, 120*time.Second, "backup half way", func() bool {
		b := c.backupStatus(t, id)
		return b["status"] == "completed" || b["progress"].(float64) >= 50
	})
	require.NoError(t, c.stop(t), "SIGTERM drains and exits 0")
	c.run(t, nil)
	waitFor(t, 180*time.Second, "backup completes after the restart", func() bool {
		s := c.backupStatus(t, id)["status"]
		require.NotEqual(t, "failed", s)
		return s == "completed"
	})
	b := c.backupStatus(t, id)
	t.Logf("attempt %v, new chunks %v of %v", b["attempt"], b["chunks_new"], b["chunks_total"])
	if b["attempt"].(float64) > 1 {
		assert.Less(t, b["chunks_new"].(float64), b["chunks_total"].(float64),
			"the retry reuses chunks stored before the restart")
	}
	checkPacks(t, c)
}

// TestOfflineAgentBackupFails queues a backup for an agent that is not connected: it waits
// in the queue, then fails with AGENT_UNAVAILABLE instead of hanging forever.
func TestOfflineAgentBackupFails(t *testing.T) {
	c := startController(t, controllerOptions{extra: []string{"--job-queue-timeout", "2s"}})
	a := startAgent(t, c, "sleeper", c.joinToken(t), "")
	c.waitOnline(t, "sleeper", "")
	require.NoError(t, a.stop(t))

	id := c.startBackup(t, "sleeper", t.TempDir())
	assert.Equal(t, "queued", c.backupStatus(t, id)["status"])
	waitFor(t, 30*time.Second, "queued backup fails", func() bool {
		return c.backupStatus(t, id)["status"] == "failed"
	})
	assert.Contains(t, c.backupStatus(t, id)["error"], "AGENT_UNAVAILABLE")
}
