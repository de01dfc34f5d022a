package gc_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/check"
	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/scheduler"
	"github.com/grim-reaper/grim/controller/internal/snaptest"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// made is a completed backup and the files it holds.
type made struct {
	b     *snaptest.Backup
	files snaptest.Files
}

// ledger is the completed backups, shared by the writers and the forgetter.
type ledger struct {
	mu   sync.Mutex // guards the fields below
	live []made
	gone int
}

func (l *ledger) add(m made) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.live = append(l.live, m)
}

// pick removes and returns a random live backup, if there are more than keep.
func (l *ledger) pick(r *rand.Rand, keep int) (made, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.live) <= keep {
		return made{}, false
	}
	i := r.IntN(len(l.live))
	m := l.live[i]
	l.live = append(l.live[:i], l.live[i+1:]...)
	l.gone++
	return m, true
}

// TestBackupsAndCollectionsTogether runs backups that share data, forgets some of them
// as they complete, and collects garbage all the while with no grace period, so that
// every collection condemns what the running backups have been told exists. Afterwards
// every backup not forgotten restores bit for bit, a full check finds nothing wrong, and
// once retention expires all but the newest backup, a collection gives the space back.
func TestBackupsAndCollectionsTogether(t *testing.T) {
	e := snaptest.New(t, storetest.Open(t), repo.Options{PackSize: 64 << 10,
		FlushAfter: 20 * time.Millisecond})
	pol := &store.Policy{ID: store.NewID("pol"), AccountID: e.Account, Name: "all",
		AgentID: "agent_test", Sources: "[]", Options: "{}", Schedule: "@daily",
		Timezone: "UTC", Retention: "{}", NextRunAt: time.Now().Add(time.Hour),
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	require.NoError(t, e.Store.Policies().Create(context.Background(), pol))
	e.PolicyID = pol.ID
	pool := make([]snaptest.Files, 40)
	for i := range pool {
		pool[i] = snaptest.RandomFiles(fmt.Sprintf("pool/%02d", i), 1, 4<<10+i*1500)
	}
	c := newCollector(e, noGrace)
	book := &ledger{}
	const writers, rounds = 3, 12

	stop := make(chan struct{})
	var collections sync.WaitGroup
	collected, resurrected, condemned := 0, int64(0), int64(0)
	collections.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			st := collect(t, e, c)
			collected++
			condemned += st.BlobsCondemned
			resurrected += st.BlobsResurrected
		}
	})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for range rounds {
				files := snaptest.RandomFiles("own", 1, 3000+r.IntN(9000))
				for _, i := range r.Perm(len(pool))[:6] {
					files = snaptest.Merge(files, pool[i])
				}
				book.add(made{b: backupSlowly(t, e, files, r), files: files})
				if old, ok := book.pick(r, 2); ok {
					forget(t, e, old.b)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	collections.Wait()
	require.Positive(t, collected, "collections ran during the backups")
	collect(t, e, c)

	require.NotEmpty(t, book.live)
	for _, m := range book.live {
		requireRestores(t, e, m.b, m.files)
	}
	requireClean(t, e)

	// The policy's retention now keeps only its newest backup: expiry forgets the rest,
	// and the collection after it gives their space back.
	before := e.StoredBytes()
	newest := book.newest(t, e)
	pol.Retention = `{"keep_last":1}`
	require.NoError(t, e.Store.Policies().Update(context.Background(), pol))
	expired, err := scheduler.New(scheduler.Config{}, e.Store, nil, nil).
		Expire(context.Background(), time.Now())
	require.NoError(t, err)
	assert.EqualValues(t, len(book.live)-1, expired)
	book.live, book.gone = []made{newest}, book.gone+int(expired)
	st := collect(t, e, c)
	after := e.StoredBytes()
	keptData := 0
	for _, data := range book.live[0].files {
		keptData += len(data)
	}
	t.Logf("%d backups, %d forgotten, %d collections meanwhile (%d blobs condemned, %d put "+
		"back); stored %d bytes before the last expiry, %d after (%d of data kept); last "+
		"collection %+v", writers*rounds, book.gone, collected, condemned, resurrected, before,
		after, keptData, *st)
	assert.Less(t, after, before, "space comes back")
	assert.Positive(t, st.BytesDeleted)
	// Packs still more than half used are kept as they are, so up to about twice what is
	// kept may stay (usually far less; how much depends on where the random backups put
	// the kept chunks).
	assert.Less(t, after, int64(keptData)*2, "what stays is about what is kept")
	requireRestores(t, e, book.live[0].b, book.live[0].files)
	requireClean(t, e)
}

// newest returns the live backup that started last, as retention orders them.
func (l *ledger) newest(t *testing.T, e *snaptest.Env) made {
	t.Helper()
	var best made
	var at time.Time
	for _, m := range l.live {
		row, err := e.Store.Backups().Get(context.Background(), "", m.b.ID)
		require.NoError(t, err)
		if best.b == nil || row.StartedAt.After(at) ||
			row.StartedAt.Equal(at) && m.b.ID > best.b.ID {
			best, at = m, *row.StartedAt
		}
	}
	return best
}

// backupSlowly runs a backup with pauses between asking and sending, so collections
// fall between the two.
func backupSlowly(t *testing.T, e *snaptest.Env, files snaptest.Files,
	r *rand.Rand) *snaptest.Backup {
	b := e.Start(files)
	for {
		b.Ask()
		time.Sleep(time.Duration(r.IntN(30)) * time.Millisecond)
		b.Upload()
		err := b.Commit()
		if !errors.Is(err, snaptest.ErrRootMissing) {
			require.NoError(t, err)
			return b
		}
		b.Retry()
	}
}

// requireClean runs a check that reads every pack and requires it to find nothing.
func requireClean(t *testing.T, e *snaptest.Env) {
	t.Helper()
	run := store.NewStorageCheck(e.Account, 100, time.Now())
	damage, st, err := check.New(e.Store, e.Repo, e.Storage, e.Keys, nil, nil).
		Check(context.Background(), run)
	require.NoError(t, err)
	assert.Empty(t, damage)
	assert.Equal(t, st.Packs, st.PacksRead)
}
