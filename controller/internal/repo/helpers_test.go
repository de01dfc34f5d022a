package repo_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"path"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/storage"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/protocol/blob"
)

// env is a Repo on a fresh store and local storage.
type env struct {
	st      *store.Store
	sto     *storage.Local
	dir     string // the storage's root
	r       *repo.Repo
	a, b    string // two accounts
	options repo.Options
}

// newEnv opens a Repo with opts; it is closed when the test ends.
func newEnv(t testing.TB, opts repo.Options) *env {
	t.Helper()
	e := &env{st: storetest.Open(t), dir: t.TempDir(), options: opts}
	sto, err := storage.NewLocal(e.dir)
	require.NoError(t, err)
	e.sto = sto
	e.a = newAccount(t, e.st, "a@example.com")
	e.b = newAccount(t, e.st, "b@example.com")
	e.r = e.reopen(t)
	return e
}

// reopen starts another Repo on the same store and storage, as after a restart.
func (e *env) reopen(t testing.TB) *repo.Repo {
	t.Helper()
	r := repo.New(e.st, e.sto, slog.New(slog.DiscardHandler), e.options)
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// newAccount creates an account and returns its id.
func newAccount(t testing.TB, s *store.Store, email string) string {
	t.Helper()
	a := &store.Account{Email: email}
	require.NoError(t, s.Accounts().Create(context.Background(), a))
	return a.ID
}

// testBlob is a made-up sealed blob.
type testBlob struct {
	id     blob.ID
	kind   blob.Kind
	sealed []byte
}

// newBlobs makes n blobs of size bytes each, or of sizes cycling through 100 to 4,000
// bytes when size is 0.
func newBlobs(n, size int) []testBlob {
	out := make([]testBlob, n)
	for i := range out {
		l := size
		if l == 0 {
			l = 100 + (i*997)%3900
		}
		b := testBlob{sealed: make([]byte, l)}
		_, _ = rand.Read(b.sealed)
		b.id = sha256.Sum256(b.sealed)
		if i%10 == 0 {
			b.kind = blob.KindTree
		}
		out[i] = b
	}
	return out
}

// idsOf returns the blobs' ids.
func idsOf(blobs []testBlob) []blob.ID {
	out := make([]blob.ID, len(blobs))
	for i, b := range blobs {
		out[i] = b.id
	}
	return out
}

// put stores b for the account and returns whether it was added.
func put(t testing.TB, r *repo.Repo, account string, b testBlob) bool {
	t.Helper()
	added, err := r.Put(context.Background(), account, b.id, b.kind, 2*len(b.sealed), b.sealed)
	require.NoError(t, err)
	return added
}

// getAll reads ids for the account and returns the blobs in the order fn saw them.
func getAll(r *repo.Repo, account string, want []blob.ID) ([]blob.ID, [][]byte, error) {
	var gotIDs []blob.ID
	var got [][]byte
	err := r.Get(context.Background(), account, want, func(id blob.ID, sealed []byte) error {
		gotIDs = append(gotIDs, id)
		got = append(got, append([]byte(nil), sealed...))
		return nil
	})
	return gotIDs, got, err
}

// packs lists the ids of the pack files in storage.
func (e *env) packs(t testing.TB) []string {
	t.Helper()
	var out []string
	err := e.sto.List(context.Background(), "packs/", func(name string, _ int64) error {
		out = append(out, path.Base(name))
		return nil
	})
	require.NoError(t, err)
	return out
}

// storedCopies counts, over every pack file, how often each blob id was written.
func (e *env) storedCopies(t testing.TB, r *repo.Repo) map[blob.ID]int {
	t.Helper()
	copies := make(map[blob.ID]int)
	for _, id := range e.packs(t) {
		_, entries, err := r.PackEntries(context.Background(), id)
		require.NoError(t, err)
		for _, en := range entries {
			copies[en.ID]++
		}
	}
	return copies
}
