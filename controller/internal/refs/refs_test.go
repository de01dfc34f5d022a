package refs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/refs"
	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/snaptest"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/protocol/blob"
)

func TestRoots(t *testing.T) {
	fsRoot, dbRoot := blob.ID{1}, blob.ID{2}
	roots, err := refs.Roots(store.Snapshot{BackupID: "b", Root: fsRoot.String(),
		SourceResults: `[{"type":"filesystem","root":"` + fsRoot.String() + `"},` +
			`{"type":"database","root":"` + dbRoot.String() + `"}]`})
	require.NoError(t, err)
	assert.Equal(t, []blob.ID{fsRoot, dbRoot}, roots)

	roots, err = refs.Roots(store.Snapshot{BackupID: "b", SourceResults: "[]"})
	require.NoError(t, err)
	assert.Empty(t, roots, "a backup of databases only, none of them done")

	_, err = refs.Roots(store.Snapshot{BackupID: "b", Root: "zz"})
	assert.Error(t, err)
	_, err = refs.Roots(store.Snapshot{BackupID: "b", SourceResults: "{"})
	assert.Error(t, err)
}

// TestWalkReachesEveryRoot walks two snapshots, one with a database root beside its
// files and one whose root tree is not stored: everything the first reaches is found,
// shared trees once, and the missing root is recorded without stopping the walk.
func TestWalkReachesEveryRoot(t *testing.T) {
	e := snaptest.New(t, storetest.Open(t), repo.Options{FlushAfter: time.Hour})
	files := e.Run(snaptest.RandomFiles("sub/f", 3, 10<<10))
	dump := e.Run(snaptest.RandomFiles("dump", 1, 9<<10))
	missing := blob.ID{9, 9, 9}
	snaps := []store.Snapshot{
		{BackupID: "with-db", Root: files.Root.String(), SourceResults: `[{"type":"database",` +
			`"root":"` + dump.Root.String() + `"}]`},
		{BackupID: "same-files", Root: files.Root.String(), SourceResults: "[]"},
		{BackupID: "lost", Root: missing.String(), SourceResults: "[]"},
	}
	keys, err := e.Keys.AccountKeys(context.Background(), e.Account)
	require.NoError(t, err)
	g, err := refs.Walk(context.Background(), e.Repo, keys, e.Account, snaps)
	require.NoError(t, err)

	live := g.Live()
	for _, id := range append(files.IDs(), dump.IDs()...) {
		assert.Contains(t, live, id)
	}
	assert.Len(t, live, len(files.IDs())+len(dump.IDs())+1, "and the missing root")
	assert.Len(t, g.Trees, 3+2, "root, /data and sub of the files; root and /data of the dump")
	require.Len(t, g.Bad, 1)
	assert.ErrorIs(t, g.Bad[missing], repo.ErrNotFound)
	assert.Equal(t, []blob.ID{files.Root, dump.Root}, g.Roots["with-db"])
}
