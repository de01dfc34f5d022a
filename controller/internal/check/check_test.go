package check_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/check"
	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/snaptest"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/protocol/blob"
)

// fakeAlerts is a hand-written Alerter that records what it is told; the real one (the
// webhook service) is wired by the server.
type fakeAlerts struct {
	mu    sync.Mutex // guards calls
	calls []alertCall
}

type alertCall struct {
	account, kind, message string
	data                   map[string]any
}

func (f *fakeAlerts) Alert(_ context.Context, accountID, kind, message string,
	data map[string]any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, alertCall{accountID, kind, message, data})
	return nil
}

// world is two backups whose new blobs each landed in a pack of their own: pack a holds
// the first backup's data, which the second shares, and pack b the second's own.
type world struct {
	e            *snaptest.Env
	a, b         *snaptest.Backup
	packA, packB string
	onlyB        blob.ID // a chunk only the second backup has
}

func newWorld(t *testing.T) *world {
	t.Helper()
	e := snaptest.New(t, storetest.Open(t), repo.Options{FlushAfter: time.Hour})
	shared := snaptest.RandomFiles("shared", 2, 20<<10)
	w := &world{e: e}
	w.a = e.Run(shared)
	w.b = e.Run(snaptest.Merge(shared, snaptest.RandomFiles("sub/own", 2, 20<<10)))
	w.packA, w.packB = e.PackOf(w.a.Root), e.PackOf(w.b.Root)
	require.NotEqual(t, w.packA, w.packB)
	for _, id := range w.b.IDs() {
		if e.PackOf(id) == w.packB && id != w.b.Root {
			w.onlyB = id
			break
		}
	}
	return w
}

// run checks the account, reading percent of the packs.
func (w *world) run(t *testing.T, percent float64, alerts check.Alerter) ([]check.Damage,
	*check.Stats) {
	t.Helper()
	run := store.NewStorageCheck(w.e.Account, percent, time.Now())
	c := check.New(w.e.Store, w.e.Repo, w.e.Storage, w.e.Keys, alerts, nil)
	damage, st, err := c.Check(context.Background(), run)
	require.NoError(t, err)
	return damage, st
}

// flip inverts one byte of a pack file at the offset of blob id plus delta.
func (w *world) flip(t *testing.T, id blob.ID, delta int64) {
	t.Helper()
	locs, err := w.e.Store.Blobs().Locate(context.Background(), w.e.Account, []blob.ID{id})
	require.NoError(t, err)
	l := locs[id]
	f, err := os.OpenFile(w.e.PackPath(l.PackID), os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, l.Offset+delta)
	require.NoError(t, err)
	b[0] ^= 0xff
	_, err = f.WriteAt(b, l.Offset+delta)
	require.NoError(t, err)
}

func TestCleanStoreChecksClean(t *testing.T) {
	w := newWorld(t)
	alerts := &fakeAlerts{}
	damage, st := w.run(t, 100, alerts)
	assert.Empty(t, damage)
	assert.Equal(t, 2, st.Snapshots)
	assert.Equal(t, 2, st.Packs)
	assert.Equal(t, 2, st.PacksRead)
	all := map[blob.ID]bool{}
	for _, id := range append(w.a.IDs(), w.b.IDs()...) {
		all[id] = true
	}
	assert.Equal(t, len(all), st.Blobs, "every blob of both snapshots")
	assert.Empty(t, alerts.calls)
}

// TestDamageFoundAndTraced damages the store in each way a disk or an operator can and
// checks that the check finds it and names the backups it affects.
func TestDamageFoundAndTraced(t *testing.T) {
	tests := []struct {
		name    string
		percent float64
		damage  func(t *testing.T, w *world)
		want    func(w *world) []check.Damage
	}{
		{"flipped chunk byte, data read", 100, func(t *testing.T, w *world) {
			w.flip(t, w.onlyB, 40)
		}, func(w *world) []check.Damage {
			return []check.Damage{{PackID: w.packB, Problem: repo.ProblemHash,
				Backups: []string{w.b.ID}}}
		}},
		{"flipped chunk byte, data not read", 0, func(t *testing.T, w *world) {
			w.flip(t, w.onlyB, 40)
		}, func(*world) []check.Damage {
			// Only reading the data finds damage inside a chunk.
			return nil
		}},
		{"flipped tree byte, data not read", 0, func(t *testing.T, w *world) {
			w.flip(t, w.b.Root, 40)
		}, func(w *world) []check.Damage {
			return []check.Damage{{PackID: w.packB, Problem: check.ProblemBadTree,
				Backups: []string{w.b.ID}}}
		}},
		{"truncated", 0, func(t *testing.T, w *world) {
			path := w.e.PackPath(w.packA)
			info, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, info.Size()/2))
		}, func(w *world) []check.Damage {
			return []check.Damage{{PackID: w.packA, Problem: repo.ProblemSize,
				Backups: sorted(w.a.ID, w.b.ID)}}
		}},
		{"deleted", 10, func(t *testing.T, w *world) {
			require.NoError(t, os.Remove(w.e.PackPath(w.packA)))
		}, func(w *world) []check.Damage {
			return []check.Damage{{PackID: w.packA, Problem: repo.ProblemMissing,
				Backups: sorted(w.a.ID, w.b.ID)}}
		}},
		{"blob dropped from the index", 0, func(t *testing.T, w *world) {
			ctx := context.Background()
			col := w.e.Store.Collection()
			require.NoError(t, col.Condemn(ctx, "gc_test", w.e.Account, []blob.ID{w.onlyB}))
			_, _, err := col.DropCondemned(ctx, "gc_test", w.e.Account)
			require.NoError(t, err)
		}, func(w *world) []check.Damage {
			return []check.Damage{{Problem: check.ProblemBlobsMissing, Blobs: 1,
				Backups: []string{w.b.ID}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.damage(t, w)
			alerts := &fakeAlerts{}
			damage, _ := w.run(t, tt.percent, alerts)
			want := tt.want(w)
			for i := range want {
				want[i].AccountID = w.e.Account
			}
			assert.Equal(t, want, damage)
			if len(want) == 0 {
				assert.Empty(t, alerts.calls)
				return
			}
			require.Len(t, alerts.calls, 1)
			call := alerts.calls[0]
			assert.Equal(t, w.e.Account, call.account)
			assert.Equal(t, check.AlertDamage, call.kind)
			assert.Equal(t, want, call.data["damaged"])
			assert.Equal(t, want[0].Backups, call.data["backups"])
			assert.NotEmpty(t, call.data["check_id"])
		})
	}
}

// TestNoAlerterIsFine checks damage with no alerter wired.
func TestNoAlerterIsFine(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, os.Remove(w.e.PackPath(w.packB)))
	damage, _ := w.run(t, 0, nil)
	require.Len(t, damage, 1)
	assert.Equal(t, repo.ProblemMissing, damage[0].Problem)
}

func sorted(ids ...string) []string {
	if ids[0] > ids[1] {
		ids[0], ids[1] = ids[1], ids[0]
	}
	return ids
}
