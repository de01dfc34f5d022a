package repo_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
)

// BenchmarkMissing asks about 256 ids at a time, half of them indexed, in an account with
// 1,000,000 indexed blobs. The index is built through the store directly, in packs of
// 10,000 blobs, which takes a while before the timer starts.
func BenchmarkMissing(b *testing.B) {
	const indexed, perPack, batch = 1_000_000, 10_000, 256
	ctx := context.Background()
	e := newEnv(b, repo.Options{})
	known := make([]blob.ID, indexed)
	start := time.Now()
	for p := 0; p < indexed; p += perPack {
		entries := make([]store.BlobEntry, perPack)
		for i := range entries {
			known[p+i] = benchID(p + i)
			entries[i] = store.BlobEntry{
				ID: known[p+i], Offset: int64(i) * 1000, Length: 1000, RawLength: 2000,
			}
		}
		sum := sha256.Sum256(fmt.Appendf(nil, "pack %d", p))
		pack := &store.Pack{ID: hex.EncodeToString(sum[:]), AccountID: e.a, Size: 1 << 24}
		require.NoError(b, e.st.Packs().Commit(ctx, pack, entries))
	}
	b.Logf("indexed %d blobs in %s", indexed, time.Since(start).Round(time.Millisecond))

	ids := make([]blob.ID, batch)
	i := 0
	for b.Loop() {
		for k := range ids {
			if k%2 == 0 {
				ids[k] = known[(i*7919+k*104729)%indexed]
				continue
			}
			_, _ = rand.Read(ids[k][:])
		}
		missing, err := e.r.Missing(ctx, e.a, ids)
		if err != nil || missing[0] || !missing[1] {
			b.Fatalf("missing: %v %v", missing[:2], err)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/id")
}

// benchID is a deterministic blob id for i.
func benchID(i int) blob.ID {
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], uint64(i))
	return sha256.Sum256(seed[:])
}

// BenchmarkPut stores new blobs of one account into 16 MiB packs, with the index lookup,
// the temporary file, and each full pack's sync, move and commit.
// BenchmarkPut stores distinct blobs, either put straight away ("unasked": Put asks the
// index about each) or, as an agent does, after Missing asked about them in batches
// ("asked": Put answers from what Missing found, without a query).
func BenchmarkPut(b *testing.B) {
	const batch = 256
	for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
		for _, asked := range []bool{false, true} {
			name := fmt.Sprintf("blob=%dKiB/unasked", size>>10)
			if asked {
				name = fmt.Sprintf("blob=%dKiB/asked", size>>10)
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				e := newEnv(b, repo.Options{FlushAfter: time.Hour})
				sealed := make([]byte, size)
				_, _ = rand.Read(sealed)
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					if asked && i%batch == 0 {
						ids := make([]blob.ID, batch)
						for k := range ids {
							ids[k] = benchID(i + k)
						}
						if _, err := e.r.Missing(ctx, e.a, ids); err != nil {
							b.Fatal(err)
						}
					}
					// A distinct id per blob; the content does not matter to the repo.
					added, err := e.r.Put(ctx, e.a, benchID(i), blob.KindData, size, sealed)
					if err != nil || !added {
						b.Fatalf("put: %v %v", added, err)
					}
					i++
				}
				if err := e.r.Flush(ctx, e.a); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
