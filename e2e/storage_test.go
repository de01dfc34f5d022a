package e2e

import (
	crand "crypto/rand"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maintenanceFlags turn off the automatic collections and checks and the grace period,
// so that every collection the tests start condemns all it can.
var maintenanceFlags = []string{"--gc-interval", "0", "--check-interval", "0",
	"--gc-grace", "0s"}

// waitDone polls path (a backup, collection or check) until its status is final.
func (c *controller) waitDone(t *testing.T, path, key string) map[string]any {
	t.Helper()
	var got map[string]any
	waitFor(t, 2*time.Minute, path+" done", func() bool {
		status, body := c.call(t, "GET", path, c.adminKey, nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
		got = body[key].(map[string]any)
		switch got["status"] {
		case "completed", "failed", "canceled":
			return true
		}
		return false
	})
	return got
}

// collect starts a collection of every account and returns its id.
func (c *controller) collect(t *testing.T) string {
	t.Helper()
	status, body := c.call(t, "POST", "/api/storage/gc", c.adminKey, nil)
	require.Equal(t, http.StatusAccepted, status, "%v", body)
	return body["gc_run"].(map[string]any)["id"].(string)
}

// check runs a storage check of every account to its end.
func (c *controller) check(t *testing.T, readData any) map[string]any {
	t.Helper()
	status, body := c.call(t, "POST", "/api/storage/check", c.adminKey,
		map[string]any{"read_data": readData})
	require.Equal(t, http.StatusAccepted, status, "%v", body)
	id := body["check"].(map[string]any)["id"].(string)
	got := c.waitDone(t, "/api/storage/checks/"+id, "check")
	require.Equal(t, "completed", got["status"], "%v", got)
	return got
}

// packBytes measures the pack files in the controller's storage.
func (c *controller) packBytes(t *testing.T) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(c.dataDir, "storage", "packs"),
		func(_ string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			n += info.Size()
			return err
		})
	require.NoError(t, err)
	return n
}

// contents reads every regular file under dir by its relative path.
func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		raw, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(raw)
		return err
	}))
	return out
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return b
}

// madeBackup is a completed backup and the files it holds.
type madeBackup struct {
	id   string
	want map[string]string
}

// onlyIn returns a file content of want that no backup of live holds.
func onlyIn(want map[string]string, live []madeBackup) (string, bool) {
	held := map[string]bool{}
	for _, m := range live {
		for _, data := range m.want {
			held[data] = true
		}
	}
	for _, data := range want {
		if !held[data] {
			return data, true
		}
	}
	return "", false
}

// host is an agent's source directory and the versions its files have had.
type host struct {
	agent, dir string
	history    [][]byte // every content any file has had, to bring old ones back
}

// change edits the host's files for the next round: a new file, a file rewritten, and
// now and then a file given back content that only older backups hold.
func (h *host) change(t *testing.T, r *rand.Rand, round int) {
	t.Helper()
	write := func(name string, data []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(h.dir, name), data, 0o644))
		h.history = append(h.history, data)
	}
	write(fmt.Sprintf("round-%02d.bin", round), randomBytes(200<<10+r.IntN(600<<10)))
	write(fmt.Sprintf("pool-%d.bin", r.IntN(6)), randomBytes(300<<10+r.IntN(900<<10)))
	if round%2 == 1 && len(h.history) > 0 {
		old := h.history[r.IntN(len(h.history))]
		write(fmt.Sprintf("pool-%d.bin", r.IntN(6)), old)
	}
}

// TestBackupsAndCollectionsTogether runs backups on two agents round after round while
// garbage collections run and older backups are deleted, with no grace period: every
// collection condemns what the running backups may have been told exists. Afterwards
// every backup not deleted restores bit for bit, a check that reads every pack is clean,
// and deleting all but the last backups gives the space back.
func TestBackupsAndCollectionsTogether(t *testing.T) {
	t.Parallel()
	c := startController(t, controllerOptions{extra: maintenanceFlags})
	hosts := []*host{{agent: "a", dir: t.TempDir()}, {agent: "b", dir: t.TempDir()}}
	for _, h := range hosts {
		startAgent(t, c, h.agent, c.joinToken(t), "tcp")
		for i := range 6 {
			data := randomBytes(300<<10 + i*150<<10)
			require.NoError(t, os.WriteFile(filepath.Join(h.dir, fmt.Sprintf("pool-%d.bin", i)),
				data, 0o644))
			h.history = append(h.history, data)
		}
	}
	for _, h := range hosts {
		c.waitOnline(t, h.agent, "")
	}
	r := rand.New(rand.NewPCG(7, 7))
	var live []madeBackup
	var collections []string
	const rounds = 12
	for round := range rounds {
		var ids []string
		var wants []map[string]string
		for _, h := range hosts {
			h.change(t, r, round)
			wants = append(wants, contents(t, h.dir))
			ids = append(ids, c.startBackup(t, h.agent, h.dir))
		}
		// A collection while the backups run: it condemns what only deleted backups held,
		// and waits for these backups to end before it deletes anything.
		for _, id := range ids {
			for c.backupStatus(t, id)["status"] == "queued" {
				time.Sleep(5 * time.Millisecond)
			}
		}
		// At a random point of the backups: the agent asks about a batch of chunks only
		// when the batch is full or the walk is done, so the window between its question
		// and the commit is short. The controller's own tests (controller/internal/gc)
		// put the collection inside that window every time.
		time.Sleep(time.Duration(r.IntN(300)) * time.Millisecond)
		collections = append(collections, c.collect(t))
		for i, id := range ids {
			b := c.waitDone(t, "/api/backup/"+id, "backup")
			require.Equal(t, "completed", b["status"], "%v", b)
			live = append(live, madeBackup{id: id, want: wants[i]})
		}
		collections = append(collections, c.collect(t))
		if len(live) > 4 {
			i := r.IntN(len(live) - 2)
			status, body := c.call(t, "DELETE", "/api/backup/"+live[i].id, c.adminKey, nil)
			require.Equal(t, http.StatusOK, status, "%v", body)
			gone := live[i]
			live = append(live[:i], live[i+1:]...)
			// The next round's backups hold again a file only the deleted one had: a
			// collection condemns its chunks while they may have been told they exist.
			if ghost, ok := onlyIn(gone.want, live); ok {
				for _, h := range hosts {
					require.NoError(t, os.WriteFile(filepath.Join(h.dir, "a-ghost.bin"),
						[]byte(ghost), 0o644))
				}
			}
		}
	}
	resurrected := 0.0
	for _, id := range collections {
		run := c.waitDone(t, "/api/storage/gc/"+id, "gc_run")
		require.Equal(t, "completed", run["status"], "%v", run)
		resurrected += run["stats"].(map[string]any)["blobs_resurrected"].(float64)
	}
	t.Logf("%d backups, %d kept, %d collections, %v blobs put back after being condemned",
		rounds*len(hosts), len(live), len(collections), resurrected)

	for _, m := range live {
		dst := filepath.Join(t.TempDir(), "restored")
		res, code := c.grimJSON(t, "restore", "create", m.id, "--to", dst, "--wait")
		require.Equal(t, 0, code, "restore of %s: %v", m.id, res)
		require.Equal(t, m.want, contents(t, dst), "backup %s restored bit for bit", m.id)
	}
	assert.Equal(t, []any{}, c.check(t, true)["damaged"])

	// Delete all but the last backup of each host: the space of the rest comes back.
	before := c.packBytes(t)
	for _, m := range live[:len(live)-len(hosts)] {
		status, body := c.call(t, "DELETE", "/api/backup/"+m.id, c.adminKey, nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
	}
	run := c.waitDone(t, "/api/storage/gc/"+c.collect(t), "gc_run")
	require.Equal(t, "completed", run["status"], "%v", run)
	after := c.packBytes(t)
	var kept int64
	for _, m := range live[len(live)-len(hosts):] {
		for _, data := range m.want {
			kept += int64(len(data))
		}
	}
	t.Logf("pack bytes %d before the deletions, %d after; the kept backups hold %d", before,
		after, kept)
	assert.Less(t, after, before*3/4, "space comes back")
	assert.Less(t, after, kept*3/2, "what stays is about what is kept")
	assert.Equal(t, []any{}, c.check(t, true)["damaged"])
}
