// Package snaptest makes real snapshots through the controller's blob store for tests of
// what reads them (garbage collection, storage checks): chunks and trees sealed with the
// account's keys in the agent's format, sent through Missing, Put and Flush and committed
// as the job runner commits a backup, each step callable on its own so that a test can
// interleave other work between them. It stands in for the agent, which the controller's
// packages cannot import; the end-to-end tests run the real one.
package snaptest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/keyring"
	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/storage"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// ChunkSize is the size of the chunks files are cut into.
const ChunkSize = 4 << 10

// ErrRootMissing means a commit found the snapshot's root not stored; the backup was put
// back in the queue, as the job runner does.
var ErrRootMissing = errors.New("snapshot root not stored")

// Env is a blob store on real storage and a real state store, with one account and its
// keys.
type Env struct {
	t       testing.TB
	Store   *store.Store
	Storage *storage.Local
	Dir     string // the storage's root
	Repo    *repo.Repo
	Keys    *keyring.Keyring
	Account string
	Codec   *blob.Codec
	// PolicyID, when set, is the policy the backups Start makes name.
	PolicyID string
}

// New opens a repo with opts on st and fresh local storage, and creates an account with
// keys; everything is closed when the test ends.
func New(t testing.TB, st *store.Store, opts repo.Options) *Env {
	t.Helper()
	ctx := context.Background()
	e := &Env{t: t, Store: st, Dir: t.TempDir()}
	sto, err := storage.NewLocal(e.Dir)
	require.NoError(t, err)
	e.Storage = sto
	master, err := keyring.LoadOrCreateMaster(t.TempDir(), "")
	require.NoError(t, err)
	e.Keys = keyring.New(master, st)
	a := &store.Account{Email: store.NewID("user") + "@example.com"}
	require.NoError(t, st.Accounts().Create(ctx, a))
	e.Account = a.ID
	keys, err := e.Keys.AccountKeys(ctx, a.ID)
	require.NoError(t, err)
	e.Codec, err = blob.NewCodec(keys, "", "")
	require.NoError(t, err)
	e.Repo = repo.New(st, sto, slog.New(slog.DiscardHandler), opts)
	t.Cleanup(func() { _ = e.Repo.Close(context.Background()) })
	return e
}

// Files is what a snapshot holds: file path (slash-separated, relative) → content.
type Files map[string][]byte

// RandomFiles makes n files of size bytes each, named prefix-0, prefix-1, ...
func RandomFiles(prefix string, n, size int) Files {
	out := Files{}
	for i := range n {
		b := make([]byte, size)
		_, _ = rand.Read(b)
		out[fmt.Sprintf("%s-%d", prefix, i)] = b
	}
	return out
}

// Merge returns the union of fs, later ones winning.
func Merge(fs ...Files) Files {
	out := Files{}
	for _, f := range fs {
		for k, v := range f {
			out[k] = v
		}
	}
	return out
}

// sealedBlob is one blob of a snapshot, sealed.
type sealedBlob struct {
	kind   blob.Kind
	rawLen int
	sealed []byte
}

// Backup is one backup on its way, made of the steps an agent and the job runner take.
type Backup struct {
	e       *Env
	ID      string
	Attempt int
	Root    blob.ID
	blobs   map[blob.ID]sealedBlob
	order   []blob.ID // chunks first, trees after, root last
	missing []blob.ID
}

// Start queues a backup of files and claims it, as the job runner does before handing it
// to an agent; the chunks and trees are sealed in memory.
func (e *Env) Start(files Files) *Backup {
	e.t.Helper()
	ctx := context.Background()
	now := time.Now()
	b := &Backup{e: e, ID: store.NewID("backup"), blobs: map[blob.ID]sealedBlob{}}
	row := &store.Backup{ID: b.ID, AccountID: e.Account, AgentID: "agent_test",
		Status: store.JobQueued, Sources: `[{"type":"filesystem","paths":["/data"]}]`,
		Options: "{}", Warnings: "[]", SourceResults: "[]", PolicyID: e.PolicyID,
		CreatedAt: now, UpdatedAt: now}
	require.NoError(e.t, e.Store.Backups().Create(ctx, row))
	b.claim()
	b.Root = b.dir(files, true)
	return b
}

func (b *Backup) claim() {
	now := time.Now()
	attempt, err := b.e.Store.Backups().Claim(context.Background(), b.ID, now, now.Add(time.Hour))
	require.NoError(b.e.t, err)
	b.Attempt = attempt
}

// dir seals the files below one directory level and returns its tree's id.
func (b *Backup) dir(files Files, root bool) blob.ID {
	t := tree.Tree{}
	subdirs := map[string]Files{}
	for name, data := range files {
		if head, rest, ok := strings.Cut(name, "/"); ok {
			if subdirs[head] == nil {
				subdirs[head] = Files{}
			}
			subdirs[head][rest] = data
			continue
		}
		t.Nodes = append(t.Nodes, tree.Node{Name: name, Type: tree.TypeFile, Mode: 0o644,
			Size: uint64(len(data)), Content: b.chunks(data)})
	}
	for _, name := range sortedKeys(subdirs) {
		sub := b.dir(subdirs[name], false)
		t.Nodes = append(t.Nodes, tree.Node{Name: name, Type: tree.TypeDir, Mode: 0o755,
			Subtree: &sub})
	}
	if root {
		sub := b.seal(mustMarshal(b.e.t, &t), blob.KindTree)
		t = tree.Tree{Nodes: []tree.Node{{Name: "/data", Type: tree.TypeDir, Mode: 0o755,
			Subtree: &sub}}}
	}
	return b.seal(mustMarshal(b.e.t, &t), blob.KindTree)
}

func sortedKeys(m map[string]Files) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mustMarshal(t testing.TB, tr *tree.Tree) []byte {
	raw, err := tr.Marshal()
	require.NoError(t, err)
	return raw
}

// chunks seals data's chunks and returns their ids.
func (b *Backup) chunks(data []byte) []blob.ID {
	var ids []blob.ID
	for off := 0; off < len(data); off += ChunkSize {
		ids = append(ids, b.seal(data[off:min(off+ChunkSize, len(data))], blob.KindData))
	}
	return ids
}

// seal seals one blob, once per id.
func (b *Backup) seal(plain []byte, kind blob.Kind) blob.ID {
	id := b.e.Codec.ID(plain)
	if _, ok := b.blobs[id]; ok {
		return id
	}
	sealed, err := b.e.Codec.Seal(nil, id, kind, plain)
	require.NoError(b.e.t, err)
	b.blobs[id] = sealedBlob{kind: kind, rawLen: len(plain), sealed: sealed}
	b.order = append(b.order, id)
	return id
}

// IDs lists the snapshot's blobs: chunks and trees.
func (b *Backup) IDs() []blob.ID { return slices.Clone(b.order) }

// Ask asks the store which of the snapshot's blobs it lacks, as the agent does before it
// uploads, and returns them. The others the agent will not send: it was told they exist.
func (b *Backup) Ask() []blob.ID {
	b.e.t.Helper()
	missing, err := b.e.Repo.Missing(context.Background(), b.e.Account, b.order)
	require.NoError(b.e.t, err)
	b.missing = nil
	for i, m := range missing {
		if m {
			b.missing = append(b.missing, b.order[i])
		}
	}
	return slices.Clone(b.missing)
}

// Upload puts the blobs the last Ask found missing.
func (b *Backup) Upload() {
	b.e.t.Helper()
	for _, id := range b.missing {
		s := b.blobs[id]
		_, err := b.e.Repo.Put(context.Background(), b.e.Account, id, s.kind, s.rawLen, s.sealed)
		require.NoError(b.e.t, err)
	}
}

// Commit makes the backup durable and completes it as the job runner does: flush, check
// that the root is stored, then mark it completed for this attempt. A root not stored
// puts the backup back in the queue and answers ErrRootMissing.
func (b *Backup) Commit() error {
	ctx := context.Background()
	if err := b.e.Repo.Flush(ctx, b.e.Account); err != nil {
		return err
	}
	missing, err := b.e.Repo.Missing(ctx, b.e.Account, []blob.ID{b.Root})
	if err != nil {
		return err
	}
	if missing[0] {
		_, err := b.e.Store.Backups().Fail(ctx, b.ID, b.Attempt, "snapshot root not stored", true,
			10, time.Now())
		return errors.Join(ErrRootMissing, err)
	}
	return b.e.Store.Backups().Complete(ctx, b.ID, b.Attempt, store.BackupResult{
		Root: b.Root.String(), Warnings: "[]", SourceResults: "[]"}, time.Now())
}

// Retry claims the backup again after a commit put it back in the queue.
func (b *Backup) Retry() { b.claim() }

// Run takes every step of a backup of files, retrying a commit that finds its root gone.
func (e *Env) Run(files Files) *Backup {
	e.t.Helper()
	b := e.Start(files)
	for {
		b.Ask()
		b.Upload()
		err := b.Commit()
		if !errors.Is(err, ErrRootMissing) {
			require.NoError(e.t, err)
			return b
		}
		b.Retry()
	}
}

// Restore reads the completed backup's snapshot back: every tree and chunk opened and
// checked with the account's keys.
func (e *Env) Restore(backupID string) (Files, error) {
	ctx := context.Background()
	row, err := e.Store.Backups().Get(ctx, e.Account, backupID)
	if err != nil {
		return nil, err
	}
	root, err := blob.ParseID(row.Root)
	if err != nil {
		return nil, err
	}
	out := Files{}
	top, err := e.readTree(ctx, root)
	if err != nil {
		return nil, err
	}
	if len(top.Nodes) != 1 || top.Nodes[0].Subtree == nil {
		return nil, errors.New("root tree is not one directory")
	}
	return out, e.restoreDir(ctx, *top.Nodes[0].Subtree, "", out)
}

func (e *Env) restoreDir(ctx context.Context, id blob.ID, prefix string, out Files) error {
	t, err := e.readTree(ctx, id)
	if err != nil {
		return err
	}
	for _, n := range t.Nodes {
		if n.Type == tree.TypeDir {
			if err := e.restoreDir(ctx, *n.Subtree, prefix+n.Name+"/", out); err != nil {
				return err
			}
			continue
		}
		var data []byte
		err := e.Repo.Get(ctx, e.Account, n.Content, func(id blob.ID, sealed []byte) error {
			plain, _, err := e.Codec.Open(id, sealed)
			data = append(data, plain...)
			return err
		})
		if err != nil {
			return fmt.Errorf("file %s%s: %w", prefix, n.Name, err)
		}
		out[prefix+n.Name] = data
	}
	return nil
}

func (e *Env) readTree(ctx context.Context, id blob.ID) (*tree.Tree, error) {
	var t *tree.Tree
	err := e.Repo.Get(ctx, e.Account, []blob.ID{id}, func(id blob.ID, sealed []byte) error {
		plain, _, err := e.Codec.Open(id, sealed)
		if err != nil {
			return err
		}
		var tt tree.Tree
		t = &tt
		return json.Unmarshal(plain, t)
	})
	return t, err
}

// StoredBytes measures the bytes of the pack files in storage.
func (e *Env) StoredBytes() int64 {
	e.t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(e.Dir, "packs"), func(_ string, d fs.DirEntry,
		err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	require.NoError(e.t, err)
	return n
}

// PackOf returns the pack the index places id in.
func (e *Env) PackOf(id blob.ID) string {
	e.t.Helper()
	locs, err := e.Store.Blobs().Locate(context.Background(), e.Account, []blob.ID{id})
	require.NoError(e.t, err)
	l, ok := locs[id]
	require.True(e.t, ok, "blob %s not indexed", id)
	return l.PackID
}

// PackPath is the file of the pack packID.
func (e *Env) PackPath(packID string) string {
	return filepath.Join(e.Dir, filepath.FromSlash(repo.PackName(packID)))
}
