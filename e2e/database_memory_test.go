package e2e

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/bench/usage"
	"github.com/grim-reaper/grim/internal/dbtest"
)

// memoryRows makes a table whose custom-format dump is about 650 MiB: each row is its
// number and 256 characters that differ from row to row. The agent's resident memory
// levels off near 100 MiB once the pipeline is full (a batch of chunks, the chunks being
// sealed and those in flight, and the collector's headroom), so the dump must be several
// times that for a quarter of it to be a bound worth checking.
const memoryRows = 2_540_000

// TestDatabaseStreamMemoryBounded backs up a database whose dump is several hundred MiB
// with the real agent and controller and checks that the agent's peak resident memory,
// the kernel's high-water mark over the backup, stays far below the dump's size: the
// dump streams from pg_dump through the chunker to the controller, never whole in
// memory. The controller, which packs what it receives into files, is held to the same
// bound.
func TestDatabaseStreamMemoryBounded(t *testing.T) {
	s := dbtest.Postgres(t)
	c := startController(t, controllerOptions{})
	a := startAgent(t, c, "db", c.joinToken(t), "")
	c.waitOnline(t, "db", "")
	db := s.Create(t, "grim_memory")
	s.Exec(t, db, "CREATE TABLE big (id bigint, body text); "+
		"INSERT INTO big SELECT g, repeat(md5(g::text), 8) "+
		"FROM generate_series(1, "+strconv.Itoa(memoryRows)+") g")

	w := usage.Watch(map[string]int{"agent": a.cmd.Process.Pid,
		"controller": c.cmd.Process.Pid})
	b := c.backupDB(t, "db", dbSource(s, db))
	used := w.Stop()
	require.Equal(t, "completed", b["status"], "%v", b["error"])
	sources := b["sources"].([]any)
	require.Len(t, sources, 1)
	dump := int64(sources[0].(map[string]any)["size_bytes"].(float64))
	require.Greater(t, dump, int64(512<<20), "the dump is smaller than the test means")

	for _, name := range []string{"agent", "controller"} {
		u := used[name]
		t.Logf("%s: peak resident %d MiB (exact: %t) over a %d MiB dump", name,
			u.PeakRSS>>20, u.Exact, dump>>20)
		assert.Positive(t, u.PeakRSS, name)
		assert.Less(t, u.PeakRSS, dump/4, "%s peak resident memory", name)
	}
}
